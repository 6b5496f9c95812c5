/*
 * What mappings are backed by. A vm_object is a reference-counted, page-indexed store of
 * frames: anonymous shared memory (shmem, shown by Linux as "/dev/zero (deleted)"),
 * kernel-provided images such as the vDSO and vvar, and later memfds and host files
 * through the page cache. Invariant: every frame in an object's index holds one reference
 * owned by the index. This layer never looks at VMAs or page tables.
 */
#ifndef PM_OBJ_OBJECT_H
#define PM_OBJ_OBJECT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "obj/pindex.h"
#include "phys/phys.h"

struct kmem;

enum obj_kind {
	OBJ_SHMEM,	/* anonymous shared memory (MAP_SHARED|MAP_ANONYMOUS) */
	OBJ_SPECIAL,	/* kernel image pages (vdso, vvar): fixed size, never grow */
};

struct vm_object {
	atomic_int refcount;		/* mappings and handles holding the object */
	enum obj_kind kind;		/* immutable */
	uint64_t size;			/* bytes; pages at index >= size/4096 do not exist */
	uint64_t ino;			/* inode number shown in maps; immutable */
	unsigned dev_major, dev_minor;	/* device shown in maps; immutable */
	const char *name;		/* path shown in maps, or NULL; immutable, static storage */
	struct phys *ph;		/* immutable */
	struct kmem *km;		/* immutable */
	pthread_mutex_t lock;		/* guards pages and nr_pages */
	struct pindex pages;		/* page index -> frame */
	uint64_t nr_pages;		/* frames in the index */
};

/* A new shmem object of `size` bytes with no frames yet, one reference. NULL on -ENOMEM. */
struct vm_object *obj_shmem_create(struct kmem *km, struct phys *ph, uint64_t size, uint64_t ino);
/* A special object of npages frames filled from image (npages * 4096 bytes, may be NULL for
 * zeros). NULL on -ENOMEM. */
struct vm_object *obj_special_create(struct kmem *km, struct phys *ph, const char *name,
				     const void *image, uint64_t npages);
void obj_get(struct vm_object *o);
/* Drops a reference; the last one frees every frame in the index and the object. */
void obj_put(struct vm_object *o);

/* The frame at page `index`, allocated (zeroed) for shmem if absent, with an extra
 * reference for the caller. 0, -ENOMEM, or -EFAULT when index is beyond the object. */
int obj_get_page(struct vm_object *o, uint64_t index, struct page **out);
/* The frame at `index` if present (no reference taken), else NULL. Caller holds o->lock
 * or knows the frame cannot go away. */
struct page *obj_peek_page(struct vm_object *o, uint64_t index);

/* Checks that every indexed frame names this object and index; returns problems. */
int obj_check(struct vm_object *o);

#endif
