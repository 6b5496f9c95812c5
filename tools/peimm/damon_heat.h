/*
 * The heatmap of 'peimm damon' between the code that fills it (damon_cmd.c: a workload or a
 * scenario under DAMON) and the code that draws it (damon_draw.c: terminal, SVG, PNG). The
 * address axis may skip the gaps between mapped ranges; each row knows where it starts.
 */
#ifndef PEIMM_DAMON_HEAT_H
#define PEIMM_DAMON_HEAT_H

#include <stdint.h>

#define HEAT_LABEL 48

struct heat {
	int         rows, cols, pid;
	int         aggr_ticks;	/* ticks (= samples) per aggregation, one column */
	long        ticks;	/* ticks drawn: cols * aggr_ticks */
	uint64_t    total;	/* bytes on the address axis (gaps left out) */
	int         nspans;	/* mapped ranges on the axis; > 1 means gaps were cut */
	double     *v;		/* rows * cols: share of samples that saw an access, 0..1 */
	uint64_t   *row_addr;	/* rows: the address where each row starts */
	char       *row_gap;	/* rows: 1 = a gap of the address space was cut above it */
	char      (*row_label)[HEAT_LABEL];	/* rows: text beside the row, "" = none */
	const char *source;	/* "built-in workload" or the scenario file */
};

void damon_draw_terminal(const struct heat *h);
int  damon_draw_svg(const struct heat *h, const char *path);	/* 0 or -errno */
int  damon_draw_png(const struct heat *h, const char *path);

#endif
