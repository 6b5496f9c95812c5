/*
 * DAMON control: the per-system list of monitoring contexts, one per target process, the
 * daemon step pm_system_tick runs, and the hooks for process exit and /proc. Who may start,
 * stop and configure monitoring is decided in damon_ctl.c (SPEC §10, §7).
 * Lock order: damon->lock is taken before sys->lock and before any mm lock.
 */
#ifndef PM_SYS_DAMON_CTL_H
#define PM_SYS_DAMON_CTL_H

#include <pthread.h>
#include <stdint.h>

#include "lib/list.h"
#include "lib/strbuf.h"

struct pm_system;
struct pm_process;

struct sys_damon {
	pthread_mutex_t lock;		/* the target list and every context on it */
	struct list_head targets;	/* struct sys_damon_target, sorted by pid; under lock */
};

void sys_damon_init(struct pm_system *sys);
/* Frees any context left (the process exits normally free theirs first). */
void sys_damon_release(struct pm_system *sys);
/* Runs every sampling interval that has elapsed by simulated tick `now`. Takes no lock
 * on entry. */
void sys_damon_tick(struct pm_system *sys, uint64_t now);
/* The target exits: its context stops and is freed. Called without damon->lock. */
void sys_damon_exit(struct pm_process *p);
/* /proc/<pid>/damon_regions after the gate; an unmonitored process renders as empty. */
int sys_damon_render(struct pm_process *p, struct strbuf *sb);

#endif
