/*
 * madvise (Linux's do_madvise): validation in Linux's order, then each advice's effect
 * over the VMAs of the range. Flag advice (RANDOM, SEQUENTIAL, DONTFORK, WIPEONFORK,
 * DONTDUMP, HUGEPAGE, ...) splits and merges VMAs like mprotect. FREE, the guard advice,
 * REMOVE and the error injection live in madvise_free.c, madvise_guard.c, madvise_remove.c
 * and madvise_poison.c; COLD and PAGEOUT in swap_mm.c. Advice whose machinery (KSM, THP
 * collapse) this build does not contain is refused with EINVAL, which is what Linux answers for advice its
 * build lacks.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <sys/mman.h>

#include "kacs/gate.h"
#include "mm/ksm_mm.h"
#include "mm/swap_mm.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#define MADV_COLLAPSE_ 25
#define MADV_SOFT_OFFLINE_ 101
#define MADV_GUARD_INSTALL_ 102
#define MADV_GUARD_REMOVE_ 103

/* The advice this build carries out; everything else Linux knows is -EINVAL here. */
static int advice_supported(long a)
{
	switch (a) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
	case MADV_DONTNEED: case MADV_DONTNEED_LOCKED: case MADV_DONTFORK: case MADV_DOFORK:
	case MADV_WIPEONFORK: case MADV_KEEPONFORK: case MADV_DONTDUMP: case MADV_DODUMP:
	case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE: case MADV_FREE: case MADV_REMOVE: case MADV_GUARD_INSTALL_:
	case MADV_GUARD_REMOVE_: case MADV_HWPOISON: case MADV_SOFT_OFFLINE_:
	case MADV_COLD: case MADV_PAGEOUT:
	case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_COLLAPSE_:
		return 1;
	default:
		return 0;
	}
}

/* The new vm_flags for flag advice, or -EINVAL (madvise_update_vma's callers). */
static int64_t advice_flags(const struct vma *v, long a)
{
	uint64_t f = v->vm_flags;
	switch (a) {
	case MADV_NORMAL: return (int64_t)(f & ~(VM_RAND_READ | VM_SEQ_READ));
	case MADV_RANDOM: return (int64_t)((f & ~VM_SEQ_READ) | VM_RAND_READ);
	case MADV_SEQUENTIAL: return (int64_t)((f & ~VM_RAND_READ) | VM_SEQ_READ);
	case MADV_DONTFORK: return (int64_t)(f | VM_DONTCOPY);
	case MADV_DOFORK: return (f & VM_IO) ? -EINVAL : (int64_t)(f & ~VM_DONTCOPY);
	case MADV_WIPEONFORK:
		if (v->vm_obj || (f & VM_SHARED))
			return -EINVAL;	/* private anonymous memory only */
		return (int64_t)(f | VM_WIPEONFORK);
	case MADV_KEEPONFORK:
		if (f & VM_DROPPABLE)
			return -EINVAL;	/* droppable memory is always wiped on fork */
		return (int64_t)(f & ~VM_WIPEONFORK);
	case MADV_DONTDUMP: return (int64_t)(f | VM_DONTDUMP);
	case MADV_DODUMP:
		if (((f & VM_SPECIAL) && !(f & VM_HUGETLB)) || (f & VM_DROPPABLE))
			return -EINVAL;	/* droppable memory is never dumped */
		return (int64_t)(f & ~VM_DONTDUMP);
	case MADV_HUGEPAGE: return (int64_t)((f & ~VM_NOHUGEPAGE) | VM_HUGEPAGE);
	case MADV_NOHUGEPAGE: return (int64_t)((f & ~VM_HUGEPAGE) | VM_NOHUGEPAGE);
	}
	return (int64_t)f;
}

/* madvise_populate (Linux 6.x): VMA by VMA from start, stopping at the first problem:
 * a hole is ENOMEM, a mapping that does not allow the access (or is IO/PFN) EINVAL, a
 * fault that cannot be resolved EFAULT. Pages before the problem stay populated. */
