/*
 * THP splits and collapses keep every byte (docs/thp.md): partial munmap, mprotect,
 * mremap, MADV_DONTNEED/FREE of part, mlock of part, fork's copy-on-write, swap-out,
 * KSM, process_vm_writev; then khugepaged and MADV_COLLAPSE putting pages back together.
 * Each step checks the data byte by byte, the counters, and pm_check_invariants.
 */
#include "thp_env.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

/* mismatches() for the part [off, off+len) of a range filled from base. */
static long mismatches_at(pm_thread *t, long base, long off, long len, int salt)
{
	static uint8_t page[PG];
	long bad = 0;
	for (long o = off; o < off + len; o += PG) {
		if (pm_access(t, base + o, page, PG, PM_READ, NULL) != PG)
			return -1;
		for (long b = 0; b < PG; b++)
			bad += page[b] != pat(o + b, salt);
	}
	return bad;
}

/* A fresh THP of n huge pages filled with the pattern for salt. */
static long huge_filled(pm_thread *t, int n, int salt)
{
	long a = thp_area(t, n);
	EXPECT_EQ(SC(t, SYS_madvise, a, n * HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	fill(t, a, n * HP, salt);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048L * n);
	return a;
}

/* A THP both twins map after fork: reclaim splits each PMD and swaps every 4 KiB piece out
 * of both address spaces into one slot; both read the bytes back and a write stays private. */
TEST(thp_shared_after_fork_swaps_out_of_both_twins)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.swap_bytes = 16 * MiB;
	cfg.seed = 12;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 21);
	long pid = SC(t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ch = pm_thread_of(k.e.sys, (int)pid);
	REQUIRE_EQ(ch != NULL, 1);
	EXPECT_EQ(smaps_kb(ch, a, "AnonHugePages"), 2048);
	for (int i = 0; i < 6; i++)
		pm_debug_shrink(k.e.sys, 1 << 20);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(smaps_kb(t, a, "Swap"), 2048);
	EXPECT_EQ(smaps_kb(ch, a, "Swap"), 2048);
	EXPECT_EQ(smaps_kb(ch, a, "SwapPss"), 1024);
	EXPECT_EQ(smaps_kb(ch, a, "Rss"), 0);
	EXPECT_EQ(mismatches(ch, a, HP, 21, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a, HP, 21, 0, 0), 0);
	EXPECT_EQ(poke(ch, a, 0x77), 1);
	EXPECT_EQ(mismatches(t, a, HP, 21, 0, 0), 0);
	EXPECT_EQ(peek(ch, a), 0x77);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* munmap of one page splits the PMD; the other 511 keep their bytes. */
TEST(thp_partial_munmap_splits_and_keeps_the_rest)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 1);
	EXPECT_EQ(SC(t, SYS_munmap, a + 100 * PG, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 1);
	EXPECT_EQ(meminfo_kb(t, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, a, "Rss") + smaps_kb(t, a + 101 * PG, "Rss"), 2048 - 4);
	EXPECT_EQ(mismatches(t, a, 100 * PG, 1, 0, 0), 0);
	EXPECT_EQ(mismatches_at(t, a, 101 * PG, HP - 101 * PG, 1), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* mprotect of one page splits; the read-only page refuses writes, the rest stays
 * writable, and every byte is kept. */
TEST(thp_partial_mprotect_splits_and_keeps_the_data)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 2);
	EXPECT_EQ(SC(t, SYS_mprotect, a + 7 * PG, PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 1);
	EXPECT_EQ(meminfo_kb(t, "AnonHugePages"), 0);
	EXPECT_EQ(mismatches(t, a, HP, 2, 0, 0), 0);
	pm_siginfo si;
	uint8_t x = 1;
	EXPECT_ERRNO(pm_access(t, a + 7 * PG, &x, 1, PM_WRITE, &si), -EFAULT);
	EXPECT_EQ(si.code, SEGV_ACCERR);
	EXPECT_EQ(poke(t, a + 8 * PG, pat(8 * PG, 2)), 1);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	/* mprotect of the whole block keeps it huge (no split at 2 MiB edges). */
	long b = huge_filled(t, 1, 3);
	EXPECT_EQ(SC(t, SYS_mprotect, b, HP, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	EXPECT_EQ(mismatches(t, b, HP, 3, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mprotect, b, HP, RW, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, b + 9, pat(9, 3)), 1);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);	/* exclusive: writable again */
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 1);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* mremap moves a THP whole to a 2 MiB-aligned place, and splits it for any other. */
TEST(thp_mremap_moves_whole_when_aligned_and_splits_otherwise)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 4);
	long dst = thp_area(t, 3);
	EXPECT_EQ(SC(t, SYS_munmap, dst, 3 * HP, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mremap, a, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, dst, 0), dst);
	EXPECT_EQ(smaps_kb(t, dst, "AnonHugePages"), 2048);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 0);
	EXPECT_EQ(mismatches(t, dst, HP, 4, 0, 0), 0);
	long odd = dst + HP + PG;
	EXPECT_EQ(SC(t, SYS_mremap, dst, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, odd, 0), odd);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 1);
	EXPECT_EQ(smaps_kb(t, odd, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, odd, "Rss"), 2048);
	EXPECT_EQ(mismatches(t, odd, HP, 4, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* MADV_DONTNEED of part zeroes that part only; MADV_FREE of part keeps the data until
 * reclaim; mlock of part splits the VMA and the PMD. */
TEST(thp_dontneed_free_and_mlock_of_part_keep_the_rest)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 5);
	EXPECT_EQ(SC(t, SYS_madvise, a + 3 * PG, 2 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a, HP, 5, 3 * PG, 5 * PG), 0);
	EXPECT_EQ(smaps_kb(t, a, "Rss"), 2048 - 8);	/* the reads mapped the zero page */
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	long b = huge_filled(t, 1, 6);
	EXPECT_EQ(SC(t, SYS_madvise, b + HP - 2 * PG, 2 * PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(mismatches(t, b, HP, 6, 0, 0), 0);
	long c = huge_filled(t, 1, 7);
	EXPECT_EQ(SC(t, SYS_mlock, c + PG, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, c, "AnonHugePages"), 0);
	EXPECT_EQ(mismatches(t, c, HP, 7, 0, 0), 0);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "VmLck"), 4);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 3);
	/* DONTNEED of a whole huge page drops it without a split. */
	long d = huge_filled(t, 1, 8);
	EXPECT_EQ(SC(t, SYS_madvise, d, HP, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, d, "Rss"), 0);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 3);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* MADV_WILLNEED over a huge page, whole or a part, or over a range that cuts it (LTP
 * madvise05, the swapin_walk_pmd_entry regression): the call succeeds, the PMD stays
 * huge and unsplit, and every byte stays. */
