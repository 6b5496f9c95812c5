/*
 * ksmd's control (SPEC §6, §11): the live values of KsmRun, KsmPagesToScan and
 * KsmSleepMillisecs that the registry applier pushes, the daemon step pm_system_tick
 * runs, and the KSM views of /sys/kernel/mm/ksm and /proc/<pid>.
 * Lock order: sys->lock, then ksm->lock (mm/ksm_mm.h), then mm locks.
 */
#ifndef PM_SYS_KSM_CTL_H
#define PM_SYS_KSM_CTL_H

#include <stdint.h>

#include "lib/strbuf.h"

struct pm_system;
struct pm_process;
struct pm_thread;

/* ksmd's knobs and timer; every field under sys->lock. */
struct sys_ksmd {
	long run;			/* KsmRun: 0 stop, 1 merge, 2 unmerged and stopped */
	uint64_t pages_to_scan;		/* KsmPagesToScan: pages per batch */
	uint64_t sleep_ms;		/* KsmSleepMillisecs: ticks between batches (0 = 1) */
	uint64_t next_run;		/* tick of the next batch */
};

void sys_ksm_init(struct pm_system *sys);
/* The applier for the three KSM values; sys->lock held. run=2 unmerges everything now
 * (run_store's KSM_RUN_UNMERGE); if a page cannot be copied, run falls back to 0. */
void sys_ksm_apply(struct pm_system *sys, int id, long v);
/* Runs every ksmd batch due by simulated tick `now`. Takes no lock on entry. */
void sys_ksm_tick(struct pm_system *sys, uint64_t now);
/* A file of sys/kernel/mm/ksm/ (name is the part after it): 0 or -ENOENT. */
int sys_ksm_render(struct pm_system *sys, const char *name, struct strbuf *sb);
/* /proc/<pid>/ksm_stat or ksm_merging_pages after the gate: 0 or -ENOENT. */
int sys_ksm_render_proc(struct pm_process *p, const char *name, struct strbuf *sb);
/* prctl PR_SET_MEMORY_MERGE / PR_GET_MEMORY_MERGE; a holds the prctl arguments. */
long sys_ksm_prctl(struct pm_thread *t, const long a[6]);

#endif
