/*
 * Tests of huge leaves and splitting, of the integrity checker and dump, and of failure
 * and concurrency: out-of-frames paths give -ENOMEM without leaking, and faults racing to
 * install the same tables keep every count exact.
 */
#include "pgt_fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HUGE_BITS (USER_RW | PTE_A | PTE_D | PTE_NX | (2ULL << PTE_PKEY_SHIFT))

/* A 2 MiB leaf is a PD entry with PS: every address inside it looks up to the same entry
 * at level 2, and only the PDPT and PD exist below the root (SPEC §1). */
TEST(a_2mib_leaf_is_found_at_level_2_for_every_address_inside)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	uint64_t va = 4 * MiB;
	REQUIRE_EQ(map_at(&f.p, va, 2, 0x200, HUGE_BITS), 0);
	int level;
	EXPECT_EQ(leaf_of(&f.p, va + 0x12345, &level), pte_mk(0x200, HUGE_BITS | PTE_PS));
	EXPECT_EQ(level, 2);
	EXPECT_EQ(leaf_of(&f.p, va + PMD_SIZE - 1, &level), pte_mk(0x200, HUGE_BITS | PTE_PS));
	EXPECT_EQ(pgt_nr_tables(&f.p), 2);
	struct visits v = { 0 };
	pgt_walk_range(&f.p, va + PAGE_SIZE, va + 2 * PAGE_SIZE, record_visit, &v);
	EXPECT_EQ(v.n, 1);
	EXPECT_EQ(v.va[0], va);
	EXPECT_EQ(v.level[0], 2);
	struct visits z = { 0 };
	pgt_unmap_range(&f.p, va, va + PMD_SIZE, record_visit, &z);
	EXPECT_EQ(z.n, 1);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* A 1 GiB leaf is a PDPT entry with PS, found at level 3; only the PDPT exists. */
TEST(a_1gib_leaf_is_found_at_level_3)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map_at(&f.p, 3 * GiB, 3, 0x40000, HUGE_BITS), 0);
	int level;
	EXPECT_EQ(leaf_of(&f.p, 4 * GiB - 1, &level), pte_mk(0x40000, HUGE_BITS | PTE_PS));
	EXPECT_EQ(level, 3);
	EXPECT_EQ(pgt_nr_tables(&f.p), 1);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, 3 * GiB, 4 * GiB, NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* alloc_entry below a huge leaf fails with -EEXIST and allocates nothing. */
TEST(alloc_entry_under_a_huge_leaf_gives_eexist)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map_at(&f.p, 4 * MiB, 2, 0x200, USER_RW), 0);
	REQUIRE_EQ(map_at(&f.p, GiB, 3, 0x40000, USER_RW), 0);
	uint64_t before = phys_free_frames(&f.ph);
	pte_t *ep;
	EXPECT_ERRNO(pgt_alloc_entry(&f.p, 4 * MiB + PAGE_SIZE, 1, &ep), -EEXIST);
	EXPECT_ERRNO(pgt_alloc_entry(&f.p, GiB + PMD_SIZE, 2, &ep), -EEXIST);
	EXPECT_ERRNO(pgt_alloc_entry(&f.p, GiB + 5 * PAGE_SIZE, 1, &ep), -EEXIST);
	EXPECT_EQ(phys_free_frames(&f.ph), before);
	/* The huge entry itself is reachable at its own level. */
	EXPECT_EQ(pgt_alloc_entry(&f.p, 4 * MiB, 2, &ep), 0);
	EXPECT_EQ(*ep, pte_mk(0x200, USER_RW | PTE_PS));
	pgt_unmap_range(&f.p, 0, 2 * GiB, NULL, NULL);
	fixture_done(&f);
}

/* Splitting a 2 MiB leaf gives a PT of 512 entries with the same bits minus PS (bit 7
 * is PAT at level 1) and PFNs counting up from the huge PFN. */
TEST(split_of_a_2mib_leaf_keeps_pfns_and_bits)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	uint64_t va = 6 * MiB;
	REQUIRE_EQ(map_at(&f.p, va, 2, 0x400, HUGE_BITS | PTE_SPECIAL), 0);
	EXPECT_EQ(pgt_split_huge(&f.p, va + 0x3000), 0);
	EXPECT_EQ(pgt_nr_tables(&f.p), 3);
	int bad = 0;
	for (uint64_t i = 0; i < 512; i++) {
		int level;
		pte_t e = leaf_of(&f.p, va + i * PAGE_SIZE, &level);
		bad += level != 1 || e != pte_mk(0x400 + i, HUGE_BITS | PTE_SPECIAL);
	}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(pgt_check(&f.p), 0);
	struct visits z = { 0 };
	pgt_unmap_range(&f.p, va, va + PMD_SIZE, record_visit, &z);
	EXPECT_EQ(z.n, 512);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* Splitting a 1 GiB leaf gives 512 2 MiB leaves (still PS), 512 frames apart; one of them
 * can be split again down to 4 KiB entries. */
