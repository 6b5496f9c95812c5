/*
 * munmap and mprotect (Linux's __vm_munmap and do_mprotect_pkey): argument validation in
 * Linux's order, then the shared range machinery of mm_vma.c. mprotect keeps Linux's
 * partial semantics: VMAs before a hole stay changed when the call fails with ENOMEM.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <sys/mman.h>

long mm_munmap(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	if (!page_aligned(addr) || addr > mm->task_size || len > mm->task_size - addr)
		return -EINVAL;
	len = page_align_up(len);
	if (!len)
		return -EINVAL;
	pthread_rwlock_wrlock(&mm->lock);
	/* munmap is atomic over a sealed VMA: nothing is unmapped (SPEC §9). */
	long r = mm_range_sealed(mm, addr, addr + len) ? -EPERM : mm_unmap_range_locked(mm, addr, addr + len);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

/* The loop of do_mprotect_pkey over the VMAs of [start, end). */
static long mprotect_walk(struct mm_struct *mm, const struct mm_caller *c, struct vma *v,
			  uint64_t start, uint64_t end, uint64_t prot, long pkey)
{
	uint64_t nstart = start;
	for (;;) {
		uint64_t newflags = (v->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | vm_prot_bits(prot);
		/* mprotect_fixup: a private mapping that becomes writable is accounted from now
		 * on (VM_ACCOUNT decides later merges)... */
		if ((newflags & VM_WRITE) &&
		    !(v->vm_flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)))
			newflags |= VM_ACCOUNT;
		/* ...except that anonymous memory never touched (no anon_vma yet) gives the
		 * charge back when it stops being writable. */
		else if (!(newflags & VM_WRITE) && (v->vm_flags & VM_ACCOUNT) && !v->vm_obj && !v->anon)
			newflags &= ~VM_ACCOUNT;
		/* A right the mapping may never have (VM_MAY*) is EACCES. */
		if ((newflags & ~(newflags >> 4)) & (VM_READ | VM_WRITE | VM_EXEC))
			return -EACCES;
		uint64_t tmp = min_u64(v->vm_end, end);
		uint64_t oldflags = v->vm_flags;
		long wx = mm_wx_check_mprotect(mm, c, v, nstart, tmp, newflags);
		if (wx)
			return wx;
		/* mprotect_fixup: becoming accountable is a promise of the whole piece. */
		if ((newflags & VM_ACCOUNT) && !(v->vm_flags & VM_ACCOUNT) &&
		    mm_acct_enough(mm, (tmp - nstart) >> PAGE_SHIFT))
			return -ENOMEM;
		newflags |= wx_history(newflags);
		struct vma *out;
		long r = mm_modify_range_pkey(mm, v, nstart, tmp, newflags, pkey, &out);
		if (r)
			return r;
		/* mprotect_fixup: locked private memory that becomes writable is populated
		 * now, since its pages must stay resident and writable; lock-on-fault memory
		 * is not (populate_vma_page_range has nothing to do for VM_LOCKONFAULT). */
		if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED &&
		    (newflags & VM_WRITE) && !(newflags & VM_LOCKONFAULT))
			mm_populate_locked(mm, nstart, tmp);
		nstart = tmp;
		if (nstart >= end)
			return 0;
		(void)out;
		/* The change may have merged forward, so look nstart up afresh. */
		v = vma_find(&mm->mt, nstart);
		if (!v || v->vm_start > nstart)
			return -ENOMEM;	/* a hole: what came before stays changed */
	}
}

/* Is a sealed VMA reached before the first hole of [start, end)? A hole ends mprotect's
 * walk (ENOMEM), so only what precedes it can refuse the call. */
static int sealed_before_hole(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	uint64_t at = start;
	for (struct vma *v = vma_find(&mm->mt, start); v && v->vm_start < end && v->vm_start <= at;
	     v = vma_next(&mm->mt, v)) {
		if (v->vm_flags & VM_SEALED)
			return 1;
		at = v->vm_end;
	}
	return 0;
}

long mm_mprotect(struct mm_struct *mm, const struct mm_caller *c, uint64_t start, uint64_t len,
		 uint64_t prot)
{
	return mm_pkey_mprotect(mm, c, start, len, prot, -1);
}

long mm_pkey_mprotect(struct mm_struct *mm, const struct mm_caller *c, uint64_t start,
		      uint64_t len, uint64_t prot, long pkey)
{
	uint64_t grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
	prot &= ~grows;
	if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (!page_aligned(start))
		return -EINVAL;
	if (!len)
		return 0;
	len = page_align_up(len);
	uint64_t end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC | 0x8 /* PROT_SEM */))
		return -EINVAL;
	pthread_rwlock_wrlock(&mm->lock);
	long r = -EINVAL;
	if (pkey != -1 && !mm_pkey_allocated(mm, pkey))
		goto out;	/* do_mprotect_pkey: an unallocated key is EINVAL */
	r = -ENOMEM;
	struct vma *v = vma_find(&mm->mt, start);
	if (!v)
		goto out;
	if (grows & PROT_GROWSDOWN) {
		if (v->vm_start >= end)
			goto out;
		start = v->vm_start;
		r = -EINVAL;
		if (!(v->vm_flags & VM_GROWSDOWN))
			goto out;
	} else if (v->vm_start > start) {
		goto out;
	} else if (grows & PROT_GROWSUP) {
		r = -EINVAL;	/* x86 has no VM_GROWSUP mappings */
		goto out;
	}
	/* Sealed VMAs refuse, and the call changes nothing at all (SPEC §9). */
	r = sealed_before_hole(mm, start, end) ? -EPERM : mprotect_walk(mm, c, v, start, end, prot, pkey);
out:
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
