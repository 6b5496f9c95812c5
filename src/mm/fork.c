/*
 * fork's half of mm (Linux's dup_mmap and copy_page_range): the child gets a copy of every
 * VMA but the MADV_DONTFORK ones, with locks dropped; private writable memory becomes
 * copy-on-write by write-protecting the PTEs on both sides; shared memory stays shared;
 * MADV_WIPEONFORK ranges start empty in the child. Frames are never copied here: the first
 * write on either side copies (fault.c), or reuses the frame once it is exclusive again.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <string.h>

#include "mm/ksm_mm.h"
#include "mm/swap_mm.h"

struct copy_ctx {
	struct mm_struct *src, *dst;
	const struct vma *v;
	int cow;			/* private and writable-capable: write-protect both sides */
	uint64_t table_base;		/* 2 MiB block whose destination PTE table is cached */
	pte_t *table;			/* that table's entries, or NULL */
	int err;
	uint64_t charged;		/* entries the child is charged for (acct.c, touch style) */
};

/* The destination PTE for va, reusing the last table while va stays in its 2 MiB block. */
static pte_t *dst_pte(struct copy_ctx *c, uint64_t va)
{
	uint64_t base = va & ~(PMD_SIZE - 1);
	if (!c->table || c->table_base != base) {
		pte_t *ep;
		if (pgt_alloc_entry(&c->dst->pgt, base, 1, &ep))
			return NULL;
		c->table = ep;
		c->table_base = base;
	}
	return c->table + ((va - base) >> PAGE_SHIFT);
}

/* A huge leaf (hugetlb, or an anonymous THP): shared with the child, write-protected on
 * both sides when private, like copy_hugetlb_page_range and copy_huge_pmd. */
static int copy_huge(struct copy_ctx *c, uint64_t va, pte_t *ep, int level)
{
	pte_t e = *ep, *dst;
	if (pgt_alloc_entry(&c->dst->pgt, va, level, &dst)) {
		c->err = -ENOMEM;
		return 1;
	}
	if (mm_is_huge_zero_pmd(c->src, e, level)) {
		/* copy_huge_pmd: the child maps the huge zero page too, with its own deposit. */
		if (pgt_deposit(&c->dst->pgt)) {
			c->err = -ENOMEM;
			return 1;
		}
	} else if (mm_is_thp_pmd(c->src, e, level)) {
		/* copy_huge_pmd: the child shares the THP, both sides write-protected; the
		 * child's PMD gets its own deposited table. */
		if (pgt_deposit(&c->dst->pgt)) {
			c->err = -ENOMEM;
			return 1;
		}
		mm_thp_pmd_get(c->dst, pfn_to_page(c->src->sys->ph, pte_pfn(e)));
		c->charged += HPAGE_PMD_NR;	/* the child's own 512 pages (touch style) */
		if (e & PTE_RW) {
			e &= ~PTE_RW;
			*ep = e;
		}
	} else if (e & PTE_P) {
		struct page *pg = pfn_to_page(c->src->sys->ph, pte_pfn(e));
		page_get(pg);
		atomic_fetch_add(&pg->mapcount, 1);
		atomic_fetch_add(&c->dst->hugetlb_bytes, (long)pgt_level_size(level));
		if (c->cow && (e & PTE_RW)) {
			e &= ~PTE_RW;
			*ep = e;
		}
	}
	pgt_set(&c->dst->pgt, dst, e);
	return 0;
}

static int copy_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct copy_ctx *c = ctx;
	pte_t e = *ep;
	if (level != 1)
		return copy_huge(c, va, ep, level);
	pte_t *dst = dst_pte(c, va);
	if (!dst) {
		c->err = -ENOMEM;
		return 1;
	}
	if (pte_is_swap(e))
		mm_swap_fork(c->dst, e);	/* copy_nonpresent_pte: swap_duplicate */
	c->charged += (uint64_t)mm_acct_page_charged(c->src, e);
	if ((e & (PTE_P | PTE_PROTNONE)) && !(e & PTE_SPECIAL)) {
		struct page *pg = pfn_to_page(c->src->sys->ph, pte_pfn(e));
		page_get(pg);
		atomic_fetch_add(&pg->mapcount, 1);
		int kind = (pg->flags & PG_anon) ? MM_ANONPAGES : (pg->flags & PG_shmem) ? MM_SHMEMPAGES
											  : MM_FILEPAGES;
		atomic_fetch_add(&c->dst->rss[kind], 1);
		if (pg->flags & PG_anon)
			atomic_fetch_add(&c->dst->sys->nr_anon, 1);
		if (c->cow && (e & PTE_RW)) {
			e &= ~PTE_RW;
			*ep = e;	/* the parent loses write too: copy-on-write */
		}
	}
	pgt_set(&c->dst->pgt, dst, e);
	return 0;
}

