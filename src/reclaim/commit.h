/*
 * Commit accounting (SPEC §8; Linux's vm_committed_as and __vm_enough_memory): the
 * system-wide count of pages address spaces have been promised, the overcommit policy
 * (OvercommitMemory, OvercommitRatio) and the test that refuses a new promise. It knows
 * pages, frames and swap only: which mapping is charged, and when, is mm's business
 * (mm/acct.c).
 */
#ifndef PM_RECLAIM_COMMIT_H
#define PM_RECLAIM_COMMIT_H

#include <stdatomic.h>
#include <stdint.h>

struct phys;
struct swap_area;

/* OvercommitMemory (Linux's OVERCOMMIT_GUESS, _ALWAYS, _NEVER). */
enum { COMMIT_GUESS = 0, COMMIT_ALWAYS = 1, COMMIT_NEVER = 2 };

struct commit {
	atomic_long committed;		/* vm_committed_as: pages charged by address spaces */
	atomic_int mode;		/* OvercommitMemory: COMMIT_* */
	atomic_long ratio;		/* OvercommitRatio, percent */
};

void commit_init(struct commit *c);
/* The registry applier: a new mode or ratio takes effect for the next test. */
void commit_set_policy(struct commit *c, int mode, long ratio);
/* vm_acct_memory (pages > 0) and vm_unacct_memory (pages < 0). Never refuses. */
void commit_charge(struct commit *c, long pages);
/* CommitLimit = swap + (RAM - hugetlb pool) * ratio / 100, in pages. */
uint64_t commit_limit(struct commit *c, struct phys *ph, struct swap_area *sa);
/* Committed_AS: the address spaces' charges plus the pages shmem and memfd objects hold,
 * in memory or swapped out (phys->nr_shmem + nr_shmem_swapped), in pages. */
uint64_t commit_total(struct commit *c, struct phys *ph);
/* __vm_enough_memory without the charge: may `pages` more be promised? Mode 0 refuses
 * only a request larger than RAM + swap; mode 1 never; mode 2 when Committed_AS would
 * pass CommitLimit. 0 or -ENOMEM. */
int commit_enough(struct commit *c, struct phys *ph, struct swap_area *sa, uint64_t pages);

#endif
