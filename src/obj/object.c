/*
 * Objects: creation, reference counting, page lookup, the i_mmap list and the checker.
 * A shmem or memfd object allocates zeroed frames on first touch; a special object is
 * filled once at creation and never grows; a file object reads frames from its host file
 * (file.c). The index holds one reference on each frame, or one slot reference for a
 * swapped-out shmem page (shmem_swap.c); callers of obj_get_page get their own. Never free
 * a frame that a page table still maps: release_page enforces it.
 */
#include "obj/object.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"
#include "obj/obj_internal.h"
#include "vma/vma.h"

struct vm_object *obj_alloc(struct kmem *km, struct phys *ph, enum obj_kind kind, uint64_t size)
{
	struct vm_object *o = kmem_new(km, struct vm_object);
	if (!o)
		return NULL;
	atomic_init(&o->refcount, 1);
	atomic_init(&o->nr_shared_writable, 0);
	o->kind = kind;
	o->size = size;
	o->ph = ph;
	o->km = km;
	o->host_fd = -1;
	list_init(&o->cache_node);
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->i_mmap_lock, NULL);
	list_init(&o->i_mmap);
	pindex_init(&o->pages, km);
	return o;
}

struct vm_object *obj_shmem_create(struct kmem *km, struct phys *ph, uint64_t size, uint64_t ino)
{
	struct vm_object *o = obj_alloc(km, ph, OBJ_SHMEM, size);
	if (!o)
		return NULL;
	/* Linux shows shared anonymous memory as the deleted /dev/zero on the internal shm
	 * mount, device 00:01, with the shmem inode's number. */
	o->name = "/dev/zero (deleted)";
	o->dev_major = 0;
	o->dev_minor = 1;
	o->ino = ino;
	return o;
}

static int fill_special(struct vm_object *o, const uint8_t *image, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		struct page *pg = phys_alloc(o->ph, 0, PHYS_ZERO);
		if (!pg)
			return -ENOMEM;
		pg->owner_kind = OWNER_OBJECT;
		pg->owner = o;
		pg->index = i;
		if (pindex_set(&o->pages, i, pg)) {
			phys_put(o->ph, pg);
			return -ENOMEM;
		}
		o->nr_pages++;
		if (image)
			memcpy(page_address(o->ph, pg), image + i * PAGE_SIZE, PAGE_SIZE);
	}
	return 0;
}

struct vm_object *obj_special_create(struct kmem *km, struct phys *ph, const char *name,
				     const void *image, uint64_t npages)
{
	struct vm_object *o = obj_alloc(km, ph, OBJ_SPECIAL, npages * PAGE_SIZE);
	if (!o)
		return NULL;
	o->name = name;
	if (fill_special(o, image, npages)) {
		obj_put(o);
		return NULL;
	}
	return o;
}

void obj_get(struct vm_object *o) { atomic_fetch_add(&o->refcount, 1); }

static int release_page(void *ctx, uint64_t index, struct page *pg)
{
	struct vm_object *o = ctx;
	(void)index;
	PM_ENFORCE(atomic_load(&pg->mapcount) == 0);
	pg->flags &= ~(PG_dirty | PG_shmem);
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	phys_put(o->ph, pg);
	return 0;
}

/* Drops one reference; 1 when it was the last. A cached file object leaves its cache in
 * the same critical section, so a cache lookup never revives a dying object. */
static int put_ref(struct vm_object *o)
{
	struct obj_filecache *c = o->cache ? o->cache : o->dir;
	if (!c) {
		int old = atomic_fetch_sub(&o->refcount, 1);
		PM_ENFORCE(old > 0);
		return old == 1;
	}
	pthread_mutex_lock(&c->lock);
	int old = atomic_fetch_sub(&o->refcount, 1);
	PM_ENFORCE(old > 0);
	if (old == 1) {
		list_del(&o->cache_node);
		if (o->cache)
			c->nr_objs--;
		else
			c->nr_shmem--;
	}
	pthread_mutex_unlock(&c->lock);
	return old == 1;
}

