/*
 * The one allocation gate of a system (STYLE rule 16). Every host allocation peimm makes
 * for its own structures goes through a kmem, which counts live bytes and objects so tests
 * can prove nothing leaked, and which can be told to fail its Nth call so fault-injection
 * tests can walk every failure path. It never aborts on failure: callers get NULL.
 */
#ifndef PM_LIB_KMEM_H
#define PM_LIB_KMEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

struct kmem {
	atomic_uint_fast64_t live_objs;		/* objects allocated and not yet freed */
	atomic_uint_fast64_t live_bytes;	/* their total size in bytes */
	atomic_uint_fast64_t calls;		/* allocation calls so far */
	atomic_uint_fast64_t fail_at;		/* fail the call with this number; 0 = never */
};

void kmem_init(struct kmem *km);
/* Zeroed memory of `size` bytes, or NULL (out of host memory or an injected failure). */
void *kmem_zalloc(struct kmem *km, size_t size);
/* Counts one allocation call that a caller's own free list serves, without allocating:
 * returns non-zero when it is the injected failure, so fault injection walks the same
 * failure paths whether or not a cache had an object. */
int kmem_inject(struct kmem *km);
/* Frees memory from kmem_zalloc; `size` must be the size it was allocated with. NULL is a no-op. */
void kmem_free(struct kmem *km, void *p, size_t size);
/* Resizes; on failure returns NULL and leaves p untouched. */
void *kmem_realloc(struct kmem *km, void *p, size_t old_size, size_t new_size);
/* Makes the nth allocation call from now fail (1 = the next one); 0 turns injection off. */
void kmem_fail_nth(struct kmem *km, uint64_t n);

#define kmem_new(km, type) ((type *)kmem_zalloc((km), sizeof(type)))
#define kmem_delete(km, p) kmem_free((km), (p), sizeof(*(p)))

#endif
