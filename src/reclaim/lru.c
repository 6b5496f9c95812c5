/*
 * LRU list mechanics: adding, moving, isolating and putting back frames, the release hook
 * that takes a dying frame off its list, the reclaim counters, and the watermarks. Which
 * frame to reclaim and how (page tables, swap, writeback) is decided in mm/reclaim_mm.c;
 * this file only keeps the lists honest.
 */
#include "reclaim/lru.h"

#include <stdio.h>

#include "lib/pm_assert.h"

void lru_init(struct lru *l)
{
	pthread_mutex_init(&l->lock, NULL);
	for (int i = 0; i < NR_LRU_LISTS; i++) {
		list_init(&l->lists[i]);
		l->nr[i] = 0;
	}
	for (int i = 0; i < NR_LRU_STATS; i++)
		l->stat[i] = 0;
}

uint64_t lru_destroy(struct lru *l)
{
	uint64_t n = 0;
	for (int i = 0; i < NR_LRU_LISTS; i++)
		n += l->nr[i];
	pthread_mutex_destroy(&l->lock);
	return n;
}

static void add_locked(struct lru *l, struct page *pg, enum lru_list which)
{
	list_add(&pg->lru, &l->lists[which]);
	l->nr[which]++;
	pg->lru_list = (uint8_t)(which + 1);
}

static void del_locked(struct lru *l, struct page *pg)
{
	list_del(&pg->lru);
	l->nr[pg->lru_list - 1]--;
	pg->lru_list = 0;
}

void lru_add(struct lru *l, struct page *pg, enum lru_list which)
{
	pthread_mutex_lock(&l->lock);
	if (!pg->lru_list)
		add_locked(l, pg, which);
	pthread_mutex_unlock(&l->lock);
}

void lru_move(struct lru *l, struct page *pg, enum lru_list which)
{
	pthread_mutex_lock(&l->lock);
	if (pg->lru_list && pg->lru_list != which + 1) {
		del_locked(l, pg);
		add_locked(l, pg, which);
		if (lru_is_active(which))
			l->stat[LS_PGACTIVATE]++;
		else if (which != LRU_UNEVICTABLE)
			l->stat[LS_PGDEACTIVATE]++;
	}
	pthread_mutex_unlock(&l->lock);
}

void lru_lazyfree(struct lru *l, struct page *pg)
{
	pthread_mutex_lock(&l->lock);
	if (pg->lru_list == LRU_INACTIVE_ANON + 1 || pg->lru_list == LRU_ACTIVE_ANON + 1) {
		del_locked(l, pg);
		add_locked(l, pg, LRU_INACTIVE_FILE);
	}
	pthread_mutex_unlock(&l->lock);
}

void lru_lazyfree_cancel(struct lru *l, struct page *pg)
{
	pthread_mutex_lock(&l->lock);
	if (pg->lru_list && lru_is_file((enum lru_list)(pg->lru_list - 1))) {
		del_locked(l, pg);
		add_locked(l, pg, LRU_ACTIVE_ANON);
		l->stat[LS_PGACTIVATE]++;
	}
	pthread_mutex_unlock(&l->lock);
}

void lru_del(struct lru *l, struct page *pg)
{
	pthread_mutex_lock(&l->lock);
	if (pg->lru_list)
		del_locked(l, pg);
	pthread_mutex_unlock(&l->lock);
}

void lru_release_hook(void *ctx, struct page **pages, unsigned n)
{
	struct lru *l = ctx;
	pthread_mutex_lock(&l->lock);
	for (unsigned i = 0; i < n; i++)
		if (pages[i]->lru_list)
			del_locked(l, pages[i]);
	pthread_mutex_unlock(&l->lock);
}

/* folio_try_get: a reference unless the count already reached zero (being freed). */
static int try_get(struct page *pg)
{
	int r = atomic_load(&pg->refcount);
	while (r > 0)
		if (atomic_compare_exchange_weak(&pg->refcount, &r, r + 1))
			return 1;
	return 0;
}

