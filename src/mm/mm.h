/*
 * The address space of a process: its VMAs, its page tables, its counters and layout, and
 * the operations on them (mmap, munmap, mprotect, brk, madvise, the fault handler and the
 * software MMU). mm never knows about processes, tokens or SDDL: who is asking arrives as
 * a struct mm_caller, and privilege questions go through kacs/gate.h only.
 *
 * Lock order, outermost first:
 *   mm->lock            rwlock: write to change VMAs; read for faults and memory access
 *     mm->ptl           mutex: page-table entries while only mm->lock for reading is held
 *       vm_object->lock
 *         phys->lock
 */
#ifndef PM_MM_H
#define PM_MM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>

#include "lib/kmem.h"
#include "lib/prng.h"
#include "obj/object.h"
#include "pgtable/pgtable.h"
#include "phys/phys.h"
#include "reclaim/commit.h"
#include "reclaim/ksm.h"
#include "vma/vma.h"

struct token;
struct swap_area;
struct lru;

/* A non-present PTE that still holds its frame: PROT_NONE (x86 Linux uses bit 8 the same way). */
#define PTE_PROTNONE	PTE_G
/* A page of a MAP_SYNC mapping: stores are written through to the file before they return. */
#define PTE_SYNC	PTE_SOFT3

/* A lazily freed page (MADV_FREE) is a private anonymous frame with PG_lazyfree whose PTE
 * is still clean: a store sets D and cancels the free, and reclaim (mm_reclaim_lazyfree)
 * drops clean ones. smaps' LazyFree counts the PTEs for which this returns 1. */
static inline int mm_pte_lazyfree(const struct phys *ph, pte_t e)
{
	if (!(e & PTE_P) || (e & (PTE_D | PTE_SPECIAL)))
		return 0;
	return (pfn_to_page(ph, pte_pfn(e))->flags & PG_lazyfree) != 0;
}

/* Transparent huge pages (thp.c, thp_collapse.c): the live knobs the registry applier
 * pushes, khugepaged's cursor and the event counters vmstat and sysfs show. */
enum { THP_ALWAYS, THP_MADVISE, THP_NEVER };			/* ThpEnabled */
enum { THP_DEFRAG_ALWAYS, THP_DEFRAG_DEFER, THP_DEFRAG_DEFER_MADVISE, THP_DEFRAG_MADVISE,
       THP_DEFRAG_NEVER };					/* ThpDefrag */
enum { THP_DISABLE_COMPLETELY = 1, THP_DISABLE_EXCEPT_ADVISED = 2 };	/* mm->thp_disable */
#define THP_MAX_PTES_NONE	511	/* khugepaged/max_ptes_none */
#define THP_MAX_PTES_SWAP	64	/* khugepaged/max_ptes_swap */
#define THP_MAX_PTES_SHARED	256	/* khugepaged/max_ptes_shared */
struct mm_thp {
	atomic_int enabled;			/* THP_ALWAYS / THP_MADVISE / THP_NEVER */
	atomic_int defrag;			/* THP_DEFRAG_* */
	atomic_long nr_anon_thps;		/* huge pages some PMD maps (AnonHugePages) */
	atomic_ulong fault_alloc, fault_fallback, collapse_alloc, collapse_alloc_failed;
	atomic_ulong split_pmd, split_page;	/* vmstat thp_split_pmd / thp_split_page */
	atomic_ulong scan_exceed_none, scan_exceed_swap, scan_exceed_shared;
	atomic_ulong pages_collapsed, full_scans;	/* khugepaged's sysfs counters */
	_Atomic(struct page *) huge_zero;	/* the huge zero page (512 zero frames, one
						   kernel reference each), made at its first
						   use and kept until mm_sys_stop; or NULL */
	atomic_ulong zero_page_alloc, zero_page_alloc_failed;
};

#define MM_ANON_BUCKETS 256

