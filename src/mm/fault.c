/*
 * The page-fault handler (Linux's handle_mm_fault and its do_anonymous_page, do_fault,
 * do_wp_page). Called with mm->lock held for reading; every PTE change happens under
 * mm->ptl. Frames reach a process zeroed or copied, never stale (SPEC §1). It never
 * grows a VMA: stack expansion is handed back to the caller, which takes the write lock.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <string.h>

#include "lib/pm_assert.h"
#include "mm/swap_mm.h"
#include "reclaim/lru.h"

static uint64_t linear_index(const struct vma *v, uint64_t addr)
{
	return v->vm_pgoff + ((addr - v->vm_start) >> PAGE_SHIFT);
}

/* Installs a fresh mapping of pg at *ep; the caller's frame reference passes to the PTE. */
static void map_page(struct mm_struct *mm, pte_t *ep, struct page *pg, pte_t bits)
{
	atomic_fetch_add(&pg->mapcount, 1);
	int kind = (pg->flags & PG_anon) ? MM_ANONPAGES : (pg->flags & PG_shmem) ? MM_SHMEMPAGES
										  : MM_FILEPAGES;
	atomic_fetch_add(&mm->rss[kind], 1);
	pgt_set(&mm->pgt, ep, pte_mk(page_to_pfn(mm->sys->ph, pg), bits));
}

/* A zeroed (or copied) private anonymous frame for v at addr, or NULL. */
static struct page *new_anon_page(struct mm_struct *mm, struct vma *v, uint64_t addr,
				  const void *copy_from)
{
	if (!mm_anon_prepare(mm, v))
		return NULL;
	/* An embedded image's MAP_UNINITIALIZED memory skips the zeroing (SPEC §5); nowhere
	 * else may a frame reach a process with old contents. */
	unsigned opts = (!copy_from && (v->vm_flags & VM_UNINITIALIZED)) ? PHYS_NOZERO : PHYS_ZERO;
	struct page *pg = phys_alloc(mm->sys->ph, 0, opts);
	if (!pg)
		return NULL;
	if (copy_from)
		memcpy(page_address(mm->sys->ph, pg), copy_from, PAGE_SIZE);
	pg->flags |= PG_anon;
	/* folio_add_new_anon_rmap leaves a droppable folio !swapbacked, as MADV_FREE does:
	 * it goes on the file list and reclaim discards it (mm_pageout_pte), swap or no swap. */
	enum lru_list list = LRU_INACTIVE_ANON;
	if (v->vm_flags & VM_DROPPABLE) {
		pg->flags |= PG_lazyfree;
		list = LRU_INACTIVE_FILE;
	}
	pg->owner_kind = OWNER_ANON;
	pg->owner = v->anon;
	pg->index = linear_index(v, addr);
	atomic_fetch_add(&mm->sys->nr_anon, 1);
	/* lru_cache_add_inactive_or_unevictable: new anonymous memory starts inactive. */
	if (mm->sys->lru)
		lru_add(mm->sys->lru, pg, (v->vm_flags & VM_LOCKED) ? LRU_UNEVICTABLE : list);
	return pg;
}

struct page *mm_anon_page_copy(struct mm_struct *mm, struct vma *v, uint64_t addr,
				const void *src)
{
	return new_anon_page(mm, v, addr, src);
}

