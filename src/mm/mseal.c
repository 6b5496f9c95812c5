/*
 * mseal (syscall 462, SPEC §9): sealing makes VMAs immutable for good. This file seals
 * ranges and answers "is anything in this range sealed?" for every operation that must
 * refuse: munmap, mprotect, pkey_mprotect, mremap (source and target), MAP_FIXED over a
 * sealed VMA, brk shrinking into one, and the discarding madvise advice. A refusal is
 * EPERM and is decided before any change, so the call changes nothing at all.
 */
#include "mm/mm_internal.h"

#include <errno.h>

int mm_range_sealed(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	for (struct vma *v = vma_find(&mm->mt, start); v && v->vm_start < end; v = vma_next(&mm->mt, v))
		if (v->vm_flags & VM_SEALED)
			return 1;
	return 0;
}

/* check_mm_seal: the whole range must be mapped, without holes. */
static int range_fully_mapped(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	uint64_t at = start;
	for (struct vma *v = vma_find(&mm->mt, start); v && v->vm_start < end; v = vma_next(&mm->mt, v)) {
		if (v->vm_start > at)
			return 0;
		at = v->vm_end;
	}
	return at >= end;
}

long mm_mseal(struct mm_struct *mm, uint64_t start, uint64_t len, uint64_t flags)
{
	if (flags)
		return -EINVAL;
	if (!page_aligned(start))
		return -EINVAL;
	uint64_t alen = page_align_up(len);
	if (len && !alen)
		return -EINVAL;
	uint64_t end = start + alen;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	pthread_rwlock_wrlock(&mm->lock);
	long r = range_fully_mapped(mm, start, end) ? 0 : -ENOMEM;
	struct vma *v = r ? NULL : vma_find(&mm->mt, start);
	uint64_t at = start;
	while (!r && at < end) {
		uint64_t tmp = min_u64(v->vm_end, end);
		struct vma *out;
		r = mm_modify_range(mm, v, at, tmp, v->vm_flags | VM_SEALED, &out);
		at = tmp;
		v = vma_find(&mm->mt, at);
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
