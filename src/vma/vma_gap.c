/*
 * get_unmapped_area over the VMA index: find the highest (top-down) or lowest (bottom-up)
 * aligned range of a given length that lies in [low, high) and touches neither a VMA nor
 * the guard gap below a VM_GROWSDOWN VMA. Subtrees whose cached max gap is shorter than
 * the request, or whose addresses lie outside [low, high), are skipped, so a search costs
 * O(log n) node visits whenever the first big-enough gap also satisfies the alignment. The
 * answer is exact (a gap of exactly len that is aligned is found, unlike Linux, which asks
 * for len + align_mask). This file only reads the tree.
 */
#include "vma/vma.h"

#include <errno.h>

#include "lib/common.h"
#include "lib/pm_assert.h"
#include "vma/vma_node.h"

struct gap_query {
	uint64_t len;		/* bytes wanted */
	uint64_t mask;		/* the start must have these bits clear */
	uint64_t low;		/* lowest acceptable start */
	uint64_t high;		/* the range must end at or below this (exclusive) */
};

/* One level of an iterative walk: the node, the next slot to visit, and the vm_end of the
 * VMA before the node's first one (0 if none), where the node's first gap starts. */
struct gap_frame {
	const struct vma_node *n;
	int i;
	uint64_t lo;
};

uint64_t vma_start_gap(const struct vma_tree *t, const struct vma *v)
{
	if (!(v->vm_flags & VM_GROWSDOWN))
		return v->vm_start;
	return v->vm_start > t->guard_gap ? v->vm_start - t->guard_gap : 0;
}

/* Clips the free range [gs, ge) to the query; false when too little is left. */
static bool clip(const struct gap_query *q, uint64_t gs, uint64_t ge, uint64_t *lo,
		 uint64_t *hi)
{
	*lo = max_u64(gs, q->low);
	*hi = min_u64(ge, q->high);
	return *hi >= *lo && *hi - *lo >= q->len;
}

static bool fit_top(const struct gap_query *q, uint64_t gs, uint64_t ge, uint64_t *out)
{
	uint64_t lo, hi;
	if (!clip(q, gs, ge, &lo, &hi))
		return false;
	uint64_t a = (hi - q->len) & ~q->mask;
	if (a < lo)
		return false;
	*out = a;
	return true;
}

static bool fit_bottom(const struct gap_query *q, uint64_t gs, uint64_t ge, uint64_t *out)
{
	uint64_t lo, hi;
	if (!clip(q, gs, ge, &lo, &hi))
		return false;
	uint64_t a = (lo + q->mask) & ~q->mask;
	if (a < lo || a > hi - q->len)
		return false;
	*out = a;
	return true;
}

/* Might the subtree whose gaps lie in [lo, hi] and whose largest gap is g hold the query? */
static bool worth_visit(const struct gap_query *q, uint64_t lo, uint64_t hi, uint64_t g)
{
	uint64_t a, b;
	return g >= q->len && clip(q, lo, hi, &a, &b);
}

static bool search_topdown(const struct vma_tree *t, const struct gap_query *q, uint64_t *out)
{
	struct gap_frame st[VMA_MAX_HEIGHT];
	int d = 0;
	st[0] = (struct gap_frame){ t->root, t->root->nr - 1, 0 };
	while (d >= 0) {
		const struct vma_node *n = st[d].n;
		int i = st[d].i;
		/* The cheap test first, in a tight loop: most slots fail it (in a densely
		 * mapped space all but one per level), and the frame is written once. */
		while (i >= 0 && n->gap[i] < q->len)
			i--;
		if (i < 0) {
			d--;
			continue;
		}
		st[d].i = i - 1;
		uint64_t lo = i > 0 ? n->end[i - 1] : st[d].lo, hi = n->end[i];
		if (hi <= q->low)
			return false;	/* everything still unvisited lies lower */
		if (!worth_visit(q, lo, hi, n->gap[i]))
			continue;
		if (n->leaf) {
			if (fit_top(q, lo, vma_start_gap(t, n->vma[i]), out))
				return true;
			continue;
		}
		d++;
		st[d] = (struct gap_frame){ n->child[i], n->child[i]->nr - 1, lo };
	}
	return false;
}

static bool search_bottomup(const struct vma_tree *t, const struct gap_query *q, uint64_t *out)
{
	struct gap_frame st[VMA_MAX_HEIGHT];
	int d = 0;
	st[0] = (struct gap_frame){ t->root, 0, 0 };
	while (d >= 0) {
		const struct vma_node *n = st[d].n;
		int i = st[d].i;
		while (i < n->nr && n->gap[i] < q->len)
			i++;
		if (i >= n->nr) {
			d--;
			continue;
		}
		st[d].i = i + 1;
		uint64_t lo = i > 0 ? n->end[i - 1] : st[d].lo, hi = n->end[i];
		if (lo >= q->high)
			return false;	/* everything still unvisited lies higher */
		if (!worth_visit(q, lo, hi, n->gap[i]))
			continue;
		if (n->leaf) {
			if (fit_bottom(q, lo, vma_start_gap(t, n->vma[i]), out))
				return true;
			continue;
		}
		d++;
		st[d] = (struct gap_frame){ n->child[i], 0, lo };
	}
	return false;
}

/* Mirrors Linux's unmapped_area_topdown: the gap above the last VMA is tried first, then
 * the tree from the right. */
int vma_gap_topdown(struct vma_tree *t, uint64_t len, uint64_t align_mask, uint64_t low,
		    uint64_t high, uint64_t *out)
{
	PM_ASSERT((align_mask & (align_mask + 1)) == 0);
	struct gap_query q = { len, align_mask, low, high };
	struct vma *last = vma_last(t);
	if (fit_top(&q, last ? last->vm_end : 0, UINT64_MAX, out))
		return 0;
	if (t->root && search_topdown(t, &q, out))
		return 0;
	return -ENOMEM;
}

/* Mirrors Linux's unmapped_area: the tree from the left, then the gap above the last VMA. */
int vma_gap_bottomup(struct vma_tree *t, uint64_t len, uint64_t align_mask, uint64_t low,
		     uint64_t high, uint64_t *out)
{
	PM_ASSERT((align_mask & (align_mask + 1)) == 0);
	struct gap_query q = { len, align_mask, low, high };
	if (t->root && search_bottomup(t, &q, out))
		return 0;
	struct vma *last = vma_last(t);
	if (fit_bottom(&q, last ? last->vm_end : 0, UINT64_MAX, out))
		return 0;
	return -ENOMEM;
}
