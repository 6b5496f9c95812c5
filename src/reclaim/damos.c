/*
 * DAMOS, DAMON-based operation schemes (Linux mm/damon/core.c, kdamond_apply_schemes and
 * its helpers): each aggregation, every region whose size, access count and age fall in a
 * scheme's pattern gets the scheme's action, within the scheme's quota, and the scheme's
 * stats count what was tried and applied. The action itself is the upper layer's
 * (damon_ops); this file only decides where. It never takes a lock.
 */
#include "reclaim/damon.h"

#include <errno.h>

/* Linux's first throughput guess for a time quota, in bytes per ms (damos_set_effective_quota).
 * Actions take no simulated time here, so the guess is never refined. */
#define DAMOS_THROUGHPUT_GUESS	(PAGE_SIZE * 1024)

const char *damos_action_name(enum damos_action a)
{
	static const char *const names[NR_DAMOS_ACTIONS] = {
		[DAMOS_STAT] = "stat", [DAMOS_HUGEPAGE] = "hugepage",
		[DAMOS_NOHUGEPAGE] = "nohugepage", [DAMOS_COLD] = "cold",
		[DAMOS_PAGEOUT] = "pageout",
	};
	return (unsigned)a < NR_DAMOS_ACTIONS ? names[a] : "?";
}

int damos_add(struct damon_ctx *ctx, const struct damos_pattern *p, int action,
	      const struct damos_quota *q)
{
	if (action < 0 || action >= NR_DAMOS_ACTIONS)
		return -EINVAL;
	if (p->min_sz > p->max_sz || p->min_nr_accesses > p->max_nr_accesses ||
	    p->min_age > p->max_age)
		return -EINVAL;
	if (ctx->nr_schemes >= DAMOS_MAX_SCHEMES)
		return -ENOSPC;
	struct damos *s = &ctx->schemes[ctx->nr_schemes];
	*s = (struct damos){ .pattern = *p, .action = (enum damos_action)action };
	s->quota.sz = q->sz;
	s->quota.ms = q->ms;
	s->quota.reset_ms = q->reset_ms;
	return (int)ctx->nr_schemes++;
}

static int valid_target(const struct damon_region *r, const struct damos_pattern *p)
{
	uint64_t sz = r->end - r->start;
	return sz >= p->min_sz && sz <= p->max_sz && r->nr_accesses >= p->min_nr_accesses &&
	       r->nr_accesses <= p->max_nr_accesses && r->age >= p->min_age && r->age <= p->max_age;
}

/* A new charge window once reset_ms has passed (damos_adjust_quota and
 * damos_set_effective_quota): a full window counts as a quota exceed. */
static void adjust_quota(struct damos *s, uint64_t now_us)
{
	struct damos_quota *q = &s->quota;
	if (!q->sz && !q->ms)
		return;
	if (q->started && now_us < q->charged_from_us + q->reset_ms * 1000)
		return;
	if (q->started && q->esz && q->charged_sz >= q->esz)
		s->stat.qt_exceeds++;
	q->started = 1;
	q->charged_from_us = now_us;
	q->charged_sz = 0;
	uint64_t esz = UINT64_MAX;
	if (q->ms && q->ms < UINT64_MAX / DAMOS_THROUGHPUT_GUESS)
		esz = DAMOS_THROUGHPUT_GUESS * q->ms;
	if (q->sz && q->sz < esz)
		esz = q->sz;
	q->esz = esz;
}

/* After a window ran out, the next one resumes past where it stopped rather than at the
 * first region again (damos_skip_charged_region). Returns 1 to skip region i. May split
 * region i (room reserved). */
static int skip_charged(struct damon_ctx *ctx, uint32_t i, struct damos *s)
{
	struct damos_quota *q = &s->quota;
	if (!q->charge_addr_from)
		return 0;
	struct damon_region *r = &ctx->r[i];
	if (i == ctx->nr - 1) {		/* wrapped: start over from the first region */
		q->charge_addr_from = 0;
		return 1;
	}
	if (r->end <= q->charge_addr_from)
		return 1;
	if (r->start < q->charge_addr_from) {
		uint64_t skip = (q->charge_addr_from - r->start) & ~(DAMON_MIN_REGION - 1);
		if (!skip) {
			if (r->end - r->start <= DAMON_MIN_REGION)
				return 1;
			skip = DAMON_MIN_REGION;
		}
		damon_split_at(ctx, i, skip);
		q->charge_addr_from = 0;
		return 1;	/* the part past the mark is region i+1, visited next */
	}
	q->charge_addr_from = 0;
	return 0;
}

/* Applies s to region i (damos_apply_scheme): trims the region to what is left of the
 * quota first, then acts and charges. */
static void apply_one(struct damon_ctx *ctx, uint32_t i, struct damos *s,
		      const struct damon_ops *ops, void *priv)
{
	struct damos_quota *q = &s->quota;
	struct damon_region *r = &ctx->r[i];
	uint64_t sz = r->end - r->start, applied = 0;
	if (q->esz && q->charged_sz + sz > q->esz) {
		sz = (q->esz - q->charged_sz) & ~(DAMON_MIN_REGION - 1);
		if (!sz)
			goto stat;
		damon_split_at(ctx, i, sz);
		r = &ctx->r[i];
	}
	/* Linux's vaddr ops do nothing for stat, so it never counts as applied. */
	if (s->action != DAMOS_STAT)
		applied = ops->apply_scheme(priv, s->action, r->start, r->end);
	q->charged_sz += sz;
	if (q->esz && q->charged_sz >= q->esz)
		q->charge_addr_from = r->end + 1;
	if (s->action != DAMOS_STAT)
		r->age = 0;	/* the action changed the region: its history no longer holds */
stat:
	s->stat.nr_tried++;
	s->stat.sz_tried += sz;
	if (applied) {
		s->stat.nr_applied++;
		s->stat.sz_applied += applied;
	}
}

void damos_apply(struct damon_ctx *ctx, const struct damon_ops *ops, void *priv,
		 uint64_t now_us)
{
	if (!ctx->nr_schemes)
		return;
	/* Each region can be split at most twice per scheme (a skip and a quota trim). */
	if (damon_reserve(ctx, ctx->nr + 2 * ctx->nr_schemes))
		return;
	for (uint32_t k = 0; k < ctx->nr_schemes; k++)
		adjust_quota(&ctx->schemes[k], now_us);
	/* Linux's quota prioritisation (the score histogram) ranks regions only for cold,
	 * pageout and the LRU actions; stat and the hugepage actions all score the maximum,
	 * so address order is what Linux does for them too. */
	for (uint32_t i = 0; i < ctx->nr; i++) {
		for (uint32_t k = 0; k < ctx->nr_schemes; k++) {
			struct damos *s = &ctx->schemes[k];
			if (s->quota.esz && s->quota.charged_sz >= s->quota.esz)
				continue;
			if (skip_charged(ctx, i, s))
				continue;
			if (!valid_target(&ctx->r[i], &s->pattern))
				continue;
			apply_one(ctx, i, s, ops, priv);
		}
	}
}
