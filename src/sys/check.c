/*
 * pm_check_invariants (STYLE rule 10): every process's mm_check, the buddy allocator's
 * own check, and a system-wide recount of every frame. A frame's mapcount must equal the
 * PTEs that map it, and its refcount the PTEs plus the object indexes plus the kernel's
 * own holds; a frame held by nothing is a leak. Reports; never repairs.
 */
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>

#include "pgtable/pgtable.h"
#include "sys/fd.h"

struct recount {
	struct pm_system *sys;
	uint32_t *maps;			/* PTE mappings per PFN */
	uint32_t *refs;			/* expected references per PFN */
	uint32_t *thps;			/* THP PMDs whose run starts at each PFN */
	uint64_t nr_thps;		/* runs with at least one PMD (AnonHugePages) */
	struct vm_object **objs;	/* objects seen, each counted once */
	size_t nobjs, capobjs;
	uint32_t *slots;		/* expected references per swap slot (swap PTEs and
					   shmem index entries), or NULL without swap */
	uint64_t nslots;
};

static int count_pte(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct recount *rc = ctx;
	pte_t e = *ep;
	(void)va;
	(void)level;
	if (pte_is_swap(e) && rc->slots && pte_swap_offset(e) <= rc->nslots)
		rc->slots[pte_swap_offset(e)]++;
	if (!(e & (PTE_P | PTE_PROTNONE)) || (e & PTE_SPECIAL))
		return 0;
	uint64_t pfn = pte_pfn(e);
	struct page *pg = pfn < rc->sys->ph.nr_frames ? pfn_to_page(&rc->sys->ph, pfn) : NULL;
	/* An anonymous THP's PMD maps (and holds) each of its 512 frames. */
	uint64_t n = level == 2 && pg && !(pg->flags & PG_hugetlb) ? 512 : 1;
	if (n > 1 && rc->thps[pfn]++ == 0)
		rc->nr_thps++;
	for (uint64_t i = 0; i < n && pfn + i < rc->sys->ph.nr_frames; i++) {
		rc->maps[pfn + i]++;
		rc->refs[pfn + i]++;
	}
	return 0;
}

static int count_index(void *ctx, uint64_t index, struct page *pg)
{
	struct recount *rc = ctx;
	(void)index;
	rc->refs[page_to_pfn(&rc->sys->ph, pg)]++;
	return 0;
}

/* A swapped-out shmem page holds one reference on its slot. */
static int count_swap_entry(void *ctx, uint64_t index, uint64_t slot)
{
	struct recount *rc = ctx;
	(void)index;
	if (rc->slots && slot <= rc->nslots)
		rc->slots[slot]++;
	return 0;
}

static void count_object(struct recount *rc, struct vm_object *o)
{
	for (size_t i = 0; i < rc->nobjs; i++)
		if (rc->objs[i] == o)
			return;
	if (rc->nobjs == rc->capobjs) {
		size_t cap = rc->capobjs ? rc->capobjs * 2 : 16;
		struct vm_object **n = realloc(rc->objs, cap * sizeof(*n));
		if (!n)
			return;
		rc->objs = n;
		rc->capobjs = cap;
	}
	rc->objs[rc->nobjs++] = o;
	pthread_mutex_lock(&o->lock);
	pindex_for_each(&o->pages, count_index, rc);
	pindex_for_each_swap(&o->pages, count_swap_entry, rc);
	pthread_mutex_unlock(&o->lock);
}

/* Objects reachable from fd tables and the page cache, not only from VMAs. */
static int count_object_fn(void *ctx, struct vm_object *o)
{
	struct recount *rc = ctx;
	count_object(rc, o);
	return 0;
}

static int check_object_fn(void *ctx, struct vm_object *o)
{
	*(int *)ctx += obj_check(o);
	return 0;
}

static void count_process(struct recount *rc, struct mm_struct *mm)
{
	pthread_rwlock_rdlock(&mm->lock);
	pgt_walk_range(&mm->pgt, 0, mm->task_size, count_pte, rc);
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
		if (v->vm_obj)
			count_object(rc, v->vm_obj);
	pthread_rwlock_unlock(&mm->lock);
}

/* The swap cache holds one reference on each frame it keeps. */
static void count_swap_cached(void *ctx, struct page *pg)
{
	struct recount *rc = ctx;
	rc->refs[page_to_pfn(&rc->sys->ph, pg)]++;
}

