/*
 * The THP views: the files of /sys/kernel/mm/transparent_hugepage (hugepage_attr and
 * khugepaged_attr in mm/huge_memory.c and mm/khugepaged.c), printed as Linux 6.18 prints
 * them. Rendering only: the caller snapshots the figures.
 */
#ifndef PM_PROC_THP_H
#define PM_PROC_THP_H

#include <stdint.h>

#include "lib/strbuf.h"

struct proc_thp_view {
	int enabled, defrag;			/* THP_* and THP_DEFRAG_* (mm/mm.h) */
	uint64_t pages_to_scan, scan_sleep_millisecs;
	uint64_t full_scans, pages_collapsed;
};

/* One file by its name under sys/kernel/mm/transparent_hugepage/ ("enabled",
 * "khugepaged/full_scans", ...): 0, or -ENOENT. */
int proc_render_thp(const struct proc_thp_view *v, const char *name, struct strbuf *sb);

#endif
