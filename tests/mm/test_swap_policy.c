/*
 * Swap under pressure and its views (SPEC §6, §7, §8, §10): dirty MAP_SHARED file pages
 * reach the host file before their frames are reclaimed; pagemap shows swapped pages
 * (bit 62, type and offset only for SeTcb readers), mincore 0, smaps Swap/SwapPss per
 * VMA; Swappiness 0 takes file pages first and 200 anonymous ones; without swap, anonymous
 * pressure ends in the OOM killer's pick by the badness formula; process_madvise needs the
 * gate's rights; mlocked pages stay resident under real pressure.
 */
#include "pm_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define W 0x200000000000L
#define F 0x300000000000L
#define TCB_TOKEN "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium " \
		  "privs=SeTcbPrivilege:enabled"
#define OTHER_TOKEN "user=S-1-5-21-1-1002 groups=S-1-5-32-545,S-1-1-0 il=medium"

static char root[64];

static pm_config cfg_of(long ram, long swap, int with_root)
{
	pm_config c;
	pm_config_default(&c);
	c.ram_bytes = (uint64_t)ram;
	c.swap_bytes = (uint64_t)swap;
	c.seed = 9;
	if (with_root) {
		snprintf(root, sizeof(root), "/tmp/peimm-swappolXXXXXX");
		if (!mkdtemp(root))
			check_failed(__FILE__, __LINE__, "mkdtemp");
		c.root = root;
	}
	return c;
}

static void root_clean(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		check_failed(__FILE__, __LINE__, "rm");
}

static pm_thread *spawn_as(pm_system *sys, const char *spec)
{
	int err;
	pm_token *tok = pm_token_parse(sys, spec, &err);
	pm_thread *t = tok ? pm_spawn(sys, tok, NULL) : NULL;
	pm_token_put(tok);
	return t;
}

static long kb_field(pm_thread *t, int pid, const char *view, const char *name)
{
	const char *s = strstr(proc_text(t, pid, view), name);
	return s ? strtol(s + strlen(name), NULL, 10) : -1;
}

/* Writes byte b into every page of [va, va + pages * PG). */
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

/* A host file of `pages` zero pages under the root, mapped MAP_SHARED read-write at F. */
static long map_host_file(pm_thread *t, const char *name, long pages)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", root, name);
	int hfd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	EXPECT_EQ(ftruncate(hfd, pages * PG), 0);
	close(hfd);
	snprintf(p, sizeof(p), "/%s", name);
	long fd = SC(t, SYS_openat, AT_FDCWD, (long)pm_scratch(t, p, strlen(p) + 1), O_RDWR, 0, 0, 0);
	EXPECT_TRUE(fd >= 0);
	return SC(t, SYS_mmap, F, pages * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0);
}

/* How many pages of the host file hold byte b throughout. */
static long host_pages_equal(const char *name, long pages, int b)
{
	char p[128];
	static uint8_t page[PG], want[PG];
	memset(want, b, PG);
	snprintf(p, sizeof(p), "%s/%s", root, name);
	int hfd = open(p, O_RDONLY);
	long n = 0;
	for (long i = 0; i < pages; i++)
		n += pread(hfd, page, PG, i * PG) == PG && !memcmp(page, want, PG);
	close(hfd);
	return n;
}

/* 16 MiB of RAM, 32 MiB of swap: a process dirties 256 pages of a shared file mapping,
 * then anonymous memory beyond RAM forces reclaim. Every file page that lost its frame
 * had its bytes written to the host file first, with no msync or munmap. */
