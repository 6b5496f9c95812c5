/*
 * The VMA index's integrity checker and dump (STYLE rules 10 and 20). vma_tree_check walks
 * the whole tree and recomputes from scratch what the nodes cache: order and overlap, each
 * slot's end and max gap, unused-slot sentinels, node fill, leaf depth, the count, the
 * node and spare tallies, and the address-ordered list. It reports each problem (up to
 * CHECK_MAX_REPORTS) naming the node or VMA with expected and found values, then dumps
 * the tree once. It never changes the tree.
 */
#include "vma/vma.h"

#include <inttypes.h>
#include <stdarg.h>

#include "lib/common.h"
#include "vma/vma_node.h"

#define CHECK_MAX_REPORTS 20

struct check_ctx {
	struct vma_tree *t;
	int problems;
	const struct vma *prev;		/* last VMA met in tree order */
	struct list_head *cursor;	/* where the list walk stands */
	uint64_t count;			/* VMAs met */
	uint64_t nodes;			/* nodes met */
	int leaf_depth;			/* depth of the first leaf met; -1 before */
	unsigned ordinal[VMA_MAX_HEIGHT]; /* nodes met so far at each depth, for names */
};

/* What a subtree really holds, recomputed. */
struct subtree {
	uint64_t end;
	uint64_t gap;
};

