/*
 * Radix tree of page pointers, 6 bits of index per level. Lookups are a few dependent loads;
 * a sparse index costs only the nodes on its paths. Empty nodes are freed on erase so an
 * object that loses all its pages holds no memory here.
 */
#include "obj/pindex.h"

#include <errno.h>

#include "lib/kmem.h"

#define PINDEX_BITS	6
#define PINDEX_SLOTS	(1u << PINDEX_BITS)
#define PINDEX_MASK	(PINDEX_SLOTS - 1)

struct pindex_node {
	void *slot[PINDEX_SLOTS];	/* child nodes, or frames at the bottom level */
	unsigned used;			/* non-NULL slots */
};

void pindex_init(struct pindex *x, struct kmem *km)
{
	x->root = NULL;
	x->height = 0;
	x->km = km;
}

static void free_node(struct kmem *km, struct pindex_node *n, unsigned height)
{
	if (!n)
		return;
	if (height > 0)
		for (unsigned i = 0; i < PINDEX_SLOTS; i++)
			free_node(km, n->slot[i], height - 1);
	kmem_delete(km, n);
}

void pindex_destroy(struct pindex *x)
{
	free_node(x->km, x->root, x->height);
	x->root = NULL;
	x->height = 0;
}

static uint64_t capacity(unsigned height)
{
	unsigned bits = PINDEX_BITS * (height + 1);
	return bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;
}

struct page *pindex_get(const struct pindex *x, uint64_t index)
{
	if (!x->root || index > capacity(x->height))
		return NULL;
	struct pindex_node *n = x->root;
	for (unsigned h = x->height; h > 0; h--) {
		n = n->slot[(index >> (PINDEX_BITS * h)) & PINDEX_MASK];
		if (!n)
			return NULL;
	}
	return n->slot[index & PINDEX_MASK];
}

/* Adds levels on top until index fits. */
static int grow(struct pindex *x, uint64_t index)
{
	while (index > capacity(x->height)) {
		if (!x->root) {
			x->height++;
			continue;
		}
		struct pindex_node *top = kmem_new(x->km, struct pindex_node);
		if (!top)
			return -ENOMEM;
		top->slot[0] = x->root;
		top->used = 1;
		x->root = top;
		x->height++;
	}
	return 0;
}

static void erase(struct pindex *x, uint64_t index)
{
	struct pindex_node *path[12];
	struct pindex_node *n = x->root;
	unsigned depth = 0;
	if (!n || index > capacity(x->height))
		return;
	for (unsigned h = x->height; h > 0; h--) {
		path[depth++] = n;
		n = n->slot[(index >> (PINDEX_BITS * h)) & PINDEX_MASK];
		if (!n)
			return;
	}
	if (!n->slot[index & PINDEX_MASK])
		return;
	n->slot[index & PINDEX_MASK] = NULL;
	/* Free nodes that became empty, bottom up. */
	for (unsigned h = 0; n && --n->used == 0; h++) {
		kmem_delete(x->km, n);
		if (depth == 0) {
			x->root = NULL;
			x->height = 0;
			return;
		}
		n = path[--depth];
		n->slot[(index >> (PINDEX_BITS * (h + 1))) & PINDEX_MASK] = NULL;
	}
}

int pindex_set(struct pindex *x, uint64_t index, struct page *pg)
{
	if (!pg) {
		erase(x, index);
		return 0;
	}
	if (grow(x, index))
		return -ENOMEM;
	if (!x->root && !(x->root = kmem_new(x->km, struct pindex_node)))
		return -ENOMEM;
	struct pindex_node *n = x->root;
	for (unsigned h = x->height; h > 0; h--) {
		void **s = &n->slot[(index >> (PINDEX_BITS * h)) & PINDEX_MASK];
		if (!*s) {
			/* A failure here leaves empty nodes behind; they hold no entries and
			 * are freed with the index, so the index itself is unchanged. */
			if (!(*s = kmem_new(x->km, struct pindex_node)))
				return -ENOMEM;
			n->used++;
		}
		n = *s;
	}
	void **leaf = &n->slot[index & PINDEX_MASK];
	if (!*leaf)
		n->used++;
	*leaf = pg;
	return 0;
}

static int walk(struct pindex_node *n, unsigned height, uint64_t base, pindex_fn fn, void *ctx)
{
	for (unsigned i = 0; i < PINDEX_SLOTS; i++) {
		if (!n->slot[i])
			continue;
		uint64_t idx = base | ((uint64_t)i << (PINDEX_BITS * height));
		int r = height ? walk(n->slot[i], height - 1, idx, fn, ctx)
			       : fn(ctx, idx, n->slot[i]);
		if (r)
			return r;
	}
	return 0;
}

int pindex_for_each(const struct pindex *x, pindex_fn fn, void *ctx)
{
	return x->root ? walk(x->root, x->height, 0, fn, ctx) : 0;
}

static struct page *next_in(struct pindex_node *n, unsigned height, uint64_t base,
			    uint64_t from, uint64_t *index)
{
	unsigned shift = PINDEX_BITS * height;
	unsigned start = from > base ? (unsigned)((from - base) >> shift) : 0;
	for (unsigned i = start; i < PINDEX_SLOTS; i++) {
		if (!n->slot[i])
			continue;
		uint64_t child = base + ((uint64_t)i << shift);
		if (!height) {
			*index = child;
			return n->slot[i];
		}
		struct page *pg = next_in(n->slot[i], height - 1, child,
					  i == start && from > child ? from : child, index);
		if (pg)
			return pg;
	}
	return NULL;
}

struct page *pindex_next(const struct pindex *x, uint64_t from, uint64_t *index)
{
	if (!x->root || from > capacity(x->height))
		return NULL;
	return next_in(x->root, x->height, 0, from, index);
}