/* The system-wide state the memory code needs; it lives inside the system object. */
struct mm_sys {
	struct kmem *km;			/* immutable */
	struct phys *ph;			/* immutable */
	struct page *zero_page;			/* the shared zero frame; one reference held */
	uint64_t mmap_min_addr;			/* bytes; registry MmapMinAddr */
	uint64_t max_map_count;			/* registry MaxMapCount */
	uint64_t stack_guard_gap;		/* bytes; boot option, immutable */
	int randomize_va_space;			/* registry RandomizeVaSpace: 0, 1, 2 */
	int paging_levels;			/* 4 or 5; immutable */
	int embedded;				/* MAP_UNINITIALIZED honoured; immutable */
	int no_zero_page;			/* pm_config.no_zero_page: read faults of private
						   anonymous memory get their own frame; immutable */
	atomic_uint_fast64_t next_ino;		/* inode numbers for shmem objects */
	atomic_uint_fast64_t next_anon_id;	/* identities of anon_vmas */
	atomic_uint_fast64_t next_vma_gen;	/* source of mm->vma_gen values */
	atomic_long nr_anon, nr_shmem_mapped;	/* pages, for meminfo */
	atomic_uint_fast64_t shootdown_gen;	/* bumped to invalidate every thread's TLB, for
						   frames without a reverse map (MADV_HWPOISON) */
	atomic_ulong pgfault;			/* faults handled (vmstat pgfault); atomic */
	atomic_ulong pgmajfault;		/* faults that read the page from swap or a host
						   file (VM_FAULT_MAJOR: vmstat pgmajfault) */
	/* Reclaim and swap (swap_mm.c, reclaim_mm.c); set once by sys before any mm exists. */
	struct swap_area *swap;			/* the swap area (may have no slots) */
	struct lru *lru;			/* the LRU lists; NULL = frames are not tracked */
	struct obj_filecache *fcache;		/* live file objects, for the file reverse map */
	atomic_int swappiness;			/* registry Swappiness, 0..200 */
	pthread_mutex_t anon_lock;		/* leaf lock: guards anon_list and the anon_vma
						   tree links (children, sibling) */
	struct list_head anon_list[MM_ANON_BUCKETS];	/* every live anon_vma, hashed by
						   address (mm_anon_bucket), so reclaim's reverse
						   map validates a frame's owner in one bucket */
	struct ksm ksm;				/* KSM's trees and slots (mm/ksm_mm.h); own locks */
	struct mm_thp thp;			/* transparent huge pages (thp.c); atomics */
	struct commit commit;			/* vm_committed_as and the overcommit policy
						   (reclaim/commit.h, mm/acct.c); atomics */
};

/* Who makes a call: limits and the effective token, filled by the syscall layer. */
struct mm_rlimit { uint64_t cur, max; };
struct mm_caller {
	const struct mm_rlimit *rlim;		/* RLIM_NLIMITS entries */
	struct token *token;			/* effective token, for privilege gates */
	int wx;					/* W^X enforced for this process (SPEC §4) */
	uint64_t file_id;			/* mmap of a file: the open file's identity (fd's
						 * mmap id), which new VMAs carry; 0 = none */
};

/* The anonymous-memory identity of one or more VMAs (Linux's anon_vma). Frames of private
 * anonymous memory name it as their owner. fork gives each inherited VMA a child identity
 * whose parent is the parent VMA's (anon_vma_fork), so a frame owned by an identity is
 * mapped only by VMAs whose identity is it or one of its descendants: reclaim's reverse
 * map (rmap_anon.c) walks that subtree across address spaces. An identity lives while a
 * VMA or a child names it; frames hold no reference (reclaim validates their pointer
 * against anon_list). */
struct anon_vma {
	atomic_int refcount;			/* VMAs pointing at it, plus one per child */
	uint64_t id;				/* for dumps; immutable */
	struct mm_struct *mm;			/* the address space of its VMAs, with an
						   mm_grab reference; immutable */
	struct anon_vma *parent;		/* forked from (one reference held), or NULL;
						   immutable */
	struct list_head node;			/* in its mm_sys.anon_list bucket, under anon_lock */
	struct list_head children;		/* identities forked from it, under anon_lock */
	struct list_head sibling;		/* in parent->children, under anon_lock */
};

/* The anon_list bucket an anon_vma at this address lives in. */
static inline struct list_head *mm_anon_bucket(struct mm_sys *ms, const void *av)
{
	uintptr_t a = (uintptr_t)av >> 4;
	return &ms->anon_list[(a ^ (a >> 8) ^ (a >> 16)) % MM_ANON_BUCKETS];
}

enum { MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES, NR_MM_COUNTERS };

#define MM_VMA_CACHE 4	/* free VMA structs an address space keeps (vma_free) */

