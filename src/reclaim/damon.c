/*
 * DAMON's region algorithm (Linux mm/damon/core.c and vaddr.c): the initial regions from
 * the VMAs, one sample per region per interval through the PTE Accessed bit, and the
 * adaptive merge and split each aggregation that keeps the count within [min, max]
 * regions. Regions live in a sorted array; rebuilding passes write into a spare array of
 * the same capacity, reserved before anything changes, so no pass fails half way. It
 * never takes a lock, never flushes a TLB and never touches a VMA: its caller does those.
 */
#include "reclaim/damon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t rsize(const struct damon_region *r) { return r->end - r->start; }

static uint64_t align_up(uint64_t x) { return (x + DAMON_MIN_REGION - 1) & ~(DAMON_MIN_REGION - 1); }
static uint64_t align_down(uint64_t x) { return x & ~(DAMON_MIN_REGION - 1); }

/* A uniform value in [lo, hi) (Linux's damon_rand). */
static uint64_t damon_rand(struct damon_ctx *ctx, uint64_t lo, uint64_t hi)
{
	return lo + prng_below(&ctx->rng, hi - lo);
}

int damon_attrs_check(const struct damon_attrs *a)
{
	if (a->min_nr_regions < 3 || a->min_nr_regions > a->max_nr_regions)
		return -EINVAL;
	/* One tick (1 ms) is the clock's grain: a shorter interval would sample twice with
	 * no simulated time, and so no access, in between. */
	if (a->sample_us < 1000 || a->sample_us > a->aggr_us || !a->update_us)
		return -EINVAL;
	return 0;
}

int damon_ctx_init(struct damon_ctx *ctx, struct kmem *km, const struct damon_attrs *a,
		   uint64_t seed, const struct damon_range *ranges, uint32_t nr_ranges)
{
	memset(ctx, 0, sizeof(*ctx));
	if (damon_attrs_check(a) || nr_ranges > DAMON_MAX_RANGES)
		return -EINVAL;
	for (uint32_t i = 0; i < nr_ranges; i++) {
		const struct damon_range *g = &ranges[i];
		/* fvaddr ranges are sorted and disjoint, as damon_set_regions expects. */
		if (g->start >= g->end || (i && g->start < ranges[i - 1].end))
			return -EINVAL;
		ctx->ranges[i].start = align_down(g->start);
		ctx->ranges[i].end = align_up(g->end);
	}
	ctx->km = km;
	ctx->attrs = *a;
	ctx->nr_ranges = nr_ranges;
	ctx->fixed = nr_ranges > 0;
	prng_seed(&ctx->rng, seed);
	return 0;
}

void damon_ctx_release(struct damon_ctx *ctx)
{
	size_t sz = (size_t)ctx->cap * sizeof(struct damon_region);
	if (ctx->cap) {
		kmem_free(ctx->km, ctx->r, sz);
		kmem_free(ctx->km, ctx->spare, sz);
		kmem_free(ctx->km, ctx->snap, sz);
	}
	ctx->r = ctx->spare = ctx->snap = NULL;
	ctx->cap = ctx->nr = ctx->nr_snap = 0;
}

int damon_reserve(struct damon_ctx *ctx, uint32_t n)
{
	if (n <= ctx->cap)
		return 0;
	uint32_t cap = ctx->cap ? ctx->cap : 16;
	while (cap < n)
		cap *= 2;
	size_t old = (size_t)ctx->cap * sizeof(struct damon_region);
	size_t sz = (size_t)cap * sizeof(struct damon_region);
	struct damon_region *a = kmem_zalloc(ctx->km, sz);
	struct damon_region *b = kmem_zalloc(ctx->km, sz);
	struct damon_region *c = kmem_zalloc(ctx->km, sz);
	if (!a || !b || !c) {
		if (a) kmem_free(ctx->km, a, sz);
		if (b) kmem_free(ctx->km, b, sz);
		if (c) kmem_free(ctx->km, c, sz);
		return -ENOMEM;
	}
	if (ctx->cap) {
		memcpy(a, ctx->r, (size_t)ctx->nr * sizeof(*a));
		memcpy(c, ctx->snap, (size_t)ctx->nr_snap * sizeof(*c));
		kmem_free(ctx->km, ctx->r, old);
		kmem_free(ctx->km, ctx->spare, old);
		kmem_free(ctx->km, ctx->snap, old);
	}
	ctx->r = a;
	ctx->spare = b;
	ctx->snap = c;
	ctx->cap = cap;
	return 0;
}

void damon_split_at(struct damon_ctx *ctx, uint32_t i, uint64_t sz)
{
	struct damon_region *r = &ctx->r[i];
	memmove(r + 2, r + 1, (size_t)(ctx->nr - i - 1) * sizeof(*r));
	r[1] = r[0];
	r[0].end = r[1].start = r[0].start + sz;
	ctx->nr++;
}

