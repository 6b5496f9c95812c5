/*
 * Swapped-out shmem and memfd pages (Linux's shmem_writeout, shmem_swapin_folio and the
 * swap halves of shmem_undo_range): a registered object's index holds a swap slot number
 * where a frame was, one slot reference per entry, until a lookup reads the page back
 * (the entry gives way to the frame and the slot is freed) or truncation, a hole punch
 * or the last put frees the slot. The swap area and the LRU belong to the layers above;
 * this file reaches them only through the directory's obj_swap_ops. It never writes a
 * frame that something maps or holds, and never leaves an entry without its slot.
 */
#include "obj/obj_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/pm_assert.h"

static const struct obj_swap_ops *ops_of(const struct vm_object *o)
{
	return o->dir ? o->dir->swap : NULL;
}

void obj_filecache_set_swap(struct obj_filecache *c, const struct obj_swap_ops *ops, void *ctx)
{
	c->swap = ops;
	c->swap_ctx = ctx;
}

void obj_shmem_register(struct obj_filecache *c, struct vm_object *o)
{
	PM_ENFORCE((o->kind == OBJ_SHMEM || o->kind == OBJ_MEMFD) && !o->dir && !o->cache);
	pthread_mutex_lock(&c->lock);
	o->dir = c;
	list_add_tail(&o->cache_node, &c->shmem);
	c->nr_shmem++;
	pthread_mutex_unlock(&c->lock);
}

void obj_shmem_lru_add(struct vm_object *o, struct page *pg)
{
	const struct obj_swap_ops *ops = ops_of(o);
	if (ops)
		ops->lru_add(o->dir->swap_ctx, pg);
}

int obj_shmem_swap_out(struct vm_object *o, struct page *pg)
{
	const struct obj_swap_ops *ops = ops_of(o);
	if (!ops)
		return -ENOSPC;
	pthread_mutex_lock(&o->lock);
	int err = -EAGAIN;
	uint64_t index = pg->index;
	/* Still o's, unmapped, and held by the index and the caller only: a fault or a
	 * read(2) in flight would hold another reference, taken under this lock. */
	if (pg->owner != o || pg->owner_kind != OWNER_OBJECT || pindex_get(&o->pages, index) != pg ||
	    atomic_load(&pg->mapcount) || atomic_load(&pg->refcount) != 2)
		goto out;
	int64_t slot = ops->write_out(o->dir->swap_ctx, page_address(o->ph, pg));
	if (slot < 0) {
		err = (int)slot;
		goto out;
	}
	pindex_set_swap(&o->pages, index, (uint64_t)slot);	/* replaces: never allocates */
	o->nr_pages--;
	o->nr_swapped++;
	atomic_fetch_sub(&o->ph->nr_shmem, 1);
	atomic_fetch_add(&o->ph->nr_shmem_swapped, 1);	/* still charged (Committed_AS) */
	pg->flags &= ~(PG_shmem | PG_dirty);
	pg->owner_kind = OWNER_NONE;
	pg->owner = NULL;
	phys_put(o->ph, pg);	/* the index's reference; the caller holds the last */
	err = 0;
out:
	pthread_mutex_unlock(&o->lock);
	return err;
}

int obj_swapin_locked(struct vm_object *o, uint64_t index, uint64_t slot, struct page **out)
{
	const struct obj_swap_ops *ops = ops_of(o);
	PM_ENFORCE(ops);
	struct page *pg;
	int err = ops->read_in(o->dir->swap_ctx, slot, &pg);
	if (err)
		return err;
	pg->flags |= PG_shmem;
	pg->owner_kind = OWNER_OBJECT;
	pg->owner = o;
	pg->index = index;
	pindex_set(&o->pages, index, pg);	/* replaces the swap entry: never allocates */
	o->nr_swapped--;
	o->nr_pages++;
	atomic_fetch_sub(&o->ph->nr_shmem_swapped, 1);
	atomic_fetch_add(&o->ph->nr_shmem, 1);
	/* The slot goes with its last reference (and the swap cache's hold on pg with it),
	 * as Linux's shmem_swapin_folio deletes the folio from the swap cache. */
	ops->free(o->dir->swap_ctx, slot);
	ops->lru_add(o->dir->swap_ctx, pg);
	page_get(pg);
	*out = pg;
	return 0;
}

