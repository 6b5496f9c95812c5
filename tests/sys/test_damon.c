/*
 * DAMON (SPEC §10, docs/damon.md): region-based sampling on the PTE Accessed bits with
 * Linux's merge and split, DAMOS schemes and quotas, and the control gates. Every test
 * lays out one process the same way, two ranges far apart so that the two largest gaps of
 * the address space separate them (the vaddr three regions):
 *
 *   HOT  [1 TiB, +1 MiB)   read in full every tick
 *   COLD [48 TiB, +1 MiB)  written once, then never touched
 *   ...  scratch, vvar, vdso, stack near the top
 */
#include "pm_test.h"

#define HOT	0x10000000000L
#define COLD	0x300000000000L
#define RANGE	(1 * MiB)

struct damon_env {
	struct env e;
	pm_token *sys_tok;
	pm_thread *admin;	/* a SYSTEM process */
	int pid;		/* the monitored process */
};

static struct damon_env denv_open(uint64_t seed)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = seed;
	struct damon_env d = { .e = env_open_cfg(&cfg) };
	int err = 0;
	d.sys_tok = pm_token_parse(d.e.sys, "system", &err);
	d.admin = pm_spawn(d.e.sys, d.sys_tok, NULL);
	d.pid = pm_pid(d.e.t);
	EXPECT_EQ(do_mmap(d.e.t, HOT, RANGE, RW, ANON | MAP_FIXED), HOT);
	EXPECT_EQ(do_mmap(d.e.t, COLD, RANGE, RW, ANON | MAP_FIXED), COLD);
	for (long off = 0; off < RANGE; off += PG) {
		poke(d.e.t, HOT + off, 1);
		poke(d.e.t, COLD + off, 1);
	}
	return d;
}

static void denv_close(struct damon_env *d)
{
	pm_token_put(d->sys_tok);
	env_close(&d->e);
}

/* n ticks, the hot range read in full before each one. */
static void run_ticks(struct damon_env *d, int n)
{
	static uint8_t buf[RANGE];
	for (int i = 0; i < n; i++) {
		long r = pm_access(d->e.t, HOT, buf, RANGE, PM_READ, NULL);
		if (r != RANGE)
			check_failed(__FILE__, __LINE__, "pm_access(hot) = %ld, want %ld", r, RANGE);
		pm_system_tick(d->e.sys, 1);
	}
}

static int inside(const pm_damon_region *r, long base)
{
	return r->start >= (uint64_t)base && r->end <= (uint64_t)base + RANGE;
}

static int regions(struct damon_env *d, pm_damon_region *out, int max)
{
	int n = pm_damon_regions(d->admin, d->pid, out, max);
	if (n < 0 || n > max)
		check_failed(__FILE__, __LINE__, "pm_damon_regions(pid %d) = %s, want 0..%d", d->pid,
			     errno_name(n), max);
	return n < 0 ? 0 : n > max ? max : n;
}

/* Sampling every 5 ms over 100 ms aggregations gives 20 samples: the hot range is seen
 * accessed in all of them, the cold one in none, and both keep their rate, so they age. */
TEST(damon_reports_hot_range_busy_and_cold_range_idle_with_growing_ages)
{
	struct damon_env d = denv_open(42);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	run_ticks(&d, 1000);
	pm_damon_region r[1000];
	int n = regions(&d, r, 1000);
	int hot = 0, cold = 0;
	uint32_t hot_age = 0, cold_age = 0;
	for (int i = 0; i < n; i++) {
		if (inside(&r[i], HOT)) {
			hot++;
			hot_age = r[i].age;
			if (r[i].nr_accesses < 18)
				check_failed(__FILE__, __LINE__, "hot region %lx-%lx nr_accesses = %u, want >= 18",
					     (long)r[i].start, (long)r[i].end, r[i].nr_accesses);
		} else if (inside(&r[i], COLD)) {
			cold++;
			cold_age = r[i].age;
			EXPECT_EQ(r[i].nr_accesses, 0);
		}
	}
	if (!hot || !cold)
		check_failed(__FILE__, __LINE__, "regions inside hot = %d, cold = %d, want both > 0\n%s",
			     hot, cold, proc_text(d.admin, d.pid, "damon_regions"));
	run_ticks(&d, 500);
	n = regions(&d, r, 1000);
	for (int i = 0; i < n; i++) {
		if (inside(&r[i], HOT) && r[i].age <= hot_age)
			check_failed(__FILE__, __LINE__, "hot region age %u after 5 more aggregations, was %u",
				     r[i].age, hot_age);
		if (inside(&r[i], COLD) && r[i].age <= cold_age)
			check_failed(__FILE__, __LINE__, "cold region age %u after 5 more aggregations, was %u",
				     r[i].age, cold_age);
	}
	denv_close(&d);
}