/* The regions total divided by min_nr_regions (damon_region_sz_limit). */
static void update_sz_limit(struct damon_ctx *ctx)
{
	uint64_t sz = 0;
	for (uint32_t i = 0; i < ctx->nr; i++)
		sz += rsize(&ctx->r[i]);
	sz /= ctx->attrs.min_nr_regions;
	ctx->sz_limit = sz < DAMON_MIN_REGION ? DAMON_MIN_REGION : sz;
}

/* The mapped space minus its two largest gaps, in address order (damon_va_three_regions).
 * -EINVAL when the VMAs do not leave two gaps. */
static int three_regions(struct vma_tree *mt, struct damon_range out[3])
{
	struct damon_range g1 = { 0, 0 }, g2 = { 0, 0 };	/* g1 the biggest */
	struct vma *prev = NULL, *v;
	uint64_t start = 0;
	for (v = vma_first(mt); v; prev = v, v = vma_next(mt, v)) {
		if (!prev) {
			start = v->vm_start;
			continue;
		}
		uint64_t gap = v->vm_start - prev->vm_end;
		if (gap > g1.end - g1.start) {
			g2 = g1;
			g1 = (struct damon_range){ prev->vm_end, v->vm_start };
		} else if (gap > g2.end - g2.start) {
			g2 = (struct damon_range){ prev->vm_end, v->vm_start };
		}
	}
	if (g1.end == g1.start || g2.end == g2.start)
		return -EINVAL;
	if (g1.start > g2.start) {
		struct damon_range t = g1;
		g1 = g2;
		g2 = t;
	}
	out[0] = (struct damon_range){ align_up(start), align_up(g1.start) };
	out[1] = (struct damon_range){ align_up(g1.end), align_up(g2.start) };
	out[2] = (struct damon_range){ align_up(g2.end), align_up(prev->vm_end) };
	return 0;
}

/* Appends [start, end) cut into nr_pieces equal pieces, the last taking the rounding
 * (damon_va_evenly_split_region). Room must be reserved. */
static void add_evenly(struct damon_ctx *ctx, uint64_t start, uint64_t end, uint64_t nr_pieces)
{
	uint64_t piece = nr_pieces > 1 ? align_down((end - start) / nr_pieces) : end - start;
	if (!piece)
		piece = end - start;
	for (uint64_t s = start; s < end; s += piece) {
		struct damon_region *r = &ctx->r[ctx->nr++];
		memset(r, 0, sizeof(*r));
		r->start = s;
		r->end = s + piece + piece <= end ? s + piece : end;
		if (r->end == end)
			break;
	}
}

static void snapshot(struct damon_ctx *ctx)
{
	if (ctx->nr)	/* no regions yet may mean no arrays yet */
		memcpy(ctx->snap, ctx->r, (size_t)ctx->nr * sizeof(*ctx->r));
	ctx->nr_snap = ctx->nr;
}

int damon_start_regions(struct damon_ctx *ctx, struct vma_tree *mt)
{
	struct damon_range rg[3];
	uint64_t per = ctx->attrs.aggr_us / ctx->attrs.sample_us;
	ctx->nr = 0;
	ctx->next_aggr_sis = per;
	ctx->next_update_sis = ctx->attrs.update_us / ctx->attrs.sample_us;
	if (ctx->fixed) {
		/* fvaddr: the user's ranges, one region each; splitting grows them. */
		if (damon_reserve(ctx, ctx->nr_ranges))
			return -ENOMEM;
		for (uint32_t i = 0; i < ctx->nr_ranges; i++)
			add_evenly(ctx, ctx->ranges[i].start, ctx->ranges[i].end, 1);
	} else if (!three_regions(mt, rg)) {
		uint64_t sz = 0;
		for (int i = 0; i < 3; i++)
			sz += rg[i].end - rg[i].start;
		sz /= ctx->attrs.min_nr_regions;
		if (sz < DAMON_MIN_REGION)
			sz = DAMON_MIN_REGION;
		uint64_t need = 3;
		for (int i = 0; i < 3; i++)
			need += (rg[i].end - rg[i].start) / sz;
		if (damon_reserve(ctx, (uint32_t)need))
			return -ENOMEM;
		for (int i = 0; i < 3; i++)
			if (rg[i].end > rg[i].start)
				add_evenly(ctx, rg[i].start, rg[i].end, (rg[i].end - rg[i].start) / sz);
	}
	update_sz_limit(ctx);
	snapshot(ctx);
	return 0;
}

