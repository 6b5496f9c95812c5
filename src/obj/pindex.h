/*
 * A page index: a radix tree from a 64-bit page number to a frame (struct page *), 64 slots
 * per node, growing in height as larger indices are stored. It is the lookup structure of
 * every object (and of the page cache later). It owns its nodes, never the frames.
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
/* Stores pg at index (NULL erases). 0, or -ENOMEM with the index unchanged. */
int pindex_set(struct pindex *x, uint64_t index, struct page *pg);
/* Calls fn for every stored entry in ascending order; stops and returns fn's non-zero. */
/* The entry with the smallest index >= from, with *index set, or NULL when none. Unlike
 * pindex_for_each it holds no position inside the tree, so callers may erase entries
 * between calls (truncation and invalidation walk this way). */
struct page *pindex_next(const struct pindex *x, uint64_t from, uint64_t *index);
typedef int (*pindex_fn)(void *ctx, uint64_t index, struct page *pg);
int pindex_for_each(const struct pindex *x, pindex_fn fn, void *ctx);

#endif