TEST(split_of_a_1gib_leaf_makes_512_2mib_leaves)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 5), 0);
	uint64_t va = 7 * GiB;
	REQUIRE_EQ(map_at(&f.p, va, 3, 0x80000, HUGE_BITS), 0);
	EXPECT_EQ(pgt_split_huge(&f.p, va + 5 * PMD_SIZE + 7), 0);
	int bad = 0;
	for (uint64_t i = 0; i < 512; i++) {
		int level;
		pte_t e = leaf_of(&f.p, va + i * PMD_SIZE, &level);
		bad += level != 2 || e != pte_mk(0x80000 + i * 512, HUGE_BITS | PTE_PS);
	}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(pgt_split_huge(&f.p, va + 3 * PMD_SIZE), 0);
	int level;
	EXPECT_EQ(leaf_of(&f.p, va + 3 * PMD_SIZE + 9 * PAGE_SIZE, &level),
		  pte_mk(0x80000 + 3 * 512 + 9, HUGE_BITS));
	EXPECT_EQ(level, 1);
	EXPECT_EQ(f.p.nr_tables[1], 1);
	EXPECT_EQ(f.p.nr_tables[2], 1);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, va, va + GiB, NULL, NULL);
	EXPECT_EQ(pgt_nr_tables(&f.p), 0);
	fixture_done(&f);
}

/* With no present huge leaf over va (a 4 KiB page, or nothing), split changes nothing. */
TEST(split_without_a_huge_leaf_does_nothing)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map4k(&f.p, 0x1000, 1), 0);
	uint64_t before = phys_free_frames(&f.ph);
	EXPECT_EQ(pgt_split_huge(&f.p, 0x1000), 0);
	EXPECT_EQ(pgt_split_huge(&f.p, 5 * GiB), 0);
	EXPECT_EQ(phys_free_frames(&f.ph), before);
	EXPECT_EQ(leaf_of(&f.p, 0x1000, NULL), pte_mk(1, USER_RW));
	pgt_unmap_range(&f.p, 0, PAGE_SIZE * 2, NULL, NULL);
	fixture_done(&f);
}

/* Takes frames until exactly `left` stay free; returns how many it took into hold[]. */
static int exhaust(struct phys *ph, struct page **hold, int cap, uint64_t left)
{
	int n = 0;
	while (phys_free_frames(ph) > left && n < cap)
		hold[n++] = phys_alloc(ph, 0, PHYS_ZERO);
	return n;
}

static void give_back(struct phys *ph, struct page **hold, int n)
{
	for (int i = 0; i < n; i++)
		phys_put(ph, hold[i]);
}

/* Out of frames, alloc_entry gives -ENOMEM; the tables it did allocate are consistent and
 * the next unmap of the range frees them, so nothing leaks (SPEC §1, STYLE rule 16). */
TEST(alloc_entry_out_of_frames_gives_enomem_without_leaking)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 16 * PAGE_SIZE, 4), 0);
	struct page *hold[16];
	uint64_t va = 0x7f0000000000ULL;
	for (uint64_t left = 0; left < 3; left++) {
		int n = exhaust(&f.ph, hold, 16, left);
		pte_t *ep;
		EXPECT_ERRNO(pgt_alloc_entry(&f.p, va, 1, &ep), -ENOMEM);
		EXPECT_EQ(pgt_nr_tables(&f.p), left);
		EXPECT_EQ(pgt_check(&f.p), 0);
		pgt_unmap_range(&f.p, va, va + PAGE_SIZE, NULL, NULL);
		EXPECT_EQ(pgt_nr_tables(&f.p), 0);
		EXPECT_EQ(phys_free_frames(&f.ph), left);
		give_back(&f.ph, hold, n);
	}
	int n = exhaust(&f.ph, hold, 16, 3);
	EXPECT_EQ(map4k(&f.p, va, 1), 0);
	pgt_unmap_range(&f.p, va, va + PAGE_SIZE, NULL, NULL);
	give_back(&f.ph, hold, n);
	fixture_done(&f);
}

/* pgt_init and pgt_split_huge out of frames give -ENOMEM with nothing changed. */
TEST(init_and_split_out_of_frames_give_enomem_with_nothing_changed)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 16 * PAGE_SIZE, 4), 0);
	REQUIRE_EQ(map_at(&f.p, 2 * MiB, 2, 0x200, USER_RW), 0);
	struct page *hold[16];
	int n = exhaust(&f.ph, hold, 16, 0);
	EXPECT_ERRNO(pgt_split_huge(&f.p, 2 * MiB), -ENOMEM);
	EXPECT_EQ(leaf_of(&f.p, 2 * MiB, NULL), pte_mk(0x200, USER_RW | PTE_PS));
	EXPECT_EQ(pgt_nr_tables(&f.p), 2);
	struct pgt other;
	EXPECT_ERRNO(pgt_init(&other, &f.ph, 5), -ENOMEM);
	give_back(&f.ph, hold, n);
	pgt_unmap_range(&f.p, 0, GiB, NULL, NULL);
	fixture_done(&f);
}

