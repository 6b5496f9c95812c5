/*
 * mremap (Linux's mm/mremap.c): shrink in place, grow in place when the space after the
 * VMA is free, or move (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP). A move relinks
 * page tables (pgt_move_range), never copies pages, and the moved VMA keeps its pgoff and
 * anon identity, so, as on Linux, a moved anonymous VMA rarely merges with new neighbours.
 * Sealed source or target ranges refuse with EPERM before anything changes (SPEC §9).
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <linux/mman.h>
#include <sys/mman.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

struct remap {
	struct mm_struct *mm;
	const struct mm_caller *c;
	uint64_t addr, old_len, new_len, flags, new_addr;
};

/* vma_to_resize: the VMA holding [addr, addr+old_len), checked for growing to new_len. */
static struct vma *vma_to_resize(struct remap *r, long *err)
{
	struct mm_struct *mm = r->mm;
	struct vma *v = vma_lookup(&mm->mt, r->addr);
	*err = -EFAULT;
	if (!v || r->old_len > v->vm_end - r->addr)
		return NULL;	/* not mapped, or spanning more than one VMA */
	if (r->new_len == r->old_len)
		return v;
	if (v->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))
		return NULL;
	uint64_t grow = r->new_len > r->old_len ? r->new_len - r->old_len : 0;
	*err = -EAGAIN;
	if ((v->vm_flags & VM_LOCKED) && !mm_mlock_future_ok(mm, r->c, v->vm_flags, grow))
		return NULL;
	*err = -ENOMEM;
	if (((mm->total_vm << PAGE_SHIFT) + grow) > r->c->rlim[RLIMIT_AS].cur)
		return NULL;
	if (is_data_mapping(v->vm_flags) &&
	    ((mm->data_vm << PAGE_SHIFT) + grow) > r->c->rlim[RLIMIT_DATA].cur)
		return NULL;
	/* vrm_charge: growth is a new promise (SPEC §8). */
	if ((v->vm_flags & VM_ACCOUNT) && grow && mm_acct_enough(mm, grow >> PAGE_SHIFT))
		return NULL;
	return v;
}

/* copy_vma + move_page_tables + unmapping the old range (move_vma). */
static long move_vma(struct remap *r, struct vma *v, uint64_t new_addr)
{
	struct mm_struct *mm = r->mm;
	if (mm->mt.count + 3 >= mm->sys->max_map_count)
		return -ENOMEM;
	uint64_t pgoff = v->vm_pgoff + ((r->addr - v->vm_start) >> PAGE_SHIFT);
	struct vma *nv = vma_alloc(mm);
	if (!nv || vma_tree_reserve(&mm->mt, 3)) {
		if (nv)
			vma_free(mm, nv);
		return -ENOMEM;
	}
	vma_copy(nv, v);
	nv->vm_start = new_addr;
	nv->vm_end = new_addr + r->new_len;
	/* copy_vma: anonymous memory never faulted takes the new address as its pgoff, which
	 * lets it merge where it lands; faulted memory keeps its old pgoff. */
	nv->vm_pgoff = (!v->vm_obj && !v->anon) ? new_addr >> PAGE_SHIFT : pgoff;
	/* move_huge_pmd moves a THP whole only where both sides are 2 MiB aligned; any other
	 * huge PMD of the range is split first (the old range's edges always are). */
	if (mm_thp_split_range(mm, r->addr, r->addr + r->old_len,
			       ((r->addr ^ new_addr) & (PMD_SIZE - 1)) ? THP_SPLIT_ALL :
			       THP_SPLIT_EDGES) ||
	    pgt_move_range(&mm->pgt, r->addr, new_addr, r->old_len)) {
		vma_free(mm, nv);
		return -ENOMEM;
	}
	mm_flush_tlb(mm);
	uint64_t vf = v->vm_flags;
	mm_link_vma(mm, nv);
	mm_merge_around(mm, nv);
	if (r->flags & MREMAP_DONTUNMAP) {
		/* The old range stays mapped but empty: its next touch is a fresh zero page.
		 * Linux 6.18 (dontunmap_complete) unlocks the whole old VMA, unsplit and
		 * unmerged, and leaves locked_vm alone: VmLck still counts its pages. */
		struct vma *old = vma_lookup(&mm->mt, r->addr);
		if (old && old->anon && old->vm_start == r->addr && old->vm_end == r->addr + r->old_len) {
			anon_vma_put(mm, old->anon);
			old->anon = NULL;
		}
		if (old && (old->vm_flags & VM_LOCKED)) {
			mm->locked_vm_stale += (old->vm_end - old->vm_start) >> PAGE_SHIFT;
			mm_set_vma_flags(mm, old, old->vm_flags & ~(VM_LOCKED | VM_LOCKONFAULT));
		}
	} else {
		mm_unmap_range_locked(mm, r->addr, r->addr + r->old_len);
	}
	if ((vf & VM_LOCKED) && r->new_len > r->old_len)
		mm_populate_locked(mm, new_addr + r->old_len, new_addr + r->new_len);
	return (long)new_addr;
}

