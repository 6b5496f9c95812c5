/*
 * Helpers shared by the vma layer's tests: building test-owned struct vma objects, a
 * fresh tree with its own kmem, and a one-line rendering of the tree for EXPECT_STREQ.
 * The tests own every struct vma; the tree owns only its nodes.
 */
#ifndef PM_TESTS_VMA_TEST_H
#define PM_TESTS_VMA_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/kmem.h"
#include "vma/vma.h"

#define PG 4096ULL
#define MiB (1024ULL * 1024)

struct vt {
	struct kmem km;
	struct vma_tree t;
};

static inline void vt_init(struct vt *x, uint64_t guard_gap)
{
	kmem_init(&x->km);
	vma_tree_init(&x->t, &x->km, guard_gap);
}

/* Destroys the tree and reports the kmem objects still live (0 = no leak). */
static inline long vt_destroy(struct vt *x)
{
	vma_tree_destroy(&x->t);
	return (long)atomic_load(&x->km.live_objs);
}

/* An anonymous read-write VMA over [start, end) with pgoff = start >> 12, as mmap makes. */
static inline void vma_set(struct vma *v, uint64_t start, uint64_t end, uint64_t flags)
{
	memset(v, 0, sizeof(*v));
	v->vm_start = start;
	v->vm_end = end;
	v->vm_flags = flags;
	v->vm_pgoff = start >> 12;
}

/* "start-end start-end ..." in hex, in list order. */
static inline const char *vt_str(struct vma_tree *t, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = 0;
	for (struct vma *v = vma_first(t); v && off < size; v = vma_next(t, v))
		off += (size_t)snprintf(buf + off, size - off, "%s%" PRIx64 "-%" PRIx64,
					off ? " " : "", v->vm_start, v->vm_end);
	return buf;
}

#endif
