/*
 * The page cache's dirty state is per page, as Linux's folio dirty flag (SPEC §3 file
 * mappings): a store through any shared mapping dirties the page itself, so background
 * writeback and an msync(MS_SYNC) in any process write it; writeback write-protects every
 * mapping (page_mkclean), so a later store dirties the page again; and only MS_SYNC starts
 * I/O from msync.
 */
#include "file_env.h"

#define W 0x200000000000L

static long map_hello(pm_thread *t)
{
	long fd = op(t, "hello.txt", O_RDWR);
	return SC(t, SYS_mmap, W, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0);
}

/* A store through a mapping reaches the host from background writeback after
 * DirtyExpireCentisecs (3000), also when a read mapped the page first; after that
 * writeback the next store dirties the page again and is written 30 s later in turn. */
TEST(stores_through_a_shared_mapping_reach_the_host_by_background_writeback)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	REQUIRE_EQ(map_hello(t), W);
	EXPECT_EQ(peek(t, W), 'h');
	EXPECT_EQ(poke(t, W, 'J'), 1);
	pm_system_tick(f.e.sys, 29999);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "hello, world\n");
	pm_system_tick(f.e.sys, 1);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, world\n");
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	EXPECT_EQ(poke(t, W + 7, 'W'), 1);
	pm_system_tick(f.e.sys, 29999);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, world\n");
	pm_system_tick(f.e.sys, 1);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, World\n");
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* msync(MS_SYNC) in a fork child writes the page its parent dirtied, although the child
 * has no PTE for it (fork copies none of a shared file VMA); a second store by the parent
 * after that writeback is written by the next msync of either. */
TEST(msync_writes_back_what_another_process_dirtied)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	REQUIRE_EQ(map_hello(t), W);
	EXPECT_EQ(poke(t, W, 'J'), 1);
	pm_thread *c = pm_thread_of(f.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(SC(c, SYS_msync, W, PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, world\n");
	EXPECT_EQ(poke(t, W + 7, 'W'), 1);
	EXPECT_EQ(SC(c, SYS_msync, W, PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, World\n");
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* MS_ASYNC, MS_INVALIDATE and no flags start no I/O (Linux 6.x); the page stays dirty
 * and background writeback writes it. */
TEST(msync_without_ms_sync_leaves_the_write_to_background_writeback)
{
	static const long flags[] = { MS_ASYNC, MS_INVALIDATE, 0 };
	for (int i = 0; i < 3; i++) {
		struct fenv f = fenv_open();
		pm_thread *t = f.e.t;
		REQUIRE_EQ(map_hello(t), W);
		EXPECT_EQ(poke(t, W, 'J'), 1);
		EXPECT_EQ(SC(t, SYS_msync, W, PG, flags[i], 0, 0, 0), 0);
		EXPECT_STREQ(host_text(&f, "hello.txt"), "hello, world\n");
		pm_system_tick(f.e.sys, 30000);
		EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, world\n");
		fenv_close(&f);
	}
}

/* munmap makes the stores reach the host file (SPEC §3) but, as on Linux, cleans nothing:
 * a new mapping still reads a store past EOF in the page's tail, and the writeback that
 * follows (msync MS_SYNC here) zeroes it. hello.txt is 13 bytes. */
TEST(munmap_copies_stores_to_the_host_but_leaves_the_page_dirty)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	REQUIRE_EQ(map_hello(t), W);
	EXPECT_EQ(poke(t, W, 'J'), 1);
	EXPECT_EQ(poke(t, W + 100, 'X'), 1);
	EXPECT_EQ(SC(t, SYS_munmap, W, PG, 0, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, world\n");
	REQUIRE_EQ(map_hello(t), W);
	EXPECT_EQ(peek(t, W + 100), 'X');
	EXPECT_EQ(SC(t, SYS_msync, W, PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + 100), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, world\n");
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}
