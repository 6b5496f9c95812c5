/*
 * What mappings are backed by. A vm_object is a reference-counted, page-indexed store of
 * frames: anonymous shared memory (shmem, shown by Linux as "/dev/zero (deleted)"),
 * kernel-provided images such as the vDSO and vvar, memfds (shmem with seals) and host
 * files through the page cache (one object per host (dev, ino), found in the system's
 * obj_filecache). Invariant: every frame in an object's index holds one reference owned
 * by the index. This layer never walks page tables; it only lists the VMAs that map an
 * object (i_mmap) for the mm layer to walk.
 */
#ifndef PM_OBJ_OBJECT_H
#define PM_OBJ_OBJECT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/list.h"
#include "obj/pindex.h"
#include "phys/phys.h"

struct kmem;
struct vma;

enum obj_kind {
	OBJ_SHMEM,	/* anonymous shared memory (MAP_SHARED|MAP_ANONYMOUS) */
	OBJ_SPECIAL,	/* kernel image pages (vdso, vvar): fixed size, never grow */
	OBJ_FILE,	/* a host file through the page cache; in an obj_filecache */
	OBJ_MEMFD,	/* memfd_create: shmem that can grow and carry F_SEAL_* seals */
	OBJ_HUGETLB,	/* hugetlbfs memory: MAP_HUGETLB ("/anon_hugepage (deleted)") or a
			   memfd_create(MFD_HUGETLB) file; frames from a pool, indexed by
			   huge page */
};

/* Memfd seals: Linux's F_SEAL_* values (fcntl(2)). */
#define OBJ_SEAL_SEAL		0x01u
#define OBJ_SEAL_SHRINK		0x02u
#define OBJ_SEAL_GROW		0x04u
#define OBJ_SEAL_WRITE		0x08u
#define OBJ_SEAL_FUTURE_WRITE	0x10u
#define OBJ_SEAL_EXEC		0x20u
#define OBJ_SEAL_ALL		0x3fu

/* memfd_create flags obj_memfd_create understands (Linux's MFD_* values). */
#define OBJ_MFD_ALLOW_SEALING	0x0002u
#define OBJ_MFD_NOEXEC_SEAL	0x0008u
#define OBJ_MFD_EXEC		0x0010u

/* Access of a host descriptor (obj_file_open's mode). */
enum { OBJ_FMODE_READ = 1, OBJ_FMODE_WRITE = 2 };

/*
 * What obj asks of swap for shmem and memfd objects (Linux's shmem_writeout and
 * shmem_swapin_folio), supplied by the layer that owns the swap area and the LRU lists
 * (mm, through obj_filecache_set_swap; obj sits below both). ctx is the supplier's. Each
 * call may take the swap, LRU and phys locks (leaves), never an object or mm lock; obj
 * makes them with the object's lock held.
 */
struct obj_swap_ops {
	/* A new slot holding the 4096 bytes at src, with one reference (the index's): the
	 * slot number, or -ENOSPC / -EIO with nothing allocated. */
	int64_t (*write_out)(void *ctx, const void *src);
	/* A frame holding the slot's bytes, with one reference for the caller: the swap
	 * cache's frame, else a new one read from the slot. 0, -ENOMEM or -EIO. */
	int (*read_in)(void *ctx, uint64_t slot, struct page **out);
	/* MADV_WILLNEED: reads the slot into the swap cache unless it is there or memory is
	 * short. 1 if it read the slot, else 0. */
	int (*prefetch)(void *ctx, uint64_t slot);
	/* 1 if the slot's data is in the swap cache (mincore), else 0. */
	int (*cached)(void *ctx, uint64_t slot);
	/* The slot's bytes into dst, changing nothing (core dumps). 0 or -EIO. */
	int (*peek)(void *ctx, uint64_t slot, void *dst);
	/* Drops the index's reference to the slot (the last one frees it and its cached
	 * frame). */
	void (*free)(void *ctx, uint64_t slot);
	/* References the slot holds now (for obj_check: an index entry is one). */
	unsigned (*count)(void *ctx, uint64_t slot);
	/* A frame entered a shmem index: it joins the LRU (the anon lists: swap-backed). */
	void (*lru_add)(void *ctx, struct page *pg);
};

/*
 * The system-wide page cache directory: host (dev, ino) -> the one OBJ_FILE object, so
 * every open of a file shares one set of cached pages (Linux's inode hash). Lock order:
 * mm->lock -> i_mmap_lock -> mm->ptl -> cache->lock -> vm_object.lock -> phys->lock.
 */
