/*
 * Range operations over the tree: the one walker, and walk, unmap and protect built on it.
 * The walker visits only non-zero entries of tables that exist, so a pass over a sparse
 * range costs O(tables), not O(pages). Unmap frees every table page it leaves empty, up
 * to but never including the root; zap keeps them (Linux's zap_page_range), and
 * pgt_free_tables frees the empty ones later (free_pgtables). Nothing here frees a leaf's frame: the caller's zap
 * callback decides that.
 */
#include "pgtable/pgtable.h"

#include "lib/pm_assert.h"
#include "pgtable/pgtable_int.h"

static int walk_table(struct pgt_walker *w, pte_t *table, int level, uint64_t base);

/* One table entry: pre, the subtree, post. */
static int walk_child(struct pgt_walker *w, pte_t *ep, int level, uint64_t va)
{
	if (w->pre && w->pre(w, va, ep, level))
		return 0;
	int r = walk_table(w, pgt_table(w->p, pte_pfn(pte_read(ep))), level - 1, va);
	if (w->post)
		w->post(w, va, ep, level);
	return r;
}

/* The entries of one table at `level` whose span [va, va + size) overlaps the range;
 * base is the address its entry 0 maps. */
static int walk_table(struct pgt_walker *w, pte_t *table, int level, uint64_t base)
{
	uint64_t size = pgt_level_size(level);
	unsigned i = w->start > base ? pgt_index(w->start, level) : 0;
	uint64_t va = base + i * size;
	for (; i < PGT_ENTRIES && va < w->end; i++, va += size) {
		pte_t e = pte_read(&table[i]);
		if (e == 0)
			continue;
		int r;
		if (pte_is_table(e, level))
			r = walk_child(w, &table[i], level, va);
		else if (w->leaf)
			r = w->leaf(w, va, &table[i], level);
		else
			r = 0;
		if (r)
			return r;
	}
	return 0;
}

int pgt_walk(struct pgt_walker *w)
{
	w->end = min_u64(w->end, pgt_user_end(w->p));
	if (w->start >= w->end)
		return 0;
	return walk_table(w, pgt_table(w->p, w->p->root), w->p->levels, 0);
}

void pgt_free_if_empty(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	struct pgt *p = w->p;
	struct page *child = pfn_to_page(p->ph, pte_pfn(pte_read(ep)));
	if (child->pt_used != 0)
		return;
	pgt_set(p, ep, 0);
	p->nr_tables[level - 1]--;
	phys_put(p->ph, child);
}

static int walk_leaf(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	return w->fn(w->ctx, va, ep, level);
}

int pgt_walk_range(struct pgt *p, uint64_t start, uint64_t end, pgt_leaf_fn fn, void *ctx)
{
	struct pgt_walker w = {
		.p = p, .start = start, .end = end, .leaf = walk_leaf, .fn = fn, .ctx = ctx,
	};
	return pgt_walk(&w);
}

/* A huge leaf cut by the range would leave part of its frames mapped with no entry left
 * to find them by: the caller must split first (pgt_split_huge). */
static void enforce_whole_leaf(const struct pgt_walker *w, uint64_t va, int level)
{
	if (level > 1)
		PM_ENFORCE(va >= w->start && va + pgt_level_size(level) <= w->end);
}

static int unmap_leaf(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	enforce_whole_leaf(w, va, level);
	if (w->fn && w->fn(w->ctx, va, ep, level))
		return 0;	/* the caller keeps this entry */
	if (*ep != 0)
		pgt_set(w->p, ep, 0);
	return 0;
}

void pgt_unmap_range(struct pgt *p, uint64_t start, uint64_t end, pgt_leaf_fn zap, void *ctx)
{
	struct pgt_walker w = {
		.p = p, .start = start, .end = end,
		.leaf = unmap_leaf, .post = pgt_free_if_empty, .fn = zap, .ctx = ctx,
	};
	pgt_walk(&w);
}

void pgt_zap_range(struct pgt *p, uint64_t start, uint64_t end, pgt_leaf_fn zap, void *ctx)
{
	struct pgt_walker w = {
		.p = p, .start = start, .end = end, .leaf = unmap_leaf, .fn = zap, .ctx = ctx,
	};
	pgt_walk(&w);
}

void pgt_free_tables(struct pgt *p, uint64_t start, uint64_t end)
{
	struct pgt_walker w = { .p = p, .start = start, .end = end, .post = pgt_free_if_empty };
	pgt_walk(&w);
}

struct protect_bits {
	pte_t clear, set;
};

/* A compare-and-swap loop, so an A or D bit the software MMU sets meanwhile is kept. */
static int protect_leaf(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	const struct protect_bits *b = w->ctx;
	pte_t old = pte_read(ep);
	if (!pte_present(old))
		return 0;
	enforce_whole_leaf(w, va, level);
	pte_t val;
	do {
		val = (old & ~b->clear) | b->set;
	} while (!__atomic_compare_exchange_n(ep, &old, val, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	/* A present entry must stay non-zero, or pt_used would go stale. */
	PM_ENFORCE(val != 0);
	return 0;
}

void pgt_protect_range(struct pgt *p, uint64_t start, uint64_t end, pte_t clear, pte_t set)
{
	struct protect_bits b = { .clear = clear, .set = set };
	struct pgt_walker w = {
		.p = p, .start = start, .end = end, .leaf = protect_leaf, .ctx = &b,
	};
	pgt_walk(&w);
}
