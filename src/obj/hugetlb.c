/*
 * MAP_HUGETLB objects (Linux's anonymous hugetlbfs files): they give hugetlb mappings their
 * maps name and, for shared ones, hold the huge frames by huge-page index together with
 * the pool reservation made at mmap. Frames come from phys's pools and go back there on
 * the last put. Private mappings keep their frames in their page tables, not here.
 */
#include "obj/object.h"

#include <errno.h>

#include "lib/kmem.h"
#include "obj/obj_internal.h"

struct vm_object *obj_hugetlb_create(struct kmem *km, struct phys *ph, int h, uint64_t size,
				     int shared, int noreserve, uint64_t ino, int *err)
{
	uint64_t npages = size >> (PAGE_SHIFT + phys_huge_order(h));
	*err = -ENOMEM;
	if (shared && !noreserve && phys_huge_reserve(ph, h, npages))
		return NULL;
	struct vm_object *o = obj_shmem_create(km, ph, size, ino);
	if (!o) {
		if (shared && !noreserve)
			phys_huge_unreserve(ph, h, npages);
		return NULL;
	}
	o->kind = OBJ_HUGETLB;
	o->name = "/anon_hugepage (deleted)";
	o->dev_major = 0;
	o->dev_minor = 0x11;	/* the internal hugetlbfs mount, as Linux numbers it */
	o->hstate = h;
	o->resv_left = (shared && !noreserve) ? npages : 0;
	*err = 0;
	return o;
}

int obj_hugetlb_get_page(struct vm_object *o, uint64_t index, struct page **out)
{
	if (index >= o->size >> (PAGE_SHIFT + phys_huge_order(o->hstate)))
		return -EFAULT;
	pthread_mutex_lock(&o->lock);
	struct page *pg = pindex_get(&o->pages, index);
	if (!pg) {
		int reserved = o->resv_left > 0;
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
		o->resv_left -= reserved;
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
