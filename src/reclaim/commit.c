/*
 * The commit accounting engine (SPEC §8): vm_committed_as, the overcommit policy and
 * Linux's __vm_enough_memory test, adapted as SPEC §8 says (mode 0 checks only the size of
 * one request; mode 2 compares with CommitLimit, with no admin or user reserve). It works
 * on counts of pages; it never looks at a mapping or an address space, and it never
 * charges on its own: mm/acct.c decides what a charge is and calls commit_charge.
 */
#include "reclaim/commit.h"

#include <errno.h>

#include "phys/phys.h"
#include "reclaim/swap.h"

void commit_init(struct commit *c)
{
	atomic_init(&c->committed, 0);
	atomic_init(&c->mode, COMMIT_GUESS);
	atomic_init(&c->ratio, 50);
}

void commit_set_policy(struct commit *c, int mode, long ratio)
{
	atomic_store(&c->mode, mode);
	atomic_store(&c->ratio, ratio);
}

void commit_charge(struct commit *c, long pages)
{
	atomic_fetch_add(&c->committed, pages);
}

/* Frames of RAM (PFN 0 is reserved, as meminfo's MemTotal) and of swap. */
static uint64_t ram_pages(struct phys *ph) { return ph->nr_frames - 1; }

static uint64_t swap_pages(struct swap_area *sa)
{
	uint64_t total = 0, free, cached;
	if (sa)
		swap_stat(sa, &total, &free, &cached);
	return total;
}

uint64_t commit_limit(struct commit *c, struct phys *ph, struct swap_area *sa)
{
	uint64_t ram = ram_pages(ph), pool = phys_huge_pool_pages(ph);
	uint64_t ratio = (uint64_t)atomic_load(&c->ratio);
	return swap_pages(sa) + (ram > pool ? ram - pool : 0) * ratio / 100;
}

uint64_t commit_total(struct commit *c, struct phys *ph)
{
	/* Shmem pages stay charged while swapped out (Linux's shmem_acct_blocks covers every
	 * allocated block, in memory or in swap). */
	long n = atomic_load(&c->committed) + atomic_load(&ph->nr_shmem) +
		 atomic_load(&ph->nr_shmem_swapped);
	return n > 0 ? (uint64_t)n : 0;
}

int commit_enough(struct commit *c, struct phys *ph, struct swap_area *sa, uint64_t pages)
{
	switch (atomic_load(&c->mode)) {
	case COMMIT_ALWAYS:
		return 0;
	case COMMIT_NEVER:
		return commit_total(c, ph) + pages > commit_limit(c, ph, sa) ? -ENOMEM : 0;
	default:
		return pages > ram_pages(ph) + swap_pages(sa) ? -ENOMEM : 0;
	}
}