void obj_drop_swap_locked(struct vm_object *o, uint64_t first, uint64_t last)
{
	uint64_t i, slot;
	if (!o->nr_swapped)
		return;
	const struct obj_swap_ops *ops = ops_of(o);
	for (uint64_t from = first; pindex_next_swap(&o->pages, from, &i, &slot) && i <= last;
	     from = i + 1) {
		pindex_set(&o->pages, i, NULL);
		o->nr_swapped--;
		atomic_fetch_sub(&o->ph->nr_shmem_swapped, 1);
		ops->free(o->dir->swap_ctx, slot);
		if (i == UINT64_MAX)
			break;
	}
}

int obj_prefetch_swap_locked(struct vm_object *o, uint64_t first, uint64_t last)
{
	uint64_t i, slot;
	int done = 0;
	const struct obj_swap_ops *ops = ops_of(o);
	if (!ops || !o->nr_swapped)
		return 0;
	for (uint64_t from = first; pindex_next_swap(&o->pages, from, &i, &slot) && i <= last;
	     from = i + 1) {
		done += ops->prefetch(o->dir->swap_ctx, slot);
		if (i == UINT64_MAX)
			break;
	}
	return done;
}

uint64_t obj_swapped_pages(struct vm_object *o, uint64_t first, uint64_t last)
{
	uint64_t i, slot, n = 0;
	pthread_mutex_lock(&o->lock);
	for (uint64_t from = first; o->nr_swapped && pindex_next_swap(&o->pages, from, &i, &slot) &&
				    i <= last; from = i + 1) {
		n++;
		if (i == UINT64_MAX)
			break;
	}
	pthread_mutex_unlock(&o->lock);
	return n;
}

int obj_page_resident(struct vm_object *o, uint64_t index)
{
	uint64_t slot;
	pthread_mutex_lock(&o->lock);
	int r = pindex_get(&o->pages, index) != NULL;
	if (!r && ops_of(o) && pindex_get_swap(&o->pages, index, &slot))
		r = ops_of(o)->cached(o->dir->swap_ctx, slot);	/* mincore_page's swap cache */
	pthread_mutex_unlock(&o->lock);
	return r;
}

int obj_peek_copy(struct vm_object *o, uint64_t index, void *buf)
{
	uint64_t slot;
	int r = 0;
	pthread_mutex_lock(&o->lock);
	struct page *pg = pindex_get(&o->pages, index);
	if (pg) {
		memcpy(buf, page_address(o->ph, pg), PAGE_SIZE);
		r = 1;
	} else if (ops_of(o) && pindex_get_swap(&o->pages, index, &slot)) {
		r = ops_of(o)->peek(o->dir->swap_ctx, slot, buf) ? -EIO : 1;
	}
	pthread_mutex_unlock(&o->lock);
	return r;
}

struct swap_check { struct vm_object *o; const struct obj_swap_ops *ops; uint64_t n; int problems; };

static int check_entry(void *ctx, uint64_t index, uint64_t slot)
{
	struct swap_check *c = ctx;
	c->n++;
	if ((!c->ops || !c->ops->count(c->o->dir->swap_ctx, slot)) && c->problems++ < 20)
		fprintf(stderr, "obj_check: object %p index %lu: swap entry names slot %lu, %s\n",
			(void *)c->o, (unsigned long)index, (unsigned long)slot,
			c->ops ? "which is free" : "but the object cannot swap");
	return 0;
}

int obj_check_swap_locked(struct vm_object *o)
{
	struct swap_check c = { o, ops_of(o), 0, 0 };
	pindex_for_each_swap(&o->pages, check_entry, &c);
	if (c.n != o->nr_swapped && c.problems++ < 20)
		fprintf(stderr, "obj_check: object %p holds %lu swap entries, counter says %lu\n",
			(void *)o, (unsigned long)c.n, (unsigned long)o->nr_swapped);
	return c.problems;
}
