/*
 * W^X (SPEC §4): while a process has it on, no mapping may be writable and executable at
 * once, a mapping that is or ever was writable may not gain exec (and the reverse), and no
 * page of an object may be writable through one mapping and executable through another in
 * the same process (the double-mapping JIT trick). The history bits VM_WAS_WRITE and
 * VM_WAS_EXEC live on each VMA and survive split, merge and mremap. Refusals are EACCES.
 */
#include "mm/mm_internal.h"

#include <errno.h>

uint64_t wx_history(uint64_t vf)
{
	return (vf & VM_WRITE ? VM_WAS_WRITE : 0) | (vf & VM_EXEC ? VM_WAS_EXEC : 0);
}

/* Do [a0, a1) and [b0, b1) (object page ranges) overlap? */
static int overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

int mm_wx_alias(struct mm_struct *mm, struct vm_object *o, uint64_t pgoff, uint64_t npages,
		uint64_t vf, const struct vma *self)
{
	int want_x = (vf & VM_EXEC) != 0;
	int want_w = (vf & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE);
	if (!o || (!want_x && !want_w))
		return 0;
	int clash = 0;
	pthread_mutex_lock(&o->i_mmap_lock);
	for (struct list_head *l = o->i_mmap.next; l != &o->i_mmap && !clash; l = l->next) {
		struct vma *v = list_entry(l, struct vma, vm_obj_node);
		if (v == self || v->vm_mm != mm)
			continue;
		uint64_t n = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		if (!overlaps(pgoff, pgoff + npages, v->vm_pgoff, v->vm_pgoff + n))
			continue;
		int v_w = (v->vm_flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE);
		clash = (want_x && v_w) || (want_w && (v->vm_flags & VM_EXEC));
	}
	pthread_mutex_unlock(&o->i_mmap_lock);
	return clash;
}

long mm_wx_check_mmap(struct mm_struct *mm, const struct mm_caller *c, uint64_t prot,
		      uint64_t vf, struct vm_object *o, uint64_t pgoff, uint64_t len)
{
	if (!c->wx)
		return 0;
	if ((prot & 3) == 3 && (prot & 4))
		return -EACCES;
	return mm_wx_alias(mm, o, pgoff, len >> PAGE_SHIFT, vf, NULL) ? -EACCES : 0;
}

long mm_wx_check_mprotect(struct mm_struct *mm, const struct mm_caller *c, const struct vma *v,
			  uint64_t start, uint64_t end, uint64_t newflags)
{
	if (!c->wx)
		return 0;
	if ((newflags & (VM_WRITE | VM_EXEC)) == (VM_WRITE | VM_EXEC))
		return -EACCES;
	/* History: once writable never executable, and the reverse (SPEC §4). */
	if ((newflags & VM_EXEC) && !(v->vm_flags & VM_EXEC) && (v->vm_flags & (VM_WRITE | VM_WAS_WRITE)))
		return -EACCES;
	if ((newflags & VM_WRITE) && !(v->vm_flags & VM_WRITE) && (v->vm_flags & (VM_EXEC | VM_WAS_EXEC)))
		return -EACCES;
	uint64_t pgoff = v->vm_pgoff + ((start - v->vm_start) >> PAGE_SHIFT);
	return mm_wx_alias(mm, v->vm_obj, pgoff, (end - start) >> PAGE_SHIFT, newflags, v) ? -EACCES : 0;
}

int mm_has_wx(struct mm_struct *mm)
{
	int found = 0;
	pthread_rwlock_rdlock(&mm->lock);
	for (struct vma *v = vma_first(&mm->mt); v && !found; v = vma_next(&mm->mt, v)) {
		if ((v->vm_flags & (VM_WRITE | VM_EXEC)) == (VM_WRITE | VM_EXEC))
			found = 1;
		else if (v->vm_obj)
			found = mm_wx_alias(mm, v->vm_obj, v->vm_pgoff, (v->vm_end - v->vm_start) >> PAGE_SHIFT,
					    v->vm_flags, v);
	}
	pthread_rwlock_unlock(&mm->lock);
	return found;
}
