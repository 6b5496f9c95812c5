/*
 * pgt_move_range, mremap's page-table move: aligned spans move whole tables (the same
 * table page ends up linked at the destination), unaligned ones move PTE by PTE, and
 * every count stays exact.
 */
#include "pgt_fixture.h"

/* A 2 MiB-aligned move relinks the PTE table itself: O(tables), not O(pages). */
TEST(aligned_move_relinks_the_pte_table)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	const uint64_t old = 0x40000000ULL, dst = 0x7f0000000000ULL;
	pte_t *ep;
	for (uint64_t i = 0; i < 512; i++) {
		REQUIRE_EQ(pgt_alloc_entry(&f.p, old + i * 4096, 1, &ep), 0);
		pgt_set(&f.p, ep, pte_mk(100 + i, PTE_P | PTE_RW | PTE_US));
	}
	int level;
	pte_t *first = pgt_lookup(&f.p, old, &level);
	uint64_t table_pfn = (uint64_t)((uint8_t *)first - f.ph.arena) >> 12;
	EXPECT_EQ(pgt_move_range(&f.p, old, dst, 2ULL << 20), 0);
	EXPECT_TRUE(pgt_lookup(&f.p, old, &level) == NULL);
	pte_t *moved = pgt_lookup(&f.p, dst, &level);
	REQUIRE_EQ(moved != NULL, 1);
	EXPECT_EQ((uint64_t)((uint8_t *)moved - f.ph.arena) >> 12, table_pfn);
	EXPECT_EQ(pte_pfn(*pgt_lookup(&f.p, dst + 511 * 4096, &level)), 100 + 511);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, dst, dst + (2ULL << 20), NULL, NULL);
	fixture_done(&f);
}

/* An unaligned move goes PTE by PTE and leaves no empty tables behind. */
TEST(unaligned_move_goes_pte_by_pte)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	const uint64_t old = 0x40003000ULL, dst = 0x50001000ULL;
	pte_t *ep;
	for (uint64_t i = 0; i < 8; i++) {
		REQUIRE_EQ(pgt_alloc_entry(&f.p, old + i * 4096, 1, &ep), 0);
		pgt_set(&f.p, ep, pte_mk(200 + i, PTE_P | PTE_US));
	}
	uint64_t tables = pgt_nr_tables(&f.p);
	EXPECT_EQ(pgt_move_range(&f.p, old, dst, 8 * 4096), 0);
	int level;
	for (uint64_t i = 0; i < 8; i++) {
		pte_t *e = pgt_lookup(&f.p, dst + i * 4096, &level);
		EXPECT_TRUE(e && pte_pfn(*e) == 200 + i);
	}
	EXPECT_EQ(pgt_nr_tables(&f.p), tables);	/* the source PT was freed, one made for dst */
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, dst, dst + 8 * 4096, NULL, NULL);
	fixture_done(&f);
}

/* A sparse unaligned move whose source and destination cross 2 MiB boundaries at different
 * offsets, over a source with a whole missing PTE table in the middle: every entry lands
 * at the same offset from the destination, the hole stays a hole, and counts stay exact. */
TEST(unaligned_sparse_move_across_table_boundaries_keeps_every_entry)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	const uint64_t old = 0x401fa000ULL, dst = 0x603fd000ULL, len = (6ULL << 20) + 7 * 4096;
	const uint64_t hole_lo = 0x40400000ULL, hole_hi = 0x40600000ULL;	/* no table at all */
	pte_t *ep;
	uint64_t n = 0;
	for (uint64_t va = old; va < old + len; va += 3 * 4096) {
		if (va >= hole_lo && va < hole_hi)
			continue;
		REQUIRE_EQ(pgt_alloc_entry(&f.p, va, 1, &ep), 0);
		pgt_set(&f.p, ep, pte_mk(1000 + (va - old) / 4096, PTE_P | PTE_US));
		n++;
	}
	EXPECT_EQ(pgt_move_range(&f.p, old, dst, len), 0);
	int level;
	uint64_t found = 0;
	for (uint64_t off = 0; off < len; off += 4096) {
		EXPECT_TRUE(pgt_lookup(&f.p, old + off, &level) == NULL ||
			    *pgt_lookup(&f.p, old + off, &level) == 0);
		pte_t *e = pgt_lookup(&f.p, dst + off, &level);
		if (e && *e) {
			EXPECT_EQ(pte_pfn(*e), 1000 + off / 4096);
			found++;
		}
	}
	EXPECT_EQ(found, n);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, dst, dst + len, NULL, NULL);
	fixture_done(&f);
}
