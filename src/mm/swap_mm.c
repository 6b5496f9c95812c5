/*
 * The address-space side of swap (Linux's try_to_unmap_one for anonymous pages,
 * do_swap_page, and the swap halves of zap and fork): an exclusive anonymous frame is
 * written to a slot and its PTE becomes a swap entry naming that slot; a fault on a swap
 * entry takes the frame from the swap cache or reads the slot into a new frame. Each swap
 * PTE holds one slot reference (mm->swapents counts them); the swap cache keeps a frame
 * (one frame reference) while other PTEs still name a slot that was read back. Frames
 * several PTEs map go out through the swap cache (rmap_anon.c). Callers hold mm->ptl. It
 * also supplies the swap calls shmem and memfd objects make (mm_shmem_swap_ops: the object
 * keeps the slot in its index, never in a PTE) and pages shmem out for MADV_PAGEOUT.
 */
#include "mm/mm_internal.h"
#include "mm/swap_mm.h"

#include <errno.h>
#include <string.h>

#include "lib/pm_assert.h"
#include "reclaim/lru.h"
#include "reclaim/swap.h"

int mm_swap_available(struct mm_struct *mm)
{
	return mm_swap_available_sys(mm->sys);
}

int mm_pageout_pte(struct mm_struct *mm, const struct vma *v, pte_t *ep, struct page *pg,
		   int *lazy)
{
	pte_t e = *ep;
	*lazy = 0;
	if ((pg->flags & PG_lazyfree) && (!(e & PTE_D) || (v->vm_flags & VM_DROPPABLE))) {
		/* shrink_folio_list's lazyfree case: a clean MADV_FREE page is dropped, and a
		 * MAP_DROPPABLE one even when dirty (try_to_unmap_one). */
		pgt_set(&mm->pgt, ep, 0);
		mm_unmap_page(mm, pg);
		mm_acct_untouch(mm, v, 1);
		*lazy = 1;
		return 0;
	}
	if (pg->flags & PG_lazyfree) {
		/* Written since MADV_FREE: try_to_unmap_one makes it swap-backed again and
		 * gives up; reclaim activates it on the anon list, not swapping it this time. */
		mm_lazyfree_cancel(mm->sys, pg);
		return -EAGAIN;
	}
	struct swap_area *sa = mm->sys->swap;
	if (!sa)
		return -ENOSPC;
	int64_t slot = swap_alloc(sa);
	if (slot < 0)
		return (int)slot;
	if (swap_write(sa, (uint64_t)slot, page_address(mm->sys->ph, pg))) {
		swap_put(sa, (uint64_t)slot);
		return -EIO;
	}
	pgt_set(&mm->pgt, ep, pte_mk_swap(0, (uint64_t)slot) | (e & PTE_SOFTDIRTY));
	atomic_fetch_add(&mm->swapents, 1);
	mm_unmap_page(mm, pg);
	return 0;
}

/* A new frame holding slot's bytes, owned by v's anon identity at addr: 0, -ENOMEM, or
 * -EIO on a read error. The caller holds the one reference. When other PTEs name the slot
 * too (fork twins: all in one anon_vma tree), the owner is the tree's root, which every
 * one of them descends from (__folio_set_anon's oldest anon_vma for a non-exclusive
 * folio), so reclaim's reverse map reaches whichever of them maps it later. Only this
 * mm's fork could add a PTE for the slot, and its lock is held. */
static int read_slot(struct mm_struct *mm, struct vma *v, uint64_t addr, uint64_t slot,
		     struct page **out)
{
	struct anon_vma *owner = v->anon;
	if (swap_count(mm->sys->swap, slot) > 1)
		while (owner->parent)
			owner = owner->parent;
	struct page *pg = phys_alloc(mm->sys->ph, 0, PHYS_NOZERO);
	if (!pg)
		return -ENOMEM;
	if (swap_read(mm->sys->swap, slot, page_address(mm->sys->ph, pg))) {
		phys_put(mm->sys->ph, pg);
		return -EIO;
	}
	pg->flags |= PG_anon;
	pg->owner_kind = OWNER_ANON;
	pg->owner = owner;
	pg->index = v->vm_pgoff + ((addr - v->vm_start) >> PAGE_SHIFT);
	*out = pg;
	return 0;
}

static void lru_add_anon(struct mm_struct *mm, struct vma *v, struct page *pg)
{
	if (mm->sys->lru)
		lru_add(mm->sys->lru, pg, (v->vm_flags & VM_LOCKED) ? LRU_UNEVICTABLE
								   : LRU_INACTIVE_ANON);
}

