/*
 * KSM's content index (Linux mm/ksm.c, the parts that touch no page table): two treaps
 * keyed by page contents, the rmap items and slots, the scan cursor and the counters. A
 * treap rather than Linux's red-black tree keeps the code short; its priorities come from
 * a counter, so a run replays exactly. Keys are frame contents read in place: an unstable
 * page may change under the tree, which only makes later searches miss (Linux accepts
 * the same and rebuilds the tree every full scan); every match is confirmed by the mm
 * glue under the mm's lock before anything is merged. Everything here runs under
 * ksm->lock; it never changes a PTE, a mapcount or an RSS counter.
 */
#include "reclaim/ksm.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

void ksm_init(struct ksm *k, struct kmem *km, struct phys *ph)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	pthread_mutex_init(&k->list_lock, NULL);
	k->km = km;
	k->ph = ph;
	list_init(&k->slots);
	list_init(&k->nodes);
}

void ksm_release(struct ksm *k)
{
	while (!list_empty(&k->nodes)) {
		struct ksm_stable_node *sn = list_entry(k->nodes.next, struct ksm_stable_node, all);
		list_del(&sn->all);
		kmem_delete(k->km, sn);
	}
	pthread_mutex_destroy(&k->lock);
	pthread_mutex_destroy(&k->list_lock);
}

/* ---- the treap ---- */

static uint32_t next_prio(struct ksm *k)
{
	uint64_t z = ++k->prio_seq * 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(z ^ (z >> 31));
}

static struct ksm_tnode **link_of(struct ksm_tnode **root, struct ksm_tnode *n)
{
	if (!n->parent)
		return root;
	return n->parent->left == n ? &n->parent->left : &n->parent->right;
}

/* Lifts n above its parent, keeping the in-order sequence. */
static void rotate_up(struct ksm_tnode **root, struct ksm_tnode *n)
{
	struct ksm_tnode *p = n->parent, **pl = link_of(root, p);
	if (p->left == n) {
		p->left = n->right;
		if (n->right)
			n->right->parent = p;
		n->right = p;
	} else {
		p->right = n->left;
		if (n->left)
			n->left->parent = p;
		n->left = p;
	}
	n->parent = p->parent;
	p->parent = n;
	*pl = n;
}

static void tree_insert(struct ksm *k, struct ksm_tnode **root, struct ksm_tnode *n,
			struct ksm_tnode *parent, struct ksm_tnode **link)
{
	n->left = n->right = NULL;
	n->parent = parent;
	n->prio = next_prio(k);
	*link = n;
	while (n->parent && n->parent->prio < n->prio)
		rotate_up(root, n);
}

/* Rotates n down to a leaf and cuts it off. */
static void tree_erase(struct ksm_tnode **root, struct ksm_tnode *n)
{
	while (n->left || n->right) {
		struct ksm_tnode *c = !n->left ? n->right : !n->right ? n->left :
				      n->left->prio > n->right->prio ? n->left : n->right;
		rotate_up(root, c);
	}
	*link_of(root, n) = NULL;
	n->parent = NULL;
}

static int cmp_frame(struct ksm *k, const void *data, uint64_t pfn)
{
	return memcmp(data, pfn_to_virt(k->ph, pfn), PAGE_SIZE);
}

/* ---- stable nodes ---- */

struct ksm_stable_node *ksm_page_node(const struct page *pg)
{
	if (!(pg->flags & PG_ksm) || pg->owner_kind != OWNER_KSM)
		return NULL;
	return pg->owner;
}

/* Does the node's frame still belong to it (get_ksm_page's check)? */
static int node_live(struct ksm *k, struct ksm_stable_node *sn)
{
	return ksm_page_node(pfn_to_page(k->ph, sn->tn.pfn)) == sn;
}

/* get_page_unless_zero: a frame being freed right now is not revived. */
static int get_unless_zero(struct page *pg)
{
	int r = atomic_load(&pg->refcount);
	while (r > 0)
		if (atomic_compare_exchange_weak(&pg->refcount, &r, r + 1))
			return 1;
	return 0;
}

