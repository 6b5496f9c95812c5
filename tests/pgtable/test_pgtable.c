/*
 * Tests of the page-table tree at 4 KiB granularity: mapping and lookup at 4 and 5 levels,
 * the architectural bit layout, unmap freeing empty tables, range walks that skip empty
 * tables, and protect. Each test owns its system and ends with fixture_done.
 */
#include "pgt_fixture.h"

/* A mapped page is found at level 1; 4-level paging builds PDPT, PD and PT below the root
 * (SPEC §1). Neighbours in the same PT read as zero; other PDs are missing (NULL). */
TEST(map_then_lookup_finds_the_pte_at_4_levels)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	uint64_t va = 0x7f0000001000ULL;
	REQUIRE_EQ(map4k(&f.p, va, 0x1234), 0);
	int level;
	EXPECT_EQ(leaf_of(&f.p, va, &level), pte_mk(0x1234, USER_RW));
	EXPECT_EQ(level, 1);
	EXPECT_EQ(leaf_of(&f.p, va + 0xfff, NULL), pte_mk(0x1234, USER_RW));
	EXPECT_EQ(pgt_nr_tables(&f.p), 3);
	EXPECT_TRUE(pgt_lookup(&f.p, va + PAGE_SIZE, &level) != NULL);
	EXPECT_EQ(leaf_of(&f.p, va + PAGE_SIZE, NULL), 0);
	EXPECT_TRUE(pgt_lookup(&f.p, va + PMD_SIZE, &level) == NULL);
	EXPECT_TRUE(pgt_lookup(&f.p, 1ULL << 47, &level) == NULL);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, va, va + PAGE_SIZE, NULL, NULL);
	fixture_done(&f);
}

/* 5-level paging (LA57) maps addresses up to 2^56 and builds four tables below the root. */
TEST(map_then_lookup_finds_the_pte_at_5_levels)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 5), 0);
	EXPECT_EQ(pgt_user_end(&f.p), 1ULL << 56);
	uint64_t va = 0x00ff123456789000ULL;
	REQUIRE_EQ(map4k(&f.p, va, 0x42), 0);
	REQUIRE_EQ(map4k(&f.p, 0x1000, 0x43), 0);
	int level;
	EXPECT_EQ(leaf_of(&f.p, va, &level), pte_mk(0x42, USER_RW));
	EXPECT_EQ(level, 1);
	EXPECT_EQ(leaf_of(&f.p, 0x1000, &level), pte_mk(0x43, USER_RW));
	EXPECT_EQ(f.p.nr_tables[5], 1);
	EXPECT_EQ(f.p.nr_tables[4], 2);
	EXPECT_EQ(pgt_nr_tables(&f.p), 8);
	EXPECT_TRUE(pgt_lookup(&f.p, 1ULL << 56, &level) == NULL);
	pgt_unmap_range(&f.p, 0, pgt_user_end(&f.p), NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* Leaf entries use the SDM layout: PFN in bits 12-51, protection key in 59-62, NX in 63
 * (SPEC §1); the helpers decode exactly those bits. */
TEST(entry_bits_follow_the_architectural_layout)
{
	pte_t e = pte_mk(0xfffffffffULL, PTE_P | PTE_NX | (7ULL << PTE_PKEY_SHIFT));
	EXPECT_EQ(e >> 63, 1);
	EXPECT_EQ((e >> 59) & 0xf, 7);
	EXPECT_EQ(pte_pkey(e), 7);
	EXPECT_EQ(pte_pfn(e), 0xfffffffffULL);
	EXPECT_EQ((e >> 12) & ((1ULL << 40) - 1), 0xfffffffffULL);
	EXPECT_EQ(pte_pfn(pte_mk(1, PTE_NX | PTE_PKEY_MASK | 0xfff)), 1);
	EXPECT_EQ(PTE_PFN_MASK, ((1ULL << 52) - 1) & ~0xfffULL);
	EXPECT_EQ(PTE_PS, 0x80);
	EXPECT_EQ(pgt_level_size(1), 4096);
	EXPECT_EQ(pgt_level_size(2), 2 * MiB);
	EXPECT_EQ(pgt_level_size(3), GiB);
	EXPECT_EQ(pgt_level_size(4), 512 * GiB);
}

/* Level L indexes with va bits 12+9(L-1)..+8; intermediate entries are P|RW|US with the
 * next table's PFN, and each table page's descriptor names its owner and level. */
TEST(each_level_indexes_its_own_nine_bits_of_the_address)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	uint64_t va = (5ULL << 39) | (6ULL << 30) | (7ULL << 21) | (8ULL << 12);
	REQUIRE_EQ(map_at(&f.p, va, 1, 0x99, USER_RW | PTE_NX), 0);
	const unsigned idx[5] = { 0, 8, 7, 6, 5 };
	uint64_t pfn = f.p.root;
	for (int l = 4; l >= 1; l--) {
		struct page *pg = pfn_to_page(&f.ph, pfn);
		EXPECT_EQ(pg->owner_kind, OWNER_PGTABLE);
		EXPECT_TRUE(pg->owner == &f.p);
		EXPECT_EQ(pg->index, l);
		EXPECT_TRUE(pg->flags & PG_pgtable);
		EXPECT_EQ(pg->pt_used, 1);
		pte_t e = ((pte_t *)pfn_to_virt(&f.ph, pfn))[idx[l]];
		if (l > 1) {
			EXPECT_EQ(e & 0xfff, PTE_P | PTE_RW | PTE_US);
			EXPECT_EQ(e >> 52, 0);
		} else {
			EXPECT_EQ(e, pte_mk(0x99, USER_RW | PTE_NX));
		}
		pfn = pte_pfn(e);
	}
	pgt_unmap_range(&f.p, va, va + PAGE_SIZE, NULL, NULL);
	fixture_done(&f);
}