/* Merging stops at total/min_nr_regions per region and splitting stops past max/2, so
 * every aggregation reports between min and max regions (Linux's damon_nr_regions.py). */
TEST(damon_region_count_stays_within_min_and_max)
{
	struct damon_env d = denv_open(42);
	pm_damon_attrs a = { .min_nr_regions = 10, .max_nr_regions = 24 };
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, &a), 0);
	pm_damon_region r[64];
	int lo = 1000, hi = 0;
	for (int k = 0; k < 30; k++) {
		run_ticks(&d, 100);
		int n = pm_damon_regions(d.admin, d.pid, r, 64);
		lo = n < lo ? n : lo;
		hi = n > hi ? n : hi;
	}
	if (lo < 10 || hi > 24)
		check_failed(__FILE__, __LINE__, "region count ranged %d..%d, want within 10..24", lo, hi);
	denv_close(&d);
}

/* fvaddr: only the given ranges are monitored. A stat scheme for never-accessed regions
 * counts the whole cold range every aggregation and nothing of the hot one; stat applies
 * nothing (Linux's vaddr ops return 0 for it). */
TEST(damos_stat_scheme_counts_only_the_cold_range)
{
	struct damon_env d = denv_open(42);
	pm_damon_attrs a = { .nr_ranges = 2, .ranges = { { HOT, HOT + RANGE }, { COLD, COLD + RANGE } } };
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, &a), 0);
	pm_damos s = { .max_sz = UINT64_MAX, .max_nr_accesses = 0, .max_age = UINT32_MAX,
		       .action = PM_DAMOS_STAT };
	EXPECT_EQ(pm_damon_add_scheme(d.admin, d.pid, &s), 0);
	run_ticks(&d, 1000);	/* 10 aggregations */
	pm_damos_stats st;
	EXPECT_EQ(pm_damos_stats_read(d.admin, d.pid, 0, &st), 0);
	EXPECT_EQ(st.sz_tried, 10 * RANGE);
	EXPECT_EQ(st.nr_applied, 0);
	EXPECT_EQ(st.sz_applied, 0);
	EXPECT_EQ(st.qt_exceeds, 0);
	const char *txt = proc_text(d.admin, d.pid, "damon_regions");
	if (!strstr(txt, "# aggregations=10 ") || !strstr(txt, "scheme0 action=stat nr_tried="))
		check_failed(__FILE__, __LINE__, "damon_regions lacks the header or scheme line:\n%s", txt);
	denv_close(&d);
}

/* A size quota caps what a scheme charges per window, trimming the last region to fit;
 * each window that ran out counts in qt_exceeds. */
TEST(damos_quota_caps_bytes_per_window)
{
	struct damon_env d = denv_open(42);
	pm_damon_attrs a = { .nr_ranges = 2, .ranges = { { HOT, HOT + RANGE }, { COLD, COLD + RANGE } } };
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, &a), 0);
	pm_damos s = { .max_sz = UINT64_MAX, .max_nr_accesses = 0, .max_age = UINT32_MAX,
		       .action = PM_DAMOS_STAT, .quota_sz = 256 * KiB, .quota_reset_ms = 100 };
	EXPECT_EQ(pm_damon_add_scheme(d.admin, d.pid, &s), 0);
	pm_damos_stats st = { 0 };
	uint64_t prev = 0;
	for (int k = 0; k < 10; k++) {
		run_ticks(&d, 100);
		EXPECT_EQ(pm_damos_stats_read(d.admin, d.pid, 0, &st), 0);
		if (st.sz_tried - prev > 256 * KiB)
			check_failed(__FILE__, __LINE__, "aggregation %d charged %lu bytes, quota 262144",
				     k, (unsigned long)(st.sz_tried - prev));
		prev = st.sz_tried;
	}
	if (st.qt_exceeds < 5 || st.sz_tried < 5 * 256 * KiB)
		check_failed(__FILE__, __LINE__, "qt_exceeds = %lu, sz_tried = %lu, want >= 5 and >= %ld",
			     (unsigned long)st.qt_exceeds, (unsigned long)st.sz_tried, 5 * 256 * KiB);
	denv_close(&d);
}

