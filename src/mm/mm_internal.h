/*
 * Helpers shared by the files of src/mm and by nothing else: VMA allocation and linking
 * with the counters kept in step, splitting and merging, zapping page ranges, and the
 * translation of VM flags to PTE bits. Functions ending in _locked expect mm->lock held
 * for writing and assert it in debug builds.
 */
#ifndef PM_MM_INTERNAL_H
#define PM_MM_INTERNAL_H

#include "mm/mm.h"

#define PM_READ_  1
#define PM_WRITE_ 2
#define PM_EXEC_  4

struct vma *vma_alloc(struct mm_struct *mm);
/* Copies src's fields into dst except the list links, taking object and anon references. */
void vma_copy(struct vma *dst, const struct vma *src);
/* Copies the dirty pages of a shared file mapping's range [start, end) of v to the host
 * file, leaving them dirty (munmap and exit, SPEC §3). Other mappings: nothing. */
void mm_writeback_vma(struct vma *v, uint64_t start, uint64_t end);
/* Linux's vma_wants_writenotify: a shared mapping of a host file, whose PTEs become
 * writable only through a write fault (or an mprotect of a dirty PTE), so that every page
 * that turns dirty passes mm_file_page_dirtied (mm_file.c). */
int mm_vma_writenotify(const struct vma *v);
/* fault_dirty_shared_page: a write fault through a shared file mapping dirties pg in the
 * page cache. Other mappings: nothing. */
void mm_file_page_dirtied(struct vma *v, struct page *pg);
/* Frees a VMA that is in no tree, dropping its object and anon references. */
void vma_free(struct mm_struct *mm, struct vma *v);
/* Inserts v into the tree and accounts it; the tree must have a reserve for it. */
void mm_link_vma(struct mm_struct *mm, struct vma *v);
/* Removes v from the tree and the counters (does not touch page tables or free v). */
void mm_unlink_vma(struct mm_struct *mm, struct vma *v);
/* Changes v's bounds, keeping the counters in step. */
void mm_resize_vma(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);
/* Changes v's flags, keeping the counters in step. */
void mm_set_vma_flags(struct mm_struct *mm, struct vma *v, uint64_t flags);

/* Splits v at addr (strictly inside it): v keeps [vm_start, addr) and the returned VMA
 * gets [addr, vm_end). NULL on -ENOMEM (nothing changed). Enforces max_map_count when
 * `check` is set (-ENOMEM through *err). */
struct vma *mm_split_vma(struct mm_struct *mm, struct vma *v, uint64_t addr, int check, int *err);
/* Merges v with its neighbours where Linux would; returns the surviving VMA. */
struct vma *mm_merge_around(struct mm_struct *mm, struct vma *v);

/* Releases the frames mapped in [start, end) and clears their PTEs, markers included
 * (munmap's unmap_vmas with ZAP_FLAG_DROP_MARKER). */
void mm_zap_range(struct mm_struct *mm, uint64_t start, uint64_t end);
/* Zaps keep page tables, as Linux's do. mm_zap_unmap is munmap's zap of [start, end),
 * which holds whole VMAs between the end of the one before (floor, 0 if none) and the
 * start of the one after (ceiling, UINT64_MAX if none): it also frees the tables no VMA
 * will span any more (free_pgtables). After MADV_DONTNEED mm_reclaim_pgtables frees the
 * empty tables the range covers whole (pt_reclaim). */
void mm_zap_unmap(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t floor,
		  uint64_t ceiling);
void mm_reclaim_pgtables(struct mm_struct *mm, uint64_t start, uint64_t end);
/* zap_page_range_single with details: ZAP_KEEP_GUARD keeps guard markers (MADV_DONTNEED,
 * truncation); with `only` set, only PTEs mapping frames of that object go (hole punch:
 * private copies stay, Linux's even_cows = false). */
enum { ZAP_KEEP_GUARD = 1, ZAP_POISON = 2 /* PG_hwpoison frames leave hwpoison markers */ };
void mm_zap_range_details(struct mm_struct *mm, uint64_t start, uint64_t end, unsigned flags,
			  const struct vm_object *only);
