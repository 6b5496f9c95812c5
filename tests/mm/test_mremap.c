/*
 * mremap: Linux's validation, shrink and grow in place, moves that keep the data (page
 * tables relinked, not copied), MREMAP_FIXED replacing the target, MREMAP_DONTUNMAP
 * leaving an empty source, and sealed ranges refusing.
 */
#include "pm_test.h"

#define W 0x200000000000L

static long mremap_(pm_thread *t, long a, long ol, long nl, long fl, long na)
{
	return SC(t, SYS_mremap, a, ol, nl, fl, na, 0);
}

/* The errno table (linux-anchors §2.6). */
TEST(mremap_validates_like_linux)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_ERRNO(mremap_(e.t, W, PG, 2 * PG, 8, 0), -EINVAL);
	EXPECT_ERRNO(mremap_(e.t, W, PG, 2 * PG, MREMAP_FIXED, W + 8 * PG), -EINVAL);
	EXPECT_ERRNO(mremap_(e.t, W, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0), -EINVAL);
	EXPECT_ERRNO(mremap_(e.t, W + 1, PG, 2 * PG, 0, 0), -EINVAL);
	EXPECT_ERRNO(mremap_(e.t, W, PG, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(mremap_(e.t, W, 0, PG, MREMAP_MAYMOVE, 0), -EINVAL);	/* private old_len 0 */
	EXPECT_ERRNO(mremap_(e.t, W + 16 * PG, PG, 2 * PG, 0, 0), -EFAULT);	/* not mapped */
	EXPECT_ERRNO(mremap_(e.t, W, 8 * PG, 9 * PG, MREMAP_MAYMOVE, 0), -EFAULT);	/* spans a hole */
	EXPECT_ERRNO(mremap_(e.t, W, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, W + PG), -EINVAL);
	env_close(&e);
}

/* Growing in place when the space after is free; ENOMEM without MAYMOVE when it is not;
 * a move with MAYMOVE keeps the bytes. */
TEST(mremap_grows_in_place_or_moves_with_the_data)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(poke(e.t, W + PG + 5, 0x9c), 1);
	EXPECT_EQ(mremap_(e.t, W, 2 * PG, 4 * PG, 0, 0), W);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000004000 rw-p 00000000 00:00 0 ");
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, PG, PROT_READ, ANON | MAP_FIXED), W + 4 * PG);
	EXPECT_ERRNO(mremap_(e.t, W, 4 * PG, 6 * PG, 0, 0), -ENOMEM);
	long n = mremap_(e.t, W, 4 * PG, 6 * PG, MREMAP_MAYMOVE, 0);
	EXPECT_TRUE(n > 0 && n != W);
	EXPECT_EQ(peek(e.t, n + PG + 5), 0x9c);
	EXPECT_ERRNO(peek(e.t, W), -EFAULT);
	env_close(&e);
}

/* Shrinking unmaps the tail and returns the same address. */
TEST(mremap_shrink_unmaps_the_tail)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(mremap_(e.t, W, 4 * PG, PG, 0, 0), W);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000001000 rw-p 00000000 00:00 0 ");
	env_close(&e);
}

/* MREMAP_FIXED replaces whatever was at the target; DONTUNMAP leaves the source mapped and
 * empty, so it reads zero afterwards (SPEC §3). */
TEST(mremap_fixed_and_dontunmap)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(do_mmap(e.t, W + 16 * PG, 2 * PG, PROT_READ, ANON | MAP_FIXED), W + 16 * PG);
	poke(e.t, W, 0x51);
	EXPECT_EQ(mremap_(e.t, W, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, W + 16 * PG), W + 16 * PG);
	EXPECT_EQ(peek(e.t, W + 16 * PG), 0x51);
	EXPECT_STREQ(maps_line_at(e.t, W + 16 * PG), "200000010000-200000012000 rw-p 00000000 00:00 0 ");
	long d = mremap_(e.t, W + 16 * PG, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	EXPECT_TRUE(d > 0);
	EXPECT_EQ(peek(e.t, d), 0x51);
	EXPECT_EQ(peek(e.t, W + 16 * PG), 0);	/* still mapped, now empty */
	env_close(&e);
}

/* A 2 MiB-aligned move of populated memory keeps every page and the page-table count. */
TEST(aligned_mremap_moves_populated_memory_intact)
{
	struct env e = env_open();
	const long SZ = 8 * MiB, SRC = 0x300000000000L, DST = 0x310000000000L;
	EXPECT_EQ(do_mmap(e.t, SRC, SZ, RW, ANON | MAP_FIXED), SRC);
	for (long off = 0; off < SZ; off += PG)
		poke(e.t, SRC + off, (uint8_t)(off >> 12));
	const char *s = proc_text(e.t, 0, "status");
	char pte_before[64];
	snprintf(pte_before, sizeof(pte_before), "%s", strstr(s, "VmPTE:"));
	EXPECT_EQ(mremap_(e.t, SRC, SZ, SZ, MREMAP_MAYMOVE | MREMAP_FIXED, DST), DST);
	int bad = 0;
	for (long off = 0; off < SZ; off += PG)
		bad += peek(e.t, DST + off) != (uint8_t)(off >> 12);
	EXPECT_EQ(bad, 0);
	s = proc_text(e.t, 0, "status");
	EXPECT_TRUE(strncmp(strstr(s, "VmPTE:"), pte_before, 14) == 0);
	env_close(&e);
}

/* A sealed source refuses every mremap with EPERM (SPEC §9). */
TEST(mremap_of_sealed_memory_is_eperm)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, 462, W, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(mremap_(e.t, W, 2 * PG, PG, 0, 0), -EPERM);
	EXPECT_ERRNO(mremap_(e.t, W, 2 * PG, 4 * PG, MREMAP_MAYMOVE, 0), -EPERM);
	EXPECT_EQ(do_mmap(e.t, W + 8 * PG, PG, RW, ANON | MAP_FIXED), W + 8 * PG);
	EXPECT_ERRNO(mremap_(e.t, W + 8 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, W), -EPERM);
	env_close(&e);
}

/* mremap with old_len 0 on shared memory makes a second view of the same pages and leaves
 * the source whole (linux-anchors §2.6). */
TEST(mremap_of_zero_length_shared_memory_adds_a_second_view)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	poke(e.t, W + PG, 0x3c);
	long n = mremap_(e.t, W + PG, 0, 2 * PG, MREMAP_MAYMOVE, 0);
	REQUIRE_EQ(n > 0, 1);
	EXPECT_EQ(peek(e.t, n), 0x3c);
	poke(e.t, n + 1, 0x3d);
	EXPECT_EQ(peek(e.t, W + PG + 1), 0x3d);
	EXPECT_STREQ(maps_line_at(e.t, W) + 26, "rw-s 00000000 00:01 1024                       /dev/zero (deleted)");
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}