struct ksm_stable_node *ksm_stable_alloc(struct ksm *k)
{
	struct ksm_stable_node *sn = kmem_new(k->km, struct ksm_stable_node);
	if (sn) {
		list_init(&sn->hlist);
		list_init(&sn->all);
	}
	return sn;
}

void ksm_stable_free(struct ksm *k, struct ksm_stable_node *sn)
{
	kmem_delete(k->km, sn);
}

void ksm_stable_insert(struct ksm *k, struct ksm_stable_node *sn, struct page *pg)
{
	const void *data = page_address(k->ph, pg);
	struct ksm_tnode **l = &k->stable, *parent = NULL;
	while (*l) {
		parent = *l;
		l = cmp_frame(k, data, parent->pfn) < 0 ? &parent->left : &parent->right;
	}
	sn->tn.pfn = page_to_pfn(k->ph, pg);
	tree_insert(k, &k->stable, &sn->tn, parent, l);
	list_add_tail(&sn->all, &k->nodes);
	k->stable_nodes++;
}

/* remove_node_from_stable_tree: every mapper goes back to no tree, then the node goes. */
static void stable_remove(struct ksm *k, struct ksm_stable_node *sn)
{
	if (sn->nr_items) {
		k->pages_shared--;
		k->pages_sharing -= sn->nr_items - 1;
	}
	while (!list_empty(&sn->hlist)) {
		struct ksm_rmap_item *it = list_entry(sn->hlist.next, struct ksm_rmap_item, hnode);
		list_del(&it->hnode);
		it->slot->merging_pages--;
		it->state = KSM_ITEM_NONE;
		it->head = NULL;
	}
	sn->nr_items = 0;
	tree_erase(&k->stable, &sn->tn);
	list_del(&sn->all);
	k->stable_nodes--;
	kmem_delete(k->km, sn);
}

struct ksm_stable_node *ksm_stable_search(struct ksm *k, const void *data, struct page **kp)
{
	struct ksm_tnode *n = k->stable;
	while (n) {
		struct ksm_stable_node *sn = (struct ksm_stable_node *)n;
		struct page *pg = pfn_to_page(k->ph, n->pfn);
		if (!node_live(k, sn) || !get_unless_zero(pg)) {
			stable_remove(k, sn);	/* stale: its frame was freed */
			n = k->stable;		/* the tree changed shape: start again */
			continue;
		}
		if (!node_live(k, sn)) {
			phys_put(k->ph, pg);
			continue;		/* freed and reused under us: pruned next pass */
		}
		int c = cmp_frame(k, data, n->pfn);
		if (!c) {
			*kp = pg;
			return sn;
		}
		phys_put(k->ph, pg);
		n = c < 0 ? n->left : n->right;
	}
	return NULL;
}

void ksm_stable_append(struct ksm *k, struct ksm_rmap_item *it, struct ksm_stable_node *sn)
{
	if (sn->nr_items)
		k->pages_sharing++;
	else
		k->pages_shared++;
	list_add_tail(&it->hnode, &sn->hlist);
	sn->nr_items++;
	it->state = KSM_ITEM_STABLE;
	it->head = sn;
	it->slot->merging_pages++;
}

void ksm_prune_stable(struct ksm *k)
{
	struct list_head *l, *n;
	for (l = k->nodes.next; l != &k->nodes; l = n) {
		n = l->next;
		struct ksm_stable_node *sn = list_entry(l, struct ksm_stable_node, all);
		if (!node_live(k, sn))
			stable_remove(k, sn);
	}
}

/* ---- the unstable tree ---- */

struct ksm_rmap_item *ksm_unstable_search_insert(struct ksm *k, struct ksm_rmap_item *it,
						 uint64_t pfn)
{
	const void *data = pfn_to_virt(k->ph, pfn);
	struct ksm_tnode **l = &k->unstable, *parent = NULL;
	while (*l) {
		parent = *l;
		int c = cmp_frame(k, data, parent->pfn);
		if (!c) {
			if (parent->pfn == pfn)
				return NULL;	/* a forked page is not merged with itself */
			return list_entry(parent, struct ksm_rmap_item, tn);
		}
		l = c < 0 ? &parent->left : &parent->right;
	}
	it->tn.pfn = pfn;
	tree_insert(k, &k->unstable, &it->tn, parent, l);
	it->state = KSM_ITEM_UNSTABLE;
	it->seqnr = k->seqnr;
	k->pages_unshared++;
	return NULL;
}

