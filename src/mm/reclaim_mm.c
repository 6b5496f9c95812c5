/*
 * Page reclaim over the LRU lists (Linux's shrink_node, shrink_active_list,
 * shrink_inactive_list, folio_referenced and try_to_unmap, much simplified), and kswapd's
 * step. The lists live in reclaim/lru.c; this file finds each isolated frame's PTEs by
 * reverse map and decides. The reverse map: an anonymous frame names its anon_vma; the
 * mms of that identity's fork subtree (rmap_anon.c), each VMA whose identity descends
 * from it and the frame's linear index give the addresses. A file frame names its
 * object, whose i_mmap list gives the VMAs. Other mms are only try-locked (for writing,
 * so no thread of theirs is inside a copy), all of an anonymous frame's at once; the mm
 * of a direct reclaim (self) is already locked by its fault and is changed under its ptl.
 * An anonymous frame that one PTE maps alone is written to a new slot as its PTE changes;
 * one that several map (copy-on-write after fork) or the swap cache holds goes to the
 * swap cache first and every PTE becomes the same swap entry; an unmapped swap-cache
 * frame just leaves the cache (its slot keeps the bytes).
 * Shmem and memfd frames sit on the anon lists (swap-backed) and are reached through
 * their object's i_mmap as file frames are; reclaim unmaps them everywhere and the object
 * swaps them out (shrink_shmem_page).
 * Skipped, by design: frames with references beyond their PTEs and the swap cache (a
 * pin); KSM frames; frames whose mm or object cannot be locked or reached at that moment.
 * Frames in VM_LOCKED VMAs go to the unevictable list and are never reclaimed.
 */
#include "mm/mm_internal.h"
#include "mm/swap_mm.h"

#include <errno.h>

#include "lib/pm_assert.h"
#include "reclaim/lru.h"
#include "reclaim/swap.h"

#define BATCH 32	/* SWAP_CLUSTER_MAX */
#define MAX_MMS 16	/* address spaces one file frame's walk visits */
#define ANON_MAX_MMS 64	/* address spaces one anonymous frame's walk locks */

enum rmap_op { RMAP_YOUNG, RMAP_UNMAP };

struct rmap_ctx {
	struct mm_sys *ms;
	struct page *pg;
	struct mm_struct *self;
	enum rmap_op op;
	int found;		/* PTEs mapping pg seen */
	int young;		/* one had A set (now cleared) */
	int locked;		/* one lies in a VM_LOCKED VMA */
	int failed;		/* an mm could not be locked, or unmapping failed */
	int lazy;		/* a lazy-free page was discarded */
	uint64_t slot;		/* RMAP_UNMAP of a swap-cached frame: the slot for every PTE */
};

static uint64_t vma_index_addr(const struct vma *v, uint64_t index)
{
	uint64_t npages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
	if (index < v->vm_pgoff || index - v->vm_pgoff >= npages)
		return 0;
	return v->vm_start + ((index - v->vm_pgoff) << PAGE_SHIFT);
}

/* One PTE of the frame, ptl held. RMAP_YOUNG tests and clears A (folio_referenced), then
 * makes every TLB of the mm walk again so the next access sets A anew (the software TLB
 * skips setting A on a hit). RMAP_UNMAP unmaps (try_to_unmap_one): a swap entry for an
 * anonymous frame, nothing for a file frame, whose D bit goes to the page cache. */
static void rmap_one(struct rmap_ctx *c, struct mm_struct *mm, struct vma *v, pte_t *ep)
{
	struct page *pg = c->pg;
	c->found++;
	if (v->vm_flags & VM_LOCKED) {
		c->locked = 1;
		return;
	}
	if (c->op == RMAP_YOUNG) {
		if (*ep & PTE_A) {
			__atomic_fetch_and(ep, ~PTE_A, __ATOMIC_RELAXED);
			mm_flush_tlb(mm);
			c->young = 1;
		}
		return;
	}
	if ((pg->flags & PG_anon) && c->slot) {
		mm_pageout_shared_pte(mm, ep, pg, c->slot);
	} else if (pg->flags & PG_anon) {
		/* Still exclusive (a fork may have run since the frame was chosen)? */
		if (atomic_load(&pg->mapcount) != 1 || atomic_load(&pg->refcount) != 2 ||
		    mm_pageout_pte(mm, v, ep, pg, &c->lazy)) {
			c->failed = 1;
			return;
		}
	} else {
		if (*ep & PTE_D)
			obj_page_dirty(pg->owner, pg);
		pgt_set(&mm->pgt, ep, 0);
		mm_unmap_page(mm, pg);
	}
	mm_flush_tlb(mm);
}

