/*
 * Commit accounting (SPEC §8): Committed_AS and CommitLimit in /proc/meminfo, mode 0's
 * charge at first touch and its one refusal (a request larger than RAM + swap), mode 1's
 * absence of limits, mode 2's ENOMEM at mmap, brk, mremap, mprotect and fork with nothing
 * changed, MAP_NORESERVE (never charged; SIGBUS when a page cannot be backed), and exact
 * balance after every call that gives memory back (KSM merging included), which
 * pm_check_invariants recounts.
 */
#include <string.h>

#include "ksm_env.h"
#include "pm_test.h"

#define W 0x200000000000L

static pm_thread *spawn_as(pm_system *sys, const char *spec)
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

/* A meminfo or vmstat figure: meminfo's kB lines are returned in pages. */
static long field(pm_thread *t, const char *view, const char *name)
{
	const char *s = strstr(proc_text(t, -1, view), name);
	long v = s ? strtol(s + strlen(name), NULL, 10) : -1;
	return view[0] == 'm' ? v / 4 : v;
}
static long committed(pm_thread *t) { return field(t, "meminfo", "Committed_AS:"); }
static long limit(pm_thread *t) { return field(t, "meminfo", "CommitLimit:"); }

struct cenv { struct env e; pm_thread *admin; };

static struct cenv open_sys(long ram_mib, long swap_mib)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = (uint64_t)ram_mib * MiB;
	cfg.swap_bytes = (uint64_t)swap_mib * MiB;
	cfg.seed = 11;
	struct cenv c = { env_open_cfg(&cfg), NULL };
	c.admin = spawn_as(c.e.sys, "system");
	return c;
}

static void set_mode(struct cenv *c, long mode)
{
	REQUIRE_EQ(pm_registry_set(c->admin, "Machine\\System\\Memory\\OvercommitMemory", mode), 0);
}

static void touch(pm_thread *t, long va, long pages)
{
	for (long i = 0; i < pages; i++)
		EXPECT_EQ(poke(t, (uint64_t)(va + i * PG), 1), 1);
}

static void read_pages(pm_thread *t, long va, long pages)
{
	for (long i = 0; i < pages; i++)
		EXPECT_EQ(peek(t, (uint64_t)(va + i * PG)), 0);
}

/* Mode 0: mmap promises nothing; each first write charges one page, a read (zero page)
 * none; populate charges what it faults; munmap gives back exactly what was charged. */
