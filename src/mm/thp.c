/*
 * Transparent huge pages for private anonymous memory (SPEC §6; Linux's mm/huge_memory.c):
 * which VMAs may hold them (thp_vma_allowable_order), the huge fault (one 2 MiB frame
 * run behind a PS entry; a read maps the huge zero page, a later write replaces it with a
 * THP), the fault on an existing huge PMD (reuse or split, then COW of 4 KiB as Linux 6.x
 * does), and the PMD split every partial operation calls first.
 *
 * A huge page here is an order-9 buddy block split into 512 ordinary frames at birth
 * (phys_split_block): each frame keeps its own refcount and mapcount, and a PMD entry
 * holds one of each on all 512, so a split only rewrites entries and the frames, the
 * LRU and the checkers need nothing new. The first frame's thp_maps counts the PMDs
 * mapping the run (AnonHugePages counts runs with at least one). This file must never
 * leave a PMD straddling a VMA boundary, and never drop data when it splits.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <string.h>

#include "lib/pm_assert.h"
#include "mm/swap_mm.h"
#include "reclaim/lru.h"

/* vma_thp_disabled: VM_NOHUGEPAGE, or PR_SET_THP_DISABLE (the EXCEPT_ADVISED form spares
 * VM_HUGEPAGE VMAs and a forced collapse). */
static int thp_disabled(const struct mm_struct *mm, const struct vma *v, int forced)
{
	if (v->vm_flags & VM_NOHUGEPAGE)
		return 1;
	if (mm->thp_disable == THP_DISABLE_COMPLETELY)
		return 1;
	if (v->vm_flags & VM_HUGEPAGE)
		return 0;
	return !forced && mm->thp_disable == THP_DISABLE_EXCEPT_ADVISED;
}

/* vma_is_anonymous for peimm: private memory with no object behind it. */
static int thp_anon_vma(const struct vma *v)
{
	/* peimm keeps MAP_DROPPABLE memory in 4 KiB pages, so reclaim can discard each. */
	return !v->vm_obj && !(v->vm_flags & (VM_SHARED | VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP |
					       VM_DROPPABLE));
}

/* thp_vma_allowable_order for PMD_ORDER, without the size check. `forced` is
 * TVA_FORCED_COLLAPSE (MADV_COLLAPSE), which ignores the sysfs mode. */
int mm_thp_vma_allowed(struct mm_struct *mm, const struct vma *v, int forced)
{
	if (!thp_anon_vma(v) || thp_disabled(mm, v, forced))
		return 0;
	if (forced)
		return 1;
	int mode = atomic_load(&mm->sys->thp.enabled);
	return mode == THP_ALWAYS || (mode == THP_MADVISE && (v->vm_flags & VM_HUGEPAGE));
}

/* thp_vma_suitable_order: does the 2 MiB block around addr lie wholly inside v? */
static int thp_suitable(const struct vma *v, uint64_t addr)
{
	uint64_t base = addr & ~(PMD_SIZE - 1);
	return base >= v->vm_start && base + PMD_SIZE <= v->vm_end;
}

int mm_thp_eligible(struct mm_struct *mm, const struct vma *v)
{
	/* smaps: the size check with the last possible block of the VMA. */
	return v->vm_end - v->vm_start >= PMD_SIZE && mm_thp_vma_allowed(mm, v, 0) &&
	       thp_suitable(v, v->vm_end - PMD_SIZE);
}

int mm_is_thp_pmd(struct mm_struct *mm, pte_t e, int level)
{
	if (level != 2 || !(e & PTE_PS) || !(e & (PTE_P | PTE_PROTNONE)) || (e & PTE_SPECIAL))
		return 0;
	return !(pfn_to_page(mm->sys->ph, pte_pfn(e))->flags & PG_hugetlb);
}

int mm_is_huge_zero_pmd(struct mm_struct *mm, pte_t e, int level)
{
	struct page *hz = atomic_load(&mm->sys->thp.huge_zero);
	return level == 2 && hz && (e & PTE_PS) && (e & PTE_SPECIAL) &&
	       (e & (PTE_P | PTE_PROTNONE)) && pte_pfn(e) == page_to_pfn(mm->sys->ph, hz);
}

