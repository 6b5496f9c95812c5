/*
 * The integrity checker and the dump of the page-table tree (STYLE rules 10 and 20).
 * pgt_check recounts every cached quantity from the tables themselves: each table's
 * pt_used, its descriptor (owner, level, flag, refcount) and nr_tables per level. It
 * only reads; it must never repair what it finds, so a broken tree stays visible.
 */
#include "pgtable/pgtable.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "pgtable/pgtable_int.h"

/* Problems printed in full; the rest are only counted. */
#define PGT_CHECK_MAX_REPORTS	20

struct check_state {
	FILE *out;
	int problems;
	uint64_t counted[PGT_MAX_LEVELS + 1];	/* tables found per level */
};

__attribute__((format(printf, 2, 3)))
static void problem(struct check_state *s, const char *fmt, ...)
{
	if (s->problems++ >= PGT_CHECK_MAX_REPORTS)
		return;
	va_list ap;
	fputs("pgt_check: ", s->out);
	va_start(ap, fmt);
	vfprintf(s->out, fmt, ap);
	va_end(ap);
	fputc('\n', s->out);
}

static uint64_t table_pfn_of(const struct pgt *p, const pte_t *ep)
{
	return (uint64_t)((const uint8_t *)ep - p->ph->arena) >> PAGE_SHIFT;
}

/* Recounts one table page at `level` against its descriptor. */
static void check_table(struct pgt_walker *w, uint64_t pfn, int level)
{
	struct check_state *s = w->ctx;
	const struct page *pg = pfn_to_page(w->p->ph, pfn);
	const pte_t *t = pgt_table(w->p, pfn);
	unsigned used = 0;
	for (unsigned i = 0; i < PGT_ENTRIES; i++)
		used += t[i] != 0;
	s->counted[level]++;
	if (used != pg->pt_used)
		problem(s, "table pfn 0x%" PRIx64 " level %d: pt_used %u, expected %u", pfn, level,
			(unsigned)pg->pt_used, used);
	if (pg->owner_kind != OWNER_PGTABLE || pg->owner != w->p || !(pg->flags & PG_pgtable))
		problem(s, "table pfn 0x%" PRIx64 " level %d: owner kind %u flags %#x, expected "
			"OWNER_PGTABLE of this pgt with PG_pgtable", pfn, level,
			(unsigned)pg->owner_kind, (unsigned)pg->flags);
	if (pg->index != (uint64_t)level)
		problem(s, "table pfn 0x%" PRIx64 " level %d: descriptor level %" PRIu64
			", expected %d", pfn, level, pg->index, level);
	if (atomic_load(&pg->refcount) != 1)
		problem(s, "table pfn 0x%" PRIx64 " level %d: refcount %d, expected 1", pfn, level,
			atomic_load(&pg->refcount));
}

/* An entry at `level` pointing to a table: its PFN and bits, then the table below. */
static int check_pre(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	struct check_state *s = w->ctx;
	pte_t e = *ep;
	uint64_t pfn = pte_pfn(e);
	if (pfn == 0 || pfn >= w->p->ph->nr_frames) {
		problem(s, "table pfn 0x%" PRIx64 " level %d: entry for va 0x%" PRIx64 " = 0x%" PRIx64
			" points outside RAM, expected a table PFN in 1..0x%" PRIx64,
			table_pfn_of(w->p, ep), level, va, e, w->p->ph->nr_frames - 1);
		return 1;
	}
	if ((e & PGT_TABLE_BITS) != PGT_TABLE_BITS)
		problem(s, "table pfn 0x%" PRIx64 " level %d: entry for va 0x%" PRIx64 " = 0x%" PRIx64
			", expected P|RW|US on a table entry", table_pfn_of(w->p, ep), level, va, e);
	check_table(w, pfn, level - 1);
	return 0;
}

/* Leaves exist only at levels 1-3, and a huge leaf's PFN is aligned to its size. */
static int check_leaf(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	struct check_state *s = w->ctx;
	pte_t e = *ep;
	if (level > 3) {
		problem(s, "table pfn 0x%" PRIx64 " level %d: entry for va 0x%" PRIx64 " = 0x%" PRIx64
			" is a leaf, expected a table entry", table_pfn_of(w->p, ep), level, va, e);
		return 0;
	}
	/* Markers carry a kind, not a PFN, and exist only at the PTE level. */
	if (!pte_present(e) && (e & PTE_MARKER)) {
		unsigned k = pte_marker(e);
		if (level != 1 || (k != PTE_MARKER_GUARD && k != PTE_MARKER_HWPOISON))
			problem(s, "table pfn 0x%" PRIx64 " level %d: marker for va 0x%" PRIx64
				" = 0x%" PRIx64 ", expected a guard or hwpoison marker in a PTE",
				table_pfn_of(w->p, ep), level, va, e);
		return 0;
	}
	uint64_t align = (pgt_level_size(level) >> PAGE_SHIFT) - 1;
	if (level > 1 && pte_present(e) && (pte_pfn(e) & align))
		problem(s, "table pfn 0x%" PRIx64 " level %d: huge leaf for va 0x%" PRIx64 " = 0x%"
			PRIx64 ", expected a PFN aligned to 0x%" PRIx64 " frames",
			table_pfn_of(w->p, ep), level, va, e, align + 1);
	return 0;
}

