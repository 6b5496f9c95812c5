/*
 * Transparent huge pages (SPEC §6, docs/thp.md): the huge fault in each ThpEnabled mode,
 * its size and alignment conditions, PR_SET_THP_DISABLE, the 4 KiB fallback when no
 * order-9 block is free, the sysfs views, the exact smaps/meminfo/vmstat figures, pagemap
 * and mincore over a huge mapping, khugepaged's collapse and MADV_COLLAPSE with its errnos.
 */
#include "thp_env.h"

/* madvise mode (the default): only MADV_HUGEPAGE VMAs fault huge pages; a write maps the
 * whole 2 MiB zeroed, and smaps, meminfo and vmstat show exactly that. */
TEST(thp_madvise_mode_faults_a_huge_page_only_after_madv_hugepage)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1), b = thp_area(t, 1);
	REQUIRE_EQ(a > 0 && b > 0, 1);
	EXPECT_EQ(poke(t, a + 5, 1), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, a, "Rss"), 4);
	EXPECT_EQ(smaps_kb(t, a, "THPeligible"), 0);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, b, "THPeligible"), 1);
	EXPECT_TRUE(strstr(vmflags_at(t, 0, b), " hg") != NULL);
	EXPECT_EQ(poke(t, b + HP / 2 + 3, 9), 1);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	EXPECT_EQ(smaps_kb(t, b, "Rss"), 2048);
	EXPECT_EQ(smaps_kb(t, b, "Anonymous"), 2048);
	EXPECT_EQ(smaps_kb(t, b, "Private_Dirty"), 2048);
	EXPECT_EQ(mismatches(t, b, HP, 0, 0, HP), 1);	/* all zero but the byte written */
	EXPECT_EQ(peek(t, b + HP / 2 + 3), 9);
	EXPECT_EQ(field_of(proc_text(t, 0, "smaps_rollup"), "AnonHugePages"), 2048);
	EXPECT_EQ(meminfo_kb(t, "AnonHugePages"), 2048);
	EXPECT_EQ(vmstat(t, "thp_fault_alloc"), 1);
	EXPECT_EQ(vmstat(t, "nr_anon_transparent_hugepages"), 1);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "RssAnon"), 2048 + 4);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(SC(t, SYS_munmap, b, HP, 0, 0, 0, 0), 0);
	EXPECT_EQ(meminfo_kb(t, "AnonHugePages"), 0);
	EXPECT_EQ(vmstat(t, "nr_anon_transparent_hugepages"), 0);
	tenv_close(&k);
}

/* always: every suitable VMA, unless MADV_NOHUGEPAGE; never: none, even with
 * MADV_HUGEPAGE. A read fault maps the zero page, not a huge page (Rss stays 0). */