/* Unmapping the only page frees its PT, PD and PDPT (all the way up) but keeps the root,
 * and calls zap once for the leaf. */
TEST(unmap_frees_empty_tables_up_to_but_not_the_root)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	uint64_t after_init = phys_free_frames(&f.ph);
	uint64_t va = 0x400000;
	REQUIRE_EQ(map4k(&f.p, va, 0x10), 0);
	EXPECT_EQ(phys_free_frames(&f.ph), after_init - 3);
	struct visits v = { 0 };
	pgt_unmap_range(&f.p, va, va + PAGE_SIZE, record_visit, &v);
	EXPECT_EQ(v.n, 1);
	EXPECT_EQ(v.va[0], va);
	EXPECT_EQ(v.level[0], 1);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	EXPECT_EQ(f.p.nr_tables[4], 1);
	EXPECT_EQ(phys_free_frames(&f.ph), after_init);
	EXPECT_TRUE(pgt_lookup(&f.p, va, &(int){ 0 }) == NULL);
	fixture_done(&f);
}

/* A table that still holds an entry outside the unmapped range stays. */
TEST(unmap_keeps_tables_that_still_hold_entries)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map4k(&f.p, 0x400000, 0x10), 0);
	REQUIRE_EQ(map4k(&f.p, 0x401000, 0x11), 0);
	pgt_unmap_range(&f.p, 0x400000, 0x401000, NULL, NULL);
	EXPECT_EQ(leaf_of(&f.p, 0x400000, NULL), 0);
	EXPECT_EQ(leaf_of(&f.p, 0x401000, NULL), pte_mk(0x11, USER_RW));
	EXPECT_EQ(pgt_nr_tables(&f.p), 3);
	pte_t *ep = pgt_lookup(&f.p, 0x401000, &(int){ 0 });
	REQUIRE_EQ(ep != NULL, 1);
	EXPECT_EQ(pfn_to_page(&f.ph, (uint64_t)((uint8_t *)ep - f.ph.arena) >> 12)->pt_used, 1);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, 0x401000, 0x402000, NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* An unmap across PT, PD and PDPT boundaries clears exactly the pages inside it:
 *   before  pages at 1G-8K 1G-4K | 1G 1G+4K   (two PDPTs' worth of tables: shared PDPT)
 *   unmap   [1G-4K, 1G+4K)
 *   after   1G-8K and 1G+4K remain, each with its own PD and PT. */
TEST(unmap_of_a_range_spanning_several_tables_clears_only_inside_it)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	const uint64_t pages[4] = { GiB - 2 * PAGE_SIZE, GiB - PAGE_SIZE, GiB, GiB + PAGE_SIZE };
	for (int i = 0; i < 4; i++)
		REQUIRE_EQ(map4k(&f.p, pages[i], 0x100 + (uint64_t)i), 0);
	EXPECT_EQ(pgt_nr_tables(&f.p), 5);
	struct visits v = { 0 };
	pgt_unmap_range(&f.p, GiB - PAGE_SIZE, GiB + PAGE_SIZE, record_visit, &v);
	EXPECT_EQ(v.n, 2);
	EXPECT_EQ(v.va[0], GiB - PAGE_SIZE);
	EXPECT_EQ(v.va[1], GiB);
	EXPECT_EQ(leaf_of(&f.p, pages[0], NULL), pte_mk(0x100, USER_RW));
	EXPECT_EQ(leaf_of(&f.p, pages[1], NULL), 0);
	EXPECT_EQ(leaf_of(&f.p, pages[2], NULL), 0);
	EXPECT_EQ(leaf_of(&f.p, pages[3], NULL), pte_mk(0x103, USER_RW));
	EXPECT_EQ(pgt_nr_tables(&f.p), 5);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, GiB + PAGE_SIZE, 4 * GiB, NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 3);
	pgt_unmap_range(&f.p, 0, GiB, NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* Walks visit only non-zero leaves, in address order, and skip missing tables: three
 * pages spread over a 1 TiB range give three calls, and the whole 128 TiB user range can
 * be walked and unmapped at once (O(tables), not O(pages)). */
TEST(walk_skips_empty_tables_over_a_huge_sparse_range)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	const uint64_t pages[3] = { 0x1000, 300 * GiB + 0x5000, TiB - PAGE_SIZE };
	for (int i = 0; i < 3; i++)
		REQUIRE_EQ(map4k(&f.p, pages[i], 0x200 + (uint64_t)i), 0);
	struct visits v = { 0 };
	EXPECT_EQ(pgt_walk_range(&f.p, 0, TiB, record_visit, &v), 0);
	EXPECT_EQ(v.n, 3);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(v.va[i], pages[i]);
	struct visits all = { 0 };
	EXPECT_EQ(pgt_walk_range(&f.p, 0, UINT64_MAX, record_visit, &all), 0);
	EXPECT_EQ(all.n, 3);
	pgt_unmap_range(&f.p, 0, pgt_user_end(&f.p), NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

static int stop_at_second(void *ctx, uint64_t va, pte_t *ep, int level)
{
	int *n = ctx;
	return ++*n == 2 ? 77 : 0;
}

/* A non-zero return from the callback stops the walk and is passed back. */
TEST(walk_stops_at_the_first_nonzero_callback_result)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	for (uint64_t i = 0; i < 4; i++)
		REQUIRE_EQ(map4k(&f.p, 0x10000 + i * PAGE_SIZE, 0x300 + i), 0);
	int n = 0;
	EXPECT_EQ(pgt_walk_range(&f.p, 0, GiB, stop_at_second, &n), 77);
	EXPECT_EQ(n, 2);
	pgt_unmap_range(&f.p, 0, GiB, NULL, NULL);
	fixture_done(&f);
}

/* Non-present leaves (swap entries, markers) are returned by lookup and walked, since
 * they are non-zero; protect leaves them alone. */
TEST(nonpresent_leaves_are_found_and_walked_but_not_protected)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	pte_t swp = (0xabcULL << 12) | PTE_SOFT3;
	REQUIRE_EQ(map_at(&f.p, 0x5000, 1, 0, 0), 0); /* allocate, then store a marker */
	pte_t *ep = pgt_lookup(&f.p, 0x5000, &(int){ 0 });
	REQUIRE_EQ(ep != NULL, 1);
	pgt_set(&f.p, ep, swp);
	struct visits v = { 0 };
	pgt_walk_range(&f.p, 0, GiB, record_visit, &v);
	EXPECT_EQ(v.n, 1);
	pgt_protect_range(&f.p, 0, GiB, PTE_SOFT3, PTE_NX);
	EXPECT_EQ(*ep, swp);
	pgt_unmap_range(&f.p, 0, GiB, NULL, NULL);
	fixture_done(&f);
}

