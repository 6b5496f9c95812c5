/*
 * The page-table tree itself: creating and destroying it, finding and allocating entries,
 * storing entries with pt_used kept in step, and splitting huge leaves. Table pages come
 * from phys as zeroed frames and go back with phys_put. Invariants: every table page's
 * pt_used counts its non-zero entries, nr_tables[] counts reachable tables per level, and
 * the root is freed only by pgt_destroy. This file never reads or frees a leaf's frame.
 */
#include "pgtable/pgtable.h"

#include <errno.h>

#include "lib/pm_assert.h"
#include "pgtable/pgtable_int.h"

/* A zeroed frame dressed as a table page of `level`, or NULL when phys is out of frames. */
static struct page *table_alloc(struct pgt *p, int level)
{
	struct page *pg = phys_alloc(p->ph, 0, PHYS_ZERO);
	if (!pg)
		return NULL;
	pg->owner_kind = OWNER_PGTABLE;
	pg->owner = p;
	pg->index = (uint64_t)level;
	pg->flags |= PG_pgtable;
	pg->pt_used = 0;
	return pg;
}

/* The table page that holds the entry ep: entries live in the arena, so the offset of ep
 * names the frame. */
static struct page *table_page_of(const struct pgt *p, const pte_t *ep)
{
	uint64_t off = (uint64_t)((const uint8_t *)ep - p->ph->arena);
	PM_ASSERT(off < (p->ph->nr_frames << PAGE_SHIFT));
	return pfn_to_page(p->ph, off >> PAGE_SHIFT);
}

int pgt_init(struct pgt *p, struct phys *ph, int levels)
{
	if (levels != 4 && levels != 5)
		return -EINVAL;
	*p = (struct pgt){ .ph = ph, .levels = levels };
	list_init(&p->deposit);
	struct page *root = table_alloc(p, levels);
	if (!root)
		return -ENOMEM;
	p->root = page_to_pfn(ph, root);
	p->nr_tables[levels] = 1;
	return 0;
}

/* leaf callback of pgt_destroy: a leaf still mapped means the caller forgot an unmap, and
 * freeing the tables under it would lose track of the frame. */
static int destroy_leaf(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	PM_ENFORCE(!"pgt_destroy: a leaf entry is still mapped");
	return 0;
}

void pgt_destroy(struct pgt *p)
{
	struct pgt_walker w = {
		.p = p, .start = 0, .end = pgt_user_end(p),
		.leaf = destroy_leaf, .post = pgt_free_if_empty,
	};
	pgt_walk(&w);
	while (p->nr_deposited)
		pgt_withdraw(p);
	struct page *root = pfn_to_page(p->ph, p->root);
	PM_ENFORCE(root->pt_used == 0);
	phys_put(p->ph, root);
	p->nr_tables[p->levels] = 0;
	p->root = 0;
}

pte_t *pgt_lookup(struct pgt *p, uint64_t va, int *level)
{
	if (va >= pgt_user_end(p))
		return NULL;
	uint8_t *arena = p->ph->arena;
	pte_t *table = (pte_t *)(arena + (p->root << PAGE_SHIFT));
	for (int l = p->levels; l > 1; l--) {
		pte_t *ep = &table[pgt_index(va, l)];
		pte_t e = pte_read(ep);
		if ((e & (PTE_P | PTE_PS)) != PTE_P) {
			if (e == 0)
				return NULL;
			PM_ASSERT(l <= 3);
			*level = l;
			return ep;
		}
		table = (pte_t *)(arena + (e & PTE_PFN_MASK));
	}
	*level = 1;
	return &table[pgt_index(va, 1)];
}

/*
 * Installs a new table of `level` in the empty entry *ep of the table above. Faults run
 * under the shared mm lock, so two may race here: the entry is claimed with a
 * compare-and-swap and the loser frees its page (as Linux's pmd_install does under the
 * page-table lock). Returns the entry's value afterwards, or 0 when out of frames.
 */
