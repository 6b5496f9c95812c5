/*
 * Tests of the VMA index itself: insert, lookup, find, next/prev, remove and adjust keep
 * the tree, its cached ends and gaps, and the address-ordered list in step; reservations
 * make inserts infallible; failed inserts change nothing; nothing leaks. One character of
 * a drawing is one page starting at 0x1000 unless a test says otherwise.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>

#include "vma_test.h"

/* VMAs inserted in any order come back in address order from the list (vma_first/next). */
TEST(insert_in_any_order_lists_vmas_in_address_order)
{
	struct vt x;
	struct vma v[3];
	char buf[256];
	vt_init(&x, 0);
	vma_set(&v[0], 0x5000, 0x6000, VM_READ);
	vma_set(&v[1], 0x1000, 0x3000, VM_READ);
	vma_set(&v[2], 0x3000, 0x4000, VM_READ);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(vma_insert(&x.t, &v[i]), 0);
	EXPECT_STREQ(vt_str(&x.t, buf, sizeof(buf)), "1000-3000 3000-4000 5000-6000");
	EXPECT_EQ(x.t.count, 3);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* vma_lookup finds the VMA containing addr, whose end is exclusive, and NULL in holes.
 *   .AA.B     pages 0x1000..0x5000
 */
TEST(lookup_returns_containing_vma_or_null_in_holes)
{
	struct vt x;
	struct vma a, b;
	vt_init(&x, 0);
	vma_set(&a, 0x2000, 0x4000, VM_READ);
	vma_set(&b, 0x5000, 0x6000, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	EXPECT_TRUE(vma_lookup(&x.t, 0x1fff) == NULL);
	EXPECT_TRUE(vma_lookup(&x.t, 0x2000) == &a);
	EXPECT_TRUE(vma_lookup(&x.t, 0x3fff) == &a);
	EXPECT_TRUE(vma_lookup(&x.t, 0x4000) == NULL);
	EXPECT_TRUE(vma_lookup(&x.t, 0x5abc) == &b);
	EXPECT_TRUE(vma_lookup(&x.t, 0x6000) == NULL);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* vma_find is Linux's find_vma: the first VMA whose end is above addr, even if addr lies
 * in the hole before it; NULL past the last VMA. */
TEST(find_returns_first_vma_ending_above_addr)
{
	struct vt x;
	struct vma a, b;
	vt_init(&x, 0);
	vma_set(&a, 0x2000, 0x4000, VM_READ);
	vma_set(&b, 0x5000, 0x6000, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	EXPECT_TRUE(vma_find(&x.t, 0) == &a);
	EXPECT_TRUE(vma_find(&x.t, 0x3000) == &a);
	EXPECT_TRUE(vma_find(&x.t, 0x4000) == &b);
	EXPECT_TRUE(vma_find(&x.t, 0x5fff) == &b);
	EXPECT_TRUE(vma_find(&x.t, 0x6000) == NULL);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* next/prev walk the address order across leaf boundaries and return NULL at the ends. */
TEST(next_and_prev_walk_address_order_and_stop_at_the_ends)
{
	enum { N = 200 };
	struct vt x;
	struct vma *v = calloc(N, sizeof(*v));
	vt_init(&x, 0);
	for (int i = N - 1; i >= 0; i--) {
		vma_set(&v[i], (uint64_t)(2 * i + 1) * PG, (uint64_t)(2 * i + 2) * PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
	}
	EXPECT_TRUE(vma_first(&x.t) == &v[0]);
	EXPECT_TRUE(vma_last(&x.t) == &v[N - 1]);
	EXPECT_TRUE(vma_prev(&x.t, &v[0]) == NULL);
	EXPECT_TRUE(vma_next(&x.t, &v[N - 1]) == NULL);
	int n = 0;
	for (struct vma *w = vma_first(&x.t); w; w = vma_next(&x.t, w), n++)
		EXPECT_TRUE(w == &v[n]);
	EXPECT_EQ(n, N);
	for (int i = 1; i < N; i++)
		EXPECT_TRUE(vma_prev(&x.t, &v[i]) == &v[i - 1]);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
	free(v);
}

/* Removing a VMA unlinks it from tree and list and widens the gap below its successor.
 *   before  A.B.C
 *   after   A...C
 */
TEST(remove_unlinks_vma_and_merges_the_gaps_around_it)
{
	struct vt x;
	struct vma a, b, c;
	char buf[256];
	uint64_t out = 0;
	vt_init(&x, 0);
	vma_set(&a, 0x1000, 0x2000, VM_READ);
	vma_set(&b, 0x3000, 0x4000, VM_READ);
	vma_set(&c, 0x5000, 0x6000, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	REQUIRE_EQ(vma_insert(&x.t, &c), 0);
	vma_remove(&x.t, &b);
	EXPECT_STREQ(vt_str(&x.t, buf, sizeof(buf)), "1000-2000 5000-6000");
	EXPECT_TRUE(vma_lookup(&x.t, 0x3000) == NULL);
	EXPECT_TRUE(vma_next(&x.t, &a) == &c);
	EXPECT_EQ(x.t.count, 2);
	/* The three-page hole only exists once b is gone. */
	EXPECT_EQ(vma_gap_bottomup(&x.t, 3 * PG, 0, 0, 0x5000, &out), 0);
	EXPECT_EQ(out, 0x2000);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* Removing every VMA, in an order that forces borrows and merges, empties the tree and
 * returns every node but the spare cache; destroy returns those. */
TEST(removing_every_vma_empties_the_tree_and_keeps_it_valid)
{
	enum { N = 3000 };
	struct vt x;
	struct vma *v = calloc(N, sizeof(*v));
	vt_init(&x, 0);
	for (int i = 0; i < N; i++) {
		vma_set(&v[i], (uint64_t)(2 * i + 1) * PG, (uint64_t)(2 * i + 2) * PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
	}
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	for (int i = 0; i < N; i += 3)
		vma_remove(&x.t, &v[i]);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	for (int i = N - 1; i >= 0; i--)
		if (i % 3)
			vma_remove(&x.t, &v[i]);
	EXPECT_EQ(x.t.count, 0);
	EXPECT_TRUE(x.t.root == NULL);
	EXPECT_EQ(x.t.nr_nodes, 0);
	EXPECT_TRUE(vma_first(&x.t) == NULL);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
	free(v);
}

/* vma_adjust moves bounds in place; lookups, find and the gaps follow the new bounds.
 *   before  .AAA..B
 *   after   ..AAAAB   (A grows up to B and gives up its first page)
 */
TEST(adjust_moves_bounds_and_lookups_follow)
{
	struct vt x;
	struct vma a, b;
	uint64_t out = 0;
	vt_init(&x, 0);
	vma_set(&a, 0x2000, 0x5000, VM_READ);
	vma_set(&b, 0x7000, 0x8000, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	vma_adjust(&x.t, &a, 0x3000, 0x7000);
	EXPECT_EQ(a.vm_start, 0x3000);
	EXPECT_EQ(a.vm_end, 0x7000);
	EXPECT_TRUE(vma_lookup(&x.t, 0x2000) == NULL);
	EXPECT_TRUE(vma_lookup(&x.t, 0x6fff) == &a);
	EXPECT_TRUE(vma_find(&x.t, 0x6000) == &a);
	/* The only hole below b is now [0, 0x3000). */
	EXPECT_EQ(vma_gap_topdown(&x.t, PG, 0, 0, 0x7000, &out), 0);
	EXPECT_EQ(out, 0x2000);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* Adjusting the last VMA of a leaf changes the gap below the first VMA of the next leaf;
 * the checker recomputes every cached gap, so it sees a missed update. */
TEST(adjust_across_leaf_boundaries_keeps_cached_gaps_right)
{
	enum { N = 500 };
	struct vt x;
	struct vma *v = calloc(N, sizeof(*v));
	vt_init(&x, 0);
	for (int i = 0; i < N; i++) {
		vma_set(&v[i], (uint64_t)(4 * i + 1) * PG, (uint64_t)(4 * i + 2) * PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		vma_adjust(&x.t, &v[i], v[i].vm_start - PG, v[i].vm_end + PG);
		if (i % 50 == 0)
			EXPECT_EQ(vma_tree_check(&x.t), 0);
	}
	for (int i = 0; i < N; i++)
		vma_adjust(&x.t, &v[i], v[i].vm_start + PG, v[i].vm_end);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_TRUE(vma_lookup(&x.t, 4 * PG * 7 + PG) == &v[7]);
	EXPECT_EQ(vt_destroy(&x), 0);
	free(v);
}

/* Adjusting with unchanged bounds refreshes the cached gap after a VM_GROWSDOWN change. */
TEST(adjust_with_same_bounds_refreshes_guard_gap_after_flag_change)
{
	struct vt x;
	struct vma a, b;
	uint64_t out = 0;
	vt_init(&x, 4 * PG);
	vma_set(&a, 0x1000, 0x2000, VM_READ);
	vma_set(&b, 0x8000, 0x9000, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	b.vm_flags |= VM_GROWSDOWN;
	vma_adjust(&x.t, &b, b.vm_start, b.vm_end);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vma_gap_topdown(&x.t, PG, 0, 0, 0x8000, &out), 0);
	EXPECT_EQ(out, 0x3000);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* An insert that needs a node when allocation fails returns -ENOMEM, and the tree, list,
 * count and checker all show nothing changed (STYLE rule 7). */
TEST(insert_under_allocation_failure_returns_enomem_and_changes_nothing)
{
	enum { N = 64 };
	struct vt x;
	struct vma v[N];
	char before[4096], after[4096];
	vt_init(&x, 0);
	int failures = 0;
	for (int i = 0; i < N; i++) {
		vma_set(&v[i], (uint64_t)(2 * i + 1) * PG, (uint64_t)(2 * i + 2) * PG, VM_READ);
		vt_str(&x.t, before, sizeof(before));
		uint64_t count = x.t.count, nodes = x.t.nr_nodes;
		kmem_fail_nth(&x.km, 1);
		int err = vma_insert(&x.t, &v[i]);
		kmem_fail_nth(&x.km, 0);
		if (err) {
			failures++;
			EXPECT_EQ(err, -ENOMEM);
			EXPECT_STREQ(vt_str(&x.t, after, sizeof(after)), before);
			EXPECT_EQ(x.t.count, count);
			EXPECT_EQ(x.t.nr_nodes, nodes);
			EXPECT_TRUE(vma_lookup(&x.t, v[i].vm_start) == NULL);
			EXPECT_EQ(vma_tree_check(&x.t), 0);
			REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
		}
	}
	/* The first insert and every leaf split needed a fresh node. */
	EXPECT_TRUE(failures >= 4);
	EXPECT_EQ(x.t.count, N);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* After vma_tree_reserve(n) succeeds, n inserts succeed even when every allocation fails. */
TEST(reserve_makes_the_next_inserts_infallible)
{
	enum { N = 2000, BATCH = 7 };
	struct vt x;
	struct vma *v = calloc(N, sizeof(*v));
	vt_init(&x, 0);
	for (int i = 0; i < N; i += BATCH) {
		REQUIRE_EQ(vma_tree_reserve(&x.t, BATCH), 0);
		kmem_fail_nth(&x.km, 1);	/* the next allocation, were there one, fails */
		for (int k = i; k < i + BATCH && k < N; k++) {
			/* Interleave from both ends so splits happen on both sides. */
			int j = k % 2 ? N - 1 - k / 2 : k / 2;
			vma_set(&v[j], (uint64_t)(2 * j + 1) * PG, (uint64_t)(2 * j + 2) * PG, 0);
			EXPECT_EQ(vma_insert(&x.t, &v[j]), 0);
		}
		kmem_fail_nth(&x.km, 0);
	}
	EXPECT_EQ(x.t.count, N);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
	free(v);
}

/* A reservation that cannot be met returns -ENOMEM and leaves the spare list as it was. */
TEST(reserve_failure_leaves_the_spare_list_unchanged)
{
	struct vt x;
	vt_init(&x, 0);
	REQUIRE_EQ(vma_tree_reserve(&x.t, 1), 0);
	uint64_t spare = x.t.nr_spare;
	uint64_t live = atomic_load(&x.km.live_objs);
	kmem_fail_nth(&x.km, 3);
	EXPECT_EQ(vma_tree_reserve(&x.t, 10), -ENOMEM);
	kmem_fail_nth(&x.km, 0);
	EXPECT_EQ(x.t.nr_spare, spare);
	EXPECT_EQ(atomic_load(&x.km.live_objs), live);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* destroy frees every node and spare of a large tree (not the VMAs, which the test owns). */
TEST(destroy_frees_every_node_and_spare)
{
	enum { N = 5000 };
	struct vt x;
	struct vma *v = calloc(N, sizeof(*v));
	vt_init(&x, 0);
	for (int i = 0; i < N; i++) {
		vma_set(&v[i], (uint64_t)(i + 1) * PG, (uint64_t)(i + 2) * PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
	}
	REQUIRE_EQ(vma_tree_reserve(&x.t, 50), 0);
	EXPECT_TRUE(atomic_load(&x.km.live_objs) > 300);
	EXPECT_EQ(vt_destroy(&x), 0);
	EXPECT_EQ(atomic_load(&x.km.live_bytes), 0);
	free(v);
}

/* The checker notices a VMA whose end was changed behind the tree's back, names it, and
 * counts the problem. */
TEST(check_reports_a_vma_moved_behind_the_trees_back)
{
	struct vt x;
	struct vma a, b;
	vt_init(&x, 0);
	vma_set(&a, 0x1000, 0x2000, VM_READ);
	vma_set(&b, 0x3000, 0x4000, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	a.vm_end = 0x3800;	/* now overlaps b and disagrees with the cached end */
	EXPECT_TRUE(vma_tree_check(&x.t) >= 2);
	a.vm_end = 0x2000;
	x.t.count++;
	EXPECT_EQ(vma_tree_check(&x.t), 1);
	x.t.count--;
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* The dump format is stable: a header, then nodes named d<depth>.<ordinal> and slots. */
TEST(dump_prints_a_stable_format)
{
	struct vt x;
	struct vma a, b;
	char *text = NULL;
	size_t size = 0;
	vt_init(&x, 0x100000);
	vma_set(&a, 0x1000, 0x3000, VM_READ | VM_WRITE);
	vma_set(&b, 0x400000, 0x401000, VM_READ | VM_GROWSDOWN);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	FILE *f = open_memstream(&text, &size);
	vma_tree_dump(&x.t, f);
	fclose(f);
	EXPECT_STREQ(text,
		     "vma_tree count=2 nodes=1 spare=0 guard_gap=0x100000\n"
		     "  leaf d0.0 nr=2\n"
		     "    [0] 0000000000001000-0000000000003000 flags=0x3 pgoff=0x1 pkey=0 kind=0 gap=0x1000\n"
		     "    [1] 0000000000400000-0000000000401000 flags=0x101 pgoff=0x400 pkey=0 kind=0 gap=0x2fd000\n");
	free(text);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* mmap fills an address space top-down, and MAP_FIXED loops or brk bottom-up: inserts that
 * keep landing at the front (or the back) of one node. Full nodes hand slots to a sibling
 * with room before they split, so such a tree ends up with full nodes (4096 VMAs: 256 full
 * leaves and 17 inner nodes, where splits alone made 585 half-full nodes) and stays valid. */
TEST(sequential_inserts_in_either_direction_fill_nodes)
{
	enum { N = 4096 };
	static struct vma v[N];
	for (int dir = 0; dir < 2; dir++) {
		struct vt x;
		vt_init(&x, 0);
		for (int k = 0; k < N; k++) {
			uint64_t page = dir ? (uint64_t)k : (uint64_t)(N - 1 - k);
			vma_set(&v[k], (1 + 2 * page) * PG, (2 + 2 * page) * PG, VM_READ);
			REQUIRE_EQ(vma_insert(&x.t, &v[k]), 0);
		}
		EXPECT_EQ(vma_tree_check(&x.t), 0);
		EXPECT_TRUE(x.t.nr_nodes <= 300);
		for (int k = 0; k < N; k++)
			EXPECT_EQ(vma_lookup(&x.t, v[k].vm_start) == &v[k], 1);
		for (int k = 0; k < N; k += 2)
			vma_remove(&x.t, &v[k]);
		EXPECT_EQ(vma_tree_check(&x.t), 0);
		EXPECT_EQ(x.t.count, N / 2);
		EXPECT_EQ(vt_destroy(&x), 0);
	}
}
