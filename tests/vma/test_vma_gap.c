/*
 * Tests of get_unmapped_area over the index (anchors §2.2): top-down returns the top of the
 * highest fitting gap, bottom-up the bottom of the lowest, both honour alignment, clip gaps
 * to [low, high), and keep out of the guard gap below VM_GROWSDOWN VMAs. One character of
 * a drawing is one page, from address 0 unless a test says otherwise; '.' is free.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>

#include "vma_test.h"

/* An empty tree has one gap, [0, high): top-down takes its top, bottom-up its bottom. */
TEST(empty_tree_offers_the_whole_range)
{
	struct vt x;
	uint64_t out = 0;
	vt_init(&x, 0);
	EXPECT_EQ(vma_gap_topdown(&x.t, 2 * PG, 0, PG, 0x10000, &out), 0);
	EXPECT_EQ(out, 0xe000);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 2 * PG, 0, PG, 0x10000, &out), 0);
	EXPECT_EQ(out, 0x1000);
	EXPECT_EQ(vma_gap_topdown(&x.t, 0x10000, 0, PG, 0x10000, &out), -ENOMEM);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* Top-down picks the highest gap that fits and places the range at its top.
 *   page  0123456789abcdef
 *         .A..B...C.D.....|high=0x10000
 *   3 pages: the top gap [0xb000, 0x10000) -> 0xd000; below high=0xa000: [5, 8) -> 0x5000
 */
TEST(topdown_places_at_the_top_of_the_highest_fitting_gap)
{
	struct vt x;
	struct vma v[4];
	uint64_t out = 0;
	const uint64_t at[4] = { 1, 4, 8, 10 };
	vt_init(&x, 0);
	for (int i = 0; i < 4; i++) {
		vma_set(&v[i], at[i] * PG, (at[i] + 1) * PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
	}
	EXPECT_EQ(vma_gap_topdown(&x.t, 3 * PG, 0, 0, 0x10000, &out), 0);
	EXPECT_EQ(out, 0xd000);
	EXPECT_EQ(vma_gap_topdown(&x.t, 3 * PG, 0, 0, 0xa000, &out), 0);
	EXPECT_EQ(out, 0x5000);
	EXPECT_EQ(vma_gap_topdown(&x.t, 2 * PG, 0, 0, 0x8000, &out), 0);
	EXPECT_EQ(out, 0x6000);
	EXPECT_EQ(vma_gap_topdown(&x.t, 4 * PG, 0, 0, 0xa000, &out), -ENOMEM);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* Bottom-up picks the lowest gap that fits and places the range at its bottom.
 *   page  0123456789abcdef
 *         .A..B...C.D.....
 *   2 pages -> 0x2000; 3 pages -> 0x5000; 1 page above low=0x9000 -> 0x9000
 */
TEST(bottomup_places_at_the_bottom_of_the_lowest_fitting_gap)
{
	struct vt x;
	struct vma v[4];
	uint64_t out = 0;
	const uint64_t at[4] = { 1, 4, 8, 10 };
	vt_init(&x, 0);
	for (int i = 0; i < 4; i++) {
		vma_set(&v[i], at[i] * PG, (at[i] + 1) * PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
	}
	EXPECT_EQ(vma_gap_bottomup(&x.t, 2 * PG, 0, 0, 0x10000, &out), 0);
	EXPECT_EQ(out, 0x2000);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 3 * PG, 0, 0, 0x10000, &out), 0);
	EXPECT_EQ(out, 0x5000);
	EXPECT_EQ(vma_gap_bottomup(&x.t, PG, 0, 0x9000, 0x10000, &out), 0);
	EXPECT_EQ(out, 0x9000);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 6 * PG, 0, 0, 0x10000, &out), -ENOMEM);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* With an alignment mask the result is aligned: top-down aligns down inside the gap,
 * bottom-up aligns up, and a gap too short once aligned is passed over.
 *   VMAs at [1M, 1M+4K) and [5M, 6M); 2 MiB alignment (mask 0x1fffff)
 */