struct mm_struct {
	pthread_rwlock_t lock;			/* see the lock order above */
	pthread_mutex_t ptl;			/* page-table lock */
	struct mm_sys *sys;			/* immutable */
	struct vma_tree mt;			/* under lock */
	struct pgt pgt;				/* entries under lock (write) or ptl */
	uint64_t task_size;			/* end of the user range (exclusive); immutable */
	uint64_t mmap_base;			/* top of the top-down mmap area; immutable after layout */
	uint64_t mmap_legacy_base;		/* start of the bottom-up fallback */
	uint64_t start_code, end_code, start_data, end_data;	/* program image bounds */
	uint64_t start_brk, brk;		/* heap start and current break (brk is unaligned) */
	uint64_t start_stack;			/* initial stack pointer area (top of [stack]) */
	uint64_t total_vm, data_vm, exec_vm, stack_vm, locked_vm;	/* pages; under lock */
	uint64_t locked_vm_stale;		/* pages Linux's locked_vm keeps after a
						 * MREMAP_DONTUNMAP unlocked their VMA (mremap.c):
						 * in VmLck and the RLIMIT_MEMLOCK checks; under lock */
	uint64_t hiwater_vm, hiwater_rss;	/* pages; peaks */
	atomic_long rss[NR_MM_COUNTERS];	/* resident pages by kind */
	atomic_long swapents;			/* swap entries in the page tables (MM_SWAPENTS) */
	atomic_uint_fast64_t tlb_gen;		/* bumped whenever a present PTE loses rights */
	atomic_uint_fast64_t vma_gen;		/* changes whenever a VMA is added, removed,
						 * resized, split or given new flags: unique
						 * across the system (from mm_sys.next_vma_gen) */
	uint64_t def_flags;			/* VM_* added to every new mapping (MCL_FUTURE) */
	uint16_t pkey_map;			/* allocated protection keys (bit 0 = key 0, always) */
	atomic_int refs;			/* holders of the struct (the owner, walkers of i_mmap) */
	atomic_int users;			/* processes using the address space (vfork, CLONE_VM) */
	atomic_long hugetlb_bytes;		/* hugetlb memory mapped (HugetlbPages) */
	int dead;				/* torn down by mm_destroy; under lock */
	struct ksm_mm_slot ksm_slot;		/* KSM's slot for this space (ksm_mm.c) */
	int ksm_merge_any;			/* PR_SET_MEMORY_MERGE (MMF_VM_MERGE_ANY); under lock */
	int thp_disable;			/* PR_SET_THP_DISABLE: 0 or THP_DISABLE_*; kept by
						 * fork and exec (MMF_INIT_MASK); under lock */
	atomic_long committed;			/* pages this space adds to vm_committed_as */
	int acct_touch;				/* VM_ACCOUNT pages charged at first touch (mode
						 * 0) rather than at mmap (acct.c); under lock */
	struct vma *vma_cache[MM_VMA_CACHE];	/* freed VMA structs kept for the next
						 * vma_alloc (a split after a merge trades one
						 * instead of a free and a calloc); under lock */
	unsigned nr_vma_cache;			/* how many of vma_cache hold one */
};

/* Whether a read fault of private anonymous memory maps the shared zero page (small or
 * huge): Linux's !mm_forbids_zeropage(mm). Off on a system made with no_zero_page, where
 * such a fault allocates a zeroed frame of the process's own, as a write fault would. */
static inline int mm_use_zero_page(const struct mm_struct *mm)
{
	return !mm->sys->no_zero_page;
}

/* The per-thread software TLB: direct-mapped, invalidated wholesale by tlb_gen. A read that
 * hits takes no lock (mm_access_hit): it copies, then checks that tlb_gen has not moved.
 * That is sound because of the shootdown rule every path that takes a frame away from a
 * PTE follows: clear or replace the PTE, bump tlb_gen (mm_flush_tlb), and only then drop
 * the frame's reference (mm_unmap_page and the zap batch do it in that order). A hit that
 * validates against the old generation therefore copied before the frame could be freed. */
