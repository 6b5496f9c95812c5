/*
 * The mm side of DAMON: runs a monitoring context (reclaim/damon.h) against one address
 * space, taking mm->lock around each part that reads page tables or VMAs, invalidating
 * TLBs after clearing Accessed bits, and carrying out the hugepage actions through
 * madvise. It never keeps a pointer to the mm between calls: the caller holds a user
 * reference (mm_use) for the duration of each call.
 */
#ifndef PM_MM_DAMON_MM_H
#define PM_MM_DAMON_MM_H

#include "mm/mm.h"
#include "reclaim/damon.h"

/* Builds the initial regions from mm's VMAs and takes the first samples. 0 or -ENOMEM
 * (the context then has no regions). */
int mm_damon_start(struct mm_struct *mm, struct damon_ctx *ctx);
/* One sampling interval at simulated time now_us: counts accesses, and when they are due
 * aggregates (merge, schemes, reset, split) and re-reads the VMAs; then samples again. */
void mm_damon_step(struct mm_struct *mm, struct damon_ctx *ctx, uint64_t now_us);

#endif