/* Undoes one PTE's hold on pg: mapcount, RSS and the frame reference (zap_present_pte). */
void mm_unmap_page(struct mm_struct *mm, struct page *pg);
/* Removes every VMA in [start, end), splitting at the edges (do_vmi_munmap). 0 or -ENOMEM
 * (max_map_count), with nothing changed on failure. */
int mm_unmap_range_locked(struct mm_struct *mm, uint64_t start, uint64_t end);

/* Applies `flags` (with PTE updates when protections change) to [start, end) inside v,
 * splitting and merging as Linux's vma_modify does. 0 or -ENOMEM; *out = VMA now covering
 * start. */
int mm_modify_range(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
		    uint64_t flags, struct vma **out);
/* The same, also setting the protection key (pkey -1 keeps the VMA's key). */
int mm_modify_range_pkey(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
			 uint64_t flags, long pkey, struct vma **out);

/* PTE bits a present mapping of v gets (writability decided per page by the caller). */
pte_t mm_vma_pte_bits(const struct vma *v);
/* Rewrites the PTEs of [start, end) to v's current protection. */
void mm_change_protection(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);

/* A private anonymous frame for v at addr holding a copy of src's page (KSM's unshare),
 * not yet mapped: its reference passes to the caller. NULL on -ENOMEM. */
struct page *mm_anon_page_copy(struct mm_struct *mm, struct vma *v, uint64_t addr,
				const void *src);

/* An anonymous frame only this mapping holds: writable without a copy. */
int mm_page_exclusive(const struct page *pg);

/* The anon identity of v, created (or borrowed from a neighbour) on first need. */
struct anon_vma *mm_anon_prepare(struct mm_struct *mm, struct vma *v);
void anon_vma_put(struct mm_struct *mm, struct anon_vma *av);
/* A fresh anon identity with one reference, or NULL. */
struct anon_vma *anon_vma_new(struct mm_struct *mm);
/* anon_vma_fork: a fresh identity in mm (a fork child) whose parent is `parent` (the
 * parent VMA's identity, which gains a reference), or NULL on -ENOMEM. */
struct anon_vma *anon_vma_fork(struct mm_struct *mm, struct anon_vma *parent);

/* The fault handler (fault.c). Called with mm->lock held for reading. */
enum fault_ret {
	FAULT_OK = 0,
	FAULT_SEGV_MAPERR,
	FAULT_SEGV_ACCERR,
	FAULT_SEGV_PKUERR,
	FAULT_SIGBUS,
	FAULT_HWPOISON,		/* SIGBUS, BUS_MCEERR_AR: a poisoned page */
	FAULT_OOM,
	FAULT_EXPAND_STACK,	/* retry with mm->lock held for writing via mm_expand_stack */
};
enum fault_ret mm_handle_fault(struct mm_struct *mm, uint64_t addr, int how, uint32_t pkru);
/* Fault-around (fault_around.c). Does a fault of v (write or read) map the cached pages
 * around it first (should_fault_around)? */
int mm_fault_around_wanted(const struct vma *v, int write);
/* Maps the cached pages of v's object in the fault-around window of addr whose entries are
 * empty (do_fault_around), ep being addr's entry. *table says whether addr's page table
 * held anything before the fault (Linux would have had to install it), and is set once a
 * page is mapped. Under mm->ptl. 1 when addr's own page was among them (the fault is
 * done), else 0. Never reads or allocates a page. */
int mm_fault_around(struct mm_struct *mm, struct vma *v, uint64_t addr, pte_t *ep, int *table);
/* A read fault of v at addr, which lies past EOF, where no page table is: would Linux's
 * fault-around map a page first (and so install the table)? If not, the fault raises
 * SIGBUS without a table, as filemap_map_pages leaves none behind. */
int mm_fault_past_eof_needs_table(struct vma *v, uint64_t addr);
/* The PTE bits of a page-cache page mapped by a read fault of v (young; writable only in a
 * shared writable VMA that needs no writenotify). */
pte_t mm_file_read_pte_bits(const struct vma *v);
/* A host file page mapped for the first time joins the file LRU (unevictable if v is
 * VM_LOCKED). */
