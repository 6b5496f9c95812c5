/*
 * Swap (SPEC §6): MADV_PAGEOUT and LRU reclaim write anonymous pages to the swap area and
 * leave swap entries; a fault reads them back with their exact bytes. pagemap, smaps,
 * status, meminfo and vmstat follow; fork shares slots through the swap cache; locked
 * pages never go out; a small machine under more load than RAM keeps every invariant.
 */
#include "pm_test.h"

#include <stdio.h>
#include <string.h>

#define W 0x200000000000L

static pm_config swap_cfg(long ram, long swap)
{
	pm_config c;
	pm_config_default(&c);
	c.ram_bytes = (uint64_t)ram;
	c.swap_bytes = (uint64_t)swap;
	c.seed = 7;
	return c;
}

static void fill(pm_thread *t, long va, int pages, int salt)
{
	static uint8_t page[PG];
	for (int i = 0; i < pages; i++) {
		for (int b = 0; b < PG; b++)
			page[b] = (uint8_t)(b * 7 + i * 13 + salt);
		EXPECT_EQ(pm_access(t, va + i * PG, page, PG, PM_WRITE, NULL), PG);
	}
}

static int same(pm_thread *t, long va, int pages, int salt)
{
	static uint8_t page[PG];
	for (int i = 0; i < pages; i++) {
		if (pm_access(t, va + i * PG, page, PG, PM_READ, NULL) != PG)
			return 0;
		for (int b = 0; b < PG; b++)
			if (page[b] != (uint8_t)(b * 7 + i * 13 + salt)) {
				fprintf(stderr, "page %d byte %d = %#x, want %#x\n", i, b, page[b],
					(uint8_t)(b * 7 + i * 13 + salt));
				return 0;
			}
	}
	return 1;
}

TEST(pageout_then_fault_restores_exact_bytes)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 8, 1);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	long out0 = view_field(e.t, "vmstat", "pswpout ");
	EXPECT_EQ(mincore_resident(e.t, W, 8), 8);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(e.t, W, 8), 0);
	EXPECT_EQ(view_field(e.t, "status", "VmSwap:"), 32);
	EXPECT_EQ(view_field(e.t, "smaps_rollup", "\nSwap:"), 32);
	EXPECT_EQ(view_field(e.t, "smaps_rollup", "SwapPss:"), 32);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 32);
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpout "), out0 + 8);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	long in0 = view_field(e.t, "vmstat", "pswpin ");
	EXPECT_TRUE(same(e.t, W, 8, 1));
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 8);
	EXPECT_EQ(view_field(e.t, "status", "VmSwap:"), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(mincore_resident(e.t, W, 8), 8);
	env_close(&e);
}

/* MADV_WILLNEED over swapped anonymous pages reads their slots into the swap cache and maps
 * nothing (madvise_willneed's swapin walk): mincore reports exactly the advised pages, the
 * PTEs stay swap entries (VmSwap unchanged), and their later faults read nothing more. A
 * second WILLNEED reads nothing again; munmap of a prefetched, never-faulted page frees its
 * slot and its frame. */
TEST(willneed_reads_swapped_pages_into_the_swap_cache_without_mapping_them)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 8, 3);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(e.t, W, 8), 0);
	long in0 = view_field(e.t, "vmstat", "pswpin ");
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 2 * PG, 4 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(e.t, W, 2), 0);
	EXPECT_EQ(mincore_resident(e.t, W + 2 * PG, 4), 4);
	EXPECT_EQ(mincore_resident(e.t, W + 6 * PG, 2), 0);
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 4);
	EXPECT_EQ(view_field(e.t, "status", "VmSwap:"), 32);	/* still swap entries */
	EXPECT_EQ(view_field(e.t, "status", "RssAnon:"), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 16);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 2 * PG, 4 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 4);	/* cached: not read again */
	EXPECT_EQ(SC(e.t, SYS_munmap, W + 5 * PG, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 12);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, W, 5, 3));
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 4 + 2);	/* only pages 0 and 1 */
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 5 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W + 6 * PG, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* After fork both processes name the slots; the first to fault reads the slot and leaves
 * the frame in the swap cache, the second maps that frame; writes stay private; every
 * slot is free once both are done. */
