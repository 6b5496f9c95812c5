/*
 * The buddy allocator. Free blocks of 2^k frames sit on free_area[k], linked through their
 * head descriptor; a free is merged with its buddy (pfn ^ 2^k) while the buddy is a free
 * head of the same order. Frames are zeroed when handed out, and a frame the host has never
 * seen handed out (no PG_used) is known zero already, so a fresh arena stays untouched:
 * the arena is reserved lazily. This file must never free a frame whose mapcount is nonzero.
 */
#include "phys/phys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"

int phys_init(struct phys *ph, struct kmem *km, uint64_t ram_bytes)
{
	memset(ph, 0, sizeof(*ph));
	if (ram_bytes < 16 * PAGE_SIZE || (ram_bytes & (PAGE_SIZE - 1)))
		return -EINVAL;
	ph->km = km;
	ph->nr_frames = ram_bytes >> PAGE_SHIFT;
	ph->pages = kmem_zalloc(km, ph->nr_frames * sizeof(struct page));
	if (!ph->pages)
		return -ENOMEM;
	void *a = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED) {
		kmem_free(km, ph->pages, ph->nr_frames * sizeof(struct page));
		return -ENOMEM;
	}
	ph->arena = a;
	pthread_mutex_init(&ph->lock, NULL);
	for (int k = 0; k <= PHYS_MAX_ORDER; k++)
		list_init(&ph->free_area[k]);
	for (int h = 0; h < PHYS_NR_HSTATES; h++)
		list_init(&ph->hstate[h].free);
#ifdef PM_DEBUG
	ph->poison = 1;
#endif
	/* PFN 0 is reserved, as low memory is on a real machine, so PFN 0 never means a frame. */
	ph->pages[0].flags = PG_reserved;
	atomic_store(&ph->pages[0].refcount, 1);
	for (uint64_t pfn = 1; pfn < ph->nr_frames;) {
		unsigned k = PHYS_MAX_ORDER;
		while (k > 0 && ((pfn & ((1ULL << k) - 1)) || pfn + (1ULL << k) > ph->nr_frames))
			k--;
		struct page *pg = &ph->pages[pfn];
		pg->flags |= PG_buddy;
		pg->order = (uint8_t)k;
		list_add_tail(&pg->lru, &ph->free_area[k]);
		ph->nr_free_blocks[k]++;
		ph->free_frames += 1ULL << k;
		pfn += 1ULL << k;
	}
	return 0;
}

uint64_t phys_destroy(struct phys *ph)
{
	if (!ph->pages)
		return 0;
	phys_huge_destroy(ph);	/* free pool frames go back; held ones count as leaked below */
	uint64_t leaked = ph->nr_frames - 1 - ph->free_frames - ph->nr_retired;
	munmap(ph->arena, ph->nr_frames << PAGE_SHIFT);
	kmem_free(ph->km, ph->pages, ph->nr_frames * sizeof(struct page));
	pthread_mutex_destroy(&ph->lock);
	ph->pages = NULL;
	return leaked;
}

static void free_list_del(struct phys *ph, struct page *pg, unsigned k)
{
	list_del(&pg->lru);
	pg->flags &= ~PG_buddy;
	ph->nr_free_blocks[k]--;
}

static void free_list_add(struct phys *ph, struct page *pg, unsigned k)
{
	pg->flags |= PG_buddy;
	pg->order = (uint8_t)k;
	/* LIFO: the most recently freed block is reused first, while it is still cache-warm. */
	list_add(&pg->lru, &ph->free_area[k]);
	ph->nr_free_blocks[k]++;
}

/* Takes a block of exactly `order` frames off the free lists, splitting a larger one. */
static struct page *buddy_take_locked(struct phys *ph, unsigned order)
{
	unsigned k = order;
	while (k <= PHYS_MAX_ORDER && list_empty(&ph->free_area[k]))
		k++;
	if (k > PHYS_MAX_ORDER)
		return NULL;
	struct page *pg = list_entry(ph->free_area[k].next, struct page, lru);
	free_list_del(ph, pg, k);
	/* Give the upper halves back until the block is the size asked for. */
	while (k > order) {
		k--;
		free_list_add(ph, pg + (1ULL << k), k);
	}
	ph->free_frames -= 1ULL << order;
	ph->allocs++;
	return pg;
}

static void zero_block(struct phys *ph, struct page *pg, unsigned order)
{
	uint64_t n = 1ULL << order;
	for (uint64_t i = 0; i < n; i++) {
		if (pg[i].flags & PG_used)
			memset(page_address(ph, &pg[i]), 0, PAGE_SIZE);
	}
}