static int compare_frames(struct recount *rc)
{
	int problems = 0;
	struct phys *ph = &rc->sys->ph;
	for (uint64_t pfn = 1; pfn < ph->nr_frames; pfn++) {
		struct page *pg = &ph->pages[pfn];
		int ref = atomic_load(&pg->refcount), map = atomic_load(&pg->mapcount);
		if (pg->flags & PG_pgtable)
			continue;	/* page tables are accounted by pgt_check */
		if (pg->thp_maps != rc->thps[pfn] && problems++ < 20)
			fprintf(stderr, "frame check: pfn %#lx: thp_maps %u, recount gives %u\n",
				(unsigned long)pfn, pg->thp_maps, rc->thps[pfn]);
		if ((uint32_t)map != rc->maps[pfn] || (uint32_t)ref != rc->refs[pfn]) {
			if (problems++ < 20)
				fprintf(stderr, "frame check: pfn %#lx flags %#x: refcount %d mapcount %d, "
					"recount gives refcount %u mapcount %u\n", (unsigned long)pfn,
					pg->flags, ref, map, rc->refs[pfn], rc->maps[pfn]);
		}
	}
	return problems;
}

/* Each frame that records a swap slot (page.swap_slot) against the swap cache's entry for
 * that slot. */
static int compare_cached_slots(struct recount *rc, struct swap_area *sa)
{
	int problems = 0;
	struct phys *ph = &rc->sys->ph;
	for (uint64_t pfn = 1; pfn < ph->nr_frames; pfn++) {
		struct page *pg = &ph->pages[pfn];
		uint64_t slot = atomic_load(&pg->swap_slot);
		if (!slot)
			continue;
		struct page *got = slot <= rc->nslots ? swap_cache_get(sa, slot) : NULL;
		if (got != pg && problems++ < 20)
			fprintf(stderr, "swap check: pfn %#lx records slot %lu, which caches %s\n",
				(unsigned long)pfn, (unsigned long)slot, got ? "another frame" : "none");
		if (got)
			phys_put(ph, got);
	}
	return problems;
}

/* Every slot's reference count against the swap PTEs and shmem index entries naming it:
 * a leaked reference (the slot never frees) or a lost one (a later double free) shows. */
static int compare_slots(struct recount *rc, struct swap_area *sa)
{
	int problems = 0;
	for (uint64_t s = 1; rc->slots && s <= rc->nslots; s++) {
		unsigned n = swap_count(sa, s);
		if (n != rc->slots[s] && problems++ < 20)
			fprintf(stderr, "swap check: slot %lu has %u references, the page tables and "
				"shmem indexes hold %u\n", (unsigned long)s, n, rc->slots[s]);
	}
	return problems;
}

/* The distinct address spaces of the process list, each once: vfork children and
 * CLONE_VM processes share one mm, which must be walked and charged once. A calloc'd
 * array (NULL when the host is out of memory, *n = 0); caller holds sys->lock. */
static struct mm_struct **distinct_mms(struct pm_system *sys, size_t *n)
{
	size_t nprocs = 1;
	*n = 0;
	for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next)
		nprocs++;
	struct mm_struct **seen = calloc(nprocs, sizeof(*seen));
	for (struct list_head *l = sys->procs.next; seen && l != &sys->procs; l = l->next) {
		struct pm_process *p = list_entry(l, struct pm_process, node);
		size_t i = 0;
		while (i < *n && seen[i] != p->mm)
			i++;
		if (p->mm && i == *n)
			seen[(*n)++] = p->mm;
	}
	return seen;
}

/* vm_committed_as against the sum of the address spaces' charges, and the shmem share
 * against the objects' pages. Each mm's own charge is checked against its recount by
 * mm_check. */