TEST(dirty_shared_file_pages_reach_the_host_file_before_their_frames_go)
{
	pm_config c = cfg_of(16 * MiB, 32 * MiB, 1);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(map_host_file(e.t, "data", 256), F);
	fill(e.t, F, 256, 0x5a);
	EXPECT_EQ(host_pages_equal("data", 256, 0x5a), 0);	/* still only in the cache */
	pm_thread *hog = pm_spawn(e.sys, e.tok, NULL);
	REQUIRE_EQ(do_mmap(hog, W, 20 * MiB, RW, ANON | MAP_FIXED), W);
	for (long i = 0; i < 20 * MiB / PG; i++) {
		poke(hog, (uint64_t)(W + i * PG), 1);
		if (i % 256 == 0)
			pm_system_tick(e.sys, 1);
	}
	long left = resident(e.t, F, 256);
	EXPECT_TRUE(left < 256);	/* pressure took file frames */
	EXPECT_TRUE(host_pages_equal("data", 256, 0x5a) >= 256 - left);
	EXPECT_TRUE(kb_field(e.t, -1, "vmstat", "pgsteal_file ") > 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	for (long i = 0; i < 256; i += 17)
		EXPECT_EQ(peek(e.t, (uint64_t)(F + i * PG)), 0x5a);
	env_close(&e);
	root_clean();
}

/* A swapped page: pagemap bit 62 with type 0 and its slot as offset for a SeTcb reader,
 * bit 62 and no frame bits for anyone else; mincore 0; smaps Swap/SwapPss of the VMA. */
TEST(pagemap_mincore_and_smaps_show_swapped_pages)
{
	pm_config c = cfg_of(64 * MiB, 16 * MiB, 0);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 4, 0x21);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, 2 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(resident(e.t, W, 4), 2);
	EXPECT_EQ(resident(e.t, W + PG, 2), 0);
	pm_thread *tcb = spawn_as(e.sys, TCB_TOKEN);
	REQUIRE_EQ(tcb != NULL, 1);
	uint64_t ent[4], priv[4];
	EXPECT_EQ(pm_proc_read(e.t, 0, "pagemap", ent, sizeof(ent), (uint64_t)W / PG * 8),
		  (long)sizeof(ent));
	EXPECT_EQ(pm_proc_read(tcb, pm_pid(e.t), "pagemap", priv, sizeof(priv),
			       (uint64_t)W / PG * 8), (long)sizeof(priv));
	const uint64_t present = 1ULL << 63, swapped = 1ULL << 62, frame = (1ULL << 55) - 1;
	EXPECT_TRUE((ent[0] & present) && !(ent[0] & swapped));
	for (int i = 1; i <= 2; i++) {
		EXPECT_EQ(ent[i] & (present | swapped), swapped);
		EXPECT_EQ(ent[i] & frame, 0);	/* type and offset hidden, like PFNs */
		EXPECT_EQ(priv[i] & (present | swapped), swapped);
		EXPECT_EQ(priv[i] & 31, 0);	/* swap type 0: the one area */
		EXPECT_TRUE((priv[i] & frame) >> 5 >= 1);	/* offset: a slot, never the header */
	}
	EXPECT_TRUE((priv[1] & frame) != (priv[2] & frame));
	EXPECT_TRUE((ent[3] & present) && !(ent[3] & swapped));
	char key[32];
	snprintf(key, sizeof(key), "%08lx-", (unsigned long)W);
	const char *s = strstr(proc_text(e.t, 0, "smaps"), key);
	REQUIRE_EQ(s != NULL, 1);
	EXPECT_EQ(strtol(strstr(s, "\nSwap:") + 6, NULL, 10), 8);
	EXPECT_EQ(strtol(strstr(s, "\nSwapPss:") + 9, NULL, 10), 8);
	EXPECT_EQ(strtol(strstr(s, "\nRss:") + 5, NULL, 10), 8);
	env_close(&e);
}

/* The same mix of 512 file pages (read through a shared mapping) and 512 anonymous
 * pages, one reclaim pass of 256 frames, under Swappiness 0 and 200. */
static void reclaim_mix(long swappiness, long *swapped_kb, long *file_left)
{
	pm_config c = cfg_of(64 * MiB, 32 * MiB, 1);
	struct env e = env_open_cfg(&c);
	pm_thread *admin = spawn_as(e.sys, "system");
	EXPECT_EQ(pm_registry_set(admin, "Swappiness", swappiness), 0);
	REQUIRE_EQ(map_host_file(e.t, "mix", 512), F);
	for (long i = 0; i < 512; i++)
		peek(e.t, (uint64_t)(F + i * PG));
	REQUIRE_EQ(do_mmap(e.t, W, 512 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 512, 0x11);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 512 * PG, MADV_COLD, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, F, 512 * PG, MADV_COLD, 0, 0, 0), 0);
	EXPECT_TRUE(pm_debug_shrink(e.sys, 256) >= 256);
	*swapped_kb = kb_field(e.t, 0, "status", "VmSwap:");
	*file_left = resident(e.t, F, 512);
	EXPECT_EQ(resident(e.t, W, 512), 512 - *swapped_kb / 4);
	EXPECT_EQ(peek(e.t, W + 300 * PG), 0x11);
	env_close(&e);
	root_clean();
}

TEST(swappiness_0_takes_file_pages_first_and_200_anonymous_ones)
{
	long swapped, file_left;
	reclaim_mix(0, &swapped, &file_left);
	EXPECT_EQ(swapped, 0);	/* no anon while file pages remain */
	EXPECT_TRUE(file_left <= 512 - 256);
	reclaim_mix(200, &swapped, &file_left);
	EXPECT_TRUE(swapped >= 256 * 4);	/* anon first */
	EXPECT_EQ(file_left, 512);
}

static long oom_score(pm_thread *r, int pid)
{
	return strtol(proc_text(r, pid, "oom_score"), NULL, 10);
}

/* No swap: three processes, one with oom_score_adj 500, then one that keeps touching
 * anonymous memory. Before each touch the test reads every oom_score; the process the
 * killer takes is the one whose score was highest just before, and the touch succeeds. */
