/*
 * The OOM killer and oom_score (SPEC §8): the score follows Linux's formula exactly (RSS +
 * page tables + oom_score_adj in thousandths of RAM, 3% off for SYSTEM, scaled to 0..2000);
 * a fault that finds no frame kills the process with the highest badness, reaps it at once
 * and succeeds; -1000 is immune; the kill is audited; PanicOnOom halts the machine.
 */
#include "pm_test.h"

#define W 0x200000000000L

static pm_thread *spawn(pm_system *sys, const char *spec)
{
	int err;
	pm_token *tok = pm_token_parse(sys, spec, &err);
	pm_thread *t = tok ? pm_spawn(sys, tok, NULL) : NULL;
	pm_token_put(tok);
	if (!t) {
		check_failed(__FILE__, __LINE__, "cannot spawn a process as '%s'", spec);
		exit(1);
	}
	return t;
}

/* Maps and touches n pages at W; returns how many writes succeeded. */
static long touch(pm_thread *t, long pages)
{
	if (do_mmap(t, W, pages * PG, RW, ANON | MAP_FIXED) != W)
		return -1;
	long n = 0;
	for (long i = 0; i < pages; i++)
		n += poke(t, (uint64_t)(W + i * PG), 1) == 1;
	return n;
}

static long status_kb(pm_thread *reader, int pid, const char *field)
{
	const char *s = strstr(proc_text(reader, pid, "status"), field);
	return s ? strtol(s + strlen(field) + 1, NULL, 10) : -1;
}

static long score_of(pm_thread *reader, int pid)
{
	return strtol(proc_text(reader, pid, "oom_score"), NULL, 10);
}

static long expected_score(pm_thread *t, long total, int adj, int tcb)
{
	long points = status_kb(t, 0, "VmRSS") / 4 + status_kb(t, 0, "VmPTE") / 4;
	if (tcb)
		points -= points * 3 / 100;
	points += (long)adj * (total / 1000);
	long s = (1000 + points * 1000 / total) * 2 / 3;
	return s > 0 ? s : 0;
}

static int audit_has(pm_thread *admin, const char *needle)
{
	return strstr(proc_text(admin, -1, "peios/audit"), needle) != NULL;
}

TEST(oom_score_follows_linux_formula_with_adj_and_the_tcb_discount)
{
	struct env e = env_open();
	pm_sysinfo info;
	pm_system_info(e.sys, &info);
	long total = (long)info.total_frames;
	pm_thread *sys_t = spawn(e.sys, "system");
	REQUIRE_EQ(touch(e.t, 2048), 2048);
	REQUIRE_EQ(touch(sys_t, 2048), 2048);
	EXPECT_EQ(score_of(e.t, 0), expected_score(e.t, total, 0, 0));
	EXPECT_EQ(score_of(sys_t, 0), expected_score(sys_t, total, 0, 1));
	EXPECT_TRUE(score_of(sys_t, 0) < score_of(e.t, 0));
	EXPECT_EQ(pm_proc_write(e.t, 0, "oom_score_adj", "500", 3), 3);
	EXPECT_EQ(score_of(e.t, 0), expected_score(e.t, total, 500, 0));
	EXPECT_EQ(pm_proc_write(sys_t, pm_pid(e.t), "oom_score_adj", "-1000", 5), 5);
	EXPECT_STREQ(proc_text(e.t, 0, "oom_score"), "0\n");
	env_close(&e);
}

