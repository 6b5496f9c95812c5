/*
 * Lazily freed anonymous pages live on the inactive file list, as in Linux (lru_lazyfree,
 * folio_add_new_anon_rmap for MAP_DROPPABLE): MADV_FREE moves a page there, a droppable
 * page starts there, reclaim discards them while it scans file pages (so with no swap as
 * well), and a free cancelled by a write goes back to the active anon list with its data.
 * Each test observes meminfo, vmstat and the page contents; none looks inside peimm.
 */
#include "pm_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define W		0x200000000000L
#define F		0x300000000000L
#define DROPPABLE	0x08L

static char root[64];

/* ram bytes, no swap, a host root for file pages. */
static struct env env_noswap(long ram)
{
	pm_config c;
	pm_config_default(&c);
	c.ram_bytes = (uint64_t)ram;
	c.swap_bytes = 0;
	c.seed = 5;
	snprintf(root, sizeof(root), "/tmp/peimm-lazylruXXXXXX");
	if (!mkdtemp(root))
		check_failed(__FILE__, __LINE__, "mkdtemp");
	c.root = root;
	return env_open_cfg(&c);
}

static void root_clean(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		check_failed(__FILE__, __LINE__, "rm");
}

static long field(pm_thread *t, const char *view, const char *name)
{
	const char *s = strstr(proc_text(t, -1, view), name);
	return s ? strtol(s + strlen(name), NULL, 10) : -1;
}

static long anon_kb(pm_thread *t)
{
	return field(t, "meminfo", "Inactive(anon):") + field(t, "meminfo", "Active(anon):");
}

static void fill(pm_thread *t, long va, long pages, int b)
{
	static uint8_t page[PG];
	memset(page, b, PG);
	for (long i = 0; i < pages; i++)
		EXPECT_EQ(pm_access(t, (uint64_t)(va + i * PG), page, PG, PM_WRITE, NULL), PG);
}

static long resident(pm_thread *t, long va, long pages)
{
	long vec = do_mmap(t, 0, PG, RW, ANON);
	EXPECT_EQ(SC(t, SYS_mincore, va, pages * PG, vec, 0, 0, 0), 0);
	long n = 0;
	for (long i = 0; i < pages; i++)
		n += peek(t, (uint64_t)(vec + i)) & 1;
	EXPECT_EQ(SC(t, SYS_munmap, vec, PG, 0, 0, 0, 0), 0);
	return n;
}

/* A host file of `pages` pages of byte 0x33 under the root, mapped private read-only at F
 * and read, so its pages sit in the page cache (the file lists). */
static void read_host_file(pm_thread *t, long pages)
{
	char p[128];
	static uint8_t page[PG];
	memset(page, 0x33, PG);
	snprintf(p, sizeof(p), "%s/data", root);
	int hfd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	for (long i = 0; i < pages; i++)
		EXPECT_EQ(pwrite(hfd, page, PG, i * PG), PG);
	close(hfd);
	long fd = SC(t, SYS_openat, AT_FDCWD, (long)pm_scratch(t, "/data", 6), O_RDONLY, 0, 0, 0);
	REQUIRE_EQ(fd >= 0, 1);
	REQUIRE_EQ(SC(t, SYS_mmap, F, pages * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0), F);
	for (long i = 0; i < pages; i++)
		EXPECT_EQ(peek(t, (uint64_t)(F + i * PG)), 0x33);
}

/* As on Linux 6.18 (probe: 256 MiB MADV_FREE'd moved from Inactive(anon) to
 * Inactive(file); a rewrite left it there; a droppable fill landed in Inactive(file)). */
TEST(madv_free_and_droppable_pages_count_as_inactive_file)
{
	struct env e = env_noswap(32 * MiB);
	REQUIRE_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 8, 0x11);
	long file0 = field(e.t, "meminfo", "Inactive(file):"), anon0 = anon_kb(e.t);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(field(e.t, "meminfo", "Inactive(file):"), file0 + 16);
	EXPECT_EQ(anon_kb(e.t), anon0 - 16);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_FREE, 0, 0, 0), 0);	/* again: 4 more */
	EXPECT_EQ(field(e.t, "meminfo", "Inactive(file):"), file0 + 32);
	EXPECT_EQ(poke(e.t, W, 0x12), 1);	/* a write alone moves nothing before reclaim */
	EXPECT_EQ(field(e.t, "meminfo", "Inactive(file):"), file0 + 32);
	REQUIRE_EQ(do_mmap(e.t, W + 16 * PG, 4 * PG, RW, DROPPABLE | MAP_ANONYMOUS | MAP_FIXED),
		   W + 16 * PG);
	fill(e.t, W + 16 * PG, 4, 0x22);
	EXPECT_EQ(field(e.t, "meminfo", "Inactive(file):"), file0 + 48);
	EXPECT_EQ(anon_kb(e.t), anon0 - 32);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
	root_clean();
}

/* No swap, file pages newer than the lazy ones: a reclaim pass aiming at 8 frames discards
 * the 4 MADV_FREE'd pages and the 4 (cooled) droppable ones from the file list, scans no
 * anon list and leaves every file page and the ordinary anon pages alone. Before, the lazy
 * pages sat on the anon list, which is not scanned while file pages remain. */