void mm_file_page_lru(struct mm_struct *mm, const struct vma *v, struct page *pg);
/* Does a present, counted PTE map a poisoned frame (MADV_HWPOISON)? */
static inline int mm_pte_poisoned(struct mm_struct *mm, pte_t e)
{
	if ((e & (PTE_P | PTE_PROTNONE)) == 0 || (e & PTE_SPECIAL))
		return 0;
	return (pfn_to_page(mm->sys->ph, pte_pfn(e))->flags & PG_hwpoison) != 0;
}
/* The same for the 4 KiB page at va under an entry of any level (a THP's frames are
 * poisoned one by one; hugetlb frames never are). */
static inline int mm_pte_poisoned_at(struct mm_struct *mm, pte_t e, int level, uint64_t va)
{
	if ((e & (PTE_P | PTE_PROTNONE)) == 0 || (e & PTE_SPECIAL))
		return 0;
	uint64_t pfn = pte_pfn(e) + ((va & (pgt_level_size(level) - 1)) >> PAGE_SHIFT);
	return (pfn_to_page(mm->sys->ph, pfn)->flags & PG_hwpoison) != 0;
}
/* Does PKRU forbid this data access to pages of key `pkey`? (exec is never checked) */
static inline int pkru_denies(uint32_t pkru, unsigned pkey, int how)
{
	if (!(how & (PM_READ_ | PM_WRITE_)))
		return 0;
	if (pkru & (1u << (2 * pkey)))
		return 1;
	return (how & PM_WRITE_) && (pkru & (2u << (2 * pkey)));
}
/* Grows the VM_GROWSDOWN VMA above addr down to cover it. 0 or -ENOMEM. mm->lock (write). */
int mm_expand_stack(struct mm_struct *mm, uint64_t addr, const struct mm_rlimit *rlim);

/* Creates the mapping [addr, addr+len) with flags vf, replacing what is there and merging
 * where Linux would (mmap_region). Shared mappings without obj get a new shmem object.
 * Returns addr or -errno. */
long mm_mmap_region(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr,
		    uint64_t len, uint64_t vf, struct vm_object *obj, uint64_t pgoff, int kind,
		    int populate);
/* Faults in every page of [start, end) as __mm_populate does: 0, or -EFAULT when a page
 * could not be faulted (the rest is still populated), or -ENOMEM. mmap ignores it. */
int mm_populate_locked(struct mm_struct *mm, uint64_t start, uint64_t end);
/* The same, stopping at the first failure unless ignore_errors (mlock stops). */
int mm_populate_range(struct mm_struct *mm, uint64_t start, uint64_t end, int ignore_errors);
/* can_do_mlock: a non-zero RLIMIT_MEMLOCK or SeLockMemoryPrivilege. */
int mm_can_mlock(const struct mm_caller *c);
/* mlock_future_ok: may `len` more bytes be locked under RLIMIT_MEMLOCK? */
int mm_mlock_future_ok(struct mm_struct *mm, const struct mm_caller *c, uint64_t vf, uint64_t len);

/* Is any VMA in [start, end) sealed (mseal)? Callers refuse with EPERM before changing
 * anything (SPEC §9). */
int mm_range_sealed(struct mm_struct *mm, uint64_t start, uint64_t end);
/* Is key allocated in this mm (0 always is)? */
int mm_pkey_allocated(struct mm_struct *mm, long key);

/* ---- madvise_*.c: the advice with its own machinery ---- */
long madvise_free_vma(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);
long madvise_guard_install(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);
long madvise_guard_remove(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);
/* Reclaims clean lazy-free pages with mm->lock held (either way) and mm->ptl held. */
uint64_t mm_reclaim_lazyfree_ptl(struct mm_struct *mm);
/* A lazy free cancelled (the page was written, or is shared now): PG_lazyfree goes, and a
 * frame on the file lists moves to the active anon list (folio_set_swapbacked, then
 * activate); an isolated frame is put back there by reclaim. */
void mm_lazyfree_cancel(struct mm_sys *ms, struct page *pg);
/* MADV_REMOVE: takes and drops mm->lock itself (the hole punch zaps other mms). */
long madvise_remove(struct mm_struct *mm, uint64_t start, uint64_t end);
/* MADV_HWPOISON / MADV_SOFT_OFFLINE after the privilege check; take mm->lock themselves. */
long madvise_inject_error(struct mm_struct *mm, uint64_t start, uint64_t end, int soft);

