/*
 * mm_check (Linux's validate_mm, grown): recomputes from scratch what an address space
 * caches and compares. The VMA index and the page tables check themselves; this file
 * checks that every PTE lies inside a VMA and grants no more than it, and that RSS and
 * the VM counters and the commit charge equal a recount. It reports, it never repairs.
 */
#include "mm/mm_internal.h"

#include <stdio.h>

#include "mm/swap_mm.h"

#define REPORT(c, ...) do { if ((c)->problems++ < 20) fprintf(stderr, "mm_check: " __VA_ARGS__); } while (0)

struct check_ctx {
	struct mm_struct *mm;
	int problems;
	long rss[NR_MM_COUNTERS];
	long hugetlb;			/* bytes of hugetlb frames mapped */
	long swapents;			/* swap entries */
	uint64_t thp_pmds;		/* THP and huge zero PMDs (each has a deposited table) */
};

static int check_pte(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct check_ctx *c = ctx;
	pte_t e = *ep;
	struct vma *v = vma_lookup(&c->mm->mt, va);
	if (!v) {
		REPORT(c, "pte %#lx = %#lx lies outside every VMA\n", (unsigned long)va, (unsigned long)e);
		return 0;
	}
	if (pte_is_swap(e)) {
		c->swapents++;
		if (!mm_swap_count(c->mm, e) || (v->vm_flags & VM_SHARED) || !v->anon)
			REPORT(c, "swap entry %#lx at %#lx: slot has %u references, VMA flags %#lx\n",
			       (unsigned long)e, (unsigned long)va, mm_swap_count(c->mm, e),
			       (unsigned long)v->vm_flags);
		return 0;
	}
	if (!(e & (PTE_P | PTE_PROTNONE)))
		return 0;
	if ((e & PTE_RW) && !(v->vm_flags & VM_WRITE))
		REPORT(c, "pte %#lx writable in VMA %#lx-%#lx without VM_WRITE\n", (unsigned long)va,
		       (unsigned long)v->vm_start, (unsigned long)v->vm_end);
	if ((e & PTE_P) && !(e & PTE_NX) && !(v->vm_flags & VM_EXEC))
		REPORT(c, "pte %#lx executable in VMA without VM_EXEC\n", (unsigned long)va);
	if ((e & PTE_P) && !(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		REPORT(c, "pte %#lx present in a PROT_NONE VMA\n", (unsigned long)va);
	if ((e & PTE_PROTNONE) && (v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		REPORT(c, "pte %#lx PROT_NONE in an accessible VMA\n", (unsigned long)va);
	if (mm_is_huge_zero_pmd(c->mm, e, level))
		c->thp_pmds++;	/* it keeps a deposited table too */
	if (e & PTE_SPECIAL)
		return 0;
	c->thp_pmds += (uint64_t)mm_is_thp_pmd(c->mm, e, level);
	if (mm_is_thp_pmd(c->mm, e, level) &&
	    (va + PMD_SIZE > v->vm_end || v->vm_obj || (v->vm_flags & VM_SHARED) || !v->anon))
		REPORT(c, "THP pmd %#lx not wholly inside an anonymous VMA %#lx-%#lx\n",
		       (unsigned long)va, (unsigned long)v->vm_start, (unsigned long)v->vm_end);
	struct page *pg = pfn_to_page(c->mm->sys->ph, pte_pfn(e));
	if (atomic_load(&pg->mapcount) < 1 || atomic_load(&pg->refcount) < atomic_load(&pg->mapcount))
		REPORT(c, "pte %#lx maps pfn %#lx with mapcount %d refcount %d\n", (unsigned long)va,
		       (unsigned long)pte_pfn(e), atomic_load(&pg->mapcount), atomic_load(&pg->refcount));
	if (pg->flags & PG_hugetlb) {
		c->hugetlb += (long)pgt_level_size(level);
		return 0;
	}
	int kind = (pg->flags & PG_anon) ? MM_ANONPAGES : (pg->flags & PG_shmem) ? MM_SHMEMPAGES : MM_FILEPAGES;
	c->rss[kind] += level == 1 ? 1 : (long)(pgt_level_size(level) >> PAGE_SHIFT);
	return 0;
}

static void check_counters(struct check_ctx *c)
{
	struct mm_struct *mm = c->mm;
	uint64_t total = 0, data = 0, exec = 0, stack = 0, locked = 0;
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		uint64_t n = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		total += n;
		if (is_exec_mapping(v->vm_flags))
			exec += n;
		else if (is_stack_mapping(v->vm_flags))
			stack += n;
		else if (is_data_mapping(v->vm_flags))
			data += n;
		if (v->vm_flags & VM_LOCKED)
			locked += n;
		if (v->vm_mm != mm)
			REPORT(c, "VMA %#lx-%#lx belongs to another mm\n", (unsigned long)v->vm_start,
			       (unsigned long)v->vm_end);
		for (unsigned i = 0; i < mm->nr_vma_cache; i++)
			if (mm->vma_cache[i] == v)
				REPORT(c, "VMA %#lx-%#lx is also in the free VMA cache\n",
				       (unsigned long)v->vm_start, (unsigned long)v->vm_end);
	}
	if (mm->nr_vma_cache > MM_VMA_CACHE)
		REPORT(c, "free VMA cache holds %u, at most %d\n", mm->nr_vma_cache, MM_VMA_CACHE);
	for (unsigned i = 0; i < mm->nr_vma_cache && i < MM_VMA_CACHE; i++)
		for (unsigned j = 0; j < i; j++)
			if (mm->vma_cache[i] == mm->vma_cache[j])
				REPORT(c, "free VMA cache holds one struct twice\n");
	const struct { const char *name; uint64_t got, want; } ctr[] = {
		{ "total_vm", mm->total_vm, total }, { "data_vm", mm->data_vm, data },
		{ "exec_vm", mm->exec_vm, exec }, { "stack_vm", mm->stack_vm, stack },
		{ "locked_vm", mm->locked_vm, locked },
	};
	for (size_t i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++)
		if (ctr[i].got != ctr[i].want)
			REPORT(c, "%s is %lu pages, recount gives %lu\n", ctr[i].name,
			       (unsigned long)ctr[i].got, (unsigned long)ctr[i].want);
	if (atomic_load(&mm->hugetlb_bytes) != c->hugetlb)
		REPORT(c, "HugetlbPages is %ld bytes, recount gives %ld\n", atomic_load(&mm->hugetlb_bytes),
		       c->hugetlb);
	if (mm->pgt.nr_deposited != c->thp_pmds)
		REPORT(c, "%lu deposited tables for %lu THP and huge zero PMDs\n",
		       (unsigned long)mm->pgt.nr_deposited, (unsigned long)c->thp_pmds);
	if (atomic_load(&mm->swapents) != c->swapents)
		REPORT(c, "MM_SWAPENTS is %ld, recount gives %ld\n", atomic_load(&mm->swapents),
		       c->swapents);
	uint64_t acct = mm_acct_recount(mm);	/* the commit charge (acct.c, SPEC §8) */
	if ((uint64_t)atomic_load(&mm->committed) != acct)
		REPORT(c, "commit charge is %ld pages (%s style), recount gives %lu\n",
		       atomic_load(&mm->committed), mm->acct_touch ? "touch" : "reserve",
		       (unsigned long)acct);
	static const char *const rss_names[] = { "RssFile", "RssAnon", "RssShmem" };
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		if (atomic_load(&mm->rss[i]) != c->rss[i])
			REPORT(c, "%s is %ld pages, recount gives %ld\n", rss_names[i],
			       atomic_load(&mm->rss[i]), c->rss[i]);
}

int mm_check(struct mm_struct *mm)
{
	struct check_ctx c = { .mm = mm };
	pthread_rwlock_wrlock(&mm->lock);
	int p = vma_tree_check(&mm->mt) + pgt_check(&mm->pgt);
	pgt_walk_range(&mm->pgt, 0, mm->task_size, check_pte, &c);
	check_counters(&c);
	p += mm_anon_check(mm);
	pthread_rwlock_unlock(&mm->lock);
	return p + c.problems;
}
