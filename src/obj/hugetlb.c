/*
 * hugetlbfs objects: MAP_HUGETLB memory (Linux's anonymous hugetlbfs files) and
 * memfd_create(MFD_HUGETLB) files. They hold shared huge frames by huge-page index, and
 * the pool reservations of the indices that shared mappings were promised (Linux's
 * resv_map, less the pages already present), so a mapping made now never lacks its page
 * later. Frames come from phys's pools and go back there on the last put. Private
 * mappings keep their own frames in their page tables, and their reservations in mm.
 * This file never touches page tables: mm zaps before anything here drops a frame.
 */
#include "obj/object.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"
#include "obj/obj_internal.h"

/* A resv entry only marks an index: the descriptor of PFN 0, which never names a frame. */
#define RESV_MARK(o)	(&(o)->ph->pages[0])

static unsigned huge_shift(const struct vm_object *o)
{
	return PAGE_SHIFT + phys_huge_order(o->hstate);
}

uint64_t obj_huge_size(const struct vm_object *o) { return 1ULL << huge_shift(o); }

struct vm_object *obj_hugetlb_create(struct kmem *km, struct phys *ph, int h, uint64_t size,
				     int shared, int noreserve, uint64_t ino, int *err)
{
	*err = -ENOMEM;
	struct vm_object *o = obj_shmem_create(km, ph, size, ino);
	if (!o)
		return NULL;
	o->kind = OBJ_HUGETLB;
	o->name = "/anon_hugepage (deleted)";
	o->dev_major = 0;
	o->dev_minor = 0x11;	/* the internal hugetlbfs mount, as Linux numbers it */
	o->hstate = h;
	pindex_init(&o->resv, km);
	if (shared && !noreserve && size) {
		*err = obj_hugetlb_reserve(o, 0, size >> huge_shift(o));
		if (*err) {
			obj_put(o);
			return NULL;
		}
	}
	*err = 0;
	return o;
}

/* Takes the marks of [first, first + n) out of resv; returns how many there were. */
static uint64_t unmark_locked(struct vm_object *o, uint64_t first, uint64_t n)
{
	uint64_t i, dropped = 0;
	for (struct page *m = pindex_next(&o->resv, first, &i); m && i - first < n;
	     m = i == UINT64_MAX ? NULL : pindex_next(&o->resv, i + 1, &i)) {
		pindex_set(&o->resv, i, NULL);	/* erasing never allocates, never fails */
		dropped++;
	}
	o->nr_resv -= dropped;
	return dropped;
}

int obj_hugetlb_reserve(struct vm_object *o, uint64_t first, uint64_t n)
{
	pthread_mutex_lock(&o->lock);
	uint64_t need = 0;
	for (uint64_t i = first; i - first < n; i++)
		need += !pindex_get(&o->pages, i) && !pindex_get(&o->resv, i);
	int err = need ? phys_huge_reserve(o->ph, o->hstate, need) : 0;
	for (uint64_t i = first; !err && i - first < n; i++) {
		if (pindex_get(&o->pages, i) || pindex_get(&o->resv, i))
			continue;
		err = pindex_set(&o->resv, i, RESV_MARK(o));
		if (err) {
			/* The marks set so far stay, counted and promised; only the rest goes. */
			phys_huge_unreserve(o->ph, o->hstate, need);
			need = 0;
			break;
		}
		o->nr_resv++;
		need--;
	}
	PM_ENFORCE(err || need == 0);
	pthread_mutex_unlock(&o->lock);
	return err;
}