/* Visits pg's PTEs in mm, whose lock the caller holds (VMAs selected by anon identity,
 * its own or a descendant's, or by object). */
static void rmap_mm_locked(struct rmap_ctx *c, struct mm_struct *mm, const void *key, int anon)
{
	int own = mm == c->self;
	uint64_t pfn = page_to_pfn(c->ms->ph, c->pg);
	for (struct vma *v = mm->dead ? NULL : vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		if (anon ? !mm_anon_covers(v->anon, key) : (const void *)v->vm_obj != key)
			continue;
		uint64_t addr = vma_index_addr(v, c->pg->index);
		if (!addr)
			continue;
		int level;
		pthread_mutex_lock(&mm->ptl);
		pte_t *ep = pgt_lookup(&mm->pgt, addr, &level);
		if (ep && (*ep & PTE_P) && mm_is_thp_pmd(mm, *ep, level) &&
		    pfn - pte_pfn(*ep) < HPAGE_PMD_NR) {
			/* A THP's piece: its PMD's A bit answers for it; swapping it out splits
			 * the PMD first (split_folio before add_to_swap), in mms reclaim holds
			 * for writing only. */
			if (c->op == RMAP_YOUNG) {
				rmap_one(c, mm, v, ep);
				ep = NULL;
			} else if (own || mm_thp_split_pmd(mm, addr)) {
				c->failed = 1;
				ep = NULL;
			} else {
				atomic_fetch_add(&c->ms->thp.split_page, 1);
				ep = pgt_lookup(&mm->pgt, addr, &level);
			}
		}
		if (ep && level == 1 && (*ep & PTE_P) && !(*ep & PTE_SPECIAL) && pte_pfn(*ep) == pfn)
			rmap_one(c, mm, v, ep);
		pthread_mutex_unlock(&mm->ptl);
	}
}

static void rmap_mm(struct rmap_ctx *c, struct mm_struct *mm, const void *key, int anon)
{
	int own = mm == c->self;
	if (!own && pthread_rwlock_trywrlock(&mm->lock)) {
		c->failed = 1;
		return;
	}
	rmap_mm_locked(c, mm, key, anon);
	if (!own)
		pthread_rwlock_unlock(&mm->lock);
}

/* rmap_walk_anon: every mm of the owner's fork subtree, all try-locked before any is
 * visited, so a frame is unmapped from all of its mappers or from none. */
static void rmap_walk_anon(struct rmap_ctx *c)
{
	const void *av = c->pg->owner;
	struct mm_struct *mms[ANON_MAX_MMS];
	int n = c->pg->owner_kind == OWNER_ANON ? mm_anon_rmap_mms(c->ms, av, mms, ANON_MAX_MMS) : -1;
	if (n < 0) {
		c->failed = 1;
		return;
	}
	int locked = 0;
	while (locked < n && (mms[locked] == c->self || !pthread_rwlock_trywrlock(&mms[locked]->lock)))
		locked++;
	for (int i = 0; locked == n && i < n; i++)
		rmap_mm_locked(c, mms[i], av, 1);
	c->failed |= locked < n;
	for (int i = 0; i < n; i++) {
		if (i < locked && mms[i] != c->self)
			pthread_rwlock_unlock(&mms[i]->lock);
		mm_drop(mms[i]);
	}
}

/* The object's mms, collected with references under i_mmap_lock (never held while an mm
 * lock is taken). */