TEST(thp_always_and_never_modes_and_read_faults)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	EXPECT_EQ(thp_mode(&k, 0), 0);
	long a = thp_area(t, 1), b = thp_area(t, 1), c = thp_area(t, 1), d = thp_area(t, 1);
	EXPECT_EQ(smaps_kb(t, a, "THPeligible"), 1);
	EXPECT_EQ(peek(t, a + 100), 0);
	EXPECT_EQ(smaps_kb(t, a, "Rss"), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(poke(t, b, 1), 1);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	EXPECT_EQ(SC(t, SYS_madvise, c, HP, MADV_NOHUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, c, "THPeligible"), 0);
	EXPECT_TRUE(strstr(vmflags_at(t, 0, c), " nh") != NULL);
	EXPECT_EQ(poke(t, c, 1), 1);
	EXPECT_EQ(smaps_kb(t, c, "AnonHugePages"), 0);
	EXPECT_EQ(thp_mode(&k, 2), 0);
	EXPECT_EQ(SC(t, SYS_madvise, d, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, d, "THPeligible"), 0);
	EXPECT_EQ(poke(t, d, 1), 1);
	EXPECT_EQ(smaps_kb(t, d, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);	/* existing ones stay */
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* The 2 MiB block must lie wholly inside the VMA: a 2 MiB VMA off the boundary gets none
 * (THPeligible 0), a 4 MiB one off the boundary gets one, in its aligned middle. Stacks
 * (VM_NOHUGEPAGE since 6.7) and shared memory never do. */
TEST(thp_needs_a_whole_aligned_block_inside_the_vma)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	EXPECT_EQ(thp_mode(&k, 0), 0);
	long base = thp_area(t, 4);
	EXPECT_EQ(SC(t, SYS_munmap, base, 4 * HP, 0, 0, 0, 0), 0);
	long a = do_mmap(t, base + PG, HP, RW, ANON | MAP_FIXED);
	EXPECT_EQ(a, base + PG);
	EXPECT_EQ(smaps_kb(t, a, "THPeligible"), 0);
	EXPECT_EQ(poke(t, a, 1), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	long b = do_mmap(t, base + 2 * HP - PG, 2 * HP, RW, ANON | MAP_FIXED);
	EXPECT_EQ(smaps_kb(t, b, "THPeligible"), 1);
	EXPECT_EQ(poke(t, b, 1), 1);			/* outside the aligned block */
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 0);
	EXPECT_EQ(poke(t, b + PG, 1), 1);		/* inside it */
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	EXPECT_EQ(smaps_kb(t, b, "Rss"), 2048 + 4);
	long s = do_mmap(t, 0, 2 * HP, RW, MAP_SHARED | MAP_ANONYMOUS);
	EXPECT_EQ(smaps_kb(t, s, "THPeligible"), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* PR_SET_THP_DISABLE as 6.18 has it (probed): plain disable stops every huge fault and
 * MADV_COLLAPSE; PR_THP_DISABLE_EXCEPT_ADVISED spares MADV_HUGEPAGE VMAs; GET reports
 * 1 or 3; fork and exec keep it; status shows THP_enabled. */
TEST(thp_pr_set_thp_disable_follows_linux)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	EXPECT_EQ(thp_mode(&k, 0), 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_prctl, PR_GET_THP_DISABLE, 1, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_prctl, PR_SET_THP_DISABLE, 1, 1, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 1, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_prctl, PR_SET_THP_DISABLE, 0, 2, 0, 0, 0), -EINVAL);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "THP_enabled"), 1);
	EXPECT_EQ(SC(t, SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0, 0), 1);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "THP_enabled"), 0);
	long a = thp_area(t, 1);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, a, "THPeligible"), 0);
	EXPECT_EQ(poke(t, a, 1), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_ERRNO(SC(t, SYS_madvise, a, HP, MADV_COLLAPSE, 0, 0, 0), -EINVAL);
	pm_thread *c = pm_thread_of(k.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(SC(c, SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0, 0), 1);
	EXPECT_EQ(SC(t, SYS_prctl, PR_SET_THP_DISABLE, 1, PR_THP_DISABLE_EXCEPT_ADVISED, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0, 0), 3);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "THP_enabled"), 1);
	long b = thp_area(t, 1), d = thp_area(t, 1);
	EXPECT_EQ(poke(t, b, 1), 1);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 0);
	EXPECT_EQ(SC(t, SYS_madvise, d, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, d, 1), 1);
	EXPECT_EQ(smaps_kb(t, d, "AnonHugePages"), 2048);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_COLLAPSE, 0, 0, 0), 0);	/* not advice */
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	/* exec keeps it (MMF_INIT_MASK), as the probe on 6.18 shows through status. */
	const char *ls = "/bin/ls";
	REQUIRE_EQ(SC(t, SYS_execve, (long)pm_scratch(t, ls, strlen(ls) + 1), 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0, 0), 3);
	EXPECT_EQ(SC(t, SYS_prctl, PR_SET_THP_DISABLE, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* Without a free order-9 block the fault falls back to 4 KiB (thp_fault_fallback), and
 * with ThpDefrag never it does not even try to reclaim for one. */
TEST(thp_falls_back_to_small_pages_without_an_order_9_block)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 3;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	EXPECT_EQ(pm_registry_set(k.admin, "ThpDefrag", 4), 0);
	long hog = hog_memory(&k, t, 16 * MiB);
	long a = thp_area(t, 1);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, a + PG, 5), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, a, "Rss"), 4);
	EXPECT_EQ(peek(t, a + PG), 5);
	EXPECT_EQ(vmstat(t, "thp_fault_fallback"), 1);
	EXPECT_EQ(vmstat(t, "thp_fault_alloc"), 0);
	EXPECT_EQ(vmstat(t, "allocstall_normal"), 0);	/* never: no reclaim tried */
	EXPECT_EQ(pm_registry_set(k.admin, "ThpDefrag", 0), 0);
	long c = thp_area(t, 1);
	EXPECT_EQ(SC(t, SYS_madvise, c, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, c, 6), 1);
	EXPECT_EQ(smaps_kb(t, c, "AnonHugePages"), 0);	/* no swap: reclaim frees nothing */
	EXPECT_TRUE(vmstat(t, "allocstall_normal") > 0);	/* always: it tried */
	EXPECT_EQ(vmstat(t, "thp_fault_fallback"), 2);
	/* The hog goes: now a block is free and the next fault in a fresh area is huge. */
	EXPECT_EQ(SC(t, SYS_munmap, hog, 16 * MiB, 0, 0, 0, 0), 0);
	long b = thp_area(t, 1);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, b, 5), 1);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* The sysfs files in Linux's exact format, following the registry. */
