/*
 * MAP_DROPPABLE (Linux 6.11+, map type 0x08), as probed on Linux 6.18: private anonymous
 * memory that reclaim discards, dirty or not, instead of swapping (it refaults as zeroes);
 * never mlocked, wiped on fork, left out of core dumps and of Committed_AS; smaps shows
 * "nr wf dd dp". Each test observes one effect.
 */
#include "pm_test.h"

#include "file_env.h"

#define DROPPABLE	0x08L
#define W		0x200000000000L

static long droppable(pm_thread *t, long addr, long len, long more)
{
	return do_mmap(t, addr, len, RW, DROPPABLE | MAP_ANONYMOUS | more);
}

/* The VmFlags line of the smaps entry starting at addr ("" if none). */
static const char *vmflags_at(pm_thread *t, long addr)
{
	static char out[128];
	char key[32];
	snprintf(key, sizeof(key), "%lx-", (unsigned long)addr);
	const char *s = proc_text(t, 0, "smaps"), *p = strstr(s, key);
	const char *f = p ? strstr(p, "VmFlags: ") : NULL;
	out[0] = '\0';
	if (f) {
		size_t n = strcspn(f, "\n");
		snprintf(out, sizeof(out), "%.*s", (int)n, f);
	}
	return out;
}

static long meminfo_kb(pm_thread *t, const char *field)
{
	const char *s = strstr(proc_text(t, -1, "meminfo"), field);
	return s ? strtol(s + strlen(field), NULL, 10) : -1;
}

static void fill(pm_thread *t, long va, long pages, int b)
{
	for (long i = 0; i < pages; i++)
		poke(t, (uint64_t)(va + i * PG), (uint8_t)b);
}

/* do_mmap's checks: anonymous only (EBADF without a descriptor, EINVAL with a file), never
 * with MAP_HUGETLB, MAP_GROWSDOWN or MAP_LOCKED; other unknown map types stay EINVAL. */
TEST(droppable_flags_are_checked_like_linux)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long a = droppable(t, 0, PG, 0);
	EXPECT_TRUE(a > 0);
	EXPECT_STREQ(vmflags_at(t, a), "VmFlags: rd wr mr mw me nr wf dd dp ");
	EXPECT_EQ(droppable(t, W, PG, MAP_FIXED), W);
	EXPECT_EQ(droppable(t, W + PG, PG, MAP_FIXED), W + PG);
	EXPECT_EQ(strncmp(maps_line_at(t, W), "200000000000-200000002000 rw-p", 30), 0);	/* merged */
	EXPECT_ERRNO(do_mmap(t, 0, PG, RW, DROPPABLE), -EBADF);
	long fd = SC(t, SYS_memfd_create, str(t, "m"), 0, 0, 0, 0, 0);
	SC(t, SYS_ftruncate, fd, 2 * PG, 0, 0, 0, 0);
	EXPECT_ERRNO(SC(t, SYS_mmap, 0, PG, RW, DROPPABLE, fd, 0), -EINVAL);
	EXPECT_ERRNO(droppable(t, 0, PG, MAP_HUGETLB), -EINVAL);
	EXPECT_ERRNO(droppable(t, 0, PG, MAP_GROWSDOWN), -EINVAL);
	EXPECT_ERRNO(droppable(t, 0, PG, MAP_LOCKED), -EINVAL);
	EXPECT_TRUE(droppable(t, 0, PG, MAP_NORESERVE) > 0);
	EXPECT_TRUE(droppable(t, 0, PG, MAP_POPULATE) > 0);
	static const long bad[] = { 0x04, 0x09, 0x0a, 0x0f };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_ERRNO(do_mmap(t, 0, PG, RW, bad[i] | MAP_ANONYMOUS), -EINVAL);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* No reservation: Committed_AS does not move for droppable memory however much of it is
 * touched, while touching as much private memory is charged (Linux 6.18 charges a
 * private mapping at mmap: +65536 kB for 64 MiB, droppable +0 kB; peimm's default
 * charges at first touch, SPEC §8, so the test touches both). */
