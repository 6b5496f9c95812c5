/*
 * THP's control (SPEC §6): the registry values become live in mm_sys.thp, khugepaged runs
 * its passes inside pm_system_tick (every ThpKhugepagedScanSleepMillisecs ticks, up to
 * ThpKhugepagedPagesToScan pages each, process by process in pid order with a cursor, a
 * full scan counted each time the list is done), and the sysfs views render here. No host
 * threads: all work happens inside pm_system_tick, so runs replay from the seed.
 */
#include "sys/sys.h"

#include <string.h>

#include "proc/thp.h"

void sys_thp_init(struct pm_system *sys)
{
	atomic_store(&sys->ms.thp.enabled, (int)sys->reg[REG_THP_ENABLED]);
	atomic_store(&sys->ms.thp.defrag, (int)sys->reg[REG_THP_DEFRAG]);
	sys->khugepaged.pages_to_scan = (uint64_t)sys->reg[REG_THP_KHUGEPAGED_PAGES_TO_SCAN];
	sys->khugepaged.sleep_ms = (uint64_t)sys->reg[REG_THP_KHUGEPAGED_SLEEP_MILLISECS];
	sys->khugepaged.next_run = sys->khugepaged.sleep_ms;
	sys->khugepaged.cursor_pid = 0;
	sys->khugepaged.cursor_addr = 0;
}

void sys_thp_apply(struct pm_system *sys, int id, long v)
{
	struct sys_khugepaged *k = &sys->khugepaged;
	switch (id) {
	case REG_THP_ENABLED: atomic_store(&sys->ms.thp.enabled, (int)v); break;
	case REG_THP_DEFRAG: atomic_store(&sys->ms.thp.defrag, (int)v); break;
	case REG_THP_KHUGEPAGED_PAGES_TO_SCAN: k->pages_to_scan = (uint64_t)v; break;
	case REG_THP_KHUGEPAGED_SLEEP_MILLISECS:
		k->sleep_ms = (uint64_t)v;
		k->next_run = sys->ticks + (uint64_t)v;	/* the new sleep starts now */
		break;
	}
}

/* The next live process at or after pid with an mm, with a reference on it; 0 = none. */
static struct mm_struct *next_mm(struct pm_system *sys, int pid, int *found)
{
	for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next) {
		struct pm_process *p = list_entry(l, struct pm_process, node);
		if (p->pid >= pid && p->mm && atomic_load(&p->state) == PROC_RUNNING) {
			*found = p->pid;
			mm_grab(p->mm);
			return p->mm;
		}
	}
	return NULL;
}

/* khugepaged_do_scan: one pass of pages_to_scan pages. */
static void khugepaged_pass(struct pm_system *sys, uint64_t budget)
{
	while (budget >= 512) {
		pthread_mutex_lock(&sys->lock);
		struct sys_khugepaged *k = &sys->khugepaged;
		int pid = 0;
		struct mm_struct *mm = next_mm(sys, k->cursor_pid ? k->cursor_pid : 1, &pid);
		if (!mm) {
			int wrapped = k->cursor_pid != 0;
			k->cursor_pid = 0;
			k->cursor_addr = 0;
			pthread_mutex_unlock(&sys->lock);
			if (wrapped)
				atomic_fetch_add(&sys->ms.thp.full_scans, 1);
			return;	/* nothing (more) to scan in this pass */
		}
		uint64_t cursor = pid == k->cursor_pid ? k->cursor_addr : 0;
		pthread_mutex_unlock(&sys->lock);
		int done = mm_khugepaged_scan(mm, &cursor, &budget);
		mm_drop(mm);
		pthread_mutex_lock(&sys->lock);
		k->cursor_pid = done ? pid + 1 : pid;
		k->cursor_addr = done ? 0 : cursor;
		pthread_mutex_unlock(&sys->lock);
	}
}

void sys_thp_tick(struct pm_system *sys, uint64_t now)
{
	for (;;) {
		pthread_mutex_lock(&sys->lock);
		struct sys_khugepaged *k = &sys->khugepaged;
		int due = atomic_load(&sys->ms.thp.enabled) != THP_NEVER && k->next_run <= now;
		uint64_t budget = k->pages_to_scan;
		if (due)
			k->next_run += k->sleep_ms ? k->sleep_ms : 1;
		pthread_mutex_unlock(&sys->lock);
		if (!due)
			return;
		khugepaged_pass(sys, budget);
	}
}

int sys_thp_render(struct pm_system *sys, const char *name, struct strbuf *sb)
{
	struct proc_thp_view v;
	pthread_mutex_lock(&sys->lock);
	v.pages_to_scan = sys->khugepaged.pages_to_scan;
	v.scan_sleep_millisecs = sys->khugepaged.sleep_ms;
	pthread_mutex_unlock(&sys->lock);
	v.enabled = atomic_load(&sys->ms.thp.enabled);
	v.defrag = atomic_load(&sys->ms.thp.defrag);
	v.full_scans = atomic_load(&sys->ms.thp.full_scans);
	v.pages_collapsed = atomic_load(&sys->ms.thp.pages_collapsed);
	return proc_render_thp(&v, name, sb);
}