TEST(thp_sysfs_views_follow_the_registry)
{
	struct tenv k = tenv_open();
	EXPECT_STREQ(thp_sys(&k, "enabled"), "always [madvise] never\n");
	EXPECT_STREQ(thp_sys(&k, "defrag"), "always defer defer+madvise [madvise] never\n");
	EXPECT_STREQ(thp_sys(&k, "hpage_pmd_size"), "2097152\n");
	EXPECT_STREQ(thp_sys(&k, "khugepaged/pages_to_scan"), "4096\n");
	EXPECT_STREQ(thp_sys(&k, "khugepaged/scan_sleep_millisecs"), "10000\n");
	EXPECT_STREQ(thp_sys(&k, "khugepaged/max_ptes_none"), "511\n");
	EXPECT_STREQ(thp_sys(&k, "khugepaged/full_scans"), "0\n");
	EXPECT_STREQ(thp_sys(&k, "khugepaged/pages_collapsed"), "0\n");
	EXPECT_EQ(thp_mode(&k, 0), 0);
	EXPECT_EQ(pm_registry_set(k.admin, "ThpDefrag", 1), 0);
	EXPECT_EQ(pm_registry_set(k.admin, "ThpKhugepagedPagesToScan", 512), 0);
	EXPECT_STREQ(thp_sys(&k, "enabled"), "[always] madvise never\n");
	EXPECT_STREQ(thp_sys(&k, "defrag"), "always [defer] defer+madvise madvise never\n");
	EXPECT_STREQ(thp_sys(&k, "khugepaged/pages_to_scan"), "512\n");
	EXPECT_EQ(thp_mode(&k, 2), 0);
	EXPECT_STREQ(thp_sys(&k, "enabled"), "always madvise [never]\n");
	EXPECT_ERRNO(thp_mode(&k, 3), -EINVAL);
	EXPECT_ERRNO(pm_registry_set(k.admin, "ThpKhugepagedPagesToScan", 0), -EINVAL);
	EXPECT_ERRNO(pm_registry_set(k.e.t, "ThpEnabled", 0), -EACCES);
	char buf[8];
	EXPECT_ERRNO(pm_proc_read(k.admin, -1, "sys/kernel/mm/transparent_hugepage/nope", buf, 8, 0),
		     -ENOENT);
	tenv_close(&k);
}

