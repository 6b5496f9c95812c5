/*
 * Lifetime of address spaces and the bookkeeping every operation shares: allocating
 * (through a small per-mm cache of free structs) and linking VMAs with
 * total_vm/data_vm/exec_vm/stack_vm kept in step (vm_stat_account), anon identities, and
 * the TLB generation. It must never change a PTE without the caller holding mm->lock for
 * writing or mm->ptl, and never hand out a cached struct that is still in the tree.
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <string.h>

#include "lib/pm_assert.h"
#include "mm/ksm_mm.h"

/* A cached VMA struct is as dead as a freed one: debug builds poison it as kmem_free
 * does, and under AddressSanitizer any access to it is reported as a use after free. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define cache_poison(v)   ASAN_POISON_MEMORY_REGION((v), sizeof(struct vma))
#define cache_unpoison(v) ASAN_UNPOISON_MEMORY_REGION((v), sizeof(struct vma))
#else
#define cache_poison(v)   ((void)(v))
#define cache_unpoison(v) ((void)(v))
#endif

static void cache_put(struct mm_struct *mm, struct vma *v)
{
#ifdef PM_DEBUG
	memset(v, 0x6b, sizeof(*v));
#endif
	cache_poison(v);
	mm->vma_cache[mm->nr_vma_cache++] = v;
}

static struct vma *cache_take(struct mm_struct *mm)
{
	struct vma *v = mm->vma_cache[--mm->nr_vma_cache];
	cache_unpoison(v);
	return v;
}

void mm_sys_init(struct mm_sys *ms, struct kmem *km, struct phys *ph, int levels, int embedded)
{
	memset(ms, 0, sizeof(*ms));
	ms->km = km;
	ms->ph = ph;
	ms->mmap_min_addr = 65536;
	ms->max_map_count = 65530;
	ms->stack_guard_gap = 256 * PAGE_SIZE;
	ms->randomize_va_space = 2;
	ms->paging_levels = levels;
	ms->embedded = embedded;
	ksm_init(&ms->ksm, km, ph);
	commit_init(&ms->commit);
	atomic_init(&ms->next_ino, 1024);
	atomic_init(&ms->next_anon_id, 1);
	atomic_init(&ms->swappiness, 60);
	pthread_mutex_init(&ms->anon_lock, NULL);
	for (int i = 0; i < MM_ANON_BUCKETS; i++)
		list_init(&ms->anon_list[i]);
	atomic_init(&ms->next_vma_gen, 1);
}

int mm_sys_start(struct mm_sys *ms)
{
	ms->zero_page = phys_alloc(ms->ph, 0, PHYS_ZERO);
	if (!ms->zero_page)
		return -ENOMEM;
	ms->zero_page->flags |= PG_zero_page;
	ms->zero_page->owner_kind = OWNER_KERNEL;
	return 0;
}

void mm_sys_stop(struct mm_sys *ms)
{
	ksm_release(&ms->ksm);	/* every mm has exited: only stable nodes are left */
	mm_thp_release(ms);
	if (ms->zero_page)
		phys_put(ms->ph, ms->zero_page);
	ms->zero_page = NULL;
}

struct mm_struct *mm_create(struct mm_sys *ms)
{
	struct mm_struct *mm = kmem_new(ms->km, struct mm_struct);
	if (!mm)
		return NULL;
	if (pgt_init(&mm->pgt, ms->ph, ms->paging_levels)) {
		kmem_delete(ms->km, mm);
		return NULL;
	}
	mm->sys = ms;
	pthread_rwlock_init(&mm->lock, NULL);
	pthread_mutex_init(&mm->ptl, NULL);
	vma_tree_init(&mm->mt, ms->km, ms->stack_guard_gap);
	mm->task_size = ms->paging_levels == 5 ? 0x00fffffffffff000ULL : 0x00007ffffffff000ULL;
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		atomic_init(&mm->rss[i], 0);
	atomic_init(&mm->tlb_gen, 1);
	atomic_init(&mm->refs, 1);
	atomic_init(&mm->users, 1);
	mm->pkey_map = 1;
	atomic_init(&mm->committed, 0);
	mm->acct_touch = atomic_load(&ms->commit.mode) == COMMIT_GUESS;
	return mm;
}

void mm_use(struct mm_struct *mm) { atomic_fetch_add(&mm->users, 1); }

void mm_destroy(struct mm_struct *mm)
{
	if (atomic_fetch_sub(&mm->users, 1) != 1)
		return;	/* a vfork child or CLONE_VM process still uses it */
	mm_ksm_exit(mm);	/* ksm_exit: the slot goes before the pages do */
	pthread_rwlock_wrlock(&mm->lock);
	mm->dead = 1;
	struct vma *v;
	while ((v = vma_first(&mm->mt)) != NULL) {
		mm_hugetlb_unreserve(mm, v, v->vm_start, v->vm_end);
		mm_zap_range(mm, v->vm_start, v->vm_end);
		mm_writeback_vma(v, v->vm_start, v->vm_end);	/* exit writes shared files back */
		mm_unlink_vma(mm, v);
		vma_free(mm, v);
	}
	while (mm->nr_vma_cache) {
		struct vma *c = cache_take(mm);
		kmem_delete(mm->sys->km, c);
	}
	pthread_rwlock_unlock(&mm->lock);
	vma_tree_destroy(&mm->mt);
	pgt_destroy(&mm->pgt);
	mm_drop(mm);
}

