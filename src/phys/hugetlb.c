/*
 * The hugetlb pools (SPEC §5): 2 MiB and 1 GiB frames set aside from the buddy allocator,
 * sized by the registry (NrHugepages2M/1G). A mapping reserves its pages when it is made
 * (so a short pool is ENOMEM at mmap, never a surprise later) and consumes a reservation
 * at each fault. Pool frames carry PG_hugetlb, so phys_put hands them back to their pool
 * instead of the buddy lists. All counters are under phys->lock.
 */
#include "phys/phys.h"

#include <errno.h>
#include <string.h>

#include "lib/pm_assert.h"

static const unsigned huge_order[PHYS_NR_HSTATES] = { 9, 18 };

unsigned phys_huge_order(int h) { return huge_order[h]; }

uint64_t phys_huge_set_pool(struct phys *ph, int h, uint64_t n)
{
	struct hstate *hs = &ph->hstate[h];
	pthread_mutex_lock(&ph->lock);
	uint64_t total = hs->nr_total;
	pthread_mutex_unlock(&ph->lock);
	while (total < n) {
		struct page *pg = phys_alloc(ph, huge_order[h], PHYS_NOZERO);
		if (!pg)
			break;	/* as Linux: the pool grows as far as memory allows */
		pg->flags |= PG_hugetlb;
		atomic_store(&pg->refcount, 0);
		pthread_mutex_lock(&ph->lock);
		list_add(&pg->lru, &hs->free);
		hs->nr_total++;
		hs->nr_free++;
		total = hs->nr_total;
		pthread_mutex_unlock(&ph->lock);
	}
	for (;;) {
		pthread_mutex_lock(&ph->lock);
		struct page *pg = NULL;
		if (hs->nr_total > n && hs->nr_free > hs->nr_resv && !list_empty(&hs->free)) {
			pg = list_entry(hs->free.next, struct page, lru);
			list_del(&pg->lru);
			hs->nr_total--;
			hs->nr_free--;
		}
		total = hs->nr_total;
		pthread_mutex_unlock(&ph->lock);
		if (!pg)
			break;
		pg->flags &= ~PG_hugetlb;
		phys_free(ph, pg, huge_order[h]);	/* shrinking gives free frames back */
	}
	return total;
}

int phys_huge_reserve(struct phys *ph, int h, uint64_t n)
{
	struct hstate *hs = &ph->hstate[h];
	int r = 0;
	pthread_mutex_lock(&ph->lock);
	if (hs->nr_free - hs->nr_resv < n)
		r = -ENOMEM;
	else
		hs->nr_resv += n;
	pthread_mutex_unlock(&ph->lock);
	return r;
}

void phys_huge_unreserve(struct phys *ph, int h, uint64_t n)
{
	pthread_mutex_lock(&ph->lock);
	PM_ENFORCE(ph->hstate[h].nr_resv >= n);
	ph->hstate[h].nr_resv -= n;
	pthread_mutex_unlock(&ph->lock);
}

struct page *phys_huge_alloc(struct phys *ph, int h, int reserved)
{
	struct hstate *hs = &ph->hstate[h];
	struct page *pg = NULL;
	pthread_mutex_lock(&ph->lock);
	/* Without a reservation only unreserved pages may be taken. */
	if (!list_empty(&hs->free) && (reserved || hs->nr_free > hs->nr_resv)) {
		pg = list_entry(hs->free.next, struct page, lru);
		list_del(&pg->lru);
		hs->nr_free--;
		if (reserved)
			hs->nr_resv--;
	}
	pthread_mutex_unlock(&ph->lock);
	if (!pg)
		return NULL;
	memset(page_address(ph, pg), 0, PAGE_SIZE << huge_order[h]);
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	pg->index = 0;
	atomic_store(&pg->mapcount, 0);
	atomic_store(&pg->refcount, 1);
	return pg;
}

/* phys_put's path for pool frames: back on the pool's free list. */
void phys_huge_release(struct phys *ph, struct page *pg)
{
	int h = pg->order == huge_order[1];
	PM_ENFORCE(atomic_load(&pg->mapcount) == 0);
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	pg->flags &= PG_hugetlb | PG_head | PG_used;
	pthread_mutex_lock(&ph->lock);
	list_add(&pg->lru, &ph->hstate[h].free);
	ph->hstate[h].nr_free++;
	pthread_mutex_unlock(&ph->lock);
}

void phys_huge_stat(struct phys *ph, int h, struct hstate *out)
{
	pthread_mutex_lock(&ph->lock);
	*out = ph->hstate[h];
	pthread_mutex_unlock(&ph->lock);
}

uint64_t phys_huge_pool_pages(struct phys *ph)
{
	uint64_t n = 0;
	pthread_mutex_lock(&ph->lock);
	for (int h = 0; h < PHYS_NR_HSTATES; h++)
		n += ph->hstate[h].nr_total << huge_order[h];
	pthread_mutex_unlock(&ph->lock);
	return n;
}

uint64_t phys_huge_destroy(struct phys *ph)
{
	uint64_t held = 0;
	for (int h = 0; h < PHYS_NR_HSTATES; h++) {
		held += ph->hstate[h].nr_total - ph->hstate[h].nr_free;
		phys_huge_set_pool(ph, h, 0);
	}
	return held;
}