/* Whether smaps shows flag `fl` (e.g. "hg") in the VmFlags of the VMA starting at addr. */
static int vma_has_flag(pm_thread *t, long addr, const char *fl)
{
	char key[40], want[8];
	snprintf(key, sizeof(key), "%08lx-", addr);
	snprintf(want, sizeof(want), " %s", fl);
	const char *s = proc_text(t, 0, "smaps");
	const char *p = strstr(s, key);
	const char *vf = p ? strstr(p, "VmFlags:") : NULL;
	if (!vf)
		return -1;
	size_t n = strcspn(vf, "\n");
	for (const char *h = strstr(vf, want); h && h < vf + n; h = strstr(h + 1, want))
		if (h[strlen(want)] == ' ' || h[strlen(want)] == '\n' || h[strlen(want)] == '\0')
			return 1;
	return 0;
}

/* A hugepage scheme for regions seen in at least 15 of 20 samples sets VM_HUGEPAGE on the
 * hot range through madvise (the VMA split and merged back whole), never on the cold one. */
TEST(damos_hugepage_scheme_marks_only_the_hot_range)
{
	struct damon_env d = denv_open(42);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	pm_damos s = { .max_sz = UINT64_MAX, .min_nr_accesses = 15, .max_nr_accesses = UINT32_MAX,
		       .max_age = UINT32_MAX, .action = PM_DAMOS_HUGEPAGE };
	EXPECT_EQ(pm_damon_add_scheme(d.admin, d.pid, &s), 0);
	run_ticks(&d, 500);
	pm_damos_stats st;
	EXPECT_EQ(pm_damos_stats_read(d.admin, d.pid, 0, &st), 0);
	if (st.nr_applied == 0 || st.sz_applied < RANGE)
		check_failed(__FILE__, __LINE__, "hugepage scheme applied %lu regions, %lu bytes; want >= 1 MiB",
			     (unsigned long)st.nr_applied, (unsigned long)st.sz_applied);
	EXPECT_EQ(vma_has_flag(d.e.t, HOT, "hg"), 1);
	EXPECT_EQ(vma_has_flag(d.e.t, COLD, "hg"), 0);
	EXPECT_EQ(maps_count(d.e.t, "10000000000-10000100000"), 1);	/* merged back whole */
	denv_close(&d);
}

/* SPEC §10: only SYSTEM or Administrators configure DAMON, whoever the target is. */
TEST(damon_control_needs_an_administrator)
{
	struct damon_env d = denv_open(42);
	pm_damos s = { .max_sz = UINT64_MAX, .max_nr_accesses = UINT32_MAX, .max_age = UINT32_MAX };
	EXPECT_ERRNO(pm_damon_start(d.e.t, 0, NULL), -EPERM);
	EXPECT_ERRNO(pm_damon_start(d.e.t, d.pid, NULL), -EPERM);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	EXPECT_ERRNO(pm_damon_add_scheme(d.e.t, d.pid, &s), -EPERM);
	EXPECT_ERRNO(pm_damon_stop(d.e.t, d.pid), -EPERM);
	/* An administrator user (Administrators enabled) may. */
	int err = 0;
	pm_token *adm = pm_token_parse(d.e.sys, "user=S-1-5-21-1-1002 groups=S-1-5-32-544,S-1-1-0 il=high", &err);
	pm_thread *at = pm_spawn(d.e.sys, adm, NULL);
	EXPECT_EQ(pm_damon_stop(at, pm_pid(at)), -ENOENT);
	EXPECT_EQ(pm_damon_start(at, pm_pid(at), NULL), 0);
	EXPECT_EQ(pm_damon_stop(at, pm_pid(at)), 0);
	EXPECT_EQ(pm_damon_stop(d.admin, d.pid), 0);
	EXPECT_EQ(pm_damon_stop(d.admin, d.pid), -ENOENT);
	pm_token_put(adm);
	denv_close(&d);
}

/* SPEC §7: DAMON results need PROCESS_QUERY_INFORMATION + PIP; the default DACL gives it
 * to the owner, SYSTEM and Administrators only, so another user gets EACCES. */
