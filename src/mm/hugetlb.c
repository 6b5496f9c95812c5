/*
 * MAP_HUGETLB mappings (SPEC §5; Linux's mm/hugetlb.c as mmap sees it): the length rounds
 * to the huge size, placement and splits must be huge-aligned (EINVAL otherwise), the pool
 * is reserved at mmap (ENOMEM when short) and each fault maps a whole 2 MiB or 1 GiB frame
 * with a PS entry. Private mappings hold their reservation themselves, shared ones in
 * their object. Hugetlb frames are not RSS; they count in HugetlbPages.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <linux/mman.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_SHIFT	26
#define HUGE_MASK	0x3fULL

uint64_t mm_huge_size(const struct vma *v)
{
	return PAGE_SIZE << phys_huge_order(v->vm_obj->hstate);
}

int mm_hugetlb_hstate(uint64_t flags)
{
	uint64_t log = (flags >> HUGE_SHIFT) & HUGE_MASK;
	if (log == 0 || log == 21)
		return 0;
	return log == 30 ? 1 : -EINVAL;	/* hstate_sizelog: only the sizes x86 has */
}

/* The VMA owns a reservation for each huge page it has not faulted yet. */
static int holds_reservation(const struct vma *v)
{
	return (v->vm_flags & VM_HUGETLB) && !(v->vm_flags & (VM_SHARED | VM_NORESERVE | VM_HUGE_NORESV));
}

static int count_present(void *ctx, uint64_t va, pte_t *ep, int level)
{
	(void)va;
	(void)level;
	*(uint64_t *)ctx += (*ep & PTE_P) != 0;
	return 0;
}

void mm_hugetlb_unreserve(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (!holds_reservation(v))
		return;
	uint64_t present = 0, size = mm_huge_size(v);
	pgt_walk_range(&mm->pgt, start, end, count_present, &present);
	uint64_t n = (end - start) / size - present;
	if (n)
		phys_huge_unreserve(mm->sys->ph, v->vm_obj->hstate, n);
}

int mm_hugetlb_split_ok(const struct vma *v, uint64_t addr)
{
	return !(v->vm_flags & VM_HUGETLB) || !(addr & (mm_huge_size(v) - 1));
}

/* Creates the object (and, for private mappings, the reservation) of a hugetlb mapping
 * of len bytes. 0 or -ENOMEM. */
int mm_hugetlb_prepare(struct mm_struct *mm, int h, uint64_t len, uint64_t vf,
		       struct vm_object **obj)
{
	int shared = (vf & VM_SHARED) != 0, noreserve = (vf & VM_NORESERVE) != 0, err;
	*obj = obj_hugetlb_create(mm->sys->km, mm->sys->ph, h, len, shared, noreserve,
				  atomic_fetch_add(&mm->sys->next_ino, 1), &err);
	if (!*obj)
		return err;
	if (!shared && !noreserve &&
	    phys_huge_reserve(mm->sys->ph, h, len >> (PAGE_SHIFT + phys_huge_order(h)))) {
		obj_put(*obj);
		return -ENOMEM;
	}
	return 0;
}

static void map_huge(struct mm_struct *mm, struct vma *v, pte_t *ep, struct page *pg, int write)
{
	pte_t bits = mm_vma_pte_bits(v) | PTE_A | PTE_PS;
	if (v->vm_flags & VM_WRITE && ((v->vm_flags & VM_SHARED) || write))
		bits |= PTE_RW | (write ? PTE_D : 0);
	atomic_fetch_add(&pg->mapcount, 1);
	atomic_fetch_add(&mm->hugetlb_bytes, (long)mm_huge_size(v));
	pgt_set(&mm->pgt, ep, pte_mk(page_to_pfn(mm->sys->ph, pg), bits));
}

/* A write to a read-only private huge page: reuse it when exclusive, else copy it. */
static enum fault_ret huge_wp(struct mm_struct *mm, struct vma *v, pte_t *ep)
{
	struct page *old = pfn_to_page(mm->sys->ph, pte_pfn(*ep));
	if ((v->vm_flags & VM_SHARED) || (atomic_load(&old->mapcount) == 1 &&
					  atomic_load(&old->refcount) == 1)) {
		*ep |= PTE_RW | PTE_D | PTE_A;
		return FAULT_OK;
	}
	struct page *copy = phys_huge_alloc(mm->sys->ph, v->vm_obj->hstate, 0);
	if (!copy)
		return FAULT_SIGBUS;	/* no huge page left for the copy: Linux kills with SIGBUS */
	memcpy(page_address(mm->sys->ph, copy), page_address(mm->sys->ph, old), mm_huge_size(v));
	atomic_fetch_sub(&old->mapcount, 1);
	atomic_fetch_sub(&mm->hugetlb_bytes, (long)mm_huge_size(v));
	pgt_set(&mm->pgt, ep, 0);
	map_huge(mm, v, ep, copy, 1);
	mm_flush_tlb(mm);
	phys_put(mm->sys->ph, old);	/* after the bump: the shootdown rule of mm.h */
	return FAULT_OK;
}

enum fault_ret mm_hugetlb_fault(struct mm_struct *mm, struct vma *v, uint64_t addr, int how)
{
	uint64_t size = mm_huge_size(v), base = addr & ~(size - 1);
	int level = size == PMD_SIZE ? 2 : 3, write = (how & PM_WRITE_) != 0;
	pthread_mutex_lock(&mm->ptl);
	pte_t *ep;
	enum fault_ret r = FAULT_OK;
	if (pgt_alloc_entry(&mm->pgt, base, level, &ep)) {
		r = FAULT_OOM;
	} else if (pte_none(*ep)) {
		struct page *pg;
		if (v->vm_flags & VM_SHARED) {
			uint64_t index = (v->vm_pgoff << PAGE_SHIFT) / size + (base - v->vm_start) / size;
			pg = obj_hugetlb_get_page(v->vm_obj, index, &pg) ? NULL : pg;
		} else {
			pg = phys_huge_alloc(mm->sys->ph, v->vm_obj->hstate, holds_reservation(v));
			if (pg) {
				pg->flags |= PG_anon;
				pg->owner_kind = OWNER_ANON;
			}
		}
		if (pg)
			map_huge(mm, v, ep, pg, write);
		else
			r = FAULT_SIGBUS;	/* the pool ran dry (MAP_NORESERVE, or after fork) */
	} else if (write && !(*ep & PTE_RW)) {
		r = huge_wp(mm, v, ep);
	} else {
		*ep |= PTE_A | (write ? PTE_D : 0);
	}
	pthread_mutex_unlock(&mm->ptl);
	return r;
}

int mm_hugetlb_rereserve(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (!holds_reservation(v))
		return 0;
	/* After a zap every page of the range is unfaulted again and owes a reservation; the
	 * frames just went back to the pool, so the promise can always be made. */
	phys_huge_reserve(mm->sys->ph, v->vm_obj->hstate, (end - start) / mm_huge_size(v));
	return 0;
}
