/*
 * The KSM views: the files of /sys/kernel/mm/ksm (ksm_attrs in mm/ksm.c) and
 * /proc/<pid>/ksm_stat and ksm_merging_pages (fs/proc/base.c), printed as Linux 6.x
 * prints them. Rendering only: the caller snapshots the figures under their locks.
 */
#ifndef PM_PROC_KSM_H
#define PM_PROC_KSM_H

#include "lib/strbuf.h"
#include "mm/ksm_mm.h"

/* The system-wide figures, read under ksm->lock and the registry's lock. */
struct proc_ksm_view {
	long run;
	uint64_t pages_to_scan, sleep_millisecs;
	uint64_t pages_shared, pages_sharing, pages_unshared, pages_volatile;
	uint64_t pages_scanned, full_scans, rmap_items, stable_nodes;
};

/* One file of /sys/kernel/mm/ksm by its name ("pages_shared", ...): 0, or -ENOENT. */
int proc_render_ksm(const struct proc_ksm_view *v, const char *name, struct strbuf *sb);
/* /proc/<pid>/ksm_stat (proc_pid_ksm_stat). */
void proc_render_ksm_stat(const struct ksm_mm_stat *st, struct strbuf *sb);
/* /proc/<pid>/ksm_merging_pages (proc_pid_ksm_merging_pages). */
void proc_render_ksm_merging_pages(const struct ksm_mm_stat *st, struct strbuf *sb);

#endif
