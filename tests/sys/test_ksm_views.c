/*
 * KSM knobs and views (SPEC §6, docs/ksm.md): ksmd is off by default; KsmPagesToScan
 * bounds each batch and KsmSleepMillisecs spaces the batches; a page whose checksum
 * changes between scans is volatile and stays unmerged while it changes; the
 * /sys/kernel/mm/ksm counters, /proc/<pid>/ksm_stat, ksm_merging_pages and the smaps KSM
 * field give exact values; the same seed and workload give the same merges.
 */
#include "ksm_env.h"

#define RC	0x30000000L

static void set(struct kenv *k, const char *name, long v)
{
	EXPECT_EQ(pm_registry_set(k->admin, name, v), 0);
}

/* Overwrites n pages at addr with byte b, keeping the mapping. */
static void write_pages(pm_thread *t, long addr, int n, int b)
{
	static uint8_t page[PG];
	memset(page, b, PG);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(pm_access(t, addr + i * PG, page, PG, PM_WRITE, NULL), PG);
}

/* Ticks (one full scan each, at most) until pages_sharing reaches want; -1 if never. */
static int ticks_until_sharing(struct kenv *k, long want, int limit)
{
	for (int i = 1; i <= limit; i++) {
		pm_system_tick(k->e.sys, 1);
		if (ksm_val(k, "pages_sharing") == want)
			return i;
	}
	return -1;
}

