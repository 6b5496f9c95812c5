/*
 * Moving page-table entries for mremap (Linux's move_page_tables). Where source and
 * destination are both aligned to a level's size and a whole entry's span is moving, the
 * entry itself is relinked, table and all, so a 2 MiB-aligned 1 GiB move costs 512 entry
 * moves rather than 262144 (and a 1 GiB-aligned one, a single move). Elsewhere PTEs move
 * one by one. Never frees or touches a leaf's frame; counts stay exact through pgt_set.
 */
#include "pgtable/pgtable.h"

#include <errno.h>

#include "lib/pm_assert.h"
#include "pgtable/pgtable_int.h"

/* The entry for va at exactly `level`, or NULL when a table above is missing or a huge
 * leaf above covers va. Never allocates. */
static pte_t *entry_at(struct pgt *p, uint64_t va, int level)
{
	pte_t *table = pgt_table(p, p->root);
	for (int l = p->levels; l > level; l--) {
		pte_t e = pte_read(&table[pgt_index(va, l)]);
		if (!pte_is_table(e, l))
			return NULL;
		table = pgt_table(p, pte_pfn(e));
	}
	return &table[pgt_index(va, level)];
}

/* Moves the one entry of `level` covering va to na. 1 = moved (or nothing there), 0 = the
 * entry cannot move whole here, -ENOMEM = no table for the destination. */
static int move_entry(struct pgt *p, uint64_t va, uint64_t na, int level)
{
	pte_t *src = entry_at(p, va, level);
	if (!src) {
		int l;
		return pgt_lookup(p, va, &l) == NULL ? 1 : 0;	/* empty, or under a huge leaf */
	}
	pte_t e = pte_read(src);
	if (!e)
		return 1;
	pte_t *dst;
	int r = pgt_alloc_entry(p, na, level, &dst);
	if (r == -ENOMEM)
		return -ENOMEM;
	if (r || pte_read(dst))
		return 0;	/* the destination is not empty at this level: go finer */
	pgt_set(p, dst, e);
	pgt_set(p, src, 0);
	return 1;
}

/* The largest level (3, 2 or 1) at which [va, va+left) and na can move a whole entry. */
static int move_level(uint64_t va, uint64_t na, uint64_t left)
{
	for (int l = 3; l > 1; l--) {
		uint64_t sz = pgt_level_size(l);
		if (!(va & (sz - 1)) && !(na & (sz - 1)) && left >= sz)
			return l;
	}
	return 1;
}

/* Moves [old, old+len) to [new, new+len); returns the bytes moved before any failure. */
static uint64_t move_forward(struct pgt *p, uint64_t old, uint64_t new, uint64_t len)
{
	uint64_t off = 0;
	while (off < len) {
		int level = move_level(old + off, new + off, len - off);
		int r;
		while ((r = move_entry(p, old + off, new + off, level)) == 0 && level > 1)
			level--;
		if (r < 0)
			break;
		if (r == 0)
			PM_ENFORCE(!"pgt_move_range: destination PTE already in use");
		off += pgt_level_size(level);
	}
	return off;
}

/* Frees the tables the move left empty in [start, start+len). */
static int no_leaf(void *ctx, uint64_t va, pte_t *ep, int level)
{
	(void)ctx;
	(void)va;
	(void)ep;
	(void)level;
	PM_ENFORCE(!"pgt_move_range: a leaf stayed behind");
	return 0;
}

int pgt_move_range(struct pgt *p, uint64_t old, uint64_t new, uint64_t len)
{
	uint64_t moved = move_forward(p, old, new, len);
	if (moved < len) {
		/* Out of table frames: put back what moved. The source tables were not freed
		 * yet, so the way back needs no allocation (Linux moves back the same way). */
		uint64_t back = move_forward(p, new, old, moved);
		PM_ENFORCE(back == moved);
		pgt_unmap_range(p, new, new + len, no_leaf, NULL);
		return -ENOMEM;
	}
	pgt_unmap_range(p, old, old + len, no_leaf, NULL);
	return 0;
}