TEST(alignment_aligns_down_topdown_and_up_bottomup)
{
	struct vt x;
	struct vma a, b;
	uint64_t out = 0;
	const uint64_t mask = 2 * MiB - 1;
	vt_init(&x, 0);
	vma_set(&a, 1 * MiB, 1 * MiB + PG, VM_READ);
	vma_set(&b, 5 * MiB, 6 * MiB, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	EXPECT_EQ(vma_gap_topdown(&x.t, 2 * MiB, mask, 0, 5 * MiB, &out), 0);
	EXPECT_EQ(out, 2 * MiB);
	EXPECT_EQ(vma_gap_bottomup(&x.t, PG, mask, 0, 16 * MiB, &out), 0);
	EXPECT_EQ(out, 0);
	EXPECT_EQ(vma_gap_bottomup(&x.t, PG, mask, PG, 16 * MiB, &out), 0);
	EXPECT_EQ(out, 2 * MiB);
	/* [1M+4K, 5M) holds no aligned 4 MiB range; [6M, 16M) does, from 6M. */
	EXPECT_EQ(vma_gap_bottomup(&x.t, 4 * MiB, mask, 0, 16 * MiB, &out), 0);
	EXPECT_EQ(out, 6 * MiB);
	EXPECT_EQ(vma_gap_topdown(&x.t, 4 * MiB, mask, 0, 11 * MiB, &out), 0);
	EXPECT_EQ(out, 6 * MiB);
	EXPECT_EQ(vma_gap_topdown(&x.t, 4 * MiB, mask, 0, 9 * MiB, &out), -ENOMEM);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* The answer is exact: an aligned gap of exactly len is found, though Linux would ask for
 * len + align_mask. Here the only hole is [2M, 4M) between two VMAs. */
TEST(aligned_gap_of_exactly_len_is_found)
{
	struct vt x;
	struct vma a, b;
	uint64_t out = 0;
	vt_init(&x, 0);
	vma_set(&a, PG, 2 * MiB, VM_READ);
	vma_set(&b, 4 * MiB, 8 * MiB, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	EXPECT_EQ(vma_gap_topdown(&x.t, 2 * MiB, 2 * MiB - 1, PG, 8 * MiB, &out), 0);
	EXPECT_EQ(out, 2 * MiB);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 2 * MiB, 2 * MiB - 1, PG, 8 * MiB, &out), 0);
	EXPECT_EQ(out, 2 * MiB);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* A gap that straddles low or high is clipped to [low, high) before it is tried.
 *   page  0123456789abcdef
 *         A........B......
 *   low=0x4000, high=0x7000: top-down 2 pages -> 0x5000, bottom-up -> 0x4000;
 *   low=0x7000, high=0x9000 leaves 2 pages: 3 pages do not fit.
 */
TEST(gaps_straddling_low_or_high_are_clipped)
{
	struct vt x;
	struct vma a, b;
	uint64_t out = 0;
	vt_init(&x, 0);
	vma_set(&a, 0, PG, VM_READ);
	vma_set(&b, 9 * PG, 10 * PG, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &b), 0);
	EXPECT_EQ(vma_gap_topdown(&x.t, 2 * PG, 0, 0x4000, 0x7000, &out), 0);
	EXPECT_EQ(out, 0x5000);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 2 * PG, 0, 0x4000, 0x7000, &out), 0);
	EXPECT_EQ(out, 0x4000);
	EXPECT_EQ(vma_gap_topdown(&x.t, 3 * PG, 0, 0x7000, 0x9000, &out), -ENOMEM);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 3 * PG, 0, 0x7000, 0x9000, &out), -ENOMEM);
	/* The gap above b straddles low. */
	EXPECT_EQ(vma_gap_bottomup(&x.t, PG, 0, 0xc000, 0x10000, &out), 0);
	EXPECT_EQ(out, 0xc000);
	EXPECT_EQ(vma_gap_topdown(&x.t, 4 * PG, 0, 0xc000, 0x10000, &out), 0);
	EXPECT_EQ(out, 0xc000);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* Nothing is placed in the guard gap below a VM_GROWSDOWN VMA (the Stack Clash rule,
 * anchors §2.2), guard gap 3 pages here.
 *   page  0123456789abcdef
 *         A.......ggS.....     g = guard, S = VM_GROWSDOWN (its guard starts at page 7)
 *   top-down 2 pages below high=0xa000 -> 0x5000, not 0x8000
 */
