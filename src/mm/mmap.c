/*
 * mmap (Linux's sys_mmap -> do_mmap -> mmap_region) for anonymous private and shared
 * memory, in Linux's order of checks so every errno matches, plus the Peios rules:
 * MAP_UNINITIALIZED is EINVAL unless the system is an embedded image, and MAP_FIXED below
 * mmap_min_addr needs SeTcbPrivilege (SPEC §5, §10). get_unmapped_area lives here too.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <linux/mman.h>
#include <sys/mman.h>

#include "kacs/gate.h"
#include "mm/ksm_mm.h"

#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define WINDOW_47	0x00007ffffffff000ULL	/* DEFAULT_MAP_WINDOW on x86-64 */

/* Is [addr, addr+len) clear of every VMA and guard gap (the hint test of
 * arch_get_unmapped_area_topdown)? */
static int range_free(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	struct vma *next = vma_find(&mm->mt, addr);
	if (next && addr + len > vma_start_gap(&mm->mt, next))
		return 0;
	struct vma *prev = next ? vma_prev(&mm->mt, next) : vma_last(&mm->mt);
	return !prev || addr >= prev->vm_end;
}

/* find_vma_intersection: does any VMA overlap [addr, addr+len)? */
static int range_free_plain(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	struct vma *v = vma_find(&mm->mt, addr);
	return !v || v->vm_start >= addr + len;
}

static long unmapped_area(struct mm_struct *mm, uint64_t addr, uint64_t len, uint64_t flags,
			  uint64_t align_mask)
{
	struct mm_sys *ms = mm->sys;
	uint64_t low = max_u64(PAGE_SIZE, ms->mmap_min_addr), high = mm->mmap_base, out;
	if (flags & MAP_32BIT) {
		if (!vma_gap_bottomup(&mm->mt, len, 0, 0x40000000, 0x80000000, &out))
			return (long)out;
		return -ENOMEM;
	}
	if (addr) {
		uint64_t top = (addr > WINDOW_47) ? mm->task_size : min_u64(mm->task_size, WINDOW_47);
		if (addr <= top - len && addr >= ms->mmap_min_addr && range_free(mm, addr, len))
			return (long)addr;
		/* 5-level: a hint above the 47-bit window opens the full range (SPEC §1). */
		if (addr > WINDOW_47)
			high = mm->mmap_base + (mm->task_size - WINDOW_47);
	}
	if (!vma_gap_topdown(&mm->mt, len, align_mask, low, high, &out))
		return (long)out;
	/* Fall back to a bottom-up search, as Linux does when the top-down area is full. */
	if (!vma_gap_bottomup(&mm->mt, len, align_mask, mm->mmap_legacy_base,
			      min_u64(mm->task_size, WINDOW_47), &out))
		return (long)out;
	return -ENOMEM;
}

/* __get_unmapped_area: returns the address or -errno. */
static long get_unmapped_area(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr,
			      uint64_t len, uint64_t flags, int anon_private, uint64_t huge_mask)
{
	if (len > mm->task_size)
		return -ENOMEM;
	if (flags & MAP_FIXED) {
		if (addr > mm->task_size - len)
			return -ENOMEM;
		if (!page_aligned(addr) || (addr & huge_mask))
			return -EINVAL;	/* hugetlb: MAP_FIXED must be huge-aligned */
		/* cap_mmap_addr: below mmap_min_addr needs SeTcbPrivilege (SPEC §5). */
		if (addr < mm->sys->mmap_min_addr && !gate_privilege(c->token, PM_SE_TCB_PRIVILEGE))
			return -EPERM;
		return (long)addr;
	}
	/* Larger anonymous mappings are PMD aligned for THP (thp_get_unmapped_area), and
	 * hugetlb ones always on their huge size (a hint is rounded up to it). */
	uint64_t align = (anon_private && !addr && (len & (PMD_SIZE - 1)) == 0) ? PMD_SIZE - 1 : 0;
	if (huge_mask) {
		align = huge_mask;
		addr = (addr + huge_mask) & ~huge_mask;
	}
	return unmapped_area(mm, addr, len, flags, align);
}