struct obj_filecache {
	pthread_mutex_t lock;		/* guards objs, nr_objs, members' cache_node and the
					   0 -> freed transition of members' refcounts */
	struct list_head objs;		/* OBJ_FILE objects, in creation order */
	uint64_t nr_objs;		/* length of objs; under lock */
	/* Shmem and memfd objects registered for swap (obj_shmem_register), so reclaim can
	 * tell a live owner from a stale pointer; same lock and 0 -> freed rule. */
	struct list_head shmem;		/* through cache_node; under lock */
	uint64_t nr_shmem;		/* length of shmem; under lock */
	const struct obj_swap_ops *swap;	/* NULL = shmem never swaps; set at start-up */
	void *swap_ctx;			/* the ops' ctx; set at start-up */
	struct kmem *km;		/* immutable */
	struct phys *ph;		/* immutable */
	atomic_uint_fast64_t now_ms;	/* simulated ms, from the last obj_writeback_expired */
};

struct vm_object {
	atomic_int refcount;		/* mappings and handles holding the object */
	enum obj_kind kind;		/* immutable */
	uint64_t size;			/* bytes; pages at index >= ceil(size/4096) do not exist;
					   written under lock (files, memfd); reads may race */
	uint64_t ino;			/* inode number shown in maps; immutable */
	unsigned dev_major, dev_minor;	/* device shown in maps; immutable */
	const char *name;		/* path shown in maps, or NULL; immutable: static storage,
					   or name_buf for files and memfds */
	struct phys *ph;		/* immutable */
	struct kmem *km;		/* immutable */
	pthread_mutex_t lock;		/* guards pages, nr_pages, the dirty state, seals,
					   host_fd/host_mode and size changes */
	struct pindex pages;		/* page index -> frame */
	uint64_t nr_pages;		/* frames in the index */

	/* Files and memfds. */
	char *name_buf;			/* owned storage of name (name_size bytes), or NULL */
	size_t name_size;
	int host_fd;			/* OBJ_FILE: the host descriptor pages are read from and
					   written back to; -1 otherwise; under lock */
	int host_mode;			/* OBJ_FMODE_* of host_fd; under lock */
	uint64_t host_dev, host_ino;	/* OBJ_FILE: host st_dev and st_ino; immutable */
	struct obj_filecache *cache;	/* OBJ_FILE: the cache it is in; immutable; else NULL */
	struct obj_filecache *dir;	/* shmem/memfd registered for swap: the directory that
					   lists it and supplies swap; else NULL; set once */
	struct list_head cache_node;	/* in cache->objs (files) or dir->shmem; under its lock */
	uint64_t nr_swapped;		/* shmem/memfd: swap entries in pages (Linux's
					   info->swapped); under lock */
	uint64_t nr_dirty;		/* frames with PG_dirty; under lock */
	uint64_t dirtied_ms;		/* cache clock when nr_dirty went 0 -> 1; under lock */
	unsigned seals;			/* OBJ_MEMFD: OBJ_SEAL_*; under lock */
	unsigned mode;			/* st_mode permission bits reported by fstat (memfd) */
	atomic_int nr_shared_writable;	/* VM_SHARED|VM_WRITE mappings (Linux's i_mmap_writable);
					   kept by mm through obj_map_writable_get/put */

	/* OBJ_HUGETLB. pages is indexed by huge page (index i covers bytes i << huge shift). */
	int hstate;			/* pool: 0 = 2 MiB, 1 = 1 GiB; immutable */
	int huge_memfd;			/* made by memfd_create(MFD_HUGETLB): memfd name, mode and
					   seals; immutable */
	struct pindex resv;		/* huge indices promised a pool page that have none yet
					   (Linux's resv_map regions less the pages present); the
					   entries are markers, never frames; under lock */
	uint64_t nr_resv;		/* entries in resv: pool pages this object holds reserved;
					   under lock */
	/* The VMAs that map this object (Linux's i_mapping->i_mmap), kept by mm. */
	pthread_mutex_t i_mmap_lock;	/* guards the two fields below */
	struct list_head i_mmap;	/* VMAs mapping the object, through vma.vm_obj_node */
	size_t nr_mmap;			/* length of i_mmap */
};

/* ---- object.c: lifetime and page lookup ---- */