enum fault_ret mm_swapin_fault(struct mm_struct *mm, struct vma *v, uint64_t addr, pte_t *ep)
{
	struct swap_area *sa = mm->sys->swap;
	pte_t e = *ep;
	uint64_t slot = pte_swap_offset(e);
	PM_ENFORCE(sa && pte_is_swap(e));
	struct page *pg;
	while (!(pg = swap_cache_get(sa, slot))) {	/* its reference passes to the PTE */
		if (!mm_anon_prepare(mm, v))
			return FAULT_OOM;
		int err = read_slot(mm, v, addr, slot, &pg);
		if (err)	/* VM_FAULT_SIGBUS on a swap read error */
			return err == -ENOMEM ? FAULT_OOM : FAULT_SIGBUS;
		atomic_fetch_add(&mm->sys->pgmajfault, 1);	/* read from swap: VM_FAULT_MAJOR */
		/* Other PTEs (a forked twin) still name the slot: keep the frame findable so
		 * they map this one instead of reading the slot again. A twin that read it
		 * at the same time (under its own ptl) may have cached its frame first: then
		 * that one is mapped and ours was never seen. */
		if (swap_count(sa, slot) > 1 && !swap_cache_install(sa, slot, pg)) {
			phys_put(mm->sys->ph, pg);
			continue;
		}
		lru_add_anon(mm, v, pg);
		break;
	}
	atomic_fetch_add(&pg->mapcount, 1);
	atomic_fetch_add(&mm->rss[MM_ANONPAGES], 1);
	atomic_fetch_add(&mm->sys->nr_anon, 1);
	pte_t bits = mm_vma_pte_bits(v) | PTE_A | (e & PTE_SOFTDIRTY);
	pgt_set(&mm->pgt, ep, pte_mk(page_to_pfn(mm->sys->ph, pg), bits));
	atomic_fetch_sub(&mm->swapents, 1);
	swap_put(sa, slot);	/* the last reference also drops the swap cache's */
	/* do_swap_page maps writable only a frame nobody else can see; a shared one stays
	 * write-protected and the write, if any, copies it (fault.c). */
	if ((v->vm_flags & VM_WRITE) && mm_page_exclusive(pg))
		*ep |= PTE_RW;
	return FAULT_OK;
}

/* One slot of a WILLNEED range into the swap cache; ptl held. -ENOMEM when no frame was
 * free; 0 otherwise (read, already cached, or a read error left to the fault). */
static int willneed_one(struct mm_struct *mm, struct vma *v, uint64_t a, uint64_t *read)
{
	struct swap_area *sa = mm->sys->swap;
	int level;
	pte_t *ep = pgt_lookup(&mm->pgt, a, &level);
	if (!ep || !pte_is_swap(*ep))
		return 0;
	/* The PTE holds a slot reference while ptl is held, so the slot stays. */
	uint64_t slot = pte_swap_offset(*ep);
	struct page *pg = swap_cache_get(sa, slot);
	if (!pg) {
		int err = read_slot(mm, v, a, slot, &pg);
		if (err)
			return err == -ENOMEM ? err : 0;
		if (swap_cache_install(sa, slot, pg)) {
			lru_add_anon(mm, v, pg);
			(*read)++;
		}
	}
	phys_put(mm->sys->ph, pg);	/* the swap cache keeps its own */
	return 0;
}

uint64_t mm_swap_willneed(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	struct swap_area *sa = mm->sys->swap;
	uint64_t read = 0;
	if (!sa || !v->anon)	/* no swap entry without an anon identity */
		return 0;
	/* read_swap_cache_async allocates as any page allocation does: below the min
	 * watermark it reclaims first (this mm's lock is held for reading, its ptl not),
	 * and the frames it reads are on the anon LRU, reclaimable while unmapped. */
	struct watermarks w;
	lru_watermarks(mm->sys->ph->nr_frames - 1, &w);
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		if (phys_free_frames(mm->sys->ph) <= w.min &&
		    !mm_shrink_lru(mm->sys, 32, mm, RECLAIM_DIRECT))
			break;	/* nothing reclaimable: leave the rest to the faults */
		pthread_mutex_lock(&mm->ptl);
		int err = willneed_one(mm, v, a, &read);
		pthread_mutex_unlock(&mm->ptl);
		if (err)
			break;
	}
	return read;
}

void mm_swap_zap(struct mm_struct *mm, pte_t e)
{
	swap_put(mm->sys->swap, pte_swap_offset(e));
	atomic_fetch_sub(&mm->swapents, 1);
}

void mm_swap_fork(struct mm_struct *dst, pte_t e)
{
	swap_dup(dst->sys->swap, pte_swap_offset(e));
	atomic_fetch_add(&dst->swapents, 1);
}

