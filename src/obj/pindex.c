/*
 * Radix tree of page pointers, 6 bits of index per level. Lookups are a few dependent loads;
 * a sparse index costs only the nodes on its paths. Empty nodes are freed on erase so an
 * object that loses all its pages holds no memory here. A bottom-level slot holds either a
 * frame or a swap slot number (swapped-out shmem, Linux's xarray value entry); the node's
 * swap_map says which, so no pointer ever carries a tag. The frame calls never return a
 * swap entry and the swap calls never return a frame.
 */
#include "obj/pindex.h"

#include <errno.h>

#include "lib/kmem.h"

#define PINDEX_BITS	6
#define PINDEX_SLOTS	(1u << PINDEX_BITS)
#define PINDEX_MASK	(PINDEX_SLOTS - 1)

/* One slot: a child node, a frame (bottom level), or a swap slot number (bottom level,
 * with its bit set in swap_map; slot numbers are never 0). */
union pindex_slot {
	void *ptr;
	uint64_t swap;
};

struct pindex_node {
	union pindex_slot slot[PINDEX_SLOTS];
	uint64_t swap_map;		/* bottom level: bit i set = slot[i] holds a swap number */
	unsigned used;			/* non-empty slots */
};

static int is_swap(const struct pindex_node *n, unsigned i) { return (n->swap_map >> i) & 1; }
static int is_empty(const struct pindex_node *n, unsigned i)
{
	return !is_swap(n, i) && !n->slot[i].ptr;
}

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
			free_node(km, n->slot[i].ptr, height - 1);
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

/* The bottom node holding index, or NULL. */
static struct pindex_node *leaf_of(const struct pindex *x, uint64_t index)
{
	if (!x->root || index > capacity(x->height))
		return NULL;
	struct pindex_node *n = x->root;
	for (unsigned h = x->height; h > 0 && n; h--)
		n = n->slot[(index >> (PINDEX_BITS * h)) & PINDEX_MASK].ptr;
	return n;
}

struct page *pindex_get(const struct pindex *x, uint64_t index)
{
	struct pindex_node *n = leaf_of(x, index);
	unsigned i = index & PINDEX_MASK;
	return n && !is_swap(n, i) ? n->slot[i].ptr : NULL;
}

int pindex_get_swap(const struct pindex *x, uint64_t index, uint64_t *slot)
{
	struct pindex_node *n = leaf_of(x, index);
	unsigned i = index & PINDEX_MASK;
	if (!n || !is_swap(n, i))
		return 0;
	*slot = n->slot[i].swap;
	return 1;
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
		top->slot[0].ptr = x->root;
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
		n = n->slot[(index >> (PINDEX_BITS * h)) & PINDEX_MASK].ptr;
		if (!n)
			return;
	}
	unsigned i = index & PINDEX_MASK;
	if (is_empty(n, i))
		return;
	n->slot[i].ptr = NULL;
	n->swap_map &= ~(1ULL << i);
	/* Free nodes that became empty, bottom up. */
	for (unsigned h = 0; n && --n->used == 0; h++) {
		kmem_delete(x->km, n);
		if (depth == 0) {
			x->root = NULL;
			x->height = 0;
			return;
		}
		n = path[--depth];
		n->slot[(index >> (PINDEX_BITS * (h + 1))) & PINDEX_MASK].ptr = NULL;
	}
}

/* The bottom node for index, created along the way. NULL on -ENOMEM (empty nodes a
 * failure leaves behind hold no entries and are freed with the index). */
static struct pindex_node *leaf_make(struct pindex *x, uint64_t index)
{
	if (grow(x, index))
		return NULL;
	if (!x->root && !(x->root = kmem_new(x->km, struct pindex_node)))
		return NULL;
	struct pindex_node *n = x->root;
	for (unsigned h = x->height; h > 0; h--) {
		void **s = &n->slot[(index >> (PINDEX_BITS * h)) & PINDEX_MASK].ptr;
		if (!*s) {
			if (!(*s = kmem_new(x->km, struct pindex_node)))
				return NULL;
			n->used++;
		}
		n = *s;
	}
	return n;
}

