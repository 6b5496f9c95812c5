/*
 * MADV_FREE (Linux's madvise_free_single_vma) and the reclaim of what it gives up. A
 * lazily freed page keeps its frame and contents: the PTE is made clean and old and the
 * frame gets PG_lazyfree and moves to the inactive file list (lru_lazyfree), where reclaim
 * meets it with or without swap. A later store sets D again, which cancels the free; reclaim
 * drops only pages still clean (shrink_folio_list's lazyfree case) and sends the others
 * back to the active anon list (mm_lazyfree_cancel). Until src/reclaim
 * exists, reclaim runs when a fault finds no free frame, and on request (tests, sys).
 * It never drops a page some other mapping still holds.
 */
#include "mm/mm_internal.h"

#include <errno.h>

#include "lib/pm_assert.h"
#include "reclaim/lru.h"

static int free_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct mm_struct *mm = ctx;
	pte_t e = *ep;
	(void)va;
	if (level != 1 || !(e & (PTE_P | PTE_PROTNONE)) || (e & PTE_SPECIAL))
		return 0;	/* markers, the zero page: nothing to free */
	struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(e));
	/* madvise_free_pte_range skips frames others map: their data is not ours to drop. */
	if (!(pg->flags & PG_anon) || atomic_load(&pg->mapcount) != 1)
		return 0;
	__atomic_fetch_and(ep, ~(PTE_A | PTE_D), __ATOMIC_RELAXED);
	/* folio_mark_lazyfree: only a swap-backed frame outside the swap cache moves; one
	 * already lazily freed stays where it is. */
	int move = !(pg->flags & PG_lazyfree) && !atomic_load(&pg->swap_slot);
	pg->flags |= PG_lazyfree;
	if (move && mm->sys->lru)
		lru_lazyfree(mm->sys->lru, pg);
	return 0;
}

void mm_lazyfree_cancel(struct mm_sys *ms, struct page *pg)
{
	if (!(pg->flags & PG_lazyfree))
		return;
	pg->flags &= ~PG_lazyfree;
	if (ms->lru && (pg->flags & PG_anon))
		lru_lazyfree_cancel(ms->lru, pg);
}

/* [start, end) lies inside v; mm->lock held for writing. Private anonymous memory only:
 * EINVAL for shared, file-backed, hugetlb, locked and PFN mappings (vma_is_anonymous and
 * madvise_dontneed_free_valid_vma; verified on Linux 6.18). */
long madvise_free_vma(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (v->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB))
		return -EINVAL;
	if (v->vm_obj || (v->vm_flags & VM_SHARED))
		return -EINVAL;
	pthread_mutex_lock(&mm->ptl);
	pgt_walk_range(&mm->pgt, start, end, free_one, mm);
	pthread_mutex_unlock(&mm->ptl);
	mm_flush_tlb(mm);	/* the TLB grants writes only while D is set: the next store walks */
	return 0;
}

struct reclaim_ctx { struct mm_struct *mm; const struct vma *v; uint64_t freed; };

static int reclaim_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct reclaim_ctx *c = ctx;
	pte_t e = *ep;
	(void)va;
	if (level != 1 || !(e & PTE_P) || (e & PTE_SPECIAL))
		return 0;
	struct page *pg = pfn_to_page(c->mm->sys->ph, pte_pfn(e));
	if (!(pg->flags & PG_lazyfree))
		return 0;
	if ((e & PTE_D) && !(c->v->vm_flags & VM_DROPPABLE)) {
		mm_lazyfree_cancel(c->mm->sys, pg);	/* written since: ordinary anon memory */
		return 0;
	}
	if (atomic_load(&pg->mapcount) != 1 || atomic_load(&pg->refcount) != 1)
		return 0;
	pgt_set(&c->mm->pgt, ep, 0);
	mm_unmap_page(c->mm, pg);
	mm_acct_untouch(c->mm, c->v, 1);	/* discarded: the next touch charges again */
	c->freed++;
	return 0;
}

uint64_t mm_reclaim_lazyfree_ptl(struct mm_struct *mm)
{
	struct reclaim_ctx c = { mm, NULL, 0 };
	for (struct vma *v = vma_first(&mm->mt); v && !mm->dead; v = vma_next(&mm->mt, v)) {
		if (v->vm_obj || (v->vm_flags & (VM_SHARED | VM_LOCKED)) || !v->anon)
			continue;	/* mlocked pages are never reclaimed */
		c.v = v;
		pgt_walk_range(&mm->pgt, v->vm_start, v->vm_end, reclaim_one, &c);
	}
	if (c.freed)
		mm_flush_tlb(mm);
	return c.freed;
}

uint64_t mm_reclaim_lazyfree(struct mm_struct *mm)
{
	pthread_rwlock_wrlock(&mm->lock);
	pthread_mutex_lock(&mm->ptl);
	uint64_t n = mm_reclaim_lazyfree_ptl(mm);
	pthread_mutex_unlock(&mm->ptl);
	pthread_rwlock_unlock(&mm->lock);
	return n;
}
