/*
 * The OOM killer's arithmetic: Linux's oom_badness (RSS, swap entries and page-table pages,
 * normalised oom_score_adj) with the 3% root discount SPEC §8 gives the TCB tier, and the
 * 0..2000 scaling /proc/<pid>/oom_score has shown since Linux 5.9. Pure functions; the
 * victim choice lives in sys/oom.c.
 */
#include "reclaim/oom.h"

int64_t oom_badness(const struct oom_input *in, uint64_t totalpages)
{
	if (in->oom_score_adj <= OOM_SCORE_ADJ_MIN)
		return OOM_IMMUNE;
	int64_t points = (int64_t)(in->rss_pages + in->swap_pages + in->pgtable_pages);
	if (in->tcb)
		points -= points * 3 / 100;
	/* Linux divides first: adj is in thousandths of totalpages, rounded down per unit. */
	points += (int64_t)in->oom_score_adj * (int64_t)(totalpages / 1000);
	return points;
}

uint64_t oom_score(int64_t badness, uint64_t totalpages)
{
	if (badness == OOM_IMMUNE || totalpages == 0)
		return 0;
	int64_t s = (1000 + badness * 1000 / (int64_t)totalpages) * 2 / 3;
	return s > 0 ? (uint64_t)s : 0;
}
