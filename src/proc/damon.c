/*
 * Renders a DAMON context for /proc/<pid>/damon_regions. The format is stable and
 * documented in docs/damon.md: two '#' header lines (attributes, then the aggregation
 * count and region count), one line per region "start-end nr_accesses age" in hex and
 * decimal, then one "scheme<N>" line per scheme with its stats. Never changes the context.
 */
#include "proc/damon.h"

void proc_render_damon(const struct damon_ctx *ctx, struct strbuf *sb)
{
	const struct damon_attrs *a = &ctx->attrs;
	sb_printf(sb, "# ops=%s sample_us=%lu aggr_us=%lu update_us=%lu min_nr_regions=%u "
		  "max_nr_regions=%u\n", ctx->fixed ? "fvaddr" : "vaddr",
		  (unsigned long)a->sample_us, (unsigned long)a->aggr_us,
		  (unsigned long)a->update_us, a->min_nr_regions, a->max_nr_regions);
	sb_printf(sb, "# aggregations=%lu nr_regions=%u\n", (unsigned long)ctx->nr_aggregations,
		  ctx->nr_snap);
	/* The snapshot, not the live array: mid-aggregation counts would read as cold. */
	for (uint32_t i = 0; i < ctx->nr_snap; i++) {
		const struct damon_region *r = &ctx->snap[i];
		sb_printf(sb, "%08lx-%08lx %u %u\n", (unsigned long)r->start, (unsigned long)r->end,
			  r->nr_accesses, r->age);
	}
	for (uint32_t k = 0; k < ctx->nr_schemes; k++) {
		const struct damos *s = &ctx->schemes[k];
		sb_printf(sb, "scheme%u action=%s nr_tried=%lu sz_tried=%lu nr_applied=%lu "
			  "sz_applied=%lu qt_exceeds=%lu\n", k, damos_action_name(s->action),
			  (unsigned long)s->stat.nr_tried, (unsigned long)s->stat.sz_tried,
			  (unsigned long)s->stat.nr_applied, (unsigned long)s->stat.sz_applied,
			  (unsigned long)s->stat.qt_exceeds);
	}
}