static void problem(struct check_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct check_ctx *c, const char *fmt, ...)
{
	if (++c->problems > CHECK_MAX_REPORTS)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vma_tree_check: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void check_fill(struct check_ctx *c, const struct vma_node *n, unsigned d,
		       unsigned ord, bool root)
{
	unsigned floor = root ? (n->leaf ? 1 : 2) : VMA_NODE_MIN;
	if (n->nr < floor || n->nr > VMA_NODE_SLOTS)
		problem(c, "node d%u.%u: nr = %u, want %u..%u", d, ord, n->nr, floor,
			VMA_NODE_SLOTS);
	for (unsigned k = n->nr; k < VMA_NODE_SLOTS; k++)
		if (n->end[k] != UINT64_MAX || n->gap[k] != 0)
			problem(c, "node d%u.%u unused slot %u: end = %#" PRIx64 ", gap = %#" PRIx64
				", want all ones and 0", d, ord, k, n->end[k], n->gap[k]);
	if (n->leaf && c->leaf_depth < 0)
		c->leaf_depth = (int)d;
	else if (n->leaf && c->leaf_depth != (int)d)
		problem(c, "node d%u.%u: leaf at depth %u, want %d", d, ord, d, c->leaf_depth);
}

static void check_vma(struct check_ctx *c, const struct vma_node *n, unsigned d,
		      unsigned ord, unsigned i, struct subtree *s)
{
	struct vma *v = n->vma[i];
	if (v->vm_start >= v->vm_end || !page_aligned(v->vm_start) || !page_aligned(v->vm_end))
		problem(c, "vma %#" PRIx64 "-%#" PRIx64 ": empty or not page aligned",
			v->vm_start, v->vm_end);
	if (c->prev && c->prev->vm_end > v->vm_start)
		problem(c, "vma %#" PRIx64 "-%#" PRIx64 ": overlaps or precedes %#" PRIx64
			"-%#" PRIx64, v->vm_start, v->vm_end, c->prev->vm_start, c->prev->vm_end);
	if (n->end[i] != v->vm_end)
		problem(c, "node d%u.%u slot %u: end = %#" PRIx64 ", want %#" PRIx64, d, ord, i,
			n->end[i], v->vm_end);
	uint64_t gap = vma_gap_below(c->t, c->prev, v);
	if (n->gap[i] != gap)
		problem(c, "node d%u.%u slot %u (vma %#" PRIx64 "): gap = %#" PRIx64
			", want %#" PRIx64, d, ord, i, v->vm_start, n->gap[i], gap);
	if (c->cursor != &v->vm_list)
		problem(c, "vma %#" PRIx64 "-%#" PRIx64 ": list holds %s here, tree order wants it",
			v->vm_start, v->vm_end, c->cursor == &c->t->vmas ? "the end" : "another vma");
	c->cursor = v->vm_list.next;
	c->prev = v;
	c->count++;
	s->end = v->vm_end;
	s->gap = max_u64(s->gap, gap);
}

static struct subtree check_node(struct check_ctx *c, const struct vma_node *n, unsigned d,
				 bool root)
{
	struct subtree s = { 0, 0 };
	unsigned ord = c->ordinal[d]++;
	c->nodes++;
	check_fill(c, n, d, ord, root);
	unsigned nr = n->nr > VMA_NODE_SLOTS ? VMA_NODE_SLOTS : n->nr;
	for (unsigned i = 0; i < nr; i++) {
		if (n->leaf) {
			check_vma(c, n, d, ord, i, &s);
			continue;
		}
		if (d + 1 >= VMA_MAX_HEIGHT) {
			problem(c, "node d%u.%u: deeper than %u levels", d, ord, VMA_MAX_HEIGHT);
			return s;
		}
		struct subtree cs = check_node(c, n->child[i], d + 1, false);
		if (n->end[i] != cs.end)
			problem(c, "node d%u.%u slot %u: end = %#" PRIx64 ", want %#" PRIx64, d,
				ord, i, n->end[i], cs.end);
		if (n->gap[i] != cs.gap)
			problem(c, "node d%u.%u slot %u: max gap = %#" PRIx64 ", want %#" PRIx64,
				d, ord, i, n->gap[i], cs.gap);
		s.end = cs.end;
		s.gap = max_u64(s.gap, cs.gap);
	}
	return s;
}

static void check_totals(struct check_ctx *c)
{
	struct vma_tree *t = c->t;
	if (c->cursor != &t->vmas)
		problem(c, "list: holds vmas beyond the tree's last");
	if (c->count != t->count)
		problem(c, "count = %" PRIu64 ", want %" PRIu64 " (vmas in the tree)", t->count,
			c->count);
	if (c->nodes != t->nr_nodes)
		problem(c, "nr_nodes = %" PRIu64 ", want %" PRIu64, t->nr_nodes, c->nodes);
	uint64_t spare = 0;
	for (const struct vma_node *n = t->spare; n && spare <= t->nr_spare; n = n->next_spare)
		spare++;
	if (spare != t->nr_spare)
		problem(c, "nr_spare = %" PRIu64 ", want %" PRIu64, t->nr_spare, spare);
}

int vma_tree_check(struct vma_tree *t)
{
	struct check_ctx c = { .t = t, .cursor = t->vmas.next, .leaf_depth = -1 };
	if (t->root)
		check_node(&c, t->root, 0, true);
	check_totals(&c);
	if (c.problems > CHECK_MAX_REPORTS)
		fprintf(stderr, "vma_tree_check: %d more problems not shown\n",
			c.problems - CHECK_MAX_REPORTS);
	if (c.problems)
		vma_tree_dump(t, stderr);
	return c.problems;
}

/* ---------------------------------------------------------------- dump ---------------- */

static void dump_node(FILE *f, const struct vma_node *n, unsigned d, unsigned *ordinal)
{
	unsigned nr = n->nr > VMA_NODE_SLOTS ? VMA_NODE_SLOTS : n->nr;
	fprintf(f, "%*s%s d%u.%u nr=%u\n", (int)(2 * d + 2), "", n->leaf ? "leaf" : "node", d,
		ordinal[d]++, n->nr);
	for (unsigned i = 0; i < nr; i++) {
		if (n->leaf) {
			const struct vma *v = n->vma[i];
			fprintf(f, "%*s[%u] %016" PRIx64 "-%016" PRIx64 " flags=%#" PRIx64
				" pgoff=%#" PRIx64 " pkey=%u kind=%u gap=%#" PRIx64 "\n",
				(int)(2 * d + 4), "", i, v->vm_start, v->vm_end, v->vm_flags,
				v->vm_pgoff, v->pkey, v->kind, n->gap[i]);
			continue;
		}
		fprintf(f, "%*s[%u] end=%#" PRIx64 " gap=%#" PRIx64 "\n", (int)(2 * d + 4), "",
			i, n->end[i], n->gap[i]);
		if (d + 1 < VMA_MAX_HEIGHT)
			dump_node(f, n->child[i], d + 1, ordinal);
	}
}

/* Format: a header line, then each node in depth-first order, indented by depth, named
 * d<depth>.<ordinal at that depth>, followed by its slots. */
void vma_tree_dump(struct vma_tree *t, FILE *f)
{
	unsigned ordinal[VMA_MAX_HEIGHT] = { 0 };
	fprintf(f, "vma_tree count=%" PRIu64 " nodes=%" PRIu64 " spare=%" PRIu64
		" guard_gap=%#" PRIx64 "\n", t->count, t->nr_nodes, t->nr_spare, t->guard_gap);
	if (t->root)
		dump_node(f, t->root, 0, ordinal);
}
