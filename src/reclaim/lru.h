/*
 * The LRU lists (Linux's lruvec): active and inactive lists of anonymous and file frames,
 * and the unevictable list for mlocked ones, linked through struct page.lru (which the
 * buddy allocator uses only while a frame is free). A frame's list is page.lru_list - 1.
 * Reclaim isolates frames from a list tail with a reference of its own, decides outside
 * the lock, and puts back what it keeps. The counters are vmstat's.
 * Lock order: lru->lock is a leaf lock (taken from phys_put under any mm or object lock);
 * nothing is taken while it is held.
 */
#ifndef PM_RECLAIM_LRU_H
#define PM_RECLAIM_LRU_H

#include <pthread.h>
#include <stdint.h>

#include "lib/list.h"
#include "phys/phys.h"

enum lru_list {
	LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE, LRU_UNEVICTABLE,
	NR_LRU_LISTS,
};
static inline int lru_is_file(enum lru_list l) { return l == LRU_INACTIVE_FILE || l == LRU_ACTIVE_FILE; }
static inline int lru_is_active(enum lru_list l) { return l == LRU_ACTIVE_ANON || l == LRU_ACTIVE_FILE; }
/* A lazily freed anonymous frame (MADV_FREE, MAP_DROPPABLE): Linux's anon !swapbacked folio,
 * which lives on the file lists, so reclaim finds it with no swap as well. */
static inline int lru_page_lazyfree(const struct page *pg)
{
	return (pg->flags & (PG_anon | PG_lazyfree)) == (PG_anon | PG_lazyfree);
}

/* vmstat counters produced by reclaim (each under lru->lock). */
enum lru_stat {
	LS_PGSCAN_KSWAPD, LS_PGSCAN_DIRECT, LS_PGSTEAL_KSWAPD, LS_PGSTEAL_DIRECT,
	LS_PGSCAN_ANON, LS_PGSCAN_FILE, LS_PGSTEAL_ANON, LS_PGSTEAL_FILE,
	LS_PGACTIVATE, LS_PGDEACTIVATE, LS_PGLAZYFREED, LS_PGREFILL, LS_ALLOCSTALL,
	LS_PAGEOUTRUN, NR_LRU_STATS,
};

struct lru {
	pthread_mutex_t lock;
	struct list_head lists[NR_LRU_LISTS];	/* head = most recently added, tail = oldest */
	uint64_t nr[NR_LRU_LISTS];		/* frames on each list */
	uint64_t stat[NR_LRU_STATS];
};

void lru_init(struct lru *l);
/* Frames still on the lists (0 once every frame is back). */
uint64_t lru_destroy(struct lru *l);
/* Puts pg (a frame on no list) at the head of list `which`. */
void lru_add(struct lru *l, struct page *pg, enum lru_list which);
/* Moves pg to the head of `which` if it is on a list (a frame being reclaimed is on none). */
void lru_move(struct lru *l, struct page *pg, enum lru_list which);
/* lru_lazyfree: a frame on an anon list (not unevictable) that just became lazily freed
 * moves to the head of the inactive file list; no activate/deactivate event is counted. */
void lru_lazyfree(struct lru *l, struct page *pg);
/* The lazy free was cancelled: a frame on a file list moves to the active anon list (an
 * activation, as shrink_folio_list's activate_locked counts it). */
void lru_lazyfree_cancel(struct lru *l, struct page *pg);
/* Takes pg off its list, if any (phys' release hook calls this with ctx = l). */
void lru_del(struct lru *l, struct page *pg);
/* phys' release hook: takes each of pages[0..n) off its list, under one lock round trip. */
void lru_release_hook(void *ctx, struct page **pages, unsigned n);
/* Isolates up to n frames from the tail of `which` into out[], each with a reference taken
 * for the caller and off every list (frames whose last reference is being dropped are
 * skipped). Returns the count. */
unsigned lru_isolate(struct lru *l, enum lru_list which, struct page **out, unsigned n);
/* Returns an isolated frame to the head of `which` and drops the isolation reference. */
void lru_putback(struct lru *l, struct phys *ph, struct page *pg, enum lru_list which);
void lru_count(struct lru *l, uint64_t nr[NR_LRU_LISTS]);
void lru_stat_add(struct lru *l, enum lru_stat s, uint64_t n);
uint64_t lru_stat_get(struct lru *l, enum lru_stat s);
/* Recounts each list against nr[] and each frame's lru_list; returns the problems. */
int lru_check(struct lru *l);

/* Reclaim watermarks in frames (Linux's min/low/high per zone), from the RAM size. */
struct watermarks { uint64_t min, low, high; };
void lru_watermarks(uint64_t ram_frames, struct watermarks *w);

#endif