/* calc_vm_flag_bits plus the defaults every mapping gets. */
static uint64_t mmap_vm_flags(struct mm_struct *mm, uint64_t prot, uint64_t flags)
{
	uint64_t vf = vm_prot_bits(prot) | mm->def_flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	vf |= wx_history(vf);	/* what this mapping has been, for W^X (SPEC §4) */
	if (flags & MAP_GROWSDOWN)
		vf |= VM_GROWSDOWN;
	if (flags & MAP_LOCKED)
		vf |= VM_LOCKED;
	if (flags & MAP_STACK)
		vf |= VM_NOHUGEPAGE;	/* Linux 6.7+: stacks never get THP */
	if (flags & MAP_NORESERVE)
		vf |= VM_NORESERVE;	/* honoured in every overcommit mode (SPEC §8) */
	if ((flags & MAP_UNINITIALIZED) && mm->sys->embedded && (flags & MAP_ANONYMOUS))
		vf |= VM_UNINITIALIZED;	/* only reachable on an embedded image */
	return vf;
}

/* may_expand_vm: RLIMIT_AS, and RLIMIT_DATA for private writable mappings. */
static int may_expand_vm(struct mm_struct *mm, const struct mm_caller *c, uint64_t vf,
			 uint64_t npages)
{
	if (((mm->total_vm + npages) << PAGE_SHIFT) > c->rlim[RLIMIT_AS].cur)
		return 0;
	if (is_data_mapping(vf) && ((mm->data_vm + npages) << PAGE_SHIFT) > c->rlim[RLIMIT_DATA].cur)
		return 0;
	return 1;
}

/* Pages of existing VMAs inside [start, end): MAP_FIXED replaces them. *acct gets those
 * of VM_ACCOUNT VMAs (mmap_region's nr_accounted). */
static uint64_t overlap_pages(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t *data,
			      uint64_t *acct)
{
	uint64_t n = 0;
	*data = *acct = 0;
	for (struct vma *v = vma_find(&mm->mt, start); v && v->vm_start < end; v = vma_next(&mm->mt, v)) {
		uint64_t k = (min_u64(end, v->vm_end) - max_u64(start, v->vm_start)) >> PAGE_SHIFT;
		n += k;
		if (is_data_mapping(v->vm_flags))
			*data += k;
		if (v->vm_flags & VM_ACCOUNT)
			*acct += k;
	}
	return n;
}

/* The flags mmap knew before MAP_SHARED_VALIDATE (LEGACY_MAP_MASK): plain MAP_SHARED
 * ignores anything else, MAP_SHARED_VALIDATE refuses it. */
#define LEGACY_MAP_MASK	(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT | \
			 MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED | \
			 MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | \
			 (0x3fUL << 26) /* MAP_HUGE_* and MAP_UNINITIALIZED */)

/* The file half of do_mmap's type switch: the open file's access decides what may be
 * mapped (SPEC §3). Adjusts *vf; returns 0 or -errno. */