void ksm_item_untree(struct ksm *k, struct ksm_rmap_item *it)
{
	if (it->state == KSM_ITEM_STABLE) {
		struct ksm_stable_node *sn = it->head;
		list_del(&it->hnode);
		sn->nr_items--;
		if (sn->nr_items)
			k->pages_sharing--;
		else
			k->pages_shared--;
		it->slot->merging_pages--;
		it->head = NULL;
		if (!sn->nr_items && !node_live(k, sn))
			stable_remove(k, sn);
	} else if (it->state == KSM_ITEM_UNSTABLE) {
		/* Only items of this scan are in the tree; older ones went with its reset. */
		if (it->seqnr == k->seqnr)
			tree_erase(&k->unstable, &it->tn);
		k->pages_unshared--;
	}
	it->state = KSM_ITEM_NONE;
}

/* ---- slots, items and the cursor ---- */

void ksm_slot_link(struct ksm *k, struct ksm_mm_slot *s)
{
	pthread_mutex_lock(&k->list_lock);
	if (!s->linked) {
		list_init(&s->items);
		/* __ksm_enter: just behind the cursor, so a new space settles for a scan. */
		list_add_tail(&s->node, k->scan.slot ? &k->scan.slot->node : &k->slots);
		s->linked = 1;
	}
	pthread_mutex_unlock(&k->list_lock);
}

static void item_free(struct ksm *k, struct ksm_rmap_item *it)
{
	ksm_item_untree(k, it);
	list_del(&it->node);
	it->slot->nr_items--;
	k->rmap_items--;
	kmem_delete(k->km, it);
}

/* Moves the cursor to the slot after its current one; list_lock held. */
static int cursor_next_locked(struct ksm *k)
{
	struct list_head *l = k->scan.slot->node.next;
	k->scan.address = 0;
	if (l == &k->slots) {
		k->scan.slot = NULL;
		k->scan.pos = NULL;
		k->seqnr++;
		return 0;
	}
	k->scan.slot = list_entry(l, struct ksm_mm_slot, node);
	k->scan.pos = &k->scan.slot->items;
	return 1;
}

void ksm_slot_clear(struct ksm *k, struct ksm_mm_slot *s, int unlink)
{
	if (!s->linked)
		return;
	pthread_mutex_lock(&k->list_lock);
	if (k->scan.slot == s)
		cursor_next_locked(k);
	pthread_mutex_unlock(&k->list_lock);
	while (!list_empty(&s->items))
		item_free(k, list_entry(s->items.next, struct ksm_rmap_item, node));
	if (unlink) {
		pthread_mutex_lock(&k->list_lock);
		list_del(&s->node);
		s->linked = 0;
		pthread_mutex_unlock(&k->list_lock);
	}
}

struct ksm_mm_slot *ksm_slot_next(struct ksm *k, struct ksm_mm_slot *s)
{
	pthread_mutex_lock(&k->list_lock);
	struct list_head *l = s ? s->node.next : k->slots.next;
	struct ksm_mm_slot *n = l == &k->slots ? NULL : list_entry(l, struct ksm_mm_slot, node);
	pthread_mutex_unlock(&k->list_lock);
	return n;
}

struct ksm_mm_slot *ksm_cursor_slot(struct ksm *k)
{
	if (k->scan.slot)
		return k->scan.slot;
	pthread_mutex_lock(&k->list_lock);
	if (!list_empty(&k->slots)) {
		k->unstable = NULL;
		k->scan.slot = list_entry(k->slots.next, struct ksm_mm_slot, node);
		k->scan.pos = &k->scan.slot->items;
		k->scan.address = 0;
	}
	pthread_mutex_unlock(&k->list_lock);
	return k->scan.slot;
}

