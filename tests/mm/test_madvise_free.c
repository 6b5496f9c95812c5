/*
 * MADV_FREE (SPEC §6): lazily freed pages keep their data until reclaim drops them; a
 * store before reclaim cancels the free; reclaim never drops a page another process still
 * maps. Memory pressure is simulated by pm_debug_reclaim and by a small RAM.
 */
#include "pm_test.h"

#define W 0x200000000000L

static void fill(pm_thread *t, long va, int pages, uint8_t v)
{
	static uint8_t page[PG];
	memset(page, v, sizeof(page));
	for (int i = 0; i < pages; i++)
		EXPECT_EQ(pm_access(t, va + i * PG, page, PG, PM_WRITE, NULL), PG);
}

/* Untouched lazy-free pages are discarded by reclaim: the next read refaults zeroes. */
TEST(free_then_reclaim_refaults_zero)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 4, 0xaa);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 2 * PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(peek(e.t, W), 0xaa);			/* not gone before pressure */
	EXPECT_EQ(pm_debug_reclaim(e.sys), 2);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "RssAnon:\t       8 kB") != NULL);
	EXPECT_EQ(peek(e.t, W), 0);
	EXPECT_EQ(peek(e.t, W + PG + 5), 0);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 0xaa);
	EXPECT_EQ(peek(e.t, W + 3 * PG), 0xaa);
	env_close(&e);
}

/* A write between MADV_FREE and reclaim cancels the free: the whole page stays. */
TEST(write_after_free_cancels_it)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 2, 0xaa);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 2 * PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(poke(e.t, W + 1, 0xbb), 1);
	EXPECT_EQ(pm_debug_reclaim(e.sys), 1);		/* only the second page */
	EXPECT_EQ(peek(e.t, W), 0xaa);
	EXPECT_EQ(peek(e.t, W + 1), 0xbb);
	EXPECT_EQ(peek(e.t, W + PG), 0);
	EXPECT_EQ(pm_debug_reclaim(e.sys), 0);		/* the cancelled page is ordinary again */
	EXPECT_EQ(peek(e.t, W), 0xaa);
	env_close(&e);
}

/* MADV_FREE is for private anonymous memory only (verified on Linux 6.18): shared,
 * file-backed and locked mappings are EINVAL; PROT_NONE anonymous memory is accepted. */
TEST(free_refuses_shared_file_and_locked_mappings)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, MADV_FREE, 0, 0, 0), -EINVAL);
	EXPECT_EQ(do_mmap(e.t, W + 2 * PG, PG, RW, ANON | MAP_FIXED | MAP_LOCKED), W + 2 * PG);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W + 2 * PG, PG, MADV_FREE, 0, 0, 0), -EINVAL);
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, PG, PROT_NONE, ANON | MAP_FIXED), W + 4 * PG);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 4 * PG, PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W + 4 * PG, 2 * PG, MADV_FREE, 0, 0, 0), -ENOMEM);
	env_close(&e);
}

/* A page a fork child still maps is not freed (madvise_free_pte_range skips it). */
TEST(free_of_page_shared_with_child_keeps_data)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 1, 0x5c);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(SC(e.t, SYS_madvise, W, PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(pm_debug_reclaim(e.sys), 0);
	EXPECT_EQ(peek(e.t, W), 0x5c);
	EXPECT_EQ(peek(c, W), 0x5c);
	env_close(&e);
}

/* Under real pressure (a fault that finds no free frame) the clean lazy-free pages are
 * reclaimed so the fault succeeds. 16 MiB of RAM: 2500 freed pages, then 2500 new ones. */
TEST(fault_without_free_frames_reclaims_lazy_free_pages)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 16 * MiB;
	cfg.seed = 42;
	struct env e = env_open_cfg(&cfg);
	const int n = 2500;
	EXPECT_EQ(do_mmap(e.t, W, n * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(do_mmap(e.t, W + 4096 * PG, n * PG, RW, ANON | MAP_FIXED), W + 4096 * PG);
	fill(e.t, W, n, 0x11);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, n * PG, MADV_FREE, 0, 0, 0), 0);
	fill(e.t, W + 4096 * PG, n, 0x22);
	EXPECT_EQ(peek(e.t, W + 4096 * PG + (n - 1) * PG), 0x22);
	EXPECT_EQ(peek(e.t, W), 0);	/* reclaimed: a fresh zero page */
	env_close(&e);
}