TEST(droppable_memory_is_not_committed)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long c0 = meminfo_kb(t, "Committed_AS:");
	long a = droppable(t, W, 4 * MiB, MAP_FIXED);
	REQUIRE_EQ(a, W);
	fill(t, a, 16, 1);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS:"), c0);
	EXPECT_EQ(do_mmap(t, W + 8 * MiB, 4 * MiB, RW, ANON | MAP_FIXED), W + 8 * MiB);
	fill(t, W + 8 * MiB, 16, 1);
	EXPECT_EQ(meminfo_kb(t, "Committed_AS:"), c0 + 64);
	env_close(&e);
}

/* mlock, mlock2, mlockall(MCL_CURRENT) and MCL_FUTURE all succeed and leave droppable
 * memory unlocked ("lo" never shows, Locked stays 0), while a plain mapping beside it is
 * locked; MADV_KEEPONFORK and MADV_DODUMP are EINVAL there, WIPEONFORK and DONTDUMP fine. */
TEST(droppable_memory_is_never_locked)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long a = droppable(t, W, 4 * PG, MAP_FIXED);
	long p = do_mmap(t, W + 8 * PG, PG, RW, ANON | MAP_FIXED);
	fill(t, a, 4, 1);
	EXPECT_EQ(SC(t, SYS_mlock, a, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mlock2, a, 4 * PG, 1 /* MLOCK_ONFAULT */, 0, 0, 0), 0);
	EXPECT_STREQ(vmflags_at(t, a), "VmFlags: rd wr mr mw me nr wf dd dp ");
	EXPECT_EQ(SC(t, SYS_mlockall, MCL_CURRENT, 0, 0, 0, 0, 0), 0);
	EXPECT_STREQ(vmflags_at(t, a), "VmFlags: rd wr mr mw me nr wf dd dp ");
	EXPECT_TRUE(strstr(vmflags_at(t, p), " lo ") != NULL);
	EXPECT_EQ(SC(t, SYS_munlockall, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mlockall, MCL_FUTURE, 0, 0, 0, 0, 0), 0);
	long b = droppable(t, W + 16 * PG, 2 * PG, MAP_FIXED);
	long q = do_mmap(t, W + 32 * PG, PG, RW, ANON | MAP_FIXED);
	EXPECT_STREQ(vmflags_at(t, b), "VmFlags: rd wr mr mw me nr wf dd dp ");
	EXPECT_TRUE(strstr(vmflags_at(t, q), " lo ") != NULL);
	EXPECT_TRUE(strstr(proc_text(t, 0, "status"), "VmLck:\t       4 kB") != NULL);	/* q only */
	long vec = buf(t, 2);	/* b is populated all the same, as on Linux 6.18 */
	EXPECT_EQ(SC(t, SYS_mincore, b, 2 * PG, vec, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, (uint64_t)vec) & 1, 1);
	EXPECT_EQ(peek(t, (uint64_t)vec + 1) & 1, 1);
	EXPECT_EQ(SC(t, SYS_munlockall, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_madvise, a, PG, MADV_KEEPONFORK, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_madvise, a, PG, MADV_WIPEONFORK, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_madvise, a, PG, MADV_DODUMP, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_madvise, a, PG, MADV_DONTDUMP, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* VM_WIPEONFORK: the child sees zeroes where the parent keeps its bytes. */
TEST(droppable_memory_is_wiped_on_fork)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long a = droppable(t, W, 2 * PG, MAP_FIXED);
	fill(t, a, 2, 0x5a);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(peek(c, (uint64_t)a), 0);
	EXPECT_EQ(peek(c, (uint64_t)a + PG), 0);
	EXPECT_EQ(peek(t, (uint64_t)a), 0x5a);
	EXPECT_STREQ(vmflags_at(c, a), "VmFlags: rd wr mr mw me nr wf dd dp ");
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Reclaim discards droppable pages even though they were written (shrink_folio_list treats
 * them as lazy-free and does not re-dirty them), where written private memory stays;
 * MADV_PAGEOUT drops them too with no swap configured. Each refaults as zeroes. */
TEST(reclaim_discards_dirty_droppable_pages)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long a = droppable(t, W, 4 * PG, MAP_FIXED);
	long p = do_mmap(t, W + 8 * PG, 4 * PG, RW, ANON | MAP_FIXED);
	fill(t, a, 4, 7);
	fill(t, p, 4, 7);
	EXPECT_TRUE(strstr(proc_text(t, 0, "status"), "RssAnon:\t      32 kB") != NULL);
	EXPECT_EQ(pm_debug_reclaim(e.sys), 4);
	EXPECT_EQ(peek(t, (uint64_t)a + 3 * PG), 0);
	EXPECT_EQ(peek(t, (uint64_t)p + 3 * PG), 7);
	fill(t, a, 2, 9);
	EXPECT_EQ(SC(t, SYS_madvise, a, 2 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, (uint64_t)a), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Real pressure with no swap: 6 MiB of written droppable memory in one process, then
 * another touches more private memory than RAM has left. Reclaim discards the droppable
 * pages instead of killing anyone, and they read back as zeroes. */
TEST(pressure_without_swap_drops_droppable_memory_first)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 7;
	struct env e = env_open_cfg(&cfg);
	pm_thread *d = pm_spawn(e.sys, e.tok, NULL);
	REQUIRE_EQ(droppable(d, W, 6 * MiB, MAP_FIXED), W);
	fill(d, W, 6 * MiB / PG, 3);
	long n = 12 * MiB / PG;
	REQUIRE_EQ(do_mmap(e.t, W, n * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, n, 4);
	EXPECT_EQ(peek(e.t, (uint64_t)(W + (n - 1) * PG)), 4);
	EXPECT_EQ(SC(d, SYS_getpid, 0, 0, 0, 0, 0, 0) > 0, 1);	/* nobody was killed */
	long zero = 0;
	for (long i = 0; i < 6 * MiB / PG; i += 64)
		zero += peek(d, (uint64_t)(W + i * PG)) == 0;
	EXPECT_TRUE(zero > 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* mlock2(MLOCK_ONFAULT) and mlockall(MCL_CURRENT | MCL_ONFAULT) leave droppable memory
 * without VM_LOCKONFAULT, so the populate that follows fills it (Linux 6.18; found by the
 * differential test), while a plain mapping locked on fault stays empty. */
TEST(lock_on_fault_still_populates_droppable_memory)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long a = droppable(t, W, 2 * PG, MAP_FIXED);
	long p = do_mmap(t, W + 2 * PG, 2 * PG, RW, ANON | MAP_FIXED);
	long b = droppable(t, W + 4 * PG, 2 * PG, MAP_FIXED);
	REQUIRE_EQ(a == W && p == W + 2 * PG && b == W + 4 * PG, 1);
	long vec = buf(t, 16);
	EXPECT_EQ(SC(t, SYS_mlock2, a, 4 * PG, 1 /* MLOCK_ONFAULT */, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mincore, a, 6 * PG, vec, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, (uint64_t)vec + 1) & 1, 1);	/* droppable a: filled */
	EXPECT_EQ(peek(t, (uint64_t)vec + 2) & 1, 0);	/* p: locked on fault, empty */
	EXPECT_EQ(peek(t, (uint64_t)vec + 4) & 1, 0);	/* b: outside the range */
	EXPECT_EQ(SC(t, SYS_mlockall, MCL_CURRENT | 4 /* MCL_ONFAULT */, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mincore, a, 6 * PG, vec, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, (uint64_t)vec + 5) & 1, 1);
	EXPECT_EQ(peek(t, (uint64_t)vec + 3) & 1, 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}
