/*
 * KSM's glue to address spaces (Linux mm/ksm.c: ksm_madvise, scan_get_next_rmap_item,
 * cmp_and_merge_page, try_to_merge_one_page, write_protect_page, replace_page,
 * break_ksm). ksmd holds ksm->lock for a whole batch and takes one mm->lock at a time,
 * for writing, around each look at or change of that mm's page tables; it never holds
 * two. A merge write-protects the PTE first and compares the bytes afterwards, so the
 * pages it merges cannot change between the compare and the switch. Mapcounts, refcounts
 * and RSS move exactly as a fault's would: a merged PTE stays an anonymous mapping, so
 * RSS does not change when pages merge (Linux counts a KSM page in every mapper's RSS);
 * only the frames freed show the gain.
 */
#include "mm/ksm_mm.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/pm_assert.h"
#include "mm/mm_internal.h"

static struct mm_struct *slot_mm(struct ksm_mm_slot *s)
{
	return list_entry(s, struct mm_struct, ksm_slot);
}

static struct mm_struct *item_mm(struct ksm_rmap_item *it)
{
	return slot_mm(it->slot);
}

/* vma_ksm_compatible: what MADV_MERGEABLE silently ignores. DAX mappings are MAP_SYNC
 * ones here, and those are shared anyway. */
static int ksm_compatible(uint64_t vf)
{
	return !(vf & (VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB |
		       VM_MIXEDMAP | VM_SYNC));
}

/* find_mergeable_vma: a VMA KSM may act in at addr. */
static struct vma *mergeable_vma(struct mm_struct *mm, uint64_t addr)
{
	struct vma *v = mm->dead ? NULL : vma_lookup(&mm->mt, addr);
	return v && (v->vm_flags & VM_MERGEABLE) && v->anon ? v : NULL;
}

/* The page KSM may scan at addr, with a reference: a present 4 KiB anonymous frame that
 * is not lazily freed, poisoned or part of a huge block. mm->lock held. */
static struct page *follow_anon(struct mm_struct *mm, uint64_t addr)
{
	struct page *pg = NULL;
	int level;
	pthread_mutex_lock(&mm->ptl);
	pte_t *ep = pgt_lookup(&mm->pgt, addr, &level);
	int thp = ep && mm_is_thp_pmd(mm, *ep, level);	/* a THP's 4 KiB piece (follow_page) */
	if (ep && (level == 1 || thp) && (*ep & PTE_P) && !(*ep & PTE_SPECIAL)) {
		uint64_t sub = thp ? (addr & (PMD_SIZE - 1)) >> PAGE_SHIFT : 0;
		struct page *p = pfn_to_page(mm->sys->ph, pte_pfn(*ep) + sub);
		if ((p->flags & PG_anon) && !(p->flags & (PG_lazyfree | PG_hwpoison | PG_offline |
							  PG_hugetlb | PG_head))) {
			page_get(p);
			pg = p;
		}
	}
	pthread_mutex_unlock(&mm->ptl);
	return pg;
}

/* write_protect_page: the PTE at addr must still map pg, and nothing but its mappings and
 * ksmd's own reference may hold pg (anything else could write it behind the write
 * protection). -EAGAIN or -EBUSY otherwise. mm->lock held for writing. */
static int wrprotect_locked(struct mm_struct *mm, uint64_t addr, struct page *pg, pte_t **epp)
{
	int level;
	pte_t *ep = pgt_lookup(&mm->pgt, addr, &level);
	if (ep && mm_is_thp_pmd(mm, *ep, level)) {
		/* try_to_merge_one_page: a THP is split before one of its pages merges. */
		if (mm_thp_split_pmd(mm, addr))
			return -EAGAIN;
		atomic_fetch_add(&mm->sys->thp.split_page, 1);
		ep = pgt_lookup(&mm->pgt, addr, &level);
	}
	if (!ep || level != 1 || !(*ep & PTE_P) || pte_pfn(*ep) != page_to_pfn(mm->sys->ph, pg))
		return -EAGAIN;
	if (atomic_load(&pg->refcount) != atomic_load(&pg->mapcount) + 1)
		return -EBUSY;
	if (*ep & PTE_RW) {
		pgt_set(&mm->pgt, ep, *ep & ~PTE_RW);
		mm_flush_tlb(mm);	/* no thread may keep writing through a cached entry */
	}
	*epp = ep;
	return 0;
}

