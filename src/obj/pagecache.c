/*
 * The page cache proper: byte-granular read and write through an object's frames (so
 * read/write and mapped views of a file always agree), dirty tracking with the per-object
 * timestamp writeback expiry reads (Linux's inode dirtied_when), writeback to the host,
 * readahead, invalidation and truncation. Never writes past EOF, never drops a frame a
 * PTE maps or someone else holds, and never touches a page table.
 */
#include "obj/obj_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <unistd.h>

#include "lib/pm_assert.h"

int obj_readahead(struct vm_object *o, uint64_t index, uint64_t nr)
{
	return o->kind == OBJ_FILE ? obj_read_range(o, index + 1, nr) : 0;
}

int obj_read_range(struct vm_object *o, uint64_t first, uint64_t nr)
{
	int done = 0;
	if ((o->kind == OBJ_SHMEM || o->kind == OBJ_MEMFD) && nr) {
		pthread_mutex_lock(&o->lock);
		done = obj_prefetch_swap_locked(o, first, first + nr - 1);
		pthread_mutex_unlock(&o->lock);
		return done;
	}
	if (o->kind != OBJ_FILE)
		return 0;
	pthread_mutex_lock(&o->lock);
	for (uint64_t i = first; i < first + nr && i < obj_size_pages(o); i++) {
		struct page *pg;
		if (pindex_get(&o->pages, i))
			continue;
		if (obj_file_read_page_locked(o, i, &pg))
			break;
		phys_put(o->ph, pg);	/* the index keeps its own reference */
		done++;
	}
	pthread_mutex_unlock(&o->lock);
	return done;
}

static void page_dirty_locked(struct vm_object *o, struct page *pg)
{
	if (pg->flags & PG_dirty)
		return;
	pg->flags |= PG_dirty;
	if (o->nr_dirty++ == 0)
		o->dirtied_ms = atomic_load(&o->cache->now_ms);
}

void obj_page_dirty(struct vm_object *o, struct page *pg)
{
	if (o->kind != OBJ_FILE)
		return;
	PM_ASSERT(pg->owner == o);
	pthread_mutex_lock(&o->lock);
	page_dirty_locked(o, pg);
	pthread_mutex_unlock(&o->lock);
}

void obj_clear_dirty_locked(struct vm_object *o, struct page *pg)
{
	if (!(pg->flags & PG_dirty))
		return;
	pg->flags &= ~PG_dirty;
	PM_ENFORCE(o->nr_dirty > 0);
	o->nr_dirty--;
}

