/*
 * MAP_HUGETLB mappings and mappings of hugetlb memfds (SPEC §5; Linux's mm/hugetlb.c as
 * mmap sees it): the length rounds to the huge size, placement, offsets and splits must be
 * huge-aligned (EINVAL otherwise), the pool is reserved at mmap (ENOMEM when short) and
 * each fault maps a whole 2 MiB or 1 GiB frame with a PS entry. Private mappings hold
 * their reservation themselves, shared ones in their object. Hugetlb frames are not RSS;
 * they count in HugetlbPages.
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

/* A private VMA owns a reservation for each huge page it has no private (PG_anon) frame
 * for yet; a file page it maps read-only has not used one. Shared VMAs (VM_MAYSHARE, read-only ones included)
 * leave reservations to their object. */
static int holds_reservation(const struct vma *v)
{
	return (v->vm_flags & VM_HUGETLB) && !(v->vm_flags & (VM_MAYSHARE | VM_NORESERVE | VM_HUGE_NORESV));
}

struct present_ctx { struct phys *ph; uint64_t n; };

static int count_present(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct present_ctx *c = ctx;
	(void)va;
	(void)level;
	c->n += (*ep & PTE_P) && (pfn_to_page(c->ph, pte_pfn(*ep))->flags & PG_anon);
	return 0;
}

void mm_hugetlb_unreserve(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (!holds_reservation(v))
		return;
	struct present_ctx present = { mm->sys->ph, 0 };
	uint64_t size = mm_huge_size(v);
	pgt_walk_range(&mm->pgt, start, end, count_present, &present);
	uint64_t n = (end - start) / size - present.n;
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
	/* A private VMA maps a file page read-only, so the first store copies it. */
	int may_rw = (v->vm_flags & VM_SHARED) || (write && (pg->flags & PG_anon));
	if ((v->vm_flags & VM_WRITE) && may_rw)
		bits |= PTE_RW | (write ? PTE_D : 0);
	atomic_fetch_add(&pg->mapcount, 1);
	atomic_fetch_add(&mm->hugetlb_bytes, (long)mm_huge_size(v));
	pgt_set(&mm->pgt, ep, pte_mk(page_to_pfn(mm->sys->ph, pg), bits));
}

/* A private frame for v, copied from src when there is one (hugetlb_wp's copy, or a
 * private fault's fresh page). The reservation is used for the VMA's own first frame at
 * this address: never for the copy of a frame it already had (fork shared it). */
static struct page *private_frame(struct mm_struct *mm, struct vma *v, struct page *src)
{
	int reserved = holds_reservation(v) && !(src && (src->flags & PG_anon));
	struct page *pg = phys_huge_alloc(mm->sys->ph, v->vm_obj->hstate, reserved);
	if (!pg)
		return NULL;
	if (src)
		memcpy(page_address(mm->sys->ph, pg), page_address(mm->sys->ph, src), mm_huge_size(v));
	pg->flags |= PG_anon;
	pg->owner_kind = OWNER_ANON;
	return pg;
}

/* A write to a read-only private huge page: reuse it when exclusive, else copy it. */
static enum fault_ret huge_wp(struct mm_struct *mm, struct vma *v, pte_t *ep)
{
	struct page *old = pfn_to_page(mm->sys->ph, pte_pfn(*ep));
	if ((v->vm_flags & VM_SHARED) || ((old->flags & PG_anon) && atomic_load(&old->mapcount) == 1 &&
					  atomic_load(&old->refcount) == 1)) {
		*ep |= PTE_RW | PTE_D | PTE_A;
		return FAULT_OK;
	}
	struct page *copy = private_frame(mm, v, old);
	if (!copy)
		return FAULT_SIGBUS;	/* no huge page left for the copy: Linux kills with SIGBUS */
	atomic_fetch_sub(&old->mapcount, 1);
	atomic_fetch_sub(&mm->hugetlb_bytes, (long)mm_huge_size(v));
	pgt_set(&mm->pgt, ep, 0);
	map_huge(mm, v, ep, copy, 1);
	mm_flush_tlb(mm);
	phys_put(mm->sys->ph, old);	/* after the bump: the shootdown rule of mm.h */
	return FAULT_OK;
}

/* hugetlb_no_page: a shared VMA maps the object's page (made on first use); a private one
 * maps the file's page read-only for a read, else a private frame (a copy of the file's
 * page when it has one). NULL when the pool ran dry or the page lies beyond EOF. */
static struct page *no_page(struct mm_struct *mm, struct vma *v, uint64_t base, int write)
{
	uint64_t size = mm_huge_size(v);
	uint64_t index = (v->vm_pgoff << PAGE_SHIFT) / size + (base - v->vm_start) / size;
	struct page *pg = NULL;
	if (v->vm_flags & VM_MAYSHARE)
		return obj_hugetlb_get_page(v->vm_obj, index, 1, &pg) ? NULL : pg;
	int err = obj_hugetlb_get_page(v->vm_obj, index, 0, &pg);
	if (err == -EFAULT)
		return NULL;
	if (pg && !write)
		return pg;	/* the PTE takes the lookup's reference */
	struct page *priv = private_frame(mm, v, pg);
	if (pg)
		phys_put(mm->sys->ph, pg);
	return priv;
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
		struct page *pg = no_page(mm, v, base, write);
		if (pg)
			map_huge(mm, v, ep, pg, write);
		else
			r = FAULT_SIGBUS;	/* the pool ran dry (MAP_NORESERVE, after fork), or EOF */
	} else if (write && !(*ep & PTE_RW)) {
		r = huge_wp(mm, v, ep);
	} else {
		*ep |= PTE_A | (write ? PTE_D : 0);
	}
	pthread_mutex_unlock(&mm->ptl);
	return r;
}

long mm_hugetlb_file_mmap(struct mm_struct *mm, struct vm_object *o, uint64_t pgoff, uint64_t len,
			  uint64_t *vf)
{
	uint64_t size = obj_huge_size(o), shift = PAGE_SHIFT + phys_huge_order(o->hstate);
	/* hugetlbfs_file_mmap: the offset is whole huge pages, the end fits a loff_t. */
	if ((pgoff << PAGE_SHIFT) & (size - 1))
		return -EINVAL;
	uint64_t end = (pgoff << PAGE_SHIFT) + len;
	if (end < len || end > INT64_MAX)
		return -EINVAL;
	*vf |= VM_HUGETLB | VM_DONTEXPAND;
	if (!(*vf & VM_NORESERVE)) {
		/* hugetlb_reserve_pages: a shared mapping reserves in the file what it does not
		 * have yet, a private one the whole length for itself. */
		long r = (*vf & VM_MAYSHARE) ? obj_hugetlb_reserve(o, (pgoff << PAGE_SHIFT) >> shift, len >> shift)
					     : phys_huge_reserve(mm->sys->ph, o->hstate, len >> shift);
		if (r)
			return r;
	}
	/* A writable mapping reaching past EOF grows the file to its end. */
	if ((*vf & VM_WRITE) && o->size < end)
		obj_hugetlb_grow(o, end);
	return 0;
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