int mm_swap_cached(struct mm_struct *mm, pte_t e)
{
	struct page *pg = swap_cache_get(mm->sys->swap, pte_swap_offset(e));
	if (pg)
		phys_put(mm->sys->ph, pg);
	return pg != NULL;
}

unsigned mm_swap_count(struct mm_struct *mm, pte_t e)
{
	return swap_count(mm->sys->swap, pte_swap_offset(e));
}

int mm_swap_peek(struct mm_struct *mm, pte_t e, void *buf)
{
	struct swap_area *sa = mm->sys->swap;
	struct page *pg = swap_cache_get(sa, pte_swap_offset(e));
	if (!pg)
		return swap_read(sa, pte_swap_offset(e), buf);
	memcpy(buf, page_address(mm->sys->ph, pg), PAGE_SIZE);	/* newer than the slot? same */
	phys_put(mm->sys->ph, pg);
	return 0;
}

/* ---- the swap side of shmem and memfd objects (obj_swap_ops; ctx = the mm_sys) ---- */

static int64_t shmem_write_out(void *ctx, const void *src)
{
	struct swap_area *sa = ((struct mm_sys *)ctx)->swap;
	if (!sa)
		return -ENOSPC;
	int64_t slot = swap_alloc(sa);
	if (slot < 0)
		return slot;
	if (swap_write(sa, (uint64_t)slot, src)) {
		swap_put(sa, (uint64_t)slot);
		return -EIO;
	}
	return slot;
}

/* A frame with the slot's bytes for the caller: the swap cache's, else a new one read. */
static int shmem_read_in(void *ctx, uint64_t slot, struct page **out)
{
	struct mm_sys *ms = ctx;
	struct page *pg = swap_cache_get(ms->swap, slot);
	if (!pg) {
		pg = phys_alloc(ms->ph, 0, PHYS_NOZERO);
		if (!pg)
			return -ENOMEM;
		if (swap_read(ms->swap, slot, page_address(ms->ph, pg))) {
			phys_put(ms->ph, pg);
			return -EIO;
		}
	}
	*out = pg;
	return 0;
}

/* shmem_swapin_range: the frame sits in the swap cache, on the inactive anon list, where
 * reclaim takes it back while no index or PTE holds it. The object's lock is held, so no
 * reclaim here: read-in stops at the min watermark instead (an allocation that cannot
 * reclaim does not go below it). */
static int shmem_prefetch(void *ctx, uint64_t slot)
{
	struct mm_sys *ms = ctx;
	struct watermarks w;
	lru_watermarks(ms->ph->nr_frames - 1, &w);
	if (phys_free_frames(ms->ph) <= w.min)
		return 0;
	struct page *pg = swap_cache_get(ms->swap, slot);
	int read = 0;
	if (!pg) {
		pg = phys_alloc(ms->ph, 0, PHYS_NOZERO);
		if (!pg)
			return 0;
		if (!swap_read(ms->swap, slot, page_address(ms->ph, pg)))
			read = swap_cache_install(ms->swap, slot, pg);
		if (read && ms->lru)
			lru_add(ms->lru, pg, LRU_INACTIVE_ANON);	/* swap-backed */
	}
	phys_put(ms->ph, pg);	/* the swap cache keeps its own */
	return read;
}

static int shmem_cached(void *ctx, uint64_t slot)
{
	struct mm_sys *ms = ctx;
	struct page *pg = swap_cache_get(ms->swap, slot);
	if (pg)
		phys_put(ms->ph, pg);
	return pg != NULL;
}

static int shmem_peek(void *ctx, uint64_t slot, void *dst)
{
	struct mm_sys *ms = ctx;
	struct page *pg = swap_cache_get(ms->swap, slot);
	if (!pg)
		return swap_read(ms->swap, slot, dst);
	memcpy(dst, page_address(ms->ph, pg), PAGE_SIZE);
	phys_put(ms->ph, pg);
	return 0;
}

static void shmem_free(void *ctx, uint64_t slot) { swap_put(((struct mm_sys *)ctx)->swap, slot); }

static unsigned shmem_count(void *ctx, uint64_t slot)
{
	return swap_count(((struct mm_sys *)ctx)->swap, slot);
}

static void shmem_lru_add(void *ctx, struct page *pg)
{
	struct mm_sys *ms = ctx;
	if (ms->lru)
		lru_add(ms->lru, pg, LRU_INACTIVE_ANON);	/* swap-backed: the anon lists */
}

const struct obj_swap_ops mm_shmem_swap_ops = {
	.write_out = shmem_write_out, .read_in = shmem_read_in, .prefetch = shmem_prefetch,
	.cached = shmem_cached, .peek = shmem_peek, .free = shmem_free, .count = shmem_count,
	.lru_add = shmem_lru_add,
};

