/*
 * TEMPORARY: a stand-in for mm_unmap_object_range so the file layer links while mm's
 * file-mapping support is written. It zaps nothing, so after a shrinking ftruncate a
 * mapped page beyond EOF stays mapped. The lead replaces this file.
 */
#include "mm/mm_file.h"

/* TEMPORARY: does nothing (see the charter). */
void mm_unmap_object_range(struct vm_object *o, uint64_t first_index, uint64_t last_index)
{
	(void)o;
	(void)first_index;
	(void)last_index;
}