#define TLB_ENTRIES 64
struct tlb_entry {
	uint64_t vpn;				/* virtual page number, or UINT64_MAX when empty */
	uint8_t *host;				/* host address of the frame */
	uint8_t perm;				/* PM_READ/PM_WRITE/PM_EXEC allowed without a walk */
	uint8_t pkey;				/* protection key of the PTE */
};
struct tlb {
	uint64_t gen;				/* mm->tlb_gen when filled */
	uint64_t sys_gen;			/* mm->sys->shootdown_gen when filled */
	struct mm_struct *mm;			/* the space the entries translate, with an
						 * mm_grab reference (so a lock-free hit may
						 * read its tlb_gen), or NULL */
	struct tlb_entry e[TLB_ENTRIES];
};

/* What a failed access reports (mirrors pm_siginfo). */
struct mm_fault_info { int signo, code; uint64_t addr; int pkey; };

/* ---- mm_core.c: lifetime, VMA bookkeeping, checks ---- */
void mm_sys_init(struct mm_sys *ms, struct kmem *km, struct phys *ph, int levels, int embedded);
int mm_sys_start(struct mm_sys *ms);	/* allocates the zero page: 0 or -ENOMEM */
void mm_sys_stop(struct mm_sys *ms);
/* A new, empty address space. NULL on -ENOMEM. */
struct mm_struct *mm_create(struct mm_sys *ms);
/* fork: a copy-on-write copy of src for a child process. NULL with *err on failure. */
struct mm_struct *mm_fork(struct mm_struct *src, int *err);
/* One more process uses the address space (vfork, clone(CLONE_VM)). */
void mm_use(struct mm_struct *mm);
/* Drops one user; the last unmaps everything (writing shared file pages back) and drops
 * the owner's reference on the struct. */
void mm_destroy(struct mm_struct *mm);
/* References that keep the struct (not its contents) alive, for i_mmap walkers. */
void mm_grab(struct mm_struct *mm);
void mm_drop(struct mm_struct *mm);
/* Recomputes VMAs, page tables, counters and frame ownership; returns the problem count. */
int mm_check(struct mm_struct *mm);
void mm_flush_tlb(struct mm_struct *mm);
uint64_t mm_rss(struct mm_struct *mm);	/* resident pages of all kinds */
/* A new vma_gen for mm: called on every change /proc/<pid>/maps would show. */
void mm_vma_changed(struct mm_struct *mm);
void tlb_init(struct tlb *tlb);
/* Forgets every entry and drops the reference on tlb->mm (thread freed, exec). */
void tlb_release(struct tlb *tlb);

/* ---- layout.c ---- */
/* Places the stack, mmap base, heap, vvar/vdso (SPEC §2) using rng; maps [stack] with the
 * given size, and the vvar/vdso objects. 0 or -errno (nothing mapped on failure). */
struct mm_layout_objs { struct vm_object *vvar, *vvar_vclock, *vdso; };
int mm_setup_layout(struct mm_struct *mm, struct prng *rng, const struct mm_rlimit *rlim,
		    const struct mm_layout_objs *objs);

/* ---- the syscalls: each returns the Linux result or -errno ---- */
long mm_mmap(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t len,
	     uint64_t prot, uint64_t flags, struct vm_object *obj, uint64_t off);
/* mmap of an object (a file, memfd) opened with fmode MM_F_READ|MM_F_WRITE|MM_F_DAX. */
enum { MM_F_READ = 1, MM_F_WRITE = 2, MM_F_DAX = 4, MM_F_EXEC = 8 };
long mm_mmap_file(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t len,
		  uint64_t prot, uint64_t flags, struct vm_object *obj, uint64_t off, unsigned fmode);
long mm_munmap(struct mm_struct *mm, uint64_t addr, uint64_t len);
long mm_mprotect(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t len,
		 uint64_t prot);
long mm_brk(struct mm_struct *mm, const struct mm_caller *c, uint64_t brk);
long mm_madvise(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t len,
		long advice);

long mm_mlock(struct mm_struct *mm, const struct mm_caller *c, uint64_t start, uint64_t len,
	      uint64_t flags);			/* mlock (flags 0) and mlock2 */
long mm_munlock(struct mm_struct *mm, uint64_t start, uint64_t len);
long mm_mlockall(struct mm_struct *mm, const struct mm_caller *c, uint64_t flags);
long mm_munlockall(struct mm_struct *mm);
long mm_mremap(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr, uint64_t old_len,
	       uint64_t new_len, uint64_t flags, uint64_t new_addr);