void mm_grab(struct mm_struct *mm) { atomic_fetch_add(&mm->refs, 1); }

void mm_drop(struct mm_struct *mm)
{
	if (atomic_fetch_sub(&mm->refs, 1) != 1)
		return;
	pthread_rwlock_destroy(&mm->lock);
	pthread_mutex_destroy(&mm->ptl);
	kmem_delete(mm->sys->km, mm);
}

struct vma *vma_alloc(struct mm_struct *mm)
{
	struct vma *v;
	if (mm->nr_vma_cache) {
		/* Still one allocation call for fault injection (kmem_inject). */
		if (kmem_inject(mm->sys->km))
			return NULL;
		v = cache_take(mm);
		memset(v, 0, sizeof(*v));	/* as kmem_new hands it out */
	} else {
		v = kmem_new(mm->sys->km, struct vma);
	}
	if (v) {
		v->vm_mm = mm;
		list_init(&v->vm_list);
		list_init(&v->vm_obj_node);
	}
	return v;
}

void vma_copy(struct vma *dst, const struct vma *src)
{
	struct list_head a = dst->vm_list, b = dst->vm_obj_node;
	*dst = *src;
	dst->vm_list = a;
	dst->vm_obj_node = b;
	if (dst->vm_obj)
		obj_get(dst->vm_obj);
	if (dst->anon)
		atomic_fetch_add(&dst->anon->refcount, 1);
}

/* The last reference to an identity leaves it: it goes from anon_list and its parent's
 * children, drops its mm and then its parent's reference (iteratively up the chain). */
void anon_vma_put(struct mm_struct *mm, struct anon_vma *av)
{
	struct mm_sys *ms = mm->sys;
	while (av && atomic_fetch_sub(&av->refcount, 1) == 1) {
		struct anon_vma *parent = av->parent;
		pthread_mutex_lock(&ms->anon_lock);
		PM_ENFORCE(list_empty(&av->children));
		list_del(&av->node);
		if (parent)
			list_del(&av->sibling);
		pthread_mutex_unlock(&ms->anon_lock);
		struct mm_struct *owner = av->mm;
		kmem_delete(ms->km, av);
		mm_drop(owner);
		av = parent;
	}
}

void vma_free(struct mm_struct *mm, struct vma *v)
{
	if (v->vm_obj)
		obj_put(v->vm_obj);
	anon_vma_put(mm, v->anon);
	/* A dead space keeps none: mm_destroy has emptied the cache for good. */
	if (mm->nr_vma_cache < MM_VMA_CACHE && !mm->dead)
		cache_put(mm, v);
	else
		kmem_delete(mm->sys->km, v);
}

/* A new vma_gen: every link, unlink, resize and flag change calls it once. */
void mm_vma_changed(struct mm_struct *mm)
{
	/* Release is enough: a reader that sees the new value renders under mm->lock, which
	 * this change's writer still holds. */
	atomic_store_explicit(&mm->vma_gen, atomic_fetch_add(&mm->sys->next_vma_gen, 1) + 1,
			      memory_order_release);
}

/* Linux's vm_stat_account: the per-class page counts behind VmSize, VmData, VmExe, VmStk. */
static void vm_stat_account(struct mm_struct *mm, uint64_t flags, int64_t npages)
{
	mm->total_vm += (uint64_t)npages;
	if (is_exec_mapping(flags))
		mm->exec_vm += (uint64_t)npages;
	else if (is_stack_mapping(flags))
		mm->stack_vm += (uint64_t)npages;
	else if (is_data_mapping(flags))
		mm->data_vm += (uint64_t)npages;
	if (flags & VM_LOCKED)
		mm->locked_vm += (uint64_t)npages;
	if (mm->total_vm > mm->hiwater_vm)
		mm->hiwater_vm = mm->total_vm;
	mm_acct_vma(mm, flags, npages);	/* the reserve-style commit charge */
}

static int64_t vma_pages(const struct vma *v)
{
	return (int64_t)((v->vm_end - v->vm_start) >> PAGE_SHIFT);
}

/* A shared writable mapping counts against memfd write seals (i_mmap_writable). */
static int shared_writable(uint64_t f) { return (f & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE); }

void mm_link_vma(struct mm_struct *mm, struct vma *v)
{
	int err = vma_insert(&mm->mt, v);
	PM_ENFORCE(err == 0);	/* callers reserve first: prepare, then commit */
	mm_vma_changed(mm);
	vm_stat_account(mm, v->vm_flags, vma_pages(v));
	if (v->vm_obj) {
		obj_link_vma(v->vm_obj, v);
		if (shared_writable(v->vm_flags))
			atomic_fetch_add(&v->vm_obj->nr_shared_writable, 1);
	}
}

