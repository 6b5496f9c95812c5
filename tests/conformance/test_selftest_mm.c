/*
 * Sub-cases of the kernel's tools/testing/selftests/mm ported as scenarios
 * (docs/conformance.md): mseal_test's split and merge of sealed VMAs, mremap_test's
 * "expand merge offset", mlock2-tests' VMA management, guard-regions' mprotect, mremap
 * and pagemap cases, and merge.c's mremap cases. Every expected layout was checked on
 * this machine's Linux 6.18 with the same calls.
 */
#include "conf.h"

#define PM_SWAP_BIT	(1ULL << 62)
#define PM_GUARD_BIT	(1ULL << 58)

/* The pagemap entry of va in t's own address space (0 when unreadable). */
static uint64_t pagemap_of(pm_thread *t, uint64_t va)
{
	uint64_t e = 0;
	return pm_proc_read(t, 0, "pagemap", &e, 8, (va / PG) * 8) == 8 ? e : 0;
}

/* mseal_test (split/merge): sealing the middle of a VMA splits it in three; sealing the
 * page before the sealed piece merges the two sealed pieces (same flags, VM_SEALED
 * included), and what stays unsealed stays apart. */
TEST(selftest_mseal_partial_seals_split_and_sealed_neighbours_merge)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	REQUIRE_EQ(do_mmap(t, W, 4 * PG, PROT_READ, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(t, MSEAL, W + PG, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 4 * PG), 3);
	EXPECT_EQ(SC(t, MSEAL, W, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 4 * PG), 2);
	EXPECT_TRUE(maps_line_at(t, W)[0] != '\0' && maps_line_at(t, W + 3 * PG)[0] != '\0');
	EXPECT_ERRNO(SC(t, SYS_munmap, W, 3 * PG, 0, 0, 0, 0), -EPERM);
	EXPECT_EQ(SC(t, SYS_munmap, W + 3 * PG, PG, 0, 0, 0, 0), 0);
	env_close(&e);
}

/* mremap_test "expand merge offset": 3 pages, the last unmapped, then the middle page
 * grown in place by one page: the mapping is one VMA of 3 pages again. */
TEST(selftest_mremap_expand_merge_offset_restores_one_vma)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	REQUIRE_EQ(do_mmap(t, W, 3 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(t, SYS_munmap, W + 2 * PG, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 3 * PG), 1);
	EXPECT_EQ(SC(t, SYS_mremap, W + PG, PG, 2 * PG, 0, 0, 0), W + PG);
	EXPECT_EQ(vmas_in(t, W, W + 3 * PG), 1);
	EXPECT_TRUE(strncmp(maps_line_at(t, W), "200000000000-200000003000 ", 26) == 0);
	env_close(&e);
}

/* mlock2-tests (VMA management): 3 pages locked on fault are one VMA; munlock of the
 * middle page splits it in three; locking that page again merges all three back. */
TEST(selftest_mlock2_munlock_of_the_middle_splits_and_relock_merges)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	REQUIRE_EQ(do_mmap(t, W, 3 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(t, SYS_mlock2, W, 3 * PG, MLOCK_ONFAULT, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 3 * PG), 1);
	EXPECT_EQ(SC(t, SYS_munlock, W + PG, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 3 * PG), 3);
	EXPECT_EQ(status_kb(t, "VmLck:"), 8);
	EXPECT_EQ(SC(t, SYS_mlock2, W + PG, PG, MLOCK_ONFAULT, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 3 * PG), 1);
	EXPECT_EQ(status_kb(t, "VmLck:"), 12);
	env_close(&e);
}

/* guard-regions (mprotect, mremap move/expand/shrink): guards on pages 2-3 of a written
 * 6-page mapping survive mprotect to read-only and back; they move with the pages when
 * the mapping is moved; growing keeps them and the new tail is ordinary memory; shrinking
 * away the guarded pages leaves the rest unguarded. Data outside the guards stays. */
TEST(selftest_guard_regions_survive_mprotect_and_move_with_mremap)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	const uint64_t w = (uint64_t)W;
	REQUIRE_EQ(do_mmap(t, W, 6 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 6; i++)
		poke(t, w + (uint64_t)i * PG, 7);
	EXPECT_EQ(SC(t, SYS_madvise, W + 2 * PG, 2 * PG, MADV_GUARD_INSTALL_, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mprotect, W, 6 * PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, w + PG), 7);
	EXPECT_EQ(fault_of(t, w + 2 * PG, PM_READ), SEGV_MAP);
	EXPECT_EQ(fault_of(t, w + 3 * PG, PM_READ), SEGV_MAP);
	EXPECT_EQ(SC(t, SYS_mprotect, W, 6 * PG, RW, 0, 0, 0), 0);
	EXPECT_EQ(fault_of(t, w + 2 * PG, PM_WRITE), SEGV_MAP);
	EXPECT_EQ(peek(t, w + 4 * PG), 7);
	const long to = W + 64 * PG;
	EXPECT_EQ(SC(t, SYS_mremap, W, 6 * PG, 6 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, to, 0), to);
	EXPECT_EQ(peek(t, (uint64_t)to + PG), 7);
	EXPECT_EQ(fault_of(t, (uint64_t)to + 2 * PG, PM_READ), SEGV_MAP);
	EXPECT_EQ(fault_of(t, (uint64_t)to + 3 * PG, PM_READ), SEGV_MAP);
	EXPECT_EQ(peek(t, (uint64_t)to + 4 * PG), 7);
	EXPECT_EQ(SC(t, SYS_mremap, to, 6 * PG, 10 * PG, 0, 0, 0), to);
	EXPECT_EQ(fault_of(t, (uint64_t)to + 2 * PG, PM_READ), SEGV_MAP);
	EXPECT_EQ(peek(t, (uint64_t)to + 7 * PG), 0);
	EXPECT_EQ(peek(t, (uint64_t)to + 5 * PG), 7);
	EXPECT_EQ(SC(t, SYS_mremap, to, 10 * PG, 3 * PG, 0, 0, 0), to);
	EXPECT_EQ(fault_of(t, (uint64_t)to + 2 * PG, PM_READ), SEGV_MAP);
	EXPECT_EQ(peek(t, (uint64_t)to + PG), 7);
	EXPECT_EQ(fault_of(t, (uint64_t)to + 3 * PG, PM_READ), SEGV_MAP);	/* unmapped now */
	env_close(&e);
}

