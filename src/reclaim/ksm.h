/*
 * KSM's content index (Linux mm/ksm.c; SPEC §6): the stable tree of merged, write-protected
 * KSM frames, the unstable tree of candidate pages rebuilt every full scan, the rmap items
 * that remember each scanned (address space, address), the per-address-space slots, and
 * the counters /sys/kernel/mm/ksm shows. Both trees are treaps ordered by memcmp of page
 * contents. It works on frames and bytes only: it never includes a header from src/mm,
 * never reads a page table and never changes a PTE (src/mm/ksm_mm.c does, under the mm's
 * lock). The stable tree holds no frame reference: a node whose frame was freed (its
 * flags lost PG_ksm or its owner changed) is stale and is pruned when found, as Linux's
 * get_ksm_page does.
 * Lock order: ksm->lock (ksmd's mutex) is taken before any mm lock; ksm->list_lock is a
 * leaf lock guarding only the slot list, so madvise may register under mm->lock.
 */
#ifndef PM_RECLAIM_KSM_H
#define PM_RECLAIM_KSM_H

#include <pthread.h>
#include <stdint.h>

#include "lib/common.h"
#include "lib/kmem.h"
#include "lib/list.h"
#include "phys/phys.h"

/* Linux's sizeof(struct ksm_rmap_item) on x86-64, which general_profit and
 * ksm_process_profit charge per rmap item. */
#define KSM_RMAP_ITEM_BYTES 64

/* A treap node: ordered by the content of frame pfn, heap-ordered by prio. */
struct ksm_tnode {
	struct ksm_tnode *left, *right, *parent;
	uint32_t prio;			/* deterministic, from ksm->prio_seq */
	uint64_t pfn;			/* the frame whose bytes are the key */
};

/* One merged frame (Linux's ksm_stable_node). */
struct ksm_stable_node {
	struct ksm_tnode tn;		/* in ksm->stable; tn.pfn is the KSM frame */
	struct list_head hlist;		/* struct ksm_rmap_item.hnode of every mapper merged */
	uint32_t nr_items;		/* entries on hlist (rmap_hlist_len) */
	struct list_head all;		/* in ksm->nodes, for unmerge-all and release */
};

enum ksm_item_state { KSM_ITEM_NONE, KSM_ITEM_UNSTABLE, KSM_ITEM_STABLE };

/* One scanned page of one address space (Linux's ksm_rmap_item). */
struct ksm_rmap_item {
	struct list_head node;		/* in slot->items, ascending address */
	struct ksm_mm_slot *slot;	/* immutable */
	uint64_t address;		/* bytes, page aligned; immutable */
	uint32_t oldchecksum;		/* content checksum at the previous visit */
	uint8_t state;			/* enum ksm_item_state */
	uint64_t seqnr;			/* full scan in which it joined the unstable tree */
	struct ksm_tnode tn;		/* unstable tree node (state UNSTABLE) */
	struct ksm_stable_node *head;	/* state STABLE: the node it is merged into */
	struct list_head hnode;		/* in head->hlist */
};

/* An address space KSM scans (Linux's ksm_mm_slot). It is embedded in the mm, which
 * registers it (MADV_MERGEABLE, PR_SET_MEMORY_MERGE, fork) and unregisters it at exit. */
struct ksm_mm_slot {
	struct list_head node;		/* in ksm->slots; under list_lock */
	int linked;			/* on ksm->slots; under list_lock */
	struct list_head items;		/* struct ksm_rmap_item by address; under ksm->lock */
	uint64_t nr_items;		/* ksm_rmap_items of /proc/<pid>/ksm_stat */
	uint64_t merging_pages;		/* items in the stable tree (ksm_merging_pages) */
};

/* The scan cursor (Linux's ksm_scan). slot NULL = between full scans. */
struct ksm_cursor {
	struct ksm_mm_slot *slot;
	uint64_t address;		/* next address to look at in slot's address space */
	struct list_head *pos;		/* last item visited in slot->items (or the list head) */
};

struct ksm {
	pthread_mutex_t lock;		/* ksmd's mutex: trees, items, cursor, counters */
	pthread_mutex_t list_lock;	/* the slot list; a leaf lock */
	struct kmem *km;		/* immutable */
	struct phys *ph;		/* immutable */
	struct list_head slots;		/* struct ksm_mm_slot, scan order; under list_lock */
	struct ksm_tnode *stable;	/* root of the stable tree */
	struct ksm_tnode *unstable;	/* root of the unstable tree of scan seqnr */
	struct list_head nodes;		/* every struct ksm_stable_node */
	struct ksm_cursor scan;
	uint64_t seqnr;			/* full scans completed (full_scans) */
	uint64_t prio_seq;		/* treap priority source */
	/* the counters of /sys/kernel/mm/ksm, in pages or items */
	uint64_t pages_shared, pages_sharing, pages_unshared, rmap_items, pages_scanned;
	uint64_t stable_nodes;
};

