/*
 * Pre-faulting and the locked-memory quota shared by MAP_POPULATE, MAP_LOCKED and (later)
 * mlock and madvise(POPULATE_*). Populating uses the ordinary fault handler, so a
 * populated page is exactly what a touch would have produced.
 */
#include "mm/mm_internal.h"

#include "kacs/gate.h"

void mm_populate_locked(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end;) {
		struct vma *v = vma_lookup(&mm->mt, a);
		if (!v) {
			struct vma *n = vma_find(&mm->mt, a);
			if (!n || n->vm_start >= end)
				return;
			a = n->vm_start;
			continue;
		}
		uint64_t stop = min_u64(end, v->vm_end);
		/* populate_vma_page_range: private writable mappings are written (breaking COW),
		 * everything else is read; inaccessible mappings are skipped. */
		if (v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) {
			int how = (v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE ? PM_WRITE_ : PM_READ_;
			for (; a < stop; a += PAGE_SIZE)
				if (mm_handle_fault(mm, a, how, 0) != FAULT_OK)
					return;
		}
		a = stop;
	}
}

int mm_can_mlock(const struct mm_caller *c)
{
	return c->rlim[RLIMIT_MEMLOCK].cur != 0 || gate_privilege(c->token, PM_SE_LOCK_MEMORY_PRIVILEGE);
}

int mm_mlock_future_ok(struct mm_struct *mm, const struct mm_caller *c, uint64_t vf, uint64_t len)
{
	if (!(vf & VM_LOCKED) || gate_privilege(c->token, PM_SE_LOCK_MEMORY_PRIVILEGE))
		return 1;
	uint64_t locked = (len >> PAGE_SHIFT) + mm->locked_vm;
	return locked <= (c->rlim[RLIMIT_MEMLOCK].cur >> PAGE_SHIFT);
}