/* Is the page at va present and young? (damon_va_young: a huge leaf counts as a whole.) */
static int pte_young(struct pgt *pgt, uint64_t va)
{
	int level;
	pte_t *ep = pgt_lookup(pgt, va, &level);
	if (!ep)
		return 0;
	pte_t e = __atomic_load_n(ep, __ATOMIC_RELAXED);
	return pte_present(e) && (e & PTE_A);
}

unsigned damon_check_accesses(struct damon_ctx *ctx, struct pgt *pgt)
{
	ctx->passed_samples++;
	for (uint32_t i = 0; i < ctx->nr; i++)
		if (ctx->r[i].sampling_addr && pte_young(pgt, ctx->r[i].sampling_addr))
			ctx->r[i].nr_accesses++;
	unsigned due = 0;
	if (ctx->passed_samples >= ctx->next_aggr_sis)
		due |= DAMON_DUE_AGGREGATE;
	if (ctx->passed_samples >= ctx->next_update_sis && !ctx->fixed)
		due |= DAMON_DUE_UPDATE;
	return due;
}

unsigned damon_prepare_access_checks(struct damon_ctx *ctx, struct pgt *pgt)
{
	unsigned cleared = 0;
	for (uint32_t i = 0; i < ctx->nr; i++) {
		struct damon_region *r = &ctx->r[i];
		r->sampling_addr = damon_rand(ctx, r->start, r->end);
		int level;
		pte_t *ep = pgt_lookup(pgt, r->sampling_addr, &level);
		if (!ep)
			continue;
		/* Only a present, young entry changes; the atomic AND races safely with the
		 * MMU's atomic OR of A under the same mm read lock. */
		pte_t e = __atomic_load_n(ep, __ATOMIC_RELAXED);
		if (pte_present(e) && (e & PTE_A)) {
			__atomic_fetch_and(ep, ~PTE_A, __ATOMIC_RELAXED);
			cleared++;
		}
	}
	return cleared;
}