int ksm_cursor_advance(struct ksm *k)
{
	struct ksm_mm_slot *s = k->scan.slot;
	while (k->scan.pos->next != &s->items)
		item_free(k, list_entry(k->scan.pos->next, struct ksm_rmap_item, node));
	pthread_mutex_lock(&k->list_lock);
	int more = cursor_next_locked(k);
	pthread_mutex_unlock(&k->list_lock);
	return more;
}

void ksm_cursor_reset(struct ksm *k)
{
	pthread_mutex_lock(&k->list_lock);
	k->scan.slot = NULL;
	k->scan.pos = NULL;
	k->scan.address = 0;
	k->unstable = NULL;
	k->seqnr = 0;
	pthread_mutex_unlock(&k->list_lock);
}

struct ksm_rmap_item *ksm_item_at_cursor(struct ksm *k, uint64_t addr)
{
	struct ksm_mm_slot *s = k->scan.slot;
	struct list_head *l;
	while ((l = k->scan.pos->next) != &s->items) {
		struct ksm_rmap_item *it = list_entry(l, struct ksm_rmap_item, node);
		if (it->address == addr) {
			k->scan.pos = l;
			return it;
		}
		if (it->address > addr)
			break;
		item_free(k, it);	/* its page is gone or its VMA no longer mergeable */
	}
	struct ksm_rmap_item *it = kmem_new(k->km, struct ksm_rmap_item);
	if (!it)
		return NULL;
	it->slot = s;
	it->address = addr;
	list_init(&it->hnode);
	list_add(&it->node, k->scan.pos);
	k->scan.pos = &it->node;
	s->nr_items++;
	k->rmap_items++;
	return it;
}

uint32_t ksm_checksum(const void *data)
{
	const uint64_t *w = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++) {
		h = (h ^ w[i]) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* ---- the integrity check ---- */

#define REPORT(p, ...) do { if ((p)++ < 20) fprintf(stderr, "ksm_check: " __VA_ARGS__); } while (0)

int ksm_check(struct ksm *k)
{
	int problems = 0;
	uint64_t items = 0, unstable = 0, stable = 0, shared = 0, nodes = 0;
	pthread_mutex_lock(&k->list_lock);
	for (struct list_head *l = k->slots.next; l != &k->slots; l = l->next) {
		struct ksm_mm_slot *s = list_entry(l, struct ksm_mm_slot, node);
		uint64_t n = 0, merging = 0, last = 0;
		for (struct list_head *m = s->items.next; m != &s->items; m = m->next) {
			struct ksm_rmap_item *it = list_entry(m, struct ksm_rmap_item, node);
			if (n && it->address <= last)
				REPORT(problems, "items of a slot out of order at %#lx\n",
				       (unsigned long)it->address);
			last = it->address;
			n++;
			unstable += it->state == KSM_ITEM_UNSTABLE;
			merging += it->state == KSM_ITEM_STABLE;
		}
		if (n != s->nr_items || merging != s->merging_pages)
			REPORT(problems, "slot counts %lu items, %lu merging; recount %lu, %lu\n",
			       (unsigned long)s->nr_items, (unsigned long)s->merging_pages,
			       (unsigned long)n, (unsigned long)merging);
		items += n;
		stable += merging;
	}
	pthread_mutex_unlock(&k->list_lock);
	for (struct list_head *l = k->nodes.next; l != &k->nodes; l = l->next) {
		struct ksm_stable_node *sn = list_entry(l, struct ksm_stable_node, all);
		nodes++;
		shared += sn->nr_items != 0;
	}
	const struct { const char *name; uint64_t got, want; } c[] = {
		{ "rmap_items", k->rmap_items, items }, { "pages_unshared", k->pages_unshared, unstable },
		{ "pages_shared", k->pages_shared, shared },
		{ "pages_sharing", k->pages_sharing, stable - shared },
		{ "stable_nodes", k->stable_nodes, nodes },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (c[i].got != c[i].want)
			REPORT(problems, "%s is %lu, recount gives %lu\n", c[i].name,
			       (unsigned long)c[i].got, (unsigned long)c[i].want);
	return problems;
}