/* A fault with no frame left kills the biggest process, reaps it, and goes on. */
TEST(a_fault_without_a_frame_kills_the_biggest_process_and_succeeds)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 3;
	struct env e = env_open_cfg(&cfg);
	pm_thread *admin = spawn(e.sys, "system");
	pm_thread *hog = spawn(e.sys, USER_TOKEN);
	int hog_pid = pm_pid(hog);
	long got = touch(hog, 2560);	/* 10 MiB of 16 */
	REQUIRE_EQ(got, 2560);
	long mine = touch(e.t, 1536);	/* 6 MiB more: cannot all fit without the hog's */
	EXPECT_EQ(mine, 1536);
	EXPECT_TRUE(pm_thread_of(e.sys, hog_pid) == NULL);
	EXPECT_ERRNO(SC(hog, SYS_getpid, 0, 0, 0, 0, 0, 0), -ESRCH);
	char needle[64];
	snprintf(needle, sizeof(needle), "oom-kill pid=%d ", hog_pid);
	EXPECT_TRUE(audit_has(admin, needle));
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* oom_score_adj -1000 protects the bigger process: the killer takes the next one, here the
 * faulting process itself, whose access then fails with SIGKILL. */
TEST(an_immune_process_is_never_chosen)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 3;
	struct env e = env_open_cfg(&cfg);
	pm_thread *admin = spawn(e.sys, "system");
	pm_thread *hog = spawn(e.sys, USER_TOKEN);
	int hog_pid = pm_pid(hog), my_pid = pm_pid(e.t);
	EXPECT_EQ(pm_proc_write(admin, hog_pid, "oom_score_adj", "-1000", 5), 5);
	REQUIRE_EQ(touch(hog, 2560), 2560);
	REQUIRE_EQ(do_mmap(e.t, W, 2048 * PG, RW, ANON | MAP_FIXED), W);
	long r = 0;
	pm_siginfo si = { 0 };
	for (long i = 0; i < 2048 && r >= 0; i++) {
		uint8_t v = 1;
		r = pm_access(e.t, (uint64_t)(W + i * PG), &v, 1, PM_WRITE, &si);
	}
	EXPECT_ERRNO(r, -EFAULT);
	EXPECT_EQ(si.signo, SIGKILL);
	EXPECT_ERRNO(SC(e.t, SYS_getpid, 0, 0, 0, 0, 0, 0), -ESRCH);
	char needle[64];
	snprintf(needle, sizeof(needle), "oom-kill pid=%d ", my_pid);
	EXPECT_TRUE(audit_has(admin, needle));
	pm_system_tick(e.sys, 1);	/* the reaper frees the faulting process */
	EXPECT_TRUE(pm_thread_of(e.sys, my_pid) == NULL);
	EXPECT_TRUE(pm_thread_of(e.sys, hog_pid) != NULL);
	env_close(&e);
}

TEST(panic_on_oom_halts_the_machine)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 3;
	struct env e = env_open_cfg(&cfg);
	pm_thread *admin = spawn(e.sys, "system");
	EXPECT_EQ(pm_registry_set(admin, "Machine\\System\\Memory\\PanicOnOom", 1), 0);
	pm_thread *hog = spawn(e.sys, USER_TOKEN);
	REQUIRE_EQ(touch(hog, 2560), 2560);
	long mine = touch(e.t, 2048);
	EXPECT_TRUE(mine < 2048);
	EXPECT_ERRNO(SC(admin, SYS_getpid, 0, 0, 0, 0, 0, 0), -EIO);
	uint8_t v;
	EXPECT_ERRNO(pm_access(hog, W, &v, 1, PM_READ, NULL), -EIO);
	pm_token_put(e.tok);
	pm_system_destroy(e.sys);	/* a halted machine still frees everything */
}

TEST(vmstat_counts_oom_kills)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 3;
	struct env e = env_open_cfg(&cfg);
	pm_thread *hog = spawn(e.sys, USER_TOKEN);
	EXPECT_TRUE(strstr(proc_text(e.t, -1, "vmstat"), "\noom_kill 0\n") != NULL);
	REQUIRE_EQ(touch(hog, 2560), 2560);
	EXPECT_EQ(touch(e.t, 1536), 1536);
	EXPECT_TRUE(strstr(proc_text(e.t, -1, "vmstat"), "\noom_kill 1\n") != NULL);
	env_close(&e);
}
