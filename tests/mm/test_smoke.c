/*
 * The first end-to-end path: a process is spawned with the standard layout, maps memory,
 * touches it, and unmaps it.
 */
#include "pm_test.h"

/* A spawned process has [stack], [vvar], [vvar_vclock], [vdso] and [vsyscall] (SPEC §2). */
TEST(spawned_process_has_the_standard_layout)
{
	struct env e = env_open();
	const char *m = proc_text(e.t, 0, "maps");
	EXPECT_TRUE(strstr(m, "[stack]") != NULL);
	EXPECT_TRUE(strstr(m, "[vvar]") != NULL);
	EXPECT_TRUE(strstr(m, "[vvar_vclock]") != NULL);
	EXPECT_TRUE(strstr(m, "[vdso]") != NULL);
	EXPECT_TRUE(strstr(m, "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]") != NULL);
	if (test_failures)
		fprintf(stderr, "%s", m);
	env_close(&e);
}

/* Anonymous memory is demand-paged and zero-filled; writes read back (SPEC §1, §3). */
TEST(anonymous_memory_reads_zero_and_keeps_writes)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 4 * PG, RW, ANON);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(peek(e.t, a + 100), 0);
	EXPECT_EQ(poke(e.t, a + 100, 0x5a), 1);
	EXPECT_EQ(peek(e.t, a + 100), 0x5a);
	EXPECT_EQ(SC(e.t, SYS_munmap, a, 4 * PG, 0, 0, 0, 0), 0);
	env_close(&e);
}