TEST(mode0_charges_a_page_at_its_first_write_not_at_mmap)
{
	struct cenv c = open_sys(64, 0);
	pm_thread *t = c.e.t;
	long base = committed(t);
	REQUIRE_EQ(do_mmap(t, W, 100 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(committed(t), base);
	touch(t, W, 10);
	EXPECT_EQ(committed(t), base + 10);
	touch(t, W, 10);	/* the same pages again: no new charge */
	EXPECT_EQ(committed(t), base + 10);
	read_pages(t, W + 50 * PG, 5);
	EXPECT_EQ(committed(t), base + 10);
	touch(t, W + 50 * PG, 5);	/* zero page -> own frame: charged now */
	EXPECT_EQ(committed(t), base + 15);
	EXPECT_EQ(do_mmap(t, W + 200 * PG, 20 * PG, RW, ANON | MAP_FIXED | MAP_POPULATE), W + 200 * PG);
	EXPECT_EQ(committed(t), base + 35);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	EXPECT_EQ(SC(t, SYS_munmap, W, 300 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base);
	env_close(&c.e);
}

/* Mode 0 refuses one accountable request larger than RAM + swap, and nothing else. */
TEST(mode0_refuses_only_a_request_larger_than_ram_plus_swap)
{
	struct cenv c = open_sys(32, 16);
	pm_thread *t = c.e.t;
	long total = field(t, "meminfo", "MemTotal:") + field(t, "meminfo", "SwapTotal:");
	long base = committed(t);
	EXPECT_ERRNO(do_mmap(t, 0, (total + 1) * PG, RW, ANON), -ENOMEM);
	long a = do_mmap(t, 0, total * PG, RW, ANON);	/* exactly RAM + swap: allowed */
	EXPECT_TRUE(a > 0);
	EXPECT_EQ(SC(t, SYS_munmap, a, total * PG, 0, 0, 0, 0), 0);
	a = do_mmap(t, 0, 4 * total * PG, PROT_READ, ANON);	/* not accountable */
	EXPECT_TRUE(a > 0);
	EXPECT_EQ(SC(t, SYS_munmap, a, 4 * total * PG, 0, 0, 0, 0), 0);
	a = do_mmap(t, 0, 4 * total * PG, RW, ANON | MAP_NORESERVE);
	EXPECT_TRUE(a > 0);
	EXPECT_EQ(SC(t, SYS_munmap, a, 4 * total * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base);
	env_close(&c.e);
}

/* Mode 1 never refuses, and charges whole mappings as Linux does. */
TEST(mode1_never_refuses)
{
	struct cenv c = open_sys(32, 0);
	pm_thread *t = c.e.t;
	set_mode(&c, 1);
	long base = committed(t), big = 4 * field(t, "meminfo", "MemTotal:");
	EXPECT_EQ(do_mmap(t, W, big * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(committed(t), base + big);
	EXPECT_EQ(SC(t, SYS_mremap, W, big * PG, 2 * big * PG, MREMAP_MAYMOVE, 0, 0) > 0, 1);
	EXPECT_EQ(committed(t), base + 2 * big);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	env_close(&c.e);
}

/* Mode 2: each promising call past CommitLimit is ENOMEM and leaves maps and the charge
 * as they were; exactly reaching the limit is allowed. */
TEST(mode2_refuses_mmap_brk_mremap_mprotect_past_the_limit_and_changes_nothing)
{
	struct cenv c = open_sys(64, 0);
	pm_thread *t = c.e.t;
	set_mode(&c, 2);
	long base = committed(t), avail = limit(t) - base;
	REQUIRE_EQ(avail > 1000, 1);
	static char before[1 << 20];
	strcpy(before, proc_text(t, 0, "maps"));
	EXPECT_ERRNO(do_mmap(t, W, (avail + 1) * PG, RW, ANON | MAP_FIXED), -ENOMEM);
	EXPECT_TRUE(strcmp(before, proc_text(t, 0, "maps")) == 0);
	EXPECT_EQ(committed(t), base);
	/* Read-only and NORESERVE mappings promise nothing. */
	EXPECT_EQ(do_mmap(t, W + (1L << 32), 10 * PG, PROT_READ, ANON | MAP_FIXED), W + (1L << 32));
	EXPECT_EQ(do_mmap(t, W + (2L << 32), (avail + 1) * PG, RW, ANON | MAP_FIXED | MAP_NORESERVE),
		  W + (2L << 32));
	EXPECT_EQ(committed(t), base);
	/* Up to the limit exactly. */
	EXPECT_EQ(do_mmap(t, W, (avail - 2) * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(committed(t), base + avail - 2);
	strcpy(before, proc_text(t, 0, "maps"));
	long brk0 = SC(t, SYS_brk, 0, 0, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_brk, brk0 + 3 * PG, 0, 0, 0, 0, 0), brk0);	/* refused: unchanged */
	EXPECT_ERRNO(SC(t, SYS_mremap, W, (avail - 2) * PG, (avail + 1) * PG, MREMAP_MAYMOVE, 0, 0),
		     -ENOMEM);
	EXPECT_ERRNO(SC(t, SYS_mprotect, W + (1L << 32), 10 * PG, RW, 0, 0, 0), -ENOMEM);
	EXPECT_TRUE(strcmp(before, proc_text(t, 0, "maps")) == 0);
	EXPECT_EQ(committed(t), base + avail - 2);
	EXPECT_EQ(SC(t, SYS_brk, brk0 + 2 * PG, 0, 0, 0, 0, 0), brk0 + 2 * PG);	/* fits */
	EXPECT_EQ(committed(t), base + avail);
	EXPECT_EQ(SC(t, SYS_munmap, W, 10 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + avail - 10);
	EXPECT_EQ(SC(t, SYS_mprotect, W + (1L << 32), 10 * PG, RW, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + avail);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	env_close(&c.e);
}

/* Mode 2: fork promises the child's private writable memory again (dup_mmap). */
TEST(mode2_refuses_a_fork_whose_child_would_pass_the_limit)
{
	struct cenv c = open_sys(64, 0);
	pm_thread *t = c.e.t;
	set_mode(&c, 2);
	long base = committed(t), avail = limit(t) - base, half = avail / 2;
	EXPECT_EQ(do_mmap(t, W, (half + 100) * PG, RW, ANON | MAP_FIXED), W);
	long mid = committed(t);
	long nprocs = maps_count(t, "[stack]");
	EXPECT_ERRNO(SC(t, SYS_fork, 0, 0, 0, 0, 0, 0), -ENOMEM);
	EXPECT_EQ(committed(t), mid);
	EXPECT_EQ(maps_count(t, "[stack]"), nprocs);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	EXPECT_EQ(SC(t, SYS_munmap, W + (half - 200) * PG, 300 * PG, 0, 0, 0, 0), 0);
	long pid = SC(t, SYS_fork, 0, 0, 0, 0, 0, 0);
	REQUIRE_EQ(pid > 0, 1);
	EXPECT_TRUE(committed(t) >= mid - 300 + half - 200);	/* the child's promise */
	EXPECT_TRUE(committed(t) <= limit(t));
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	SC(pm_thread_of(c.e.sys, (int)pid), SYS_exit_group, 0, 0, 0, 0, 0, 0);
	EXPECT_EQ(committed(t), mid - 300);
	env_close(&c.e);
}

/* MAP_NORESERVE is never charged, in any mode, touched or not. */
TEST(noreserve_is_never_charged_in_any_mode)
{
	struct cenv c = open_sys(64, 0);
	pm_thread *t = c.e.t;
	for (long mode = 0; mode <= 2; mode++) {
		set_mode(&c, mode);
		long base = committed(t);
		EXPECT_EQ(do_mmap(t, W, 1000 * PG, RW, ANON | MAP_FIXED | MAP_NORESERVE), W);
		touch(t, W, 50);
		long a = SC(t, SYS_mremap, W, 1000 * PG, 2000 * PG, MREMAP_MAYMOVE, 0, 0);
		EXPECT_TRUE(a > 0);
		EXPECT_EQ(SC(t, SYS_mprotect, a, 2000 * PG, PROT_READ, 0, 0, 0), 0);
		EXPECT_EQ(SC(t, SYS_mprotect, a, 2000 * PG, RW, 0, 0, 0), 0);
		EXPECT_EQ(committed(t), base);
		EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
		EXPECT_EQ(SC(t, SYS_munmap, a, 2000 * PG, 0, 0, 0, 0), 0);
		EXPECT_EQ(committed(t), base);
	}
	env_close(&c.e);
}

/* A NORESERVE page that no frame can back (no swap, nothing to reclaim) is the
 * toucher's SIGBUS with BUS_ADRERR at that address; the OOM killer stays out of it. */
TEST(noreserve_touch_that_cannot_be_backed_raises_sigbus)
{
	struct cenv c = open_sys(16, 0);
	pm_thread *t = c.e.t;
	long kills = field(t, "vmstat", "oom_kill ");
	EXPECT_EQ(do_mmap(t, W, 8192 * PG, RW, ANON | MAP_FIXED | MAP_NORESERVE), W);
	pm_siginfo si = { 0 };
	long i, r = 0;
	for (i = 0; i < 8192 && r >= 0; i++) {
		uint8_t v = 1;
		r = pm_access(t, (uint64_t)(W + i * PG), &v, 1, PM_WRITE, &si);
	}
	EXPECT_ERRNO(r, -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_EQ(si.code, BUS_ADRERR);
	EXPECT_EQ((long)si.addr, W + (i - 1) * PG);
	EXPECT_TRUE(i > 2048);	/* RAM was full first */
	EXPECT_EQ(field(t, "vmstat", "oom_kill "), kills);
	EXPECT_EQ(SC(t, SYS_getpid, 0, 0, 0, 0, 0, 0), pm_pid(t));
	EXPECT_EQ(SC(t, SYS_munmap, W, 8192 * PG, 0, 0, 0, 0), 0);
	env_close(&c.e);
}

/* Mode 0: the charge follows the pages through mremap, MADV_DONTNEED, MADV_FREE's
 * discard, swap-out (a swapped page stays charged), mprotect, fork and exit. */
TEST(mode0_charge_balances_through_mremap_madvise_swap_mprotect_fork_and_exit)
{
	struct cenv c = open_sys(32, 16);
	pm_thread *t = c.e.t;
	long base = committed(t);
	EXPECT_EQ(do_mmap(t, W, 64 * PG, RW, ANON | MAP_FIXED), W);
	touch(t, W, 32);
	long a = SC(t, SYS_mremap, W, 64 * PG, 128 * PG, MREMAP_MAYMOVE, 0, 0);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(committed(t), base + 32);
	touch(t, a + 100 * PG, 16);
	EXPECT_EQ(committed(t), base + 48);
	EXPECT_EQ(SC(t, SYS_mremap, a, 128 * PG, 64 * PG, 0, 0, 0), a);	/* shrink drops 16 */
	EXPECT_EQ(committed(t), base + 32);
	EXPECT_EQ(SC(t, SYS_madvise, a, 8 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 24);
	EXPECT_EQ(SC(t, SYS_madvise, a + 8 * PG, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_TRUE(field(t, "meminfo", "SwapFree:") < field(t, "meminfo", "SwapTotal:"));
	EXPECT_EQ(committed(t), base + 24);	/* swapped, still charged */
	EXPECT_EQ(SC(t, SYS_mprotect, a, 64 * PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 24);	/* VM_ACCOUNT stays: the VMA has anon pages */
	EXPECT_EQ(SC(t, SYS_mprotect, a, 64 * PG, RW, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 24);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	long pid = SC(t, SYS_fork, 0, 0, 0, 0, 0, 0);
	REQUIRE_EQ(pid > 0, 1);
	pm_thread *child = pm_thread_of(c.e.sys, (int)pid);
	long after_fork = committed(t);
	EXPECT_TRUE(after_fork >= base + 48);	/* the child holds the 24 (and its stack's) */
	EXPECT_EQ(poke(child, (uint64_t)a, 9), 1);	/* a DONTNEED page: the child's own now */
	EXPECT_EQ(poke(child, (uint64_t)(a + 20 * PG), 9), 1);	/* a COW copy: no new charge */
	EXPECT_EQ(committed(t), after_fork + 1);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	SC(child, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	EXPECT_EQ(committed(t), base + 24);
	EXPECT_EQ(SC(t, SYS_madvise, a + 16 * PG, 16 * PG, MADV_FREE, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 24);	/* lazily freed pages stay until discarded */
	EXPECT_EQ(SC(t, SYS_madvise, a + 16 * PG, 16 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 8);	/* discarded: gone, and uncharged */
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	EXPECT_EQ(SC(t, SYS_munmap, a, 64 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base);
	env_close(&c.e);
}

/* Mode 2 (Linux's way): whole VMAs are charged; mprotect removing write keeps the charge
 * of touched memory and gives back that of never-touched anonymous memory. */
TEST(mode2_charge_balances_through_mremap_mprotect_fork_and_exit)
{
	struct cenv c = open_sys(64, 0);
	pm_thread *t = c.e.t;
	set_mode(&c, 2);
	long base = committed(t);
	EXPECT_EQ(do_mmap(t, W, 64 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(committed(t), base + 64);
	touch(t, W, 4);
	EXPECT_EQ(committed(t), base + 64);	/* touching changes nothing in mode 2 */
	long a = SC(t, SYS_mremap, W, 64 * PG, 128 * PG, MREMAP_MAYMOVE, 0, 0);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(committed(t), base + 128);
	EXPECT_EQ(SC(t, SYS_mremap, a, 128 * PG, 64 * PG, 0, 0, 0), a);
	EXPECT_EQ(committed(t), base + 64);
	EXPECT_EQ(SC(t, SYS_madvise, a, 64 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 64);
	EXPECT_EQ(SC(t, SYS_mprotect, a, 64 * PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 64);	/* it has an anon_vma: the charge stays */
	EXPECT_EQ(do_mmap(t, W + (1L << 32), 10 * PG, RW, ANON | MAP_FIXED), W + (1L << 32));
	EXPECT_EQ(committed(t), base + 74);
	EXPECT_EQ(SC(t, SYS_mprotect, W + (1L << 32), 10 * PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base + 64);	/* never touched: given back */
	long before_fork = committed(t);
	long pid = SC(t, SYS_fork, 0, 0, 0, 0, 0, 0);
	REQUIRE_EQ(pid > 0, 1);
	EXPECT_TRUE(committed(t) >= before_fork + 64);	/* the child's copy is promised */
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);	/* and each space recounts exactly */
	SC(pm_thread_of(c.e.sys, (int)pid), SYS_exit_group, 0, 0, 0, 0, 0, 0);
	EXPECT_EQ(committed(t), before_fork);
	EXPECT_EQ(SC(t, SYS_munmap, a, 64 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base);
	env_close(&c.e);
}

/* A mode change converts every address space's charge at once: mode 2 charges whole
 * accountable VMAs, mode 0 only their touched pages. */
TEST(a_mode_change_converts_existing_charges)
{
	struct cenv c = open_sys(64, 0);
	pm_thread *t = c.e.t;
	EXPECT_EQ(do_mmap(t, W, 100 * PG, RW, ANON | MAP_FIXED), W);
	touch(t, W, 10);
	long touched = committed(t);
	set_mode(&c, 2);
	EXPECT_TRUE(committed(t) >= touched + 90);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	set_mode(&c, 0);
	EXPECT_EQ(committed(t), touched);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	env_close(&c.e);
}

/* CommitLimit = swap + (RAM - hugetlb pool) * OvercommitRatio / 100, live. */
TEST(overcommit_ratio_and_the_hugetlb_pool_set_commit_limit)
{
	struct cenv c = open_sys(64, 16);
	pm_thread *t = c.e.t;
	long ram = field(t, "meminfo", "MemTotal:"), swap = field(t, "meminfo", "SwapTotal:");
	EXPECT_EQ(limit(t), swap + ram * 50 / 100);
	REQUIRE_EQ(pm_registry_set(c.admin, "OvercommitRatio", 80), 0);
	EXPECT_EQ(limit(t), swap + ram * 80 / 100);
	REQUIRE_EQ(pm_registry_set(c.admin, "NrHugepages2M", 4), 0);
	EXPECT_EQ(limit(t), swap + (ram - 4 * 512) * 80 / 100);
	EXPECT_ERRNO(pm_registry_set(t, "OvercommitRatio", 10), -EACCES);
	EXPECT_EQ(limit(t), swap + (ram - 4 * 512) * 80 / 100);
	/* In mode 2 the new limit decides at once. */
	set_mode(&c, 2);
	long avail = limit(t) - committed(t);
	REQUIRE_EQ(pm_registry_set(c.admin, "OvercommitRatio", 50), 0);
	EXPECT_ERRNO(do_mmap(t, W, avail * PG, RW, ANON | MAP_FIXED), -ENOMEM);
	REQUIRE_EQ(pm_registry_set(c.admin, "NrHugepages2M", 0), 0);
	env_close(&c.e);
}

/* exec: the old image's charge goes with its address space; the new image is charged
 * only for what it has touched (mode 0). */
TEST(exec_drops_the_old_charge)
{
	struct cenv c = open_sys(64, 0);
	pm_thread *t = c.e.t;
	long base = committed(t);
	EXPECT_EQ(do_mmap(t, W, 300 * PG, RW, ANON | MAP_FIXED), W);
	touch(t, W, 300);
	EXPECT_EQ(committed(t), base + 300);
	const char *path = "/bin/ls";
	long p = (long)pm_scratch(t, path, strlen(path) + 1);
	REQUIRE_EQ(SC(t, SYS_execve, p, 0, 0, 0, 0, 0), 0);
	EXPECT_TRUE(committed(t) < base + 50);
	EXPECT_EQ(pm_check_invariants(c.e.sys), 0);
	env_close(&c.e);
}

/* Mode 0: a KSM merge and the copy a write makes of a KSM page keep the charge (the page
 * was touched, and a write needs a frame of its own again). */
TEST(ksm_merge_and_its_cow_break_keep_the_mode0_charge)
{
	struct kenv k = kenv_open(9);
	pm_thread *t = k.e.t;
	long base = committed(t);
	map_filled(t, RA, 16, 0x40, 0, 1);
	EXPECT_EQ(committed(t), base + 16);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmRun", 1), 0);
	for (int i = 0; i < 10; i++)
		pm_system_tick(k.e.sys, 1);
	REQUIRE_EQ(ksm_val(&k, "pages_sharing"), 15);
	EXPECT_EQ(committed(t), base + 16);
	EXPECT_EQ(poke(t, RA + 3 * PG, 0x99), 1);
	EXPECT_EQ(committed(t), base + 16);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(SC(t, SYS_munmap, RA, 16 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(committed(t), base);
	kenv_close(&k);
}