void ksm_init(struct ksm *k, struct kmem *km, struct phys *ph);
/* Frees every stable node (the slots are gone by then: every mm has exited). */
void ksm_release(struct ksm *k);

/* ---- slots and items (ksm->lock held, list_lock where said) ---- */
/* Links s behind the scan cursor, as __ksm_enter does. Takes list_lock. */
void ksm_slot_link(struct ksm *k, struct ksm_mm_slot *s);
/* Removes every item of s from the trees and frees it; the cursor leaves s when it is
 * there. With `unlink`, s also leaves the slot list (the address space exits). */
void ksm_slot_clear(struct ksm *k, struct ksm_mm_slot *s, int unlink);
/* The slot after s in scan order, s NULL = the first; NULL at the end. Takes list_lock. */
struct ksm_mm_slot *ksm_slot_next(struct ksm *k, struct ksm_mm_slot *s);
/* The slot the cursor is in. Between full scans this starts the next one: the unstable
 * tree is emptied (it is rebuilt every scan) and the cursor enters the first slot. NULL
 * when no address space is registered. */
struct ksm_mm_slot *ksm_cursor_slot(struct ksm *k);
/* The cursor is done with its slot: its unvisited items are dropped and it moves to the
 * next slot. Returns 0 when that ended a full scan (seqnr counts it), else 1. */
int ksm_cursor_advance(struct ksm *k);
/* Forgets the scan: empty unstable tree, cursor between scans, full_scans 0 (run=2). */
void ksm_cursor_reset(struct ksm *k);
/* The item for addr at the cursor (get_next_rmap_item): items the cursor passes with a
 * lower address are dropped, a missing one is created. NULL on -ENOMEM. */
struct ksm_rmap_item *ksm_item_at_cursor(struct ksm *k, uint64_t addr);
/* Takes the item out of whichever tree holds it (remove_rmap_item_from_tree). */
void ksm_item_untree(struct ksm *k, struct ksm_rmap_item *it);

/* ---- the trees ---- */
/* The stable node pg belongs to, or NULL when pg is not a (live) KSM frame. */
struct ksm_stable_node *ksm_page_node(const struct page *pg);
/* A stable node with content equal to data, with a reference on its frame taken for the
 * caller (*kp), pruning stale nodes on the way. NULL when none. */
struct ksm_stable_node *ksm_stable_search(struct ksm *k, const void *data, struct page **kp);
/* A node for frame pg (already PG_ksm, owned by it), inserted in the stable tree;
 * the node comes from ksm_stable_alloc. */
struct ksm_stable_node *ksm_stable_alloc(struct ksm *k);
void ksm_stable_free(struct ksm *k, struct ksm_stable_node *sn);
void ksm_stable_insert(struct ksm *k, struct ksm_stable_node *sn, struct page *pg);
/* Adds it to sn's mappers (stable_tree_append), counting shared or sharing. */
void ksm_stable_append(struct ksm *k, struct ksm_rmap_item *it, struct ksm_stable_node *sn);
/* Removes every node whose frame is gone (remove_all_stable_nodes after unmerging). */
void ksm_prune_stable(struct ksm *k);
/* unstable_tree_search_insert: an item of this scan whose page content equals data's,
 * else it is inserted (state UNSTABLE) and NULL is returned. A match on the very frame
 * pfn (a page shared by fork) returns NULL and inserts nothing, as Linux does. */
struct ksm_rmap_item *ksm_unstable_search_insert(struct ksm *k, struct ksm_rmap_item *it,
						 uint64_t pfn);

/* The content checksum that filters volatile pages (Linux uses xxhash; any stable hash
 * works, since a match is always confirmed with memcmp). */
uint32_t ksm_checksum(const void *data);
/* Counters derived as Linux derives them. */
static inline uint64_t ksm_pages_volatile(const struct ksm *k)
{
	return k->rmap_items - k->pages_shared - k->pages_sharing - k->pages_unshared;
}
/* The integrity check (STYLE rule 10): counters against a recount of items and nodes.
 * Returns the problems, each printed to stderr. ksm->lock held. */
int ksm_check(struct ksm *k);

#endif
