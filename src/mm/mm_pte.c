/*
 * The PTE side of address-space changes: which bits a mapping's PTEs carry, zapping a
 * range (releasing frames and RSS), and rewriting protections (change_protection). A PTE
 * that loses rights always bumps the TLB generation before the caller drops its lock.
 * It never frees a frame that is still mapped somewhere else: mapcount decides.
 */
#include "mm/mm_internal.h"

#include "lib/pm_assert.h"
#include "mm/swap_mm.h"

pte_t mm_vma_pte_bits(const struct vma *v)
{
	pte_t bits = PTE_P | PTE_US | ((pte_t)v->pkey << PTE_PKEY_SHIFT);
	if (!(v->vm_flags & VM_EXEC))
		bits |= PTE_NX;
	return bits;
}

/* The RSS counter a frame is charged to (mm_counter in Linux). */
static int rss_kind(const struct page *pg)
{
	if (pg->flags & PG_anon)
		return MM_ANONPAGES;
	if (pg->flags & PG_shmem)
		return MM_SHMEMPAGES;
	return MM_FILEPAGES;
}

/* The mapping's share of the counts, without the reference. */
static void unmap_counts(struct mm_struct *mm, struct page *pg)
{
	int old = atomic_fetch_sub(&pg->mapcount, 1);
	PM_ENFORCE(old > 0);
	atomic_fetch_sub(&mm->rss[rss_kind(pg)], 1);
	if (pg->flags & PG_anon)
		atomic_fetch_sub(&mm->sys->nr_anon, 1);
}

void mm_unmap_page(struct mm_struct *mm, struct page *pg)
{
	unmap_counts(mm, pg);
	mm_flush_tlb(mm);	/* the shootdown rule (mm.h): no lock-free hit reads it freed */
	phys_put(mm->sys->ph, pg);
}

/* Frames a zap has unmapped but not yet released: they are put after one TLB generation
 * bump for the lot (Linux's mmu_gather), not one bump per frame. */
#define ZAP_BATCH 64

struct zap_ctx {
	struct mm_struct *mm;
	unsigned flags;				/* ZAP_* */
	const struct vm_object *only;		/* zap only frames of this object, or NULL */
	int nr;					/* frames in batch */
	struct vma *v;				/* the VMA of the last entry seen */
	struct page *batch[ZAP_BATCH];
	/* Counter changes not yet applied (Linux's add_mm_rss_vec): RSS by kind, AnonPages,
	 * and the touch-style charge owed back by v. zap_release applies them. */
	long rss[NR_MM_COUNTERS], nr_anon;
	uint64_t uncharge;
};

/* A frame or swap entry of the mapping's own at va is gone for good: the touch-style
 * commit charge of va's VMA goes down by npages (acct.c). Entries come in address order,
 * so the VMA found last is the first candidate. */
static void zap_uncharge(struct zap_ctx *z, uint64_t va, uint64_t npages)
{
	if (!z->mm->acct_touch)
		return;
	if (!z->v || va < z->v->vm_start || va >= z->v->vm_end) {
		if (z->uncharge)
			mm_acct_untouch(z->mm, z->v, z->uncharge);	/* the old VMA's share */
		z->uncharge = 0;
		z->v = vma_lookup(&z->mm->mt, va);
	}
	if (z->v)
		z->uncharge += npages;
}

/* unmap_counts for a zap: the mapcount now (the put needs it), the counters batched. */
static void zap_unmap_counts(struct zap_ctx *z, struct page *pg)
{
	int old = atomic_fetch_sub(&pg->mapcount, 1);
	PM_ENFORCE(old > 0);
	z->rss[rss_kind(pg)]--;
	if (pg->flags & PG_anon)
		z->nr_anon--;
}

static void zap_apply_counts(struct zap_ctx *z)
{
	struct mm_struct *mm = z->mm;
	for (int i = 0; i < NR_MM_COUNTERS; i++) {
		if (z->rss[i])
			atomic_fetch_add(&mm->rss[i], z->rss[i]);
		z->rss[i] = 0;
	}
	if (z->nr_anon)
		atomic_fetch_add(&mm->sys->nr_anon, z->nr_anon);
	z->nr_anon = 0;
	if (z->uncharge)
		mm_acct_untouch(mm, z->v, z->uncharge);
	z->uncharge = 0;
}