/* A place for the moved mapping: MAP_FIXED at new_addr, or a hint, or anywhere. */
static long remap_area(struct remap *r, struct vma *v, uint64_t hint, int fixed)
{
	uint64_t out;
	struct mm_struct *mm = r->mm;
	if (fixed)
		return (long)hint;
	if (hint && hint >= mm->sys->mmap_min_addr && hint + r->new_len <= mm->task_size) {
		struct vma *n = vma_find(&mm->mt, hint);
		struct vma *p = n ? vma_prev(&mm->mt, n) : vma_last(&mm->mt);
		if ((!n || hint + r->new_len <= vma_start_gap(&mm->mt, n)) && (!p || hint >= p->vm_end))
			return (long)hint;
	}
	(void)v;
	if (!vma_gap_topdown(&mm->mt, r->new_len, 0, max_u64(PAGE_SIZE, mm->sys->mmap_min_addr),
			     mm->mmap_base, &out))
		return (long)out;
	return -ENOMEM;
}

/* mremap_to: MREMAP_FIXED or MREMAP_DONTUNMAP. */
static long remap_to(struct remap *r)
{
	struct mm_struct *mm = r->mm;
	uint64_t na = r->new_addr;
	int fixed = (r->flags & MREMAP_FIXED) != 0;
	if (fixed && mm_range_sealed(mm, na, na + r->new_len))
		return -EPERM;
	if (fixed && na < mm->sys->mmap_min_addr)
		return -EPERM;
	long err;
	if (r->old_len > r->new_len) {
		if ((err = mm_unmap_range_locked(mm, r->addr + r->new_len, r->addr + r->old_len)))
			return err;
		r->old_len = r->new_len;
	}
	/* What is left of the source must lie in one VMA before the target is touched (a bad
	 * source is EFAULT with the target still mapped). */
	struct vma *src = vma_lookup(&mm->mt, r->addr);
	if (!src || r->old_len > src->vm_end - r->addr)
		return -EFAULT;
	if (fixed && (err = mm_unmap_range_locked(mm, na, na + r->new_len)))
		return err;
	struct vma *v = vma_to_resize(r, &err);
	if (!v)
		return err;
	if ((r->flags & MREMAP_DONTUNMAP) &&
	    ((mm->total_vm << PAGE_SHIFT) + r->old_len) > r->c->rlim[RLIMIT_AS].cur)
		return -ENOMEM;
	/* vrm_charge: the old VMA stays charged, so a DONTUNMAP move promises the new range. */
	if ((r->flags & MREMAP_DONTUNMAP) && (v->vm_flags & VM_ACCOUNT) &&
	    mm_acct_enough(mm, r->new_len >> PAGE_SHIFT))
		return -ENOMEM;
	long at = remap_area(r, v, na, fixed);
	return at < 0 ? at : move_vma(r, v, (uint64_t)at);
}