/* A new shmem object of `size` bytes with no frames yet, one reference. NULL on -ENOMEM. */
struct vm_object *obj_shmem_create(struct kmem *km, struct phys *ph, uint64_t size, uint64_t ino);
/* A special object of npages frames filled from image (npages * 4096 bytes, may be NULL for
 * zeros). NULL on -ENOMEM. */
struct vm_object *obj_special_create(struct kmem *km, struct phys *ph, const char *name,
				     const void *image, uint64_t npages);
void obj_get(struct vm_object *o);
/* Drops a reference. The last one writes dirty file pages back to the host (errors are
 * lost, as at a last close), closes the host descriptor, takes a file object out of its
 * cache, and frees every frame in the index and the object. No PTE may map them. */
void obj_put(struct vm_object *o);

/* The frame at page `index` with an extra reference for the caller. Shmem and memfd
 * allocate a zeroed frame if absent and read a swapped-out page back (shmem_swapin_folio:
 * the swap entry gives way to the frame and the slot is freed); files read it from the
 * host (pread), zero-filling past EOF inside the last page. 0, -ENOMEM, -EIO (host or swap
 * read failed), or -EFAULT when index lies wholly beyond the object's size (the fault
 * handler raises SIGBUS). On failure the index is unchanged. */
int obj_get_page(struct vm_object *o, uint64_t index, struct page **out);
/* obj_get_page for a page fault: *major is set to 1 when the page had to be read from the
 * host file or from swap (not the swap cache), Linux's VM_FAULT_MAJOR, else 0. */
int obj_fault_page(struct vm_object *o, uint64_t index, struct page **out, int *major);
/* The frame at `index` if present (no reference taken), else NULL. Caller holds o->lock
 * or knows the frame cannot go away. */
struct page *obj_peek_page(struct vm_object *o, uint64_t index);

/* The walk of filemap_map_pages (next_uptodate_folio): calls fn(ctx, index, pg) under
 * o->lock, in index order, for every frame already in the index at [first, last] and below
 * EOF that may be mapped as it is (not PG_hwpoison or PG_offline). Nothing is read from the
 * host or allocated, and no reference is taken: fn takes its own if it keeps the frame. fn
 * may take locks below the object's (phys, lru). Stops at fn's first non-zero, which it
 * returns; else 0. */
int obj_for_each_cached(struct vm_object *o, uint64_t first, uint64_t last,
			int (*fn)(void *ctx, uint64_t index, struct page *pg), void *ctx);

/* Checks that every indexed frame names this object and index, the frame, swap entry and
 * dirty counters, the i_mmap list, and each kind's rules (file frames never PG_shmem, swap
 * entries only in registered shmem, each naming a live slot, memfd seals within
 * OBJ_SEAL_ALL); returns the number of problems. */
int obj_check(struct vm_object *o);

/* ---- shmem swap (object.c, shmem_swap.c) ---- */

/* Makes c's shmem objects swappable through ops (ctx passed to each). Once, at start-up. */
void obj_filecache_set_swap(struct obj_filecache *c, const struct obj_swap_ops *ops, void *ctx);
/* Lists a new shmem or memfd object in c, so its frames join the LRU and may be swapped
 * out. Once per object, before anything maps it; never fails. */
void obj_shmem_register(struct obj_filecache *c, struct vm_object *o);
/* o with a new reference if it is still a live object listed in c (a file or a registered
 * shmem object), else NULL: o may be a stale pointer read from a frame, and is compared,
 * never dereferenced, until found. */
struct vm_object *obj_filecache_find(struct obj_filecache *c, const struct vm_object *o);
/* shmem_writeout: pg, a frame of o that nobody maps and only the index and the caller
 * hold, is written to a new swap slot that takes its place in the index; the index's
 * reference on pg is dropped (the caller's put then frees it). 0, -EAGAIN (pg is no longer
 * o's, is mapped or held by someone else), -ENOSPC (no slot, or o cannot swap), -EIO. */
int obj_shmem_swap_out(struct vm_object *o, struct page *pg);
/* Swap entries among pages [first, last] (smaps' Swap for shmem mappings). */
uint64_t obj_swapped_pages(struct vm_object *o, uint64_t first, uint64_t last);
/* mincore of an object page: 1 if a frame holds it or it is swapped out and its slot is
 * in the swap cache, else 0. */
int obj_page_resident(struct vm_object *o, uint64_t index);
/* The bytes of page index into buf without allocating or swapping anything in (core
 * dumps): 1 if a frame or a swap slot held them, 0 for a hole (buf untouched), -EIO. */