struct page *phys_alloc(struct phys *ph, unsigned order, unsigned opts)
{
	if (order > PHYS_MAX_ORDER)
		return NULL;
	pthread_mutex_lock(&ph->lock);
	struct page *pg = buddy_take_locked(ph, order);
	pthread_mutex_unlock(&ph->lock);
	if (!pg)
		return NULL;
	/* Zeroing runs outside the lock: the block is ours alone now. */
	if (!(opts & PHYS_NOZERO))
		zero_block(ph, pg, order);
	uint64_t n = 1ULL << order;
	for (uint64_t i = 0; i < n; i++)
		pg[i].flags = PG_used;
	pg->order = (uint8_t)order;
	if (order)
		pg->flags |= PG_head;
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	pg->index = 0;
	pg->pt_used = 0;
	pg->thp_maps = 0;
	atomic_store_explicit(&pg->swap_slot, 0, memory_order_relaxed);
	/* Relaxed: nobody else can see the block yet. Whatever publishes it (a PTE store under
	 * the table lock, a list insert under its lock) orders these stores, and a seq_cst
	 * store here is an xchg that waits for the 4 KiB of zeroing to drain first. */
	atomic_store_explicit(&pg->mapcount, 0, memory_order_relaxed);
	atomic_store_explicit(&pg->refcount, 1, memory_order_relaxed);
	return pg;
}

/* The part of a free done before phys->lock: checks, poison, descriptors reset. */
static void free_prepare(struct phys *ph, struct page *pg, unsigned order)
{
	uint64_t pfn = page_to_pfn(ph, pg);
	PM_ENFORCE(atomic_load(&pg->mapcount) == 0);
	PM_ENFORCE(atomic_load(&pg->refcount) == 0);
	PM_ENFORCE(atomic_load(&pg->swap_slot) == 0);	/* the swap cache holds a reference */
	PM_ENFORCE(!(pg->flags & (PG_buddy | PG_reserved)) && pfn != 0);
	if (ph->poison) {
		memset(page_address(ph, pg), 0x5a, PAGE_SIZE << order);
	}
	uint64_t n = 1ULL << order;
	for (uint64_t i = 0; i < n; i++) {
		pg[i].flags = PG_used;
		pg[i].owner_kind = OWNER_NONE;
		pg[i].owner = NULL;
	}
}

/* Puts a prepared block on the free lists, merging it with its free buddies. */
static void free_locked(struct phys *ph, struct page *pg, unsigned order)
{
	uint64_t pfn = page_to_pfn(ph, pg);
	ph->free_frames += 1ULL << order;
	ph->frees++;
	unsigned k = order;
	while (k < PHYS_MAX_ORDER) {
		uint64_t buddy = pfn ^ (1ULL << k);
		if (buddy >= ph->nr_frames)
			break;
		struct page *b = &ph->pages[buddy];
		if (!(b->flags & PG_buddy) || b->order != k)
			break;
		free_list_del(ph, b, k);
		pfn &= ~(1ULL << k);
		k++;
	}
	free_list_add(ph, &ph->pages[pfn], k);
}

void phys_free(struct phys *ph, struct page *pg, unsigned order)
{
	free_prepare(ph, pg, order);
	pthread_mutex_lock(&ph->lock);
	free_locked(ph, pg, order);
	pthread_mutex_unlock(&ph->lock);
}

void phys_split_block(struct phys *ph, struct page *pg)
{
	(void)ph;
	PM_ENFORCE(atomic_load(&pg->refcount) == 1 && !(pg->flags & (PG_hugetlb | PG_buddy)));
	uint64_t n = (pg->flags & PG_head) ? 1ULL << pg->order : 1;
	pg->flags &= ~PG_head;
	for (uint64_t i = 0; i < n; i++) {
		pg[i].order = 0;
		pg[i].owner_kind = OWNER_NONE;
		pg[i].owner = NULL;
		pg[i].index = 0;
		pg[i].pt_used = 0;
		pg[i].thp_maps = 0;
		atomic_store(&pg[i].mapcount, 0);
		atomic_store(&pg[i].refcount, 1);
	}
}

/* A frame whose last reference is gone, already off its LRU list: to its pool, retired,
 * or freed. */
static void release_dead(struct phys *ph, struct page *pg)
{
	if (pg->flags & PG_hugetlb) {
		phys_huge_release(ph, pg);
	} else if (pg->flags & (PG_hwpoison | PG_offline)) {
		/* memory_failure / soft_offline_page: the frame never returns to the buddy. */
		PM_ENFORCE(atomic_load(&pg->mapcount) == 0);
		pthread_mutex_lock(&ph->lock);
		ph->nr_retired++;
		pthread_mutex_unlock(&ph->lock);
		pg->owner_kind = OWNER_NONE;
		pg->owner = NULL;
	} else {
		phys_free(ph, pg, (pg->flags & PG_head) ? pg->order : 0);
	}
}

int phys_put(struct phys *ph, struct page *pg)
{
	int old = atomic_fetch_sub(&pg->refcount, 1);
	PM_ENFORCE(old > 0);
	if (old != 1)
		return 0;
	if (pg->lru_list && ph->release_hook)
		ph->release_hook(ph->release_ctx, &pg, 1);	/* off the LRU before the free list */
	release_dead(ph, pg);
	return 1;
}