void obj_put(struct vm_object *o)
{
	if (!put_ref(o))
		return;
	if (o->kind == OBJ_FILE) {
		obj_writeback(o, 0, UINT64_MAX, 0);	/* a last close's errors go unreported */
		if (o->host_fd >= 0)
			close(o->host_fd);
	}
	PM_ENFORCE(o->nr_mmap == 0);
	if (o->kind == OBJ_HUGETLB)
		obj_hugetlb_release(o);
	if (o->kind == OBJ_SHMEM || o->kind == OBJ_MEMFD)
		atomic_fetch_sub(&o->ph->nr_shmem, (long)o->nr_pages);
	obj_drop_swap_locked(o, 0, UINT64_MAX);	/* swapped-out pages give their slots back */
	pindex_for_each(&o->pages, release_page, o);
	pindex_destroy(&o->pages);
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->i_mmap_lock);
	kmem_free(o->km, o->name_buf, o->name_size);
	kmem_delete(o->km, o);
}

struct page *obj_peek_page(struct vm_object *o, uint64_t index)
{
	return pindex_get(&o->pages, index);
}

int obj_for_each_cached(struct vm_object *o, uint64_t first, uint64_t last,
			int (*fn)(void *ctx, uint64_t index, struct page *pg), void *ctx)
{
	int r = 0;
	uint64_t i;
	pthread_mutex_lock(&o->lock);
	uint64_t np = obj_size_pages(o);	/* EOF, read under the lock as truncation sets it */
	if (last >= np)
		last = np - 1;
	for (struct page *pg = np && first <= last ? pindex_next(&o->pages, first, &i) : NULL;
	     pg && i <= last && !r; pg = i == last ? NULL : pindex_next(&o->pages, i + 1, &i))
		if (!(pg->flags & (PG_hwpoison | PG_offline)))
			r = fn(ctx, i, pg);
	pthread_mutex_unlock(&o->lock);
	return r;
}

int obj_insert_page_locked(struct vm_object *o, uint64_t index, struct page *pg)
{
	pg->owner_kind = OWNER_OBJECT;
	pg->owner = o;
	pg->index = index;
	if (pindex_set(&o->pages, index, pg)) {
		pg->owner_kind = OWNER_NONE;
		pg->owner = NULL;
		return -ENOMEM;
	}
	o->nr_pages++;
	if (o->kind == OBJ_SHMEM || o->kind == OBJ_MEMFD)
		atomic_fetch_add(&o->ph->nr_shmem, 1);	/* Committed_AS counts shmem pages */
	return 0;
}

int obj_get_page_locked(struct vm_object *o, uint64_t index, struct page **out)
{
	PM_ASSERT(pthread_mutex_trylock(&o->lock) != 0);
	if (index >= obj_size_pages(o))
		return -EFAULT;
	struct page *pg = pindex_get(&o->pages, index);
	uint64_t slot;
	if (!pg && o->kind == OBJ_FILE)
		return obj_file_read_page_locked(o, index, out);
	if (!pg && o->nr_swapped && pindex_get_swap(&o->pages, index, &slot))
		return obj_swapin_locked(o, index, slot, out);
	if (!pg && (o->kind == OBJ_SHMEM || o->kind == OBJ_MEMFD)) {
		pg = phys_alloc(o->ph, 0, PHYS_ZERO);
		if (!pg)
			return -ENOMEM;
		pg->flags |= PG_shmem;
		if (obj_insert_page_locked(o, index, pg)) {
			pg->flags &= ~PG_shmem;
			phys_put(o->ph, pg);
			return -ENOMEM;
		}
		obj_shmem_lru_add(o, pg);	/* shmem_alloc_and_add_folio: swap-backed LRU */
	}
	if (!pg)
		return -EFAULT;
	page_get(pg);
	*out = pg;
	return 0;
}

int obj_get_page(struct vm_object *o, uint64_t index, struct page **out)
{
	if (index >= obj_size_pages(o))
		return -EFAULT;
	pthread_mutex_lock(&o->lock);
	int err = obj_get_page_locked(o, index, out);
	pthread_mutex_unlock(&o->lock);
	return err;
}

int obj_fault_page(struct vm_object *o, uint64_t index, struct page **out, int *major)
{
	uint64_t slot;
	*major = 0;
	if (index >= obj_size_pages(o))
		return -EFAULT;
	pthread_mutex_lock(&o->lock);
	if (!pindex_get(&o->pages, index)) {
		if (o->kind == OBJ_FILE)
			*major = 1;	/* filemap_fault had to read the page */
		else if (o->nr_swapped && pindex_get_swap(&o->pages, index, &slot))
			*major = !o->dir->swap->cached(o->dir->swap_ctx, slot);
	}
	int err = obj_get_page_locked(o, index, out);
	if (err)
		*major = 0;
	pthread_mutex_unlock(&o->lock);
	return err;
}