/* Nothing mapped yet: zero page, fresh anon frame, or the object's page (do_fault). */
static enum fault_ret fault_none(struct mm_struct *mm, struct vma *v, uint64_t addr, pte_t *ep,
				 int write, int table)
{
	pte_t bits = mm_vma_pte_bits(v) | PTE_A;
	if (!v->vm_obj) {
		if (!write && mm_use_zero_page(mm)) {
			uint64_t zpfn = page_to_pfn(mm->sys->ph, mm->sys->zero_page);
			pgt_set(&mm->pgt, ep, pte_mk(zpfn, bits | PTE_SPECIAL));
			return FAULT_OK;
		}
		/* do_anonymous_page: with no zero page a read fault maps the new frame
		 * writable and dirty only in a writable VMA, clean in a read-only one. */
		struct page *pg = new_anon_page(mm, v, addr, NULL);
		if (!pg)
			return FAULT_OOM;
		int rw = write || (v->vm_flags & VM_WRITE);
		map_page(mm, ep, pg, bits | (rw ? PTE_RW | PTE_D : 0));
		mm_acct_touch(mm, v, 1);	/* mode 0: the page is charged now (SPEC §8) */
		return FAULT_OK;
	}
	/* do_cow_fault prepares the anon identity before it reads the page: a private write
	 * past EOF still leaves the VMA one (then SIGBUS), which decides later merges. */
	if (write && !(v->vm_flags & VM_SHARED) && !mm_anon_prepare(mm, v))
		return FAULT_OOM;
	/* do_read_fault maps the cached pages around the fault first (fault_around.c); the
	 * page itself among them ends the fault, even one that then fails past EOF keeps
	 * the neighbours it mapped. */
	int around = mm_fault_around_wanted(v, write);
	if (around && mm_fault_around(mm, v, addr, ep, &table))
		return FAULT_OK;
	struct page *pg;
	uint64_t index = linear_index(v, addr);
	int major;
	int err = obj_fault_page(v->vm_obj, index, &pg, &major);
	if (err)
		return err == -ENOMEM ? FAULT_OOM : FAULT_SIGBUS;
	atomic_fetch_add(&mm->sys->pgmajfault, (unsigned long)major);	/* VM_FAULT_MAJOR */
	/* Read-ahead around the fault (SPEC §3): none for MADV_RANDOM, a long window for
	 * MADV_SEQUENTIAL, a short one otherwise. Only host files read anything. */
	if (!(v->vm_flags & VM_RAND_READ))
		obj_readahead(v->vm_obj, index, (v->vm_flags & VM_SEQ_READ) ? 32 : 4);
	/* A file page that was not cached was read from the host: filemap_fault dropped the
	 * mmap lock for the I/O and the fault is retried, and the retry's fault-around maps
	 * it with whatever the read-ahead brought in (checked on Linux 6.18). Shmem's new
	 * page needs no I/O and is mapped alone. */
	if (around && v->vm_obj->kind == OBJ_FILE && mm_fault_around(mm, v, addr, ep, &table)) {
		phys_put(mm->sys->ph, pg);
		return FAULT_OK;
	}
	mm_file_page_lru(mm, v, pg);
	if (v->vm_flags & VM_SYNC)
		bits |= PTE_SYNC;	/* DAX: every store is written through (uaccess.c) */
	if (v->vm_flags & VM_PFNMAP) {
		/* Raw frames (vvar): special PTEs, no mapcount or RSS, as Linux's PFN maps. */
		pgt_set(&mm->pgt, ep, pte_mk(page_to_pfn(mm->sys->ph, pg), bits | PTE_SPECIAL));
		phys_put(mm->sys->ph, pg);
		return FAULT_OK;
	}
	if (!write) {
		/* A read maps a shared file page read-only (writenotify), as fault-around does. */
		map_page(mm, ep, pg, mm_file_read_pte_bits(v) | (bits & PTE_SYNC));
		return FAULT_OK;
	}
	if (v->vm_flags & VM_SHARED) {
		/* do_shared_fault: a file page turns writable only by a write, which dirties
		 * it in the page cache. */
		map_page(mm, ep, pg, bits | PTE_RW | PTE_D);
		mm_file_page_dirtied(v, pg);
		return FAULT_OK;
	}
	/* Private write: copy the object's page (copy-on-write at first touch). */
	struct page *copy = new_anon_page(mm, v, addr, page_address(mm->sys->ph, pg));
	phys_put(mm->sys->ph, pg);
	if (!copy)
		return FAULT_OOM;
	map_page(mm, ep, copy, bits | PTE_RW | PTE_D);
	mm_acct_touch(mm, v, 1);
	return FAULT_OK;
}

/* A write to a present read-only PTE in a writable VMA (do_wp_page). */
static enum fault_ret fault_wp(struct mm_struct *mm, struct vma *v, uint64_t addr, pte_t *ep)
{
	pte_t e = *ep;
	struct page *old = (e & PTE_SPECIAL) ? NULL : pfn_to_page(mm->sys->ph, pte_pfn(e));
	if (old && ((v->vm_flags & VM_SHARED) || mm_page_exclusive(old))) {
		*ep = e | PTE_RW | PTE_D | PTE_A;	/* reuse: nobody else can see it */
		if (v->vm_flags & VM_SHARED)
			mm_file_page_dirtied(v, old);	/* wp_page_shared */
		if (!(v->vm_flags & VM_SHARED) && v->anon && old->owner != v->anon) {
			/* folio_move_anon_rmap: the frame inherited from a parent (or read back
			 * from swap by it) now belongs to this VMA, so reclaim can find it. */
			old->owner = v->anon;
			old->index = linear_index(v, addr);
		}
		return FAULT_OK;
	}
	const void *src = old ? page_address(mm->sys->ph, old) : NULL;
	struct page *copy = new_anon_page(mm, v, addr, src);
	if (!copy)
		return FAULT_OOM;
	if (old) {
		/* The old frame leaves this PTE: undo its mapping before the new one lands. */
		atomic_fetch_sub(&old->mapcount, 1);
		atomic_fetch_sub(&mm->rss[(old->flags & PG_anon) ? MM_ANONPAGES :
					  (old->flags & PG_shmem) ? MM_SHMEMPAGES : MM_FILEPAGES], 1);
		if (old->flags & PG_anon)
			atomic_fetch_sub(&mm->sys->nr_anon, 1);
	}
	pgt_set(&mm->pgt, ep, 0);
	map_page(mm, ep, copy, mm_vma_pte_bits(v) | PTE_A | PTE_RW | PTE_D);
	if (!old || !(old->flags & PG_anon))
		mm_acct_touch(mm, v, 1);	/* a zero-page or object page became its own */
	mm_flush_tlb(mm);
	if (old)	/* after the bump: the shootdown rule of mm.h */
		phys_put(mm->sys->ph, old);
	return FAULT_OK;
}

