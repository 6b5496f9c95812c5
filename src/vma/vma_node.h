/*
 * The VMA B-tree's node layout and the helpers every vma_*.c file shares (private to
 * src/vma: no other layer includes this). A node is a B+-tree node: leaves hold VMA
 * pointers in address order, internal nodes hold children; every slot caches the largest
 * vm_end below it (the pivot) and the largest free gap below it. Nothing here allocates.
 */
#ifndef PM_VMA_NODE_H
#define PM_VMA_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "vma/vma.h"

#define VMA_NODE_SLOTS	16			/* entries per node */
#define VMA_NODE_MIN	(VMA_NODE_SLOTS / 2)	/* fill floor of every node but the root */
#define VMA_MAX_HEIGHT	24			/* 2 * 8^23 VMAs would be needed to exceed it */
#define VMA_SPARE_KEEP	16			/* freed nodes kept for reuse beyond reservations */

struct vma_node {
	/* Per slot: the vm_end of the last VMA in the slot's subtree (a leaf: of the VMA
	 * itself). Bytes, exclusive, strictly increasing across the slots in use. */
	uint64_t end[VMA_NODE_SLOTS];
	/* Per slot: the largest gap below any VMA of the slot's subtree (a leaf: the gap
	 * below the VMA itself, from the previous VMA's vm_end to vma_start_gap). Bytes. */
	uint64_t gap[VMA_NODE_SLOTS];
	/* Slots at nr and above hold end = UINT64_MAX and gap = 0, so the scans below run a
	 * fixed 16 steps without branches (vma_slot_clear keeps this). */
	union {
		struct vma_node *child[VMA_NODE_SLOTS];	/* when !leaf */
		struct vma *vma[VMA_NODE_SLOTS];	/* when leaf */
	};
	uint8_t nr;			/* slots in use, 1..VMA_NODE_SLOTS (0 only while spare) */
	bool leaf;			/* slots hold VMAs, not children */
	void *raw;			/* what kmem_zalloc returned (the node is 64-byte aligned in it) */
	struct vma_node *next_spare;	/* link in vma_tree.spare while unused */
};

/* A root-to-leaf descent: node[0] is the root, node[height - 1] the leaf; idx[l] is the slot
 * taken in node[l] (in the leaf: the VMA's slot, or where a new one goes). */
struct vma_path {
	struct vma_node *node[VMA_MAX_HEIGHT];
	unsigned idx[VMA_MAX_HEIGHT];
	unsigned height;
};

static inline uint64_t vma_node_end(const struct vma_node *n)
{
	return n->end[n->nr - 1];
}

static inline uint64_t vma_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The largest gap in n. Four independent running maxima keep the dependency chains short
 * (this and vma_node_rank are the hot loops of every tree operation). */
static inline uint64_t vma_node_gap(const struct vma_node *n)
{
	uint64_t a = n->gap[0], b = n->gap[1], c = n->gap[2], d = n->gap[3];
	for (unsigned k = 4; k < VMA_NODE_SLOTS; k += 4) {
		a = vma_max(a, n->gap[k]);
		b = vma_max(b, n->gap[k + 1]);
		c = vma_max(c, n->gap[k + 2]);
		d = vma_max(d, n->gap[k + 3]);
	}
	return vma_max(vma_max(a, b), vma_max(c, d));
}

/* How many slots of n end at or below addr, i.e. the first slot whose end is above addr
 * (unused slots end at UINT64_MAX, so they never count). */
static inline unsigned vma_node_rank(const struct vma_node *n, uint64_t addr)
{
	unsigned a = 0, b = 0, c = 0, d = 0;
	for (unsigned k = 0; k < VMA_NODE_SLOTS; k += 4) {
		a += n->end[k] <= addr;
		b += n->end[k + 1] <= addr;
		c += n->end[k + 2] <= addr;
		d += n->end[k + 3] <= addr;
	}
	return a + b + c + d;
}

/* Puts slot k of n back to the unused state. */
static inline void vma_slot_clear(struct vma_node *n, unsigned k)
{
	n->end[k] = UINT64_MAX;
	n->gap[k] = 0;
	n->child[k] = NULL;
}

/* The gap below v given its predecessor (NULL: v is first, the gap starts at 0); 0 when
 * the guard gap reaches back over prev's end. */
static inline uint64_t vma_gap_below(const struct vma_tree *t, const struct vma *prev,
				     const struct vma *v)
{
	uint64_t sg = vma_start_gap(t, v);
	uint64_t pe = prev ? prev->vm_end : 0;
	return sg > pe ? sg - pe : 0;
}

/* Internal to src/vma (defined in vma_tree.c). */

/* Descends from the root towards addr: at each level the first slot whose end is above
 * addr, or the last slot. The tree must not be empty. Fills *p. */
void vma_descend(const struct vma_tree *t, uint64_t addr, struct vma_path *p);
/* Refreshes the cached end and gap of every ancestor slot above level `from` of p, from the
 * node below it, stopping early once a slot is already right. */
void vma_path_fix(struct vma_path *p, unsigned from);
/* Recomputes the gap below w (whose predecessor may live in another leaf) and fixes the
 * path to it. */
void vma_gap_refresh(struct vma_tree *t, struct vma *w);
/* A node from the spare list; the caller has made sure there is one. */
struct vma_node *vma_node_take(struct vma_tree *t);
/* Returns a node no longer in the tree to the spare list, or to kmem past VMA_SPARE_KEEP. */
void vma_node_put(struct vma_tree *t, struct vma_node *n);

#endif
