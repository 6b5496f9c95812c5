/*
 * Accounting allocator over the host malloc. Counters are atomic because several host
 * threads may drive one system. Freed memory is poisoned in debug builds (STYLE rule 12)
 * so a use-after-free shows a recognisable 0x6b pattern.
 */
#include "lib/kmem.h"

#include <stdlib.h>
#include <string.h>

#include "lib/pm_assert.h"

void kmem_init(struct kmem *km)
{
	atomic_init(&km->live_objs, 0);
	atomic_init(&km->live_bytes, 0);
	atomic_init(&km->calls, 0);
	atomic_init(&km->fail_at, 0);
}

static int injected_failure(struct kmem *km)
{
	uint64_t n = atomic_fetch_add(&km->calls, 1) + 1;
	uint64_t at = atomic_load(&km->fail_at);
	return at != 0 && n == at;
}

int kmem_inject(struct kmem *km)
{
	return injected_failure(km);
}

void *kmem_zalloc(struct kmem *km, size_t size)
{
	if (injected_failure(km))
		return NULL;
	void *p = calloc(1, size ? size : 1);
	if (!p)
		return NULL;
	atomic_fetch_add(&km->live_objs, 1);
	atomic_fetch_add(&km->live_bytes, size);
	return p;
}

void kmem_free(struct kmem *km, void *p, size_t size)
{
	if (!p)
		return;
	PM_ENFORCE(atomic_load(&km->live_objs) > 0);
#ifdef PM_DEBUG
	memset(p, 0x6b, size);
#endif
	free(p);
	atomic_fetch_sub(&km->live_objs, 1);
	atomic_fetch_sub(&km->live_bytes, size);
}

void *kmem_realloc(struct kmem *km, void *p, size_t old_size, size_t new_size)
{
	if (!p)
		return kmem_zalloc(km, new_size);
	if (injected_failure(km))
		return NULL;
	void *q = realloc(p, new_size ? new_size : 1);
	if (!q)
		return NULL;
	if (new_size > old_size)
		memset((char *)q + old_size, 0, new_size - old_size);
	atomic_fetch_add(&km->live_bytes, new_size);
	atomic_fetch_sub(&km->live_bytes, old_size);
	return q;
}

void kmem_fail_nth(struct kmem *km, uint64_t n)
{
	atomic_store(&km->fail_at, n ? atomic_load(&km->calls) + n : 0);
}