/* A child's copy of v (without page tables), linked into dst. NULL on -ENOMEM. */
static struct vma *dup_vma(struct mm_struct *dst, const struct vma *v)
{
	struct vma *nv = vma_alloc(dst);
	if (!nv)
		return NULL;
	vma_copy(nv, v);
	anon_vma_put(dst, nv->anon);
	nv->anon = NULL;
	nv->vm_mm = dst;
	nv->vm_flags &= ~(VM_LOCKED | VM_LOCKONFAULT);	/* locks are not inherited */
	if ((nv->vm_flags & VM_HUGETLB) && !(nv->vm_flags & VM_SHARED))
		nv->vm_flags |= VM_HUGE_NORESV;	/* the parent keeps the reservation */
	/* anon_vma_fork: each inherited VMA gets a fresh identity, so the child's VMAs do not
	 * merge with each other the way the parent's might (LTP vma01); its parent is v's, so
	 * reclaim's reverse map reaches the child's PTEs of the frames they share. */
	if (v->anon && !(v->vm_flags & VM_WIPEONFORK) && !(nv->anon = anon_vma_fork(dst, v->anon))) {
		vma_free(dst, nv);
		return NULL;
	}
	if (nv->anon)
		nv->vm_flags |= VM_ANON_FORKED;
	if (vma_tree_reserve(&dst->mt, 1)) {
		vma_free(dst, nv);
		return NULL;
	}
	mm_link_vma(dst, nv);
	return nv;
}

static void copy_layout(struct mm_struct *dst, const struct mm_struct *src)
{
	dst->mmap_base = src->mmap_base;
	dst->mmap_legacy_base = src->mmap_legacy_base;
	dst->start_code = src->start_code;
	dst->end_code = src->end_code;
	dst->start_data = src->start_data;
	dst->end_data = src->end_data;
	dst->start_brk = src->start_brk;
	dst->brk = src->brk;
	dst->start_stack = src->start_stack;
	dst->def_flags = src->def_flags & ~(VM_LOCKED | VM_LOCKONFAULT);	/* no MCL_FUTURE */
	dst->pkey_map = src->pkey_map;
	dst->thp_disable = src->thp_disable;	/* MMF_INIT_MASK: fork keeps it */
	dst->hiwater_vm = src->hiwater_vm;
	dst->hiwater_rss = src->hiwater_rss;
}

struct mm_struct *mm_fork(struct mm_struct *src, int *err)
{
	struct mm_struct *dst = mm_create(src->sys);
	*err = -ENOMEM;
	if (!dst)
		return NULL;
	pthread_rwlock_wrlock(&src->lock);
	copy_layout(dst, src);
	/* dup_mmap: the child's VM_ACCOUNT VMAs are a promise of their own (mode 2 may
	 * refuse the fork); it is charged in the parent's style, its inherited own pages in
	 * the touch style (mode 0) or whole VMAs in the reserve style. */
	uint64_t acct = 0;
	for (struct vma *v = vma_first(&src->mt); v; v = vma_next(&src->mt, v))
		if ((v->vm_flags & (VM_ACCOUNT | VM_DONTCOPY)) == VM_ACCOUNT)
			acct += (v->vm_end - v->vm_start) >> PAGE_SHIFT;
	int ok = !acct || !mm_acct_enough(src, acct);
	dst->acct_touch = src->acct_touch;
	for (struct vma *v = vma_first(&src->mt); v && ok; v = vma_next(&src->mt, v)) {
		if (v->vm_flags & VM_DONTCOPY)
			continue;
		struct vma *nv = dup_vma(dst, v);
		ok = nv != NULL;
		if (!ok || (v->vm_flags & VM_WIPEONFORK))
			continue;	/* a wiped range starts with no pages at all */
		/* vma_needs_copy: a VMA with no anon identity holds only what a fault would
		 * map again (the zero page, object pages), so the child starts without PTEs;
		 * but VM_COPY_ON_FORK (PFN maps, and VM_MAYBE_GUARD: a VMA that ever had guard
		 * markers) copies every entry, present pages with the markers (checked on Linux
		 * 6.18: a shared file page mapped in the parent is mapped in the child). */
		if (!v->anon && !(v->vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP | VM_MAYBE_GUARD)))
			continue;
		struct copy_ctx c = { src, dst, v,
			(v->vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE, 0, NULL, 0, 0 };
		pgt_walk_range(&src->pgt, v->vm_start, v->vm_end, copy_one, &c);
		/* copy_pte_range gives the child a page table for each one the parent has under
		 * the VMA, empty or not (fault-around tells them apart: mm/README.md). */
		for (uint64_t a = v->vm_start; !c.err && a < v->vm_end; a = (a | (PMD_SIZE - 1)) + 1) {
			int level = 0;
			if (pgt_lookup(&src->pgt, a, &level) && level == 1 && !dst_pte(&c, a))
				c.err = -ENOMEM;
		}
		mm_acct_touch(dst, nv, c.charged);
		ok = c.err == 0;
	}
	if (ok)
		mm_ksm_fork(dst, src);	/* ksm_fork: the child is scanned as the parent is */
	mm_flush_tlb(src);
	pthread_rwlock_unlock(&src->lock);
	if (!ok) {
		mm_destroy(dst);
		return NULL;
	}
	*err = 0;
	return dst;
}
