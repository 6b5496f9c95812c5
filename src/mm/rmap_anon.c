/*
 * The anonymous reverse map across fork (Linux's anon_vma tree, rmap_walk_anon) and the
 * swap-out of anonymous frames that more than one PTE maps, or that the swap cache holds
 * (add_to_swap, try_to_unmap_one's swap entry, __remove_mapping's swap half). A frame
 * names the anon_vma of the VMA it was faulted in; every VMA that can map it has that
 * identity or a descendant of it (fork gives each child VMA a child identity), so the
 * address spaces to visit are the subtree's. Pointers are validated against anon_list
 * under anon_lock before they are followed: a frame holds no reference on its identity.
 * This file never blocks on an mm's lock (reclaim only try-locks them, reclaim_mm.c) and
 * never writes a PTE without that mm's lock or ptl held by the caller.
 */
#include "mm/mm_internal.h"
#include "mm/swap_mm.h"

#include <errno.h>
#include <stdio.h>

#include "reclaim/swap.h"

static int anon_live(struct mm_sys *ms, const struct anon_vma *av)
{
	struct list_head *b = mm_anon_bucket(ms, av);
	for (struct list_head *l = b->next; l != b; l = l->next)
		if (list_entry(l, struct anon_vma, node) == av)
			return 1;
	return 0;
}

/* The next identity of av's subtree after a in preorder, or NULL. */
static const struct anon_vma *subtree_next(const struct anon_vma *av, const struct anon_vma *a)
{
	if (!list_empty(&a->children))
		return list_entry(a->children.next, struct anon_vma, sibling);
	while (a != av) {
		if (a->sibling.next != &a->parent->children)
			return list_entry(a->sibling.next, struct anon_vma, sibling);
		a = a->parent;
	}
	return NULL;
}

int mm_anon_rmap_mms(struct mm_sys *ms, const void *owner, struct mm_struct **mms, int max)
{
	const struct anon_vma *av = owner;
	int n = 0;
	pthread_mutex_lock(&ms->anon_lock);
	int ok = av && anon_live(ms, av);
	for (const struct anon_vma *a = ok ? av : NULL; a; a = subtree_next(av, a)) {
		int i = 0;
		while (i < n && mms[i] != a->mm)
			i++;
		if (i < n)
			continue;
		if (n == max) {
			ok = 0;
			break;
		}
		mm_grab(a->mm);
		mms[n++] = a->mm;
	}
	pthread_mutex_unlock(&ms->anon_lock);
	if (ok)
		return n;
	while (n > 0)
		mm_drop(mms[--n]);
	return -1;
}

int mm_anon_covers(const struct anon_vma *a, const void *owner)
{
	for (; a; a = a->parent)
		if ((const void *)a == owner)
			return 1;
	return 0;
}

uint64_t mm_swap_hold(struct mm_sys *ms, struct page *pg)
{
	struct swap_area *sa = ms->swap;
	if (!sa)
		return 0;
	if (atomic_load(&pg->swap_slot))	/* cached: its slot holds these bytes already */
		return swap_cache_hold(sa, pg);
	int64_t s = swap_alloc(sa);
	if (s < 0)
		return 0;
	if (swap_write(sa, (uint64_t)s, page_address(ms->ph, pg))) {
		swap_put(sa, (uint64_t)s);
		return 0;
	}
	swap_cache_add(sa, (uint64_t)s, pg);	/* add_to_swap: findable by slot from now */
	return (uint64_t)s;
}

void mm_pageout_shared_pte(struct mm_struct *mm, pte_t *ep, struct page *pg, uint64_t slot)
{
	pte_t e = *ep;
	mm_lazyfree_cancel(mm->sys, pg);	/* shared: swapped like any page (try_to_unmap_one) */
	swap_dup(mm->sys->swap, slot);
	pgt_set(&mm->pgt, ep, pte_mk_swap(0, slot) | (e & PTE_SOFTDIRTY));
	atomic_fetch_add(&mm->swapents, 1);
	mm_unmap_page(mm, pg);
}

int mm_pageout_cached_pte(struct mm_struct *mm, pte_t *ep, struct page *pg)
{
	struct mm_sys *ms = mm->sys;
	uint64_t slot = ms->swap ? swap_cache_hold(ms->swap, pg) : 0;
	if (!slot)
		return -EAGAIN;
	page_get(pg);	/* ours across the unmap, so the last put is a real one */
	mm_pageout_shared_pte(mm, ep, pg, slot);
	swap_put(ms->swap, slot);	/* the PTE holds its own now */
	if (atomic_load(&pg->mapcount) == 0)
		swap_cache_reclaim(ms->swap, pg, 1);
	phys_put(ms->ph, pg);
	return 0;
}

int mm_anon_check(struct mm_struct *mm)
{
	struct mm_sys *ms = mm->sys;
	int bad = 0;
	pthread_mutex_lock(&ms->anon_lock);
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		/* A VMA's identity is its mm's and referenced; each ancestor is referenced at
		 * least by the child below it, which is on its children list. */
		for (const struct anon_vma *a = v->anon; a; a = a->parent) {
			int ok = atomic_load(&a->refcount) >= 1 && (a != v->anon || a->mm == mm);
			if (ok && a->parent) {
				ok = 0;
				for (const struct list_head *l = a->parent->children.next;
				     l != &a->parent->children && !ok; l = l->next)
					ok = list_entry(l, struct anon_vma, sibling) == a;
			}
			if (!ok) {
				if (bad++ < 20)
					fprintf(stderr, "mm_check: VMA %#lx-%#lx: anon_vma %lu (of its "
						"chain) is unreferenced, unlinked or of another mm\n",
						(unsigned long)v->vm_start, (unsigned long)v->vm_end,
						(unsigned long)a->id);
				break;
			}
		}
	}
	pthread_mutex_unlock(&ms->anon_lock);
	return bad;
}
