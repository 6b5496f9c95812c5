/*
 * Private to the pgtable layer: entry decoding, table-page bookkeeping and the one range
 * walker that every traversal (walk, unmap, protect, check, dump, destroy) goes through.
 * Invariant kept by these helpers: a table page carries OWNER_PGTABLE, PG_pgtable, owner =
 * its struct pgt and index = its level. Nothing outside src/pgtable may include this file.
 */
#ifndef PM_PGTABLE_INT_H
#define PM_PGTABLE_INT_H

#include "pgtable/pgtable.h"

#define PGT_ENTRIES	512
/* Bits of an intermediate entry: permissions are decided at the leaf (SPEC §1). */
#define PGT_TABLE_BITS	(PTE_P | PTE_RW | PTE_US)

/* Index of va's entry in a table at `level` (bits 12+9*(level-1) .. +8). */
static inline unsigned pgt_index(uint64_t va, int level)
{
	return (unsigned)(va >> (9 * level + 3)) & (PGT_ENTRIES - 1);
}

/* A non-zero entry above level 1 that points to a table: present and without PS. Anything
 * else non-zero (a PS leaf, or a non-present huge marker) is a leaf. */
static inline int pte_is_table(pte_t e, int level)
{
	return level > 1 && (e & (PTE_P | PTE_PS)) == PTE_P;
}

/* Entries are read atomically because the software MMU sets A/D concurrently and faults
 * under the shared mm lock may install tables (pgt_alloc_entry). */
static inline pte_t pte_read(const pte_t *ep)
{
	return __atomic_load_n(ep, __ATOMIC_ACQUIRE);
}

static inline pte_t *pgt_table(const struct pgt *p, uint64_t pfn)
{
	return (pte_t *)pfn_to_virt(p->ph, pfn);
}

/*
 * The range walker. For each non-zero entry overlapping [start, end) of each table
 * reached: a leaf goes to `leaf`; a table entry goes to `pre` (a non-zero return skips
 * that subtree), then its subtree, then `post`. A non-zero return from `leaf` stops the
 * walk and is returned. Callbacks left NULL are skipped.
 */
struct pgt_walker {
	struct pgt *p;
	uint64_t start, end;		/* bytes; end exclusive, clamped to the user range */
	int (*leaf)(struct pgt_walker *w, uint64_t va, pte_t *ep, int level);
	int (*pre)(struct pgt_walker *w, uint64_t va, pte_t *ep, int level);
	void (*post)(struct pgt_walker *w, uint64_t va, pte_t *ep, int level);
	pgt_leaf_fn fn;			/* the caller's callback, for walk and unmap */
	void *ctx;			/* fn's context, or the walker user's own state */
};

/* Runs w over the whole tree below the root. Returns the first non-zero leaf result. */
int pgt_walk(struct pgt_walker *w);
/* post callback: frees the child table of *ep when it has no entries left. */
void pgt_free_if_empty(struct pgt_walker *w, uint64_t va, pte_t *ep, int level);

#endif