/* ---- madvise MADV_COLD and MADV_PAGEOUT on one VMA range ---- */

struct advise_ctx { struct mm_struct *mm; const struct vma *v; int pageout; uint64_t done; };

/* A shmem page only this PTE maps, on the LRU (shrink_folio_list with references
 * ignored): unmapped, then written to swap in its object (shmem_writeout). Without a free
 * slot it stays in memory, unmapped, as on Linux (the writeout fails after the unmap). */
static int pageout_shmem(struct advise_ctx *c, pte_t *ep, struct page *pg)
{
	struct mm_struct *mm = c->mm;
	if (!pg->lru_list || pg->owner != c->v->vm_obj)
		return 0;	/* not on the LRU (isolated by reclaim right now) */
	pgt_set(&mm->pgt, ep, 0);
	page_get(pg);
	mm_unmap_page(mm, pg);
	/* The VMA holds the object, so pg->owner stays valid while ptl is held. */
	if (atomic_load(&pg->mapcount) == 0 && !obj_shmem_swap_out(c->v->vm_obj, pg) && mm->sys->lru)
		lru_stat_add(mm->sys->lru, LS_PGSTEAL_ANON, 1);
	phys_put(mm->sys->ph, pg);
	c->done++;
	return 0;
}

static int advise_one(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct advise_ctx *c = ctx;
	struct mm_struct *mm = c->mm;
	pte_t e = *ep;
	(void)va;
	if (level != 1 || !(e & PTE_P) || (e & PTE_SPECIAL))
		return 0;
	struct page *pg = pfn_to_page(mm->sys->ph, pte_pfn(e));
	if (pg->flags & (PG_hugetlb | PG_hwpoison))
		return 0;
	/* madvise_cold_or_pageout_pte_range skips frames others map (folio_maybe_mapped_shared). */
	if (atomic_load(&pg->mapcount) != 1)
		return 0;
	__atomic_fetch_and(ep, ~PTE_A, __ATOMIC_RELAXED);	/* ptep_test_and_clear_young */
	if (!c->pageout) {
		/* shmem is swap-backed: the anon lists; a lazy free stays on the file ones. */
		int anon = (pg->flags & (PG_anon | PG_shmem)) && !lru_page_lazyfree(pg);
		if (mm->sys->lru)
			lru_move(mm->sys->lru, pg, anon ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE);
		c->done++;
		return 0;
	}
	if (pg->owner_kind == OWNER_OBJECT) {
		/* A file page: unmap it here (dirty data goes to the object first); reclaim of
		 * the then unmapped cache page writes it back and drops it. */
		if (pg->flags & PG_shmem)
			return pageout_shmem(c, ep, pg);
		if (e & PTE_D)
			obj_page_dirty(pg->owner, pg);
		pgt_set(&mm->pgt, ep, 0);
		page_get(pg);
		mm_unmap_page(mm, pg);
		if (atomic_load(&pg->mapcount) == 0)
			mm_reclaim_file_page(mm->sys, pg);	/* takes the reference */
		else
			phys_put(mm->sys->ph, pg);
		c->done++;
		return 0;
	}
	if ((pg->flags & PG_anon) && !(pg->flags & PG_ksm) && atomic_load(&pg->swap_slot) &&
	    atomic_load(&pg->refcount) == 2) {
		/* Mapped here alone, but in the swap cache (a twin read it back): its slot
		 * has the bytes, so the PTE becomes that entry and the frame goes. */
		if (mm_pageout_cached_pte(mm, ep, pg) == 0) {
			c->done++;
			if (mm->sys->lru)
				lru_stat_add(mm->sys->lru, LS_PGSTEAL_ANON, 1);
		}
		return 0;
	}
	if (!(pg->flags & PG_anon) || atomic_load(&pg->refcount) != 1)
		return 0;	/* pinned: not exclusive */
	int lazy;
	if (mm_pageout_pte(mm, c->v, ep, pg, &lazy) == 0) {
		c->done++;
		if (mm->sys->lru)
			lru_stat_add(mm->sys->lru, lazy ? LS_PGLAZYFREED : LS_PGSTEAL_ANON, 1);
	}
	return 0;
}

uint64_t mm_advise_cold_pageout(struct mm_struct *mm, struct vma *v, uint64_t start,
				uint64_t end, int pageout)
{
	struct advise_ctx c = { mm, v, pageout, 0 };
	pthread_mutex_lock(&mm->ptl);
	pgt_walk_range(&mm->pgt, start, end, advise_one, &c);
	pthread_mutex_unlock(&mm->ptl);
	mm_flush_tlb(mm);	/* A bits cleared and frames gone: every TLB walks again */
	return c.done;
}
