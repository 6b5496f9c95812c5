/*
 * THP's control (SPEC §6, §11): the registry values ThpEnabled, ThpDefrag and khugepaged's
 * two knobs made live, khugepaged's daemon step that pm_system_tick runs, and the views of
 * /sys/kernel/mm/transparent_hugepage. Lock order: sys->lock, then mm locks (never both:
 * the step drops sys->lock before it scans).
 */
#ifndef PM_SYS_THP_CTL_H
#define PM_SYS_THP_CTL_H

#include <stdint.h>

#include "lib/strbuf.h"

struct pm_system;

/* khugepaged's knobs, timer and cursor; every field under sys->lock. */
struct sys_khugepaged {
	uint64_t pages_to_scan;		/* ThpKhugepagedPagesToScan: pages per pass */
	uint64_t sleep_ms;		/* ThpKhugepagedScanSleepMillisecs: ticks between passes */
	uint64_t next_run;		/* tick of the next pass */
	int cursor_pid;			/* process being scanned (0 = start a new full scan) */
	uint64_t cursor_addr;		/* address inside it */
};

void sys_thp_init(struct pm_system *sys);
/* The applier for the THP values; sys->lock held. */
void sys_thp_apply(struct pm_system *sys, int id, long v);
/* Runs every khugepaged pass due by simulated tick `now` (none while ThpEnabled is
 * never, as Linux stops the thread). Takes no lock on entry. */
void sys_thp_tick(struct pm_system *sys, uint64_t now);
/* A file of sys/kernel/mm/transparent_hugepage/ (name is the part after it). */
int sys_thp_render(struct pm_system *sys, const char *name, struct strbuf *sb);

#endif
