/*
 * Helpers shared by the files of src/obj and by nothing else: object allocation, index
 * insertion, and the host-file read-in the page lookup needs. Never include this from
 * another layer; their contract is object.h.
 */
#ifndef PM_OBJ_INTERNAL_H
#define PM_OBJ_INTERNAL_H

#include "obj/object.h"

/* Pages the object has: ceil(size / 4096). */
static inline uint64_t obj_size_pages(const struct vm_object *o)
{
	return (o->size + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* A zeroed object of the given kind and size with one reference, no frames, host_fd -1.
 * NULL on -ENOMEM. */
struct vm_object *obj_alloc(struct kmem *km, struct phys *ph, enum obj_kind kind, uint64_t size);
/* Makes pg (one reference, which passes to the index) the frame at index. 0, or -ENOMEM
 * with pg untouched apart from its owner fields being reset. Caller holds o->lock. */
int obj_insert_page_locked(struct vm_object *o, uint64_t index, struct page *pg);
/* obj_get_page with o->lock already held. */
int obj_get_page_locked(struct vm_object *o, uint64_t index, struct page **out);
/* Reads page index of a file object from the host into a new indexed frame and returns it
 * with an extra reference. 0, -ENOMEM or -EIO; index unchanged on failure. Caller holds
 * o->lock and has checked index against the size. */
int obj_file_read_page_locked(struct vm_object *o, uint64_t index, struct page **out);
/* Clears PG_dirty on a frame of o, keeping nr_dirty. Caller holds o->lock. */
void obj_clear_dirty_locked(struct vm_object *o, struct page *pg);
/* Writes back [first, last] with o->lock held; see obj_writeback. */
int obj_writeback_locked(struct vm_object *o, uint64_t first, uint64_t last);

/* ---- hugetlb.c, behind the generic entry points of object.c and pagecache.c ---- */
/* obj_pread of a hugetlb object: holes read as zeroes, nothing is allocated. */
long obj_hugetlb_pread(struct vm_object *o, uint64_t off, void *buf, size_t len);
/* obj_truncate of a hugetlb object: huge-aligned sizes only (-EINVAL), the memfd size
 * seals (-EPERM), and the reservations beyond the new end go back to the pool. */
int obj_hugetlb_truncate(struct vm_object *o, uint64_t new_size);
/* The last obj_put's part: the reservations still held go back to the pool. */
void obj_hugetlb_release(struct vm_object *o);
/* obj_check's part: resv counts nr_resv marks, none over a present frame. Problems found;
 * caller holds o->lock. */
int obj_hugetlb_check_locked(struct vm_object *o);
/* ---- shmem_swap.c ---- */

/* Reads the swapped-out page at index (its entry names slot) back into a new indexed
 * frame, frees the slot, and returns the frame with an extra reference. 0, -ENOMEM or
 * -EIO with the entry unchanged. Caller holds o->lock. */
int obj_swapin_locked(struct vm_object *o, uint64_t index, uint64_t slot, struct page **out);
/* Frees the swap entries of pages [first, last] and their slots. Caller holds o->lock
 * (or the last reference). */
void obj_drop_swap_locked(struct vm_object *o, uint64_t first, uint64_t last);
/* Reads the swap entries of [first, last] into the swap cache; returns the slots read.
 * Caller holds o->lock. */
int obj_prefetch_swap_locked(struct vm_object *o, uint64_t first, uint64_t last);
/* A new frame of a registered shmem object joins the LRU (no-op otherwise). */
void obj_shmem_lru_add(struct vm_object *o, struct page *pg);
/* obj_check's swap half: entries against nr_swapped, each naming a referenced slot.
 * Caller holds o->lock; returns the problems. */
int obj_check_swap_locked(struct vm_object *o);

#endif