/* ---- acct.c: commit accounting (SPEC §8) ---- */
/* A private page of v got its own frame (the anon fault, a COW of the zero page or of an
 * object page, populate): in mode 0 a VM_ACCOUNT VMA is charged npages now (a THP fault
 * charges 512). Never refuses; returns 0. Stable name: the fault paths call it. */
int mm_acct_touch(struct mm_struct *mm, struct vma *v, uint64_t npages);
/* The reverse: npages of v's own frames or swap entries went away (zap, discard, poison). */
void mm_acct_untouch(struct mm_struct *mm, const struct vma *v, uint64_t npages);
/* vm_stat_account's share: npages of a VMA with `flags` were linked (+) or unlinked (-);
 * charged in the reserve style (modes 1 and 2). */
void mm_acct_vma(struct mm_struct *mm, uint64_t flags, int64_t npages);
/* v's flags changed from `old`: in the touch style, gaining or losing VM_ACCOUNT charges
 * or gives back the pages it already holds. */
void mm_acct_flags_changed(struct mm_struct *mm, const struct vma *v, uint64_t old);
/* Charged entries (own anon frames, swap entries) in [start, end), and in one PTE. */
uint64_t mm_acct_count(struct mm_struct *mm, uint64_t start, uint64_t end);
int mm_acct_page_charged(struct mm_struct *mm, pte_t e);
/* security_vm_enough_memory_mm: may mm promise npages more? Converts mm to the current
 * style first. 0 or -ENOMEM. mm->lock held for writing. */
int mm_acct_enough(struct mm_struct *mm, uint64_t npages);
void mm_acct_sync_style_locked(struct mm_struct *mm);

/* ---- hugetlb.c ---- */
int mm_hugetlb_hstate(uint64_t flags);	/* pool of MAP_HUGE_* (0, 1) or -EINVAL */
uint64_t mm_huge_size(const struct vma *v);
int mm_hugetlb_prepare(struct mm_struct *mm, int h, uint64_t len, uint64_t vf,
		       struct vm_object **obj);
enum fault_ret mm_hugetlb_fault(struct mm_struct *mm, struct vma *v, uint64_t addr, int how);
/* Gives back the reservations of the not-yet-faulted huge pages of [start, end) of v. */
void mm_hugetlb_unreserve(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);
/* Reserves again for [start, end) of v once it is empty (after MADV_DONTNEED). 0. */
int mm_hugetlb_rereserve(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);
/* May v be split at addr (hugetlb VMAs only at huge boundaries)? */
int mm_hugetlb_split_ok(const struct vma *v, uint64_t addr);
/* The hugetlbfs_file_mmap half of mapping a hugetlb object o (a memfd) at pgoff for len
 * bytes (huge-aligned): the offset rule (-EINVAL), the reservation (-ENOMEM), VM_HUGETLB,
 * and a writable mapping past EOF growing the file. Adjusts *vf; 0 or -errno. */
long mm_hugetlb_file_mmap(struct mm_struct *mm, struct vm_object *o, uint64_t pgoff, uint64_t len,
			  uint64_t *vf);

/* ---- thp.c: transparent huge pages (a run of 512 frames behind one PS entry) ---- */
#define HPAGE_PMD_ORDER	9
#define HPAGE_PMD_NR	512u
/* May v get huge pages (thp_vma_allowable_order, PMD order, without the size check)?
 * forced = MADV_COLLAPSE, which ignores ThpEnabled. */
int mm_thp_vma_allowed(struct mm_struct *mm, const struct vma *v, int forced);
/* Is e, found at `level`, a PMD entry (present or PROT_NONE) of an anonymous THP? */
int mm_is_thp_pmd(struct mm_struct *mm, pte_t e, int level);
/* Is it a PMD entry of the huge zero page (special: no counts, but a deposited table)? */
int mm_is_huge_zero_pmd(struct mm_struct *mm, pte_t e, int level);
/* Does this mapping alone hold all 512 frames of the THP entry e? */
int mm_thp_exclusive(struct mm_struct *mm, pte_t e);
/* The huge side of a fault on private anonymous memory, mm->lock held for reading and
 * ptl not: 1 when it decided (*r set), 0 to go on with 4 KiB pages (fallback, or a
 * shared huge PMD it split for a 4 KiB copy). */