/* Applies the batched counters; then, every batched frame's PTE being already clear
 * (pgt_unmap_range clears each entry as soon as zap_one returns): bump, then put. */
static void zap_release(struct zap_ctx *z)
{
	zap_apply_counts(z);
	if (!z->nr)
		return;
	mm_flush_tlb(z->mm);
	phys_put_many(z->mm->sys->ph, z->batch, (unsigned)z->nr);
	z->nr = 0;
}

static void zap_defer_put(struct zap_ctx *z, struct page *pg)
{
	if (z->nr == ZAP_BATCH)
		zap_release(z);
	z->batch[z->nr++] = pg;
}

/* Returns 1 to keep the entry (pgt_unmap_range's contract). */
static int zap_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct zap_ctx *z = ctx;
	struct mm_struct *mm = z->mm;
	pte_t e = *ep;
	if (pte_marker(e) == PTE_MARKER_GUARD)
		return (z->flags & ZAP_KEEP_GUARD) != 0;
	if (pte_is_marker(e))
		return z->only != NULL;	/* hwpoison entries go with DONTNEED, as Linux's */
	if (pte_is_swap(e)) {
		if (z->only)
			return 1;	/* a swapped private copy survives a hole punch */
		mm_swap_zap(mm, e);	/* zap_nonpresent_ptes: free_swap_and_cache */
		zap_uncharge(z, va, 1);
		return 0;
	}
	if (mm_is_huge_zero_pmd(mm, e, level)) {
		pgt_withdraw(&mm->pgt);	/* zap_huge_pmd of the huge zero page */
		return 0;
	}
	if (!(e & (PTE_P | PTE_PROTNONE)) || (e & PTE_SPECIAL))
		return z->only != NULL;	/* special frames are not counted */
	struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(e));
	if (z->only && (pg->owner_kind != OWNER_OBJECT || pg->owner != z->only))
		return 1;	/* a private copy survives a hole punch */
	/* A store through this PTE made the cached page dirty (zap_pte_range's set_page_dirty). */
	if ((e & PTE_D) && pg->owner_kind == OWNER_OBJECT)
		obj_page_dirty(pg->owner, pg);
	if (pg->flags & PG_hugetlb) {
		int old = atomic_fetch_sub(&pg->mapcount, 1);
		PM_ENFORCE(old > 0);
		atomic_fetch_sub(&mm->hugetlb_bytes, (long)pgt_level_size(level));	/* not RSS */
		zap_defer_put(z, pg);
		return 0;
	}
	if (level == 2) {
		/* zap_huge_pmd: the range covers the whole THP (edges were split first). */
		mm_thp_pmd_unmap_counts(mm, pg);
		pgt_withdraw(&mm->pgt);	/* zap_deposited_table */
		zap_uncharge(z, va, HPAGE_PMD_NR);	/* the touch-style commit charge */
		for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
			zap_defer_put(z, &pg[i]);
		return 0;
	}
	int poisoned = (z->flags & ZAP_POISON) && (pg->flags & PG_hwpoison);
	if (pg->flags & PG_anon)
		zap_uncharge(z, va, pgt_level_size(level) >> PAGE_SHIFT);
	zap_unmap_counts(z, pg);
	zap_defer_put(z, pg);
	if (poisoned) {
		pgt_set(&mm->pgt, ep, pte_mk_marker(PTE_MARKER_HWPOISON));
		return 1;
	}
	return 0;
}

/* The zap proper; page tables left empty inside [free_lo, free_hi) go too. */
static void zap(struct mm_struct *mm, uint64_t start, uint64_t end, unsigned flags,
		const struct vm_object *only, uint64_t free_lo, uint64_t free_hi)
{
	struct zap_ctx z = { .mm = mm, .flags = flags, .only = only, .nr = 0, .v = NULL };
	uint64_t rss = mm_rss(mm);
	if (rss > mm->hiwater_rss)
		mm->hiwater_rss = rss;
	/* A THP the range covers only in part is split first, so its other pages stay. The
	 * split needs one table page; without it that huge page is left whole (the range
	 * is clipped to its boundary: only its own pages are spared). */
	if ((start & (PMD_SIZE - 1)) && mm_thp_split_pmd(mm, start))
		start = (start | (PMD_SIZE - 1)) + 1;
	if (start < end && (end & (PMD_SIZE - 1)) && mm_thp_split_pmd(mm, end - 1))
		end &= ~(PMD_SIZE - 1);
	if (start >= end)
		return;
	/* The tables stay, as Linux's zaps keep them, but where free_pgtables frees them. */
	uint64_t a = max_u64(start, free_lo), b = min_u64(end, free_hi);
	if (a < b) {
		if (start < a)
			pgt_zap_range(&mm->pgt, start, a, zap_one, &z);
		pgt_unmap_range(&mm->pgt, a, b, zap_one, &z);
		if (b < end)
			pgt_zap_range(&mm->pgt, b, end, zap_one, &z);
	} else {
		pgt_zap_range(&mm->pgt, start, end, zap_one, &z);
	}
	zap_release(&z);
	mm_flush_tlb(mm);
}