int obj_peek_copy(struct vm_object *o, uint64_t index, void *buf);

/* ---- file.c: host files ---- */

/* The cached object of the host file open at hostfd, with a new reference: found by
 * (st_dev, st_ino) or created (size = st_size, name = path, dev and ino from the host).
 * mode (OBJ_FMODE_*) is hostfd's access; the object keeps its own descriptor, upgraded
 * to read-write when it can be (reopened through /proc/self/fd). hostfd stays the
 * caller's. NULL with *err = -ENOMEM, -EIO or -EINVAL (not a regular file); nothing
 * changed on failure. */
struct vm_object *obj_file_open(struct obj_filecache *c, int hostfd, int mode, const char *path,
				int *err);
/* 1 if the host file has been unlinked (fstat st_nlink == 0), else 0. Non-file objects:
 * 0 (their names already say "(deleted)"). */
int obj_is_deleted(struct vm_object *o);
/* Writes the name /proc/PID/maps shows into buf (NUL-terminated, truncated to size):
 * o->name, plus " (deleted)" for an unlinked host file. Returns buf, or NULL when the
 * object has no name. */
const char *obj_map_name(struct vm_object *o, char *buf, size_t size);

/* ---- filecache.c: the cache directory and the writeback daemon step ---- */

void obj_filecache_init(struct obj_filecache *c, struct kmem *km, struct phys *ph);
/* Tears the cache down. Every object must already be gone (their last obj_put removes
 * them); returns the number still cached (0 = nothing leaked), which it does not free. */
uint64_t obj_filecache_destroy(struct obj_filecache *c);
/* One step of background writeback (DirtyExpireCentisecs): sets the cache clock to
 * now_ms, then writes back every cached file whose oldest dirty page is at least
 * expire_ms old. Returns the pages written (errors leave pages dirty for a later step). */
uint64_t obj_writeback_expired(struct obj_filecache *c, uint64_t now_ms, uint64_t expire_ms);
/* The files that obj_writeback_expired(c, now_ms, expire_ms) would write now: up to max
 * of them into out, each with a reference the caller puts. Returns how many. So mm can
 * write-protect their mappings first (page_mkclean), before the writeback clears them. */
size_t obj_filecache_expired(struct obj_filecache *c, uint64_t now_ms, uint64_t expire_ms,
			     struct vm_object **out, size_t max);
/* Calls fn on every cached object under cache->lock (fn must not take it or put the
 * object); stops at fn's first non-zero, which it returns. */
int obj_filecache_for_each(struct obj_filecache *c, int (*fn)(void *ctx, struct vm_object *o),
			   void *ctx);

/* ---- pagecache.c: read, write, dirty, writeback, truncate ---- */

/* Reads up to nr absent pages after `index` into the cache (files only; others: 0). Stops
 * at EOF or the first failure. Returns the pages read. */
int obj_readahead(struct vm_object *o, uint64_t index, uint64_t nr);
/* The same for the pages [first, first + nr): MADV_WILLNEED's read-in
 * (force_page_cache_readahead); for shmem and memfd, the swapped-out pages of the range
 * are read into the swap cache, left swapped in the index (shmem_swapin_range). */
int obj_read_range(struct vm_object *o, uint64_t first, uint64_t nr);
/* Marks a cached frame of o dirty (files only: PG_dirty and, on the first dirty page, the
 * dirty timestamp the expiry daemon reads). Shmem and memfd have no backing store: no-op. */
void obj_page_dirty(struct vm_object *o, struct page *pg);
/* Writes the dirty pages of [first, last] (page indices, inclusive) to the host file, never
 * past EOF, and clears their dirty state; sync also flushes the host file (fdatasync).
 * 0, or -EIO with the failed pages still dirty. Non-file objects: 0. */
int obj_writeback(struct vm_object *o, uint64_t first, uint64_t last, int sync);
/* Copies the dirty pages of [first, last] to the host file (below EOF) but leaves them
 * dirty and untouched, tail past EOF included: munmap and exit make shared writes reach
 * the host (SPEC §3), while on Linux the folios only stay dirty until a real writeback
 * (which obj_writeback then is). 0, or -EIO. Non-file objects: 0. */
int obj_copy_out_dirty(struct vm_object *o, uint64_t first, uint64_t last);
/* Drops the clean frames of [first, last] that nobody maps or holds (mapcount 0,
 * refcount 1). Returns the number dropped. */