long mm_msync(struct mm_struct *mm, uint64_t start, uint64_t len, long flags);
long mm_remap_file_pages(struct mm_struct *mm, const struct mm_caller *c, uint64_t start,
			 uint64_t size, uint64_t prot, uint64_t pgoff, uint64_t flags);
long mm_mseal(struct mm_struct *mm, uint64_t start, uint64_t len, uint64_t flags);
/* mincore: writes the vector into process memory at vec (as the thread with pkru). */
long mm_mincore(struct mm_struct *mm, uint64_t start, uint64_t len, uint64_t vec, uint32_t pkru);
/* pkey_alloc: the new key, with its rights set in *pkru; -EINVAL or -ENOSPC. */
long mm_pkey_alloc(struct mm_struct *mm, uint64_t flags, uint64_t rights, uint32_t *pkru);
long mm_pkey_free(struct mm_struct *mm, long key);
/* pkey_mprotect (mprotect when pkey is -1). */
long mm_pkey_mprotect(struct mm_struct *mm, const struct mm_caller *c, uint64_t start,
		      uint64_t len, uint64_t prot, long pkey);

/* Reclaims the lazily freed pages of mm (MADV_FREE): every clean, exclusively held
 * PG_lazyfree page is unmapped and freed, so the next touch sees a zero page; a page that
 * was written since (PTE D) stays, with its lazy-free mark cleared. Stands in for the LRU
 * scan until src/reclaim exists. Returns the frames freed. Takes mm->lock for writing. */
uint64_t mm_reclaim_lazyfree(struct mm_struct *mm);

/* ---- thp.c / thp_collapse.c: transparent huge pages ---- */
/* Frees the huge zero page, if one was made (mm_sys_stop). */
void mm_thp_release(struct mm_sys *ms);
/* smaps' THPeligible: thp_vma_allowable_order(vma, TVA_SMAPS, PMD_ORDER). */
int mm_thp_eligible(struct mm_struct *mm, const struct vma *v);
/* One khugepaged pass over up to *budget pages of mm from *cursor (an address; 0 at the
 * start), collapsing what Linux would. Returns 1 when the end of mm was reached (cursor
 * reset to 0). Takes mm->lock for writing. */
int mm_khugepaged_scan(struct mm_struct *mm, uint64_t *cursor, uint64_t *budget);
/* ---- acct.c: commit accounting (SPEC §8) ---- */
/* Converts mm's charge to the style the current OvercommitMemory asks for (the registry
 * applier calls it for every address space). Takes mm->lock for writing. */
void mm_acct_sync_style(struct mm_struct *mm);
/* What mm's charge must be, recounted from its VMAs and page tables (mm_check compares).
 * mm->lock held. */
uint64_t mm_acct_recount(struct mm_struct *mm);

/* W^X: does the address space hold a W+X mapping or a W/X alias (re-arming refuses)? */
int mm_has_wx(struct mm_struct *mm);

/* ---- uaccess.c: the software MMU ---- */
/* Copies len bytes between buf and va (how = PM_READ | PM_WRITE | PM_EXEC), faulting pages
 * in. Returns len, or -EFAULT with *fi describing the signal. tlb may be NULL. */
long mm_access(struct mm_struct *mm, struct tlb *tlb, uint32_t pkru, uint64_t va, void *buf,
	       size_t len, int how, struct mm_fault_info *fi);

/* The lock-free read hit: copies len bytes at va into buf when a read (or fetch) of at most
 * TLB_HIT_MAX bytes within one page hits the thread's TLB, and tlb_gen and the system
 * shootdown generation are the same after the copy as before. Returns 1 when done, 0 when
 * the caller must take mm_access_rlim (buf untouched then). No lock: the caller's thread
 * alone uses tlb, and the process must have been running when the call began. */
#define TLB_HIT_MAX 64
int mm_access_hit(struct tlb *tlb, uint32_t pkru, uint64_t va, void *buf, size_t len, int how);

/* mm_access with the caller's limits (stack growth obeys RLIMIT_STACK and RLIMIT_AS). */
long mm_access_rlim(struct mm_struct *mm, struct tlb *tlb, uint32_t pkru, uint64_t va, void *buf,
		    size_t len, int how, struct mm_fault_info *fi, const struct mm_rlimit *rlim);

#endif
