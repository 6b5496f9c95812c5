/*
 * Objects: creation, reference counting, and page lookup. A shmem object allocates zeroed
 * frames on first touch; a special object is filled once at creation and never grows.
 * The index holds one reference on each frame; callers of obj_get_page get their own.
 * Never free a frame that a page table still maps: the mapcount check in phys enforces it.
 */
#include "obj/object.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"

static struct vm_object *obj_alloc(struct kmem *km, struct phys *ph, enum obj_kind kind,
				   uint64_t size)
{
	struct vm_object *o = kmem_new(km, struct vm_object);
	if (!o)
		return NULL;
	atomic_init(&o->refcount, 1);
	o->kind = kind;
	o->size = size;
	o->ph = ph;
	o->km = km;
	pthread_mutex_init(&o->lock, NULL);
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
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	phys_put(o->ph, pg);
	return 0;
}

void obj_put(struct vm_object *o)
{
	int old = atomic_fetch_sub(&o->refcount, 1);
	PM_ENFORCE(old > 0);
	if (old != 1)
		return;
	pindex_for_each(&o->pages, release_page, o);
	pindex_destroy(&o->pages);
	pthread_mutex_destroy(&o->lock);
	kmem_delete(o->km, o);
}

struct page *obj_peek_page(struct vm_object *o, uint64_t index)
{
	return pindex_get(&o->pages, index);
}

int obj_get_page(struct vm_object *o, uint64_t index, struct page **out)
{
	if (index >= (o->size + PAGE_SIZE - 1) / PAGE_SIZE)
		return -EFAULT;
	pthread_mutex_lock(&o->lock);
	struct page *pg = pindex_get(&o->pages, index);
	if (!pg && o->kind == OBJ_SHMEM) {
		pg = phys_alloc(o->ph, 0, PHYS_ZERO);
		if (!pg)
			goto out_nomem;
		pg->flags |= PG_shmem;
		pg->owner_kind = OWNER_OBJECT;
		pg->owner = o;
		pg->index = index;
		if (pindex_set(&o->pages, index, pg)) {
			phys_put(o->ph, pg);
			goto out_nomem;
		}
		o->nr_pages++;
	}
	if (!pg) {
		pthread_mutex_unlock(&o->lock);
		return -EFAULT;
	}
	page_get(pg);
	pthread_mutex_unlock(&o->lock);
	*out = pg;
	return 0;
out_nomem:
	pthread_mutex_unlock(&o->lock);
	return -ENOMEM;
}

struct check_ctx { struct vm_object *o; int problems; uint64_t count; };

static int check_page(void *ctx, uint64_t index, struct page *pg)
{
	struct check_ctx *c = ctx;
	c->count++;
	if ((pg->owner != c->o || pg->index != index || pg->owner_kind != OWNER_OBJECT ||
	     atomic_load(&pg->refcount) < 1) && c->problems++ < 20)
		fprintf(stderr, "obj_check: object %p index %lu: frame owner %p index %lu "
			"kind %d refcount %d\n", (void *)c->o, (unsigned long)index, pg->owner,
			(unsigned long)pg->index, pg->owner_kind, atomic_load(&pg->refcount));
	return 0;
}

int obj_check(struct vm_object *o)
{
	struct check_ctx c = { o, 0, 0 };
	pthread_mutex_lock(&o->lock);
	pindex_for_each(&o->pages, check_page, &c);
	if (c.count != o->nr_pages && c.problems++ < 20)
		fprintf(stderr, "obj_check: object %p indexes %lu frames, counter says %lu\n",
			(void *)o, (unsigned long)c.count, (unsigned long)o->nr_pages);
	pthread_mutex_unlock(&o->lock);
	return c.problems;
}
