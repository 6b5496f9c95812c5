/*
 * Removing a VMA from the index, and the B+-tree rebalancing it needs: a node left below
 * VMA_NODE_MIN slots borrows one from a sibling that can spare it, or else merges with it.
 * Removal never allocates and never fails; freed nodes go back to the spare cache. The
 * VMA itself is not freed (mm owns it).
 */
#include "vma/vma.h"

#include <string.h>

#include "lib/pm_assert.h"
#include "vma/vma_node.h"

static void slot_move(struct vma_node *dst, unsigned di, const struct vma_node *src,
		      unsigned si)
{
	dst->end[di] = src->end[si];
	dst->gap[di] = src->gap[si];
	if (src->leaf)
		dst->vma[di] = src->vma[si];
	else
		dst->child[di] = src->child[si];
}

/* Opens slot i of n by shifting the slots from i one place up. */
static void slot_open(struct vma_node *n, unsigned i)
{
	unsigned tail = n->nr - i;
	memmove(&n->end[i + 1], &n->end[i], tail * sizeof(n->end[0]));
	memmove(&n->gap[i + 1], &n->gap[i], tail * sizeof(n->gap[0]));
	memmove(&n->child[i + 1], &n->child[i], tail * sizeof(n->child[0]));
	n->nr++;
}

/* Closes slot i of n by shifting the slots above it one place down. */
static void slot_cut(struct vma_node *n, unsigned i)
{
	unsigned tail = n->nr - i - 1;
	memmove(&n->end[i], &n->end[i + 1], tail * sizeof(n->end[0]));
	memmove(&n->gap[i], &n->gap[i + 1], tail * sizeof(n->gap[0]));
	memmove(&n->child[i], &n->child[i + 1], tail * sizeof(n->child[0]));
	n->nr--;
	vma_slot_clear(n, n->nr);
}

static void summarise(struct vma_node *parent, unsigned i)
{
	parent->end[i] = vma_node_end(parent->child[i]);
	parent->gap[i] = vma_node_gap(parent->child[i]);
}

/* Moves the last slot of child pi - 1 to the front of child pi. */
static void borrow_left(struct vma_node *parent, unsigned pi)
{
	struct vma_node *l = parent->child[pi - 1], *n = parent->child[pi];
	slot_open(n, 0);
	slot_move(n, 0, l, l->nr - 1);
	l->nr--;
	vma_slot_clear(l, l->nr);
	summarise(parent, pi - 1);
	summarise(parent, pi);
}

/* Moves the first slot of child pi + 1 to the end of child pi. */
static void borrow_right(struct vma_node *parent, unsigned pi)
{
	struct vma_node *n = parent->child[pi], *r = parent->child[pi + 1];
	slot_move(n, n->nr, r, 0);
	n->nr++;
	slot_cut(r, 0);
	summarise(parent, pi);
	summarise(parent, pi + 1);
}

/* Appends child li + 1 to child li and drops it from parent. */
static void merge_right_into_left(struct vma_tree *t, struct vma_node *parent, unsigned li)
{
	struct vma_node *l = parent->child[li], *r = parent->child[li + 1];
	PM_ASSERT(l->nr + r->nr <= VMA_NODE_SLOTS);
	for (unsigned i = 0; i < r->nr; i++)
		slot_move(l, l->nr + i, r, i);
	l->nr += r->nr;
	slot_cut(parent, li + 1);
	vma_node_put(t, r);
	summarise(parent, li);
}

/* Brings child pi of parent, which has VMA_NODE_MIN - 1 slots, back to the floor. */
static void node_refill(struct vma_tree *t, struct vma_node *parent, unsigned pi)
{
	if (pi > 0) {
		if (parent->child[pi - 1]->nr > VMA_NODE_MIN)
			borrow_left(parent, pi);
		else
			merge_right_into_left(t, parent, pi - 1);
		return;
	}
	if (parent->child[1]->nr > VMA_NODE_MIN)
		borrow_right(parent, 0);
	else
		merge_right_into_left(t, parent, 0);
}

/* Restores the fill floor along p after its leaf lost a slot, then the cached summaries. */
static void rebalance(struct vma_tree *t, struct vma_path *p)
{
	unsigned l = p->height - 1;
	for (; l > 0 && p->node[l]->nr < VMA_NODE_MIN; l--)
		node_refill(t, p->node[l - 1], p->idx[l - 1]);
	vma_path_fix(p, l);

	struct vma_node *root = t->root;
	if (root->leaf && root->nr == 0) {
		t->root = NULL;
		vma_node_put(t, root);
	} else if (!root->leaf && root->nr == 1) {
		t->root = root->child[0];
		vma_node_put(t, root);
	}
}

void vma_remove(struct vma_tree *t, struct vma *v)
{
	struct vma_path p;
	PM_ENFORCE(t->root != NULL);
	vma_descend(t, v->vm_start, &p);
	struct vma_node *leaf = p.node[p.height - 1];
	unsigned i = p.idx[p.height - 1];
	PM_ENFORCE(i < leaf->nr && leaf->vma[i] == v);

	struct vma *prev = vma_prev(t, v), *next = vma_next(t, v);
	list_del(&v->vm_list);
	t->count--;
	slot_cut(leaf, i);
	bool next_in_leaf = i < leaf->nr;
	if (next_in_leaf)
		leaf->gap[i] = vma_gap_below(t, prev, next);
	rebalance(t, &p);
	if (next && !next_in_leaf)
		vma_gap_refresh(t, next);
}
