/*
 * A page index: a radix tree from a 64-bit page number to a frame (struct page *) or, for
 * swapped-out shmem, to a swap slot number (Linux's xarray value entries), 64 slots per
 * node, growing in height as larger indices are stored. It is the lookup structure of
 * every object. It owns its nodes, never the frames or the slots. The frame calls
 * (pindex_get, pindex_next, pindex_for_each) see frames only; the _swap calls see swap
 * entries only; pindex_set and pindex_set_swap replace whatever an index held.
 */
#ifndef PM_OBJ_PINDEX_H
#define PM_OBJ_PINDEX_H

#include <stdint.h>

struct kmem;
struct page;
struct pindex_node;

struct pindex {
	struct pindex_node *root;	/* NULL when empty */
	unsigned height;		/* levels below root; root covers 64^(height+1) indices */
	struct kmem *km;		/* immutable */
};

void pindex_init(struct pindex *x, struct kmem *km);
/* Frees the nodes (not the frames). */
void pindex_destroy(struct pindex *x);
struct page *pindex_get(const struct pindex *x, uint64_t index);
/* Stores pg at index (NULL erases a frame or a swap entry). 0, or -ENOMEM with the index
 * unchanged; replacing an existing entry never allocates, so never fails. */
int pindex_set(struct pindex *x, uint64_t index, struct page *pg);
/* 1 with *slot set when index holds a swap entry, else 0. */
int pindex_get_swap(const struct pindex *x, uint64_t index, uint64_t *slot);
/* Stores swap slot number `slot` (never 0) at index. 0 or -ENOMEM, as pindex_set. */
int pindex_set_swap(struct pindex *x, uint64_t index, uint64_t slot);
/* The frame with the smallest index >= from, with *index set, or NULL when none. Unlike
 * pindex_for_each it holds no position inside the tree, so callers may erase entries
 * between calls (truncation and invalidation walk this way). */
struct page *pindex_next(const struct pindex *x, uint64_t from, uint64_t *index);
/* The swap entry with the smallest index >= from: 1 with *index and *slot set, or 0. */
int pindex_next_swap(const struct pindex *x, uint64_t from, uint64_t *index, uint64_t *slot);
/* Calls fn for every frame (pindex_for_each) or every swap entry (pindex_for_each_swap) in
 * ascending order; stops and returns fn's non-zero. */
typedef int (*pindex_fn)(void *ctx, uint64_t index, struct page *pg);
typedef int (*pindex_swap_fn)(void *ctx, uint64_t index, uint64_t slot);
int pindex_for_each(const struct pindex *x, pindex_fn fn, void *ctx);
int pindex_for_each_swap(const struct pindex *x, pindex_swap_fn fn, void *ctx);

#endif
