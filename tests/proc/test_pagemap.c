/*
 * /proc/<pid>/pagemap and the soft-dirty protocol (SPEC §7): one 64-bit entry per page,
 * PFNs hidden from readers without SeTcbPrivilege, soft-dirty cleared by clear_refs 4 and
 * set again by the next write. Also the system views meminfo and vmstat (SPEC §10).
 */
#include "proc_test.h"

#define TCB_TOKEN "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium " \
		  "privs=SeTcbPrivilege:enabled"

/* A written anonymous page is present and exclusive, not file; an unmapped page reads as
 * 0; the PFN is zero for a normal reader and the real frame for a SeTcb reader. */
TEST(pagemap_shows_present_pages_and_hides_pfn_without_tcb)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 2 * PG, RW, ANON);
	poke(e.t, a, 1);
	uint64_t v = pagemap_at(e.t, 0, a);
	EXPECT_TRUE(v & PM_E_PRESENT);
	EXPECT_TRUE(v & PM_E_EXCL);
	EXPECT_EQ(v & (PM_E_FILE | PM_E_SWAP), 0);
	EXPECT_EQ(v & PM_E_PFN, 0);
	EXPECT_EQ(pagemap_at(e.t, 0, a + PG), 0);
	EXPECT_EQ(pagemap_at(e.t, 0, 0x10000), 0);
	int err = 0;
	pm_token *tcb = pm_token_parse(e.sys, TCB_TOKEN, &err);
	pm_thread *r = pm_spawn(e.sys, tcb, NULL);
	EXPECT_TRUE(r != NULL);
	uint64_t w = pagemap_at(r, pm_pid(e.t), a);
	EXPECT_TRUE(w & PM_E_PRESENT);
	EXPECT_TRUE((w & PM_E_PFN) != 0);
	EXPECT_EQ(w & ~PM_E_PFN, v & ~PM_E_PFN);
	pm_token_put(tcb);
	env_close(&e);
}

/* Shared pages: shared anonymous memory carries the file bit; after fork a COW page is
 * no longer exclusive; the zero page is present but neither file nor exclusive. */
TEST(pagemap_marks_shmem_as_file_and_shared_pages_not_exclusive)
{
	struct env e = env_open();
	long s = do_mmap(e.t, 0, PG, RW, MAP_SHARED | MAP_ANONYMOUS);
	long a = do_mmap(e.t, 0, 2 * PG, RW, ANON);
	poke(e.t, s, 1);
	poke(e.t, a, 1);
	peek(e.t, a + PG);
	EXPECT_TRUE(pagemap_at(e.t, 0, s) & PM_E_FILE);
	uint64_t z = pagemap_at(e.t, 0, a + PG);
	EXPECT_TRUE(z & PM_E_PRESENT);
	EXPECT_EQ(z & (PM_E_FILE | PM_E_EXCL), 0);
	EXPECT_TRUE(pagemap_at(e.t, 0, a) & PM_E_EXCL);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_TRUE(c != NULL);
	EXPECT_EQ(pagemap_at(e.t, 0, a) & PM_E_EXCL, 0);
	/* fork copies no PTEs of shared VMAs: the page is shared once the child faults it. */
	EXPECT_TRUE(pagemap_at(e.t, 0, s) & PM_E_EXCL);
	EXPECT_EQ(peek(c, s), 1);
	EXPECT_EQ(pagemap_at(e.t, 0, s) & PM_E_EXCL, 0);
	poke(c, a, 2);
	EXPECT_TRUE(pagemap_at(e.t, 0, a) & PM_E_EXCL);
	env_close(&e);
}

/* Soft-dirty: set by a write, cleared by clear_refs 4, untouched by a read, set again by
 * the next write even though the page stayed writable and dirty (the TLB cannot hide it). */
TEST(clear_refs_4_clears_soft_dirty_until_the_next_write)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 2 * PG, RW, ANON);
	poke(e.t, a, 1);
	poke(e.t, a + PG, 1);
	EXPECT_TRUE(pagemap_at(e.t, 0, a) & PM_E_SOFTDIRTY);
	EXPECT_EQ(clear_refs(e.t, "4"), 1);
	EXPECT_EQ(pagemap_at(e.t, 0, a) & PM_E_SOFTDIRTY, 0);
	EXPECT_EQ(pagemap_at(e.t, 0, a + PG) & PM_E_SOFTDIRTY, 0);
	EXPECT_EQ(peek(e.t, a), 1);
	EXPECT_EQ(pagemap_at(e.t, 0, a) & PM_E_SOFTDIRTY, 0);
	EXPECT_EQ(poke(e.t, a, 3), 1);
	EXPECT_TRUE(pagemap_at(e.t, 0, a) & PM_E_SOFTDIRTY);
	EXPECT_EQ(pagemap_at(e.t, 0, a + PG) & PM_E_SOFTDIRTY, 0);
	EXPECT_EQ(smaps_kb(e.t, a, "Private_Dirty"), 8);	/* D is not soft-dirty */
	env_close(&e);
}

/* pagemap reads whole aligned entries only (EINVAL otherwise), several at a time, and
 * ends at the top of the user range. */
TEST(pagemap_reads_aligned_runs_and_stops_at_task_size)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 4 * PG, RW, ANON);
	poke(e.t, a + 2 * PG, 1);
	uint64_t v[4];
	EXPECT_EQ(pm_proc_read(e.t, 0, "pagemap", v, sizeof(v), (a / PG) * 8), 32);
	EXPECT_EQ(v[0] | v[1] | v[3], 0);
	EXPECT_TRUE(v[2] & PM_E_PRESENT);
	EXPECT_ERRNO(pm_proc_read(e.t, 0, "pagemap", v, 7, 0), -EINVAL);
	EXPECT_ERRNO(pm_proc_read(e.t, 0, "pagemap", v, 8, 4), -EINVAL);
	uint64_t top = 0x7ffffffff000ULL / PG;
	EXPECT_EQ(pm_proc_read(e.t, 0, "pagemap", v, sizeof(v), (top - 2) * 8), 16);
	EXPECT_EQ(pm_proc_read(e.t, 0, "pagemap", v, sizeof(v), (top + 1) * 8), 0);
	env_close(&e);
}