/* replace_page: the PTE moves from pg to kp, read-only. Both are anonymous, so RSS and
 * nr_anon stay; pg loses this mapping and its reference. */
static void replace_locked(struct mm_struct *mm, pte_t *ep, struct page *pg, struct page *kp)
{
	struct phys *ph = mm->sys->ph;
	page_get(kp);
	atomic_fetch_add(&kp->mapcount, 1);
	pgt_set(&mm->pgt, ep, (*ep & ~(PTE_PFN_MASK | PTE_RW)) | pte_mk(page_to_pfn(ph, kp), 0));
	int old = atomic_fetch_sub(&pg->mapcount, 1);
	PM_ENFORCE(old > 0);
	mm_flush_tlb(mm);	/* before the put: the shootdown rule of mm.h */
	phys_put(ph, pg);
}

/* try_to_merge_with_ksm_page: maps the KSM frame kp at it's address in place of pg. */
static int merge_into(struct ksm_rmap_item *it, struct page *pg, struct page *kp)
{
	struct mm_struct *mm = item_mm(it);
	struct phys *ph = mm->sys->ph;
	int err = -EAGAIN;
	pte_t *ep = NULL;
	pthread_rwlock_wrlock(&mm->lock);
	if (mergeable_vma(mm, it->address)) {
		if (pg == kp)
			err = 0;
		else if (!(err = wrprotect_locked(mm, it->address, pg, &ep)) &&
			 memcmp(page_address(ph, pg), page_address(ph, kp), PAGE_SIZE))
			err = -EAGAIN;	/* changed before the write protection took */
		if (!err && pg != kp)
			replace_locked(mm, ep, pg, kp);
	}
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

struct owner_save { uint8_t kind; void *owner; uint64_t index; };

/* Step one of try_to_merge_two_pages: pg becomes a KSM frame in place, owned by sn. */
static int make_ksm(struct ksm_rmap_item *it, struct page *pg, struct ksm_stable_node *sn,
		    struct owner_save *save)
{
	struct mm_struct *mm = item_mm(it);
	pte_t *ep;
	int err = -EAGAIN;
	pthread_rwlock_wrlock(&mm->lock);
	if (mergeable_vma(mm, it->address) && !(err = wrprotect_locked(mm, it->address, pg, &ep))) {
		*save = (struct owner_save){ pg->owner_kind, pg->owner, pg->index };
		pg->flags |= PG_ksm;
		pg->owner_kind = OWNER_KSM;
		pg->owner = sn;
		pg->index = 0;
	}
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

static void unmake_ksm(struct ksm_rmap_item *it, struct page *pg, const struct owner_save *save)
{
	struct mm_struct *mm = item_mm(it);
	pthread_rwlock_wrlock(&mm->lock);
	pg->flags &= ~PG_ksm;
	pg->owner_kind = save->kind;
	pg->owner = save->owner;
	pg->index = save->index;
	pthread_rwlock_unlock(&mm->lock);
}

/* Step two: the tree item's mapping moves to the new KSM frame pg, if its page (still
 * an ordinary anonymous one) holds the same bytes once write-protected. */
static int merge_tree_page(struct ksm_rmap_item *tit, struct page *pg)
{
	struct mm_struct *mm = item_mm(tit);
	struct phys *ph = mm->sys->ph;
	int err = -EAGAIN;
	pte_t *ep;
	pthread_rwlock_wrlock(&mm->lock);
	struct page *tp = mergeable_vma(mm, tit->address) ? follow_anon(mm, tit->address) : NULL;
	if (tp) {
		if (tp != pg && !(tp->flags & PG_ksm) &&
		    !wrprotect_locked(mm, tit->address, tp, &ep) &&
		    !memcmp(page_address(ph, tp), page_address(ph, pg), PAGE_SIZE)) {
			replace_locked(mm, ep, tp, pg);
			err = 0;
		}
		phys_put(ph, tp);
	}
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

/* try_to_merge_two_pages + stable_tree_insert: it's page pg and the unstable tree item
 * tit become one KSM frame (pg) in the stable tree. The node is allocated first, so
 * nothing changes when memory is short; a failed second step undoes the first (the PTE
 * stays read-only, and the next write reuses the still exclusive frame). */
static void merge_two(struct ksm *k, struct ksm_rmap_item *it, struct page *pg,
		      struct ksm_rmap_item *tit)
{
	struct ksm_stable_node *sn = ksm_stable_alloc(k);
	struct owner_save save = { 0 };
	if (!sn)
		return;
	if (make_ksm(it, pg, sn, &save)) {
		ksm_stable_free(k, sn);
		return;
	}
	if (merge_tree_page(tit, pg)) {
		unmake_ksm(it, pg, &save);
		ksm_stable_free(k, sn);
		return;
	}
	ksm_item_untree(k, tit);
	ksm_stable_insert(k, sn, pg);
	ksm_stable_append(k, tit, sn);
	ksm_stable_append(k, it, sn);
}

/* cmp_and_merge_page: the stable tree first, then the volatility filter, then the
 * unstable tree. */
static void cmp_and_merge(struct ksm *k, struct page *pg, struct ksm_rmap_item *it)
{
	struct ksm_stable_node *sn = ksm_page_node(pg);
	if (sn && it->state == KSM_ITEM_STABLE && it->head == sn)
		return;		/* merged here already */
	ksm_item_untree(k, it);
	if (sn) {
		/* Already a KSM frame (shared by fork, or merged through another mapping):
		 * stable_tree_search returns the page itself, and the item joins it. */
		if (!merge_into(it, pg, pg))
			ksm_stable_append(k, it, sn);
		return;
	}
	const void *data = page_address(k->ph, pg);
	struct page *kp;
	sn = ksm_stable_search(k, data, &kp);
	if (sn) {
		if (!merge_into(it, pg, kp))
			ksm_stable_append(k, it, sn);
		phys_put(k->ph, kp);
		return;
	}
	/* A page whose checksum changed since the last visit is volatile: not inserted. */
	uint32_t cs = ksm_checksum(data);
	if (it->oldchecksum != cs) {
		it->oldchecksum = cs;
		return;
	}
	struct ksm_rmap_item *tit = ksm_unstable_search_insert(k, it, page_to_pfn(k->ph, pg));
	if (tit)
		merge_two(k, it, pg, tit);
}

/* scan_get_next_rmap_item: the next mergeable anonymous page after the cursor, with a
 * reference in *pgp and its rmap item; NULL at the end of a full scan, with no
 * registered space, or when an item cannot be allocated. */
static struct ksm_rmap_item *scan_next(struct ksm *k, struct page **pgp)
{
	for (struct ksm_mm_slot *s = ksm_cursor_slot(k); s; s = k->scan.slot) {
		struct mm_struct *mm = slot_mm(s);
		struct ksm_rmap_item *it = NULL;
		int stop = 0;
		pthread_rwlock_rdlock(&mm->lock);
		struct vma *v = mm->dead ? NULL : vma_find(&mm->mt, k->scan.address);
		for (; v && !it && !stop; v = vma_next(&mm->mt, v)) {
			if (!(v->vm_flags & VM_MERGEABLE) || !v->anon)
				continue;
			uint64_t a = max_u64(k->scan.address, v->vm_start);
			for (; a < v->vm_end; a += PAGE_SIZE) {
				struct page *pg = follow_anon(mm, a);
				if (!pg)
					continue;
				it = ksm_item_at_cursor(k, a);
				if (!it) {
					phys_put(k->ph, pg);
					stop = 1;
					break;
				}
				*pgp = pg;
				a += PAGE_SIZE;
				break;
			}
			k->scan.address = a;
		}
		pthread_rwlock_unlock(&mm->lock);
		if (it || stop)
			return it;
		if (!ksm_cursor_advance(k))
			return NULL;
	}
	return NULL;
}

void mm_ksm_do_scan(struct ksm *k, uint64_t npages)
{
	pthread_mutex_lock(&k->lock);
	for (; npages; npages--) {
		struct page *pg = NULL;
		struct ksm_rmap_item *it = scan_next(k, &pg);
		if (!it)
			break;
		cmp_and_merge(k, pg, it);
		phys_put(k->ph, pg);
		k->pages_scanned++;
	}
	PM_ASSERT(ksm_check(k) == 0);
	pthread_mutex_unlock(&k->lock);
}

/* ---- unmerging ---- */

struct unshare_ctx { struct mm_struct *mm; struct vma *v; int err; };

/* break_ksm with FAULT_FLAG_UNSHARE: a private copy, mapped read-only and clean, so a
 * later write reuses it without another copy. */
static int unshare_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct unshare_ctx *c = ctx;
	struct mm_struct *mm = c->mm;
	struct phys *ph = mm->sys->ph;
	pte_t e = *ep;
	if (level != 1 || !(e & (PTE_P | PTE_PROTNONE)) || (e & PTE_SPECIAL))
		return 0;
	struct page *old = pfn_to_page(ph, pte_pfn(e));
	if (!(old->flags & PG_ksm))
		return 0;
	struct page *np = mm_anon_page_copy(mm, c->v, va, page_address(ph, old));
	if (!np) {
		c->err = -ENOMEM;
		return 1;
	}
	atomic_fetch_add(&np->mapcount, 1);
	atomic_fetch_add(&mm->rss[MM_ANONPAGES], 1);
	pgt_set(&mm->pgt, ep, (e & ~(PTE_PFN_MASK | PTE_RW | PTE_D)) | pte_mk(page_to_pfn(ph, np), 0));
	mm_unmap_page(mm, old);
	return 0;
}

/* unmerge_ksm_pages over [start, end) of v. mm->lock held for writing. */
static int unmerge_range(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	struct unshare_ctx c = { mm, v, 0 };
	pgt_walk_range(&mm->pgt, start, end, unshare_one, &c);
	mm_flush_tlb(mm);
	return c.err;
}

int mm_ksm_madvise(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
		   long advice, uint64_t *flags)
{
	if (advice == MADV_MERGEABLE) {
		if ((*flags & VM_MERGEABLE) || !ksm_compatible(*flags))
			return 0;	/* already, or just ignore the advice */
		ksm_slot_link(&mm->sys->ksm, &mm->ksm_slot);
		*flags |= VM_MERGEABLE;
		return 0;
	}
	if (!(*flags & VM_MERGEABLE))
		return 0;
	if (v->anon) {
		int err = unmerge_range(mm, v, start, end);
		if (err)
			return err;
	}
	*flags &= ~VM_MERGEABLE;
	return 0;
}

uint64_t mm_ksm_vma_flags(struct mm_struct *mm, uint64_t vf)
{
	if (mm->ksm_merge_any && ksm_compatible(vf))
		vf |= VM_MERGEABLE;
	return vf;
}

int mm_ksm_set_merge_any(struct mm_struct *mm, int on)
{
	int err = 0;
	pthread_rwlock_wrlock(&mm->lock);
	if (on && !mm->ksm_merge_any) {
		/* ksm_enable_merge_any: every eligible VMA now, later ones at mmap. */
		ksm_slot_link(&mm->sys->ksm, &mm->ksm_slot);
		mm->ksm_merge_any = 1;
		for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
			if (!(v->vm_flags & VM_MERGEABLE) && ksm_compatible(v->vm_flags))
				mm_set_vma_flags(mm, v, v->vm_flags | VM_MERGEABLE);
	} else if (!on && mm->ksm_merge_any) {
		/* ksm_disable_merge_any: unmerge and unmark every VMA; a failure re-marks. */
		for (struct vma *v = vma_first(&mm->mt); v && !err; v = vma_next(&mm->mt, v)) {
			if (!(v->vm_flags & VM_MERGEABLE))
				continue;
			if (v->anon)
				err = unmerge_range(mm, v, v->vm_start, v->vm_end);
			if (!err)
				mm_set_vma_flags(mm, v, v->vm_flags & ~VM_MERGEABLE);
		}
		if (err) {
			for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
				if (ksm_compatible(v->vm_flags))
					mm_set_vma_flags(mm, v, v->vm_flags | VM_MERGEABLE);
		} else {
			mm->ksm_merge_any = 0;
		}
	}
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

int mm_ksm_merge_any(struct mm_struct *mm)
{
	pthread_rwlock_rdlock(&mm->lock);
	int on = mm->ksm_merge_any;
	pthread_rwlock_unlock(&mm->lock);
	return on;
}

void mm_ksm_fork(struct mm_struct *dst, struct mm_struct *src)
{
	dst->ksm_merge_any = src->ksm_merge_any;
	if (src->ksm_slot.linked)
		ksm_slot_link(&dst->sys->ksm, &dst->ksm_slot);
}

void mm_ksm_exit(struct mm_struct *mm)
{
	struct ksm *k = &mm->sys->ksm;
	if (!mm->ksm_slot.linked)
		return;
	pthread_mutex_lock(&k->lock);
	ksm_slot_clear(k, &mm->ksm_slot, 1);
	pthread_mutex_unlock(&k->lock);
}

int mm_ksm_unmerge_all(struct ksm *k)
{
	int err = 0;
	pthread_mutex_lock(&k->lock);
	for (struct ksm_mm_slot *s = ksm_slot_next(k, NULL); s; s = ksm_slot_next(k, s)) {
		struct mm_struct *mm = slot_mm(s);
		pthread_rwlock_wrlock(&mm->lock);
		for (struct vma *v = mm->dead ? NULL : vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
			if ((v->vm_flags & VM_MERGEABLE) && v->anon && !err)
				err = unmerge_range(mm, v, v->vm_start, v->vm_end);
		pthread_rwlock_unlock(&mm->lock);
		ksm_slot_clear(k, s, 0);	/* the slot stays: its VMAs stay mergeable */
	}
	ksm_prune_stable(k);	/* remove_all_stable_nodes: busy ones stay */
	ksm_cursor_reset(k);
	PM_ASSERT(ksm_check(k) == 0);
	pthread_mutex_unlock(&k->lock);
	return err;
}

void mm_ksm_stat(struct mm_struct *mm, struct ksm_mm_stat *st)
{
	struct ksm *k = &mm->sys->ksm;
	pthread_mutex_lock(&k->lock);
	st->rmap_items = mm->ksm_slot.linked ? mm->ksm_slot.nr_items : 0;
	st->merging_pages = mm->ksm_slot.linked ? mm->ksm_slot.merging_pages : 0;
	pthread_mutex_unlock(&k->lock);
	pthread_rwlock_rdlock(&mm->lock);
	st->merge_any = mm->ksm_merge_any;
	st->mergeable = st->merge_any;
	for (struct vma *v = vma_first(&mm->mt); v && !st->mergeable; v = vma_next(&mm->mt, v))
		st->mergeable = (v->vm_flags & VM_MERGEABLE) != 0;
	pthread_rwlock_unlock(&mm->lock);
}