int obj_hugetlb_get_page(struct vm_object *o, uint64_t index, int alloc, struct page **out)
{
	*out = NULL;
	pthread_mutex_lock(&o->lock);
	if (index >= o->size >> huge_shift(o)) {
		pthread_mutex_unlock(&o->lock);
		return -EFAULT;	/* hugetlb_fault: beyond i_size (rounded down) is SIGBUS */
	}
	struct page *pg = pindex_get(&o->pages, index);
	if (!pg && !alloc) {
		pthread_mutex_unlock(&o->lock);
		return -ENOENT;
	}
	if (!pg) {
		int reserved = pindex_get(&o->resv, index) != NULL;
		pg = phys_huge_alloc(o->ph, o->hstate, reserved);
		if (pg && pindex_set(&o->pages, index, pg)) {
			phys_put(o->ph, pg);
			if (reserved)
				phys_huge_reserve(o->ph, o->hstate, 1);	/* give the promise back */
			pg = NULL;
		}
		if (!pg) {
			pthread_mutex_unlock(&o->lock);
			return -ENOMEM;
		}
		if (reserved)
			unmark_locked(o, index, 1);
		pg->owner_kind = OWNER_OBJECT;
		pg->owner = o;
		pg->index = index;
		o->nr_pages++;
	}
	page_get(pg);
	pthread_mutex_unlock(&o->lock);
	*out = pg;
	return 0;
}

void obj_hugetlb_grow(struct vm_object *o, uint64_t size)
{
	pthread_mutex_lock(&o->lock);
	if (o->size < size)
		o->size = size;
	pthread_mutex_unlock(&o->lock);
}

long obj_hugetlb_pread(struct vm_object *o, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;
	pthread_mutex_lock(&o->lock);
	while (done < len && off + done < o->size) {
		uint64_t pos = off + done, in = pos & (obj_huge_size(o) - 1);
		size_t n = (size_t)min_u64(min_u64(obj_huge_size(o) - in, len - done), o->size - pos);
		struct page *pg = pindex_get(&o->pages, pos >> huge_shift(o));
		/* hugetlbfs_read_iter: a hole reads as zeroes and allocates nothing. */
		if (pg)
			memcpy((uint8_t *)buf + done, (uint8_t *)page_address(o->ph, pg) + in, n);
		else
			memset((uint8_t *)buf + done, 0, n);
		done += n;
	}
	pthread_mutex_unlock(&o->lock);
	return (long)done;
}

/* The seal rules of a size change (hugetlbfs_setattr): SHRINK forbids smaller, GROW bigger. */
static int size_sealed(const struct vm_object *o, uint64_t new_size)
{
	if ((new_size < o->size && (o->seals & OBJ_SEAL_SHRINK)) ||
	    (new_size > o->size && (o->seals & OBJ_SEAL_GROW)))
		return -EPERM;
	return 0;
}

int obj_hugetlb_truncate(struct vm_object *o, uint64_t new_size)
{
	if (new_size & (obj_huge_size(o) - 1))
		return -EINVAL;	/* hugetlbfs_setattr: whole huge pages only */
	pthread_mutex_lock(&o->lock);
	int err = size_sealed(o, new_size);
	if (!err) {
		o->size = new_size;
		/* hugetlb_vmtruncate: promises beyond the end go back to the pool now; the
		 * frames go once mm has zapped them (obj_truncate_pages). */
		uint64_t n = unmark_locked(o, new_size >> huge_shift(o), UINT64_MAX);
		if (n)
			phys_huge_unreserve(o->ph, o->hstate, n);
	}
	pthread_mutex_unlock(&o->lock);
	return err;
}

/* Takes the unmapped frame at huge index i out of the index; the index's reference goes. */
static void drop_locked(struct vm_object *o, uint64_t i, struct page *pg)
{
	pindex_set(&o->pages, i, NULL);
	o->nr_pages--;
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	phys_put(o->ph, pg);
}

/* Zeroes bytes [start, end) of the one huge page they fall in, if it is present. */
static void zero_partial_locked(struct vm_object *o, uint64_t start, uint64_t end)
{
	struct page *pg = start < end ? pindex_get(&o->pages, start >> huge_shift(o)) : NULL;
	if (pg)
		memset((uint8_t *)page_address(o->ph, pg) + (start & (obj_huge_size(o) - 1)), 0,
		       end - start);
}