void mm_unlink_vma(struct mm_struct *mm, struct vma *v)
{
	vma_remove(&mm->mt, v);
	mm_vma_changed(mm);
	vm_stat_account(mm, v->vm_flags, -vma_pages(v));
	if (v->vm_obj) {
		obj_unlink_vma(v->vm_obj, v);
		if (shared_writable(v->vm_flags))
			atomic_fetch_sub(&v->vm_obj->nr_shared_writable, 1);
	}
}

void mm_resize_vma(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end)
{
	mm_vma_changed(mm);
	vm_stat_account(mm, v->vm_flags, -vma_pages(v));
	/* pgoff follows the start, so offsets stay contiguous with addresses. */
	if (start != v->vm_start)
		v->vm_pgoff += (start >> PAGE_SHIFT) - (v->vm_start >> PAGE_SHIFT);
	vma_adjust(&mm->mt, v, start, end);
	vm_stat_account(mm, v->vm_flags, vma_pages(v));
}

void mm_set_vma_flags(struct mm_struct *mm, struct vma *v, uint64_t flags)
{
	mm_vma_changed(mm);
	vm_stat_account(mm, v->vm_flags, -vma_pages(v));
	if (v->vm_obj && shared_writable(v->vm_flags) != shared_writable(flags))
		atomic_fetch_add(&v->vm_obj->nr_shared_writable, shared_writable(flags) ? 1 : -1);
	uint64_t old = v->vm_flags;
	v->vm_flags = flags;
	vm_stat_account(mm, v->vm_flags, vma_pages(v));
	mm_acct_flags_changed(mm, v, old);	/* the touch style's share */
}

void mm_flush_tlb(struct mm_struct *mm)
{
	atomic_fetch_add(&mm->tlb_gen, 1);
}

void tlb_init(struct tlb *tlb)
{
	tlb->gen = 0;
	tlb->sys_gen = 0;
	tlb->mm = NULL;
	for (int i = 0; i < TLB_ENTRIES; i++)
		tlb->e[i].vpn = UINT64_MAX;
}

void tlb_release(struct tlb *tlb)
{
	struct mm_struct *mm = tlb->mm;
	tlb_init(tlb);
	if (mm)
		mm_drop(mm);
}

uint64_t mm_rss(struct mm_struct *mm)
{
	long n = 0;
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		n += atomic_load(&mm->rss[i]);
	return n > 0 ? (uint64_t)n : 0;
}

/* Linux's anon_vma_compatible: a neighbour whose identity v may share. */
static int anon_compatible(const struct vma *a, const struct vma *b)
{
	/* The W^X history bits are peimm's own and as much about access as VM_WRITE is;
	 * VM_SOFTDIRTY and VM_MAYBE_GUARD are Linux's VM_IGNORE_MERGE. */
	const uint64_t access = VM_READ | VM_WRITE | VM_EXEC | VM_WAS_WRITE | VM_WAS_EXEC;
	if (!b || !b->anon || a->vm_obj != b->vm_obj)
		return 0;
	if ((a->vm_flags ^ b->vm_flags) & ~(access | VM_SOFTDIRTY | VM_MAYBE_GUARD))
		return 0;
	if (a->vm_end == b->vm_start)
		return a->vm_pgoff + (uint64_t)vma_pages(a) == b->vm_pgoff;
	if (b->vm_end == a->vm_start)
		return b->vm_pgoff + (uint64_t)vma_pages(b) == a->vm_pgoff;
	return 0;
}

struct anon_vma *anon_vma_new(struct mm_struct *mm)
{
	return anon_vma_fork(mm, NULL);
}

struct anon_vma *anon_vma_fork(struct mm_struct *mm, struct anon_vma *parent)
{
	struct anon_vma *av = kmem_new(mm->sys->km, struct anon_vma);
	if (av) {
		atomic_init(&av->refcount, 1);
		av->id = atomic_fetch_add(&mm->sys->next_anon_id, 1);
		av->mm = mm;
		mm_grab(mm);
		av->parent = parent;
		list_init(&av->children);
		list_init(&av->sibling);
		if (parent)
			atomic_fetch_add(&parent->refcount, 1);
		pthread_mutex_lock(&mm->sys->anon_lock);
		list_add(&av->node, mm_anon_bucket(mm->sys, av));
		if (parent)
			list_add(&av->sibling, &parent->children);
		pthread_mutex_unlock(&mm->sys->anon_lock);
	}
	return av;
}

struct anon_vma *mm_anon_prepare(struct mm_struct *mm, struct vma *v)
{
	if (v->anon)
		return v->anon;
	/* find_mergeable_anon_vma: borrowing a neighbour's identity keeps later merges
	 * possible, exactly as Linux does. */
	struct vma *n = vma_next(&mm->mt, v), *p = vma_prev(&mm->mt, v);
	struct anon_vma *av = NULL;
	if (anon_compatible(v, n))
		av = n->anon;
	else if (anon_compatible(v, p))
		av = p->anon;
	if (av)
		atomic_fetch_add(&av->refcount, 1);
	else if (!(av = anon_vma_new(mm)))
		return NULL;
	v->anon = av;
	return av;
}