static int check_commit(struct pm_system *sys, struct recount *rc,
			struct mm_struct **mms, size_t nmms)
{
	long sum = 0, shmem = 0;
	for (size_t i = 0; i < nmms; i++)
		sum += atomic_load(&mms[i]->committed);
	long swapped = 0;
	for (size_t i = 0; i < rc->nobjs; i++)
		if (rc->objs[i]->kind == OBJ_SHMEM || rc->objs[i]->kind == OBJ_MEMFD) {
			shmem += (long)rc->objs[i]->nr_pages;
			swapped += (long)rc->objs[i]->nr_swapped;
		}
	int problems = 0;
	if (sum != atomic_load(&sys->ms.commit.committed) && ++problems)
		fprintf(stderr, "commit check: vm_committed_as is %ld pages, the address spaces "
			"hold %ld\n", atomic_load(&sys->ms.commit.committed), sum);
	if (shmem != atomic_load(&sys->ph.nr_shmem) && ++problems)
		fprintf(stderr, "commit check: shmem charge is %ld pages, the objects hold %ld\n",
			atomic_load(&sys->ph.nr_shmem), shmem);
	if (swapped != atomic_load(&sys->ph.nr_shmem_swapped) && ++problems)
		fprintf(stderr, "commit check: swapped shmem charge is %ld pages, the objects "
			"hold %ld swap entries\n", atomic_load(&sys->ph.nr_shmem_swapped), swapped);
	return problems;
}

int pm_check_invariants(pm_system *sys)
{
	struct recount rc = { .sys = sys };
	uint64_t n = sys->ph.nr_frames;
	rc.maps = calloc(n, sizeof(uint32_t));
	rc.refs = calloc(n, sizeof(uint32_t));
	rc.thps = calloc(n, sizeof(uint32_t));
	rc.nslots = sys->ms.swap ? sys->ms.swap->nslots : 0;
	rc.slots = rc.nslots ? calloc(rc.nslots + 1, sizeof(uint32_t)) : NULL;
	int problems = phys_check(&sys->ph);
	if (!rc.maps || !rc.refs || !rc.thps || (rc.nslots && !rc.slots)) {
		free(rc.maps);
		free(rc.refs);
		free(rc.thps);
		free(rc.slots);
		fprintf(stderr, "pm_check_invariants: out of host memory\n");
		return problems + 1;
	}
	pthread_mutex_lock(&sys->lock);
	rc.refs[page_to_pfn(&sys->ph, sys->ms.zero_page)]++;
	struct page *hz = atomic_load(&sys->ms.thp.huge_zero);
	for (unsigned i = 0; hz && i < 512; i++)
		rc.refs[page_to_pfn(&sys->ph, hz) + i]++;	/* the huge zero page's hold */
	count_object(&rc, sys->vdso.vdso);
	count_object(&rc, sys->vdso.vvar);
	count_object(&rc, sys->vdso.vvar_vclock);
	size_t nmms;
	struct mm_struct **mms = distinct_mms(sys, &nmms);
	if (!mms) {
		fprintf(stderr, "pm_check_invariants: out of host memory\n");
		problems++;
	}
	for (size_t i = 0; i < nmms; i++) {
		problems += mm_check(mms[i]);
		count_process(&rc, mms[i]);
	}
	for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next) {
		struct pm_process *p = list_entry(l, struct pm_process, node);
		if (!p->mm)
			continue;
		if (p->files) {
			fd_for_each_object(p->files, count_object_fn, &rc);
			fd_for_each_object(p->files, check_object_fn, &problems);
		}
	}
	obj_filecache_for_each(&sys->fcache, count_object_fn, &rc);
	obj_filecache_for_each(&sys->fcache, check_object_fn, &problems);
	if (sys->ms.swap) {
		swap_cache_for_each(sys->ms.swap, count_swap_cached, &rc);
		problems += swap_check(sys->ms.swap);
		problems += compare_slots(&rc, sys->ms.swap);
		problems += compare_cached_slots(&rc, sys->ms.swap);
	}
	problems += lru_check(&sys->lru);
	if (mms)
		problems += check_commit(sys, &rc, mms, nmms);
	free(mms);
	pthread_mutex_unlock(&sys->lock);
	/* KSM's counters against a recount of its items and nodes (ksmd only asserts this
	 * in Debug builds); ksm->lock is never taken under sys->lock. */
	pthread_mutex_lock(&sys->ms.ksm.lock);
	problems += ksm_check(&sys->ms.ksm);
	pthread_mutex_unlock(&sys->ms.ksm.lock);
	problems += compare_frames(&rc);
	if ((uint64_t)atomic_load(&sys->ms.thp.nr_anon_thps) != rc.nr_thps && problems++ < 20)
		fprintf(stderr, "THP check: nr_anon_thps %ld, recount gives %lu\n",
			atomic_load(&sys->ms.thp.nr_anon_thps), (unsigned long)rc.nr_thps);
	free(rc.maps);
	free(rc.refs);
	free(rc.thps);
	free(rc.slots);
	free(rc.objs);
	return problems;
}