int pgt_check(struct pgt *p)
{
	struct check_state s = { .out = stderr };
	struct pgt_walker w = {
		.p = p, .start = 0, .end = pgt_user_end(p),
		.leaf = check_leaf, .pre = check_pre, .ctx = &s,
	};
	check_table(&w, p->root, p->levels);
	pgt_walk(&w);
	for (int l = 1; l <= PGT_MAX_LEVELS; l++) {
		if (s.counted[l] != p->nr_tables[l])
			problem(&s, "level %d: nr_tables %" PRIu64 ", expected %" PRIu64 " (recounted)",
				l, p->nr_tables[l], s.counted[l]);
	}
	uint64_t dep = 0;
	for (struct list_head *l = p->deposit.next; l != &p->deposit; l = l->next) {
		const struct page *pg = list_entry(l, struct page, lru);
		dep++;
		if (pg->pt_used || pg->owner != p || pg->index != 1 || !(pg->flags & PG_pgtable) ||
		    pg->lru_list || atomic_load(&pg->refcount) != 1)
			problem(&s, "deposited table pfn 0x%" PRIx64 ": pt_used %u, level %" PRIu64
				", flags %#x, refcount %d", page_to_pfn(p->ph, pg), (unsigned)pg->pt_used,
				pg->index, (unsigned)pg->flags, atomic_load(&pg->refcount));
	}
	if (dep != p->nr_deposited)
		problem(&s, "nr_deposited %" PRIu64 ", expected %" PRIu64 " (recounted)",
			p->nr_deposited, dep);
	if (s.problems) {
		fprintf(stderr, "pgt_check: %d problem(s); tree of root pfn 0x%" PRIx64 ":\n",
			s.problems, p->root);
		pgt_dump(p, stderr, 0, pgt_user_end(p));
	}
	return s.problems;
}

/* ------------------------------------------------------------------ dump */

/* Linux's name for each level; with 4 levels the p4d is folded and level 4 is the pgd. */
static const char *level_name(const struct pgt *p, int level)
{
	static const char *const names[] = { "?", "pte", "pmd", "pud", "p4d", "pgd" };
	if (level == p->levels)
		return "pgd";
	return names[level];
}

static void entry_bits(pte_t e, int level, char *buf, size_t len)
{
	static const struct { pte_t bit; const char *name; } bits[] = {
		{ PTE_P, "P" }, { PTE_RW, "RW" }, { PTE_US, "US" }, { PTE_PWT, "PWT" },
		{ PTE_PCD, "PCD" }, { PTE_A, "A" }, { PTE_D, "D" }, { PTE_PS, "PS" },
		{ PTE_G, "G" }, { PTE_SPECIAL, "SPECIAL" }, { PTE_SOFTDIRTY, "SOFTDIRTY" },
		{ PTE_SOFT3, "SOFT3" }, { PTE_NX, "NX" },
	};
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
		if (!(e & bits[i].bit) || n >= len)
			continue;
		/* Bit 7 of a 4 KiB entry is PAT, not PS. */
		const char *name = (bits[i].bit == PTE_PS && level == 1) ? "PAT" : bits[i].name;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", name);
	}
	if (pte_pkey(e) && n < len)
		snprintf(buf + n, len - n, "%spkey=%u", n ? " " : "", pte_pkey(e));
}

static void dump_entry(struct pgt_walker *w, uint64_t va, pte_t e, int level, const char *what)
{
	char bits[128];
	entry_bits(e, level, bits, sizeof(bits));
	fprintf(w->ctx, "%*s%s 0x%012" PRIx64 " %016" PRIx64 " pfn 0x%" PRIx64 " %s [%s]\n",
		2 * (w->p->levels - level), "", level_name(w->p, level), va, e, pte_pfn(e), what,
		bits);
}

static int dump_pre(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	dump_entry(w, va, *ep, level, "table");
	return 0;
}

static int dump_leaf(struct pgt_walker *w, uint64_t va, pte_t *ep, int level)
{
	static const char *const markers[] = { "nonpresent", "guard", "hwpoison" };
	unsigned k = pte_marker(*ep);
	dump_entry(w, va, *ep, level, pte_present(*ep) ? "leaf" : markers[k < 3 ? k : 0]);
	return 0;
}

void pgt_dump(struct pgt *p, FILE *f, uint64_t start, uint64_t end)
{
	struct pgt_walker w = {
		.p = p, .start = start, .end = end, .leaf = dump_leaf, .pre = dump_pre, .ctx = f,
	};
	pgt_walk(&w);
}
