/*
 * DAMON, the data access monitor (Linux mm/damon/core.c and vaddr.c; SPEC §10): one
 * monitoring context per target address space. It splits the space into regions, samples
 * one page per region through the PTE Accessed bit, merges and splits regions each
 * aggregation, and applies DAMOS schemes to the regions whose pattern matches. It works on
 * lower-layer types only (the page tables, the VMA tree, the PRNG): it never includes a
 * header from src/mm, takes no locks itself, and never flushes a TLB (its caller does).
 */
#ifndef PM_RECLAIM_DAMON_H
#define PM_RECLAIM_DAMON_H

#include <stdint.h>

#include "lib/common.h"
#include "lib/kmem.h"
#include "lib/prng.h"
#include "pgtable/pgtable.h"
#include "vma/vma.h"

#define DAMON_MIN_REGION	PAGE_SIZE	/* smallest region, and the split/align unit */
#define DAMON_MAX_RANGES	4		/* fixed target ranges of an fvaddr context */
#define DAMOS_MAX_SCHEMES	8		/* schemes per context */

/* One monitored region: [start, end) with an exclusive end, page aligned. */
struct damon_region {
	uint64_t start, end;		/* bytes */
	uint64_t sampling_addr;		/* the address whose A bit the last sample cleared */
	uint32_t nr_accesses;		/* samples this aggregation that found it accessed */
	uint32_t last_nr_accesses;	/* nr_accesses of the previous aggregation */
	uint32_t age;			/* aggregations its access rate stayed about the same */
};

/* Monitoring attributes (Linux's struct damon_attrs), in microseconds of simulated time. */
struct damon_attrs {
	uint64_t sample_us;		/* sampling interval */
	uint64_t aggr_us;		/* aggregation interval */
	uint64_t update_us;		/* ops update interval: vaddr re-reads the VMAs */
	uint32_t min_nr_regions, max_nr_regions;
};

struct damon_range { uint64_t start, end; };	/* bytes, end exclusive */

/* DAMOS actions; the values are the public PM_DAMOS_* ones. */
enum damos_action { DAMOS_STAT, DAMOS_HUGEPAGE, DAMOS_NOHUGEPAGE, DAMOS_COLD, DAMOS_PAGEOUT,
		    NR_DAMOS_ACTIONS };

/* Which regions a scheme acts on; every bound is inclusive. */
struct damos_pattern {
	uint64_t min_sz, max_sz;		/* bytes */
	uint32_t min_nr_accesses, max_nr_accesses;	/* samples per aggregation */
	uint32_t min_age, max_age;		/* aggregations */
};

/* The charge limit of a scheme (Linux's struct damos_quota, without goals). */
struct damos_quota {
	uint64_t sz;			/* bytes per charge window; 0 = no size limit */
	uint64_t ms;			/* time per charge window; 0 = no time limit */
	uint64_t reset_ms;		/* charge window length */
	/* private state, reset when the scheme is added */
	uint64_t esz;			/* effective bytes of this window; 0 = unlimited */
	uint64_t charged_sz;		/* bytes charged in this window */
	uint64_t charged_from_us;	/* start of this window */
	uint64_t charge_addr_from;	/* resume after this address next window; 0 = none */
	int started;			/* a window has been opened */
};

struct damos_stat { uint64_t nr_tried, sz_tried, nr_applied, sz_applied, qt_exceeds; };

struct damos {
	struct damos_pattern pattern;
	enum damos_action action;
	struct damos_quota quota;
	struct damos_stat stat;
};

/* What the layer above does for an action on [start, end): returns the bytes it applied
 * (Linux's damon_operations.apply_scheme). Called with no lock held by DAMON. */
struct damon_ops {
	uint64_t (*apply_scheme)(void *priv, enum damos_action action, uint64_t start,
				 uint64_t end);
};

