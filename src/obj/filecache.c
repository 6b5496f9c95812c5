/*
 * The page cache directory: one list of the system's file objects, keyed by host
 * (dev, ino), one of its shmem and memfd objects (for reclaim to validate a frame's
 * owner), and the background writeback step that expires dirty data after
 * DirtyExpireCentisecs (Linux's wb_writeback for old inodes). The lists never hold a
 * reference: an object leaves its list in the same critical section that drops its last.
 */
#include "obj/obj_internal.h"

#include <stdio.h>

void obj_filecache_init(struct obj_filecache *c, struct kmem *km, struct phys *ph)
{
	pthread_mutex_init(&c->lock, NULL);
	list_init(&c->objs);
	c->nr_objs = 0;
	list_init(&c->shmem);
	c->nr_shmem = 0;
	c->swap = NULL;
	c->swap_ctx = NULL;
	c->km = km;
	c->ph = ph;
	atomic_init(&c->now_ms, 0);
}

uint64_t obj_filecache_destroy(struct obj_filecache *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t left = c->nr_objs + c->nr_shmem;
	struct list_head *lists[2] = { &c->objs, &c->shmem };
	for (int k = 0; k < 2; k++)
		for (struct list_head *l = lists[k]->next; l != lists[k]; l = l->next) {
			struct vm_object *o = list_entry(l, struct vm_object, cache_node);
			fprintf(stderr, "obj_filecache_destroy: %s still cached, refcount %d\n",
				o->name ? o->name : "?", atomic_load(&o->refcount));
		}
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_destroy(&c->lock);
	return left;
}

uint64_t obj_writeback_expired(struct obj_filecache *c, uint64_t now_ms, uint64_t expire_ms)
{
	uint64_t written = 0;
	atomic_store(&c->now_ms, now_ms);
	pthread_mutex_lock(&c->lock);
	for (struct list_head *l = c->objs.next; l != &c->objs; l = l->next) {
		struct vm_object *o = list_entry(l, struct vm_object, cache_node);
		pthread_mutex_lock(&o->lock);
		if (o->nr_dirty && now_ms - o->dirtied_ms >= expire_ms) {
			uint64_t before = o->nr_dirty;
			obj_writeback_locked(o, 0, UINT64_MAX);
			written += before - o->nr_dirty;
		}
		pthread_mutex_unlock(&o->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return written;
}

size_t obj_filecache_expired(struct obj_filecache *c, uint64_t now_ms, uint64_t expire_ms,
			     struct vm_object **out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&c->lock);
	for (struct list_head *l = c->objs.next; l != &c->objs && n < max; l = l->next) {
		struct vm_object *o = list_entry(l, struct vm_object, cache_node);
		pthread_mutex_lock(&o->lock);
		int due = o->nr_dirty && now_ms - o->dirtied_ms >= expire_ms;
		pthread_mutex_unlock(&o->lock);
		if (due) {
			obj_get(o);	/* still cached, so its last reference is not gone */
			out[n++] = o;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

int obj_filecache_for_each(struct obj_filecache *c, int (*fn)(void *ctx, struct vm_object *o),
			   void *ctx)
{
	int r = 0;
	pthread_mutex_lock(&c->lock);
	for (struct list_head *l = c->objs.next; l != &c->objs && !r; l = l->next)
		r = fn(ctx, list_entry(l, struct vm_object, cache_node));
	for (struct list_head *l = c->shmem.next; l != &c->shmem && !r; l = l->next)
		r = fn(ctx, list_entry(l, struct vm_object, cache_node));
	pthread_mutex_unlock(&c->lock);
	return r;
}

struct vm_object *obj_filecache_find(struct obj_filecache *c, const struct vm_object *o)
{
	struct vm_object *found = NULL;
	struct list_head *lists[2] = { &c->objs, &c->shmem };
	pthread_mutex_lock(&c->lock);
	for (int k = 0; k < 2 && !found; k++)
		for (struct list_head *l = lists[k]->next; l != lists[k]; l = l->next)
			if (list_entry(l, struct vm_object, cache_node) == o) {
				found = list_entry(l, struct vm_object, cache_node);
				obj_get(found);	/* listed, so its last reference is not gone */
				break;
			}
	pthread_mutex_unlock(&c->lock);
	return found;
}