/* pagemap: each 4 KiB entry of a huge mapping names its own frame, PFN + i, in one
 * aligned run of 512; mincore says resident for all of them. */
TEST(thp_pagemap_and_mincore_show_every_small_page)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, a, 1), 1);
	uint64_t first = pagemap_at(k.admin, pm_pid(t), a) & PM_E_PFN;
	EXPECT_EQ(first & 511, 0);
	EXPECT_TRUE(first != 0);
	long bad = 0;
	for (long i = 0; i < 512; i++) {
		uint64_t e = pagemap_at(k.admin, pm_pid(t), a + i * PG);
		bad += !(e & PM_E_PRESENT) || (e & PM_E_PFN) != first + (uint64_t)i;
	}
	EXPECT_EQ(bad, 0);
	uint8_t vec[512];
	long v = do_mmap(t, 0, PG, RW, ANON);
	EXPECT_EQ(SC(t, SYS_mincore, a, HP, v, 0, 0, 0), 0);
	EXPECT_EQ(pm_access(t, v, vec, 512, PM_READ, NULL), 512);
	long res = 0;
	for (int i = 0; i < 512; i++)
		res += vec[i] & 1;
	EXPECT_EQ(res, 512);
	tenv_close(&k);
}

/* Each huge PMD keeps a PTE table deposited for its split, counted in VmPTE as Linux
 * counts it (mm_inc_nr_ptes): a huge page costs the same tables as a small one there. */
