/*
 * Swap and reclaim entry points inside mm (swap_mm.c, reclaim_mm.c). Internal to src/mm
 * except the reclaim drivers at the end, which sys calls.
 */
#ifndef PM_MM_SWAP_MM_H
#define PM_MM_SWAP_MM_H

#include "mm/mm_internal.h"

/* Is there a free swap slot? */
int mm_swap_available(struct mm_struct *mm);
int mm_swap_available_sys(struct mm_sys *ms);
/* Swaps out (or, for a clean MADV_FREE page, discards: *lazy = 1) the exclusive anonymous
 * frame pg mapped at *ep. ptl held. 0, or -ENOSPC/-EIO with nothing changed. The caller
 * flushes the TLB. A discard gives back v's touch-style commit charge. */
int mm_pageout_pte(struct mm_struct *mm, const struct vma *v, pte_t *ep, struct page *pg,
		   int *lazy);
/* A fault on the swap entry at *ep (do_swap_page); ptl held. */
enum fault_ret mm_swapin_fault(struct mm_struct *mm, struct vma *v, uint64_t addr, pte_t *ep);
/* The swap entry e leaves a page table (zap) / is copied into dst's (fork). */
void mm_swap_zap(struct mm_struct *mm, pte_t e);
/* MADV_WILLNEED on anonymous memory (swapin_walk_pmd_entry): reads the slot of every swap
 * entry in [start, end) of v into the swap cache, leaving the PTEs as they are, so mincore
 * reports the pages and their faults read nothing. Caller holds mm->lock (read), not ptl.
 * Returns the slots read. Below the min watermark it reclaims first (the frames it reads
 * are reclaimable unmapped swap cache); where nothing can be reclaimed it stops, and a
 * failed allocation or read leaves the page to its fault. */
uint64_t mm_swap_willneed(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);
void mm_swap_fork(struct mm_struct *dst, pte_t e);
/* Is the slot of swap entry e in the swap cache? Its reference count? */
int mm_swap_cached(struct mm_struct *mm, pte_t e);
unsigned mm_swap_count(struct mm_struct *mm, pte_t e);
/* The bytes of the page the swap entry e names, without faulting it in or changing any
 * count (core dumps read swapped-out memory so): the swap-cache frame, else the slot.
 * ptl held. 0 or -EIO. */
int mm_swap_peek(struct mm_struct *mm, pte_t e, void *buf);
/* MADV_COLD (pageout 0) / MADV_PAGEOUT over [start, end) of v: returns the pages acted on.
 * mm->lock held (either way). */
uint64_t mm_advise_cold_pageout(struct mm_struct *mm, struct vma *v, uint64_t start,
				uint64_t end, int pageout);
/* Writes back (if dirty) and drops an unmapped file cache frame; takes over the caller's
 * reference (the owner object must stay alive across the call). 1 if it left the cache. */
int mm_reclaim_file_page(struct mm_sys *ms, struct page *pg);

/* ---- the anonymous reverse map across fork (rmap_anon.c) ---- */
/* The address spaces whose VMAs may map a frame owned by the anon_vma `owner` (its
 * subtree's), each with an mm_grab reference, into mms[0..max). The count, or -1 (nothing
 * held) when owner is no live anon_vma or more than max spaces are involved. */
int mm_anon_rmap_mms(struct mm_sys *ms, const void *owner, struct mm_struct **mms, int max);
/* Is a (a VMA's identity, alive under its mm's lock) owner or a descendant of it? */
int mm_anon_covers(const struct anon_vma *a, const void *owner);
/* A swap slot holding pg's bytes, with one reference for the caller: the slot pg caches,
 * else a new slot written and pg added to the swap cache (add_to_swap). 0 on no slot or
 * a write error. The caller's reference on the slot goes with swap_put. */
uint64_t mm_swap_hold(struct mm_sys *ms, struct page *pg);
/* try_to_unmap_one for a frame in the swap cache: the PTE at *ep (mapping pg) becomes a
 * swap entry for slot, with a slot reference of its own. ptl (or the mm's lock for
 * writing) held; the caller flushes the TLB. */
void mm_pageout_shared_pte(struct mm_struct *mm, pte_t *ep, struct page *pg, uint64_t slot);
/* MADV_PAGEOUT of a swap-cached frame that only the PTE at *ep maps: the PTE becomes the
 * cached slot's entry and the frame leaves the swap cache and is freed unless someone
 * took a reference meanwhile. ptl held; 0, or -EAGAIN (not in the swap cache). */
int mm_pageout_cached_pte(struct mm_struct *mm, pte_t *ep, struct page *pg);
/* mm_check's part: every VMA's anon_vma chain is live and its own identity is of mm. */
int mm_anon_check(struct mm_struct *mm);

/* What shmem and memfd objects use to swap (obj/object.h), with the mm_sys as ctx: sys
 * hands it to the object directory at start-up. */
extern const struct obj_swap_ops mm_shmem_swap_ops;

/* ---- reclaim drivers (reclaim_mm.c) ---- */
enum { RECLAIM_KSWAPD = 0, RECLAIM_DIRECT = 1 };
/* Scans the LRU lists to free up to nr frames (shrink_node); self is the mm whose lock
 * the caller holds (direct reclaim from its fault), or NULL. Returns frames freed. */
uint64_t mm_shrink_lru(struct mm_sys *ms, uint64_t nr, struct mm_struct *self, int how);
/* kswapd's step: below the low watermark, reclaims toward the high one (bounded work). */
uint64_t mm_kswapd_step(struct mm_sys *ms, uint64_t low, uint64_t high);

#endif
