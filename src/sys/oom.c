/*
 * The OOM killer (SPEC §8). When a fault cannot get a frame, pm_access asks sys_oom_kill
 * for room: with PanicOnOom set the machine halts with a report; otherwise the running
 * process with the highest badness (reclaim/oom.c) gets SIGKILL, one audit line records
 * pid, score and RSS, vmstat's oom_kill counts it, and the victim is reaped on the spot
 * when nobody is inside it, so the faulting access can retry at once rather than fail.
 * oom_score_adj -1000 is immune. /proc/<pid>/oom_score comes from the same badness.
 */
#include "sys/sys.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include "reclaim/oom.h"

/* Pages the badness is measured against: Linux's totalpages, RAM plus swap. */
static uint64_t total_pages(struct pm_system *sys)
{
	uint64_t total = 0, nfree, cached;
	if (sys->ms.swap)
		swap_stat(sys->ms.swap, &total, &nfree, &cached);
	return sys->ph.nr_frames - 1 + total;
}

/* p's badness; sys->lock held, so p->mm stays (teardown clears it under the lock). */
static int64_t badness_locked(struct pm_system *sys, struct pm_process *p)
{
	struct mm_struct *mm = p->mm;
	struct oom_input in = {
		.rss_pages = (uint64_t)(atomic_load(&mm->rss[MM_ANONPAGES]) +
					atomic_load(&mm->rss[MM_FILEPAGES]) +
					atomic_load(&mm->rss[MM_SHMEMPAGES])),
		.swap_pages = (uint64_t)atomic_load(&mm->swapents),	/* MM_SWAPENTS */
		.pgtable_pages = pgt_nr_tables(&mm->pgt),
		.oom_score_adj = p->oom_score_adj,
		.tcb = token_is_system(p->primary),
	};
	return oom_badness(&in, total_pages(sys));
}

uint64_t sys_oom_score(struct pm_process *p)
{
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->lock);
	uint64_t s = p->mm ? oom_score(badness_locked(sys, p), total_pages(sys)) : 0;
	pthread_mutex_unlock(&sys->lock);
	return s;
}

/* The running process with the highest badness (the first such in pid order), or NULL
 * when every candidate is immune. *dying is set when a killed process still waits to be
 * reaped: its memory is on the way back, so the caller should wait, not kill again. */
static struct pm_process *pick_victim(struct pm_system *sys, int64_t *score, int *dying)
{
	struct pm_process *victim = NULL;
	*dying = 0;
	for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next) {
		struct pm_process *p = list_entry(l, struct pm_process, node);
		int st = atomic_load(&p->state);
		if (st == PROC_DYING && p->killed && p->mm)
			*dying = 1;
		if (st != PROC_RUNNING || !p->mm)
			continue;
		int64_t b = badness_locked(sys, p);
		if (b != OOM_IMMUNE && (!victim || b > *score)) {
			victim = p;
			*score = b;
		}
	}
	return victim;
}

int sys_oom_kill(struct pm_system *sys, struct pm_process *faulting)
{
	pthread_mutex_lock(&sys->lock);
	long panic = sys->reg[REG_PANIC_ON_OOM];
	int64_t score = 0;
	int dying;
	struct pm_process *v = panic ? NULL : pick_victim(sys, &score, &dying);
	uint64_t rss = 0;
	int pid = v ? v->pid : 0;
	if (v)
		rss = (uint64_t)(atomic_load(&v->mm->rss[MM_ANONPAGES]) +
				 atomic_load(&v->mm->rss[MM_FILEPAGES]) +
				 atomic_load(&v->mm->rss[MM_SHMEMPAGES]));
	pthread_mutex_unlock(&sys->lock);
	if (panic) {
		atomic_store(&sys->panicked, 1);
		audit_log(sys, "oom panic_on_oom=%ld faulting=%d: system halted", panic, faulting->pid);
		fprintf(stderr, "peimm: Kernel panic - not syncing: Out of memory (panic_on_oom=%ld)\n",
			panic);
		return -ENOMEM;
	}
	if (!v) {
		if (dying) {
			sched_yield();	/* a victim is being torn down: its frames are coming */
			return 0;
		}
		return -ENOMEM;
	}
	process_kill(v);
	atomic_fetch_add(&sys->oom_kills, 1);
	audit_log(sys, "oom-kill pid=%d score=%lld rss=%llu faulting=%d", pid, (long long)score,
		  (unsigned long long)rss, faulting->pid);
	if (v != faulting)
		process_reap(v);	/* now, when nobody is inside it; else the reaper's tick */
	return v == faulting ? -ENOMEM : 0;
}
