/*
 * The swap area (SPEC §6, DESIGN "swap uses a real host file"): slots of one page in a
 * host file, a reference count per slot (each swap PTE holds one), and the swap cache,
 * which keeps a frame findable by slot while PTEs still name the slot (a twin after fork
 * read it back, MADV_WILLNEED read it ahead, or reclaim is unmapping a shared frame), so
 * they map that frame instead of reading it again. The cache holds a frame reference, not
 * a slot reference: the slot's last put drops its cached frame. A cached frame records
 * its slot in page.swap_slot.
 * Slot 0 holds a Linux-style header ("SWAPSPACE2"); usable slots are 1..nslots.
 * Lock order: swap->lock is a leaf lock (taken under mm locks, never the other way).
 */
#ifndef PM_RECLAIM_SWAP_H
#define PM_RECLAIM_SWAP_H

#include <pthread.h>
#include <stdint.h>

#include "phys/phys.h"

struct kmem;

struct swap_area {
	pthread_mutex_t lock;		/* guards count, cache, nr_free, cursor, stats */
	struct kmem *km;		/* immutable */
	struct phys *ph;		/* for the cache's page references; immutable */
	int fd;				/* host file; -1 = no swap configured */
	uint64_t nslots;		/* usable slots (1..nslots); immutable */
	uint16_t *count;		/* references per slot, index 0 unused; 0 = free */
	struct page **cache;		/* swap cache: the frame holding a slot's data, or NULL */
	uint64_t nr_free;		/* free slots */
	uint64_t nr_cached;		/* slots with a cached frame */
	uint64_t cursor;		/* next-fit search start */
	uint64_t pswpin, pswpout;	/* pages read and written (vmstat) */
};

/* Creates the area on path (created or truncated), or an unlinked temporary file when path
 * is NULL, sized to bytes (rounded down to pages, one of them the header). bytes = 0 means
 * no swap: every allocation then fails with -ENOSPC. 0 or -errno (nothing left behind). */
int swap_init(struct swap_area *sa, struct kmem *km, struct phys *ph, const char *path,
	      uint64_t bytes);
/* Closes the file and frees the maps. Returns the slots still referenced (0 = none leaked). */
uint64_t swap_destroy(struct swap_area *sa);

/* A free slot with one reference, or -ENOSPC. */
int64_t swap_alloc(struct swap_area *sa);
/* One more reference to an allocated slot (fork copying a swap PTE). */
void swap_dup(struct swap_area *sa, uint64_t slot);
/* Drops one reference; frees the slot, and its cached frame, with the last. 1 if freed. */
int swap_put(struct swap_area *sa, uint64_t slot);
/* References to the slot now (for reuse decisions: 1 = only the caller's PTE). */
unsigned swap_count(struct swap_area *sa, uint64_t slot);

/* Writes the frame's contents to the slot (swap-out) / reads the slot into the frame
 * (swap-in). 0 or -EIO. */
int swap_write(struct swap_area *sa, uint64_t slot, const void *src);
int swap_read(struct swap_area *sa, uint64_t slot, void *dst);

/* The swap cache: the frame cached for slot with a new reference taken for the caller,
 * or NULL. swap_cache_add keeps pg (taking its own reference) while the slot lives. */
struct page *swap_cache_get(struct swap_area *sa, uint64_t slot);
void swap_cache_add(struct swap_area *sa, uint64_t slot, struct page *pg);
/* swap_cache_add unless the slot has a frame already (a racing reader): 1 when pg went in
 * (with its own reference), 0 when the cache kept the other. */
int swap_cache_install(struct swap_area *sa, uint64_t slot, struct page *pg);

/* The slot pg caches (page.swap_slot) with one more reference taken, or 0 if pg is not in
 * the swap cache. */
uint64_t swap_cache_hold(struct swap_area *sa, struct page *pg);
/* __delete_from_swap_cache for reclaim: pg (recording its slot in page.swap_slot) leaves
 * the swap cache if no PTE maps it and nobody but the caller's `refs` references holds it
 * (lookups take theirs under the lock, so none can appear after). The slot keeps its data
 * and its references. 1 if it left (the cache's reference is dropped), else 0. */
int swap_cache_reclaim(struct swap_area *sa, struct page *pg, int refs);

/* Totals in pages, for meminfo (SwapTotal, SwapFree) and vmstat. */
void swap_stat(struct swap_area *sa, uint64_t *total, uint64_t *free, uint64_t *cached);

/* Calls fn for each frame in the swap cache (under the area's lock: fn takes no lock). */
void swap_cache_for_each(struct swap_area *sa, void (*fn)(void *ctx, struct page *pg), void *ctx);

/* Recounts free slots and cached frames; returns the number of problems (printed). */
int swap_check(struct swap_area *sa);

#endif
