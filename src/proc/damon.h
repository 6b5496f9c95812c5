/*
 * The /proc/<pid>/damon_regions text (docs/damon.md): a context's attributes, its regions
 * as of the last aggregation, and its schemes' stats. Rendering only: the caller holds
 * whatever lock guards the context.
 */
#ifndef PM_PROC_DAMON_H
#define PM_PROC_DAMON_H

#include "lib/strbuf.h"
#include "reclaim/damon.h"

void proc_render_damon(const struct damon_ctx *ctx, struct strbuf *sb);

#endif