static void rmap_walk_file(struct rmap_ctx *c, struct vm_object *o)
{
	struct mm_struct *mms[MAX_MMS];
	size_t n = 0;
	pthread_mutex_lock(&o->i_mmap_lock);
	for (struct list_head *l = o->i_mmap.next; l != &o->i_mmap; l = l->next) {
		struct mm_struct *mm = list_entry(l, struct vma, vm_obj_node)->vm_mm;
		size_t i = 0;
		while (i < n && mms[i] != mm)
			i++;
		if (i < n)
			continue;
		if (n == MAX_MMS) {
			c->failed = 1;
			break;
		}
		mm_grab(mm);
		mms[n++] = mm;
	}
	pthread_mutex_unlock(&o->i_mmap_lock);
	for (size_t i = 0; i < n; i++) {
		rmap_mm(c, mms[i], o, 0);
		mm_drop(mms[i]);
	}
}

int mm_reclaim_file_page(struct mm_sys *ms, struct page *pg)
{
	struct vm_object *o = pg->owner;
	uint64_t index = pg->index;
	if (pg->flags & PG_dirty)
		obj_writeback(o, index, index, 1);	/* pageout(): write back, then drop */
	if (ms->lru)
		lru_putback(ms->lru, ms->ph, pg, LRU_INACTIVE_FILE);
	else
		phys_put(ms->ph, pg);
	return obj_invalidate(o, index, index) != 0;
}

/* The object of a file or shmem frame, with a reference, if it is still a live object of
 * the directory (a cached file or a registered shmem object) that holds pg at pg->index. */
static struct vm_object *file_owner(struct mm_sys *ms, struct page *pg)
{
	if (pg->owner_kind != OWNER_OBJECT || !ms->fcache)
		return NULL;
	struct vm_object *o = obj_filecache_find(ms->fcache, pg->owner);
	if (!o)
		return NULL;
	pthread_mutex_lock(&o->lock);
	int ok = obj_peek_page(o, pg->index) == pg;
	pthread_mutex_unlock(&o->lock);
	if (!ok) {
		obj_put(o);
		return NULL;
	}
	return o;
}

static int rmap_walk(struct mm_sys *ms, struct page *pg, struct vm_object *o,
		     struct mm_struct *self, enum rmap_op op, struct rmap_ctx *c)
{
	uint64_t slot = op == RMAP_UNMAP ? c->slot : 0;
	*c = (struct rmap_ctx){ .ms = ms, .pg = pg, .self = self, .op = op, .slot = slot };
	if (pg->flags & PG_anon)
		rmap_walk_anon(c);
	else if (o)
		rmap_walk_file(c, o);
	else
		c->failed = 1;
	return c->found;
}

/* What swap-out an isolated anonymous frame (one reference ours) can take. */
enum anon_class { ANON_SKIP, ANON_EXCLUSIVE, ANON_SHARED, ANON_CACHED_UNMAPPED };
static enum anon_class anon_class(struct page *pg)
{
	int map = atomic_load(&pg->mapcount), cached = atomic_load(&pg->swap_slot) != 0;
	if (!(pg->flags & (PG_anon | PG_shmem)) && pg->owner_kind == OWNER_NONE)	/* shmem's */
		return cached && !map && atomic_load(&pg->refcount) == 2 ? ANON_CACHED_UNMAPPED
									 : ANON_SKIP;	/* read-ahead */
	if (!(pg->flags & PG_anon) || (pg->flags & PG_ksm) || pg->owner_kind != OWNER_ANON)
		return ANON_SKIP;	/* KSM frames keep their stable-tree rmap */
	if (atomic_load(&pg->refcount) != map + 1 + cached)
		return ANON_SKIP;	/* pinned, or a fault is taking it from the swap cache */
	if (!map)
		return cached ? ANON_CACHED_UNMAPPED : ANON_SKIP;
	return map == 1 && !cached ? ANON_EXCLUSIVE : ANON_SHARED;
}

/* The last step for an anonymous frame no PTE maps any more: out of the swap cache if it
 * is there (__remove_mapping: the slot keeps the bytes and its references), then our
 * reference, the last, frees it. 0 (nothing done) if someone took a reference meanwhile. */
static int free_anon(struct mm_sys *ms, struct page *pg)
{
	if (atomic_load(&pg->swap_slot) && !swap_cache_reclaim(ms->swap, pg, 1))
		return 0;
	phys_put(ms->ph, pg);
	return 1;
}