/* mm_get_huge_zero_folio: the huge zero page, made on first use (thp_zero_page_alloc), or
 * NULL when no order-9 block is free (thp_zero_page_alloc_failed). */
static struct page *huge_zero_get(struct mm_sys *ms)
{
	struct page *hz = atomic_load(&ms->thp.huge_zero);
	if (hz)
		return hz;
	struct page *pg = phys_alloc(ms->ph, HPAGE_PMD_ORDER, PHYS_ZERO);
	if (!pg) {
		atomic_fetch_add(&ms->thp.zero_page_alloc_failed, 1);
		return NULL;
	}
	phys_split_block(ms->ph, pg);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		pg[i].flags |= PG_zero_page;
		pg[i].owner_kind = OWNER_KERNEL;
	}
	struct page *none = NULL;
	if (!atomic_compare_exchange_strong(&ms->thp.huge_zero, &none, pg)) {
		for (unsigned i = 0; i < HPAGE_PMD_NR; i++)	/* another fault made it first */
			phys_put(ms->ph, &pg[i]);
		return none;
	}
	atomic_fetch_add(&ms->thp.zero_page_alloc, 1);
	return pg;
}

void mm_thp_release(struct mm_sys *ms)
{
	struct page *hz = atomic_exchange(&ms->thp.huge_zero, NULL);
	for (unsigned i = 0; hz && i < HPAGE_PMD_NR; i++)
		phys_put(ms->ph, &hz[i]);
}

int mm_thp_exclusive(struct mm_struct *mm, pte_t e)
{
	struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(e));
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		if (!mm_page_exclusive(&pg[i]))
			return 0;
	return 1;
}

/* vma_thp_gfp_mask's reclaim decision: may the fault reclaim for a huge page? */
static int thp_may_reclaim(struct mm_struct *mm, const struct vma *v)
{
	int advised = (v->vm_flags & VM_HUGEPAGE) != 0;
	switch (atomic_load(&mm->sys->thp.defrag)) {
	case THP_DEFRAG_ALWAYS: return 1;
	case THP_DEFRAG_DEFER_MADVISE: case THP_DEFRAG_MADVISE: return advised;
	default: return 0;	/* defer (kswapd's job) and never: no direct reclaim */
	}
}

struct page *mm_thp_alloc(struct mm_struct *mm, const struct vma *v, int reclaim)
{
	struct phys *ph = mm->sys->ph;
	struct page *pg = phys_alloc(ph, HPAGE_PMD_ORDER, PHYS_ZERO);
	/* __alloc_pages_direct_reclaim for an order-9 request: one pass over the LRU lists
	 * (this mm's lock is held for reading, its ptl is not), then one more try. peimm
	 * has no compaction, so only frames freed next to each other help. */
	if (!pg && (reclaim == 2 || (reclaim == 1 && thp_may_reclaim(mm, v))) &&
	    mm_shrink_lru(mm->sys, HPAGE_PMD_NR, mm, RECLAIM_DIRECT))
		pg = phys_alloc(ph, HPAGE_PMD_ORDER, PHYS_ZERO);
	if (pg)
		phys_split_block(ph, pg);
	return pg;
}

void mm_thp_free(struct mm_struct *mm, struct page *pg)
{
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		phys_put(mm->sys->ph, &pg[i]);
}

pte_t mm_thp_install(struct mm_struct *mm, struct vma *v, uint64_t base, pte_t *ep,
		     struct page *pg, pte_t bits)
{
	uint64_t index = v->vm_pgoff + ((base - v->vm_start) >> PAGE_SHIFT);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		struct page *p = &pg[i];
		p->flags |= PG_anon;
		p->owner_kind = OWNER_ANON;
		p->owner = v->anon;
		p->index = index + i;
		atomic_store(&p->mapcount, 1);
		if (mm->sys->lru)
			lru_add(mm->sys->lru, p, (v->vm_flags & VM_LOCKED) ? LRU_UNEVICTABLE
									: LRU_INACTIVE_ANON);
	}
	pg->thp_maps = 1;
	atomic_fetch_add(&mm->sys->thp.nr_anon_thps, 1);
	atomic_fetch_add(&mm->sys->nr_anon, HPAGE_PMD_NR);
	atomic_fetch_add(&mm->rss[MM_ANONPAGES], HPAGE_PMD_NR);
	pte_t e = pte_mk(page_to_pfn(mm->sys->ph, pg), bits | PTE_PS);
	if (ep)
		pgt_set(&mm->pgt, ep, e);
	return e;
}

