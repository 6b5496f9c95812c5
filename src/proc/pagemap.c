/*
 * /proc/<pid>/pagemap (one 64-bit entry per virtual page, Linux's pagemap_read) and
 * /proc/<pid>/clear_refs (clear_refs_write), the two halves of the A/soft-dirty protocol.
 * pagemap reads the page tables under mm->lock for reading and mm->ptl and changes
 * nothing; it never shows a PFN unless the caller says the reader may see one (SPEC §7,
 * SeTcbPrivilege). clear_refs is the one writer in this layer: it clears A or soft-dirty
 * bits under mm->lock for writing, then flushes every TLB so the next access sets them.
 */
#include "proc/proc.h"

#include <errno.h>

#define PM_ENTRY_BYTES		8
#define PM_PFRAME_MASK		((1ULL << 55) - 1)	/* bits 0-54 */
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_MMAP_EXCLUSIVE	(1ULL << 56)
#define PM_UFFD_WP		(1ULL << 57)	/* userfaultfd is not built: never set */
#define PM_GUARD_REGION		(1ULL << 58)
/* A PTE marker as Linux encodes it in a swap entry: type SWP_PTE_MARKER (31 on x86-64),
 * offset the marker bit (PTE_MARKER_GUARD is bit 2). */
#define PM_MARKER_GUARD_FRAME	(31ULL | (4ULL << 5))
#define PM_FILE			(1ULL << 61)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)

/* pte_to_pagemap_entry for the entry mapping va (NULL or zero: nothing there). */
static uint64_t pagemap_entry(struct mm_struct *mm, const struct vma *v, uint64_t va,
			      const pte_t *ep, int level, int show_pfn)
{
	uint64_t flags = 0;
	/* A VMA created since the last clear_refs 4 is soft-dirty as a whole. */
	if (v && (v->vm_flags & VM_SOFTDIRTY))
		flags |= PM_SOFT_DIRTY;
	pte_t e = ep ? *ep : 0;
	/* PROT_NONE entries keep their frame and x86 Linux reports them present. Swap entries
	 * report PM_SWAP with type | offset << 5 (MAX_SWAPFILES_SHIFT) in the frame bits
	 * when show_pfn, and their soft-dirty bit. A guard marker is a swap entry to Linux
	 * too: PM_SWAP with PM_GUARD_REGION (6.15), checked on 6.18. */
	if (pte_is_marker(e) && pte_marker(e) == PTE_MARKER_GUARD)
		return flags | PM_SWAP | PM_GUARD_REGION | (show_pfn ? PM_MARKER_GUARD_FRAME : 0);
	if (pte_is_swap(e)) {
		flags |= PM_SWAP | ((e & PTE_SOFTDIRTY) ? PM_SOFT_DIRTY : 0);
		uint64_t frame = pte_swap_type(e) | (pte_swap_offset(e) << 5);
		return flags | (show_pfn ? (frame & PM_PFRAME_MASK) : 0);
	}
	if (!(e & (PTE_P | PTE_PROTNONE)))
		return flags;
	uint64_t pfn = pte_pfn(e) + ((va & (pgt_level_size(level) - 1)) >> PAGE_SHIFT);
	flags |= PM_PRESENT;
	if (e & PTE_SOFTDIRTY)
		flags |= PM_SOFT_DIRTY;
	/* Special entries (zero page, vdso) have no page: vm_normal_page returns NULL, so
	 * neither the file nor the exclusive bit is reported. */
	if (!(e & PTE_SPECIAL)) {
		const struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(e));
		if (!(pg->flags & PG_anon))
			flags |= PM_FILE;	/* page cache and shared anonymous (shmem) */
		if (atomic_load(&pg->mapcount) == 1)
			flags |= PM_MMAP_EXCLUSIVE;
	}
	return flags | (show_pfn ? (pfn & PM_PFRAME_MASK) : 0);
}

long proc_read_pagemap(struct mm_struct *mm, void *buf, size_t len, uint64_t off, int show_pfn)
{
	/* pagemap_read: only whole, aligned entries may be read. */
	if (off % PM_ENTRY_BYTES || len % PM_ENTRY_BYTES)
		return -EINVAL;
	uint64_t end_vpn = mm->task_size >> PAGE_SHIFT;
	uint64_t vpn = off / PM_ENTRY_BYTES;
	if (vpn >= end_vpn)
		return 0;
	uint64_t n = min_u64(len / PM_ENTRY_BYTES, end_vpn - vpn);
	uint64_t *out = buf;
	pthread_rwlock_rdlock(&mm->lock);
	pthread_mutex_lock(&mm->ptl);
	struct vma *v = vma_find(&mm->mt, vpn << PAGE_SHIFT);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t va = (vpn + i) << PAGE_SHIFT;
		while (v && v->vm_end <= va)
			v = vma_next(&mm->mt, v);
		const struct vma *in = v && v->vm_start <= va ? v : NULL;
		int level = 1;
		const pte_t *ep = in ? pgt_lookup(&mm->pgt, va, &level) : NULL;
		out[i] = pagemap_entry(mm, in, va, ep, level, show_pfn);
	}
	pthread_mutex_unlock(&mm->ptl);
	pthread_rwlock_unlock(&mm->lock);
	return (long)(n * PM_ENTRY_BYTES);
}

/* clear_refs_test_walk: which VMAs a type touches (shared anonymous memory is "mapped",
 * as Linux backs it with a file). */
static int clear_refs_skips(const struct vma *v, int type)
{
	if (v->vm_flags & VM_PFNMAP)
		return 1;
	if (type == PROC_CLEAR_REFS_ANON && v->vm_obj)
		return 1;
	return type == PROC_CLEAR_REFS_MAPPED && !v->vm_obj;
}

int proc_clear_refs(struct mm_struct *mm, int type)
{
	if (type < PROC_CLEAR_REFS_ALL || type > PROC_CLEAR_REFS_MM_HIWATER_RSS)
		return -EINVAL;
	/* The write lock, not Linux's read lock: the software MMU sets A and D with atomic
	 * ORs under the read lock alone, and pgt_protect_range's update is not atomic. */
	pthread_rwlock_wrlock(&mm->lock);
	if (type == PROC_CLEAR_REFS_MM_HIWATER_RSS) {
		mm->hiwater_rss = mm_rss(mm);	/* reset_mm_hiwater_rss */
		pthread_rwlock_unlock(&mm->lock);
		return 0;
	}
	pte_t clear = type == PROC_CLEAR_REFS_SOFT_DIRTY ? PTE_SOFTDIRTY : PTE_A;
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		if (clear_refs_skips(v, type))
			continue;
		if (type == PROC_CLEAR_REFS_SOFT_DIRTY)
			v->vm_flags &= ~VM_SOFTDIRTY;
		pgt_protect_range(&mm->pgt, v->vm_start, v->vm_end, clear, 0);
	}
	/* Cached translations would let the next access skip setting A, and a cached write
	 * right would skip soft-dirty (Linux write-protects the PTE for the same reason). */
	mm_flush_tlb(mm);
	pthread_rwlock_unlock(&mm->lock);
	return 0;
}