unsigned lru_isolate(struct lru *l, enum lru_list which, struct page **out, unsigned n)
{
	unsigned got = 0;
	pthread_mutex_lock(&l->lock);
	struct list_head *head = &l->lists[which];
	for (uint64_t tries = l->nr[which]; got < n && tries && head->prev != head; tries--) {
		struct page *pg = list_entry(head->prev, struct page, lru);
		if (!try_get(pg)) {
			/* Its release hook waits for the lock: rotate past it. */
			list_del(&pg->lru);
			list_add(&pg->lru, head);
			continue;
		}
		del_locked(l, pg);
		out[got++] = pg;
	}
	pthread_mutex_unlock(&l->lock);
	return got;
}

void lru_putback(struct lru *l, struct phys *ph, struct page *pg, enum lru_list which)
{
	pthread_mutex_lock(&l->lock);
	if (!pg->lru_list)
		add_locked(l, pg, which);
	pthread_mutex_unlock(&l->lock);
	phys_put(ph, pg);	/* the last reference runs the hook, which takes it off again */
}

void lru_count(struct lru *l, uint64_t nr[NR_LRU_LISTS])
{
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < NR_LRU_LISTS; i++)
		nr[i] = l->nr[i];
	pthread_mutex_unlock(&l->lock);
}

void lru_stat_add(struct lru *l, enum lru_stat s, uint64_t n)
{
	pthread_mutex_lock(&l->lock);
	l->stat[s] += n;
	pthread_mutex_unlock(&l->lock);
}

uint64_t lru_stat_get(struct lru *l, enum lru_stat s)
{
	pthread_mutex_lock(&l->lock);
	uint64_t v = l->stat[s];
	pthread_mutex_unlock(&l->lock);
	return v;
}

int lru_check(struct lru *l)
{
	int bad = 0;
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < NR_LRU_LISTS; i++) {
		uint64_t n = 0;
		for (struct list_head *e = l->lists[i].next; e != &l->lists[i]; e = e->next) {
			struct page *pg = list_entry(e, struct page, lru);
			n++;
			/* Anonymous frames on a file list are lazily freed ones only. */
			int stray = lru_is_file((enum lru_list)i) && (pg->flags & PG_anon) &&
				    !lru_page_lazyfree(pg);
			if (pg->lru_list != i + 1 || atomic_load(&pg->refcount) < 1 ||
			    (pg->flags & PG_buddy) || stray) {
				if (bad++ < 10)
					fprintf(stderr, "lru: frame on list %d has lru_list %u refcount %d flags %#x\n",
						i, pg->lru_list, atomic_load(&pg->refcount), pg->flags);
			}
		}
		if (n != l->nr[i]) {
			fprintf(stderr, "lru: list %d holds %llu frames, counted %llu\n", i,
				(unsigned long long)n, (unsigned long long)l->nr[i]);
			bad++;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return bad;
}

/* Linux's calculate_min_free_kbytes (4 * sqrt(lowmem KiB), at least 128 KiB) and
 * __setup_per_zone_wmarks with watermark_scale_factor 10: low = min + max(min / 4,
 * RAM / 1000), high = min + 2 * that. 32 MiB of RAM gives min 181, low 226, high 271 frames;
 * 1 GiB gives 1024, 1280, 1536. */
void lru_watermarks(uint64_t ram_frames, struct watermarks *w)
{
	uint64_t kb = ram_frames * 4, r = 0;
	while ((r + 1) * (r + 1) <= kb * 16)
		r++;
	uint64_t min_kb = r < 128 ? 128 : r > 262144 ? 262144 : r;
	w->min = min_kb / 4;
	uint64_t step = w->min / 4 > ram_frames / 1000 ? w->min / 4 : ram_frames / 1000;
	w->low = w->min + step;
	w->high = w->min + 2 * step;
}