uint64_t obj_invalidate(struct vm_object *o, uint64_t first, uint64_t last);
/* Sets the size (files: host ftruncate first), zeroes the tail of a now-partial last page,
 * and drops the frames beyond the new EOF that nobody maps (the caller zaps mappings with
 * mm_unmap_object_range and then calls obj_truncate_pages to drop the rest).
 * 0, -EPERM (memfd SHRINK/GROW seal), -EIO (host failure), -EINVAL (special object, or a
 * hugetlb size that is not a multiple of the huge size); nothing changed on failure. A
 * hugetlb object also gives back the reservations beyond the new size. */
int obj_truncate(struct vm_object *o, uint64_t new_size);
/* Drops frames from page `first` on that nobody maps; dirty state is discarded. (first
 * counts 4 KiB pages for every kind; a hugetlb object's is huge-aligned.) */
void obj_truncate_pages(struct vm_object *o, uint64_t first);
/* Punches a hole over pages [first, last] (FALLOC_FL_PUNCH_HOLE|KEEP_SIZE): host files
 * deallocate the bytes on the host, and the frames of the range that nobody maps leave
 * the index (the caller zaps mappings first), so the hole reads back as zeroes. A hugetlb
 * object punches only the huge pages wholly inside and drops their reservations. 0,
 * -EOPNOTSUPP (special object, or the host cannot punch), -EIO; on failure nothing
 * changed. */
int obj_punch_hole(struct vm_object *o, uint64_t first, uint64_t last);
/* A partial page at an edge of a fallocate hole, bytes [start, end) within one page: a
 * host file punches them on the host; the cached page (a swapped-out shmem page is read
 * back first) has them zeroed, allocating nothing and dirtying nothing. 0, or
 * -EOPNOTSUPP / -EIO from the host with nothing changed. */
int obj_punch_edge(struct vm_object *o, uint64_t start, uint64_t end);
/* fallocate's allocation (modes 0 and FALLOC_FL_KEEP_SIZE) of bytes [off, off + len):
 * files ask the host (mode passed through), shmem and memfd get every page of the range
 * in memory (past EOF too with keep_size, where they count in st_blocks, shmem_fallocate),
 * hugetlb objects whole huge pages (obj_hugetlb_fallocate); without keep_size the size
 * grows to off + len. 0, -EPERM (memfd GROW seal past EOF, even with keep_size), -ENOMEM
 * (the size is put back), -ENOSPC (hugetlb pool), -EIO / the host's -EOPNOTSUPP /
 * -ENOSPC / -EFBIG. */
int obj_fallocate(struct vm_object *o, int mode, uint64_t off, uint64_t len);
/* Puts `new` (one reference, which passes to the index; contents already copied) in the
 * place of `old` at index, moving the dirty state and dropping the index's reference on
 * old, which keeps its owner fields for the PTEs still mapping it (MADV_SOFT_OFFLINE's
 * migration); with new NULL, only takes old out of the index (memory_failure's
 * truncation). 0, or -EAGAIN when old is no longer there (nothing
 * changed). */
int obj_replace_page(struct vm_object *o, uint64_t index, struct page *old, struct page *new);
/* Copies up to len bytes at byte off from the object into buf, stopping at EOF.
 * Returns the bytes copied (0 at or past EOF), or -errno if nothing was. */
long obj_pread(struct vm_object *o, uint64_t off, void *buf, size_t len);
/* Copies len bytes from buf into the object at off, growing the size, marking file pages
 * dirty. Memfd seals: WRITE/FUTURE_WRITE -> -EPERM, GROW past the size -> -EPERM; hugetlb
 * objects have no write(2) (hugetlbfs has no write_iter): -EINVAL.
 * Returns the bytes copied (short only on a failure after some bytes), or -errno. */
long obj_pwrite(struct vm_object *o, uint64_t off, const void *buf, size_t len);

/* ---- memfd.c ---- */

/* A new empty memfd named "/memfd:NAME (deleted)" (dev 00:01, the given inode), mode
 * 0777 (0666 with NOEXEC_SEAL). Without ALLOW_SEALING it carries F_SEAL_SEAL; NOEXEC_SEAL
 * implies ALLOW_SEALING and adds F_SEAL_EXEC. NULL with *err = -ENOMEM. */
struct vm_object *obj_memfd_create(struct kmem *km, struct phys *ph, const char *name,
				   unsigned mfd_flags, uint64_t ino, int *err);