int mm_thp_fault(struct mm_struct *mm, struct vma *v, uint64_t addr, int write,
		 enum fault_ret *r);
/* 512 zeroed, naturally aligned frames (refcount 1 each) or NULL. reclaim: 0 never
 * reclaims, 1 lets ThpDefrag decide on one direct-reclaim pass, 2 always tries one. */
struct page *mm_thp_alloc(struct mm_struct *mm, const struct vma *v, int reclaim);
void mm_thp_free(struct mm_struct *mm, struct page *pg);	/* puts all 512 */
/* Accounts the fresh run pg as mapped by one PMD for base in v (references pass to it)
 * and returns the PS entry; stores it at *ep unless ep is NULL (collapse installs it). */
pte_t mm_thp_install(struct mm_struct *mm, struct vma *v, uint64_t base, pte_t *ep,
		     struct page *pg, pte_t bits);
/* One more PMD maps the run (fork): references, mapcounts, RSS of mm. */
void mm_thp_pmd_get(struct mm_struct *mm, struct page *pg);
/* A PMD of mm no longer maps the run: mapcounts and RSS (the references stay). */
void mm_thp_pmd_unmap_counts(struct mm_struct *mm, struct page *pg);
/* Splits the THP PMD covering addr into 512 PTEs (split_huge_pmd) with the table
 * deposited for it: 0 (-ENOMEM, nothing changed, only if that table is missing). No THP
 * there: 0. mm->lock for writing, or reading with ptl. */
int mm_thp_split_pmd(struct mm_struct *mm, uint64_t addr);
/* Splits the huge PMDs (THPs and the huge zero page) straddling start and end
 * (THP_SPLIT_EDGES), every one in [start, end) (THP_SPLIT_ALL), or every THP but not the
 * huge zero page (THP_SPLIT_ANON: MADV_FREE and MADV_PAGEOUT leave that alone). */
enum { THP_SPLIT_EDGES, THP_SPLIT_ALL, THP_SPLIT_ANON };
int mm_thp_split_range(struct mm_struct *mm, uint64_t start, uint64_t end, int how);
/* MADV_COLLAPSE over [start, end) of v's range (thp_collapse.c). */
long mm_thp_madvise_collapse(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end);

/* ---- wx.c: W^X (SPEC §4) ---- */
uint64_t wx_history(uint64_t vf);	/* VM_WAS_* for the rights in vf */
/* Would a view of o's pages [pgoff, pgoff+npages) with flags vf alias another view in mm
 * (executable against shared-writable)? self is skipped. */
int mm_wx_alias(struct mm_struct *mm, struct vm_object *o, uint64_t pgoff, uint64_t npages,
		uint64_t vf, const struct vma *self);
long mm_wx_check_mmap(struct mm_struct *mm, const struct mm_caller *c, uint64_t prot,
		      uint64_t vf, struct vm_object *o, uint64_t pgoff, uint64_t len);
long mm_wx_check_mprotect(struct mm_struct *mm, const struct mm_caller *c, const struct vma *v,
			  uint64_t start, uint64_t end, uint64_t newflags);

/* vm_flags from prot (calc_vm_prot_bits). */
static inline uint64_t vm_prot_bits(uint64_t prot)
{
	return (prot & 1 ? VM_READ : 0) | (prot & 2 ? VM_WRITE : 0) | (prot & 4 ? VM_EXEC : 0);
}

/* Linux's accounting classes (mm/internal.h). */
static inline int is_exec_mapping(uint64_t f) { return (f & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) == VM_EXEC; }
static inline int is_stack_mapping(uint64_t f) { return (f & VM_GROWSDOWN) == VM_GROWSDOWN; }
static inline int is_data_mapping(uint64_t f) { return (f & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE; }

#define mm_assert_write_locked(mm) ((void)(mm))

#endif
