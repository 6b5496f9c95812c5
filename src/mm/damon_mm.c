/*
 * DAMON's glue to an address space (Linux's mm/damon/vaddr.c, the parts that touch an
 * mm): the lock around each region pass that reads page tables or VMAs, the TLB
 * invalidation that must follow clearing an Accessed bit (a TLB hit never sets A, so a
 * stale entry would hide every later access), and the hugepage actions, which go through
 * mm_madvise so they split and merge VMAs exactly as madvise(2) does. It never holds
 * mm->lock while a scheme acts: madvise takes it for writing itself.
 */
#include "mm/damon_mm.h"

#include <sys/mman.h>

#include "lib/pm_assert.h"

/* damos_madvise: the whole region or nothing, as Linux counts it (a hole in the region
 * makes madvise answer ENOMEM, so nothing counts as applied). */
static uint64_t apply_scheme(void *priv, enum damos_action action, uint64_t start, uint64_t end)
{
	struct mm_struct *mm = priv;
	long advice;
	switch (action) {
	case DAMOS_HUGEPAGE: advice = MADV_HUGEPAGE; break;
	case DAMOS_NOHUGEPAGE: advice = MADV_NOHUGEPAGE; break;
	case DAMOS_COLD: advice = MADV_COLD; break;	/* damos_madvise, as vaddr does */
	case DAMOS_PAGEOUT: advice = MADV_PAGEOUT; break;
	default: return 0;	/* stat acts on nothing */
	}
	struct mm_caller kc = { .rlim = NULL, .token = NULL, .wx = 1 };
	return mm_madvise(mm, &kc, start, end - start, advice) ? 0 : end - start;
}

static const struct damon_ops mm_damon_ops = { .apply_scheme = apply_scheme };

/* Samples the next pages; the A bits it cleared must not stay cached in any TLB. */
static void prepare_locked(struct mm_struct *mm, struct damon_ctx *ctx)
{
	if (damon_prepare_access_checks(ctx, &mm->pgt))
		mm_flush_tlb(mm);
}

int mm_damon_start(struct mm_struct *mm, struct damon_ctx *ctx)
{
	pthread_rwlock_rdlock(&mm->lock);
	int err = mm->dead ? 0 : damon_start_regions(ctx, &mm->mt);
	if (!err && !mm->dead)
		prepare_locked(mm, ctx);
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

void mm_damon_step(struct mm_struct *mm, struct damon_ctx *ctx, uint64_t now_us)
{
	pthread_rwlock_rdlock(&mm->lock);
	if (mm->dead) {
		pthread_rwlock_unlock(&mm->lock);
		return;
	}
	unsigned due = damon_check_accesses(ctx, &mm->pgt);
	if (due & DAMON_DUE_AGGREGATE)
		damon_merge(ctx);
	pthread_rwlock_unlock(&mm->lock);
	if (due & DAMON_DUE_AGGREGATE) {
		/* kdamond_fn's order: merge, schemes, then reset and split. */
		damos_apply(ctx, &mm_damon_ops, mm, now_us);
		damon_reset_and_split(ctx);
	}
	pthread_rwlock_rdlock(&mm->lock);
	if (!mm->dead) {
		if (due & DAMON_DUE_UPDATE)
			damon_update(ctx, &mm->mt);
		prepare_locked(mm, ctx);
	}
	pthread_rwlock_unlock(&mm->lock);
	PM_ASSERT(damon_check(ctx) == 0);
}
