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

#endif