/* protect sets and clears bits on present leaves inside the range only, keeping PFN and
 * the A/D bits:
 *   before  RW RW RW RW
 *   protect [1, 3) clear RW set NX
 *   after   RW r- r- RW */
TEST(protect_range_changes_only_present_leaves_in_range)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	uint64_t base = 0x7f0000000000ULL;
	for (uint64_t i = 0; i < 4; i++)
		REQUIRE_EQ(map_at(&f.p, base + i * PAGE_SIZE, 1, 0x400 + i, USER_RW | PTE_A | PTE_D), 0);
	pgt_protect_range(&f.p, base + PAGE_SIZE, base + 3 * PAGE_SIZE, PTE_RW, PTE_NX);
	const pte_t keep = USER_RW | PTE_A | PTE_D;
	const pte_t ro = (keep & ~PTE_RW) | PTE_NX;
	EXPECT_EQ(leaf_of(&f.p, base, NULL), pte_mk(0x400, keep));
	EXPECT_EQ(leaf_of(&f.p, base + PAGE_SIZE, NULL), pte_mk(0x401, ro));
	EXPECT_EQ(leaf_of(&f.p, base + 2 * PAGE_SIZE, NULL), pte_mk(0x402, ro));
	EXPECT_EQ(leaf_of(&f.p, base + 3 * PAGE_SIZE, NULL), pte_mk(0x403, keep));
	pgt_protect_range(&f.p, base, base + 4 * PAGE_SIZE, PTE_PKEY_MASK, 3ULL << PTE_PKEY_SHIFT);
	EXPECT_EQ(pte_pkey(leaf_of(&f.p, base + 3 * PAGE_SIZE, NULL)), 3);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, base, base + 4 * PAGE_SIZE, NULL, NULL);
	fixture_done(&f);
}