/* The checker recounts pt_used and reports a table whose cached count is wrong; it
 * reports without repairing. */
TEST(check_detects_a_corrupted_pt_used)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map4k(&f.p, 0x1000, 1), 0);
	pte_t *ep = pgt_lookup(&f.p, 0x1000, &(int){ 0 });
	struct page *pt = pfn_to_page(&f.ph, (uint64_t)((uint8_t *)ep - f.ph.arena) >> 12);
	pt->pt_used = 7;
	EXPECT_EQ(pgt_check(&f.p), 1);
	EXPECT_EQ(pt->pt_used, 7);
	pt->pt_used = 1;
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, 0, PMD_SIZE, NULL, NULL);
	fixture_done(&f);
}

/* The checker recounts the tables of each level against nr_tables, and checks each table
 * page's descriptor. */
TEST(check_detects_a_wrong_table_count_and_owner)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map4k(&f.p, 0x1000, 1), 0);
	f.p.nr_tables[2]++;
	EXPECT_EQ(pgt_check(&f.p), 1);
	f.p.nr_tables[2]--;
	struct page *root = pfn_to_page(&f.ph, f.p.root);
	root->index = 2;
	EXPECT_EQ(pgt_check(&f.p), 1);
	root->index = 4;
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, 0, PMD_SIZE, NULL, NULL);
	fixture_done(&f);
}

/* The dump prints one line per non-zero entry, tables and leaves, indented by level and
 * named as Linux names the levels. */
TEST(dump_prints_one_line_per_nonzero_entry)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	REQUIRE_EQ(map_at(&f.p, 0x400000, 1, 0x10, USER_RW | PTE_NX | (1ULL << PTE_PKEY_SHIFT)), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	REQUIRE_EQ(m != NULL, 1);
	pgt_dump(&f.p, m, 0, pgt_user_end(&f.p));
	fclose(m);
	int lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	EXPECT_EQ(lines, 4);
	EXPECT_TRUE(strncmp(buf, "pgd 0x", 6) == 0);
	EXPECT_TRUE(strstr(buf, "\n  pud 0x") != NULL);
	EXPECT_TRUE(strstr(buf, "\n    pmd 0x") != NULL);
	EXPECT_TRUE(strstr(buf, "      pte 0x000000400000 8800000000010007 pfn 0x10 leaf "
				"[P RW US NX pkey=1]\n") != NULL);
	free(buf);
	pgt_unmap_range(&f.p, 0, GiB, NULL, NULL);
	fixture_done(&f);
}

struct racer {
	struct pgt *p;
	uint64_t base;
	int id;
	int errors;
};

/* Maps every fourth page of an 8 MiB window, starting at page `id`. */
static void *race_map(void *arg)
{
	struct racer *r = arg;
	for (uint64_t j = 0; j < 512; j++) {
		uint64_t page = j * 4 + (uint64_t)r->id;
		pte_t *ep;
		if (pgt_alloc_entry(r->p, r->base + page * PAGE_SIZE, 1, &ep) != 0) {
			r->errors++;
			continue;
		}
		pgt_set(r->p, ep, pte_mk(0x1000 + page, USER_RW));
	}
	return NULL;
}

/* Faults run under the shared mm lock, so threads may race to install the same tables:
 * exactly one table per slot survives, the losers' pages go back, and pt_used and
 * nr_tables stay exact. */
TEST(faults_racing_to_install_tables_keep_counts_exact)
{
	struct fixture f;
	REQUIRE_EQ(fixture_init(&f, 64 * MiB, 4), 0);
	uint64_t base = 511 * GiB - 4 * MiB;	/* crosses a 1 GiB line: two PDs */
	pthread_t th[4];
	struct racer r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .p = &f.p, .base = base, .id = i };
		REQUIRE_EQ(pthread_create(&th[i], NULL, race_map, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(r[i].errors, 0);
	}
	EXPECT_EQ(f.p.nr_tables[1], 4);
	EXPECT_EQ(f.p.nr_tables[2], 2);
	EXPECT_EQ(f.p.nr_tables[3], 1);
	struct visits v = { 0 };
	pgt_walk_range(&f.p, 0, pgt_user_end(&f.p), record_visit, &v);
	EXPECT_EQ(v.n, 2048);
	EXPECT_EQ(pgt_check(&f.p), 0);
	pgt_unmap_range(&f.p, 0, pgt_user_end(&f.p), NULL, NULL);
	fixture_done(&f);
}