static uint32_t diff_u32(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

/* One merge pass over the regions with the given threshold (damon_merge_regions_of); the
 * first pass of an aggregation also ages them. Merged values are size-weighted means. */
static void merge_pass(struct damon_ctx *ctx, uint32_t thres, int count_age)
{
	uint32_t out = 0;
	for (uint32_t i = 0; i < ctx->nr; i++) {
		struct damon_region *r = &ctx->r[i];
		if (count_age) {
			uint32_t now = r->nr_accesses, last = r->last_nr_accesses;
			if (diff_u32(now, last) > thres || (now == 0) != (last == 0))
				r->age = 0;
			else
				r->age++;
		}
		struct damon_region *p = out ? &ctx->r[out - 1] : NULL;
		if (p && p->end == r->start && diff_u32(p->nr_accesses, r->nr_accesses) <= thres &&
		    rsize(p) + rsize(r) <= ctx->sz_limit) {
			uint64_t sl = rsize(p), sr = rsize(r);
			p->nr_accesses = (uint32_t)((p->nr_accesses * sl + r->nr_accesses * sr) / (sl + sr));
			p->age = (uint32_t)((p->age * sl + r->age * sr) / (sl + sr));
			p->end = r->end;
		} else {
			ctx->r[out++] = *r;
		}
	}
	ctx->nr = out;
}

void damon_merge(struct damon_ctx *ctx)
{
	uint32_t max_thres = (uint32_t)(ctx->attrs.aggr_us / ctx->attrs.sample_us);
	uint32_t thres = max_thres / 10;
	int first = 1;
	/* Merge harder while the count is over max_nr_regions (kdamond_merge_regions). */
	do {
		merge_pass(ctx, thres, first);
		first = 0;
		thres = thres * 2 > 1 ? thres * 2 : 1;
	} while (ctx->nr > ctx->attrs.max_nr_regions && thres / 2 < max_thres);
}

/* Cuts region r into up to nr_subs pieces at random 10%..90% points, writing them to out
 * in address order (damon_split_regions_of keeps cutting the left piece). Returns the
 * number of pieces. */
static uint32_t split_one(struct damon_ctx *ctx, const struct damon_region *r, int nr_subs,
			  struct damon_region *out)
{
	uint64_t cut[3];
	int nc = 0;
	uint64_t sz = rsize(r);
	for (int i = 0; i < nr_subs - 1 && sz > 2 * DAMON_MIN_REGION; i++) {
		uint64_t sub = align_down(damon_rand(ctx, 1, 10) * sz / 10);
		if (!sub || sub >= sz)
			continue;
		cut[nc++] = r->start + sub;
		sz = sub;
	}
	uint32_t n = 0;
	uint64_t s = r->start;
	for (int k = nc - 1; k >= 0; k--) {	/* the last cut is the leftmost */
		out[n] = *r;
		out[n].start = s;
		out[n].end = cut[k];
		s = cut[k];
		n++;
	}
	out[n] = *r;
	out[n].start = s;
	return n + 1;
}

void damon_reset_and_split(struct damon_ctx *ctx)
{
	snapshot(ctx);
	ctx->nr_aggregations++;
	ctx->next_aggr_sis += ctx->attrs.aggr_us / ctx->attrs.sample_us;
	for (uint32_t i = 0; i < ctx->nr; i++) {
		ctx->r[i].last_nr_accesses = ctx->r[i].nr_accesses;
		ctx->r[i].nr_accesses = 0;
	}
	uint32_t nr = ctx->nr, max = ctx->attrs.max_nr_regions;
	if (nr > max / 2)
		return;
	/* Try three pieces when the count has stalled: the middle may differ. */
	int subs = (ctx->last_nr_regions == nr && nr < max / 3) ? 3 : 2;
	ctx->last_nr_regions = nr;
	if (damon_reserve(ctx, nr * (uint32_t)subs))
		return;		/* no room: this aggregation keeps its regions */
	uint32_t out = 0;
	for (uint32_t i = 0; i < nr; i++)
		out += split_one(ctx, &ctx->r[i], subs, &ctx->spare[out]);
	struct damon_region *t = ctx->r;
	ctx->r = ctx->spare;
	ctx->spare = t;
	ctx->nr = out;
}

static int intersects(const struct damon_region *r, const struct damon_range *g)
{
	return r->start < g->end && g->start < r->end;
}

static void put_new(struct damon_region *out, uint32_t *n, uint64_t start, uint64_t end)
{
	memset(&out[*n], 0, sizeof(out[*n]));
	out[*n].start = start;
	out[*n].end = end;
	(*n)++;
}

/* Fits the regions to the ranges (damon_set_regions): regions touching no range go, the
 * first and last region of each range stretch to its ends, holes between them get new
 * regions, and a range with none gets one. Each old region serves the first range it
 * touches only, as in Linux. */
static void set_regions(struct damon_ctx *ctx, const struct damon_range *g, uint32_t ng)
{
	uint32_t out = 0, i = 0;
	for (uint32_t k = 0; k < ng; k++) {
		uint32_t first = out;
		while (i < ctx->nr && ctx->r[i].start < g[k].end) {
			if (intersects(&ctx->r[i], &g[k])) {
				if (out > first && ctx->spare[out - 1].end < ctx->r[i].start)
					put_new(ctx->spare, &out, ctx->spare[out - 1].end, ctx->r[i].start);
				ctx->spare[out++] = ctx->r[i];
			}
			i++;
		}
		if (out == first) {
			put_new(ctx->spare, &out, g[k].start, g[k].end);
			continue;
		}
		ctx->spare[first].start = g[k].start;
		ctx->spare[out - 1].end = g[k].end;
	}
	struct damon_region *t = ctx->r;
	ctx->r = ctx->spare;
	ctx->spare = t;
	ctx->nr = out;
}

int damon_update(struct damon_ctx *ctx, struct vma_tree *mt)
{
	struct damon_range rg[3];
	ctx->next_update_sis += ctx->attrs.update_us / ctx->attrs.sample_us;
	if (ctx->fixed || three_regions(mt, rg))
		return 0;	/* fvaddr never re-reads; too few gaps keeps the old regions */
	if (damon_reserve(ctx, ctx->nr * 2 + 4))
		return -ENOMEM;
	set_regions(ctx, rg, 3);
	update_sz_limit(ctx);
	return 0;
}

int damon_check(const struct damon_ctx *ctx)
{
	int bad = 0;
	uint64_t samples = ctx->attrs.aggr_us / ctx->attrs.sample_us;
	if (ctx->nr > ctx->cap || ctx->nr_snap > ctx->cap) {
		fprintf(stderr, "damon: %u regions (%u in the snapshot) in room for %u\n", ctx->nr,
			ctx->nr_snap, ctx->cap);
		return 1;
	}
	for (uint32_t i = 0; i < ctx->nr && bad < 10; i++) {
		const struct damon_region *r = &ctx->r[i];
		const char *why = NULL;
		if (r->start >= r->end || (r->start | r->end) & (DAMON_MIN_REGION - 1))
			why = "empty or misaligned";
		else if (i && r->start < ctx->r[i - 1].end)
			why = "overlaps or is out of order with the previous region";
		else if (r->nr_accesses > samples || r->last_nr_accesses > samples)
			why = "counts more accesses than samples";
		if (why) {
			fprintf(stderr, "damon: region %u %lx-%lx nr_accesses %u/%u: %s\n", i,
				(unsigned long)r->start, (unsigned long)r->end, r->nr_accesses,
				r->last_nr_accesses, why);
			bad++;
		}
	}
	return bad;
}