/* pgt_set counts only zero <-> non-zero changes in pt_used; rewriting a live entry or
 * clearing an empty one leaves it alone. */
TEST(set_counts_only_entries_turning_zero_or_nonzero)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	pte_t *ep;
	REQUIRE_EQ(pgt_alloc_entry(&f.p, 0x3000, 1, &ep), 0);
	struct page *pt = pfn_to_page(&f.ph, (uint64_t)((uint8_t *)ep - f.ph.arena) >> 12);
	EXPECT_EQ(pt->pt_used, 0);
	pgt_set(&f.p, ep, pte_mk(5, USER_RW));
	EXPECT_EQ(pt->pt_used, 1);
	pgt_set(&f.p, ep, pte_mk(6, PTE_P | PTE_US));
	EXPECT_EQ(pt->pt_used, 1);
	pgt_set(&f.p, ep, 0);
	EXPECT_EQ(pt->pt_used, 0);
	pgt_set(&f.p, ep, 0);
	EXPECT_EQ(pt->pt_used, 0);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, 0, PMD_SIZE, NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

static int zap_clears_itself(void *ctx, uint64_t va, pte_t *ep, int level)
{
	pgt_set(ctx, ep, 0);
	return 0;
}

/* The zap callback may clear the entry itself with pgt_set; unmap then does not count
 * the entry twice. */
TEST(unmap_accepts_a_zap_that_clears_the_entry_itself)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map4k(&f.p, 0x1000, 1), 0);
	REQUIRE_EQ(map4k(&f.p, 0x2000, 2), 0);
	pgt_unmap_range(&f.p, 0, PMD_SIZE, zap_clears_itself, &f.p);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* pgt_init accepts 4 or 5 levels only. */
TEST(init_rejects_levels_other_than_4_or_5)
{
	struct kmem km;
	struct phys ph;
	struct pgt p;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 64 * MiB), 0);
	EXPECT_ERRNO(pgt_init(&p, &ph, 3), -EINVAL);
	EXPECT_ERRNO(pgt_init(&p, &ph, 6), -EINVAL);
	EXPECT_EQ(phys_destroy(&ph), 0);
}