static uint64_t counter_of(int how, int kswapd_stat, int direct_stat)
{
	return how == RECLAIM_DIRECT ? (uint64_t)direct_stat : (uint64_t)kswapd_stat;
}

/* Where a frame reclaim keeps goes: an anonymous one whose lazy free was cancelled while
 * it was off the lists (no longer PG_lazyfree) leaves the file lists for the active anon
 * one (folio_set_swapbacked, then activate_locked). */
static enum lru_list keep_list(const struct page *pg, enum lru_list back)
{
	if (lru_is_file(back) && (pg->flags & PG_anon) && !lru_page_lazyfree(pg))
		return LRU_ACTIVE_ANON;
	return back;
}

/* shrink_active_list: the oldest active frames go to the inactive list, their A bits
 * cleared on the way (a frame must be referenced again to be activated again). */
static void shrink_active(struct mm_sys *ms, enum lru_list active, unsigned nr,
			  struct mm_struct *self)
{
	struct page *batch[BATCH];
	enum lru_list inactive = active == LRU_ACTIVE_ANON ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
	while (nr) {
		unsigned n = lru_isolate(ms->lru, active, batch, nr < BATCH ? nr : BATCH);
		if (!n)
			return;
		nr -= n;
		lru_stat_add(ms->lru, LS_PGREFILL, n);
		lru_stat_add(ms->lru, LS_PGDEACTIVATE, n);
		for (unsigned i = 0; i < n; i++) {
			struct page *pg = batch[i];
			struct rmap_ctx c;
			struct vm_object *o = (pg->flags & PG_anon) ? NULL : file_owner(ms, pg);
			enum anon_class ac = (pg->flags & PG_anon) ? anon_class(pg) : ANON_SKIP;
			if ((pg->flags & PG_anon) ? ac == ANON_EXCLUSIVE || ac == ANON_SHARED : o != NULL)
				rmap_walk(ms, pg, o, self, RMAP_YOUNG, &c);
			else
				c.locked = 0;
			if (o)
				obj_put(o);
			lru_putback(ms->lru, ms->ph, pg,
				    c.locked ? LRU_UNEVICTABLE : keep_list(pg, inactive));
		}
	}
}

static void steal_stats(struct mm_sys *ms, int how, int file, uint64_t n)
{
	lru_stat_add(ms->lru, counter_of(how, LS_PGSTEAL_KSWAPD, LS_PGSTEAL_DIRECT), n);
	lru_stat_add(ms->lru, file ? LS_PGSTEAL_FILE : LS_PGSTEAL_ANON, n);
}

/* shrink_folio_list for a shmem or memfd frame on the inactive anon list (swap-backed):
 * referenced -> active, locked -> unevictable, else every PTE mapping it (through the
 * object's i_mmap, as for a file page) is removed and shmem_writeout puts a swap slot in
 * its place in the object's index. Takes over the isolation reference; 1 if freed. */
static uint64_t shrink_shmem_page(struct mm_sys *ms, struct page *pg, struct mm_struct *self,
				  int how)
{
	struct rmap_ctx c = { 0 };
	enum lru_list back = LRU_INACTIVE_ANON;
	struct vm_object *o = file_owner(ms, pg);
	if (!o) {
		lru_putback(ms->lru, ms->ph, pg, back);	/* unreachable now: try again later */
		return 0;
	}
	rmap_walk(ms, pg, o, self, RMAP_YOUNG, &c);
	if (c.locked) {
		back = LRU_UNEVICTABLE;
	} else if (c.young || c.failed) {
		back = c.young ? LRU_ACTIVE_ANON : LRU_INACTIVE_ANON;
	} else if (!mm_swap_available_sys(ms)) {
		back = LRU_ACTIVE_ANON;	/* no swap left: it stays */
	} else {
		if (c.found)
			rmap_walk(ms, pg, o, self, RMAP_UNMAP, &c);
		if (!c.failed && atomic_load(&pg->mapcount) == 0 && !obj_shmem_swap_out(o, pg)) {
			obj_put(o);
			phys_put(ms->ph, pg);	/* the frame is free now */
			lru_stat_add(ms->lru, counter_of(how, LS_PGSTEAL_KSWAPD, LS_PGSTEAL_DIRECT), 1);
			lru_stat_add(ms->lru, LS_PGSTEAL_ANON, 1);
			return 1;
		}
	}
	obj_put(o);
	if (lru_is_active(back))
		lru_stat_add(ms->lru, LS_PGACTIVATE, 1);
	lru_putback(ms->lru, ms->ph, pg, back);
	return 0;
}