void mm_zap_range_details(struct mm_struct *mm, uint64_t start, uint64_t end, unsigned flags,
			  const struct vm_object *only)
{
	zap(mm, start, end, flags, only, 0, 0);
}

void mm_zap_unmap(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t floor,
		  uint64_t ceiling)
{
	/* free_pgtables: a page table goes only when no VMA is left in its span, floor and
	 * ceiling being the ends of the VMAs around the hole. Fault-around sees the
	 * difference (filemap_map_pages installs no new table for a window whose first
	 * cached page is a file's last). */
	uint64_t lo = max_u64(start & ~(PMD_SIZE - 1), (floor + PMD_SIZE - 1) & ~(PMD_SIZE - 1));
	uint64_t hi = min_u64((end + PMD_SIZE - 1) & ~(PMD_SIZE - 1), ceiling & ~(PMD_SIZE - 1));
	zap(mm, start, end, 0, NULL, lo, hi);
}

void mm_reclaim_pgtables(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	/* pt_reclaim (MADV_DONTNEED): a PTE table the zap covered whole and left empty. */
	uint64_t lo = (start + PMD_SIZE - 1) & ~(PMD_SIZE - 1), hi = end & ~(PMD_SIZE - 1);
	if (lo < hi)
		pgt_free_tables(&mm->pgt, lo, hi);
}

void mm_zap_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	mm_zap_range_details(mm, start, end, 0, NULL);
}

/* May a private PTE of this frame be writable without a copy? Only an anonymous frame this
 * mapping alone holds (Linux's PageAnonExclusive test in can_change_pte_writable). */
int mm_page_exclusive(const struct page *pg)
{
	/* A KSM frame is never exclusive: a write always copies (KSM pages are never
	 * PageAnonExclusive), so the stable tree never sees its contents change. */
	return (pg->flags & PG_anon) && !(pg->flags & PG_ksm) &&
	       atomic_load(&pg->mapcount) == 1 && atomic_load(&pg->refcount) == 1;
}

struct protect_ctx { struct mm_struct *mm; const struct vma *v; };

static int protect_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct protect_ctx *c = ctx;
	const struct vma *v = c->v;
	pte_t e = *ep;
	(void)va;
	if (!(e & (PTE_P | PTE_PROTNONE)))
		return 0;
	const pte_t keep = PTE_PFN_MASK | PTE_A | PTE_D | PTE_SPECIAL | PTE_SOFTDIRTY | PTE_PS | PTE_SYNC;
	pte_t n = (e & keep);
	if (!(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) {
		n |= PTE_PROTNONE | ((pte_t)v->pkey << PTE_PKEY_SHIFT);
	} else {
		n |= mm_vma_pte_bits(v);
		int writable = (v->vm_flags & VM_WRITE) && !(e & PTE_SPECIAL);
		if (writable && !(v->vm_flags & VM_SHARED))
			writable = mm_is_thp_pmd(c->mm, e, level) ? mm_thp_exclusive(c->mm, e) :
				   mm_page_exclusive(pfn_to_page(c->mm->sys->ph, pte_pfn(e)));
		else if (writable && mm_vma_writenotify(v))
			writable = (e & PTE_D) != 0;	/* can_change_shared_pte_writable */
		if (writable)
			n |= PTE_RW;
	}
	*ep = n;
	return 0;
}

void mm_change_protection(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	struct protect_ctx c = { mm, v };
	pgt_walk_range(&mm->pgt, start, end, protect_one, &c);
	mm_flush_tlb(mm);
}