TEST(fork_after_swapout_shares_slots_through_the_swap_cache)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 4, 9);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	long child = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	EXPECT_TRUE(child > 0);
	pm_thread *ct = pm_thread_of(e.sys, (int)child);
	EXPECT_TRUE(ct != NULL);
	EXPECT_EQ(view_field(e.t, "smaps_rollup", "SwapPss:"), 8);	/* 16 kB shared by two */
	long in0 = view_field(e.t, "vmstat", "pswpin ");
	EXPECT_TRUE(same(e.t, W, 4, 9));
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 16);
	EXPECT_TRUE(same(ct, W, 4, 9));
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 4);	/* the child hit the cache */
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	poke(ct, W, 0x55);
	EXPECT_EQ(peek(e.t, W), (uint8_t)(9));
	EXPECT_EQ(peek(ct, W), 0x55);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* The slots of an exiting child go back even when the parent never touches its copy. */
TEST(swap_entries_are_freed_by_munmap_and_exit)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 4, 3);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	long child = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ct = pm_thread_of(e.sys, (int)child);
	EXPECT_EQ(SC(ct, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 16);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 8);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 2 * PG, 2 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 0);
	env_close(&e);
}

/* mlocked memory is never reclaimed; MADV_PAGEOUT and MADV_COLD refuse it (EINVAL). */
TEST(locked_pages_never_go_out)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 4, 5);
	EXPECT_EQ(SC(e.t, SYS_mlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, 4 * PG, MADV_PAGEOUT, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, 4 * PG, MADV_COLD, 0, 0, 0), -EINVAL);
	for (int i = 0; i < 4; i++)
		pm_debug_shrink(e.sys, 1 << 20);
	EXPECT_EQ(view_field(e.t, "status", "VmSwap:"), 0);
	EXPECT_EQ(mincore_resident(e.t, W, 4), 4);
	EXPECT_TRUE(same(e.t, W, 4, 5));
	env_close(&e);
}

/* MADV_COLD moves pages to the inactive list; LRU reclaim then swaps cold pages out. */
TEST(cold_then_lru_reclaim_swaps_out)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 64 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 64, 2);
	EXPECT_TRUE(view_field(e.t, "meminfo", "Inactive(anon):") >= 256);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 64 * PG, MADV_COLD, 0, 0, 0), 0);
	EXPECT_TRUE(view_field(e.t, "meminfo", "Inactive(anon):") >= 256);
	EXPECT_TRUE(pm_debug_shrink(e.sys, 64) >= 32);
	EXPECT_TRUE(view_field(e.t, "status", "VmSwap:") > 0);
	EXPECT_TRUE(view_field(e.t, "vmstat", "pgsteal_kswapd ") > 0);
	EXPECT_TRUE(view_field(e.t, "vmstat", "pgscan_anon ") > 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, W, 64, 2));
	env_close(&e);
}

/* 32 MiB of RAM, 64 MiB of swap: three processes touching 48 MiB keep running, every
 * invariant holds, and every byte reads back. */
TEST(small_ram_with_swap_survives_more_than_ram)
{
	pm_config c = swap_cfg(32 * MiB, 64 * MiB);
	struct env e = env_open_cfg(&c);
	pm_thread *t[3] = { e.t };
	for (int i = 1; i < 3; i++) {
		long pid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
		t[i] = pm_thread_of(e.sys, (int)pid);
		EXPECT_TRUE(t[i] != NULL);
	}
	const int pages = 16 * MiB / PG;
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(do_mmap(t[i], W, pages * PG, RW, ANON | MAP_FIXED), W);
		fill(t[i], W, pages, 20 + i);
		pm_system_tick(e.sys, 1);
	}
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(same(t[i], W, pages, 20 + i));
	EXPECT_TRUE(view_field(e.t, "vmstat", "pswpout ") > 0);
	EXPECT_EQ(view_field(e.t, "vmstat", "oom_kill "), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* process_madvise(MADV_PAGEOUT) works remotely for a caller the gate admits. */
TEST(process_madvise_pageout_remotely)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	long child = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ct = pm_thread_of(e.sys, (int)child);
	EXPECT_EQ(do_mmap(ct, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	fill(ct, W, 4, 11);
	long pidfd = SC(e.t, SYS_pidfd_open, child, 0, 0, 0, 0, 0);
	EXPECT_TRUE(pidfd >= 0);
	long iov = do_mmap(e.t, 0, PG, RW, ANON);
	uint64_t vec[2] = { (uint64_t)W, 4 * PG };
	EXPECT_EQ(pm_access(e.t, (uint64_t)iov, vec, sizeof(vec), PM_WRITE, NULL), (long)sizeof(vec));
	EXPECT_EQ(SC(e.t, SYS_process_madvise, pidfd, iov, 1, MADV_PAGEOUT, 0, 0), 4 * PG);
	EXPECT_EQ(view_field(ct, "status", "VmSwap:"), 16);
	EXPECT_TRUE(same(ct, W, 4, 11));
	env_close(&e);
}
