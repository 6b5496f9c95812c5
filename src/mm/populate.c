/*
 * Pre-faulting and the locked-memory quota shared by MAP_POPULATE, MAP_LOCKED and (later)
 * mlock and madvise(POPULATE_*). Populating uses the ordinary fault handler, so a
 * populated page is exactly what a touch would have produced.
 */
#include "mm/mm_internal.h"

#include <errno.h>

#include "kacs/gate.h"

int mm_populate_locked(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	return mm_populate_range(mm, start, end, 1);
}

int mm_populate_range(struct mm_struct *mm, uint64_t start, uint64_t end, int ignore_errors)
{
	int err = 0;
	for (uint64_t a = start; a < end;) {
		struct vma *v = vma_lookup(&mm->mt, a);
		if (!v) {
			struct vma *n = vma_find(&mm->mt, a);
			if (!n || n->vm_start >= end)
				return err;
			a = n->vm_start;
			continue;
		}
		uint64_t stop = min_u64(end, v->vm_end);
		if (v->vm_flags & VM_LOCKONFAULT) {
			a = stop;	/* populate_vma_page_range: lock-on-fault waits for touches */
			continue;
		}
		/* populate_vma_page_range: private writable mappings are written (breaking COW),
		 * everything else is read; inaccessible mappings are skipped. */
		/* populate_vma_page_range: an inaccessible VMA cannot be faulted in (mlock of
		 * PROT_NONE memory reports it); IO and PFN maps are skipped. */
		if (!(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) && !(v->vm_flags & VM_LOCKONFAULT) &&
		    !(v->vm_flags & (VM_IO | VM_PFNMAP))) {
			if (!ignore_errors)
				return -EFAULT;
			err = -EFAULT;
		}
		if ((v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) && !(v->vm_flags & (VM_IO | VM_PFNMAP))) {
			int how = (v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE ? PM_WRITE_ : PM_READ_;
			for (; a < stop; a += PAGE_SIZE) {
				enum fault_ret r = mm_handle_fault(mm, a, how, 0);
				if (r == FAULT_OOM)
					return -ENOMEM;
				if (r != FAULT_OK) {
					/* __mm_populate: mmap and mlockall go on at the next VMA;
					 * mlock stops at the first failure. */
					if (!ignore_errors)
						return -EFAULT;
					err = -EFAULT;
					a = stop;
					break;
				}
			}
		}
		a = stop;
	}
	return err;
}

int mm_can_mlock(const struct mm_caller *c)
{
	return c->rlim[RLIMIT_MEMLOCK].cur != 0 || gate_privilege(c->token, PM_SE_LOCK_MEMORY_PRIVILEGE);
}

int mm_mlock_future_ok(struct mm_struct *mm, const struct mm_caller *c, uint64_t vf, uint64_t len)
{
	if (!(vf & VM_LOCKED) || gate_privilege(c->token, PM_SE_LOCK_MEMORY_PRIVILEGE))
		return 1;
	uint64_t locked = (len >> PAGE_SHIFT) + mm->locked_vm + mm->locked_vm_stale;
	return locked <= (c->rlim[RLIMIT_MEMLOCK].cur >> PAGE_SHIFT);
}
