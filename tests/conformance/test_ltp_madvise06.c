/*
 * LTP madvise06 (MADV_WILLNEED prefetches swapped-out shmem into the swap cache), ported as
 * a scenario without memcg (docs/conformance.md): the shared anonymous memory is pushed
 * to swap by MADV_PAGEOUT or by memory pressure instead of a memcg limit. Then WILLNEED
 * must put the advised pages in the swap cache (SwapCached grows, mincore reports them,
 * the index keeps its swap entries) and touching them must read nothing from swap: neither
 * pgmajfault (what LTP counts) nor pswpin may move.
 */
#include "conf.h"

static pm_config small(long ram, long swap)
{
	pm_config c;
	pm_config_default(&c);
	c.ram_bytes = (uint64_t)ram;
	c.swap_bytes = (uint64_t)swap;
	c.seed = 6;
	return c;
}

static long view(pm_thread *t, const char *name, const char *key)
{
	int sysview = !strcmp(name, "meminfo") || !strcmp(name, "vmstat");
	const char *s = strstr(proc_text(t, sysview ? -1 : 0, name), key);
	return s ? strtol(s + strlen(key), NULL, 10) : -1;
}

static long incore(pm_thread *t, long va, long pages)
{
	long vec = SC(t, SYS_mmap, 0, pages, RW, ANON, -1, 0);
	EXPECT_EQ(SC(t, SYS_mincore, va, pages * PG, vec, 0, 0, 0), 0);
	long n = 0;
	for (long i = 0; i < pages; i++)
		n += peek(t, (uint64_t)(vec + i)) & 1;
	EXPECT_EQ(SC(t, SYS_munmap, vec, pages, 0, 0, 0, 0), 0);
	return n;
}

/* Page i of the region carries i in its first and last bytes. */
static void dirty(pm_thread *t, long va, long pages, int salt)
{
	for (long i = 0; i < pages; i++) {
		poke(t, (uint64_t)(va + i * PG), (uint8_t)(i + salt));
		poke(t, (uint64_t)(va + i * PG + PG - 1), (uint8_t)(i * 3 + salt));
	}
}

static int intact(pm_thread *t, long va, long first, long n, int salt)
{
	for (long i = first; i < first + n; i++)
		if (peek(t, (uint64_t)(va + i * PG)) != (uint8_t)(i + salt) ||
		    peek(t, (uint64_t)(va + i * PG + PG - 1)) != (uint8_t)(i * 3 + salt))
			return 0;
	return 1;
}

/* madvise06, its first case: 4 MiB of dirty shmem swapped out; WILLNEED over the first
 * half brings exactly that half into the swap cache; touching it reads no slot. */
TEST(ltp_madvise06_willneed_prefetches_swapped_shmem_into_the_swap_cache)
{
	pm_config c = small(64 * MiB, 32 * MiB);
	struct env e = env_open_cfg(&c);
	pm_thread *t = e.t;
	const long pages = 4 * MiB / PG, half = pages / 2;
	REQUIRE_EQ(SC(t, SYS_mmap, W, pages * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0), W);
	dirty(t, W, pages, 1);
	EXPECT_EQ(SC(t, SYS_madvise, W, pages * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(incore(t, W, pages), 0);
	EXPECT_EQ(view(t, "smaps_rollup", "\nSwap:"), pages * 4);
	long cached0 = view(t, "meminfo", "SwapCached:"), in0 = view(t, "vmstat", "pswpin ");
	long maj0 = view(t, "vmstat", "pgmajfault ");
	EXPECT_EQ(SC(t, SYS_madvise, W, half * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(view(t, "meminfo", "SwapCached:"), cached0 + half * 4);
	EXPECT_EQ(view(t, "vmstat", "pswpin "), in0 + half);
	EXPECT_EQ(incore(t, W, half), half);
	EXPECT_EQ(incore(t, W + half * PG, pages - half), 0);
	EXPECT_EQ(view(t, "smaps_rollup", "\nSwap:"), pages * 4);	/* still swap entries */
	EXPECT_EQ(view(t, "status", "RssShmem:"), 0);			/* nothing mapped */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	/* A second WILLNEED reads nothing again. */
	EXPECT_EQ(SC(t, SYS_madvise, W, half * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(view(t, "vmstat", "pswpin "), in0 + half);
	/* The access: no swap read, no major fault, and the slots are freed. */
	EXPECT_TRUE(intact(t, W, 0, half, 1));
	EXPECT_EQ(view(t, "vmstat", "pswpin "), in0 + half);
	EXPECT_EQ(view(t, "vmstat", "pgmajfault "), maj0);
	EXPECT_EQ(view(t, "meminfo", "SwapCached:"), cached0);
	EXPECT_EQ(view(t, "smaps_rollup", "\nSwap:"), (pages - half) * 4);
	/* The other half still reads from swap when touched. */
	EXPECT_TRUE(intact(t, W, half, pages - half, 1));
	EXPECT_EQ(view(t, "vmstat", "pswpin "), in0 + pages);
	EXPECT_EQ(view(t, "vmstat", "pgmajfault "), maj0 + pages - half);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* The same with memory pressure doing the pushing (the memcg limit's role): 32 MiB of RAM,
 * 1 MiB of dirty shmem, then 40 MiB of anonymous memory. Once the pressure is gone,
 * WILLNEED over the shmem makes every page of it resident or swap-cached, and touching it
 * reads nothing from swap. */
TEST(ltp_madvise06_willneed_after_pressure_swapped_shmem_out)
{
	pm_config c = small(32 * MiB, 64 * MiB);
	struct env e = env_open_cfg(&c);
	pm_thread *t = e.t;
	const long pages = 1 * MiB / PG, big = 40 * MiB / PG;
	REQUIRE_EQ(SC(t, SYS_mmap, W, pages * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0), W);
	dirty(t, W, pages, 5);
	long a = SC(t, SYS_mmap, 0, big * PG, RW, ANON, -1, 0);
	REQUIRE_EQ(a > 0, 1);
	for (long i = 0; i < big; i++)
		poke(t, (uint64_t)(a + i * PG), 1);
	EXPECT_EQ(SC(t, SYS_munmap, a, big * PG, 0, 0, 0, 0), 0);
	long swapped = view(t, "smaps_rollup", "\nSwap:") / 4;
	EXPECT_TRUE(swapped > pages / 2);	/* the oldest (shmem) pages went first */
	EXPECT_EQ(incore(t, W, pages), pages - swapped);
	long in0 = view(t, "vmstat", "pswpin ");
	EXPECT_EQ(SC(t, SYS_madvise, W, pages * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(view(t, "vmstat", "pswpin "), in0 + swapped);
	EXPECT_EQ(incore(t, W, pages), pages);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	long maj0 = view(t, "vmstat", "pgmajfault ");
	EXPECT_TRUE(intact(t, W, 0, pages, 5));
	EXPECT_EQ(view(t, "vmstat", "pswpin "), in0 + swapped);
	EXPECT_EQ(view(t, "vmstat", "pgmajfault "), maj0);
	EXPECT_EQ(view(t, "smaps_rollup", "\nSwap:"), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}