void mm_thp_pmd_get(struct mm_struct *mm, struct page *pg)
{
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		page_get(&pg[i]);
		atomic_fetch_add(&pg[i].mapcount, 1);
	}
	__atomic_fetch_add(&pg->thp_maps, 1, __ATOMIC_RELAXED);
	atomic_fetch_add(&mm->sys->nr_anon, HPAGE_PMD_NR);
	atomic_fetch_add(&mm->rss[MM_ANONPAGES], HPAGE_PMD_NR);
}

/* A THP or huge zero PMD: what mm_thp_split_pmd splits. */
static int level_is_huge_anon(struct mm_struct *mm, pte_t e, int level)
{
	return mm_is_thp_pmd(mm, e, level) || mm_is_huge_zero_pmd(mm, e, level);
}

/* One PMD mapping of the run is gone (zap or split). */
static void thp_maps_drop(struct mm_struct *mm, struct page *pg)
{
	uint16_t old = __atomic_fetch_sub(&pg->thp_maps, 1, __ATOMIC_RELAXED);
	PM_ENFORCE(old > 0);
	if (old == 1)
		atomic_fetch_sub(&mm->sys->thp.nr_anon_thps, 1);
}

void mm_thp_pmd_unmap_counts(struct mm_struct *mm, struct page *pg)
{
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		int old = atomic_fetch_sub(&pg[i].mapcount, 1);
		PM_ENFORCE(old > 0);
	}
	thp_maps_drop(mm, pg);
	atomic_fetch_sub(&mm->sys->nr_anon, HPAGE_PMD_NR);
	atomic_fetch_sub(&mm->rss[MM_ANONPAGES], HPAGE_PMD_NR);
}

int mm_thp_split_pmd(struct mm_struct *mm, uint64_t addr)
{
	int level;
	pte_t *ep = pgt_lookup(&mm->pgt, addr, &level);
	if (!ep || !level_is_huge_anon(mm, *ep, level))
		return 0;
	int zero = mm_is_huge_zero_pmd(mm, *ep, level);
	struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(*ep));
	/* __split_huge_pmd_locked: the 512 PTEs keep every bit (PS becomes PAT's place, so
	 * it goes), the frames their counts; the mapping only changes its granularity. The
	 * table is the one deposited with the PMD, so this does not fail in practice. */
	if (pgt_split_huge(&mm->pgt, addr))
		return -ENOMEM;
	if (zero) {
		/* __split_huge_zero_page_pmd: 512 PTEs of the ordinary zero page. */
		pte_t *pt = pgt_lookup(&mm->pgt, addr & ~(PMD_SIZE - 1), &level);
		pte_t zpfn = page_to_pfn(mm->sys->ph, mm->sys->zero_page);
		for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
			pt[i] = (pt[i] & ~PTE_PFN_MASK) | (zpfn << PAGE_SHIFT);
		mm_flush_tlb(mm);	/* a cached translation may name a huge zero frame */
	} else {
		thp_maps_drop(mm, pg);
	}
	atomic_fetch_add(&mm->sys->thp.split_pmd, 1);
	return 0;
}

int mm_thp_split_range(struct mm_struct *mm, uint64_t start, uint64_t end, int how)
{
	if (start >= end)
		return 0;
	if (how == THP_SPLIT_EDGES) {
		int r = 0;
		if (start & (PMD_SIZE - 1))
			r = mm_thp_split_pmd(mm, start);
		if (!r && (end & (PMD_SIZE - 1)))
			r = mm_thp_split_pmd(mm, end - 1);
		return r;
	}
	for (uint64_t a = start & ~(PMD_SIZE - 1); a < end; a += PMD_SIZE) {
		int level;
		pte_t *ep = how == THP_SPLIT_ANON ? pgt_lookup(&mm->pgt, a, &level) : NULL;
		if (ep && mm_is_huge_zero_pmd(mm, *ep, level))
			continue;
		int r = mm_thp_split_pmd(mm, a);
		if (r)
			return r;
	}
	return 0;
}