TEST(damon_regions_of_another_users_process_is_eacces)
{
	struct damon_env d = denv_open(42);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	run_ticks(&d, 100);
	int err = 0;
	pm_token *other = pm_token_parse(d.e.sys, "user=S-1-5-21-1-1003 groups=S-1-5-32-545,S-1-1-0", &err);
	pm_thread *ot = pm_spawn(d.e.sys, other, NULL);
	char buf[256];
	pm_damon_region r[4];
	pm_damos_stats st;
	EXPECT_ERRNO(pm_proc_read(ot, d.pid, "damon_regions", buf, sizeof(buf), 0), -EACCES);
	EXPECT_ERRNO(pm_damon_regions(ot, d.pid, r, 4), -EACCES);
	EXPECT_ERRNO(pm_damos_stats_read(ot, d.pid, 0, &st), -EACCES);
	/* The owner reads its own (no self bypass: the DACL grants it). */
	if (pm_proc_read(d.e.t, 0, "damon_regions", buf, sizeof(buf), 0) <= 0)
		check_failed(__FILE__, __LINE__, "owner's damon_regions read is empty or denied");
	/* An unmonitored process renders as empty. */
	EXPECT_EQ(pm_proc_read(ot, 0, "damon_regions", buf, sizeof(buf), 0), 0);
	pm_token_put(other);
	denv_close(&d);
}

/* DESIGN.md: sampling draws from the system's seeded PRNG, so a seed replays a run. */
TEST(damon_with_the_same_seed_reports_the_same_regions)
{
	static char first[1 << 16];
	for (int round = 0; round < 2; round++) {
		struct damon_env d = denv_open(7);
		EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
		run_ticks(&d, 700);
		const char *txt = proc_text(d.admin, d.pid, "damon_regions");
		if (round == 0)
			snprintf(first, sizeof(first), "%.*s", (int)sizeof(first) - 1, txt);
		else if (strcmp(first, txt))
			check_failed(__FILE__, __LINE__, "seed 7 gave different regions:\n%s---\n%s", first, txt);
		denv_close(&d);
	}
}

/* cold and pageout need reclaim, which is not built yet: refused, not ignored (STYLE §3.1).
 * Bad patterns and attributes are EINVAL, a second start is EBUSY. */
TEST(damon_refuses_what_it_cannot_do)
{
	struct damon_env d = denv_open(42);
	pm_damon_attrs bad = { .min_nr_regions = 2 };
	EXPECT_ERRNO(pm_damon_start(d.admin, d.pid, &bad), -EINVAL);
	bad = (pm_damon_attrs){ .sample_us = 200000 };	/* longer than the aggregation */
	EXPECT_ERRNO(pm_damon_start(d.admin, d.pid, &bad), -EINVAL);
	bad = (pm_damon_attrs){ .nr_ranges = 2, .ranges = { { COLD, COLD + RANGE }, { HOT, HOT + RANGE } } };
	EXPECT_ERRNO(pm_damon_start(d.admin, d.pid, &bad), -EINVAL);	/* unsorted */
	pm_damos s = { .max_sz = UINT64_MAX, .max_nr_accesses = UINT32_MAX, .max_age = UINT32_MAX };
	EXPECT_ERRNO(pm_damon_add_scheme(d.admin, d.pid, &s), -ENOENT);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	EXPECT_ERRNO(pm_damon_start(d.admin, d.pid, NULL), -EBUSY);
	s.action = PM_DAMOS_COLD;	/* accepted since reclaim and swap exist */
	EXPECT_EQ(pm_damon_add_scheme(d.admin, d.pid, &s), 0);
	s.action = PM_DAMOS_PAGEOUT;
	EXPECT_EQ(pm_damon_add_scheme(d.admin, d.pid, &s), 1);
	s.action = 99;
	EXPECT_ERRNO(pm_damon_add_scheme(d.admin, d.pid, &s), -EINVAL);
	s = (pm_damos){ .min_nr_accesses = 5, .max_nr_accesses = 4, .max_sz = UINT64_MAX,
			.max_age = UINT32_MAX };
	EXPECT_ERRNO(pm_damon_add_scheme(d.admin, d.pid, &s), -EINVAL);
	EXPECT_ERRNO(pm_damon_start(d.admin, 999, NULL), -ESRCH);
	denv_close(&d);
}