/* A present PTE of a frame another mapping poisoned (MADV_HWPOISON reaches the other
 * address spaces of an anonymous frame here, at their next touch, since anon frames have
 * no reverse map): the PTE becomes a hwpoison marker, as try_to_unmap would have made it. */
static enum fault_ret fault_poisoned(struct mm_struct *mm, struct vma *v, pte_t *ep)
{
	struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(*ep));
	if (pg->flags & PG_anon)
		mm_acct_untouch(mm, v, 1);
	pgt_set(&mm->pgt, ep, pte_mk_marker(PTE_MARKER_HWPOISON));
	mm_unmap_page(mm, pg);
	mm_flush_tlb(mm);
	return FAULT_HWPOISON;
}

/* Is the access allowed by the VMA at all (access_error)? x86 cannot map write- or
 * exec-only, so any right implies read. */
static int access_error(const struct vma *v, int how)
{
	if ((how & PM_WRITE_) && !(v->vm_flags & VM_WRITE))
		return 1;
	if ((how & PM_EXEC_) && !(v->vm_flags & VM_EXEC))
		return 1;
	return !(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
}

static enum fault_ret handle_fault(struct mm_struct *mm, uint64_t addr, int how, uint32_t pkru);

/* Does addr's page lie wholly past the end of v's object (the fault's SIGBUS)? */
static int past_eof(const struct vma *v, uint64_t addr)
{
	uint64_t size = v->vm_obj->size;	/* may race a truncate, as the fault's own test */
	return linear_index(v, addr) >= (size + PAGE_SIZE - 1) / PAGE_SIZE;
}

enum fault_ret mm_handle_fault(struct mm_struct *mm, uint64_t addr, int how, uint32_t pkru)
{
	atomic_fetch_add(&mm->sys->pgfault, 1);	/* vmstat pgfault, as handle_mm_fault counts */
	enum fault_ret r = handle_fault(mm, addr, how, pkru);
	/* Direct reclaim (__alloc_pages_direct_reclaim): no frame was free, so scan the LRU
	 * lists (this mm included: its lock is held, its ptl is not) and retry while that
	 * frees something. Only then does FAULT_OOM reach the OOM killer. */
	for (int tries = 0; r == FAULT_OOM && tries < 16; tries++) {
		if (!mm_shrink_lru(mm->sys, 32, mm, RECLAIM_DIRECT))
			break;
		r = handle_fault(mm, addr, how, pkru);
	}
	/* MAP_NORESERVE promised nothing (SPEC §5, §8): a page that cannot be backed is the
	 * toucher's SIGBUS (BUS_ADRERR), not a reason to kill some process. */
	if (r == FAULT_OOM) {
		struct vma *v = vma_lookup(&mm->mt, addr);
		if (v && (v->vm_flags & VM_NORESERVE))
			r = FAULT_SIGBUS;
	}
	return r;
}

static enum fault_ret handle_fault(struct mm_struct *mm, uint64_t addr, int how, uint32_t pkru)
{
	struct vma *v = vma_lookup(&mm->mt, addr);
	if (!v) {
		struct vma *n = vma_find(&mm->mt, addr);
		if (n && (n->vm_flags & VM_GROWSDOWN))
			return FAULT_EXPAND_STACK;
		return FAULT_SEGV_MAPERR;
	}
	if (access_error(v, how))
		return FAULT_SEGV_ACCERR;
	if (pkru_denies(pkru, v->pkey, how))
		return FAULT_SEGV_PKUERR;
	if (v->vm_flags & VM_HUGETLB)
		return mm_hugetlb_fault(mm, v, addr, how);
	enum fault_ret tr;
	if (mm_thp_fault(mm, v, addr, how & PM_WRITE_, &tr))
		return tr;	/* a huge page mapped, or a huge PMD touched */
	pthread_mutex_lock(&mm->ptl);
	pte_t *ep = NULL;
	enum fault_ret r = FAULT_OK;
	int level = 0;	/* does addr's page table exist? Only object faults ask (fault-around) */
	int table = !v->vm_obj || (pgt_lookup(&mm->pgt, addr, &level) && level == 1);
	if (!table && v->vm_obj && past_eof(v, addr) &&
	    ((how & PM_WRITE_) || !mm_fault_past_eof_needs_table(v, addr))) {
		/* do_fault's SIGBUS past EOF installs no page table: only pages fault-around
		 * maps first would (do_cow_fault still prepares the anon identity). */
		int cow = (how & PM_WRITE_) && !(v->vm_flags & VM_SHARED);
		r = cow && !mm_anon_prepare(mm, v) ? FAULT_OOM : FAULT_SIGBUS;
	} else if (pgt_alloc_entry(&mm->pgt, addr, 1, &ep)) {
		r = FAULT_OOM;
	} else if (pte_none(*ep)) {
		r = fault_none(mm, v, addr, ep, how & PM_WRITE_, table);
		/* No free frame: drop this mm's clean MADV_FREE pages and try once more (the
		 * direct-reclaim step, until src/reclaim scans every LRU). */
		if (r == FAULT_OOM && mm_reclaim_lazyfree_ptl(mm))
			r = fault_none(mm, v, addr, ep, how & PM_WRITE_, table);
	} else if (mm_pte_poisoned(mm, *ep)) {
		r = fault_poisoned(mm, v, ep);
	} else if (*ep & PTE_P) {
		if ((how & PM_WRITE_) && !(*ep & PTE_RW))
			r = fault_wp(mm, v, addr, ep);
		else
			*ep |= PTE_A | ((how & PM_WRITE_) ? PTE_D : 0);
	} else if (pte_marker(*ep) == PTE_MARKER_GUARD) {
		/* handle_pte_marker: VM_FAULT_SIGSEGV, which x86 reports as SEGV_MAPERR (checked
		 * on Linux 6.18); the guard never faults a page in. */
		r = FAULT_SEGV_MAPERR;
	} else if (pte_marker(*ep) == PTE_MARKER_HWPOISON) {
		r = FAULT_HWPOISON;
	} else if (pte_is_swap(*ep)) {
		r = mm_swapin_fault(mm, v, addr, ep);
		if (r == FAULT_OK && (how & PM_WRITE_) && !(*ep & PTE_RW))
			r = fault_wp(mm, v, addr, ep);	/* still shared: copy on write */
		else if (r == FAULT_OK && (how & PM_WRITE_))
			*ep |= PTE_D;
	} else {
		r = FAULT_SEGV_ACCERR;	/* PROT_NONE entry under an accessible VMA cannot happen */
	}
	if (r == FAULT_OK && (how & PM_WRITE_) && (*ep & PTE_P))
		*ep |= PTE_SOFTDIRTY;	/* pte_mkdirty sets soft-dirty too (pagemap bit 55) */
	pthread_mutex_unlock(&mm->ptl);
	return r;
}

int mm_expand_stack(struct mm_struct *mm, uint64_t addr, const struct mm_rlimit *rlim)
{
	struct vma *v = vma_find(&mm->mt, addr);
	if (!v || !(v->vm_flags & VM_GROWSDOWN))
		return -ENOMEM;
	if (addr >= v->vm_start)
		return 0;
	uint64_t start = page_align_down(addr);
	if (start < mm->sys->mmap_min_addr)
		return -EPERM;
	if (v->vm_end - start > rlim[RLIMIT_STACK].cur)
		return -ENOMEM;
	uint64_t grow = (v->vm_start - start) >> PAGE_SHIFT;
	if (((mm->total_vm + grow) << PAGE_SHIFT) > rlim[RLIMIT_AS].cur)
		return -ENOMEM;
	/* The stack guard gap (SPEC §2): the stack may not come within stack_guard_gap of the
	 * mapping below it (expand_downwards). */
	struct vma *prev = vma_prev(&mm->mt, v);
	if (prev && (prev->vm_end > start ||
		     (!(prev->vm_flags & VM_GROWSDOWN) &&
		      (prev->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) &&
		      start - prev->vm_end < mm->sys->stack_guard_gap)))
		return -ENOMEM;
	/* expand_downwards prepares the anon identity first, which decides later merges. */
	if (!mm_anon_prepare(mm, v))
		return -ENOMEM;
	/* acct_stack_growth: the new stack pages are a promise too (VM_ACCOUNT). */
	if ((v->vm_flags & VM_ACCOUNT) && mm_acct_enough(mm, grow))
		return -ENOMEM;
	mm_resize_vma(mm, v, start, v->vm_end);
	return 0;
}