/* The huge fault on an empty PMD (do_huge_pmd_anonymous_page). Returns 1 when it decided
 * the fault (*r set), 0 to fall back to 4 KiB pages. mm->lock held for reading, ptl not. */
static int thp_fault_new(struct mm_struct *mm, struct vma *v, uint64_t addr, int write,
			 enum fault_ret *r)
{
	struct page *pg = mm_thp_alloc(mm, v, 1);
	if (!pg) {
		atomic_fetch_add(&mm->sys->thp.fault_fallback, 1);
		return 0;
	}
	uint64_t base = addr & ~(PMD_SIZE - 1);
	pthread_mutex_lock(&mm->ptl);
	pte_t *ep;
	int decided = 0;
	if (!mm_anon_prepare(mm, v)) {
		*r = FAULT_OOM;
		decided = 1;
	} else if (!pgt_alloc_entry(&mm->pgt, base, 2, &ep) && pte_none(*ep) &&
		   !pgt_deposit(&mm->pgt)) {	/* the table a later split will use */
		/* Dirty always, writable in a writable VMA (a read with no zero page gets
		 * here too: map_anon_folio_pmd's maybe_pmd_mkwrite). */
		int rw = write || (v->vm_flags & VM_WRITE);
		pte_t bits = mm_vma_pte_bits(v) | PTE_A | PTE_D | PTE_SOFTDIRTY | (rw ? PTE_RW : 0);
		mm_thp_install(mm, v, base, ep, pg, bits);
		mm_acct_touch(mm, v, HPAGE_PMD_NR);	/* mode 0: all 512 pages charged now */
		atomic_fetch_add(&mm->sys->thp.fault_alloc, 1);
		*r = FAULT_OK;
		pg = NULL;
		decided = 1;
	}	/* else a racing fault got here first, or no table: the small path decides */
	pthread_mutex_unlock(&mm->ptl);
	if (pg)
		mm_thp_free(mm, pg);
	return decided;
}

/* A fault on a present huge PMD, ptl held (huge_pmd_set_accessed, do_huge_pmd_wp_page). */
static int thp_fault_pmd(struct mm_struct *mm, pte_t *ep, int write, enum fault_ret *r)
{
	pte_t e = *ep;
	if (!(e & PTE_P)) {
		*r = FAULT_SEGV_ACCERR;	/* PROT_NONE under an accessible VMA cannot happen */
		return 1;
	}
	if (!write || (e & PTE_RW)) {
		*ep = e | PTE_A | (write ? PTE_D | PTE_SOFTDIRTY : 0);
		*r = FAULT_OK;
		return 1;
	}
	if (mm_thp_exclusive(mm, e)) {
		*ep = e | PTE_RW | PTE_D | PTE_A | PTE_SOFTDIRTY;	/* reuse the whole page */
		*r = FAULT_OK;
		return 1;
	}
	/* Shared with a fork: Linux 6.x splits the PMD and copies only the 4 KiB written. */
	return 0;
}

/* A write to the huge zero page (do_huge_zero_wp_pmd, Linux 6.13+): a THP replaces it;
 * without an order-9 block the PMD splits into zero PTEs and the 4 KiB path copies. */
