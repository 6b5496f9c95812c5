/*
 * The mlock family (Linux's mm/mlock.c): mlock, mlock2(MLOCK_ONFAULT), munlock, mlockall
 * (MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT) and munlockall. The quota is RLIMIT_MEMLOCK, which
 * SeLockMemoryPrivilege, present and enabled, lifts (SPEC §10). Locking sets VM_LOCKED on
 * the VMAs (splitting and merging like mprotect) and faults the pages in; special mappings
 * (vdso, vvar) and MAP_DROPPABLE memory are skipped as Linux skips them.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <sys/mman.h>

#include "kacs/gate.h"

#define VM_LOCKED_MASK	(VM_LOCKED | VM_LOCKONFAULT)

/* vma_supports_mlock: special mappings (vdso, vvar) and MAP_DROPPABLE memory are skipped
 * with success, never locked nor counted. */
static int vma_lockable(const struct vma *v)
{
	return !(v->vm_flags & (VM_SPECIAL | VM_DROPPABLE));
}
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4
#endif

/* __mm_populate with lock-on-fault: it skips the VMAs that got VM_LOCKONFAULT, so the ones
 * mlock left alone (droppable) are filled all the same (Linux 6.18 probe). -ENOMEM or 0. */
static int populate_skipped(struct mm_struct *mm, uint64_t start, uint64_t end, int ignore)
{
	for (struct vma *v = vma_find(&mm->mt, start); v && v->vm_start < end;) {
		uint64_t s = max_u64(start, v->vm_start), e = min_u64(end, v->vm_end);
		if ((v->vm_flags & VM_DROPPABLE) && mm_populate_range(mm, s, e, ignore) && !ignore)
			return -ENOMEM;
		if (e >= end)
			break;
		v = vma_find(&mm->mt, e);	/* populating may have changed the tree */
	}
	return 0;
}

/* Pages in [start, end) that are locked already (count_mm_mlocked_page_nr). */
static uint64_t locked_pages_in(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	uint64_t n = 0;
	for (struct vma *v = vma_find(&mm->mt, start); v && v->vm_start < end; v = vma_next(&mm->mt, v))
		if (v->vm_flags & VM_LOCKED)
			n += (min_u64(end, v->vm_end) - max_u64(start, v->vm_start)) >> PAGE_SHIFT;
	return n;
}

/* mlock_fixup over [start, end) with `add` replacing the VMAs' lock bits. */
static long apply_lock_flags(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t add)
{
	struct vma *v = vma_find(&mm->mt, start);
	if (!v || v->vm_start > start)
		return -ENOMEM;
	uint64_t nstart = start;
	while (nstart < end) {
		uint64_t tmp = min_u64(v->vm_end, end);
		uint64_t nf = (v->vm_flags & ~VM_LOCKED_MASK) | add;
		if (vma_lockable(v)) {
			struct vma *out;
			long r = mm_modify_range(mm, v, nstart, tmp, nf, &out);
			if (r)
				return r;
		}
		nstart = tmp;
		if (nstart >= end)
			break;
		v = vma_find(&mm->mt, nstart);
		if (!v || v->vm_start > nstart)
			return -ENOMEM;
	}
	return 0;
}

static long do_mlock(struct mm_struct *mm, const struct mm_caller *c, uint64_t start,
		     uint64_t len, uint64_t flags)
{
	if (!mm_can_mlock(c))
		return -EPERM;
	len = page_align_up(len + (start & (PAGE_SIZE - 1)));
	start = page_align_down(start);
	uint64_t end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	pthread_rwlock_wrlock(&mm->lock);
	uint64_t limit = c->rlim[RLIMIT_MEMLOCK].cur >> PAGE_SHIFT;
	uint64_t locked = (len >> PAGE_SHIFT) + mm->locked_vm + mm->locked_vm_stale;
	long r = 0;
	if (locked > limit && !gate_privilege(c->token, PM_SE_LOCK_MEMORY_PRIVILEGE)) {
		locked -= locked_pages_in(mm, start, end);
		if (locked > limit)
			r = -ENOMEM;
	}
	if (!r)
		r = apply_lock_flags(mm, start, end, flags);
	/* Locked pages stay resident: fault them in now (VM_LOCKONFAULT waits for touches). */
	if (!r && !(flags & VM_LOCKONFAULT) && mm_populate_range(mm, start, end, 0))
		r = -ENOMEM;	/* __mlock_posix_error_return: the VMAs stay locked */
	else if (!r && (flags & VM_LOCKONFAULT))
		r = populate_skipped(mm, start, end, 0);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

long mm_mlock(struct mm_struct *mm, const struct mm_caller *c, uint64_t start, uint64_t len,
	      uint64_t flags)
{
	if (flags & ~(uint64_t)MLOCK_ONFAULT)
		return -EINVAL;
	return do_mlock(mm, c, start, len, VM_LOCKED | ((flags & MLOCK_ONFAULT) ? VM_LOCKONFAULT : 0));
}

long mm_munlock(struct mm_struct *mm, uint64_t start, uint64_t len)
{
	len = page_align_up(len + (start & (PAGE_SIZE - 1)));
	start = page_align_down(start);
	uint64_t end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	pthread_rwlock_wrlock(&mm->lock);
	long r = apply_lock_flags(mm, start, end, 0);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

/* apply_mlockall_flags: MCL_FUTURE goes into def_flags; MCL_CURRENT locks every VMA. */
static long mlockall_locked(struct mm_struct *mm, uint64_t flags)
{
	uint64_t add = 0;
	mm->def_flags &= ~VM_LOCKED_MASK;
	if (flags & MCL_ONFAULT)
		add = VM_LOCKED | VM_LOCKONFAULT;
	else if (flags)
		add = VM_LOCKED;
	if (flags & MCL_FUTURE)
		mm->def_flags |= add;
	if (flags && !(flags & MCL_CURRENT))
		return 0;
	if (!(flags & MCL_CURRENT))
		add = 0;
	for (struct vma *v = vma_first(&mm->mt); v;) {
		uint64_t end = v->vm_end;
		if (vma_lockable(v)) {
			struct vma *out;
			long r = mm_modify_range(mm, v, v->vm_start, v->vm_end,
						 (v->vm_flags & ~VM_LOCKED_MASK) | add, &out);
			if (r)
				return r;
		}
		v = vma_find(&mm->mt, end);
	}
	return 0;
}

long mm_mlockall(struct mm_struct *mm, const struct mm_caller *c, uint64_t flags)
{
	if (!flags || (flags & ~(uint64_t)(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
		return -EINVAL;
	if (!mm_can_mlock(c))
		return -EPERM;
	pthread_rwlock_wrlock(&mm->lock);
	long r = 0;
	uint64_t limit = c->rlim[RLIMIT_MEMLOCK].cur >> PAGE_SHIFT;
	if ((flags & MCL_CURRENT) && mm->total_vm > limit &&
	    !gate_privilege(c->token, PM_SE_LOCK_MEMORY_PRIVILEGE))
		r = -ENOMEM;
	if (!r)
		r = mlockall_locked(mm, flags);
	if (!r && (flags & MCL_CURRENT) && !(flags & MCL_ONFAULT))
		mm_populate_locked(mm, 0, mm->task_size);
	else if (!r && (flags & MCL_CURRENT))
		populate_skipped(mm, 0, mm->task_size, 1);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

long mm_munlockall(struct mm_struct *mm)
{
	pthread_rwlock_wrlock(&mm->lock);
	long r = mlockall_locked(mm, 0);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
