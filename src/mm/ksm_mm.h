/*
 * The mm side of KSM (Linux mm/ksm.c, the parts that touch an address space): which
 * VMAs may merge, registering address spaces, ksmd's scan over their pages, merging two
 * PTEs onto one write-protected KSM frame, and unmerging (each PTE gets a private copy).
 * Lock order: ksm->lock, then one mm->lock at a time (never two), then mm->ptl.
 */
#ifndef PM_MM_KSM_MM_H
#define PM_MM_KSM_MM_H

#include "mm/mm.h"

/* MADV_MERGEABLE / MADV_UNMERGEABLE on [start, end) inside v (ksm_madvise): *flags is
 * v's vm_flags, updated for the caller to apply. Incompatible VMAs (shared, PFN, IO,
 * hugetlb, ...) are left alone with success, as Linux does. UNMERGEABLE first breaks
 * every merged page of the range. mm->lock held for writing. 0 or -ENOMEM (pages
 * unmerged so far stay unmerged; the flags are unchanged). */
int mm_ksm_madvise(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
		   long advice, uint64_t *flags);
/* The flags a new mapping gets: VM_MERGEABLE added when the process asked for
 * PR_SET_MEMORY_MERGE and the mapping is eligible (ksm_vma_flags). mm->lock held. */
uint64_t mm_ksm_vma_flags(struct mm_struct *mm, uint64_t vf);
/* PR_SET_MEMORY_MERGE: on marks every eligible VMA and every later one; off unmerges and
 * unmarks them all. Takes mm->lock. 0 or -ENOMEM. */
int mm_ksm_set_merge_any(struct mm_struct *mm, int on);
int mm_ksm_merge_any(struct mm_struct *mm);	/* PR_GET_MEMORY_MERGE */
/* fork (ksm_fork): the child is scanned when the parent is, and keeps MERGE_ANY. src's
 * lock held. */
void mm_ksm_fork(struct mm_struct *dst, struct mm_struct *src);
/* The address space is going away (ksm_exit): its slot and rmap items go first. Called
 * with no lock held. */
void mm_ksm_exit(struct mm_struct *mm);

/* One ksmd batch (ksm_do_scan): up to npages pages, stopping early at the end of a full
 * scan. Takes ksm->lock. */
void mm_ksm_do_scan(struct ksm *k, uint64_t npages);
/* run=2 (unmerge_and_remove_all_rmap_items): every merged page of every registered space
 * is unmerged, every rmap item and free stable node removed, full_scans reset. Takes
 * ksm->lock. 0, or -ENOMEM when some page could not be copied (it stays merged). */
int mm_ksm_unmerge_all(struct ksm *k);

/* /proc/<pid>/ksm_stat's figures. */
struct ksm_mm_stat {
	uint64_t rmap_items, merging_pages;
	int merge_any, mergeable;
};
void mm_ksm_stat(struct mm_struct *mm, struct ksm_mm_stat *st);

#endif