static long file_mapping_flags(const struct vm_object *obj, unsigned fmode, uint64_t prot,
			       uint64_t flags, uint64_t *vf)
{
	uint64_t type = flags & MAP_TYPE;
	/* MAP_SYNC needs MAP_SHARED_VALIDATE and a DAX file (SPEC §5). */
	if ((flags & MAP_SYNC) && (type != MAP_SHARED_VALIDATE || !(fmode & MM_F_DAX)))
		return -EOPNOTSUPP;
	if (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) {
		uint64_t mask = LEGACY_MAP_MASK | ((fmode & MM_F_DAX) ? MAP_SYNC : 0);
		if (type == MAP_SHARED_VALIDATE && (flags & ~mask))
			return -EOPNOTSUPP;
		if ((prot & PROT_WRITE) && !(fmode & MM_F_WRITE))
			return -EACCES;
		unsigned seals = obj_is_memfd(obj) ? obj->seals : 0;
		if ((prot & PROT_WRITE) && (seals & (OBJ_SEAL_WRITE | OBJ_SEAL_FUTURE_WRITE)))
			return -EPERM;
		*vf |= VM_SHARED | VM_MAYSHARE;
		if (!(fmode & MM_F_WRITE) || (seals & (OBJ_SEAL_WRITE | OBJ_SEAL_FUTURE_WRITE)))
			*vf &= ~(VM_MAYWRITE | VM_SHARED);	/* can never become writable */
		if (flags & MAP_SYNC)
			*vf |= VM_SYNC;
	} else if (type != MAP_PRIVATE) {
		return -EINVAL;
	}
	if (!(fmode & MM_F_READ))
		return -EACCES;
	/* Executing a file's pages needs its execute right (SPEC §3); without it the mapping
	 * may never become executable either. */
	if ((prot & PROT_EXEC) && !(fmode & MM_F_EXEC))
		return -EACCES;
	if (!(fmode & MM_F_EXEC))
		*vf &= ~VM_MAYEXEC;
	if (*vf & VM_GROWSDOWN)
		return -EINVAL;
	return 0;
}

/* The anonymous hugetlb half of do_mmap: a hugetlbfs-like object, the reservation, and a
 * VMA that never merges (VM_HUGETLB|VM_DONTEXPAND, as hugetlbfs_file_mmap sets). */