static long madvise_populate(struct mm_struct *mm, uint64_t start, uint64_t end, long a)
{
	int write = a == MADV_POPULATE_WRITE;
	for (uint64_t p = start; p < end;) {
		struct vma *v = vma_lookup(&mm->mt, p);
		if (!v)
			return -ENOMEM;
		if ((v->vm_flags & (VM_IO | VM_PFNMAP)) || !(v->vm_flags & (write ? VM_WRITE : VM_READ)))
			return -EINVAL;
		uint64_t stop = min_u64(end, v->vm_end);
		for (; p < stop; p += PAGE_SIZE) {
			enum fault_ret r = mm_handle_fault(mm, p, write ? PM_WRITE_ : PM_READ_, 0);
			if (r == FAULT_OOM)
				return -ENOMEM;
			if (r == FAULT_HWPOISON)
				return -EHWPOISON;	/* madvise_populate passes GUP's error on */
			if (r != FAULT_OK)
				return -EFAULT;
		}
	}
	return 0;
}

/* Applies advice a to [start, end), which lies inside v. *out = the VMA now at start. */
static long madvise_vma(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
			long a, struct vma **out)
{
	*out = v;
	switch (a) {
	case MADV_WILLNEED:
		/* madvise_willneed: a file range is read into the page cache now (a later
		 * fault finds it there); the swapped-out pages of a shmem or memfd range are
		 * read into the swap cache (shmem_swapin_range). For anonymous (and
		 * private-file COW) pages the swapped slots are read into the swap cache.
		 * Neither maps anything. */
		if (v->vm_obj)
			obj_read_range(v->vm_obj, v->vm_pgoff + ((start - v->vm_start) >> PAGE_SHIFT),
				       (end - start) >> PAGE_SHIFT);
		mm_swap_willneed(mm, v, start, end);
		return 0;
	case MADV_COLD:
	case MADV_PAGEOUT:
		/* can_madv_lru_vma: locked, PFN and hugetlb mappings are EINVAL. */
		if (v->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB))
			return -EINVAL;
		/* madvise_cold_or_pageout_pte_range: a THP is split before its pages are paged
		 * out one by one (COLD leaves it whole: peimm's LRU has no huge entries). */
		if (a == MADV_PAGEOUT && mm_thp_split_range(mm, start, end, THP_SPLIT_ANON))
			return -ENOMEM;
		mm_advise_cold_pageout(mm, v, start, end, a == MADV_PAGEOUT);
		return 0;
	case MADV_COLLAPSE_:
		return mm_thp_madvise_collapse(mm, v, start, end);
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE: {
		/* ksm_madvise decides the flags (and unmerges), then the range splits as
		 * for any flag advice. */
		uint64_t nf = v->vm_flags;
		long r = mm_ksm_madvise(mm, v, start, end, a, &nf);
		if (r || nf == v->vm_flags)
			return r;
		return mm_modify_range(mm, v, start, end, nf, out);
	}
	case MADV_FREE:
		/* madvise_free_huge_pmd splits a THP the range cuts; peimm splits every THP
		 * of the range, since lazy freeing works on 4 KiB PTEs. */
		if (mm_thp_split_range(mm, start, end, THP_SPLIT_ANON))
			return -ENOMEM;
		return madvise_free_vma(mm, v, start, end);
	case MADV_GUARD_INSTALL_:
		return madvise_guard_install(mm, v, start, end);
	case MADV_GUARD_REMOVE_:
		return madvise_guard_remove(mm, v, start, end);
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
		if ((v->vm_flags & VM_PFNMAP) || (a == MADV_DONTNEED && (v->vm_flags & VM_LOCKED)))
			return -EINVAL;
		if (v->vm_flags & VM_HUGETLB) {
			/* Huge pages: an aligned start, and only whole pages (the end rounds down). */
			uint64_t mask = mm_huge_size(v) - 1;
			if (start & mask)
				return -EINVAL;
			end &= ~mask;
			if (end <= start)
				return 0;
			mm_hugetlb_unreserve(mm, v, start, end);	/* balance first: no-op for shared */
			mm_zap_range_details(mm, start, end, ZAP_KEEP_GUARD, NULL);
			return mm_hugetlb_rereserve(mm, v, start, end);
		}
		/* Guard markers survive DONTNEED; hwpoison entries do not (zap_nonpresent_ptes). */
		mm_zap_range_details(mm, start, end, ZAP_KEEP_GUARD, NULL);
		mm_reclaim_pgtables(mm, start, end);
		return 0;
	}
	int64_t nf = advice_flags(v, a);
	if (nf < 0)
		return nf;
	return mm_modify_range(mm, v, start, end, (uint64_t)nf, out);
}