/* clear_refs 5 resets VmHWM to the current RSS. */
TEST(clear_refs_5_resets_peak_rss)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 64 * PG, RW, ANON | MAP_POPULATE);
	EXPECT_EQ(SC(e.t, SYS_munmap, a, 64 * PG, 0, 0, 0, 0), 0);
	long hwm = field_of(proc_text(e.t, 0, "status"), "VmHWM");
	long rss = field_of(proc_text(e.t, 0, "status"), "VmRSS");
	EXPECT_TRUE(hwm >= rss + 256);
	EXPECT_EQ(clear_refs(e.t, "5"), 1);
	EXPECT_EQ(field_of(proc_text(e.t, 0, "status"), "VmHWM"), rss);
	env_close(&e);
}

/* meminfo prints Linux 6.x's fields in order; AnonPages, Shmem and PageTables follow the
 * memory a process touches, and MemFree falls by what it takes. */
TEST(meminfo_lists_linux_fields_in_order_with_live_figures)
{
	struct env e = env_open();
	static const char *const names[] = { "MemTotal", "MemFree", "MemAvailable", "Buffers",
		"Cached", "SwapCached", "Active", "Inactive", "Active(anon)", "Inactive(anon)",
		"Active(file)", "Inactive(file)", "Unevictable", "Mlocked", "SwapTotal", "SwapFree",
		"Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem",
		"KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables",
		"SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit",
		"Committed_AS", "VmallocTotal", "VmallocUsed", "VmallocChunk", "Percpu",
		"AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages",
		"FilePmdMapped", "Balloon", "HugePages_Total", "HugePages_Free", "HugePages_Rsvd",
		"HugePages_Surp", "Hugepagesize", "Hugetlb", "DirectMap4k", "DirectMap2M",
		"DirectMap1G" };
	char text[8192];
	snprintf(text, sizeof(text), "\n%.*s", (int)sizeof(text) - 2, proc_text(e.t, -1, "meminfo"));
	const char *at = text;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char key[40];
		snprintf(key, sizeof(key), "\n%s:", names[i]);
		const char *p = strstr(at, key);
		if (!p)
			check_failed(__FILE__, __LINE__, "meminfo: %s missing or out of order", names[i]);
		else
			at = p + 1;
	}
	EXPECT_TRUE(strstr(text, "\nMemTotal:          65532 kB\n") != NULL);
	long anon0 = field_of(text, "AnonPages"), shmem0 = field_of(text, "Shmem");
	long free0 = field_of(text, "MemFree");
	do_mmap(e.t, 0, 16 * PG, RW, ANON | MAP_POPULATE);
	do_mmap(e.t, 0, 4 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE);
	snprintf(text, sizeof(text), "\n%.*s", (int)sizeof(text) - 2, proc_text(e.t, -1, "meminfo"));
	EXPECT_EQ(field_of(text, "AnonPages") - anon0, 64);
	EXPECT_EQ(field_of(text, "Shmem") - shmem0, 16);
	EXPECT_TRUE(free0 - field_of(text, "MemFree") >= 80);
	EXPECT_TRUE(field_of(text, "PageTables") > 0);
	env_close(&e);
}

/* vmstat: "name value" lines in Linux's order; pgfault counts faults as they happen and
 * nr_anon_pages agrees with meminfo's AnonPages. */
TEST(vmstat_counts_faults_and_agrees_with_meminfo)
{
	struct env e = env_open();
	char text[16384];
	snprintf(text, sizeof(text), "\n%.*s", (int)sizeof(text) - 2, proc_text(e.t, -1, "vmstat"));
	EXPECT_TRUE(strncmp(text, "\nnr_free_pages ", 15) == 0);
	const char *order[] = { "\nnr_anon_pages ", "\nnr_mapped ", "\nnr_file_pages ",
		"\nnr_dirty ", "\nnr_writeback ", "\nnr_shmem ", "\nnr_page_table_pages ",
		"\npgpgin ", "\npgpgout ", "\npswpin ", "\npswpout ", "\npgfault ", "\npgmajfault ",
		"\noom_kill ", "\nthp_fault_alloc " };
	const char *at = text;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = strstr(at, order[i]);
		if (!p)
			check_failed(__FILE__, __LINE__, "vmstat: %s missing or out of order", order[i] + 1);
		else
			at = p + 1;
	}
	long f0 = strtol(strstr(text, "\npgfault ") + 9, NULL, 10);
	long a = do_mmap(e.t, 0, 8 * PG, RW, ANON);
	for (int i = 0; i < 8; i++)
		poke(e.t, a + i * PG, 1);
	snprintf(text, sizeof(text), "\n%.*s", (int)sizeof(text) - 2, proc_text(e.t, -1, "vmstat"));
	EXPECT_TRUE(strtol(strstr(text, "\npgfault ") + 9, NULL, 10) - f0 >= 8);
	long anon = strtol(strstr(text, "\nnr_anon_pages ") + 15, NULL, 10);
	snprintf(text, sizeof(text), "\n%.*s", (int)sizeof(text) - 2, proc_text(e.t, -1, "meminfo"));
	EXPECT_EQ(anon * 4, field_of(text, "AnonPages"));
	env_close(&e);
}
