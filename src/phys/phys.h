/*
 * Physical memory: the host arena that stands for RAM, one descriptor (struct page) per
 * frame, and the buddy allocator over orders 0..PHYS_MAX_ORDER (4 KiB .. 1 GiB).
 * Invariants: a frame is either on exactly one free list (as part of one buddy block) or
 * handed out; every frame handed out is zero-filled unless the caller asked otherwise
 * (SPEC §1). This layer never looks at page tables, VMAs or owners' meaning.
 * Lock order: phys->lock is a leaf lock; nothing else is taken while it is held.
 */
#ifndef PM_PHYS_H
#define PM_PHYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lib/common.h"
#include "lib/list.h"

struct kmem;

#define PHYS_MAX_ORDER	18	/* 2^18 frames = 1 GiB */

/* Page flags (struct page.flags). Bits 0-7 belong to phys; the rest to upper layers. */
enum {
	PG_buddy	= 1u << 0,	/* head of a free buddy block; order in page.order */
	PG_reserved	= 1u << 1,	/* never allocated (PFN 0) */
	PG_used		= 1u << 2,	/* has been handed out since boot: contents may be non-zero */
	PG_head		= 1u << 3,	/* head of an allocated block of order > 0 */
	PG_hugetlb	= 1u << 4,	/* belongs to a hugetlb pool (returns there on the last put) */
	PG_hwpoison	= 1u << 5,	/* poisoned (MADV_HWPOISON): retired on the last put */
	PG_offline	= 1u << 6,	/* soft-offlined: contents moved away, retired on the last put */
	PG_pgtable	= 1u << 8,	/* a page-table page (owner: the pgtable layer) */
	PG_zero_page	= 1u << 9,	/* the shared zero page */
	PG_anon		= 1u << 10,	/* anonymous private memory */
	PG_shmem	= 1u << 11,	/* belongs to a shmem/file object's index */
	PG_dirty	= 1u << 12,	/* contents differ from the backing store */
	PG_lazyfree	= 1u << 13,	/* anon page given up by MADV_FREE (Linux: !PageSwapBacked) */
	PG_ksm		= 1u << 14,	/* a merged KSM frame (owner: its ksm_stable_node) */
};

/* Who owns a frame that is handed out; explicit, never encoded in a pointer (STYLE §3.4). */
enum page_owner {
	OWNER_NONE = 0,
	OWNER_PGTABLE,		/* owner = the struct pgt; index = level */
	OWNER_ANON,		/* owner = anon identity; index = linear page index */
	OWNER_OBJECT,		/* owner = vm_object; index = page offset in the object */
	OWNER_KERNEL,		/* zero page, vdso image, scratch */
	OWNER_KSM,		/* owner = struct ksm_stable_node; index unused (reclaim/ksm.h) */
};

struct page {
	struct list_head lru;		/* buddy free list while free; LRU lists later */
	atomic_int refcount;		/* holders of the frame; 0 while free */
	atomic_int mapcount;		/* PTEs that map the frame */
	uint32_t flags;			/* PG_*; phys bits under phys->lock */
	uint8_t order;			/* block order of a buddy head or allocated head */
	uint8_t owner_kind;		/* enum page_owner */
	uint16_t pt_used;		/* page-table pages: non-empty entries (under mm lock) */
	uint8_t lru_list;		/* reclaim: 1 + the LRU list holding the frame (through
					   lru), 0 = none; under the LRU lock */
	uint16_t thp_maps;		/* anon THP (mm/thp.c): PMD entries mapping the 2 MiB
					   run this frame heads; 0 otherwise */
	atomic_uint swap_slot;		/* reclaim/swap.c: the swap slot whose data this frame
					   caches (Linux's folio->swap with PG_swapcache), 0 =
					   not in the swap cache; changed under swap->lock;
					   0 whenever the frame is free */
	void *owner;			/* see enum page_owner */
	uint64_t index;			/* page index in the owner */
};

/* A hugetlb pool (Linux's struct hstate): 0 = 2 MiB frames, 1 = 1 GiB frames. */
#define PHYS_NR_HSTATES 2
struct hstate {
	struct list_head free;		/* free pool frames (heads), linked through lru */
	uint64_t nr_total;		/* frames in the pool (HugePages_Total) */
	uint64_t nr_free;		/* not handed out (HugePages_Free) */
	uint64_t nr_resv;		/* promised to mappings, not yet handed out (HugePages_Rsvd) */
};