/* mseal's can_madvise_modify for advice beyond SPEC §9's five (DONTFORK, GUARD_INSTALL):
 * refused VMA by VMA, after the VMAs before it took the advice, and only over a sealed
 * anonymous VMA the caller cannot write (is_ro_anon). */
static int sealed_ro_anon(const struct vma *v, long a)
{
	return (a == MADV_DONTFORK || a == MADV_GUARD_INSTALL_) && (v->vm_flags & VM_SEALED) &&
	       !v->vm_obj && !(v->vm_flags & VM_WRITE);
}

static long madvise_walk(struct mm_struct *mm, uint64_t start, uint64_t end, long a)
{
	long unmapped = 0;
	struct vma *v = vma_find(&mm->mt, start);
	while (start < end) {
		if (!v || v->vm_start >= end)
			return -ENOMEM;
		if (v->vm_start > start) {
			unmapped = -ENOMEM;	/* a hole: keep going, report it at the end */
			start = v->vm_start;
		}
		uint64_t tmp = min_u64(v->vm_end, end);
		struct vma *out;
		if (sealed_ro_anon(v, a))
			return -EPERM;
		long r = madvise_vma(mm, v, start, tmp, a, &out);
		if (r)
			return r;
		start = tmp;
		v = out;
		while (v && v->vm_end <= start)
			v = vma_next(&mm->mt, v);
	}
	return unmapped;
}

static int advice_discards(long a)
{
	return a == MADV_DONTNEED || a == MADV_FREE || a == MADV_DONTNEED_LOCKED ||
	       a == MADV_REMOVE || a == MADV_WIPEONFORK;
}

static int advice_known(long a)
{
	return (a >= MADV_NORMAL && a <= MADV_DONTNEED) || (a >= MADV_FREE && a <= 25) ||
	       a == MADV_HWPOISON || a == 101 /* SOFT_OFFLINE */ || a == 102 || a == 103;
}

long mm_madvise(struct mm_struct *mm, const struct mm_caller *c, uint64_t start, uint64_t len,
		long advice)
{
	if (!advice_known(advice) || !page_aligned(start))
		return -EINVAL;
	uint64_t alen = page_align_up(len);
	if (len && !alen)
		return -EINVAL;
	uint64_t end = start + alen;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	/* madvise_inject_error: poisoning needs CAP_SYS_ADMIN, i.e. SeTcbPrivilege. */
	if ((advice == MADV_HWPOISON || advice == 101) &&
	    !gate_privilege(c->token, PM_SE_TCB_PRIVILEGE))
		return -EPERM;
	if (!advice_supported(advice))
		return -EINVAL;
	if (advice == MADV_HWPOISON || advice == MADV_SOFT_OFFLINE_)
		return madvise_inject_error(mm, start, end, advice == MADV_SOFT_OFFLINE_);
	/* REMOVE is refused over sealed VMAs first, then punches with the lock dropped. */
	if (advice == MADV_REMOVE) {
		pthread_rwlock_rdlock(&mm->lock);
		int sealed = mm_range_sealed(mm, start, end);
		pthread_rwlock_unlock(&mm->lock);
		return sealed ? -EPERM : madvise_remove(mm, start, end);
	}
	/* Populating only faults pages in (read lock); everything else changes tables or VMAs. */
	int write = advice != MADV_WILLNEED && advice != MADV_POPULATE_READ &&
		    advice != MADV_POPULATE_WRITE;
	if (write)
		pthread_rwlock_wrlock(&mm->lock);
	else
		pthread_rwlock_rdlock(&mm->lock);
	/* The discarding advice is refused over sealed VMAs, with nothing done (SPEC §9). */
	long r;
	if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE)
		r = madvise_populate(mm, start, end, advice);
	else if (advice_discards(advice) && mm_range_sealed(mm, start, end))
		r = -EPERM;
	else
		r = madvise_walk(mm, start, end, advice);
	pthread_rwlock_unlock(&mm->lock);
	return r;
}
