/*
 * The system shell: configuration, tokens, processes and their end, the registry and its
 * gates, the scratch area, /proc dispatch and the syscall table's edges.
 */
#include "pm_test.h"

/* Bad configurations are refused rather than half-built. */
TEST(system_create_rejects_bad_configs)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.paging_levels = 3;
	EXPECT_TRUE(pm_system_create(&cfg) == NULL);
	pm_config_default(&cfg);
	cfg.ram_bytes = 12345;
	EXPECT_TRUE(pm_system_create(&cfg) == NULL);
	pm_system *sys = pm_system_create(NULL);
	EXPECT_TRUE(sys != NULL);
	pm_system_destroy(sys);
}

/* The token spec: only user= is required; malformed words are EINVAL (DESIGN.md). */
TEST(token_spec_parses_and_rejects)
{
	pm_system *sys = pm_system_create(NULL);
	int err = 0;
	pm_token *t = pm_token_parse(sys, "il=high privs=SeDebugPrivilege:enabled,SeTcbPrivilege "
				     "groups=S-1-1-0,S-1-5-32-544 user=S-1-5-21-7-1001", &err);
	EXPECT_TRUE(t != NULL);
	EXPECT_EQ(err, 0);
	pm_token_put(t);
	const char *bad[] = { "", "il=medium", "user=S-1-", "user=S-1-5-", "user=X-1-5-18", "user=S-1-5-18 bogus",
		"user=S-1-5-18 privs=SeNothingPrivilege", "user=S-1-5-18 il=extreme",
		"user=S-1-5-18 privs=SeDebugPrivilege:on", "user=S-1-5-18-4294967296" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		pm_token *b = pm_token_parse(sys, bad[i], &err);
		if (b || err != -EINVAL)
			check_failed(__FILE__, __LINE__, "pm_token_parse(\"%s\") = %p, err %d, want NULL, -EINVAL",
				     bad[i], (void *)b, err);
		pm_token_put(b);
	}
	pm_token *s = pm_token_parse(sys, "system", &err);
	EXPECT_TRUE(s != NULL);
	pm_token_put(s);
	pm_system_destroy(sys);
}

/* exit_group ends the process: its memory is freed, its thread handle answers ESRCH, and
 * pm_thread_of no longer finds it (DESIGN.md). */
TEST(exit_group_frees_everything_and_handles_answer_esrch)
{
	struct env e = env_open();
	pm_sysinfo before, after;
	pm_system_info(e.sys, &before);
	pm_thread *t2 = pm_spawn(e.sys, e.tok, NULL);
	int pid2 = pm_pid(t2);
	long a = do_mmap(t2, 0, 16 * PG, RW, ANON | MAP_POPULATE);
	EXPECT_TRUE(a > 0);
	EXPECT_TRUE(pm_thread_of(e.sys, pid2) == t2);
	EXPECT_EQ(SC(t2, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t2, SYS_getpid, 0, 0, 0, 0, 0, 0), -ESRCH);
	EXPECT_ERRNO(pm_access(t2, a, &before, 1, PM_READ, NULL), -ESRCH);
	EXPECT_TRUE(pm_thread_of(e.sys, pid2) == NULL);
	pm_system_info(e.sys, &after);
	EXPECT_EQ(after.free_frames, before.free_frames);
	env_close(&e);
}

/* Registry values have defaults, ranges and a key SD: users are refused with EACCES,
 * KsmRun is SYSTEM-only, and lowering MmapMinAddr needs SeTcbPrivilege (SPEC §11). */
TEST(registry_values_are_gated_and_applied)
{
	struct env e = env_open();
	int err;
	EXPECT_EQ(pm_registry_get(e.sys, "Machine\\System\\Memory\\MmapMinAddr"), 65536);
	EXPECT_EQ(pm_registry_get(e.sys, "machine/system/memory/maxmapcount"), 65530);
	EXPECT_EQ(pm_registry_get(e.sys, "Swappiness"), 60);
	EXPECT_ERRNO(pm_registry_get(e.sys, "NoSuchValue"), -ENOENT);
	EXPECT_ERRNO(pm_registry_set(e.t, "Swappiness", 10), -EACCES);
	pm_token *adm = pm_token_parse(e.sys, "user=S-1-5-21-1-500 groups=S-1-5-32-544", &err);
	pm_thread *ta = pm_spawn(e.sys, adm, NULL);
	EXPECT_EQ(pm_registry_set(ta, "Swappiness", 10), 0);
	EXPECT_EQ(pm_registry_get(e.sys, "Swappiness"), 10);
	EXPECT_ERRNO(pm_registry_set(ta, "Swappiness", 201), -EINVAL);
	EXPECT_ERRNO(pm_registry_set(ta, "KsmRun", 1), -EACCES);
	EXPECT_ERRNO(pm_registry_set(ta, "MmapMinAddr", 4096), -EPERM);
	EXPECT_EQ(pm_registry_set(ta, "MmapMinAddr", 1 << 20), 0);	/* raising needs no privilege */
	/* The applier pushed it live: MAP_FIXED below 1 MiB is now refused. */
	EXPECT_ERRNO(do_mmap(e.t, 0x80000, PG, RW, ANON | MAP_FIXED), -EPERM);
	pm_token_put(adm);
	env_close(&e);
}

/* pm_scratch puts bytes in the process and returns their address. */
TEST(scratch_copies_data_into_the_process)
{
	struct env e = env_open();
	uint64_t a = pm_scratch(e.t, "hello", 6);
	char buf[6] = { 0 };
	EXPECT_EQ(pm_access(e.t, a, buf, 6, PM_READ, NULL), 6);
	EXPECT_STREQ(buf, "hello");
	uint64_t b = pm_scratch(e.t, "again", 6);
	EXPECT_TRUE(b != a);
	env_close(&e);
}

/* Unknown syscalls are ENOSYS; unknown /proc views are ENOENT; offsets page through. */
TEST(unknown_calls_and_views_fail_cleanly)
{
	struct env e = env_open();
	EXPECT_ERRNO(SC(e.t, 99999, 0, 0, 0, 0, 0, 0), -ENOSYS);
	EXPECT_ERRNO(SC(e.t, -1, 0, 0, 0, 0, 0, 0), -ENOSYS);
	char buf[64];
	EXPECT_ERRNO(pm_proc_read(e.t, 0, "nonsense", buf, sizeof(buf), 0), -ENOENT);
	EXPECT_ERRNO(pm_proc_read(e.t, 4242, "maps", buf, sizeof(buf), 0), -ENOENT);
	const char *all = proc_text(e.t, 0, "maps");
	size_t len = strlen(all);
	EXPECT_EQ(pm_proc_read(e.t, 0, "maps", buf, 10, 5), 10);
	EXPECT_TRUE(memcmp(buf, all + 5, 10) == 0);
	EXPECT_EQ(pm_proc_read(e.t, 0, "maps", buf, sizeof(buf), len), 0);
	env_close(&e);
}
