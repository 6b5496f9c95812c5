/*
 * The VMA index: a B+-tree keyed by address (README.md draws it). This file owns the node
 * cache, lookups, insert and in-place adjust; vma_erase.c removes, vma_gap.c searches for
 * free ranges, vma_check.c verifies and dumps. Invariants: every slot's cached end and gap
 * equal what its subtree holds, t->vmas lists the leaves' VMAs in the same order, and a
 * commit step never allocates (nodes come from t->spare, filled beforehand). This file
 * never allocates or frees a struct vma and never follows vm_obj or anon.
 */
#include "vma/vma.h"

#include <errno.h>
#include <string.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"
#include "vma/vma_node.h"

/* One entry on its way into a node: a VMA (leaf) or a child (internal) with its summary. */
struct vma_slot {
	uint64_t end;
	uint64_t gap;
	struct vma *vma;
	struct vma_node *child;
};

/* ---------------------------------------------------------------- node cache ---------- */

static struct vma_node *node_alloc(struct kmem *km)
{
	/* Over-allocate so the node can start on a cache line: end[] then spans two lines. */
	char *raw = kmem_zalloc(km, sizeof(struct vma_node) + 63);
	if (!raw)
		return NULL;
	struct vma_node *n = (struct vma_node *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
	n->raw = raw;
	return n;
}

static void node_free(struct kmem *km, struct vma_node *n)
{
	kmem_free(km, n->raw, sizeof(struct vma_node) + 63);
}

/* Makes t->spare hold at least `need` nodes. 0, or -ENOMEM with the spare list unchanged. */
static int spare_fill(struct vma_tree *t, uint64_t need)
{
	struct vma_node *got = NULL;
	uint64_t nr_got = 0;
	while (t->nr_spare + nr_got < need) {
		struct vma_node *n = node_alloc(t->km);
		if (!n)
			goto out_free_got;
		n->next_spare = got;
		got = n;
		nr_got++;
	}
	while (got) {
		struct vma_node *n = got;
		got = n->next_spare;
		n->next_spare = t->spare;
		t->spare = n;
		t->nr_spare++;
	}
	return 0;

out_free_got:
	while (got) {
		struct vma_node *n = got;
		got = n->next_spare;
		node_free(t->km, n);
	}
	return -ENOMEM;
}

struct vma_node *vma_node_take(struct vma_tree *t)
{
	struct vma_node *n = t->spare;
	PM_ENFORCE(n != NULL);
	t->spare = n->next_spare;
	t->nr_spare--;
	void *raw = n->raw;
	memset(n, 0, sizeof(*n));
	n->raw = raw;
	for (unsigned k = 0; k < VMA_NODE_SLOTS; k++)
		vma_slot_clear(n, k);
	t->nr_nodes++;
	return n;
}

void vma_node_put(struct vma_tree *t, struct vma_node *n)
{
	t->nr_nodes--;
	if (t->nr_spare >= VMA_SPARE_KEEP) {
		node_free(t->km, n);
		return;
	}
	n->nr = 0;
	n->next_spare = t->spare;
	t->spare = n;
	t->nr_spare++;
}

/* ---------------------------------------------------------------- setup --------------- */

void vma_tree_init(struct vma_tree *t, struct kmem *km, uint64_t guard_gap)
{
	memset(t, 0, sizeof(*t));
	list_init(&t->vmas);
	t->guard_gap = guard_gap;
	t->km = km;
}

static void free_subtree(struct kmem *km, struct vma_node *n)
{
	if (!n->leaf)
		for (unsigned i = 0; i < n->nr; i++)
			free_subtree(km, n->child[i]);
	node_free(km, n);
}

void vma_tree_destroy(struct vma_tree *t)
{
	if (t->root)
		free_subtree(t->km, t->root);
	while (t->spare) {
		struct vma_node *n = t->spare;
		t->spare = n->next_spare;
		node_free(t->km, n);
	}
	t->root = NULL;
	t->nr_spare = 0;
	t->nr_nodes = 0;
	t->count = 0;
	list_init(&t->vmas);
}

static unsigned tree_height(const struct vma_tree *t)
{
	unsigned h = 0;
	for (const struct vma_node *n = t->root; n; n = n->leaf ? NULL : n->child[0])
		h++;
	return h;
}

/* An insert into a tree of height h needs at most h + 1 nodes (a split per level and a new
 * root). A new root has two children and gains at most one per insert, so the height grows
 * at most once in any 15 inserts: insert k (from 0) starts at height <= h + ceil(k / 15). */
int vma_tree_reserve(struct vma_tree *t, unsigned n)
{
	if (n == 0)
		return 0;
	uint64_t h = tree_height(t);
	uint64_t need = (uint64_t)n * (h + 1 + (n + 13) / 15);
	return spare_fill(t, need);
}

/* ---------------------------------------------------------------- lookups ------------- */

static struct vma *list_vma(struct vma_tree *t, struct list_head *h)
{
	return h == &t->vmas ? NULL : list_entry(h, struct vma, vm_list);
}

struct vma *vma_first(struct vma_tree *t) { return list_vma(t, t->vmas.next); }
struct vma *vma_last(struct vma_tree *t) { return list_vma(t, t->vmas.prev); }
struct vma *vma_next(struct vma_tree *t, struct vma *v) { return list_vma(t, v->vm_list.next); }
struct vma *vma_prev(struct vma_tree *t, struct vma *v) { return list_vma(t, v->vm_list.prev); }

struct vma *vma_find(struct vma_tree *t, uint64_t addr)
{
	const struct vma_node *n = t->root;
	if (!n || vma_node_end(n) <= addr)
		return NULL;
	/* Some slot's end is above addr at every level, so the rank is a slot in use. */
	while (!n->leaf)
		n = n->child[vma_node_rank(n, addr)];
	return n->vma[vma_node_rank(n, addr)];
}

struct vma *vma_lookup(struct vma_tree *t, uint64_t addr)
{
	struct vma *v = vma_find(t, addr);
	return v && v->vm_start <= addr ? v : NULL;
}

void vma_descend(const struct vma_tree *t, uint64_t addr, struct vma_path *p)
{
	struct vma_node *n = t->root;
	unsigned h = 0;
	for (;;) {
		unsigned i = vma_node_rank(n, addr);
		p->node[h] = n;
		if (n->leaf) {
			p->idx[h] = i;
			p->height = h + 1;
			return;
		}
		if (i == n->nr)
			i--;
		p->idx[h++] = i;
		n = n->child[i];
	}
}

void vma_path_fix(struct vma_path *p, unsigned from)
{
	bool gap_settled = false;
	for (unsigned l = from; l-- > 0;) {
		struct vma_node *parent = p->node[l], *child = p->node[l + 1];
		unsigned i = p->idx[l];
		uint64_t e = vma_node_end(child);
		bool end_settled = parent->end[i] == e;
		parent->end[i] = e;
		/* Once a slot's max gap is already right, no ancestor's can change. */
		if (!gap_settled) {
			uint64_t g = vma_node_gap(child);
			gap_settled = parent->gap[i] == g;
			parent->gap[i] = g;
		}
		if (gap_settled && end_settled)
			return;
	}
}

void vma_gap_refresh(struct vma_tree *t, struct vma *w)
{
	struct vma_path p;
	vma_descend(t, w->vm_start, &p);
	struct vma_node *leaf = p.node[p.height - 1];
	unsigned i = p.idx[p.height - 1];
	PM_ENFORCE(i < leaf->nr && leaf->vma[i] == w);
	leaf->gap[i] = vma_gap_below(t, vma_prev(t, w), w);
	vma_path_fix(&p, p.height - 1);
}

/* ---------------------------------------------------------------- insert -------------- */

/* Nodes an insert along p will take: one per full node from the leaf up, and a new root
 * if the root is full too. */
static unsigned nodes_needed(const struct vma_path *p)
{
	unsigned need = 0;
	for (unsigned l = p->height; l-- > 0 && p->node[l]->nr == VMA_NODE_SLOTS;)
		need++;
	return need == p->height ? need + 1 : need;
}

static void slot_put(struct vma_node *n, unsigned i, const struct vma_slot *s)
{
	unsigned tail = n->nr - i;
	memmove(&n->end[i + 1], &n->end[i], tail * sizeof(n->end[0]));
	memmove(&n->gap[i + 1], &n->gap[i], tail * sizeof(n->gap[0]));
	memmove(&n->child[i + 1], &n->child[i], tail * sizeof(n->child[0]));
	n->end[i] = s->end;
	n->gap[i] = s->gap;
	if (n->leaf)
		n->vma[i] = s->vma;
	else
		n->child[i] = s->child;
	n->nr++;
}

/* Moves the upper half of full node n into a new right sibling, which it returns. */
static struct vma_node *node_split(struct vma_tree *t, struct vma_node *n)
{
	struct vma_node *r = vma_node_take(t);
	unsigned keep = VMA_NODE_MIN, move = n->nr - keep;
	r->leaf = n->leaf;
	memcpy(r->end, &n->end[keep], move * sizeof(n->end[0]));
	memcpy(r->gap, &n->gap[keep], move * sizeof(n->gap[0]));
	memcpy(r->child, &n->child[keep], move * sizeof(n->child[0]));
	r->nr = move;
	n->nr = keep;
	for (unsigned k = keep; k < VMA_NODE_SLOTS; k++)
		vma_slot_clear(n, k);
	return r;
}

static struct vma_slot node_slot(struct vma_node *n)
{
	return (struct vma_slot){ .end = vma_node_end(n), .gap = vma_node_gap(n), .child = n };
}

static void root_grow(struct vma_tree *t, struct vma_node *l, struct vma_node *r,
		      unsigned height)
{
	PM_ENFORCE(height < VMA_MAX_HEIGHT);
	struct vma_node *root = vma_node_take(t);
	struct vma_slot sl = node_slot(l), sr = node_slot(r);
	slot_put(root, 0, &sl);
	slot_put(root, 1, &sr);
	t->root = root;
}

/* Moves the last m slots of n to the front of its right sibling r. */
static void shift_right(struct vma_node *n, struct vma_node *r, unsigned m)
{
	memmove(&r->end[m], &r->end[0], r->nr * sizeof(r->end[0]));
	memmove(&r->gap[m], &r->gap[0], r->nr * sizeof(r->gap[0]));
	memmove(&r->child[m], &r->child[0], r->nr * sizeof(r->child[0]));
	unsigned from = n->nr - m;
	memcpy(&r->end[0], &n->end[from], m * sizeof(n->end[0]));
	memcpy(&r->gap[0], &n->gap[from], m * sizeof(n->gap[0]));
	memcpy(&r->child[0], &n->child[from], m * sizeof(n->child[0]));
	r->nr += m;
	n->nr = from;
	for (unsigned k = from; k < VMA_NODE_SLOTS; k++)
		vma_slot_clear(n, k);
}

/* Moves the first m slots of n to the end of its left sibling l. */
static void shift_left(struct vma_node *n, struct vma_node *l, unsigned m)
{
	memcpy(&l->end[l->nr], &n->end[0], m * sizeof(n->end[0]));
	memcpy(&l->gap[l->nr], &n->gap[0], m * sizeof(n->gap[0]));
	memcpy(&l->child[l->nr], &n->child[0], m * sizeof(n->child[0]));
	l->nr += m;
	unsigned rest = n->nr - m;
	memmove(&n->end[0], &n->end[m], rest * sizeof(n->end[0]));
	memmove(&n->gap[0], &n->gap[m], rest * sizeof(n->gap[0]));
	memmove(&n->child[0], &n->child[m], rest * sizeof(n->child[0]));
	n->nr = rest;
	for (unsigned k = rest; k < VMA_NODE_SLOTS; k++)
		vma_slot_clear(n, k);
}

/* Makes room in the full node p->node[l] for a slot at *at by handing slots to a sibling
 * with room, instead of splitting (a B*-tree's redistribution). mmap fills the address space
 * top-down, so inserts keep landing at the front of one node: splits alone left every node
 * half full and the tree two levels taller at 1M VMAs than full nodes need. Moves the slots
 * on the side away from *at, so *at stays in the node (adjusted when slots leave before it),
 * and fixes the parent's summaries of both nodes. False when no sibling can take at least
 * two slots without *at leaving the node. */
static bool redistribute(struct vma_path *p, unsigned l, unsigned *at)
{
	if (l == 0)
		return false;
	struct vma_node *n = p->node[l], *parent = p->node[l - 1];
	unsigned i = p->idx[l - 1];
	if (i + 1 < parent->nr) {
		struct vma_node *r = parent->child[i + 1];
		unsigned m = VMA_NODE_SLOTS - r->nr;
		if (m >= 2 && *at <= VMA_NODE_SLOTS - m) {
			shift_right(n, r, m);
			parent->gap[i + 1] = vma_node_gap(r);	/* its end is unchanged */
			parent->end[i] = vma_node_end(n);
			return true;
		}
	}
	if (i > 0) {
		struct vma_node *lf = parent->child[i - 1];
		unsigned m = VMA_NODE_SLOTS - lf->nr;
		if (m >= 2 && *at >= m) {
			shift_left(n, lf, m);
			parent->end[i - 1] = vma_node_end(lf);
			parent->gap[i - 1] = vma_node_gap(lf);
			*at -= m;
			return true;
		}
	}
	return false;
}

/* Puts s into the leaf of p at its slot, redistributing to a sibling or splitting full nodes
 * up the path. Takes at most nodes_needed(p) spare nodes; cannot fail. */
static void insert_commit(struct vma_tree *t, struct vma_path *p, struct vma_slot s)
{
	unsigned at = p->idx[p->height - 1];
	for (unsigned l = p->height; l-- > 0;) {
		struct vma_node *n = p->node[l];
		if (n->nr < VMA_NODE_SLOTS || redistribute(p, l, &at)) {
			slot_put(n, at, &s);
			vma_path_fix(p, l);
			return;
		}
		struct vma_node *r = node_split(t, n);
		if (at <= VMA_NODE_MIN)
			slot_put(n, at, &s);
		else
			slot_put(r, at - VMA_NODE_MIN, &s);
		s = node_slot(r);
		if (l == 0) {
			root_grow(t, n, r, p->height);
			return;
		}
		p->node[l - 1]->end[p->idx[l - 1]] = vma_node_end(n);
		p->node[l - 1]->gap[p->idx[l - 1]] = vma_node_gap(n);
		at = p->idx[l - 1] + 1;
	}
}

static void insert_first(struct vma_tree *t, struct vma *v)
{
	struct vma_node *n = vma_node_take(t);
	n->leaf = true;
	struct vma_slot s = { .end = v->vm_end, .gap = vma_gap_below(t, NULL, v), .vma = v };
	slot_put(n, 0, &s);
	t->root = n;
	list_add(&v->vm_list, &t->vmas);
	t->count = 1;
}

/* Links v into t->vmas next to its neighbour in the leaf slot chosen by p. */
static void link_list(struct vma_tree *t, const struct vma_path *p, struct vma *v)
{
	const struct vma_node *leaf = p->node[p->height - 1];
	unsigned i = p->idx[p->height - 1];
	if (i < leaf->nr)
		list_add_tail(&v->vm_list, &leaf->vma[i]->vm_list);
	else
		list_add(&v->vm_list, &leaf->vma[i - 1]->vm_list);
}

int vma_insert(struct vma_tree *t, struct vma *v)
{
	PM_ASSERT(v->vm_start < v->vm_end);
	if (!t->root) {
		if (spare_fill(t, 1))
			return -ENOMEM;
		insert_first(t, v);
		return 0;
	}
	struct vma_path p;
	vma_descend(t, v->vm_start, &p);
	if (spare_fill(t, nodes_needed(&p)))
		return -ENOMEM;

	link_list(t, &p, v);
	struct vma *prev = vma_prev(t, v), *next = vma_next(t, v);
	PM_ENFORCE(!prev || prev->vm_end <= v->vm_start);
	PM_ENFORCE(!next || v->vm_end <= next->vm_start);
	t->count++;

	struct vma_node *leaf = p.node[p.height - 1];
	unsigned i = p.idx[p.height - 1];
	bool next_in_leaf = i < leaf->nr;
	if (next_in_leaf)
		leaf->gap[i] = vma_gap_below(t, v, next);
	struct vma_slot s = { .end = v->vm_end, .gap = vma_gap_below(t, prev, v), .vma = v };
	insert_commit(t, &p, s);
	if (next && !next_in_leaf)
		vma_gap_refresh(t, next);
	return 0;
}

/* ---------------------------------------------------------------- adjust -------------- */

void vma_adjust(struct vma_tree *t, struct vma *v, uint64_t start, uint64_t end)
{
	struct vma *prev = vma_prev(t, v), *next = vma_next(t, v);
	PM_ENFORCE(start < end);
	PM_ENFORCE(!prev || prev->vm_end <= start);
	PM_ENFORCE(!next || end <= next->vm_start);

	struct vma_path p;
	vma_descend(t, v->vm_start, &p);
	struct vma_node *leaf = p.node[p.height - 1];
	unsigned i = p.idx[p.height - 1];
	PM_ENFORCE(i < leaf->nr && leaf->vma[i] == v);

	v->vm_start = start;
	v->vm_end = end;
	leaf->end[i] = end;
	leaf->gap[i] = vma_gap_below(t, prev, v);
	bool next_in_leaf = i + 1 < leaf->nr;
	if (next_in_leaf)
		leaf->gap[i + 1] = vma_gap_below(t, v, next);
	vma_path_fix(&p, p.height - 1);
	if (next && !next_in_leaf)
		vma_gap_refresh(t, next);
}
