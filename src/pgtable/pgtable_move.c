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

/* Moves PTEs one by one from va to na, within one source and one destination PTE table
 * (each table is found once, not once per page). Returns the bytes handled (skipping a
 * missing source table whole), 0 when a huge leaf covers va, or -ENOMEM. */
static int64_t move_ptes(struct pgt *p, uint64_t va, uint64_t na, uint64_t left)
{
	uint64_t pmd = pgt_level_size(2);
	uint64_t n = min_u64(left, pmd - (va & (pmd - 1)));
	pte_t *src = entry_at(p, va, 1);
	if (!src) {
		int l;
		return pgt_lookup(p, va, &l) == NULL ? (int64_t)n : 0;
	}
	n = min_u64(n, pmd - (na & (pmd - 1))) >> PAGE_SHIFT;
	pte_t *dst = NULL;
	for (uint64_t i = 0; i < n; i++) {
		pte_t e = pte_read(&src[i]);
		if (!e)
			continue;
		if (!dst) {
			int r = pgt_alloc_entry(p, na, 1, &dst);
			if (r == -ENOMEM)
				return i ? (int64_t)(i << PAGE_SHIFT) : -ENOMEM;
			PM_ENFORCE(r == 0);	/* mremap splits huge leaves before moving */
		}
		PM_ENFORCE(!pte_read(&dst[i]) && "pgt_move_range: destination PTE already in use");
		pgt_set(p, &dst[i], e);
		pgt_set(p, &src[i], 0);
	}
	return (int64_t)(n << PAGE_SHIFT);
}

/* Moves [old, old+len) to [new, new+len); returns the bytes moved before any failure. */
static uint64_t move_forward(struct pgt *p, uint64_t old, uint64_t new, uint64_t len)
{
	uint64_t off = 0;
	while (off < len) {
		int level = move_level(old + off, new + off, len - off);
		int r = 0;
		while (level > 1 && (r = move_entry(p, old + off, new + off, level)) == 0)
			level--;
		if (r < 0)
			break;
		if (level > 1) {
			off += pgt_level_size(level);
			continue;
		}
		int64_t done = move_ptes(p, old + off, new + off, len - off);
		PM_ENFORCE(done != 0 && "pgt_move_range: a huge leaf is in the way");
		if (done < 0)
			break;
		off += (uint64_t)done;
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