/* The context stops and is freed with its target; ticks after the exit touch nothing. */
TEST(damon_context_ends_with_its_process)
{
	struct damon_env d = denv_open(42);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	run_ticks(&d, 50);
	pm_sysinfo before;
	pm_system_info(d.e.sys, &before);
	pm_syscall(d.e.t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	pm_system_tick(d.e.sys, 100);
	pm_damon_region r[4];
	EXPECT_ERRNO(pm_damon_regions(d.admin, d.pid, r, 4), -ESRCH);
	EXPECT_ERRNO(pm_damon_stop(d.admin, d.pid), -ESRCH);
	pm_sysinfo after;
	pm_system_info(d.e.sys, &after);
	if (after.live_objects >= before.live_objects)
		check_failed(__FILE__, __LINE__, "live objects %lu after exit, %lu before: context not freed",
			     (unsigned long)after.live_objects, (unsigned long)before.live_objects);
	denv_close(&d);
}

/* The mirror image on fvaddr: nohugepage for never-accessed regions marks the cold range
 * "nh" and leaves the hot one alone. */
TEST(damos_nohugepage_scheme_marks_only_the_cold_range)
{
	struct damon_env d = denv_open(42);
	pm_damon_attrs a = { .nr_ranges = 2, .ranges = { { HOT, HOT + RANGE }, { COLD, COLD + RANGE } } };
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, &a), 0);
	pm_damos s = { .max_sz = UINT64_MAX, .max_nr_accesses = 0, .max_age = UINT32_MAX,
		       .action = PM_DAMOS_NOHUGEPAGE };
	EXPECT_EQ(pm_damon_add_scheme(d.admin, d.pid, &s), 0);
	run_ticks(&d, 300);
	pm_damos_stats st;
	EXPECT_EQ(pm_damos_stats_read(d.admin, d.pid, 0, &st), 0);
	EXPECT_EQ(st.sz_applied, st.sz_tried);
	EXPECT_EQ(vma_has_flag(d.e.t, COLD, "nh"), 1);
	EXPECT_EQ(vma_has_flag(d.e.t, HOT, "nh"), 0);
	denv_close(&d);
}

/* Every update interval (1 s) vaddr re-derives its three regions from the VMAs: a range
 * mapped after the start is monitored once the update ran, and seen busy when touched.
 * It sits 1 MiB above HOT, so the two largest gaps still bound the first region:
 *   HOT [1 TiB, +1 MiB)  gap 1 MiB  FRESH [1 TiB + 2 MiB, +1 MiB)
 * (a new range far from everything would join a region across a huge gap, where random
 * samples almost never land in it: Linux's vaddr monitor has the same blind spot). */
TEST(damon_update_interval_follows_new_mappings)
{
	struct damon_env d = denv_open(42);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	long fresh = HOT + 2 * RANGE;
	static uint8_t buf[RANGE];
	EXPECT_EQ(do_mmap(d.e.t, fresh, RANGE, RW, ANON | MAP_FIXED), fresh);
	pm_damon_region r[1000];
	int n = regions(&d, r, 1000), seen = 0;
	for (int i = 0; i < n; i++)
		seen |= inside(&r[i], fresh);
	EXPECT_EQ(seen, 0);
	for (int k = 0; k < 1100; k++) {
		EXPECT_EQ(pm_access(d.e.t, fresh, buf, RANGE, PM_READ, NULL), RANGE);
		run_ticks(&d, 1);
	}
	n = regions(&d, r, 1000);
	uint32_t busiest = 0;
	for (int i = 0; i < n; i++)
		if (r[i].start < (uint64_t)fresh + RANGE && r[i].end > (uint64_t)fresh && r[i].nr_accesses > busiest)
			busiest = r[i].nr_accesses;
	if (busiest == 0)
		check_failed(__FILE__, __LINE__, "no region over the new range saw an access:\n%s",
			     proc_text(d.admin, d.pid, "damon_regions"));
	denv_close(&d);
}

/* A SIGKILLed process is not sampled while it waits for the reaper, and the reaper's
 * teardown frees its context. */
TEST(damon_stops_when_the_reaper_frees_a_killed_process)
{
	struct damon_env d = denv_open(42);
	EXPECT_EQ(pm_damon_start(d.admin, d.pid, NULL), 0);
	run_ticks(&d, 20);
	EXPECT_EQ(pm_syscall(d.admin, SYS_kill, d.pid, SIGKILL, 0, 0, 0, 0), 0);
	pm_system_tick(d.e.sys, 1);	/* the reaper runs first in a tick */
	pm_system_tick(d.e.sys, 200);
	pm_damon_region r[4];
	EXPECT_ERRNO(pm_damon_regions(d.admin, d.pid, r, 4), -ESRCH);
	denv_close(&d);
}
