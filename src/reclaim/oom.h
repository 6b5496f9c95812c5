/*
 * The OOM killer's arithmetic (SPEC §8): a process's badness and the oom_score /proc shows.
 * Choosing and killing the victim is sys's job (it owns the process table); this file only
 * knows numbers, so the formula has one home.
 */
#ifndef PM_RECLAIM_OOM_H
#define PM_RECLAIM_OOM_H

#include <stdint.h>

#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_IMMUNE INT64_MIN	/* badness of a process the killer must never pick */

struct oom_input {
	uint64_t rss_pages;		/* resident anon + file + shmem pages */
	uint64_t swap_pages;		/* swap entries the process holds */
	uint64_t pgtable_pages;		/* page-table pages */
	int oom_score_adj;		/* -1000 .. 1000 */
	int tcb;			/* a TCB-tier (SYSTEM) process: Linux's root discount */
};

/* Linux's oom_badness: rss + swap + page tables, less 3% for the TCB tier, plus
 * oom_score_adj in thousandths of totalpages (RAM + swap). OOM_IMMUNE for -1000. */
int64_t oom_badness(const struct oom_input *in, uint64_t totalpages);

/* /proc/<pid>/oom_score: the badness scaled into 0..2000 as Linux prints it (0 when
 * immune). */
uint64_t oom_score(int64_t badness, uint64_t totalpages);

#endif
