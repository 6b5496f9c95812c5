/*
 * Fault-around (Linux's do_fault_around and filemap_map_pages): a read fault of a file,
 * shmem or memfd VMA also maps the neighbouring pages that are already in the page cache,
 * inside a window of fault_around_bytes (64 KiB) aligned down on the virtual address and
 * clamped to the VMA, the page table and EOF. The neighbours are mapped as a read fault
 * would map them (young, read-only where a shared file mapping needs writenotify), with the
 * same counts. It never reads from a file, never allocates a frame, never replaces an entry
 * that is not empty (present, swapped or a marker) and never runs for a write fault.
 * Called under mm->ptl with mm->lock held for reading, as the fault handler is.
 */
#include "mm/mm_internal.h"

#include "reclaim/lru.h"

/* fault_around_bytes' default (64 KiB) in pages; Linux's debugfs knob is not modelled. */
#define FAULT_AROUND_PAGES	16u

int mm_fault_around_wanted(const struct vma *v, int write)
{
	/* should_fault_around: only read faults of VMAs whose vm_ops have ->map_pages (the
	 * page cache's and shmem's, not special mappings, PFN maps or DAX, whose MAP_SYNC
	 * mappings are the VM_SYNC ones here). MADV_RANDOM does not stop it (checked on Linux
	 * 6.18: a read fault of a cached file under MADV_RANDOM maps the whole window). */
	if (write || !v->vm_obj || (v->vm_flags & (VM_PFNMAP | VM_SYNC | VM_HUGETLB)))
		return 0;
	enum obj_kind k = v->vm_obj->kind;
	return k == OBJ_FILE || k == OBJ_SHMEM || k == OBJ_MEMFD;
}

void mm_file_page_lru(struct mm_struct *mm, const struct vma *v, struct page *pg)
{
	/* Host file pages join the file LRU when first mapped (shmem has no swap path). */
	if (mm->sys->lru && v->vm_obj->kind == OBJ_FILE && pg->owner_kind == OWNER_OBJECT &&
	    !(pg->flags & PG_shmem) && !pg->lru_list)
		lru_add(mm->sys->lru, pg, (v->vm_flags & VM_LOCKED) ? LRU_UNEVICTABLE : LRU_INACTIVE_FILE);
}

pte_t mm_file_read_pte_bits(const struct vma *v)
{
	pte_t bits = mm_vma_pte_bits(v) | PTE_A;
	/* A shared mapping that needs no writenotify (shmem, memfd) is writable at once; a
	 * shared file page turns writable only by a write fault, which dirties it. */
	if ((v->vm_flags & VM_SHARED) && (v->vm_flags & VM_WRITE) && !mm_vma_writenotify(v))
		bits |= PTE_RW;
	return bits;
}

struct around {
	struct mm_struct *mm;
	struct vma *v;
	pte_t *ep;		/* the faulting page's entry; the window shares its table */
	uint64_t index;		/* the faulting page's object index */
	pte_t bits;
	uint64_t no_table_last;	/* the file's last page when the table is new, else ~0 */
	int hit;		/* the faulting page itself was mapped */
	int mapped;		/* some page was mapped */
	int seen;		/* some cached page was found */
};

/* filemap_map_order0_folio + set_pte_range for one cached frame, under o->lock (so a
 * truncation sees the mapcount before it drops the frame). */
static int map_one(void *ctx, uint64_t index, struct page *pg)
{
	struct around *a = ctx;
	/* filemap_map_pages installs a missing page table only when the first cached page
	 * it finds lies wholly below EOF (its can_map_large test, true for shmem), so a
	 * window whose first cached page is a file's last one maps nothing into a new table
	 * (checked on Linux 6.18: a fault past EOF then maps no neighbour). */
	if (!a->seen++ && index == a->no_table_last)
		return 1;
	pte_t *ep = a->ep + (int64_t)(index - a->index);
	if (!pte_none(*ep))
		return 0;	/* present, swapped or a marker: its own fault handles it */
	page_get(pg);		/* the PTE's reference */
	atomic_fetch_add(&pg->mapcount, 1);
	atomic_fetch_add(&a->mm->rss[(pg->flags & PG_shmem) ? MM_SHMEMPAGES : MM_FILEPAGES], 1);
	pgt_set(&a->mm->pgt, ep, pte_mk(page_to_pfn(a->mm->sys->ph, pg), a->bits));
	mm_file_page_lru(a->mm, a->v, pg);
	a->hit |= index == a->index;
	a->mapped = 1;
	return 0;
}

/* do_fault_around's window of addr as object pages [*first, *last]: it starts at the
 * aligned slot or the VMA's start, whichever is later, and runs nr slots from there (so a
 * VMA that starts mid-window gets nr pages from its start, checked on Linux 6.18), cut at
 * the page table's and the VMA's end. */
static void window(const struct vma *v, uint64_t addr, uint64_t *first, uint64_t *last)
{
	const uint64_t nr = FAULT_AROUND_PAGES, per_table = pgt_level_size(2) >> PAGE_SHIFT;
	addr = page_align_down(addr);
	uint64_t pte_off = (addr >> PAGE_SHIFT) & (per_table - 1);
	uint64_t vma_off = (addr - v->vm_start) >> PAGE_SHIFT;
	uint64_t from = max_u64(pte_off & ~(nr - 1), pte_off - min_u64(pte_off, vma_off));
	uint64_t to = min_u64(min_u64(from + nr, per_table),
			      pte_off + ((v->vm_end - addr) >> PAGE_SHIFT)) - 1;
	*first = v->vm_pgoff + vma_off - (pte_off - from);
	*last = v->vm_pgoff + vma_off + (to - pte_off);
}

/* The file's last page when the table is new (the first-cached-page rule of map_one). */
static uint64_t no_table_last(const struct vma *v, int table)
{
	uint64_t size = v->vm_obj->size;	/* a racing truncate is rechecked under the lock */
	return !table && v->vm_obj->kind == OBJ_FILE && size ? (size - 1) >> PAGE_SHIFT : UINT64_MAX;
}

int mm_fault_around(struct mm_struct *mm, struct vma *v, uint64_t addr, pte_t *ep, int *table)
{
	uint64_t first, last;
	window(v, addr, &first, &last);
	struct around a = { mm, v, ep, v->vm_pgoff + ((addr - v->vm_start) >> PAGE_SHIFT),
			    mm_file_read_pte_bits(v), no_table_last(v, *table), 0, 0, 0 };
	obj_for_each_cached(v->vm_obj, first, last, map_one, &a);
	*table |= a.mapped;
	return a.hit;
}

/* Stops at the first cached page: 1 when fault-around would map it into a new table. */
static int first_maps(void *ctx, uint64_t index, struct page *pg)
{
	(void)pg;
	return index == *(uint64_t *)ctx ? 2 : 1;
}

int mm_fault_past_eof_needs_table(struct vma *v, uint64_t addr)
{
	if (!mm_fault_around_wanted(v, 0))
		return 0;
	uint64_t first, last, eof_last = no_table_last(v, 0);
	window(v, addr, &first, &last);
	return obj_for_each_cached(v->vm_obj, first, last, first_maps, &eof_last) == 1;
}