/* Frames a batched put handles at a time (on the stack). */
#define PUT_CHUNK 64

void phys_put_many(struct phys *ph, struct page **pages, unsigned n)
{
	while (n) {
		unsigned m = n < PUT_CHUNK ? n : PUT_CHUNK, nr_dead = 0, nr_lru = 0, nr_plain = 0;
		struct page *dead[PUT_CHUNK], *on_lru[PUT_CHUNK];
		for (unsigned i = 0; i < m; i++) {
			int old = atomic_fetch_sub(&pages[i]->refcount, 1);
			PM_ENFORCE(old > 0);
			if (old != 1)
				continue;
			dead[nr_dead++] = pages[i];
			if (pages[i]->lru_list && ph->release_hook)
				on_lru[nr_lru++] = pages[i];
		}
		if (nr_lru)
			ph->release_hook(ph->release_ctx, on_lru, nr_lru);	/* one LRU lock for all */
		/* Plain single frames go back under one phys->lock; the rest one by one. */
		for (unsigned i = 0; i < nr_dead; i++) {
			struct page *pg = dead[i];
			if (pg->flags & (PG_hugetlb | PG_hwpoison | PG_offline | PG_head)) {
				release_dead(ph, pg);
				continue;
			}
			free_prepare(ph, pg, 0);
			dead[nr_plain++] = pg;
		}
		if (nr_plain) {
			pthread_mutex_lock(&ph->lock);
			for (unsigned i = 0; i < nr_plain; i++)
				free_locked(ph, dead[i], 0);
			pthread_mutex_unlock(&ph->lock);
		}
		pages += m;
		n -= m;
	}
}

int phys_mark_retire(struct phys *ph, struct page *pg, uint32_t flag)
{
	(void)ph;
	if (pg->flags & (PG_hugetlb | PG_head | PG_reserved | PG_buddy))
		return -EBUSY;
	PM_ENFORCE(atomic_load(&pg->refcount) > 0);
	pg->flags |= flag & (PG_hwpoison | PG_offline);
	return 0;
}

uint64_t phys_retired_frames(struct phys *ph)
{
	pthread_mutex_lock(&ph->lock);
	uint64_t n = ph->nr_retired;
	pthread_mutex_unlock(&ph->lock);
	return n;
}

uint64_t phys_free_frames(struct phys *ph)
{
	pthread_mutex_lock(&ph->lock);
	uint64_t n = ph->free_frames;
	pthread_mutex_unlock(&ph->lock);
	return n;
}

int phys_check(struct phys *ph)
{
	int problems = 0;
	uint64_t counted = 0;
	pthread_mutex_lock(&ph->lock);
	for (unsigned k = 0; k <= PHYS_MAX_ORDER; k++) {
		uint64_t blocks = 0;
		for (struct list_head *l = ph->free_area[k].next; l != &ph->free_area[k]; l = l->next) {
			struct page *pg = list_entry(l, struct page, lru);
			uint64_t pfn = page_to_pfn(ph, pg);
			if (!(pg->flags & PG_buddy) || pg->order != k || (pfn & ((1ULL << k) - 1)) ||
			    pfn + (1ULL << k) > ph->nr_frames || atomic_load(&pg->refcount) != 0) {
				if (problems++ < 20)
					fprintf(stderr, "phys_check: free block pfn %#lx order %u: "
						"flags %#x order %u refcount %d\n", (unsigned long)pfn, k,
						pg->flags, pg->order, atomic_load(&pg->refcount));
			}
			blocks++;
			counted += 1ULL << k;
		}
		if (blocks != ph->nr_free_blocks[k] && problems++ < 20)
			fprintf(stderr, "phys_check: order %u has %lu blocks, counter says %lu\n", k,
				(unsigned long)blocks, (unsigned long)ph->nr_free_blocks[k]);
	}
	if (counted != ph->free_frames && problems++ < 20)
		fprintf(stderr, "phys_check: free lists hold %lu frames, counter says %lu\n",
			(unsigned long)counted, (unsigned long)ph->free_frames);
	pthread_mutex_unlock(&ph->lock);
	return problems;
}

void phys_dump(struct phys *ph, void *f)
{
	FILE *out = f;
	pthread_mutex_lock(&ph->lock);
	fprintf(out, "phys: %lu frames, %lu free\n", (unsigned long)ph->nr_frames,
		(unsigned long)ph->free_frames);
	for (unsigned k = 0; k <= PHYS_MAX_ORDER; k++)
		if (ph->nr_free_blocks[k])
			fprintf(out, "  order %2u: %lu blocks\n", k, (unsigned long)ph->nr_free_blocks[k]);
	pthread_mutex_unlock(&ph->lock);
}