TEST(guard_gap_below_growsdown_vma_is_never_returned)
{
	struct vt x;
	struct vma a, s;
	uint64_t out = 0;
	vt_init(&x, 3 * PG);
	vma_set(&a, 0, PG, VM_READ);
	vma_set(&s, 10 * PG, 11 * PG, VM_READ | VM_WRITE | VM_GROWSDOWN);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	REQUIRE_EQ(vma_insert(&x.t, &s), 0);
	EXPECT_EQ(vma_start_gap(&x.t, &s), 7 * PG);
	EXPECT_EQ(vma_gap_topdown(&x.t, 2 * PG, 0, 0, 10 * PG, &out), 0);
	EXPECT_EQ(out, 5 * PG);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 6 * PG, 0, 0, 10 * PG, &out), 0);
	EXPECT_EQ(out, PG);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 7 * PG, 0, 0, 10 * PG, &out), -ENOMEM);
	/* The gap above s is not guarded: it starts right at s's end. */
	EXPECT_EQ(vma_gap_bottomup(&x.t, PG, 0, 10 * PG, 16 * PG, &out), 0);
	EXPECT_EQ(out, 11 * PG);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* A guard gap that would reach below 0 saturates at 0, and one that reaches over the
 * previous VMA leaves no gap below it (cached gap 0, not a wrapped huge value). As in
 * Linux, the guard narrows only the gap directly below its VMA (guard 8 pages here).
 *   page  0123456789abcdef
 *         ..........A.S...     S = VM_GROWSDOWN; its guard would start at page 4
 */
TEST(guard_gap_saturates_at_zero_and_may_cover_the_previous_vma)
{
	struct vt x;
	struct vma a, s;
	uint64_t out = 0;
	vt_init(&x, 8 * PG);
	vma_set(&s, 2 * PG, 3 * PG, VM_READ | VM_GROWSDOWN);
	REQUIRE_EQ(vma_insert(&x.t, &s), 0);
	EXPECT_EQ(vma_start_gap(&x.t, &s), 0);
	EXPECT_EQ(vma_gap_bottomup(&x.t, PG, 0, 0, 3 * PG, &out), -ENOMEM);
	vma_set(&a, 10 * PG, 11 * PG, VM_READ);
	REQUIRE_EQ(vma_insert(&x.t, &a), 0);
	vma_remove(&x.t, &s);
	vma_set(&s, 12 * PG, 13 * PG, VM_READ | VM_GROWSDOWN);
	REQUIRE_EQ(vma_insert(&x.t, &s), 0);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vma_gap_topdown(&x.t, PG, 0, 11 * PG, 12 * PG, &out), -ENOMEM);
	EXPECT_EQ(vma_gap_bottomup(&x.t, PG, 0, 11 * PG, 12 * PG, &out), -ENOMEM);
	EXPECT_EQ(vma_gap_topdown(&x.t, PG, 0, 0, 12 * PG, &out), 0);
	EXPECT_EQ(out, 9 * PG);
	EXPECT_EQ(vt_destroy(&x), 0);
}

/* In a tree of 20k one-page VMAs with one-page holes and a single 8-page hole, both
 * searches go straight to that hole for 8 pages (the cached max gaps steer them). */
TEST(search_in_a_large_tree_finds_the_single_big_hole)
{
	enum { N = 20000, HOLE = 12345 };
	struct vt x;
	struct vma *v = calloc(N, sizeof(*v));
	uint64_t out = 0;
	vt_init(&x, 0);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t start = (2 * i + 1 + (i > HOLE ? 7 : 0)) * PG;
		vma_set(&v[i], start, start + PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[i]), 0);
	}
	uint64_t high = v[N - 1].vm_end;
	EXPECT_EQ(vma_gap_topdown(&x.t, 8 * PG, 0, 0, high, &out), 0);
	EXPECT_EQ(out, v[HOLE].vm_end);
	EXPECT_EQ(vma_gap_bottomup(&x.t, 8 * PG, 0, 0, high, &out), 0);
	EXPECT_EQ(out, v[HOLE].vm_end);
	EXPECT_EQ(vma_gap_topdown(&x.t, 9 * PG, 0, 0, high, &out), -ENOMEM);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
	free(v);
}