/* shrink_inactive_list + shrink_folio_list: referenced frames are activated, locked ones
 * culled to the unevictable list, the rest unmapped and freed (swapped out, discarded when
 * lazily freed and clean, written back and dropped for files). The file list also holds
 * lazily freed anonymous frames, which take the anonymous path; the scan and steal
 * counters follow the list, as Linux's do. Returns frames freed. */
static uint64_t shrink_inactive(struct mm_sys *ms, enum lru_list list, unsigned nr,
				struct mm_struct *self, int how)
{
	struct page *batch[BATCH];
	int file = lru_is_file(list);
	enum lru_list active = file ? LRU_ACTIVE_FILE : LRU_ACTIVE_ANON;
	uint64_t freed = 0;
	while (nr) {
		unsigned n = lru_isolate(ms->lru, list, batch, nr < BATCH ? nr : BATCH);
		if (!n)
			break;
		nr -= n;
		lru_stat_add(ms->lru, how == RECLAIM_DIRECT ? LS_PGSCAN_DIRECT : LS_PGSCAN_KSWAPD, n);
		lru_stat_add(ms->lru, file ? LS_PGSCAN_FILE : LS_PGSCAN_ANON, n);
		for (unsigned i = 0; i < n; i++) {
			struct page *pg = batch[i];
			struct rmap_ctx c = { 0 };
			enum lru_list back = list;
			if (pg->flags & PG_shmem) {
				freed += shrink_shmem_page(ms, pg, self, how);
				continue;
			}
			/* The anon lists' frames, and lazy frees met on the file list. */
			int anon = !file || (pg->flags & PG_anon);
			struct vm_object *o = anon ? NULL : file_owner(ms, pg);
			enum anon_class ac = anon ? anon_class(pg) : ANON_SKIP;
			if (anon && ac == ANON_SKIP) {
				back = active;	/* pinned or KSM: not ours to take */
			} else if (ac == ANON_CACHED_UNMAPPED) {
				if (free_anon(ms, pg)) {	/* unmapped swap cache: just drop it */
					freed++;
					steal_stats(ms, how, 0, 1);
					continue;
				}
			} else if (!anon && !o) {
				back = list;	/* unreachable now: try again later */
			} else if (rmap_walk(ms, pg, o, self, RMAP_YOUNG, &c), c.locked) {
				back = LRU_UNEVICTABLE;
			} else if (c.young || c.failed) {
				back = c.young ? active : list;
			} else if (anon && !(ac == ANON_EXCLUSIVE && (pg->flags & PG_lazyfree)) &&
				   !atomic_load(&pg->swap_slot) && !mm_swap_available_sys(ms)) {
				back = active;	/* no swap left: anonymous memory stays */
			} else if (ac == ANON_SHARED && !(c.slot = mm_swap_hold(ms, pg))) {
				back = active;	/* no slot, or the write failed */
			} else {
				if (c.found)
					rmap_walk(ms, pg, o, self, RMAP_UNMAP, &c);
				if (ac == ANON_SHARED)
					swap_put(ms->swap, c.slot);	/* the PTEs hold their own */
				if (!c.failed && atomic_load(&pg->mapcount) == 0) {
					uint64_t ok = 1;
					if (!anon)
						ok = (uint64_t)mm_reclaim_file_page(ms, pg);	/* takes our ref */
					else if (!free_anon(ms, pg))
						goto keep;
					freed += ok;
					steal_stats(ms, how, file, ok);
					if (c.lazy)
						lru_stat_add(ms->lru, LS_PGLAZYFREED, 1);
					if (o)
						obj_put(o);
					continue;
				}
			}
keep:
			if (o)
				obj_put(o);
			back = keep_list(pg, back);
			if (lru_is_active(back))
				lru_stat_add(ms->lru, LS_PGACTIVATE, 1);
			lru_putback(ms->lru, ms->ph, pg, back);
		}
	}
	return freed;
}

