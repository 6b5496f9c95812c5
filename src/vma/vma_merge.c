/*
 * The merge test for two adjacent VMAs (Linux's is_mergeable_vma plus
 * is_mergeable_anon_vma, mm/vma.c). It only compares fields: it never follows vm_obj or
 * anon, and it never changes either VMA. Merging itself is done by mm.
 */
#include "vma/vma.h"

#include "lib/common.h"

bool vma_mergeable(const struct vma *prev, const struct vma *next)
{
	if (prev->vm_end != next->vm_start)
		return false;
	/* Soft-dirty tracking must not keep areas apart (Linux ignores it the same way). */
	/* W^X history is sticky, not identity: merging ORs it (SPEC §4). So is
	 * VM_MAYBE_GUARD (Linux's VM_STICKY, checked on 6.18). */
	if ((prev->vm_flags ^ next->vm_flags) &
	    ~(VM_SOFTDIRTY | VM_WAS_WRITE | VM_WAS_EXEC | VM_MAYBE_GUARD))
		return false;
	if ((prev->vm_flags | next->vm_flags) & VM_SPECIAL)
		return false;
	if (prev->vm_obj != next->vm_obj || prev->vm_file_id != next->vm_file_id)
		return false;
	if (prev->vm_pgoff + ((prev->vm_end - prev->vm_start) >> PAGE_SHIFT) != next->vm_pgoff)
		return false;
	/* A side with no anon identity yet can adopt the other's. */
	if (prev->anon && next->anon && prev->anon != next->anon)
		return false;
	return prev->pkey == next->pkey && prev->kind == next->kind;
}