TEST(thp_willneed_keeps_the_huge_page_whole_and_intact)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 2, 14);
	EXPECT_EQ(SC(t, SYS_madvise, a, 2 * HP, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, a + 3 * PG, 5 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, a + HP - PG, 2 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 4096);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 0);
	EXPECT_EQ(vmstat(t, "thp_split_page"), 0);
	EXPECT_EQ(mismatches(t, a, 2 * HP, 14, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* fork shares the THP (both see AnonHugePages, write-protected); a write on one side
 * splits that side's PMD and copies 4 KiB only (Linux 6.x); the other keeps its huge
 * mapping and every byte. */
TEST(thp_fork_shares_then_a_write_splits_and_copies_4k)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 9);
	pm_thread *c = pm_thread_of(k.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(smaps_kb(c, a, "AnonHugePages"), 2048);
	EXPECT_EQ(smaps_kb(t, a, "Shared_Dirty"), 2048);
	EXPECT_EQ(meminfo_kb(t, "AnonHugePages"), 2048);	/* one page, two PMDs */
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(poke(t, a + 10 * PG + 1, 0xee), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, a, "Private_Dirty"), 4);
	EXPECT_EQ(smaps_kb(t, a, "Shared_Dirty"), 2048 - 4);
	EXPECT_EQ(smaps_kb(c, a, "AnonHugePages"), 2048);
	EXPECT_EQ(meminfo_kb(t, "AnonHugePages"), 2048);
	EXPECT_EQ(mismatches(c, a, HP, 9, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a, HP, 9, 0, 0), 1);
	EXPECT_EQ(peek(t, a + 10 * PG + 1), 0xee);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	/* The child, now the only holder of its huge page's other 511 frames but not of
	 * the one the parent still maps, splits too on its write. */
	EXPECT_EQ(poke(c, a + 3, 0x11), 1);
	EXPECT_EQ(smaps_kb(c, a, "AnonHugePages"), 0);
	EXPECT_EQ(meminfo_kb(t, "AnonHugePages"), 0);
	EXPECT_EQ(mismatches(c, a, HP, 9, 0, 0), 1);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(SC(c, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a, HP, 9, 0, 0), 1);
	tenv_close(&k);
}