/* guard-regions (pagemap): a guarded page reads as a swap entry with the guard bit (58,
 * PAGE_IS_GUARD); a present neighbour has neither; removing the guard clears both. */
TEST(selftest_guard_regions_show_in_pagemap)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	REQUIRE_EQ(do_mmap(t, W, 3 * PG, RW, ANON | MAP_FIXED), W);
	poke(t, (uint64_t)W, 1);
	EXPECT_EQ(SC(t, SYS_madvise, W + PG, PG, MADV_GUARD_INSTALL_, 0, 0, 0), 0);
	uint64_t g = pagemap_of(t, (uint64_t)W + PG), p = pagemap_of(t, (uint64_t)W);
	EXPECT_TRUE((g & PM_SWAP_BIT) && (g & PM_GUARD_BIT));
	EXPECT_EQ(g & ((1ULL << 55) - 1), 0);	/* no frame bits without SeTcbPrivilege */
	EXPECT_EQ(p & (PM_SWAP_BIT | PM_GUARD_BIT), 0);
	EXPECT_EQ(pagemap_of(t, (uint64_t)W + 2 * PG) & (PM_SWAP_BIT | PM_GUARD_BIT), 0);
	EXPECT_EQ(SC(t, SYS_madvise, W + PG, PG, MADV_GUARD_REMOVE_, 0, 0, 0), 0);
	EXPECT_EQ(pagemap_of(t, (uint64_t)W + PG) & (PM_SWAP_BIT | PM_GUARD_BIT), 0);
	env_close(&e);
}

/* merge.c (mremap cases), with 5-page VMAs: an unfaulted VMA moved next to a faulted one
 * merges with it; a faulted one moved next to an unfaulted one does not (it keeps its
 * page offset); a faulted piece moved out and back merges into one VMA again; an
 * unfaulted VMA moved into the gap between two pieces of a faulted one merges all three. */
TEST(selftest_merge_mremap_cases)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	const long far = W + 32 * PG, fix = MREMAP_MAYMOVE | MREMAP_FIXED;
	REQUIRE_EQ(do_mmap(t, W, 5 * PG, RW, ANON | MAP_FIXED), W);
	poke(t, (uint64_t)W, 1);
	REQUIRE_EQ(do_mmap(t, far, 5 * PG, RW, ANON | MAP_FIXED), far);
	EXPECT_EQ(SC(t, SYS_mremap, far, 5 * PG, 5 * PG, fix, W + 5 * PG, 0), W + 5 * PG);
	EXPECT_EQ(vmas_in(t, W, W + 10 * PG), 1);
	EXPECT_EQ(SC(t, SYS_munmap, W, 10 * PG, 0, 0, 0, 0), 0);

	REQUIRE_EQ(do_mmap(t, W, 5 * PG, RW, ANON | MAP_FIXED), W);
	REQUIRE_EQ(do_mmap(t, far, 5 * PG, RW, ANON | MAP_FIXED), far);
	poke(t, (uint64_t)far, 1);
	EXPECT_EQ(SC(t, SYS_mremap, far, 5 * PG, 5 * PG, fix, W + 5 * PG, 0), W + 5 * PG);
	EXPECT_EQ(vmas_in(t, W, W + 10 * PG), 2);
	EXPECT_EQ(SC(t, SYS_munmap, W, 10 * PG, 0, 0, 0, 0), 0);

	REQUIRE_EQ(do_mmap(t, W, 9 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 9; i++)
		poke(t, (uint64_t)(W + i * PG), 1);
	EXPECT_EQ(SC(t, SYS_mremap, W + 3 * PG, 3 * PG, 3 * PG, fix, far, 0), far);
	EXPECT_EQ(vmas_in(t, W, W + 9 * PG), 2);
	EXPECT_EQ(SC(t, SYS_mremap, far, 3 * PG, 3 * PG, fix, W + 3 * PG, 0), W + 3 * PG);
	EXPECT_EQ(vmas_in(t, W, W + 9 * PG), 1);
	EXPECT_EQ(SC(t, SYS_munmap, W, 9 * PG, 0, 0, 0, 0), 0);

	REQUIRE_EQ(do_mmap(t, W, 9 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 9; i++)
		poke(t, (uint64_t)(W + i * PG), 1);
	EXPECT_EQ(SC(t, SYS_munmap, W + 3 * PG, 3 * PG, 0, 0, 0, 0), 0);
	REQUIRE_EQ(do_mmap(t, far, 3 * PG, RW, ANON | MAP_FIXED), far);
	EXPECT_EQ(SC(t, SYS_mremap, far, 3 * PG, 3 * PG, fix, W + 3 * PG, 0), W + 3 * PG);
	EXPECT_EQ(vmas_in(t, W, W + 9 * PG), 1);
	env_close(&e);
}
