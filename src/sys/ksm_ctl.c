/*
 * ksmd's control (SPEC §6): the registry values become live here, the daemon runs its
 * batches inside pm_system_tick (every KsmSleepMillisecs ticks, KsmPagesToScan pages
 * each), and the KSM views and prctls reach mm/ksm_mm.c. ksmd is off by default. Only
 * SYSTEM may write KsmRun (the key SD in registry.c), and every change is audited there.
 * No host threads: all work happens inside pm_system_tick, so runs replay from the seed.
 */
#include "sys/sys.h"

#include <errno.h>
#include <string.h>

#include "mm/ksm_mm.h"
#include "proc/ksm.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

void sys_ksm_init(struct pm_system *sys)
{
	sys->ksmd.run = sys->reg[REG_KSM_RUN];
	sys->ksmd.pages_to_scan = (uint64_t)sys->reg[REG_KSM_PAGES_TO_SCAN];
	sys->ksmd.sleep_ms = (uint64_t)sys->reg[REG_KSM_SLEEP_MILLISECS];
	sys->ksmd.next_run = 0;
}

void sys_ksm_apply(struct pm_system *sys, int id, long v)
{
	struct sys_ksmd *d = &sys->ksmd;
	switch (id) {
	case REG_KSM_RUN:
		if (v == 1 && d->run != 1)
			d->next_run = sys->ticks + 1;	/* run_store wakes ksmd at once */
		d->run = v;
		if (v == 2 && mm_ksm_unmerge_all(&sys->ms.ksm)) {
			d->run = 0;	/* KSM_RUN_STOP on failure, as run_store does */
			sys->reg[id] = 0;
		}
		break;
	case REG_KSM_PAGES_TO_SCAN:
		d->pages_to_scan = (uint64_t)v;
		break;
	case REG_KSM_SLEEP_MILLISECS:
		d->sleep_ms = (uint64_t)v;
		break;
	}
}

void sys_ksm_tick(struct pm_system *sys, uint64_t now)
{
	for (;;) {
		pthread_mutex_lock(&sys->lock);
		struct sys_ksmd *d = &sys->ksmd;
		int due = d->run == 1 && d->next_run <= now;
		uint64_t npages = d->pages_to_scan;
		if (due)
			d->next_run += d->sleep_ms ? d->sleep_ms : 1;
		pthread_mutex_unlock(&sys->lock);
		if (!due)
			return;
		mm_ksm_do_scan(&sys->ms.ksm, npages);
	}
}

int sys_ksm_render(struct pm_system *sys, const char *name, struct strbuf *sb)
{
	struct proc_ksm_view v;
	pthread_mutex_lock(&sys->lock);
	v.run = sys->ksmd.run;
	v.pages_to_scan = sys->ksmd.pages_to_scan;
	v.sleep_millisecs = sys->ksmd.sleep_ms;
	pthread_mutex_unlock(&sys->lock);
	struct ksm *k = &sys->ms.ksm;
	pthread_mutex_lock(&k->lock);
	v.pages_shared = k->pages_shared;
	v.pages_sharing = k->pages_sharing;
	v.pages_unshared = k->pages_unshared;
	v.pages_volatile = ksm_pages_volatile(k);
	v.pages_scanned = k->pages_scanned;
	v.full_scans = k->seqnr;
	v.rmap_items = k->rmap_items;
	v.stable_nodes = k->stable_nodes;
	pthread_mutex_unlock(&k->lock);
	return proc_render_ksm(&v, name, sb);
}

int sys_ksm_render_proc(struct pm_process *p, const char *name, struct strbuf *sb)
{
	struct ksm_mm_stat st;
	mm_ksm_stat(p->mm, &st);
	if (!strcmp(name, "ksm_stat"))
		proc_render_ksm_stat(&st, sb);
	else if (!strcmp(name, "ksm_merging_pages"))
		proc_render_ksm_merging_pages(&st, sb);
	else
		return -ENOENT;
	return 0;
}

/* kernel/sys.c: SET takes any arg2 (non-zero enables) but arg3..5 must be 0; GET also
 * wants arg2 = 0. No privilege is needed (the merged version dropped CAP_SYS_RESOURCE). */
long sys_ksm_prctl(struct pm_thread *t, const long a[6])
{
	struct mm_struct *mm = t->proc->mm;
	if (a[0] == PR_SET_MEMORY_MERGE) {
		if (a[2] || a[3] || a[4])
			return -EINVAL;
		return mm_ksm_set_merge_any(mm, a[1] != 0);
	}
	if (a[1] || a[2] || a[3] || a[4])
		return -EINVAL;
	return mm_ksm_merge_any(mm);
}
