/*
 * What the file layer above (sys: ftruncate, and later hole punching) asks of mm about
 * file-backed mappings. mm owns every page table, so only mm may zap the PTEs that map
 * an object's pages; the object lists its mappers in i_mmap (obj/object.h).
 */
#ifndef PM_MM_FILE_H
#define PM_MM_FILE_H

#include <stdint.h>

struct vm_object;

/* Zaps, in every VMA on o->i_mmap, the PTEs that map object pages [first_index,
 * last_index] (inclusive; last_index may be UINT64_MAX), as Linux's unmap_mapping_range
 * does after a truncation: shared mappings lose the object's frames, private ones lose
 * their private copies too (even_cows). Afterwards no PTE maps an object frame in the
 * range, so obj_truncate_pages can drop them and a later touch faults (SIGBUS beyond
 * EOF). The caller holds no mm lock and no object lock. Never fails. */
void mm_unmap_object_range(struct vm_object *o, uint64_t first_index, uint64_t last_index);
/* Punches a hole over object pages [first_index, last_index] (MADV_REMOVE, fallocate
 * PUNCH_HOLE): zaps the PTEs of every mapping that map the object's frames there (private
 * copies and guard markers stay), then obj_punch_hole. The caller holds no mm lock.
 * 0 or obj_punch_hole's error. */
int mm_punch_object(struct vm_object *o, uint64_t first_index, uint64_t last_index);
/* The zap half of mm_punch_object alone: every PTE mapping a frame of o at those pages
 * goes (a soft-offlined page refaults its new frame). Caller holds no mm lock. */
void mm_unmap_object_pages(struct vm_object *o, uint64_t first_index, uint64_t last_index);
/* The same, but a PTE mapping a PG_hwpoison frame becomes a hwpoison marker (try_to_unmap
 * with TTU_HWPOISON), so every mapper gets SIGBUS. Caller holds no mm lock. */
void mm_poison_object_pages(struct vm_object *o, uint64_t first_index, uint64_t last_index);

struct obj_filecache;
/* Background writeback (DirtyExpireCentisecs): write-protects every mapping of the files
 * whose dirty data has expired (page_mkclean, so later stores dirty them again), then
 * obj_writeback_expired writes them. Caller holds no mm or object lock. */
void mm_writeback_expired(struct obj_filecache *c, uint64_t now_ms, uint64_t expire_ms);

#endif
