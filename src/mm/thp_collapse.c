/*
 * Collapsing 512 small pages into one THP (Linux's mm/khugepaged.c): khugepaged's scan,
 * one bounded pass per call from the daemon step in sys, and MADV_COLLAPSE, which does the
 * same synchronously with the limits lifted. A block collapses when its PTE table passes
 * the checks of hpage_collapse_scan_pmd (max_ptes_none/swap/shared, anonymous pages with
 * no extra references, one young page for khugepaged); the data is copied into a fresh
 * run (swapped pages read from their slot), the old PTEs and frames go, and the table is
 * replaced by the PS entry. It runs with mm->lock held for writing, and it never changes
 * a block it cannot finish: everything that can fail comes before the first PTE cleared.
 */
#include "mm/mm_internal.h"
#include "mm/swap_mm.h"

#include <errno.h>
#include <string.h>

#include "lib/pm_assert.h"

/* hpage_collapse_scan_pmd's results, the ones peimm can reach. */
enum scan_result {
	SCAN_SUCCEED, SCAN_PMD_NULL, SCAN_PMD_MAPPED, SCAN_EXCEED_NONE_PTE,
	SCAN_EXCEED_SWAP_PTE, SCAN_EXCEED_SHARED_PTE, SCAN_PTE_NON_PRESENT, SCAN_PAGE_ANON,
	SCAN_PAGE_COUNT, SCAN_LACK_REFERENCED_PAGE, SCAN_ALLOC_HUGE_PAGE_FAIL, SCAN_FAIL,
};

struct collapse {
	struct mm_struct *mm;
	struct vma *v;
	uint64_t base;
	int forced;			/* MADV_COLLAPSE: no none/swap/shared limits */
};

/* Checks the 512 PTEs of the block (hpage_collapse_scan_pmd). */
static enum scan_result scan_block(struct collapse *c, pte_t *pt)
{
	struct mm_struct *mm = c->mm;
	uint64_t zpfn = page_to_pfn(mm->sys->ph, mm->sys->zero_page);
	unsigned none = 0, swap = 0, shared = 0, young = 0;
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		pte_t e = pt[i];
		if (!e || ((e & PTE_SPECIAL) && pte_pfn(e) == zpfn)) {
			if (++none > THP_MAX_PTES_NONE && !c->forced) {
				atomic_fetch_add(&mm->sys->thp.scan_exceed_none, 1);
				return SCAN_EXCEED_NONE_PTE;
			}
			continue;
		}
		if (pte_is_swap(e)) {
			if (++swap > THP_MAX_PTES_SWAP && !c->forced) {
				atomic_fetch_add(&mm->sys->thp.scan_exceed_swap, 1);
				return SCAN_EXCEED_SWAP_PTE;
			}
			continue;
		}
		if (!(e & (PTE_P | PTE_PROTNONE)) || (e & PTE_SPECIAL))
			return SCAN_PTE_NON_PRESENT;	/* a guard or hwpoison marker */
		struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(e));
		if (!(pg->flags & PG_anon) || (pg->flags & (PG_ksm | PG_hwpoison)))
			return SCAN_PAGE_ANON;
		int map = atomic_load(&pg->mapcount);
		if (map > 1 && ++shared > THP_MAX_PTES_SHARED && !c->forced) {
			atomic_fetch_add(&mm->sys->thp.scan_exceed_shared, 1);
			return SCAN_EXCEED_SHARED_PTE;
		}
		/* is_refcount_suitable: the PTEs, plus the swap cache's hold when the frame
		 * records a slot; anything more is a pin. */
		if (atomic_load(&pg->refcount) != map + (atomic_load(&pg->swap_slot) != 0))
			return SCAN_PAGE_COUNT;
		young += (e & PTE_A) != 0;
	}
	/* khugepaged collapses only memory in use; MADV_COLLAPSE does not ask. */
	if (!c->forced && !young)
		return SCAN_LACK_REFERENCED_PAGE;
	return SCAN_SUCCEED;
}