/* A monitoring context. Every field is guarded by the caller's lock (sys's damon lock). */
struct damon_ctx {
	struct kmem *km;		/* immutable */
	struct damon_attrs attrs;	/* immutable after damon_ctx_init */
	struct prng rng;		/* seeded from the system PRNG at start */
	struct damon_region *r;		/* the regions, sorted, never overlapping */
	uint32_t nr;			/* regions in r */
	struct damon_region *spare;	/* scratch array for rebuilding r */
	struct damon_region *snap;	/* the regions as of the last aggregation */
	uint32_t nr_snap;
	uint32_t cap;			/* entries allocated in each of r, spare and snap */
	uint32_t last_nr_regions;	/* count at the previous split (Linux keeps it static) */
	uint64_t sz_limit;		/* largest region merging may make: total / min_nr_regions */
	uint64_t passed_samples;	/* sampling intervals done */
	uint64_t next_aggr_sis, next_update_sis;	/* in passed_samples */
	uint64_t nr_aggregations;	/* aggregations done */
	int fixed;			/* fvaddr: ranges given by the user, never re-read */
	uint32_t nr_ranges;
	struct damon_range ranges[DAMON_MAX_RANGES];
	uint32_t nr_schemes;
	struct damos schemes[DAMOS_MAX_SCHEMES];
};

/* What the step must do after the access check (damon_check_accesses' result). */
enum { DAMON_DUE_AGGREGATE = 1, DAMON_DUE_UPDATE = 2 };

/* ---- damon.c: the context and its regions ---- */
/* Linux's damon_set_attrs checks: min >= 3, min <= max, sample <= aggr (all nonzero), and a
 * sample of at least one tick (1000 us). 0 or -EINVAL. */
int damon_attrs_check(const struct damon_attrs *a);
/* A context with no regions yet; ranges (nr_ranges > 0) make it fixed (fvaddr). 0, or
 * -EINVAL for bad attrs or ranges (nothing allocated). */
int damon_ctx_init(struct damon_ctx *ctx, struct kmem *km, const struct damon_attrs *a,
		   uint64_t seed, const struct damon_range *ranges, uint32_t nr_ranges);
void damon_ctx_release(struct damon_ctx *ctx);
/* The initial regions: vaddr's three regions around the two largest gaps between VMAs,
 * each split evenly towards min_nr_regions; fvaddr's ranges as given. Called with the
 * VMAs stable. 0 or -ENOMEM (no regions then). */
int damon_start_regions(struct damon_ctx *ctx, struct vma_tree *mt);
/* Counts one sampling interval and the accesses of the pages the last prepare sampled.
 * Page tables must be stable (mm read lock). Returns DAMON_DUE_* bits. */
unsigned damon_check_accesses(struct damon_ctx *ctx, struct pgt *pgt);
/* Aggregation, step 1: ages regions and merges neighbours with similar access counts
 * (kdamond_merge_regions). */
void damon_merge(struct damon_ctx *ctx);
/* Aggregation, last step: snapshots the regions, resets the counters and splits regions
 * at random points (kdamond_reset_aggregated, kdamond_split_regions). */
void damon_reset_and_split(struct damon_ctx *ctx);
/* The ops update: vaddr re-derives the three regions from the VMAs (damon_set_regions).
 * VMAs stable. On -ENOMEM the regions are unchanged. */
int damon_update(struct damon_ctx *ctx, struct vma_tree *mt);
/* Picks a random page in each region and clears its A bit (damon_va_mkold). Returns the
 * number of A bits it cleared: the caller must invalidate TLBs when it is not 0. */
unsigned damon_prepare_access_checks(struct damon_ctx *ctx, struct pgt *pgt);
/* Room for n regions in r, spare and snap: 0 or -ENOMEM (nothing changed). */
int damon_reserve(struct damon_ctx *ctx, uint32_t n);
/* The integrity check (STYLE rule 10): regions sorted, disjoint, page aligned and non-empty,
 * within capacity, counts no higher than the samples an aggregation takes. Returns the
 * number of problems, each printed to stderr. */
int damon_check(const struct damon_ctx *ctx);
/* Splits region i at start + sz (0 < sz < size; room reserved): the new region i+1 keeps
 * its counters. */
void damon_split_at(struct damon_ctx *ctx, uint32_t i, uint64_t sz);

/* ---- damos.c: schemes ---- */
/* Adds a scheme: its index, -EINVAL (bad pattern or action), or -ENOSPC
 * (DAMOS_MAX_SCHEMES reached). */
int damos_add(struct damon_ctx *ctx, const struct damos_pattern *p, int action,
	      const struct damos_quota *q);
/* Applies every scheme to the regions that match (kdamond_apply_schemes), charging the
 * quotas at simulated time now_us. May split regions. */
void damos_apply(struct damon_ctx *ctx, const struct damon_ops *ops, void *priv,
		 uint64_t now_us);
const char *damos_action_name(enum damos_action a);

#endif