static int thp_zero_wp(struct mm_struct *mm, struct vma *v, uint64_t addr, enum fault_ret *r)
{
	struct page *pg = mm_thp_alloc(mm, v, 1);
	pthread_mutex_lock(&mm->ptl);
	int level, done = 1;
	pte_t *ep = pgt_lookup(&mm->pgt, addr, &level);
	*r = FAULT_OK;
	if (!ep || !mm_is_huge_zero_pmd(mm, *ep, level)) {
		/* Changed meanwhile: the access walks again. */
	} else if (!pg) {
		atomic_fetch_add(&mm->sys->thp.fault_fallback, 1);
		done = 0;
		if (mm_thp_split_pmd(mm, addr)) {
			*r = FAULT_OOM;
			done = 1;
		}
	} else if (!mm_anon_prepare(mm, v)) {
		*r = FAULT_OOM;
	} else {
		pte_t bits = mm_vma_pte_bits(v) | PTE_A | PTE_RW | PTE_D | PTE_SOFTDIRTY;
		mm_thp_install(mm, v, addr & ~(PMD_SIZE - 1), ep, pg, bits);
		mm_acct_touch(mm, v, HPAGE_PMD_NR);	/* the zero page's 512 became its own */
		mm_flush_tlb(mm);	/* cached reads of the zero frames must walk again */
		atomic_fetch_add(&mm->sys->thp.fault_alloc, 1);
		pg = NULL;
	}
	pthread_mutex_unlock(&mm->ptl);
	if (pg)
		mm_thp_free(mm, pg);
	return done;
}

/* A fault where a huge PMD is (or was a moment ago). */
static int thp_fault_huge(struct mm_struct *mm, struct vma *v, uint64_t addr, int write,
			  enum fault_ret *r)
{
	pthread_mutex_lock(&mm->ptl);
	int level, done = 0;
	pte_t *ep = pgt_lookup(&mm->pgt, addr, &level);
	if (ep && mm_is_thp_pmd(mm, *ep, level)) {
		/* A frame another mapping poisoned: split, and the 4 KiB path turns its PTE
		 * into a hwpoison marker. Else the huge fault proper. */
		done = mm_pte_poisoned_at(mm, *ep, level, addr) ? 0 :
		       thp_fault_pmd(mm, ep, write, r);
		if (!done && mm_thp_split_pmd(mm, addr)) {
			*r = FAULT_OOM;
			done = 1;
		}
	} else if (ep && mm_is_huge_zero_pmd(mm, *ep, level)) {
		if (write) {
			pthread_mutex_unlock(&mm->ptl);
			return thp_zero_wp(mm, v, addr, r);
		}
		*ep |= PTE_A;
		*r = FAULT_OK;
		done = 1;
	}
	pthread_mutex_unlock(&mm->ptl);
	return done;
}

/* A read fault on an empty PMD maps the huge zero page (use_zero_page), deposit and all. */
static int thp_fault_zero(struct mm_struct *mm, struct vma *v, uint64_t addr, enum fault_ret *r)
{
	struct page *hz = huge_zero_get(mm->sys);
	if (!hz) {
		atomic_fetch_add(&mm->sys->thp.fault_fallback, 1);
		return 0;
	}
	uint64_t base = addr & ~(PMD_SIZE - 1);
	pthread_mutex_lock(&mm->ptl);
	pte_t *ep;
	int done = 0;
	if (!mm_anon_prepare(mm, v)) {
		*r = FAULT_OOM;	/* vmf_anon_prepare comes first, for reads too */
		done = 1;
	} else if (!pgt_alloc_entry(&mm->pgt, base, 2, &ep) && pte_none(*ep) &&
		   !pgt_deposit(&mm->pgt)) {
		pte_t bits = mm_vma_pte_bits(v) | PTE_A | PTE_PS | PTE_SPECIAL;
		pgt_set(&mm->pgt, ep, pte_mk(page_to_pfn(mm->sys->ph, hz), bits));
		*r = FAULT_OK;
		done = 1;
	}
	pthread_mutex_unlock(&mm->ptl);
	return done;
}

int mm_thp_fault(struct mm_struct *mm, struct vma *v, uint64_t addr, int write,
		 enum fault_ret *r)
{
	if (!thp_anon_vma(v))
		return 0;
	int level;
	pte_t *ep = pgt_lookup(&mm->pgt, addr, &level);
	if (ep && level == 2)
		return thp_fault_huge(mm, v, addr, write, r);
	if (ep || !thp_suitable(v, addr) || !mm_thp_vma_allowed(mm, v, 0))
		return 0;
	/* do_huge_pmd_anonymous_page: the huge zero page unless mm_forbids_zeropage. */
	if (write || !mm_use_zero_page(mm))
		return thp_fault_new(mm, v, addr, write, r);
	return thp_fault_zero(mm, v, addr, r);
}
