/*
 * Error injection (Linux's madvise_inject_error), SeTcbPrivilege only (checked by the
 * caller). MADV_HWPOISON poisons the frame behind each page: it is retired for good
 * (phys PG_hwpoison), this mapping gets a hwpoison marker (SIGBUS, BUS_MCEERR_AR), and so
 * does every other mapping: at once for object pages (through i_mmap), at their next
 * touch for anonymous frames shared with a fork (there is no anon reverse map; fault.c).
 * MADV_SOFT_OFFLINE moves the contents to a new frame and retires the old one; no data
 * is lost and nobody gets a signal. Pages are faulted in first, as get_user_pages does.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <string.h>

#include "mm/mm_file.h"

/* The frame mapped at a, faulted in for reading; -EFAULT when that fails (a hole, a guard,
 * PROT_NONE, an earlier poisoning), -EBUSY for frames that cannot be retired (the zero
 * page, vdso, hugetlb). */
static int inject_target(struct mm_struct *mm, uint64_t a, pte_t **epp, struct page **pgp)
{
	if (!vma_lookup(&mm->mt, a) || mm_handle_fault(mm, a, PM_READ_, 0) != FAULT_OK)
		return -EFAULT;
	int level;
	pte_t *ep = pgt_lookup(&mm->pgt, a, &level);
	if (ep && mm_is_thp_pmd(mm, *ep, level)) {
		/* try_to_split_thp_page: only a 4 KiB frame can be retired. */
		pthread_mutex_lock(&mm->ptl);
		int err = mm_thp_split_pmd(mm, a);
		pthread_mutex_unlock(&mm->ptl);
		if (err)
			return -EBUSY;
		ep = pgt_lookup(&mm->pgt, a, &level);
	}
	if (!ep || !(*ep & PTE_P))
		return -EFAULT;
	if ((*ep & PTE_SPECIAL) || level != 1)
		return -EBUSY;
	*epp = ep;
	*pgp = pfn_to_page(mm->sys->ph, pte_pfn(*ep));
	return 0;
}

/* memory_failure: poison pg, and turn this PTE into a marker. An object page is handed
 * back in *o (with a reference) for the caller to unmap everywhere once unlocked. */
static int poison_locked(struct mm_struct *mm, pte_t *ep, struct page *pg, struct vm_object **o)
{
	if (phys_mark_retire(mm->sys->ph, pg, PG_hwpoison))
		return -EBUSY;
	if (pg->owner_kind == OWNER_OBJECT) {
		*o = pg->owner;
		obj_get(*o);
	}
	/* Other address spaces that map an anonymous frame are found only when they walk
	 * their tables again: make every thread's TLB forget its translations. */
	if (pg->owner_kind != OWNER_OBJECT && atomic_load(&pg->mapcount) > 1)
		atomic_fetch_add(&mm->sys->shootdown_gen, 1);
	pthread_mutex_lock(&mm->ptl);
	pgt_set(&mm->pgt, ep, pte_mk_marker(PTE_MARKER_HWPOISON));
	mm_unmap_page(mm, pg);
	pthread_mutex_unlock(&mm->ptl);
	mm_flush_tlb(mm);
	return 0;
}

/* soft_offline_page: copy pg to a new frame. Anonymous: this PTE moves to the copy and
 * other mappers (fork) keep the old frame, retired when they let go. Object pages: the
 * copy replaces pg in the index and the caller zaps every mapping, which refaults it. */
static int offline_locked(struct mm_struct *mm, pte_t *ep, struct page *pg, struct vm_object **o)
{
	struct phys *ph = mm->sys->ph;
	if (pg->flags & (PG_hugetlb | PG_head))
		return -EBUSY;
	struct page *np = phys_alloc(ph, 0, PHYS_NOZERO);
	if (!np)
		return -ENOMEM;
	memcpy(page_address(ph, np), page_address(ph, pg), PAGE_SIZE);
	if (pg->owner_kind == OWNER_OBJECT) {
		struct vm_object *obj = pg->owner;
		if (obj_replace_page(obj, pg->index, pg, np)) {
			phys_put(ph, np);
			return -EBUSY;
		}
		phys_mark_retire(ph, pg, PG_offline);	/* our PTE still holds it */
		obj_get(obj);
		*o = obj;
		return 0;
	}
	np->flags |= pg->flags & (PG_anon | PG_lazyfree);
	np->owner_kind = pg->owner_kind;
	np->owner = pg->owner;
	np->index = pg->index;
	phys_mark_retire(ph, pg, PG_offline);
	pthread_mutex_lock(&mm->ptl);
	atomic_fetch_add(&np->mapcount, 1);
	pgt_set(&mm->pgt, ep, (*ep & ~PTE_PFN_MASK) | pte_mk(page_to_pfn(ph, np), 0));
	atomic_fetch_sub(&pg->mapcount, 1);
	mm_flush_tlb(mm);	/* before the put: the shootdown rule of mm.h */
	phys_put(ph, pg);
	pthread_mutex_unlock(&mm->ptl);
	return 0;
}

static long inject_one(struct mm_struct *mm, uint64_t a, int soft)
{
	struct vm_object *o = NULL;
	pte_t *ep;
	struct page *pg;
	pthread_rwlock_wrlock(&mm->lock);
	uint64_t index = 0;
	int r = inject_target(mm, a, &ep, &pg);
	if (!r) {
		index = pg->index;
		int own = !soft && (pg->flags & PG_anon);
		r = soft ? offline_locked(mm, ep, pg, &o) : poison_locked(mm, ep, pg, &o);
		if (!r && own)	/* the marker holds no page: the charge goes (acct.c) */
			mm_acct_untouch(mm, vma_lookup(&mm->mt, a), 1);
	}
	pthread_rwlock_unlock(&mm->lock);
	if (!o)
		return r;
	if (soft) {
		mm_unmap_object_pages(o, index, index);
	} else {
		mm_poison_object_pages(o, index, index);
		obj_replace_page(o, index, pg, NULL);	/* out of the cache: the last put retires it */
	}
	obj_put(o);
	return r;
}

long madvise_inject_error(struct mm_struct *mm, uint64_t start, uint64_t end, int soft)
{
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		long r = inject_one(mm, a, soft);
		if (r)
			return r;
	}
	return 0;
}
