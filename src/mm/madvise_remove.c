/*
 * MADV_REMOVE (Linux's madvise_remove): frees the backing store of a shared mapping's
 * range by punching a hole in its object (shmem, memfd or host file), so every mapping of
 * those pages, in any process, reads zeroes next time. Private copies of the pages stay.
 * Like Linux, the mm lock is dropped around each punch, since the punch zaps the PTEs of
 * every mapper, this mm included; the range is looked up again after each step.
 */
#include "mm/mm_internal.h"

#include <errno.h>

#include "mm/mm_file.h"

/* madvise_remove's checks, in its order (verified on Linux 6.18): locked -> EINVAL, no
 * backing file (private anon) -> EINVAL, not shared-maywrite (a private file mapping, or a
 * file opened read-only) -> EACCES. */
static long remove_check(const struct vma *v)
{
	if (v->vm_flags & VM_LOCKED)
		return -EINVAL;
	if (!v->vm_obj || v->vm_obj->kind == OBJ_SPECIAL || (v->vm_flags & VM_PFNMAP))
		return -EINVAL;
	if ((v->vm_flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE))
		return -EACCES;
	return 0;
}

long madvise_remove(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	long unmapped = 0;
	while (start < end) {
		pthread_rwlock_rdlock(&mm->lock);
		struct vma *v = vma_find(&mm->mt, start);
		if (!v || v->vm_start >= end) {
			pthread_rwlock_unlock(&mm->lock);
			return -ENOMEM;
		}
		if (v->vm_start > start) {
			unmapped = -ENOMEM;	/* a hole: keep going, report it at the end */
			start = v->vm_start;
		}
		long r = remove_check(v);
		if (r) {
			pthread_rwlock_unlock(&mm->lock);
			return r;
		}
		uint64_t stop = min_u64(end, v->vm_end);
		struct vm_object *o = v->vm_obj;
		uint64_t first = v->vm_pgoff + ((start - v->vm_start) >> PAGE_SHIFT);
		uint64_t last = first + ((stop - start) >> PAGE_SHIFT) - 1;
		obj_get(o);
		pthread_rwlock_unlock(&mm->lock);
		int err = mm_punch_object(o, first, last);
		obj_put(o);
		if (err)
			return err;	/* vfs_fallocate's error, as Linux returns it */
		start = stop;
	}
	return unmapped;
}