/* Swap: MADV_PAGEOUT splits the THP and swaps its pages; LRU reclaim of a THP under
 * pressure splits it first too (thp_split_page); the bytes come back exactly. */
TEST(thp_swap_out_splits_first_and_the_data_comes_back)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 32 * MiB;
	cfg.swap_bytes = 64 * MiB;
	cfg.seed = 11;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 10);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, a, "Swap"), 2048);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(mismatches(t, a, HP, 10, 0, 0), 0);
	long b = huge_filled(t, 1, 11);
	EXPECT_TRUE(pm_debug_shrink(k.e.sys, 1 << 20) > 0);
	EXPECT_TRUE(vmstat(t, "thp_split_page") >= 1);
	EXPECT_TRUE(smaps_kb(t, b, "Swap") > 0);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(mismatches(t, b, HP, 11, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a, HP, 10, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	/* Real pressure: another process touching more than RAM reclaims directly, and the
	 * huge pages of this one are split and swapped on the way. */
	long c = huge_filled(t, 2, 12);
	pm_thread *hog = pm_spawn(k.e.sys, k.e.tok, NULL);
	long h = do_mmap(hog, 0, 40 * MiB, RW, ANON | MAP_NORESERVE);
	REQUIRE_EQ(h > 0, 1);
	long swapped_before = smaps_kb(t, c, "Swap");
	for (long o = 0; o < 40 * MiB; o += PG)
		if (poke(hog, h + o, 1) != 1)
			break;
	EXPECT_EQ(swapped_before, 0);
	EXPECT_TRUE(smaps_kb(t, c, "Swap") > 0);
	EXPECT_EQ(smaps_kb(t, c, "AnonHugePages"), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(mismatches(t, c, 2 * HP, 12, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* KSM splits a THP before it merges one of its pages; the data stays. */
TEST(thp_ksm_splits_before_merging)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 12);
	long b = huge_filled(t, 1, 12);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_MERGEABLE, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_MERGEABLE, 0, 0, 0), 0);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmSleepMillisecs", 1), 0);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmPagesToScan", 100000), 0);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmRun", 1), 0);
	pm_system_tick(k.e.sys, 3);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmRun", 0), 0);
	EXPECT_TRUE(smaps_kb(t, a, "KSM") > 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages") + smaps_kb(t, b, "AnonHugePages"), 0);
	EXPECT_TRUE(vmstat(t, "thp_split_page") >= 2);
	EXPECT_EQ(mismatches(t, a, HP, 12, 0, 0), 0);
	EXPECT_EQ(mismatches(t, b, HP, 12, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* process_vm_writev and /proc/<pid>/mem reach the right bytes of a huge page. */
TEST(thp_process_vm_writev_and_proc_mem_address_huge_pages)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 13);
	uint8_t src[32];
	memset(src, 0x5c, sizeof(src));
	uint64_t l = pm_scratch(k.admin, src, sizeof(src));
	uint64_t lv[2] = { l, 32 }, rv[2] = { (uint64_t)a + 300 * PG - 16, 32 };
	uint64_t liov = pm_scratch(k.admin, lv, sizeof(lv)), riov = pm_scratch(k.admin, rv, sizeof(rv));
	EXPECT_EQ(SC(k.admin, SYS_process_vm_writev, pm_pid(t), (long)liov, 1, (long)riov, 1, 0), 32);
	EXPECT_EQ(mismatches(t, a, HP, 13, -1, -1) , 32);
	uint8_t seen[32];
	EXPECT_EQ(pm_proc_read(k.admin, pm_pid(t), "mem", seen, 32, (uint64_t)a + 300 * PG - 16), 32);
	EXPECT_EQ(memcmp(seen, src, 32), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* khugepaged: small pages in an advised VMA collapse at the next pass (pages_collapsed,
 * full_scans, thp_collapse_alloc) with every byte and the holes zero; a block whose pages
 * are all shared with a fork exceeds max_ptes_shared and stays. */
TEST(thp_khugepaged_collapses_small_pages_on_its_tick)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1);
	fill(t, a, 3 * PG, 14);
	fill(t, a + 200 * PG, PG, 14);	/* the rest stays empty: max_ptes_none 511 */
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	pm_system_tick(k.e.sys, 9999);
	EXPECT_EQ(thp_sys_val(&k, "khugepaged/pages_collapsed"), 0);
	pm_system_tick(k.e.sys, 1);
	EXPECT_EQ(thp_sys_val(&k, "khugepaged/pages_collapsed"), 1);
	EXPECT_TRUE(thp_sys_val(&k, "khugepaged/full_scans") >= 1);
	EXPECT_EQ(vmstat(t, "thp_collapse_alloc"), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	EXPECT_EQ(mismatches(t, a, 3 * PG, 14, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a + 200 * PG, PG, 14, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a + 3 * PG, 197 * PG, 0, 0, 197 * PG), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	long b = thp_area(t, 1);
	fill(t, b, HP / 2 + PG, 15);	/* 257 pages: one over max_ptes_shared */
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	pm_thread *c = pm_thread_of(k.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	pm_system_tick(k.e.sys, 10000);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 0);
	EXPECT_TRUE(vmstat(t, "thp_scan_exceed_share_pte") >= 1);
	EXPECT_EQ(mismatches(c, b, HP / 2 + PG, 15, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	/* ThpEnabled never stops khugepaged. */
	long d = thp_area(t, 1);
	fill(t, d, PG, 16);
	EXPECT_EQ(SC(t, SYS_madvise, d, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(thp_mode(&k, 2), 0);
	pm_system_tick(k.e.sys, 20000);
	EXPECT_EQ(smaps_kb(t, d, "AnonHugePages"), 0);
	tenv_close(&k);
}

/* MADV_COLLAPSE works at once, in any mode (never included), with Linux's errnos:
 * EINVAL for VM_NOHUGEPAGE, for a block with nothing mapped, or over a guard; 0 for a
 * range holding no whole block; ENOMEM with no order-9 block to copy into. */
TEST(thp_madv_collapse_is_synchronous_with_linux_errnos)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 5;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	EXPECT_EQ(thp_mode(&k, 2), 0);
	long a = thp_area(t, 2);
	fill(t, a, 5 * PG, 17);
	fill(t, a + HP + 9 * PG, PG, 17);
	EXPECT_EQ(SC(t, SYS_madvise, a, 2 * HP, MADV_COLLAPSE, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 4096);
	EXPECT_EQ(mismatches(t, a, 5 * PG, 17, 0, 0), 0);
	EXPECT_EQ(mismatches(t, a + HP + 9 * PG, PG, 17, 0, 0), 0);
	EXPECT_EQ(vmstat(t, "thp_collapse_alloc"), 2);
	EXPECT_EQ(thp_sys_val(&k, "khugepaged/pages_collapsed"), 0);	/* not khugepaged's */
	EXPECT_EQ(SC(t, SYS_madvise, a, 2 * HP, MADV_COLLAPSE, 0, 0, 0), 0);	/* already huge */
	EXPECT_EQ(SC(t, SYS_madvise, a + PG, PG, MADV_COLLAPSE, 0, 0, 0), 0);	/* no whole block */
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	long b = thp_area(t, 1);
	EXPECT_ERRNO(SC(t, SYS_madvise, b, HP, MADV_COLLAPSE, 0, 0, 0), -EINVAL);	/* empty */
	fill(t, b, PG, 18);
	EXPECT_EQ(SC(t, SYS_madvise, b + PG, PG, 102 /* GUARD_INSTALL */, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_madvise, b, HP, MADV_COLLAPSE, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_NOHUGEPAGE, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_madvise, b, HP, MADV_COLLAPSE, 0, 0, 0), -EINVAL);
	/* No order-9 block left: ENOMEM, and the small pages stay as they were. */
	long c = thp_area(t, 1);
	fill(t, c, PG, 19);
	hog_memory(&k, t, 16 * MiB);
	EXPECT_ERRNO(SC(t, SYS_madvise, c, HP, MADV_COLLAPSE, 0, 0, 0), -ENOMEM);
	EXPECT_EQ(vmstat(t, "thp_collapse_alloc_failed"), 1);
	EXPECT_EQ(mismatches(t, c, PG, 19, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* A core dump writes a huge page's bytes as they are, and leaves it huge. */
TEST(thp_core_dump_writes_the_huge_page_bytes)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = huge_filled(t, 1, 20);
	char dir[] = "/tmp/peimm-thpXXXXXX", core[64];
	REQUIRE_EQ(mkdtemp(dir) != NULL, 1);
	snprintf(core, sizeof(core), "%s/core", dir);
	REQUIRE_EQ(pm_coredump(t, core), 0);
	int fd = open(core, O_RDONLY);
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	EXPECT_EQ(pread(fd, &eh, sizeof(eh), 0), (long)sizeof(eh));
	REQUIRE_EQ(eh.e_phnum < 64, 1);
	EXPECT_EQ(pread(fd, ph, sizeof(Elf64_Phdr) * eh.e_phnum, (off_t)eh.e_phoff) > 0, 1);
	long bad = -1;
	for (int j = 1; j < eh.e_phnum; j++) {
		if ((uint64_t)a < ph[j].p_vaddr || (uint64_t)a >= ph[j].p_vaddr + ph[j].p_memsz)
			continue;
		static uint8_t buf[HP];
		EXPECT_EQ(pread(fd, buf, HP, (off_t)(ph[j].p_offset + (uint64_t)a - ph[j].p_vaddr)), HP);
		bad = 0;
		for (long i = 0; i < HP; i++)
			bad += buf[i] != pat(i, 20);
	}
	EXPECT_EQ(bad, 0);
	close(fd);
	unlink(core);
	rmdir(dir);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	tenv_close(&k);
}

/* process_madvise(MADV_COLLAPSE) collapses another process's pages after its gate. */
TEST(thp_process_madvise_collapse_reaches_the_target)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1);
	fill(t, a, 8 * PG, 21);
	long pidfd = SC(k.admin, SYS_pidfd_open, pm_pid(t), 0, 0, 0, 0, 0);
	REQUIRE_EQ(pidfd >= 0, 1);
	uint64_t iov[2] = { (uint64_t)a, HP };
	uint64_t v = pm_scratch(k.admin, iov, sizeof(iov));
	EXPECT_EQ(SC(k.admin, SYS_process_madvise, pidfd, (long)v, 1, MADV_COLLAPSE, 0, 0), HP);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	EXPECT_EQ(mismatches(t, a, 8 * PG, 21, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* khugepaged reads up to max_ptes_swap (64) swapped pages back into the new huge page;
 * with more it leaves the block (thp_scan_exceed_swap_pte). MADV_COLLAPSE has no limit. */
TEST(thp_khugepaged_max_ptes_swap_and_swapped_data)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.swap_bytes = 16 * MiB;
	cfg.seed = 9;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1), b = thp_area(t, 1);
	fill(t, a, HP, 22);
	fill(t, b, HP, 23);
	EXPECT_EQ(SC(t, SYS_madvise, a, 64 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, b, 65 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, a, "Swap"), 256);
	EXPECT_EQ(smaps_kb(t, b, "Swap"), 260);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	pm_system_tick(k.e.sys, 10000);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	EXPECT_EQ(smaps_kb(t, a, "Swap"), 0);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 0);
	EXPECT_TRUE(vmstat(t, "thp_scan_exceed_swap_pte") >= 1);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "VmSwap"), 260);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_COLLAPSE, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "VmSwap"), 0);
	EXPECT_EQ(mismatches(t, a, HP, 22, 0, 0), 0);
	EXPECT_EQ(mismatches(t, b, HP, 23, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* MADV_HWPOISON of one page of a THP splits it; a fork child still mapping the huge PMD
 * gets SIGBUS (BUS_MCEERR_AR) on that page only, and keeps every other byte. */
TEST(thp_hwpoison_splits_and_reaches_a_child_sharing_the_pmd)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.admin;	/* SYSTEM: MADV_HWPOISON needs SeTcbPrivilege */
	long a = huge_filled(t, 1, 24);
	pm_thread *c = pm_thread_of(k.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(SC(t, SYS_madvise, a + 3 * PG, PG, MADV_HWPOISON, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(c, a, "AnonHugePages"), 2048);
	pm_siginfo si;
	uint8_t x;
	EXPECT_ERRNO(pm_access(c, a + 3 * PG + 5, &x, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_EQ(si.code, BUS_MCEERR_AR);
	EXPECT_EQ(smaps_kb(c, a, "AnonHugePages"), 0);
	EXPECT_EQ(mismatches(c, a, 3 * PG, 24, 0, 0), 0);
	EXPECT_EQ(mismatches_at(c, a, 4 * PG, HP - 4 * PG, 24), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}