/* ---- i_mmap ---- */

void obj_link_vma(struct vm_object *o, struct vma *v)
{
	pthread_mutex_lock(&o->i_mmap_lock);
	list_add_tail(&v->vm_obj_node, &o->i_mmap);
	o->nr_mmap++;
	pthread_mutex_unlock(&o->i_mmap_lock);
}

void obj_unlink_vma(struct vm_object *o, struct vma *v)
{
	pthread_mutex_lock(&o->i_mmap_lock);
	PM_ENFORCE(o->nr_mmap > 0 && !list_empty(&v->vm_obj_node));
	list_del(&v->vm_obj_node);
	o->nr_mmap--;
	pthread_mutex_unlock(&o->i_mmap_lock);
}

struct check_ctx { struct vm_object *o; int problems; uint64_t count, dirty; };

static int check_page(void *ctx, uint64_t index, struct page *pg)
{
	struct check_ctx *c = ctx;
	c->count++;
	if (pg->flags & PG_dirty)
		c->dirty++;
	if (c->o->kind == OBJ_FILE && (pg->flags & PG_shmem) && c->problems++ < 20)
		fprintf(stderr, "obj_check: file object %p index %lu: frame marked PG_shmem\n",
			(void *)c->o, (unsigned long)index);
	if ((pg->owner != c->o || pg->index != index || pg->owner_kind != OWNER_OBJECT ||
	     atomic_load(&pg->refcount) < 1) && c->problems++ < 20)
		fprintf(stderr, "obj_check: object %p index %lu: frame owner %p index %lu "
			"kind %d refcount %d\n", (void *)c->o, (unsigned long)index, pg->owner,
			(unsigned long)pg->index, pg->owner_kind, atomic_load(&pg->refcount));
	return 0;
}

int obj_check(struct vm_object *o)
{
	struct check_ctx c = { o, 0, 0, 0 };
	pthread_mutex_lock(&o->lock);
	pindex_for_each(&o->pages, check_page, &c);
	if (c.count != o->nr_pages && c.problems++ < 20)
		fprintf(stderr, "obj_check: object %p indexes %lu frames, counter says %lu\n",
			(void *)o, (unsigned long)c.count, (unsigned long)o->nr_pages);
	if (c.dirty != o->nr_dirty && c.problems++ < 20)
		fprintf(stderr, "obj_check: object %p has %lu dirty frames, counter says %lu\n",
			(void *)o, (unsigned long)c.dirty, (unsigned long)o->nr_dirty);
	if (o->kind == OBJ_HUGETLB)
		c.problems += obj_hugetlb_check_locked(o);
	if ((o->seals & ~OBJ_SEAL_ALL) || (o->seals && !obj_is_memfd(o)) ||
	    (o->kind == OBJ_FILE) != (o->host_fd >= 0 && o->cache != NULL) ||
	    (o->dir && o->kind != OBJ_SHMEM && o->kind != OBJ_MEMFD)) {
		if (c.problems++ < 20)
			fprintf(stderr, "obj_check: object %p kind %d: seals %#x host_fd %d cache %p "
				"dir %p\n", (void *)o, o->kind, o->seals, o->host_fd, (void *)o->cache,
				(void *)o->dir);
	}
	c.problems += obj_check_swap_locked(o);
	pthread_mutex_unlock(&o->lock);
	pthread_mutex_lock(&o->i_mmap_lock);
	size_t listed = 0, foreign = 0;
	for (struct list_head *l = o->i_mmap.next; l != &o->i_mmap; l = l->next) {
		listed++;
		foreign += list_entry(l, struct vma, vm_obj_node)->vm_obj != o;
	}
	if ((listed != o->nr_mmap || foreign || atomic_load(&o->nr_shared_writable) < 0) &&
	    c.problems++ < 20)
		fprintf(stderr, "obj_check: object %p i_mmap lists %zu VMAs (%zu of another object), "
			"counter %zu, shared writable %d\n", (void *)o, listed, foreign, o->nr_mmap,
			atomic_load(&o->nr_shared_writable));
	pthread_mutex_unlock(&o->i_mmap_lock);
	return c.problems;
}