TEST(lazyfree_pages_are_reclaimed_with_file_pages_when_there_is_no_swap)
{
	struct env e = env_noswap(32 * MiB);
	REQUIRE_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 8, 0x11);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_FREE, 0, 0, 0), 0);
	REQUIRE_EQ(do_mmap(e.t, W + 16 * PG, 4 * PG, RW, DROPPABLE | MAP_ANONYMOUS | MAP_FIXED),
		   W + 16 * PG);
	fill(e.t, W + 16 * PG, 4, 0x22);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 16 * PG, 4 * PG, MADV_COLD, 0, 0, 0), 0);
	read_host_file(e.t, 64);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	long scan_anon0 = field(e.t, "vmstat", "pgscan_anon "), lazy0 = field(e.t, "vmstat", "pglazyfreed ");
	long scan_file0 = field(e.t, "vmstat", "pgscan_file "), steal0 = field(e.t, "vmstat", "pgsteal_file ");
	EXPECT_EQ(pm_debug_shrink(e.sys, 8), 8);
	EXPECT_EQ(field(e.t, "vmstat", "pglazyfreed ") - lazy0, 8);
	EXPECT_EQ(field(e.t, "vmstat", "pgscan_anon ") - scan_anon0, 0);
	EXPECT_TRUE(field(e.t, "vmstat", "pgscan_file ") - scan_file0 >= 8);
	EXPECT_EQ(field(e.t, "vmstat", "pgsteal_file ") - steal0, 8);	/* counted by list */
	EXPECT_EQ(resident(e.t, W, 4), 0);
	EXPECT_EQ(resident(e.t, W + 16 * PG, 4), 0);
	EXPECT_EQ(resident(e.t, F, 64), 64);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	for (long i = 0; i < 4; i++) {
		EXPECT_EQ(peek(e.t, (uint64_t)(W + i * PG)), 0);
		EXPECT_EQ(peek(e.t, (uint64_t)(W + (4 + i) * PG)), 0x11);
		EXPECT_EQ(peek(e.t, (uint64_t)(W + (16 + i) * PG)), 0);
	}
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
	root_clean();
}

/* A store after MADV_FREE cancels it: reclaim, finding the page dirty on the file list,
 * gives up on it (try_to_unmap_one sets it swap-backed) and activates it on the anon list
 * (shrink_folio_list's activate_locked); its bytes stay and later passes leave it be. */
TEST(cancelled_lazy_free_goes_back_to_the_active_anon_list)
{
	struct env e = env_noswap(32 * MiB);
	REQUIRE_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 4, 0x11);
	long file0 = field(e.t, "meminfo", "Inactive(file):"), act0 = field(e.t, "meminfo", "Active(anon):");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(poke(e.t, W + PG + 7, 0x44), 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, MADV_COLD, 0, 0, 0), 0);	/* A off: not "young" */
	long lazy0 = field(e.t, "vmstat", "pglazyfreed "), act_ev0 = field(e.t, "vmstat", "pgactivate ");
	EXPECT_EQ(pm_debug_shrink(e.sys, 3), 3);
	EXPECT_EQ(field(e.t, "vmstat", "pglazyfreed ") - lazy0, 3);
	EXPECT_TRUE(field(e.t, "vmstat", "pgactivate ") - act_ev0 >= 1);
	EXPECT_EQ(field(e.t, "meminfo", "Inactive(file):"), file0);
	EXPECT_EQ(field(e.t, "meminfo", "Active(anon):"), act0 + 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(pm_debug_shrink(e.sys, 64), 0);	/* no swap: nothing else to take */
	EXPECT_EQ(resident(e.t, W, 4), 1);
	EXPECT_EQ(peek(e.t, W + PG), 0x11);
	EXPECT_EQ(peek(e.t, W + PG + 7), 0x44);
	EXPECT_EQ(peek(e.t, W), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
	root_clean();
}

/* With swap as well, a redirtied lazy page is first activated, not swapped out in the pass
 * that finds it (try_to_unmap_one gives up on it); a later pass may swap it like any
 * anonymous page, and its bytes come back. */
TEST(redirtied_lazy_page_is_activated_before_it_can_be_swapped)
{
	pm_config c;
	pm_config_default(&c);
	c.ram_bytes = 32 * MiB;
	c.swap_bytes = 16 * MiB;
	c.seed = 5;
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 2, 0x11);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 2 * PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(poke(e.t, W + PG, 0x44), 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, MADV_COLD, 0, 0, 0), 0);
	long out0 = field(e.t, "vmstat", "pswpout "), act0 = field(e.t, "meminfo", "Active(anon):");
	EXPECT_EQ(pm_debug_shrink(e.sys, 1), 1);	/* the clean page */
	EXPECT_EQ(field(e.t, "vmstat", "pswpout ") - out0, 0);
	EXPECT_EQ(field(e.t, "meminfo", "Active(anon):"), act0 + 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(pm_debug_shrink(e.sys, 64), 1);
	EXPECT_EQ(field(e.t, "vmstat", "pswpout ") - out0, 1);
	EXPECT_EQ(peek(e.t, W + PG), 0x44);
	EXPECT_EQ(peek(e.t, W + PG + 1), 0x11);
	EXPECT_EQ(peek(e.t, W), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}