int pindex_set(struct pindex *x, uint64_t index, struct page *pg)
{
	if (!pg) {
		erase(x, index);
		return 0;
	}
	struct pindex_node *n = leaf_make(x, index);
	if (!n)
		return -ENOMEM;
	unsigned i = index & PINDEX_MASK;
	if (is_empty(n, i))
		n->used++;
	n->swap_map &= ~(1ULL << i);
	n->slot[i].ptr = pg;
	return 0;
}

int pindex_set_swap(struct pindex *x, uint64_t index, uint64_t slot)
{
	struct pindex_node *n = leaf_make(x, index);
	if (!n)
		return -ENOMEM;
	unsigned i = index & PINDEX_MASK;
	if (is_empty(n, i))
		n->used++;
	n->swap_map |= 1ULL << i;
	n->slot[i].swap = slot;
	return 0;
}

/* Visits the frames (with fn) or the swap entries (with sfn) under n: one of them is NULL. */
static int walk(struct pindex_node *n, unsigned height, uint64_t base, pindex_fn fn,
		pindex_swap_fn sfn, void *ctx)
{
	for (unsigned i = 0; i < PINDEX_SLOTS; i++) {
		if (is_empty(n, i))
			continue;
		uint64_t idx = base | ((uint64_t)i << (PINDEX_BITS * height));
		int r = 0;
		if (height)
			r = walk(n->slot[i].ptr, height - 1, idx, fn, sfn, ctx);
		else if (sfn && is_swap(n, i))
			r = sfn(ctx, idx, n->slot[i].swap);
		else if (fn && !is_swap(n, i))
			r = fn(ctx, idx, n->slot[i].ptr);
		if (r)
			return r;
	}
	return 0;
}

int pindex_for_each(const struct pindex *x, pindex_fn fn, void *ctx)
{
	return x->root ? walk(x->root, x->height, 0, fn, NULL, ctx) : 0;
}

int pindex_for_each_swap(const struct pindex *x, pindex_swap_fn fn, void *ctx)
{
	return x->root ? walk(x->root, x->height, 0, NULL, fn, ctx) : 0;
}

/* The first entry of the wanted kind at or after from under n: 1 with *index and *out
 * (the frame pointer or the swap number) set, else 0. */
static int next_in(struct pindex_node *n, unsigned height, uint64_t base, uint64_t from,
		   int swap, uint64_t *index, union pindex_slot *out)
{
	unsigned shift = PINDEX_BITS * height;
	unsigned start = from > base ? (unsigned)((from - base) >> shift) : 0;
	for (unsigned i = start; i < PINDEX_SLOTS; i++) {
		if (is_empty(n, i))
			continue;
		uint64_t child = base + ((uint64_t)i << shift);
		if (!height) {
			if (is_swap(n, i) != swap)
				continue;
			*index = child;
			*out = n->slot[i];
			return 1;
		}
		if (next_in(n->slot[i].ptr, height - 1, child, i == start && from > child ? from : child,
			    swap, index, out))
			return 1;
	}
	return 0;
}

struct page *pindex_next(const struct pindex *x, uint64_t from, uint64_t *index)
{
	union pindex_slot s;
	if (!x->root || from > capacity(x->height) ||
	    !next_in(x->root, x->height, 0, from, 0, index, &s))
		return NULL;
	return s.ptr;
}

int pindex_next_swap(const struct pindex *x, uint64_t from, uint64_t *index, uint64_t *slot)
{
	union pindex_slot s;
	if (!x->root || from > capacity(x->height) ||
	    !next_in(x->root, x->height, 0, from, 1, index, &s))
		return 0;
	*slot = s.swap;
	return 1;
}
