/*
 * Guard regions (MADV_GUARD_INSTALL / MADV_GUARD_REMOVE, Linux 6.13; file-backed and
 * shared mappings since 6.15). A guard is a PTE marker, not a VMA: /proc maps does not
 * change, any access raises SIGSEGV (SEGV_MAPERR) without faulting a page in, DONTNEED
 * and hole punching keep it, fork copies it, munmap drops it. Installing discards the
 * pages the range held. Removing clears guard markers only and never touches other PTEs.
 */
#include "mm/mm_internal.h"

#include <errno.h>

/* is_valid_guard_vma: never over VM_SPECIAL or hugetlb VMAs; locked ones may only lose
 * their guards (checked on Linux 6.18: install over mlocked memory is EINVAL). */
static int guard_vma_ok(const struct vma *v, int install)
{
	uint64_t bad = VM_SPECIAL | VM_HUGETLB | (install ? VM_LOCKED : 0);
	return !(v->vm_flags & bad);
}

long madvise_guard_install(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (!guard_vma_ok(v, 1))
		return -EINVAL;
	/* Linux 6.13 prepared an anon_vma so that fork copies the page tables (and so the
	 * markers); merges still depend on it. 6.18 still does for anonymous VMAs, but not
	 * for file-backed or shared ones (checked: a file VMA's fork child still merges). */
	if (!v->vm_obj && !(v->vm_flags & VM_SHARED) && !mm_anon_prepare(mm, v))
		return -ENOMEM;
	/* The whole VMA, without a split, and for good: GUARD_REMOVE leaves it (6.18 smaps
	 * "gu"); fork reads it to know a VMA without anon pages may still hold markers. */
	mm_set_vma_flags(mm, v, v->vm_flags | VM_MAYBE_GUARD);
	mm_zap_range_details(mm, start, end, ZAP_KEEP_GUARD, NULL);
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		pte_t *ep;
		if (pgt_alloc_entry(&mm->pgt, a, 1, &ep))
			return -ENOMEM;	/* guards so far stay, as Linux leaves them */
		if (pte_none(*ep))
			pgt_set(&mm->pgt, ep, pte_mk_marker(PTE_MARKER_GUARD));
	}
	return 0;
}

static int unguard_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	(void)va;
	(void)level;
	if (pte_marker(*ep) == PTE_MARKER_GUARD)
		pgt_set(ctx, ep, 0);
	return 0;
}

long madvise_guard_remove(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (!guard_vma_ok(v, 0))
		return -EINVAL;
	pgt_walk_range(&mm->pgt, start, end, unguard_one, &mm->pgt);
	return 0;
}