static pte_t table_install(struct pgt *p, pte_t *ep, int level)
{
	struct page *pg = table_alloc(p, level);
	if (!pg)
		return 0;
	pte_t want = pte_mk(page_to_pfn(p->ph, pg), PGT_TABLE_BITS);
	pte_t old = 0;
	if (!__atomic_compare_exchange_n(ep, &old, want, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		phys_put(p->ph, pg);
		return old;
	}
	__atomic_fetch_add(&table_page_of(p, ep)->pt_used, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->nr_tables[level], 1, __ATOMIC_RELAXED);
	return want;
}

int pgt_alloc_entry(struct pgt *p, uint64_t va, int level, pte_t **ep)
{
	PM_ASSERT(level >= 1 && level <= 3 && va < pgt_user_end(p));
	pte_t *table = pgt_table(p, p->root);
	for (int l = p->levels; l > level; l--) {
		pte_t *e = &table[pgt_index(va, l)];
		pte_t v = pte_read(e);
		if (v == 0) {
			v = table_install(p, e, l - 1);
			if (v == 0)
				return -ENOMEM;
		}
		if (!pte_is_table(v, l))
			return -EEXIST;
		table = pgt_table(p, pte_pfn(v));
	}
	*ep = &table[pgt_index(va, level)];
	return 0;
}

void pgt_set(struct pgt *p, pte_t *ep, pte_t val)
{
	pte_t old = pte_read(ep);
	__atomic_store_n(ep, val, __ATOMIC_RELEASE);
	if ((old == 0) == (val == 0))
		return;
	struct page *tp = table_page_of(p, ep);
	if (val) {
		uint16_t n = __atomic_add_fetch(&tp->pt_used, 1, __ATOMIC_RELAXED);
		PM_ASSERT(n <= PGT_ENTRIES);
		(void)n;
	} else {
		uint16_t n = __atomic_fetch_sub(&tp->pt_used, 1, __ATOMIC_RELAXED);
		PM_ASSERT(n > 0);
		(void)n;
	}
}

/*
 * Fills a fresh table with the 512 next-level pieces of the huge leaf e at `level`. The
 * entries keep every bit of e, PFN advancing by one piece each. Moving down to level 1
 * drops PS, because bit 7 of a 4 KiB entry means PAT; 2 MiB pieces of a 1 GiB leaf keep
 * it, because they are leaves too.
 */
static void split_fill(pte_t *table, pte_t e, int level)
{
	uint64_t step = pgt_level_size(level - 1) >> PAGE_SHIFT;
	uint64_t pfn = pte_pfn(e);
	pte_t bits = e & ~PTE_PFN_MASK;
	if (level - 1 == 1)
		bits &= ~PTE_PS;
	for (unsigned i = 0; i < PGT_ENTRIES; i++)
		table[i] = pte_mk(pfn + i * step, bits);
}

int pgt_split_huge(struct pgt *p, uint64_t va)
{
	int level;
	pte_t *ep = pgt_lookup(p, va, &level);
	if (!ep || level == 1)
		return 0;
	pte_t e = pte_read(ep);
	if (!(e & PTE_PS))
		return 0;	/* nothing there, or a table: a huge leaf present or not has PS */
	struct page *pg = NULL;
	if (level == 2 && p->nr_deposited) {	/* pgtable_trans_huge_withdraw */
		pg = list_entry(p->deposit.next, struct page, lru);
		list_del(&pg->lru);
		p->nr_deposited--;
	} else if (!(pg = table_alloc(p, level - 1))) {
		return -ENOMEM;
	}
	split_fill(pgt_table(p, page_to_pfn(p->ph, pg)), e, level);
	pg->pt_used = PGT_ENTRIES;
	p->nr_tables[level - 1]++;
	/* Non-zero to non-zero: the containing table's pt_used is unchanged. */
	__atomic_store_n(ep, pte_mk(page_to_pfn(p->ph, pg), PGT_TABLE_BITS), __ATOMIC_RELEASE);
	return 0;
}

uint64_t pgt_nr_tables(const struct pgt *p)
{
	uint64_t n = p->nr_deposited;
	for (int l = 1; l < p->levels; l++)
		n += p->nr_tables[l];
	return n;
}

int pgt_collapse_huge(struct pgt *p, uint64_t va, pte_t leaf)
{
	int level;
	pte_t *ep = pgt_lookup(p, va, &level);
	PM_ENFORCE(!(va & (pgt_level_size(2) - 1)) && (leaf & PTE_PS));
	if (!ep || level != 1)
		return -EINVAL;
	struct page *pt = table_page_of(p, ep);
	if (pt->pt_used != 0)
		return -EBUSY;
	/* The PMD that points at this table: walk down once more to reach it. */
	pte_t *table = pgt_table(p, p->root);
	for (int l = p->levels; l > 2; l--)
		table = pgt_table(p, pte_pfn(pte_read(&table[pgt_index(va, l)])));
	pte_t *pmd = &table[pgt_index(va, 2)];
	/* Non-zero to non-zero: the PD's pt_used is unchanged (pmdp_collapse_flush, then the
	 * table freed as collapse_huge_page's pte_free does). */
	__atomic_store_n(pmd, leaf, __ATOMIC_RELEASE);
	p->nr_tables[1]--;
	list_add(&pt->lru, &p->deposit);	/* collapse_huge_page deposits the old table */
	p->nr_deposited++;
	return 0;
}

int pgt_deposit(struct pgt *p)
{
	struct page *pg = table_alloc(p, 1);
	if (!pg)
		return -ENOMEM;
	list_add(&pg->lru, &p->deposit);
	p->nr_deposited++;
	return 0;
}

void pgt_withdraw(struct pgt *p)
{
	PM_ENFORCE(p->nr_deposited > 0);
	struct page *pg = list_entry(p->deposit.next, struct page, lru);
	list_del(&pg->lru);
	p->nr_deposited--;
	phys_put(p->ph, pg);
}