/* The new PMD's bits: the VMA's protection, as mk_huge_pmd(vma->vm_page_prot) gives. */
static pte_t collapse_bits(const struct vma *v)
{
	pte_t bits = PTE_A | PTE_D | PTE_SOFTDIRTY;
	if (!(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		return bits | PTE_PROTNONE | ((pte_t)v->pkey << PTE_PKEY_SHIFT);
	return bits | mm_vma_pte_bits(v) | ((v->vm_flags & VM_WRITE) ? PTE_RW : 0);
}

/* collapse_huge_page: copy, clear the PTEs, install the PMD. */
static enum scan_result collapse_block(struct collapse *c, pte_t *pt)
{
	struct mm_struct *mm = c->mm;
	struct phys *ph = mm->sys->ph;
	if (!mm_anon_prepare(mm, c->v))
		return SCAN_ALLOC_HUGE_PAGE_FAIL;
	struct page *hp = mm_thp_alloc(mm, c->v, 2);	/* khugepaged/defrag 1, GFP_TRANSHUGE */
	if (!hp) {
		atomic_fetch_add(&mm->sys->thp.collapse_alloc_failed, 1);
		return SCAN_ALLOC_HUGE_PAGE_FAIL;
	}
	atomic_fetch_add(&mm->sys->thp.collapse_alloc, 1);
	uint8_t *dst = page_address(ph, hp);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		pte_t e = pt[i];
		uint8_t *d = dst + ((uint64_t)i << PAGE_SHIFT);
		if (pte_is_swap(e)) {
			if (mm_swap_peek(mm, e, d)) {	/* __collapse_huge_page_swapin failed */
				mm_thp_free(mm, hp);
				return SCAN_FAIL;
			}
		} else if (e && !(e & PTE_SPECIAL)) {
			memcpy(d, pfn_to_virt(ph, pte_pfn(e)), PAGE_SIZE);
		}
	}
	/* The point of no return: the old entries go (frames, swap slots), then the table
	 * itself gives way to the PMD (pmdp_collapse_flush). The touch-style commit charge
	 * ends at 512 pages for the block: what the old entries held, plus the rest. */
	uint64_t charged = 0;
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		pte_t e = pt[i];
		if (!e)
			continue;
		charged += (uint64_t)mm_acct_page_charged(mm, e);
		pgt_set(&mm->pgt, &pt[i], 0);
		if (pte_is_swap(e))
			mm_swap_zap(mm, e);
		else if (!(e & PTE_SPECIAL))
			mm_unmap_page(mm, pfn_to_page(ph, pte_pfn(e)));
	}
	pte_t leaf = mm_thp_install(mm, c->v, c->base, NULL, hp, collapse_bits(c->v));
	PM_ENFORCE(pgt_collapse_huge(&mm->pgt, c->base, leaf) == 0);
	mm_acct_touch(mm, c->v, HPAGE_PMD_NR - charged);
	mm_flush_tlb(mm);
	return SCAN_SUCCEED;
}

static enum scan_result collapse_one(struct collapse *c)
{
	int level;
	pte_t *pt = pgt_lookup(&c->mm->pgt, c->base, &level);
	if (!pt)
		return SCAN_PMD_NULL;
	if (level == 2)	/* find_pmd_or_thp_or_none: the huge zero page counts as mapped */
		return mm_is_thp_pmd(c->mm, *pt, level) || mm_is_huge_zero_pmd(c->mm, *pt, level) ?
		       SCAN_PMD_MAPPED : SCAN_FAIL;
	enum scan_result r = scan_block(c, pt);
	return r == SCAN_SUCCEED ? collapse_block(c, pt) : r;
}

/* madvise_collapse_errno */
static long collapse_errno(enum scan_result r)
{
	switch (r) {
	case SCAN_ALLOC_HUGE_PAGE_FAIL: return -ENOMEM;
	case SCAN_EXCEED_NONE_PTE: return -EBUSY;
	case SCAN_PAGE_COUNT: return -EAGAIN;
	default: return -EINVAL;
	}
}

long mm_thp_madvise_collapse(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (!mm_thp_vma_allowed(mm, v, 1))
		return -EINVAL;
	uint64_t hstart = (start + PMD_SIZE - 1) & ~(PMD_SIZE - 1), hend = end & ~(PMD_SIZE - 1);
	uint64_t want = hend > hstart ? (hend - hstart) / PMD_SIZE : 0, thps = 0;
	enum scan_result last = SCAN_FAIL;
	for (uint64_t a = hstart; a < hend; a += PMD_SIZE) {
		struct collapse c = { mm, v, a, 1 };
		enum scan_result r = collapse_one(&c);
		if (r == SCAN_SUCCEED || r == SCAN_PMD_MAPPED)
			thps++;
		else if (r == SCAN_ALLOC_HUGE_PAGE_FAIL)
			return -ENOMEM;	/* madvise_collapse stops at once */
		else
			last = r;
	}
	return thps == want ? 0 : collapse_errno(last);
}

int mm_khugepaged_scan(struct mm_struct *mm, uint64_t *cursor, uint64_t *budget)
{
	pthread_rwlock_wrlock(&mm->lock);
	int done = 1;
	for (struct vma *v = mm->dead ? NULL : vma_find(&mm->mt, *cursor); v;
	     v = vma_next(&mm->mt, v)) {
		/* VM_NO_KHUGEPAGED (special and hugetlb VMAs) fail thp_anon_vma already. */
		if (!mm_thp_vma_allowed(mm, v, 0))
			continue;
		uint64_t a = (max_u64(v->vm_start, *cursor) + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
		for (; a + PMD_SIZE <= v->vm_end; a += PMD_SIZE) {
			if (*budget < HPAGE_PMD_NR) {
				*cursor = a;
				done = 0;
				goto out;
			}
			*budget -= HPAGE_PMD_NR;	/* progress += HPAGE_PMD_NR per PMD */
			struct collapse c = { mm, v, a, 0 };
			if (collapse_one(&c) == SCAN_SUCCEED)
				atomic_fetch_add(&mm->sys->thp.pages_collapsed, 1);
		}
	}
out:
	if (done)
		*cursor = 0;
	pthread_rwlock_unlock(&mm->lock);
	return done;
}