struct phys {
	pthread_mutex_t lock;		/* guards free lists and counters below */
	struct kmem *km;		/* allocator for the descriptor array; immutable */
	uint8_t *arena;			/* host memory of all frames; immutable */
	uint64_t nr_frames;		/* frames of RAM, PFN 0 included; immutable */
	struct page *pages;		/* nr_frames descriptors; immutable pointer */
	struct list_head free_area[PHYS_MAX_ORDER + 1];	/* free blocks by order */
	uint64_t nr_free_blocks[PHYS_MAX_ORDER + 1];	/* length of each free list */
	uint64_t free_frames;		/* frames on all free lists */
	uint64_t allocs, frees;		/* calls, for statistics */
	uint64_t nr_retired;		/* frames retired by PG_hwpoison/PG_offline (never free
					   again; HardwareCorrupted); under lock */
	int poison;			/* debug: poison freed frames with 0x5a */
	struct hstate hstate[PHYS_NR_HSTATES];	/* hugetlb pools; under lock */
	atomic_long nr_shmem;		/* frames in shmem and memfd object indexes (obj keeps
					   it; commit accounting charges them); atomic */
	atomic_long nr_shmem_swapped;	/* swap entries in those indexes: swapped-out shmem
					   pages, still charged (obj keeps it); atomic */
	/* Called by phys_put and phys_put_many with the frames (n >= 1) whose last reference
	 * went and whose lru_list is non-zero, before they are freed and outside phys->lock
	 * (reclaim takes them off their LRU lists). Set once at start-up; NULL = none. */
	void (*release_hook)(void *ctx, struct page **pages, unsigned n);
	void *release_ctx;
};

/* Frame allocation options. */
enum { PHYS_ZERO = 0, PHYS_NOZERO = 1 };

/* Reserves ram_bytes of host address space (lazily) and puts every frame but PFN 0 on the
 * free lists. Returns 0 or -ENOMEM/-EINVAL; on failure nothing is left allocated. */
int phys_init(struct phys *ph, struct kmem *km, uint64_t ram_bytes);
/* Releases the arena. Returns the number of frames still handed out, not counting retired
 * ones (0 = nothing leaked). */
uint64_t phys_destroy(struct phys *ph);

/* A block of 2^order frames with refcount 1 and zeroed contents (unless PHYS_NOZERO), or
 * NULL when no block of that order is free. */
struct page *phys_alloc(struct phys *ph, unsigned order, unsigned opts);
/* Returns a block from phys_alloc. The refcount must already be 0 and the mapcount 0. */
void phys_free(struct phys *ph, struct page *pg, unsigned order);
/* Turns a block from phys_alloc into 2^order independent frames, each with refcount 1
 * (Linux's split_page): each is later put on its own and the buddy merges them again. */
void phys_split_block(struct phys *ph, struct page *pg);
/* Drops one reference; frees the block when it reaches zero. Returns 1 if freed. A single
 * frame marked PG_hwpoison or PG_offline is retired instead of freed: it stays out of the
 * free lists for good and is counted in nr_retired. */
int phys_put(struct phys *ph, struct page *pg);
/* phys_put of each of pages[0..n) (Linux's release_pages): the same outcome, with one
 * release_hook call and one phys->lock round trip for each run of up to 64 frames. */
void phys_put_many(struct phys *ph, struct page **pages, unsigned n);
/* Marks a handed-out single frame (refcount >= 1) PG_hwpoison or PG_offline, so that its
 * last put retires it. Returns 0, or -EBUSY for a hugetlb or compound frame. */
int phys_mark_retire(struct phys *ph, struct page *pg, uint32_t flag);
/* Frames retired so far. */
uint64_t phys_retired_frames(struct phys *ph);

static inline uint64_t page_to_pfn(const struct phys *ph, const struct page *pg)
{
	return (uint64_t)(pg - ph->pages);
}
static inline struct page *pfn_to_page(const struct phys *ph, uint64_t pfn)
{
	return &ph->pages[pfn];
}
static inline void *pfn_to_virt(const struct phys *ph, uint64_t pfn)
{
	return ph->arena + (pfn << PAGE_SHIFT);
}
static inline void *page_address(const struct phys *ph, const struct page *pg)
{
	return pfn_to_virt(ph, page_to_pfn(ph, pg));
}
static inline void page_get(struct page *pg) { atomic_fetch_add(&pg->refcount, 1); }

/* ---- hugetlb.c: the hugetlb pools ---- */
unsigned phys_huge_order(int h);			/* 9 or 18 */
/* Grows or shrinks pool h toward n frames (as far as memory and reservations allow);
 * returns the size reached. */
uint64_t phys_huge_set_pool(struct phys *ph, int h, uint64_t n);
/* Promises n pool frames to a mapping: 0, or -ENOMEM when the pool is short. */
int phys_huge_reserve(struct phys *ph, int h, uint64_t n);
void phys_huge_unreserve(struct phys *ph, int h, uint64_t n);
/* A zeroed pool frame with refcount 1, consuming a reservation when `reserved`; NULL when
 * none is free (or all free ones are promised to others). */
struct page *phys_huge_alloc(struct phys *ph, int h, int reserved);
void phys_huge_release(struct phys *ph, struct page *pg);	/* phys_put's path */
void phys_huge_stat(struct phys *ph, int h, struct hstate *out);
/* Base pages held by all pools (Linux's hugetlb_total_pages): CommitLimit leaves them out. */
uint64_t phys_huge_pool_pages(struct phys *ph);
/* Empties the pools; returns the frames still handed out. */
uint64_t phys_huge_destroy(struct phys *ph);

/* Frame statistics. */
uint64_t phys_free_frames(struct phys *ph);

/* Recounts the free lists and checks every block; returns the number of problems. */
int phys_check(struct phys *ph);
/* Prints the free-list summary to f (a FILE *). */
void phys_dump(struct phys *ph, void *f);

#endif