TEST(without_swap_anonymous_pressure_kills_the_highest_badness)
{
	pm_config c = cfg_of(32 * MiB, 0, 0);
	struct env e = env_open_cfg(&c);
	pm_thread *admin = spawn_as(e.sys, "system");
	pm_thread *p[4];
	const long mib[3] = { 9, 5, 2 };
	for (int i = 0; i < 3; i++) {
		p[i] = pm_spawn(e.sys, e.tok, NULL);
		REQUIRE_EQ(do_mmap(p[i], W, mib[i] * MiB, RW, ANON | MAP_FIXED), W);
		fill(p[i], W, mib[i] * MiB / PG, 1 + i);
	}
	p[3] = e.t;
	EXPECT_EQ(pm_proc_write(admin, pm_pid(p[1]), "oom_score_adj", "500", 3), 3);
	/* 24 MiB: mode 0 refuses one request as large as RAM + swap (32 MiB here). */
	REQUIRE_EQ(do_mmap(e.t, W, 24 * MiB, RW, ANON | MAP_FIXED), W);
	long kills0 = kb_field(admin, -1, "vmstat", "oom_kill ");
	int victim = -1, expected = -1;
	long i;
	for (i = 0; i < 24 * MiB / PG && victim < 0; i++) {
		long best = -1;
		for (int j = 0; j < 4; j++) {
			long s = oom_score(admin, pm_pid(p[j]));
			if (s > best)
				best = s, expected = j;
		}
		EXPECT_EQ(poke(e.t, (uint64_t)(W + i * PG), 7), 1);
		for (int j = 0; j < 4 && victim < 0; j++)
			if (SC(p[j], SYS_getpid, 0, 0, 0, 0, 0, 0) == -ESRCH)
				victim = j;
	}
	EXPECT_EQ(victim, expected);
	EXPECT_EQ(victim, 1);	/* 5 MiB + 500 thousandths of RAM beats 9 MiB and the faulter */
	EXPECT_EQ(kb_field(admin, -1, "vmstat", "oom_kill "), kills0 + 1);
	EXPECT_TRUE(i > 2048);	/* it ran out only after RAM was full */
	for (long j = 0; j < i; j += 97)
		EXPECT_EQ(peek(e.t, (uint64_t)(W + j * PG)), 7);
	EXPECT_EQ(peek(p[0], W + 100 * PG), 1);
	pm_system_tick(e.sys, 1);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* process_madvise(MADV_PAGEOUT): another user without rights on the target's SD gets
 * EPERM and nothing moves; the owner's call swaps the pages out. */
TEST(process_madvise_pageout_is_gated_and_really_swaps)
{
	pm_config c = cfg_of(64 * MiB, 16 * MiB, 0);
	struct env e = env_open_cfg(&c);
	pm_thread *target = pm_spawn(e.sys, e.tok, NULL);
	REQUIRE_EQ(do_mmap(target, W, 8 * PG, RW, ANON | MAP_FIXED), W);
	fill(target, W, 8, 0x42);
	pm_thread *other = spawn_as(e.sys, OTHER_TOKEN);
	REQUIRE_EQ(other != NULL, 1);
	uint64_t vec[2] = { (uint64_t)W, 8 * PG };
	pm_thread *callers[2] = { other, e.t };
	const long want[2] = { -EPERM, 8 * PG };
	for (int i = 0; i < 2; i++) {
		long pidfd = SC(callers[i], SYS_pidfd_open, pm_pid(target), 0, 0, 0, 0, 0);
		REQUIRE_EQ(pidfd >= 0, 1);
		long iov = (long)pm_scratch(callers[i], vec, sizeof(vec));
		EXPECT_ERRNO(SC(callers[i], SYS_process_madvise, pidfd, iov, 1, MADV_PAGEOUT, 0, 0),
			     want[i]);
		EXPECT_EQ(kb_field(target, 0, "status", "VmSwap:"), i == 0 ? 0 : 32);
	}
	EXPECT_EQ(resident(target, W, 8), 0);
	EXPECT_EQ(peek(target, W + 7 * PG), 0x42);
	env_close(&e);
}

/* Real pressure (more anonymous memory than RAM, with swap): mlocked pages stay resident
 * and intact while other memory goes to swap. */
TEST(mlocked_pages_stay_resident_under_real_pressure)
{
	pm_config c = cfg_of(16 * MiB, 32 * MiB, 0);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, 64 * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, 64, 0x6c);
	EXPECT_EQ(SC(e.t, SYS_mlock, W, 64 * PG, 0, 0, 0, 0), 0);
	pm_thread *hog = pm_spawn(e.sys, e.tok, NULL);
	REQUIRE_EQ(do_mmap(hog, W, 24 * MiB, RW, ANON | MAP_FIXED), W);
	for (long i = 0; i < 24 * MiB / PG; i++) {
		poke(hog, (uint64_t)(W + i * PG), 2);
		if (i % 512 == 0)
			pm_system_tick(e.sys, 1);
	}
	EXPECT_TRUE(kb_field(hog, 0, "status", "VmSwap:") > 0);
	EXPECT_EQ(kb_field(e.t, 0, "status", "VmSwap:"), 0);
	EXPECT_EQ(resident(e.t, W, 64), 64);
	EXPECT_EQ(kb_field(e.t, -1, "vmstat", "oom_kill "), 0);
	for (long i = 0; i < 64; i++)
		EXPECT_EQ(peek(e.t, (uint64_t)(W + i * PG)), 0x6c);
	env_close(&e);
}