static long hugetlb_mmap(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr,
			 uint64_t len, uint64_t vf, uint64_t flags, int h)
{
	uint64_t type = flags & MAP_TYPE;
	if (type != MAP_SHARED && type != MAP_PRIVATE)
		return -EINVAL;
	if (vf & VM_GROWSDOWN)
		return -EINVAL;
	vf |= VM_HUGETLB | VM_DONTEXPAND;
	if (type == MAP_SHARED)
		vf |= VM_SHARED | VM_MAYSHARE;
	struct vm_object *o;
	long r = mm_hugetlb_prepare(mm, h, len, vf, &o);
	if (r)
		return r;
	int populate = (vf & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE;
	r = mm_mmap_region(mm, c, addr, len, vf, o, 0, VMA_NORMAL, populate);
	if (r < 0 && type == MAP_PRIVATE && !(vf & VM_NORESERVE))
		phys_huge_unreserve(mm->sys->ph, h, len >> (PAGE_SHIFT + phys_huge_order(h)));
	obj_put(o);	/* the VMA holds its own reference */
	return r;
}

long mm_mmap(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t len,
	     uint64_t prot, uint64_t flags, struct vm_object *obj, uint64_t off)
{
	return mm_mmap_file(mm, c, addr, len, prot, flags, obj, off, 0);
}

long mm_mmap_file(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t len,
		  uint64_t prot, uint64_t flags, struct vm_object *obj, uint64_t off, unsigned fmode)
{
	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	if ((flags & MAP_UNINITIALIZED) && !mm->sys->embedded)
		return -EINVAL;		/* SPEC §5: refused on the default image */
	if (!(flags & MAP_ANONYMOUS) && !obj)
		return -EBADF;
	/* MAP_HUGETLB (ksys_mmap_pgoff): only the pool sizes x86 has, and the length rounds
	 * up to the huge size; plain files cannot be hugetlb-mapped, a hugetlbfs file (memfd)
	 * always is, at its own size whatever MAP_HUGE_* says. */
	int h = -1;
	uint64_t huge_mask = 0;
	if (obj && obj->kind == OBJ_HUGETLB)
		h = obj->hstate;
	else if ((flags & MAP_HUGETLB) && (obj || (h = mm_hugetlb_hstate(flags)) < 0))
		return -EINVAL;
	if (h >= 0) {
		huge_mask = (PAGE_SIZE << phys_huge_order(h)) - 1;
		if (len > UINT64_MAX - huge_mask)
			return -ENOMEM;
		len = (len + huge_mask) & ~huge_mask;
	}
	/* security_mmap_file runs before do_mmap: W+X is refused first (SPEC §4). */
	if (c->wx && (prot & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC))
		return -EACCES;
	if (!len)
		return -EINVAL;
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED;	/* before the hint is rounded: an unaligned one is EINVAL */
	if (!(flags & MAP_FIXED) && addr && page_align_down(addr) < mm->sys->mmap_min_addr)
		addr = page_align_up(mm->sys->mmap_min_addr);	/* round_hint_to_min */
	else if (!(flags & MAP_FIXED))
		addr = page_align_down(addr);
	uint64_t alen = page_align_up(len);
	if (!alen)
		return -ENOMEM;
	uint64_t pgoff = off >> PAGE_SHIFT;
	if (pgoff + (alen >> PAGE_SHIFT) < pgoff || (obj && pgoff + (alen >> PAGE_SHIFT) > (1ULL << 52)))
		return -EOVERFLOW;	/* file_mmap_ok: offsets must fit the page cache index */

	pthread_rwlock_wrlock(&mm->lock);
	int anon_private = ((flags & MAP_TYPE) == MAP_PRIVATE || (flags & MAP_TYPE) == MAP_DROPPABLE) &&
			   !obj && h < 0;
	long r = get_unmapped_area(mm, c, addr, alen, flags, anon_private, huge_mask);
	if (!obj)
		flags &= ~(uint64_t)MAP_SYNC;	/* anonymous memory ignores MAP_SYNC */
	if (r < 0)
		goto out;
	addr = (uint64_t)r;
	if ((flags & MAP_FIXED_NOREPLACE) && !range_free_plain(mm, addr, alen)) {
		r = -EEXIST;
		goto out;
	}
	uint64_t vf = mmap_vm_flags(mm, prot, flags);
	if ((flags & MAP_LOCKED) && !mm_can_mlock(c)) {
		r = -EPERM;
		goto out;
	}
	if (!mm_mlock_future_ok(mm, c, vf, alen)) {
		r = -EAGAIN;
		goto out;
	}
	if (obj) {
		if ((r = file_mapping_flags(obj, fmode, prot, flags, &vf)) < 0)
			goto out;
		if ((r = mm_wx_check_mmap(mm, c, prot, vf, obj, pgoff, alen)) < 0)
			goto out;	/* the second view of a W/X alias (SPEC §4) */
		/* hugetlbfs files reserve from their pool instead of being committed. */
		if (h >= 0 && (r = mm_hugetlb_file_mmap(mm, obj, pgoff, alen, &vf)) < 0)
			goto out;
		if (h < 0 && !(vf & VM_SHARED) && (vf & (VM_NORESERVE | VM_WRITE)) == VM_WRITE)
			vf |= VM_ACCOUNT;
		int populate = (vf & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE;
		r = mm_mmap_region(mm, c, addr, alen, vf, obj, pgoff, VMA_NORMAL, populate);
		if (r < 0 && h >= 0 && !(vf & (VM_MAYSHARE | VM_NORESERVE)))
			phys_huge_unreserve(mm->sys->ph, h, alen >> (PAGE_SHIFT + phys_huge_order(h)));
		goto out;
	}
	if (h >= 0) {
		r = hugetlb_mmap(mm, c, addr, alen, vf, flags, h);
		goto out;
	}
	switch (flags & MAP_TYPE) {
	case MAP_SHARED:
		if (vf & VM_GROWSDOWN) {
			r = -EINVAL;
			goto out;
		}
		vf |= VM_SHARED | VM_MAYSHARE;
		pgoff = 0;
		break;
	case MAP_DROPPABLE:
		/* do_mmap (Linux 6.11+): never locked or a stack (MAP_HUGETLB failed above);
		 * nothing to reserve, wiped on fork, left out of dumps, and an mlockall
		 * MCL_FUTURE does not lock it (vma_supports_mlock). */
		if ((flags & MAP_LOCKED) || (vf & VM_GROWSDOWN)) {
			r = -EINVAL;
			goto out;
		}
		if (vf & VM_LOCKED)	/* do_mmap chose to populate before the lock went */
			flags = (flags | MAP_POPULATE) & ~(uint64_t)MAP_NONBLOCK;
		vf &= ~(VM_LOCKED | VM_LOCKONFAULT);
		vf |= VM_DROPPABLE | VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP;
		/* fallthrough */
	case MAP_PRIVATE:
		pgoff = addr >> PAGE_SHIFT;
		if ((vf & (VM_NORESERVE | VM_WRITE)) == VM_WRITE)
			vf |= VM_ACCOUNT;
		break;
	default:
		r = -EINVAL;
		goto out;
	}
	int populate = (vf & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE;
	r = mm_mmap_region(mm, c, addr, alen, vf, NULL, pgoff, VMA_NORMAL, populate);
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

long mm_mmap_region(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr,
		    uint64_t len, uint64_t vf, struct vm_object *obj, uint64_t pgoff, int kind,
		    int populate)
{
	vf = mm_ksm_vma_flags(mm, vf);	/* PR_SET_MEMORY_MERGE marks new mappings (brk too) */
	uint64_t file_id = obj ? c->file_id : 0;	/* an object made here has no open file */
	uint64_t end = addr + len, odata = 0, oacct = 0, npages = len >> PAGE_SHIFT;
	/* The usual case, a range get_unmapped_area chose, replaces nothing: one lookup then
	 * stands for the overlap count, the seal check, the unmap and the neighbour lookups,
	 * each of which would descend the tree again (that is what grew with the VMA count). */
	struct vma *above = vma_find(&mm->mt, addr);
	int clear = !above || above->vm_start >= end;
	uint64_t over = clear ? 0 : overlap_pages(mm, addr, end, &odata, &oacct);
	if (!may_expand_vm(mm, c, vf, npages - over))
		return -ENOMEM;
	/* accountable_mapping: a private writable mapping is a promise (SPEC §8). The
	 * reserve style charges it when it is linked; mode 0 only checks its size here. */
	if ((vf & VM_ACCOUNT) && npages > oacct && mm_acct_enough(mm, npages - oacct))
		return -ENOMEM;
	struct vma *v = vma_alloc(mm);
	if (!v)
		return -ENOMEM;
	if ((vf & VM_SHARED) && !obj) {
		obj = obj_shmem_create(mm->sys->km, mm->sys->ph, len,
				       atomic_fetch_add(&mm->sys->next_ino, 1));
		if (!obj)
			goto out_free;
		if (mm->sys->fcache)
			obj_shmem_register(mm->sys->fcache, obj);	/* swappable, on the LRU */
	} else if (obj) {
		obj_get(obj);
	}
	v->vm_start = addr;
	v->vm_end = end;
	v->vm_flags = vf;
	v->vm_pgoff = pgoff;
	v->vm_obj = obj;
	v->vm_file_id = file_id;
	v->kind = (uint8_t)kind;
	if (!clear && mm_range_sealed(mm, addr, end)) {
		vma_free(mm, v);
		return -EPERM;	/* MAP_FIXED over a sealed VMA (SPEC §9) */
	}
	if (vma_tree_reserve(&mm->mt, 1))
		goto out_free;
	if (!clear) {
		if (mm_unmap_range_locked(mm, addr, end))
			goto out_free;
		above = vma_find(&mm->mt, addr);	/* the old neighbours may be gone */
	}
	struct vma *prev = above ? vma_prev(&mm->mt, above) : vma_last(&mm->mt);
	struct vma *next = prev ? vma_next(&mm->mt, prev) : vma_first(&mm->mt);
	int merge = (prev && vma_mergeable(prev, v)) || (next && vma_mergeable(v, next));
	if (!merge && mm->mt.count >= mm->sys->max_map_count) {
		vma_free(mm, v);
		return -ENOMEM;	/* the old range is gone, as on Linux when the new VMA fails */
	}
	mm_link_vma(mm, v);
	v = mm_merge_around(mm, v);
	if (populate)
		mm_populate_locked(mm, addr, end);
	return (long)addr;
out_free:
	vma_free(mm, v);
	return -ENOMEM;
}