/* pwrite of one frame's bytes below EOF; the frame is left as it is. 0 or -EIO. */
static int copy_out_page(struct vm_object *o, uint64_t index, struct page *pg)
{
	uint64_t off = index * PAGE_SIZE;
	size_t want = (size_t)min_u64(PAGE_SIZE, o->size - off), done = 0;
	uint8_t *src = page_address(o->ph, pg);
	while (done < want) {
		ssize_t n = pwrite(o->host_fd, src + done, want - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Writeback of one frame. The page that straddles EOF has its tail zeroed first, as
 * Linux's writepage does (the tail may be mapped and written, and must never reach the
 * file): after writeback, stores past EOF read back as zero. 0 or -EIO. */
static int write_page(struct vm_object *o, uint64_t index, struct page *pg)
{
	uint64_t off = index * PAGE_SIZE;
	size_t want = (size_t)min_u64(PAGE_SIZE, o->size - off);
	if (want < PAGE_SIZE)
		memset((uint8_t *)page_address(o->ph, pg) + want, 0, PAGE_SIZE - want);
	return copy_out_page(o, index, pg);
}

int obj_writeback_locked(struct vm_object *o, uint64_t first, uint64_t last)
{
	int err = 0;
	uint64_t i;
	if (o->kind != OBJ_FILE || !o->nr_dirty)
		return 0;
	for (struct page *pg = pindex_next(&o->pages, first, &i); pg && i <= last && o->nr_dirty;
	     pg = i == UINT64_MAX ? NULL : pindex_next(&o->pages, i + 1, &i)) {
		if (!(pg->flags & PG_dirty) || i >= obj_size_pages(o))
			continue;
		if (write_page(o, i, pg))
			err = -EIO;
		else
			obj_clear_dirty_locked(o, pg);
	}
	return err;
}

int obj_copy_out_dirty(struct vm_object *o, uint64_t first, uint64_t last)
{
	int err = 0;
	uint64_t i;
	if (o->kind != OBJ_FILE)
		return 0;
	pthread_mutex_lock(&o->lock);
	for (struct page *pg = o->nr_dirty ? pindex_next(&o->pages, first, &i) : NULL;
	     pg && i <= last; pg = i == UINT64_MAX ? NULL : pindex_next(&o->pages, i + 1, &i))
		if ((pg->flags & PG_dirty) && i < obj_size_pages(o) && copy_out_page(o, i, pg))
			err = -EIO;
	pthread_mutex_unlock(&o->lock);
	return err;
}

int obj_writeback(struct vm_object *o, uint64_t first, uint64_t last, int sync)
{
	if (o->kind != OBJ_FILE)
		return 0;
	pthread_mutex_lock(&o->lock);
	int err = obj_writeback_locked(o, first, last);
	if (!err && sync && fdatasync(o->host_fd))
		err = -EIO;
	pthread_mutex_unlock(&o->lock);
	return err;
}

/* Takes the index's frame at i out of the index and drops the index's reference. */
static void drop_page_locked(struct vm_object *o, uint64_t i, struct page *pg)
{
	obj_clear_dirty_locked(o, pg);
	pindex_set(&o->pages, i, NULL);	/* erasing never allocates, never fails */
	o->nr_pages--;
	if (o->kind == OBJ_SHMEM || o->kind == OBJ_MEMFD)
		atomic_fetch_sub(&o->ph->nr_shmem, 1);
	pg->flags &= ~PG_shmem;
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	phys_put(o->ph, pg);
}

uint64_t obj_invalidate(struct vm_object *o, uint64_t first, uint64_t last)
{
	uint64_t i, dropped = 0;
	if (o->kind == OBJ_SPECIAL)
		return 0;
	pthread_mutex_lock(&o->lock);
	for (struct page *pg = pindex_next(&o->pages, first, &i); pg && i <= last;
	     pg = i == UINT64_MAX ? NULL : pindex_next(&o->pages, i + 1, &i)) {
		if ((pg->flags & PG_dirty) || atomic_load(&pg->mapcount) ||
		    atomic_load(&pg->refcount) != 1)
			continue;
		if (o->kind != OBJ_FILE)
			continue;	/* shmem frames are the only copy of their data */
		drop_page_locked(o, i, pg);
		dropped++;
	}
	pthread_mutex_unlock(&o->lock);
	return dropped;
}

int obj_punch_hole(struct vm_object *o, uint64_t first, uint64_t last)
{
	uint64_t i;
	if (o->kind == OBJ_SPECIAL)
		return -EOPNOTSUPP;
	if (o->kind == OBJ_HUGETLB)
		return obj_hugetlb_punch(o, first << PAGE_SHIFT,
					 last >= UINT64_MAX >> PAGE_SHIFT ? UINT64_MAX : (last + 1) << PAGE_SHIFT);
	pthread_mutex_lock(&o->lock);
	if (o->kind == OBJ_FILE &&
	    fallocate(o->host_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(first << PAGE_SHIFT), (off_t)((last - first + 1) << PAGE_SHIFT))) {
		int err = errno == EOPNOTSUPP ? -EOPNOTSUPP : -EIO;
		pthread_mutex_unlock(&o->lock);
		return err;
	}
	for (struct page *pg = pindex_next(&o->pages, first, &i); pg && i <= last;
	     pg = i == UINT64_MAX ? NULL : pindex_next(&o->pages, i + 1, &i))
		if (!atomic_load(&pg->mapcount))
			drop_page_locked(o, i, pg);	/* the hole reads back as zeroes */
	obj_drop_swap_locked(o, first, last);	/* and swapped-out pages free their slots */
	pthread_mutex_unlock(&o->lock);
	return 0;
}

int obj_replace_page(struct vm_object *o, uint64_t index, struct page *old, struct page *new)
{
	pthread_mutex_lock(&o->lock);
	if (pindex_get(&o->pages, index) != old) {
		pthread_mutex_unlock(&o->lock);
		return -EAGAIN;
	}
	if (new) {
		pindex_set(&o->pages, index, new);	/* the slot exists: never allocates */
		new->flags |= old->flags & (PG_shmem | PG_dirty);
		new->owner_kind = OWNER_OBJECT;
		new->owner = o;
		new->index = index;
		/* new inherits the dirty count; old keeps naming o for the PTEs that still map
		 * it, so the caller's zap finds and uncounts them. */
		old->flags &= ~PG_dirty;
		phys_put(o->ph, old);
		if (new->flags & PG_shmem)
			obj_shmem_lru_add(o, new);	/* reclaimable as the old one was */
	} else {
		drop_page_locked(o, index, old);
	}
	pthread_mutex_unlock(&o->lock);
	return 0;
}

static void truncate_pages_locked(struct vm_object *o, uint64_t first)
{
	uint64_t i;
	for (struct page *pg = pindex_next(&o->pages, first, &i); pg;
	     pg = i == UINT64_MAX ? NULL : pindex_next(&o->pages, i + 1, &i))
		if (!atomic_load(&pg->mapcount))
			drop_page_locked(o, i, pg);
	obj_drop_swap_locked(o, first, UINT64_MAX);
}

void obj_truncate_pages(struct vm_object *o, uint64_t first)
{
	if (o->kind == OBJ_HUGETLB)
		first >>= phys_huge_order(o->hstate);	/* its index counts huge pages */
	pthread_mutex_lock(&o->lock);
	truncate_pages_locked(o, first);
	pthread_mutex_unlock(&o->lock);
}

/* The seal rules of a size change (shmem_setattr): SHRINK forbids smaller, GROW bigger. */
static int size_change_allowed(const struct vm_object *o, uint64_t new_size)
{
	if (o->kind != OBJ_MEMFD)
		return 0;
	if ((new_size < o->size && (o->seals & OBJ_SEAL_SHRINK)) ||
	    (new_size > o->size && (o->seals & OBJ_SEAL_GROW)))
		return -EPERM;
	return 0;
}

int obj_truncate(struct vm_object *o, uint64_t new_size)
{
	if (o->kind == OBJ_SPECIAL)
		return -EINVAL;
	if (o->kind == OBJ_HUGETLB)
		return obj_hugetlb_truncate(o, new_size);
	pthread_mutex_lock(&o->lock);
	int err = size_change_allowed(o, new_size);
	if (!err && o->kind == OBJ_FILE && ftruncate(o->host_fd, (off_t)new_size))
		err = errno == EFBIG ? -EFBIG : -EIO;
	if (err) {
		pthread_mutex_unlock(&o->lock);
		return err;
	}
	uint64_t old = o->size;
	o->size = new_size;
	if (new_size < old) {
		/* Bytes past the new EOF in the last page must read back as zero if the file
		 * grows again (Linux's truncate_inode_pages zeroes the partial page). */
		uint64_t part = new_size / PAGE_SIZE, slot;
		struct page *pg = (new_size & (PAGE_SIZE - 1)) ? pindex_get(&o->pages, part) : NULL;
		/* A swapped-out partial page is read back to be zeroed (shmem_get_partial_folio);
		 * if that fails the tail stays in the slot, as Linux gives up on it too. */
		if ((new_size & (PAGE_SIZE - 1)) && !pg && pindex_get_swap(&o->pages, part, &slot) &&
		    !obj_swapin_locked(o, part, slot, &pg))
			phys_put(o->ph, pg);	/* the index keeps its reference */
		if (pg)
			memset((uint8_t *)page_address(o->ph, pg) + (new_size & (PAGE_SIZE - 1)), 0,
			       PAGE_SIZE - (new_size & (PAGE_SIZE - 1)));
		truncate_pages_locked(o, obj_size_pages(o));
	}
	pthread_mutex_unlock(&o->lock);
	return 0;
}

long obj_pread(struct vm_object *o, uint64_t off, void *buf, size_t len)
{
	if (o->kind == OBJ_HUGETLB)
		return obj_hugetlb_pread(o, off, buf, len);
	size_t done = 0;
	pthread_mutex_lock(&o->lock);
	while (done < len && off + done < o->size) {
		uint64_t pos = off + done;
		size_t in = (size_t)(pos & (PAGE_SIZE - 1));
		size_t n = (size_t)min_u64(min_u64(PAGE_SIZE - in, len - done), o->size - pos);
		struct page *pg;
		int err = obj_get_page_locked(o, pos / PAGE_SIZE, &pg);
		if (err) {
			pthread_mutex_unlock(&o->lock);
			return done ? (long)done : err;
		}
		memcpy((uint8_t *)buf + done, (uint8_t *)page_address(o->ph, pg) + in, n);
		phys_put(o->ph, pg);
		done += n;
	}
	pthread_mutex_unlock(&o->lock);
	return (long)done;
}

/* The seal rules of a write (shmem_write_begin), checked per page as Linux does. */
static int write_allowed(const struct vm_object *o, uint64_t end)
{
	if (o->kind == OBJ_SPECIAL || o->kind == OBJ_HUGETLB)
		return -EINVAL;	/* hugetlbfs has no write_iter */
	if (o->kind != OBJ_MEMFD)
		return 0;
	if (o->seals & (OBJ_SEAL_WRITE | OBJ_SEAL_FUTURE_WRITE))
		return -EPERM;
	if ((o->seals & OBJ_SEAL_GROW) && end > o->size)
		return -EPERM;
	return 0;
}

long obj_pwrite(struct vm_object *o, uint64_t off, const void *buf, size_t len)
{
	size_t done = 0;
	pthread_mutex_lock(&o->lock);
	while (done < len) {
		uint64_t pos = off + done;
		size_t in = (size_t)(pos & (PAGE_SIZE - 1));
		size_t n = (size_t)min_u64(PAGE_SIZE - in, len - done);
		uint64_t old_size = o->size;
		int err = write_allowed(o, pos + n);
		struct page *pg = NULL;
		if (!err) {
			if (pos + n > o->size)
				o->size = pos + n;
			err = obj_get_page_locked(o, pos / PAGE_SIZE, &pg);
		}
		if (err) {
			o->size = old_size;
			pthread_mutex_unlock(&o->lock);
			return done ? (long)done : err;
		}
		memcpy((uint8_t *)page_address(o->ph, pg) + in, (const uint8_t *)buf + done, n);
		if (o->kind == OBJ_FILE)
			page_dirty_locked(o, pg);
		phys_put(o->ph, pg);
		done += n;
	}
	pthread_mutex_unlock(&o->lock);
	return (long)done;
}

int obj_punch_edge(struct vm_object *o, uint64_t start, uint64_t end)
{
	uint64_t i = start / PAGE_SIZE, slot;
	if (start >= end)
		return 0;
	PM_ENFORCE((end - 1) / PAGE_SIZE == i);
	pthread_mutex_lock(&o->lock);
	if (o->kind == OBJ_FILE && fallocate(o->host_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					     (off_t)start, (off_t)(end - start))) {
		int err = errno == EOPNOTSUPP ? -EOPNOTSUPP : -EIO;
		pthread_mutex_unlock(&o->lock);
		return err;
	}
	struct page *pg = pindex_get(&o->pages, i);
	/* shmem_get_partial_folio reads a swapped page back to zero its part. */
	if (!pg && o->nr_swapped && pindex_get_swap(&o->pages, i, &slot) &&
	    !obj_swapin_locked(o, i, slot, &pg))
		phys_put(o->ph, pg);	/* the index keeps its reference */
	if (pg)
		memset((uint8_t *)page_address(o->ph, pg) + (start & (PAGE_SIZE - 1)), 0, end - start);
	pthread_mutex_unlock(&o->lock);
	return 0;
}

int obj_fallocate(struct vm_object *o, int mode, uint64_t off, uint64_t len)
{
	int keep = mode & FALLOC_FL_KEEP_SIZE, err = 0;
	uint64_t end = off + len;
	if (o->kind == OBJ_HUGETLB)
		return obj_hugetlb_fallocate(o, off, len, keep);
	if (o->kind != OBJ_FILE && o->kind != OBJ_MEMFD && o->kind != OBJ_SHMEM)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&o->lock);
	if (o->kind == OBJ_FILE) {
		if (fallocate(o->host_fd, mode, (off_t)off, (off_t)len))
			err = errno == EOPNOTSUPP || errno == ENOSPC || errno == EFBIG ? -errno : -EIO;
		if (!err && !keep && end > o->size)
			o->size = end;	/* the host file grew with it */
		pthread_mutex_unlock(&o->lock);
		return err;
	}
	if (o->kind == OBJ_MEMFD && (o->seals & OBJ_SEAL_GROW) && end > o->size) {
		pthread_mutex_unlock(&o->lock);
		return -EPERM;
	}
	/* shmem_fallocate allocates the whole range, past EOF too under KEEP_SIZE (the pages
	 * count in st_blocks): the size is raised for the lookups and put back after. */
	uint64_t old_size = o->size;
	if (end > o->size)
		o->size = end;
	for (uint64_t i = off / PAGE_SIZE; i * PAGE_SIZE < end; i++) {
		struct page *pg;
		if ((err = obj_get_page_locked(o, i, &pg)))
			break;
		phys_put(o->ph, pg);	/* the index keeps its own */
	}
	if (err && o->size != old_size) {
		o->size = old_size;	/* the size changes only on success, as Linux's */
		truncate_pages_locked(o, obj_size_pages(o));
	} else if (keep) {
		o->size = old_size;
	}
	pthread_mutex_unlock(&o->lock);
	return err;
}