int obj_hugetlb_punch(struct vm_object *o, uint64_t start, uint64_t end)
{
	/* hugetlbfs_punch_hole: the huge pages wholly inside go, the partial ones at either
	 * edge are zeroed over the range. */
	uint64_t mask = obj_huge_size(o) - 1, i;
	uint64_t lo = start > UINT64_MAX - mask ? UINT64_MAX & ~mask : (start + mask) & ~mask;
	uint64_t hi = end & ~mask;
	pthread_mutex_lock(&o->lock);
	if (o->seals & (OBJ_SEAL_WRITE | OBJ_SEAL_FUTURE_WRITE)) {
		pthread_mutex_unlock(&o->lock);
		return -EPERM;
	}
	if (lo > hi) {
		zero_partial_locked(o, start, end);	/* inside one huge page */
	} else {
		zero_partial_locked(o, start, lo);
		zero_partial_locked(o, hi, end);
	}
	uint64_t first = lo >> huge_shift(o), last = hi >> huge_shift(o);
	for (struct page *pg = pindex_next(&o->pages, first, &i); lo < hi && pg && i < last;
	     pg = pindex_next(&o->pages, i + 1, &i))
		if (!atomic_load(&pg->mapcount))
			drop_locked(o, i, pg);
	uint64_t n = lo < hi ? unmark_locked(o, first, last - first) : 0;
	if (n)
		phys_huge_unreserve(o->ph, o->hstate, n);	/* remove_inode_hugepages */
	pthread_mutex_unlock(&o->lock);
	return 0;
}

int obj_hugetlb_fallocate(struct vm_object *o, uint64_t off, uint64_t len, int keep_size)
{
	uint64_t first = off >> huge_shift(o);
	uint64_t end = (off + len + obj_huge_size(o) - 1) >> huge_shift(o);
	int err = 0;
	pthread_mutex_lock(&o->lock);
	if (off + len > o->size && (o->seals & OBJ_SEAL_GROW))
		err = -EPERM;	/* F_SEAL_GROW: even with KEEP_SIZE (Linux 6.18 probe) */
	for (uint64_t i = first; !err && i < end; i++) {
		if (pindex_get(&o->pages, i))
			continue;
		int reserved = pindex_get(&o->resv, i) != NULL;
		struct page *pg = phys_huge_alloc(o->ph, o->hstate, reserved);
		if (pg && pindex_set(&o->pages, i, pg)) {
			phys_put(o->ph, pg);
			if (reserved)
				phys_huge_reserve(o->ph, o->hstate, 1);
			pg = NULL;
		}
		if (!pg) {
			err = -ENOSPC;	/* alloc_hugetlb_folio's error; earlier pages stay */
			break;
		}
		if (reserved)
			unmark_locked(o, i, 1);
		pg->owner_kind = OWNER_OBJECT;
		pg->owner = o;
		pg->index = i;
		o->nr_pages++;
	}
	if (!err && !keep_size && off + len > o->size)
		o->size = off + len;
	pthread_mutex_unlock(&o->lock);
	return err;
}

void obj_hugetlb_release(struct vm_object *o)
{
	if (o->nr_resv)
		phys_huge_unreserve(o->ph, o->hstate, o->nr_resv);	/* promises never taken */
	pindex_destroy(&o->resv);
}

struct resv_check { struct vm_object *o; uint64_t marks, both; };

static int check_mark(void *ctx, uint64_t index, struct page *m)
{
	struct resv_check *c = ctx;
	c->marks++;
	c->both += m != RESV_MARK(c->o) || pindex_get(&c->o->pages, index) != NULL;
	return 0;
}

int obj_hugetlb_check_locked(struct vm_object *o)
{
	struct resv_check c = { o, 0, 0 };
	pindex_for_each(&o->resv, check_mark, &c);
	if (c.marks == o->nr_resv && !c.both)
		return 0;
	fprintf(stderr, "obj_check: hugetlb object %p: %lu reservation marks (counter %lu), "
		"%lu of them bad or over a present page\n", (void *)o, (unsigned long)c.marks,
		(unsigned long)o->nr_resv, (unsigned long)c.both);
	return 1;
}