TEST(ksmd_is_off_by_default_and_the_knobs_have_linux_defaults)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = 3;
	struct kenv k = { .e = env_open_cfg(&cfg) };
	int err = 0;
	k.sys_tok = pm_token_parse(k.e.sys, "system", &err);
	k.admin = pm_spawn(k.e.sys, k.sys_tok, NULL);
	EXPECT_EQ(ksm_val(&k, "run"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_to_scan"), 100);
	EXPECT_EQ(ksm_val(&k, "sleep_millisecs"), 20);
	EXPECT_EQ(pm_registry_get(k.e.sys, "KsmRun"), 0);
	map_filled(k.e.t, RA, 8, 0x40, 0, 1);
	pm_system_tick(k.e.sys, 200);
	EXPECT_EQ(ksm_val(&k, "full_scans"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_scanned"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 0);
	/* KsmRun 0 after 1 stops the daemon where it is: the merges stay, no more scans. */
	set(&k, "KsmRun", 1);
	pm_system_tick(k.e.sys, 100);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 7);
	set(&k, "KsmRun", 0);
	long scans = ksm_val(&k, "full_scans");
	map_filled(k.e.t, RB, 8, 0x41, 0, 1);
	pm_system_tick(k.e.sys, 200);
	EXPECT_EQ(ksm_val(&k, "run"), 0);
	EXPECT_EQ(ksm_val(&k, "full_scans"), scans);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 7);
	EXPECT_TRUE(page_is(k.e.t, RA, 3, 0x40));
	kenv_close(&k);
}

/* Fewer pages per batch: each batch scans exactly KsmPagesToScan pages, and merging the
 * same memory takes proportionally more batches. */
TEST(pages_to_scan_bounds_each_batch_and_fewer_pages_need_more_ticks)
{
	int ticks[2];
	const long per[2] = { 100000, 8 };
	for (int r = 0; r < 2; r++) {
		struct kenv k = kenv_open(11);
		map_filled(k.e.t, RA, 32, 0x50, 0, 1);
		map_filled(k.e.t, RB, 32, 0x50, 0, 1);
		set(&k, "KsmPagesToScan", per[r]);
		set(&k, "KsmRun", 1);
		if (r == 1) {
			pm_system_tick(k.e.sys, 1);
			EXPECT_EQ(ksm_val(&k, "pages_scanned"), 8);
			EXPECT_EQ(ksm_val(&k, "full_scans"), 0);
			pm_system_tick(k.e.sys, 1);
			EXPECT_EQ(ksm_val(&k, "pages_scanned"), 16);
		}
		ticks[r] = ticks_until_sharing(&k, 63, 100);
		EXPECT_TRUE(ticks[r] > 0);
		EXPECT_EQ(ksm_val(&k, "pages_shared"), 1);
		kenv_close(&k);
	}
	/* 64 pages need two full scans (checksum, then merge): 2 batches of "all", at
	 * least 2 * 64 / 8 - 2 more of 8 (two were run before counting). */
	EXPECT_EQ(ticks[0], 2);
	EXPECT_TRUE(ticks[1] >= 14);
}

/* KsmSleepMillisecs: one batch every that many ticks. */
TEST(sleep_millisecs_sets_the_daemon_cadence)
{
	long scanned[2];
	const long sleep[2] = { 1, 10 };
	for (int r = 0; r < 2; r++) {
		struct kenv k = kenv_open(12);
		map_filled(k.e.t, RA, 64, 0x60, 1, 1);	/* 64 different pages */
		set(&k, "KsmPagesToScan", 2);
		set(&k, "KsmSleepMillisecs", sleep[r]);
		set(&k, "KsmRun", 1);
		pm_system_tick(k.e.sys, 30);
		scanned[r] = ksm_val(&k, "pages_scanned");
		EXPECT_EQ(ksm_val(&k, "sleep_millisecs"), sleep[r]);
		kenv_close(&k);
	}
	EXPECT_EQ(scanned[0], 60);	/* 30 batches of 2 */
	EXPECT_EQ(scanned[1], 6);	/* 3 batches of 2 */
}

/* Two pages that get the same new bytes before every scan look identical at each scan,
 * but their checksum never matches the previous visit: volatile, never merged. Once they
 * stop changing they merge within two scans. */
TEST(volatile_pages_are_counted_and_not_merged_while_they_change)
{
	struct kenv k = kenv_open(13);
	map_filled(k.e.t, RA, 4, 0x70, 0, 1);	/* 4 stable equal pages */
	map_filled(k.e.t, RC, 2, 0x01, 0, 1);	/* 2 changing pages */
	set(&k, "KsmRun", 1);
	for (int i = 0; i < 10; i++) {
		write_pages(k.e.t, RC, 2, 0x02 + i);
		pm_system_tick(k.e.sys, 1);
		if (i >= 1) {
			EXPECT_EQ(ksm_val(&k, "pages_volatile"), 2);
			EXPECT_EQ(ksm_val(&k, "pages_sharing"), 3);
			EXPECT_EQ(ksm_val(&k, "pages_shared"), 1);
		}
	}
	EXPECT_EQ(ksm_val(&k, "pages_unshared"), 0);
	EXPECT_EQ(ksm_val(&k, "full_scans"), 10);
	EXPECT_TRUE(strstr(smaps_block(k.e.t, 0, RC), "KSM:                   0 kB") != NULL);
	pm_system_tick(k.e.sys, 2);
	EXPECT_EQ(ksm_val(&k, "pages_volatile"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 2);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 4);
	EXPECT_TRUE(page_is(k.e.t, RC, 1, 0x0b));
	kenv_close(&k);
}

/* One range [a a a b b c]: after the first scan every item is volatile (no checksum
 * yet); after the second, a and b are merged and c waits in the unstable tree. */
TEST(sys_and_proc_views_give_exact_values)
{
	struct kenv k = kenv_open(14);
	static const int bytes[6] = { 0xa, 0xa, 0xa, 0xb, 0xb, 0xc };
	map_filled(k.e.t, RA, 6, 0, 0, 1);
	for (int i = 0; i < 6; i++)
		write_pages(k.e.t, RA + i * PG, 1, bytes[i]);
	EXPECT_STREQ(proc_text(k.e.t, 0, "ksm_stat"),
		     "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\n"
		     "ksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: yes\n");
	set(&k, "KsmRun", 1);
	pm_system_tick(k.e.sys, 1);
	EXPECT_EQ(ksm_val(&k, "run"), 1);
	EXPECT_EQ(ksm_val(&k, "full_scans"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_volatile"), 6);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 0);
	pm_system_tick(k.e.sys, 1);
	EXPECT_EQ(ksm_val(&k, "full_scans"), 2);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 2);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 3);
	EXPECT_EQ(ksm_val(&k, "pages_unshared"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_volatile"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_scanned"), 12);
	/* general_profit: 3 pages saved less 6 rmap items of 64 bytes */
	EXPECT_EQ(ksm_val(&k, "general_profit"), 3 * 4096 - 6 * 64);
	EXPECT_STREQ(proc_text(k.e.t, 0, "ksm_stat"),
		     "ksm_rmap_items 6\nksm_zero_pages 0\nksm_merging_pages 5\n"
		     "ksm_process_profit 20096\nksm_merge_any: no\nksm_mergeable: yes\n");
	EXPECT_STREQ(proc_text(k.e.t, 0, "ksm_merging_pages"), "5\n");
	EXPECT_TRUE(strstr(smaps_block(k.e.t, 0, RA), "\nKSM:                  20 kB\n") != NULL);
	/* The write breaks one mapping: one page less merged, in every view. */
	EXPECT_EQ(poke(k.e.t, RA + 4 * PG, 0x77), 1);
	EXPECT_TRUE(strstr(smaps_block(k.e.t, 0, RA), "\nKSM:                  16 kB\n") != NULL);
	/* Next scan: b's node keeps its last mapper (still shared), the written page is
	 * volatile (new checksum), c still waits. */
	pm_system_tick(k.e.sys, 1);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 2);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 2);
	EXPECT_EQ(ksm_val(&k, "pages_unshared"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_volatile"), 1);
	EXPECT_STREQ(proc_text(k.e.t, 0, "ksm_merging_pages"), "4\n");
	kenv_close(&k);
}

/* The KSM counters and the process's RSS after each tick, as one string. */
static void run_workload(uint64_t seed, char *out, size_t cap)
{
	struct kenv k = kenv_open(seed);
	pm_thread *other = pm_spawn(k.e.sys, k.e.tok, NULL);
	uint64_t x = 12345;
	map_filled(k.e.t, RA, 48, 0, 0, 1);
	map_filled(other, RB, 48, 0, 0, 1);
	for (int i = 0; i < 96; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		write_pages(i < 48 ? k.e.t : other, (i < 48 ? RA : RB) + (i % 48) * PG, 1,
			    (int)(x >> 60));
	}
	set(&k, "KsmPagesToScan", 7);
	set(&k, "KsmRun", 1);
	size_t n = 0;
	for (int i = 0; i < 40 && n < cap; i++) {
		pm_system_tick(k.e.sys, 1);
		n += (size_t)snprintf(out + n, cap - n, "%ld/%ld/%ld/%ld/%lu;",
				      ksm_val(&k, "pages_shared"), ksm_val(&k, "pages_sharing"),
				      ksm_val(&k, "pages_unshared"), ksm_val(&k, "full_scans"),
				      (unsigned long)free_frames(k.e.sys));
	}
	kenv_close(&k);
}

TEST(the_same_seed_and_workload_merge_the_same_way)
{
	static char a[8192], b[8192];
	run_workload(21, a, sizeof(a));
	run_workload(21, b, sizeof(b));
	EXPECT_STREQ(a, b);
	/* 16 byte values over 96 pages: the last step has merged all 16 groups */
	EXPECT_TRUE(strstr(a, "16/80/0/") != NULL);
}
