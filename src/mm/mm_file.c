/*
 * The mm side of file-backed memory: writing dirty shared pages back (msync, munmap, exit),
 * msync itself, and zapping every mapping of a truncated range (unmap_mapping_range).
 * Dirtiness is per page, as Linux's folio dirty flag: a shared file mapping is mapped
 * writable only by a write fault, which marks the page dirty (writenotify); writeback
 * first write-protects every mapping of the pages (page_mkclean: msync(MS_SYNC) and the
 * expiry daemon), handing any D bit left in a PTE to the page cache, so the next store
 * faults and dirties the page again. Host I/O is the object layer's. Truncation walks the
 * object's i_mmap with a reference on each mm, never holding i_mmap_lock while it takes an
 * mm lock.
 */
#include "mm/mm_file.h"

#include <errno.h>
#include <sys/mman.h>

#include "mm/mm_internal.h"

static int is_file_shared(const struct vma *v)
{
	return v->vm_obj && v->vm_obj->kind == OBJ_FILE && (v->vm_flags & VM_SHARED);
}

static uint64_t index_of(const struct vma *v, uint64_t addr)
{
	return v->vm_pgoff + ((addr - v->vm_start) >> PAGE_SHIFT);
}

struct victim { struct mm_struct *mm; };

void mm_writeback_vma(struct vma *v, uint64_t start, uint64_t end)
{
	/* The data reaches the host file (SPEC §3), but nothing is cleaned: Linux's munmap
	 * and exit leave the folios dirty, their tails past EOF unzeroed, for writeback. */
	if (is_file_shared(v) && end > start)
		obj_copy_out_dirty(v->vm_obj, index_of(v, start), index_of(v, end - 1));
}

int mm_vma_writenotify(const struct vma *v)
{
	return is_file_shared(v);
}

void mm_file_page_dirtied(struct vma *v, struct page *pg)
{
	if (is_file_shared(v))
		obj_page_dirty(v->vm_obj, pg);
}

/* Linux's page_mkclean on one PTE: its D bit goes to the page cache, and the PTE is made
 * clean and read-only, so the next store faults and dirties the page again. The caller
 * flushes the TLB afterwards. */
static int clean_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct vma *v = ctx;
	(void)va;
	(void)level;
	pte_t e = *ep;
	if ((e & PTE_P) && (e & (PTE_D | PTE_RW)) && !(e & PTE_SPECIAL)) {
		if (e & PTE_D)
			obj_page_dirty(v->vm_obj, pfn_to_page(v->vm_mm->sys->ph, pte_pfn(e)));
		__atomic_fetch_and(ep, ~(PTE_D | PTE_RW), __ATOMIC_RELAXED);
	}
	return 0;
}

static void collect_dirty_in(struct mm_struct *mm, struct vm_object *o, uint64_t first,
			     uint64_t last);
static size_t collect_mms(struct vm_object *o, struct victim **out, size_t *cap_out);

/* page_mkclean over object pages [first, last]: every shared mapping of them in every mm
 * hands its D bits to the page cache and is write-protected. Caller holds no mm lock. */
static void mkclean_object(struct vm_object *o, uint64_t first, uint64_t last)
{
	struct victim *vs;
	size_t cap;
	size_t n = collect_mms(o, &vs, &cap);
	for (size_t i = 0; i < n; i++) {
		collect_dirty_in(vs[i].mm, o, first, last);
		mm_drop(vs[i].mm);
	}
	if (vs)
		kmem_free(o->km, vs, cap * sizeof(*vs));
}

/* vfs_fsync_range for a mapped file: the page cache's dirty state is per page (Linux's
 * folio dirty flag), whoever stored, so whatever any mapping still holds in a D bit joins
 * it first; then the dirty pages are written and the file flushed. No mm lock held.
 * 0 or -EIO. */
static int sync_object_range(struct vm_object *o, uint64_t first, uint64_t last)
{
	mkclean_object(o, first, last);
	return obj_writeback(o, first, last, 1) ? -EIO : 0;
}

void mm_writeback_expired(struct obj_filecache *c, uint64_t now_ms, uint64_t expire_ms)
{
	struct vm_object *due[32];
	size_t n = obj_filecache_expired(c, now_ms, expire_ms, due, 32);
	for (size_t i = 0; i < n; i++) {
		mkclean_object(due[i], 0, UINT64_MAX);
		obj_put(due[i]);
	}
	obj_writeback_expired(c, now_ms, expire_ms);
}

/* msync of one VMA but for MS_SYNC's writeback (mm_msync does that with the lock
 * dropped). Only MS_SYNC writes anything on Linux 6.x: MS_ASYNC, MS_INVALIDATE and 0
 * start no I/O (checked on Linux 6.18); the D bits still reach the page cache, where the
 * expiry daemon finds them, as Linux's folio has been dirty since the store. */