int mm_swap_available_sys(struct mm_sys *ms)
{
	struct swap_area *sa = ms->swap;
	if (!sa || !sa->nslots)
		return 0;
	uint64_t total, nfree, cached;
	swap_stat(sa, &total, &nfree, &cached);
	return nfree != 0;
}

/* get_scan_count, simplified: with swappiness s (0..200) anon gets s / 200 of the scan and
 * file the rest; no anon scan without free swap nor with s = 0 while file frames remain
 * (lazily freed anonymous frames are among them, on the file lists); all anon when no file
 * frame is left. */
static void scan_count(struct mm_sys *ms, const uint64_t nr[NR_LRU_LISTS], int prio,
		       uint64_t *scan_anon, uint64_t *scan_file)
{
	uint64_t anon = nr[LRU_INACTIVE_ANON] + nr[LRU_ACTIVE_ANON];
	uint64_t file = nr[LRU_INACTIVE_FILE] + nr[LRU_ACTIVE_FILE];
	uint64_t s = (uint64_t)atomic_load(&ms->swappiness);
	uint64_t anon_prio = s, file_prio = 200 - s;
	if (!file)
		anon_prio = 200, file_prio = 0;
	else if (!mm_swap_available_sys(ms) || s == 0)
		anon_prio = 0, file_prio = 200;
	uint64_t a = (anon >> prio) * anon_prio / 200, f = (file >> prio) * file_prio / 200;
	if (anon_prio && anon && a < BATCH)
		a = anon < BATCH ? anon : BATCH;
	if (file_prio && file && f < BATCH)
		f = file < BATCH ? file : BATCH;
	*scan_anon = a;
	*scan_file = f;
}

uint64_t mm_shrink_lru(struct mm_sys *ms, uint64_t want, struct mm_struct *self, int how)
{
	if (!ms->lru)
		return 0;
	if (how == RECLAIM_DIRECT)
		lru_stat_add(ms->lru, LS_ALLOCSTALL, 1);
	uint64_t freed = 0;
	for (int prio = 12; prio >= 0 && freed < want; prio--) {	/* DEF_PRIORITY */
		uint64_t nr[NR_LRU_LISTS], sa, sf;
		lru_count(ms->lru, nr);
		scan_count(ms, nr, prio, &sa, &sf);
		/* inactive_is_low: keep the inactive lists at least as long as the active ones
		 * (a simplified inactive_ratio of 1). */
		if (sa && nr[LRU_INACTIVE_ANON] < nr[LRU_ACTIVE_ANON] + sa)
			shrink_active(ms, LRU_ACTIVE_ANON, (unsigned)(sa < nr[LRU_ACTIVE_ANON] ? sa : nr[LRU_ACTIVE_ANON]), self);
		if (sf && nr[LRU_INACTIVE_FILE] < nr[LRU_ACTIVE_FILE] + sf)
			shrink_active(ms, LRU_ACTIVE_FILE, (unsigned)(sf < nr[LRU_ACTIVE_FILE] ? sf : nr[LRU_ACTIVE_FILE]), self);
		if (sf)
			freed += shrink_inactive(ms, LRU_INACTIVE_FILE, (unsigned)sf, self, how);
		if (sa && freed < want)
			freed += shrink_inactive(ms, LRU_INACTIVE_ANON, (unsigned)sa, self, how);
	}
	return freed;
}

uint64_t mm_kswapd_step(struct mm_sys *ms, uint64_t low, uint64_t high)
{
	uint64_t free = phys_free_frames(ms->ph);
	if (!ms->lru || free >= low)
		return 0;
	lru_stat_add(ms->lru, LS_PAGEOUTRUN, 1);
	uint64_t want = high - free;
	return mm_shrink_lru(ms, want < 1024 ? want : 1024, NULL, RECLAIM_KSWAPD);	/* bounded per tick */
}
