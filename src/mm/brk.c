/*
 * brk (Linux's sys_brk and do_brk_flags). The raw call never fails with an errno: it
 * returns the new break, or the unchanged one when the move is refused (RLIMIT_DATA,
 * RLIMIT_AS, max_map_count, or a collision with the next mapping or its guard gap).
 */
#include "mm/mm_internal.h"

#include <sys/resource.h>

/* VM_DATA_DEFAULT_FLAGS on x86-64, plus VM_ACCOUNT as do_brk_flags adds. */
#define BRK_FLAGS (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT)

static int brk_shrink(struct mm_struct *mm, uint64_t brk, uint64_t newbrk, uint64_t oldbrk)
{
	uint64_t orig = mm->brk;
	if (mm_range_sealed(mm, newbrk, oldbrk))
		return -1;
	mm->brk = brk;
	if (mm_unmap_range_locked(mm, newbrk, oldbrk)) {
		mm->brk = orig;
		return -1;
	}
	return 0;
}

static int brk_grow(struct mm_struct *mm, const struct mm_caller *c, uint64_t newbrk,
		    uint64_t oldbrk)
{
	/* The break must stay a page clear of the next mapping and of its guard gap. */
	struct vma *next = vma_find(&mm->mt, oldbrk);
	if (next && newbrk + PAGE_SIZE > vma_start_gap(&mm->mt, next))
		return -1;
	uint64_t vf = BRK_FLAGS | mm->def_flags;
	long r = mm_mmap_region(mm, c, oldbrk, newbrk - oldbrk, vf, NULL, oldbrk >> PAGE_SHIFT,
				VMA_NORMAL, (vf & VM_LOCKED) != 0);
	return r < 0 ? -1 : 0;
}

long mm_brk(struct mm_struct *mm, const struct mm_caller *c, uint64_t brk)
{
	pthread_rwlock_wrlock(&mm->lock);
	uint64_t orig = mm->brk;
	uint64_t rlim = c->rlim[RLIMIT_DATA].cur;
	if (brk < mm->start_brk)
		goto out;
	/* check_data_rlimit: the heap plus the data segment must fit RLIMIT_DATA. */
	if (rlim != RLIM_INFINITY &&
	    (brk - mm->start_brk) + (mm->end_data - mm->start_data) > rlim)
		goto out;
	uint64_t newbrk = page_align_up(brk), oldbrk = page_align_up(mm->brk);
	if (newbrk == oldbrk) {
		mm->brk = brk;
	} else if (brk <= mm->brk) {
		if (brk_shrink(mm, brk, newbrk, oldbrk))
			goto out;
	} else {
		if (newbrk > mm->task_size || brk_grow(mm, c, newbrk, oldbrk))
			goto out;
		mm->brk = brk;
	}
	pthread_rwlock_unlock(&mm->lock);
	return (long)brk;
out:
	pthread_rwlock_unlock(&mm->lock);
	return (long)orig;
}