/* A new empty memfd_create(MFD_HUGETLB) file on pool h: a hugetlb object with a memfd's
 * name, mode and seals (dev 00:11, the hugetlbfs mount). NULL with *err = -ENOMEM. */
struct vm_object *obj_hugetlb_memfd_create(struct kmem *km, struct phys *ph, int h,
					   const char *name, unsigned mfd_flags, uint64_t ino,
					   int *err);
/* Is o a memfd (shmem or hugetlb), the objects that carry seals? */
int obj_is_memfd(const struct vm_object *o);
/* F_ADD_SEALS after the caller's access check: -EINVAL (unknown bits, or not a memfd),
 * -EPERM (already F_SEAL_SEAL), -EBUSY (WRITE, or EXEC on an executable memfd which
 * implies the write seals, while writable shared mappings exist). 0 on success; nothing
 * changed on failure. */
int obj_add_seals(struct vm_object *o, unsigned seals);
/* F_GET_SEALS: the seals, or -EINVAL for a non-memfd. */
int obj_get_seals(struct vm_object *o);
/* A new VM_SHARED|VM_WRITE mapping of o: -EPERM if a WRITE or FUTURE_WRITE seal forbids
 * it, else 0 with nr_shared_writable raised. Pairs with obj_map_writable_put. */
int obj_map_writable_get(struct vm_object *o);
void obj_map_writable_put(struct vm_object *o);

/* ---- hugetlb.c: hugetlbfs objects (MAP_HUGETLB and MFD_HUGETLB) ---- */
/* The object behind a hugetlb mapping of `size` bytes (a multiple of the huge size) from
 * pool h. A shared one reserves its pages now unless noreserve: NULL with *err = -ENOMEM
 * when the pool is short. Private mappings reserve in mm; their object only names them. */
struct vm_object *obj_hugetlb_create(struct kmem *km, struct phys *ph, int h, uint64_t size,
				     int shared, int noreserve, uint64_t ino, int *err);
/* Bytes of one huge page of o. */
uint64_t obj_huge_size(const struct vm_object *o);
/* Reserves pool pages for the huge indices [first, first + n) that have neither a frame nor
 * a reservation yet (hugetlb_reserve_pages of a shared mapping, region_chg + region_add):
 * 0, or -ENOMEM when the pool is short, with nothing changed (or, rarely, when the index
 * cannot grow: the marks made so far then stay, counted and released with the object). */
int obj_hugetlb_reserve(struct vm_object *o, uint64_t first, uint64_t n);
/* The huge frame at huge index `index`, with a reference for the caller. When absent it
 * is allocated if alloc (from the index's reservation when it has one), else -ENOENT.
 * 0, -ENOMEM (pool empty: the fault raises SIGBUS), or -EFAULT at or beyond the size
 * rounded down to huge pages. */
int obj_hugetlb_get_page(struct vm_object *o, uint64_t index, int alloc, struct page **out);
/* Punches bytes [start, end) of a hugetlb object (hugetlbfs_punch_hole): the huge pages
 * wholly inside leave the index with their reservations (the caller zaps their mappings
 * first), the partial ones at the edges are zeroed over the range. 0, or -EPERM under a
 * WRITE or FUTURE_WRITE seal. obj_punch_hole of a hugetlb object lands here. */
int obj_hugetlb_punch(struct vm_object *o, uint64_t start, uint64_t end);
/* Raises the size to `size` bytes if it is smaller (a writable mmap past EOF,
 * hugetlbfs_file_mmap). Never fails; no seal is checked (hugetlbfs_file_mmap checks none). */
void obj_hugetlb_grow(struct vm_object *o, uint64_t size);
/* Allocates the huge pages over bytes [off, off + len) that are absent (hugetlbfs_fallocate),
 * then, unless keep_size, grows the size to off + len. 0, -EPERM (F_SEAL_GROW and the range
 * reaches past EOF, even with keep_size), -ENOSPC (the pool ran dry: the pages allocated so far stay). */
int obj_hugetlb_fallocate(struct vm_object *o, uint64_t off, uint64_t len, int keep_size);

/* ---- i_mmap: the VMAs mapping an object (object.c) ---- */

/* Adds v to o->i_mmap. The list is intrusive (vma.vm_obj_node), so this never fails. */
void obj_link_vma(struct vm_object *o, struct vma *v);
/* Removes v from o->i_mmap (it must be there). Never fails. */
void obj_unlink_vma(struct vm_object *o, struct vma *v);

#endif