static long msync_vma(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end, long flags)
{
	if ((flags & MS_INVALIDATE) && (v->vm_flags & VM_LOCKED))
		return -EBUSY;
	if (is_file_shared(v) && !(flags & MS_SYNC)) {
		pgt_walk_range(&mm->pgt, start, end, clean_one, v);
		mm_flush_tlb(mm);
	}
	/* MS_INVALIDATE drops nothing on Linux 6.x: mapped views already see the file. */
	return 0;
}

long mm_msync(struct mm_struct *mm, uint64_t start, uint64_t len, long flags)
{
	if (flags & ~(long)(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if (!page_aligned(start))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	uint64_t end = start + page_align_up(len);
	if (end < start)
		return -ENOMEM;
	if (end == start)
		return 0;
	pthread_rwlock_wrlock(&mm->lock);
	long err, unmapped = 0;
	struct vma *v = vma_find(&mm->mt, start);
	for (;;) {
		err = -ENOMEM;	/* sys_msync: running out of VMAs before end is ENOMEM */
		if (!v)
			break;
		if (start < v->vm_start) {
			if (flags == MS_ASYNC)
				break;
			start = v->vm_start;
			if (start >= end)
				break;
			unmapped = -ENOMEM;	/* a hole: reported once the rest is done */
		}
		uint64_t stop = min_u64(end, v->vm_end);
		if ((err = msync_vma(mm, v, start, stop, flags)))
			break;
		if ((flags & MS_SYNC) && is_file_shared(v)) {
			/* As sys_msync: the file is synced with the mmap lock dropped, then the
			 * walk goes on from the VMA's end in whatever the space is by then. */
			struct vm_object *o = v->vm_obj;
			uint64_t first = index_of(v, start), last = index_of(v, stop - 1);
			start = v->vm_end;
			obj_get(o);
			pthread_rwlock_unlock(&mm->lock);
			err = sync_object_range(o, first, last);
			obj_put(o);
			if (err || start >= end)
				return err ? err : unmapped;
			pthread_rwlock_wrlock(&mm->lock);
			v = vma_find(&mm->mt, start);
			continue;
		}
		start = stop;
		if (start >= end)
			break;
		v = vma_next(&mm->mt, v);
	}
	pthread_rwlock_unlock(&mm->lock);
	return err ? err : unmapped;
}

/* Collects the mms mapping o, each with a reference, under i_mmap_lock. */
static size_t collect_mms(struct vm_object *o, struct victim **out, size_t *cap_out)
{
	pthread_mutex_lock(&o->i_mmap_lock);
	size_t n = 0, cap = o->nr_mmap;
	struct victim *vs = cap ? kmem_zalloc(o->km, cap * sizeof(*vs)) : NULL;
	for (struct list_head *l = o->i_mmap.next; vs && l != &o->i_mmap; l = l->next) {
		struct mm_struct *mm = list_entry(l, struct vma, vm_obj_node)->vm_mm;
		size_t i = 0;
		while (i < n && vs[i].mm != mm)
			i++;
		if (i == n) {
			mm_grab(mm);
			vs[n++].mm = mm;
		}
	}
	pthread_mutex_unlock(&o->i_mmap_lock);
	*out = vs;
	*cap_out = cap;
	return n;
}

/* Zaps, in one mm, every VMA of o over object pages [first, last]. Guard markers stay. */
static void zap_object_in(struct mm_struct *mm, struct vm_object *o, uint64_t first, uint64_t last,
			  int even_cows, unsigned flags)
{
	pthread_rwlock_wrlock(&mm->lock);
	for (struct vma *v = mm->dead ? NULL : vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		uint64_t npages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		if (v->vm_obj != o || v->vm_pgoff > last || v->vm_pgoff + npages <= first)
			continue;
		uint64_t lim = last == UINT64_MAX ? UINT64_MAX : last + 1;
		uint64_t lo = max_u64(first, v->vm_pgoff), hi = min_u64(lim, v->vm_pgoff + npages);
		/* Private copies beyond the new end go too (unmap_mapping_range even_cows);
		 * a hole punch leaves them (truncate_pagecache_range). */
		uint64_t s = v->vm_start + ((lo - v->vm_pgoff) << PAGE_SHIFT);
		uint64_t e = v->vm_start + ((hi - v->vm_pgoff) << PAGE_SHIFT);
		/* A private hugetlb VMA owes a reservation again for each copy zapped here. */
		if (even_cows)
			mm_hugetlb_unreserve(mm, v, s, e);
		mm_zap_range_details(mm, s, e, ZAP_KEEP_GUARD | flags, even_cows ? NULL : o);
		if (even_cows)
			mm_hugetlb_rereserve(mm, v, s, e);
	}
	pthread_rwlock_unlock(&mm->lock);
}

/* In one mm, every shared VMA of o over object pages [first, last] hands its D bits to the
 * page cache and is write-protected. mm->lock is taken for writing: stores run under it
 * for reading (never from the lock-free TLB hit), so none lands between the D bit's
 * transfer and the TLB flush. */
static void collect_dirty_in(struct mm_struct *mm, struct vm_object *o, uint64_t first,
			     uint64_t last)
{
	int cleaned = 0;
	pthread_rwlock_wrlock(&mm->lock);
	for (struct vma *v = mm->dead ? NULL : vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		uint64_t npages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		if (v->vm_obj != o || !(v->vm_flags & VM_SHARED) || v->vm_pgoff > last ||
		    v->vm_pgoff + npages <= first)
			continue;
		uint64_t lo = max_u64(first, v->vm_pgoff), hi = min_u64(last, v->vm_pgoff + npages - 1);
		pgt_walk_range(&mm->pgt, v->vm_start + ((lo - v->vm_pgoff) << PAGE_SHIFT),
			       v->vm_start + ((hi + 1 - v->vm_pgoff) << PAGE_SHIFT), clean_one, v);
		cleaned = 1;
	}
	if (cleaned)
		mm_flush_tlb(mm);
	pthread_rwlock_unlock(&mm->lock);
}

static void unmap_object(struct vm_object *o, uint64_t first, uint64_t last, int even_cows,
			 unsigned flags)
{
	struct victim *vs;
	size_t cap;
	size_t n = collect_mms(o, &vs, &cap);
	for (size_t i = 0; i < n; i++) {
		zap_object_in(vs[i].mm, o, first, last, even_cows, flags);
		mm_drop(vs[i].mm);
	}
	kmem_free(o->km, vs, cap * sizeof(*vs));
}

void mm_unmap_object_pages(struct vm_object *o, uint64_t first_index, uint64_t last_index)
{
	unmap_object(o, first_index, last_index, 0, 0);
}

void mm_poison_object_pages(struct vm_object *o, uint64_t first_index, uint64_t last_index)
{
	unmap_object(o, first_index, last_index, 0, ZAP_POISON);
}

void mm_unmap_object_range(struct vm_object *o, uint64_t first_index, uint64_t last_index)
{
	unmap_object(o, first_index, last_index, 1, 0);
}

int mm_punch_object(struct vm_object *o, uint64_t first_index, uint64_t last_index)
{
	if (o->kind == OBJ_HUGETLB) {
		/* hugetlb_vmdelete_list: only whole huge pages are unmapped; the object zeroes
		 * the partial ones in place. */
		uint64_t n = 1ULL << phys_huge_order(o->hstate);
		uint64_t lo = (first_index + n - 1) & ~(n - 1);
		uint64_t end = last_index == UINT64_MAX ? UINT64_MAX : (last_index + 1) & ~(n - 1);
		if (lo < end)
			unmap_object(o, lo, end == UINT64_MAX ? UINT64_MAX : end - 1, 0, 0);
	} else {
		unmap_object(o, first_index, last_index, 0, 0);
	}
	return obj_punch_hole(o, first_index, last_index);
}

/* remap_file_pages (SPEC §3): deprecated, emulated as Linux does, by an mmap of the same
 * file with the same protection, MAP_SHARED|MAP_FIXED|MAP_POPULATE, at the new offset.
 * Only a MAP_SHARED file mapping and prot 0 are accepted. */
long mm_remap_file_pages(struct mm_struct *mm, const struct mm_caller *c, uint64_t start,
			 uint64_t size, uint64_t prot, uint64_t pgoff, uint64_t flags)
{
	if (prot)
		return -EINVAL;
	if (flags & ~(uint64_t)MAP_NONBLOCK)
		return -EINVAL;
	start = page_align_down(start);
	size = page_align_down(size);
	if (start + size <= start)
		return -EINVAL;
	if (pgoff + (size >> PAGE_SHIFT) < pgoff)
		return -EINVAL;
	pthread_rwlock_wrlock(&mm->lock);
	long r = -EINVAL;
	struct vma *v = vma_lookup(&mm->mt, start);
	if (!v || !(v->vm_flags & VM_SHARED) || !v->vm_obj || start + size > v->vm_end)
		goto out;
	r = 0;
	if (pgoff == index_of(v, start))
		goto out;	/* already linear there */
	r = mm_range_sealed(mm, start, start + size) ? -EPERM : 0;
	if (!r) {
		uint64_t vf = v->vm_flags & ~(uint64_t)VM_SOFTDIRTY;
		struct mm_caller same_file = *c;	/* the mmap goes through v's own file */
		same_file.file_id = v->vm_file_id;
		r = mm_mmap_region(mm, &same_file, start, size, vf, v->vm_obj, pgoff, VMA_NORMAL, 1);
		r = r < 0 ? r : 0;
	}
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