/* Grows v in place by `delta` when the space after it is free (vma_expandable). */
static int expand_in_place(struct remap *r, struct vma *v, uint64_t delta)
{
	struct mm_struct *mm = r->mm;
	uint64_t end = v->vm_end + delta;
	if (end < v->vm_end || end > mm->task_size)
		return 0;
	/* vma_expandable: only overlap counts, not a stack's guard gap (the MAP_FIXED
	 * get_unmapped_area it asks does not look at gaps). */
	struct vma *next = vma_next(&mm->mt, v);
	if (next && end > next->vm_start)
		return 0;
	uint64_t old_end = v->vm_end;
	mm_resize_vma(mm, v, v->vm_start, end);
	mm_merge_around(mm, v);
	if (v->vm_flags & VM_LOCKED)
		mm_populate_locked(mm, old_end, end);
	return 1;
}

static long remap_locked(struct remap *r)
{
	struct mm_struct *mm = r->mm;
	struct vma *v = vma_lookup(&mm->mt, r->addr);
	if (!v)
		return -EFAULT;
	if (v->vm_flags & VM_SEALED)
		return -EPERM;
	/* old_len 0 asks for a second mapping of the same pages: only shared ones have any. */
	if (!r->old_len && !(v->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return -EINVAL;
	if (v->vm_flags & VM_HUGETLB) {
		uint64_t mask = mm_huge_size(v) - 1;
		if ((r->addr | r->old_len | r->new_len) & mask || r->new_len > r->old_len ||
		    ((r->flags & MREMAP_FIXED) && (r->new_addr & mask)))
			return -EINVAL;	/* hugetlb mremap: aligned, and never growing */
	}
	/* Linux's check_prep_vma: a call that maps something new (a move, or growth) may
	 * not take what it keeps of its source (a shrinking move keeps new_len) across a VMA
	 * boundary, and says so before anything changes, the shrink included. */
	int maps_new = (r->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) || r->new_len > r->old_len;
	if (maps_new && min_u64(r->old_len, r->new_len) > v->vm_end - r->addr)
		return -EFAULT;
	/* A shrink whose cut-off tail meets a sealed VMA: refused whole (SPEC §9: nothing
	 * changes). What the call keeps is not unmapped, so a seal there does not matter. */
	if (r->new_len < r->old_len &&
	    mm_range_sealed(mm, r->addr + r->new_len, r->addr + r->old_len))
		return -EPERM;
	if (r->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))
		return remap_to(r);
	if (r->old_len >= r->new_len) {
		long err = mm_unmap_range_locked(mm, r->addr + r->new_len, r->addr + r->old_len);
		return err ? err : (long)r->addr;
	}
	long err;
	v = vma_to_resize(r, &err);
	if (!v)
		return err;
	if (r->addr + r->old_len == v->vm_end && expand_in_place(r, v, r->new_len - r->old_len))
		return (long)r->addr;
	if (!(r->flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	long at = remap_area(r, v, 0, 0);
	return at < 0 ? at : move_vma(r, v, (uint64_t)at);
}

long mm_mremap(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t old_len,
	       uint64_t new_len, uint64_t flags, uint64_t new_addr)
{
	if (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (!page_aligned(addr))
		return -EINVAL;
	old_len = page_align_up(old_len);
	new_len = page_align_up(new_len);
	/* check_mremap_params compares the lengths once they are whole pages. */
	if ((flags & MREMAP_DONTUNMAP) && (!(flags & MREMAP_MAYMOVE) || old_len != new_len))
		return -EINVAL;
	if (!new_len)
		return -EINVAL;
	/* check_mremap_params: a MREMAP_FIXED or DONTUNMAP target is validated before any VMA
	 * is looked at, so an unaligned, out-of-range or overlapping one is EINVAL even when
	 * nothing is mapped. */
	if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {	/* both name a new address */
		if (!page_aligned(new_addr))
			return -EINVAL;
		if (new_len > mm->task_size || new_addr > mm->task_size - new_len)
			return -EINVAL;
		if (addr + old_len > new_addr && new_addr + new_len > addr)
			return -EINVAL;
	}
	struct remap r = { mm, c, addr, old_len, new_len, flags, new_addr };
	pthread_rwlock_wrlock(&mm->lock);
	long ret = remap_locked(&r);
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}
