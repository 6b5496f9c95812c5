/*
 * The address-space side of commit accounting (SPEC §8; Linux's VM_ACCOUNT charges in
 * mmap_region, do_brk_flags, mprotect_fixup, vrm_charge, dup_mmap and acct_stack_growth).
 * A VMA with VM_ACCOUNT (private writable, not MAP_NORESERVE, as mmap.c decides) is
 * charged in one of two styles, chosen per address space from OvercommitMemory:
 *   reserve (modes 1 and 2, Linux's way): all its pages, from the moment it is linked,
 *     kept in step by vm_stat_account's callers (link, unlink, resize, flag changes);
 *   touch (mode 0, Peios): one page for each of its PTEs that holds a private anonymous
 *     frame (KSM's included) or a swap entry; the fault that gives a page its own frame
 *     charges it (mm_acct_touch), and whatever takes the frame away for good (zap,
 *     lazy-free discard, poison) gives it back.
 * mm->committed is always what mm_acct_recount finds from scratch, and the sum over all
 * address spaces is the engine's vm_committed_as (reclaim/commit.c). When the mode
 * changes, each address space converts at its next write-locked call, or at once when
 * the registry applier asks (mm_acct_sync_style). This file never refuses a fault: only
 * the calls that make promises (mm_acct_enough) can fail, with ENOMEM.
 */
#include "mm/mm_internal.h"

#include "mm/swap_mm.h"

static void charge(struct mm_struct *mm, long pages)
{
	if (!pages)
		return;
	atomic_fetch_add(&mm->committed, pages);
	commit_charge(&mm->sys->commit, pages);
}

int mm_acct_touch(struct mm_struct *mm, struct vma *v, uint64_t npages)
{
	if (mm->acct_touch && (v->vm_flags & VM_ACCOUNT))
		charge(mm, (long)npages);
	return 0;	/* mode 0 has no limit: a touch is never refused */
}

void mm_acct_untouch(struct mm_struct *mm, const struct vma *v, uint64_t npages)
{
	if (mm->acct_touch && (v->vm_flags & VM_ACCOUNT))
		charge(mm, -(long)npages);
}

void mm_acct_vma(struct mm_struct *mm, uint64_t flags, int64_t npages)
{
	if (!mm->acct_touch && (flags & VM_ACCOUNT))
		charge(mm, npages);
}

struct count_ctx { struct phys *ph; uint64_t n; };

/* A PTE that stands for a page of the mapping's own: a private anonymous frame (KSM's
 * too: a write would need a frame again) or a swapped-out one. */
static int count_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct count_ctx *c = ctx;
	pte_t e = *ep;
	(void)va;
	if (pte_is_swap(e)) {
		c->n++;
		return 0;
	}
	if (!(e & (PTE_P | PTE_PROTNONE)) || (e & PTE_SPECIAL))
		return 0;
	if (pfn_to_page(c->ph, pte_pfn(e))->flags & PG_anon)
		c->n += pgt_level_size(level) >> PAGE_SHIFT;
	return 0;
}

uint64_t mm_acct_count(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct count_ctx c = { mm->sys->ph, 0 };
	pgt_walk_range(&mm->pgt, start, end, count_one, &c);
	return c.n;
}

int mm_acct_page_charged(struct mm_struct *mm, pte_t e)
{
	struct count_ctx c = { mm->sys->ph, 0 };
	count_one(&c, 0, &e, 1);
	return c.n != 0;
}

void mm_acct_flags_changed(struct mm_struct *mm, const struct vma *v, uint64_t old)
{
	if (!mm->acct_touch || !((old ^ v->vm_flags) & VM_ACCOUNT))
		return;
	long n = (long)mm_acct_count(mm, v->vm_start, v->vm_end);
	charge(mm, (v->vm_flags & VM_ACCOUNT) ? n : -n);
}

uint64_t mm_acct_recount(struct mm_struct *mm)
{
	uint64_t n = 0;
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		if (!(v->vm_flags & VM_ACCOUNT))
			continue;
		n += mm->acct_touch ? mm_acct_count(mm, v->vm_start, v->vm_end)
				    : (v->vm_end - v->vm_start) >> PAGE_SHIFT;
	}
	return n;
}

void mm_acct_sync_style_locked(struct mm_struct *mm)
{
	int touch = atomic_load(&mm->sys->commit.mode) == COMMIT_GUESS;
	if (touch == mm->acct_touch)
		return;
	mm->acct_touch = touch;
	charge(mm, (long)mm_acct_recount(mm) - atomic_load(&mm->committed));
}

void mm_acct_sync_style(struct mm_struct *mm)
{
	pthread_rwlock_wrlock(&mm->lock);
	if (!mm->dead)
		mm_acct_sync_style_locked(mm);
	pthread_rwlock_unlock(&mm->lock);
}

int mm_acct_enough(struct mm_struct *mm, uint64_t npages)
{
	struct mm_sys *ms = mm->sys;
	mm_acct_sync_style_locked(mm);
	return commit_enough(&ms->commit, ms->ph, ms->swap, npages);
}
