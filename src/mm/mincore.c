/*
 * mincore (Linux's sys_mincore): one byte per page, bit 0 set when the page is resident.
 * Anonymous pages are resident when their PTE maps a frame (the zero page included);
 * object pages also when the object's cache holds them. The vector is computed under the
 * lock into a host buffer and copied out afterwards, so the copy may fault freely.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "mm/swap_mm.h"

static uint8_t page_resident(struct mm_struct *mm, struct vma *v, uint64_t a)
{
	int level;
	pte_t *ep = pgt_lookup(&mm->pgt, a, &level);
	if (ep && (*ep & (PTE_P | PTE_PROTNONE)))
		return 1;
	if (ep && pte_is_swap(*ep))
		return (uint8_t)mm_swap_cached(mm, *ep);	/* mincore_swap: the swap cache */
	if (v->vm_obj)	/* a swapped-out shmem page counts only from the swap cache */
		return (uint8_t)obj_page_resident(v->vm_obj, v->vm_pgoff + ((a - v->vm_start) >> PAGE_SHIFT));
	return 0;
}

long mm_mincore(struct mm_struct *mm, uint64_t start, uint64_t len, uint64_t vec, uint32_t pkru)
{
	if (!page_aligned(start))
		return -EINVAL;
	if (start >= mm->task_size || len > mm->task_size - start)
		return -ENOMEM;
	uint64_t pages = (len >> PAGE_SHIFT) + ((len & (PAGE_SIZE - 1)) != 0);
	if (!pages)
		return 0;
	uint8_t *buf = malloc(pages > 4096 ? 4096 : pages);
	if (!buf)
		return -ENOMEM;
	long r = 0;
	for (uint64_t done = 0; done < pages && !r;) {
		uint64_t n = min_u64(pages - done, 4096);
		pthread_rwlock_rdlock(&mm->lock);
		for (uint64_t i = 0; i < n && !r; i++) {
			uint64_t a = start + (done + i) * PAGE_SIZE;
			struct vma *v = vma_lookup(&mm->mt, a);
			if (!v)
				r = -ENOMEM;
			else
				buf[i] = page_resident(mm, v, a);
		}
		pthread_rwlock_unlock(&mm->lock);
		struct mm_fault_info fi;
		if (!r && mm_access(mm, NULL, pkru, vec + done, buf, n, PM_WRITE_, &fi) < 0)
			r = -EFAULT;
		done += n;
	}
	free(buf);
	return r;
}