TEST(thp_deposited_table_counts_in_vmpte)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1);
	long v0 = field_of(proc_text(t, 0, "status"), "VmPTE");
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, a, 1), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	long v1 = field_of(proc_text(t, 0, "status"), "VmPTE");
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "VmPTE"), v0);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_NOHUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, a, 1), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "VmPTE"), v1);
	EXPECT_TRUE(v1 > v0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* A read fault maps the huge zero page (Linux's use_zero_page): present, not RSS, one
 * shared run of 512 frames for everyone (thp_zero_page_alloc once). A write replaces it
 * with a THP (do_huge_zero_wp_pmd, 6.13+); a split gives PTEs of the ordinary zero page;
 * MADV_COLLAPSE counts it as already huge. */
TEST(thp_read_maps_the_huge_zero_page_and_a_write_replaces_it)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	EXPECT_EQ(thp_mode(&k, 0), 0);
	pm_sysinfo before, after;
	pm_system_info(k.e.sys, &before);
	long a = thp_area(t, 1), b = thp_area(t, 1), c = thp_area(t, 1);
	EXPECT_EQ(peek(t, a + 5), 0);
	EXPECT_EQ(peek(t, b + 5), 0);
	EXPECT_EQ(peek(t, c + 5), 0);
	EXPECT_EQ(vmstat(t, "thp_zero_page_alloc"), 1);
	pm_system_info(k.e.sys, &after);
	EXPECT_EQ(after.kernel_frames, before.kernel_frames + 512);
	EXPECT_EQ(smaps_kb(t, a, "Rss"), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	uint64_t z = pagemap_at(k.admin, pm_pid(t), a);
	EXPECT_TRUE((z & PM_E_PRESENT) && !(z & PM_E_EXCL));
	EXPECT_EQ(z & PM_E_PFN & 511, 0);
	EXPECT_EQ(pagemap_at(k.admin, pm_pid(t), a + 9 * PG) & PM_E_PFN, (z & PM_E_PFN) + 9);
	EXPECT_EQ(pagemap_at(k.admin, pm_pid(t), b) & PM_E_PFN, z & PM_E_PFN);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(poke(t, a + 5, 3), 1);	/* the TLB held the zero frame: it must not now */
	EXPECT_EQ(peek(t, a + 5), 3);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	EXPECT_EQ(smaps_kb(t, a, "Rss"), 2048);
	EXPECT_EQ(vmstat(t, "thp_fault_alloc"), 1);
	EXPECT_EQ(mismatches(t, a, HP, 0, 0, HP), 1);
	EXPECT_EQ(SC(t, SYS_mprotect, b + PG, PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(vmstat(t, "thp_split_pmd"), 1);
	uint64_t zb = pagemap_at(k.admin, pm_pid(t), b) & PM_E_PFN;
	EXPECT_TRUE(zb != (z & PM_E_PFN));
	EXPECT_EQ(pagemap_at(k.admin, pm_pid(t), b + 100 * PG) & PM_E_PFN, zb);
	EXPECT_EQ(peek(t, b + PG), 0);
	EXPECT_EQ(SC(t, SYS_madvise, c, HP, MADV_COLLAPSE, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(t, c, "AnonHugePages"), 0);
	pm_thread *ch = pm_thread_of(k.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(ch != NULL, 1);
	EXPECT_EQ(pagemap_at(k.admin, pm_pid(ch), c) & PM_E_PFN, z & PM_E_PFN);
	EXPECT_EQ(poke(ch, c + HP - 1, 8), 1);
	EXPECT_EQ(smaps_kb(ch, c, "AnonHugePages"), 2048);
	EXPECT_EQ(peek(t, c + HP - 1), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(SC(t, SYS_munmap, c, HP, 0, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* A write to the huge zero page with no order-9 block free splits it and copies 4 KiB. */
TEST(thp_write_to_the_huge_zero_page_falls_back_to_4k)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 4;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	EXPECT_EQ(thp_mode(&k, 0), 0);
	long a = thp_area(t, 1);
	EXPECT_EQ(peek(t, a), 0);
	EXPECT_EQ(vmstat(t, "thp_zero_page_alloc"), 1);
	hog_memory(&k, t, 16 * MiB);
	EXPECT_EQ(poke(t, a + 3 * PG, 7), 1);
	EXPECT_EQ(vmstat(t, "thp_fault_fallback"), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 0);
	EXPECT_EQ(smaps_kb(t, a, "Rss"), 4);
	EXPECT_EQ(peek(t, a + 3 * PG), 7);
	EXPECT_EQ(peek(t, a + 4 * PG), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}

/* Commit accounting in mode 0 (SPEC §8, docs/commit.md): a huge fault charges its 512
 * pages at once, a split changes nothing, a collapse ends at 512 for the block whatever
 * was there, fork charges the child's share, and the unmap gives it all back. */
TEST(thp_commit_charge_is_512_pages_per_huge_page)
{
	struct tenv k = tenv_open();
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	long c0 = meminfo_kb(t, "Committed_AS");
	EXPECT_EQ(poke(t, a, 1), 1);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0 + 2048);
	EXPECT_EQ(SC(t, SYS_mprotect, a + PG, PG, PROT_READ, 0, 0, 0), 0);	/* split */
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0 + 2048);
	EXPECT_EQ(SC(t, SYS_mprotect, a + PG, PG, RW, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, a + 8 * PG, 100 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0 + 2048 - 400);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_COLLAPSE, 0, 0, 0), 0);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0 + 2048);
	pm_thread *ch = pm_thread_of(k.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(ch != NULL, 1);
	EXPECT_TRUE(meminfo_kb(t, "Committed_AS") >= c0 + 2 * 2048);	/* the child's share */
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(poke(ch, a + 5, 2), 1);	/* split and COW: the charges stay */
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(SC(ch, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0 + 2048);
	long z = thp_area(t, 1);	/* the huge zero page costs nothing until written */
	EXPECT_EQ(SC(t, SYS_madvise, z, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, z), 0);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0 + 2048);
	EXPECT_EQ(poke(t, z, 1), 1);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0 + 4096);
	EXPECT_EQ(SC(t, SYS_munmap, a, HP, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_munmap, z, HP, 0, 0, 0, 0), 0);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS"), c0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}
