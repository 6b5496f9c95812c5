/*
 * LTP mmap21, mprotect05, mremap01/06, madvise10, brk02, mlock03/04, mlock203, mlockall03
 * and mincore02/04, ported as scenarios (docs/conformance.md). The expected VMA layouts,
 * VmLck figures and residency vectors were checked on this machine's Linux 6.18 with the
 * same calls. Each test is named after the LTP case it ports.
 */
#include "conf.h"

/* Pages [first, first + n) of the host file `name`: page i must hold the byte fill + i. */
static int host_pages_hold(struct fenv *f, const char *name, long first, long n, char fill)
{
	char p[128];
	static char page[4096];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	int fd = open(p, O_RDONLY);
	int ok = fd >= 0;
	for (long i = first; ok && i < first + n; i++) {
		ok = pread(fd, page, sizeof(page), i * PG) == (ssize_t)sizeof(page);
		for (long k = 0; ok && k < PG; k += 511)
			ok = page[k] == (char)(fill + i);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/* mmap21: a 16 MiB file mapped shared, every page written through the mapping, reaches
 * the file after munmap, and a fresh read-only mapping shows every page back. */
TEST(ltp_mmap21_a_large_shared_file_mapping_is_written_and_read_back)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	const long pages = 4096;
	long fd = op(t, "big", O_RDWR | O_CREAT);
	REQUIRE_EQ(SC(t, SYS_ftruncate, fd, pages * PG, 0, 0, 0, 0), 0);
	REQUIRE_EQ(map_fd(t, W, pages * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	static char page[4096];
	long written = 0;
	for (long i = 0; i < pages; i++) {
		memset(page, (char)(7 + i), sizeof(page));
		written += pm_access(t, (uint64_t)(W + i * PG), page, PG, PM_WRITE, NULL) == PG;
	}
	EXPECT_EQ(written, pages);
	EXPECT_EQ(SC(t, SYS_munmap, W, pages * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(host_size(&f, "big"), pages * PG);
	EXPECT_TRUE(host_pages_hold(&f, "big", 0, pages, 7));
	REQUIRE_EQ(map_fd(t, W, pages * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	long same = 0;
	for (long i = 0; i < pages; i += 37)
		same += peek(t, (uint64_t)(W + i * PG + 100)) == (uint8_t)(7 + i);
	EXPECT_EQ(same, (pages + 36) / 37);
	fenv_close(&f);
}

/* mprotect05 (bug 217061): a 5-page shared read-only file mapping gets page 1 exec-only
 * and page 3 write-only (5 VMAs); one mprotect(PROT_READ) of pages 1..4 then succeeds and
 * every piece merges back into one r--s VMA. */
TEST(ltp_mprotect05_one_mprotect_over_striped_pieces_merges_them_all)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "stripes", 0, 0);
	chmod_host(&f, "stripes", 0777);
	long fd = op(t, "stripes", O_RDWR);
	REQUIRE_EQ(map_fd(t, W, 5 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_mprotect, W + PG, PG, PROT_EXEC, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mprotect, W + 3 * PG, PG, PROT_WRITE, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 5 * PG), 5);
	EXPECT_STREQ(perms_at(t, W + PG), "--xs");
	EXPECT_STREQ(perms_at(t, W + 3 * PG), "-w-s");
	EXPECT_EQ(SC(t, SYS_mprotect, W + PG, 4 * PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, W, W + 5 * PG), 1);
	EXPECT_STREQ(perms_at(t, W), "r--s");
	fenv_close(&f);
}

/* mremap01: a shared mapping of the first page of a 4-page file grows to the whole file
 * (moving if it must); every page of the new range is writable and msync puts the pattern
 * in the file. */
TEST(ltp_mremap01_growing_a_file_mapping_reaches_the_whole_file)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "grow", 4, 'a');
	long fd = op(t, "grow", O_RDWR);
	REQUIRE_EQ(map_fd(t, W, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	REQUIRE_EQ(do_mmap(t, W + PG, PG, PROT_READ, ANON | MAP_FIXED), W + PG);	/* no room */
	long a = SC(t, SYS_mremap, W, PG, 4 * PG, MREMAP_MAYMOVE, 0, 0);
	REQUIRE_EQ(a > 0 && a != W, 1);
	EXPECT_EQ(peek(t, (uint64_t)a + 3 * PG), 'a' + 3);	/* the file's own bytes */
	static char page[4096];
	for (long i = 0; i < 4; i++) {
		memset(page, 'A' + (int)i, sizeof(page));
		EXPECT_EQ(pm_access(t, (uint64_t)(a + i * PG), page, PG, PM_WRITE, NULL), PG);
	}
	EXPECT_EQ(SC(t, SYS_msync, a, 4 * PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_TRUE(host_pages_hold(&f, "grow", 0, 4, 'A'));
	fenv_close(&f);
}

/* mremap06 (7e7757876f25): page 1 of a 4-page shared file mapping is moved over page 3 and
 * back; the VMA it merges into must keep the right file offsets, so pages 0..2 show file
 * pages 0..2. Run three ways: all compatible, page 2 read-only, page 0 read-only. */
TEST(ltp_mremap06_moving_a_page_back_keeps_the_merged_file_offsets)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "pgoff", 4, 0x30);
	long fd = op(t, "pgoff", O_RDWR);
	static const int incompatible_page[] = { 0, 3, 1 };	/* 1-based; 0: none */
	for (int k = 0; k < 3; k++) {
		int incompatible = incompatible_page[k];
		REQUIRE_EQ(map_fd(t, W, 4 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
		EXPECT_EQ(SC(t, SYS_mremap, W + PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, W + 3 * PG, 0),
			  W + 3 * PG);
		if (incompatible)
			EXPECT_EQ(SC(t, SYS_mprotect, W + (incompatible - 1) * PG, PG, PROT_READ, 0, 0, 0), 0);
		EXPECT_EQ(SC(t, SYS_mremap, W + 3 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, W + PG, 0),
			  W + PG);
		for (int i = 0; i < 3; i++)
			EXPECT_EQ(peek(t, (uint64_t)(W + i * PG)), 0x30 + i);
		EXPECT_EQ(SC(t, SYS_munmap, W, 4 * PG, 0, 0, 0, 0), 0);
	}
	fenv_close(&f);
}

/* madvise10 (the KEEPONFORK and grandchild cases): KEEPONFORK undoes WIPEONFORK, and a
 * child inherits WIPEONFORK on its copy, so its own child sees that range zero again. */
TEST(ltp_madvise10_keeponfork_undoes_wipe_and_the_flag_reaches_grandchildren)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	REQUIRE_EQ(do_mmap(t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	poke(t, W, 1);
	poke(t, W + PG, 2);
	EXPECT_EQ(SC(t, SYS_madvise, W, 2 * PG, MADV_WIPEONFORK, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, W + PG, PG, MADV_KEEPONFORK, 0, 0, 0), 0);
	pm_thread *c = fork_of(&e, t);
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(peek(c, W), 0);
	EXPECT_EQ(peek(c, W + PG), 2);
	poke(c, W, 3);
	pm_thread *g = fork_of(&e, c);
	REQUIRE_EQ(g != NULL, 1);
	EXPECT_EQ(peek(g, W), 0);
	EXPECT_EQ(peek(g, W + PG), 2);
	EXPECT_EQ(peek(c, W), 3);
	EXPECT_EQ(peek(t, W), 1);
	env_close(&e);
}

/* brk02: the heap grown by 3 pages, its middle page made read-only (3 VMAs), then brk back
 * to the start: the call succeeds and every piece above the new break is gone. */
TEST(ltp_brk02_brk_back_across_an_mprotected_piece_unmaps_it)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long cur = SC(t, SYS_brk, 0, 0, 0, 0, 0, 0);
	long b0 = (cur + PG - 1) & ~(PG - 1);
	REQUIRE_EQ(SC(t, SYS_brk, b0 + 3 * PG, 0, 0, 0, 0, 0), b0 + 3 * PG);
	EXPECT_EQ(SC(t, SYS_mprotect, b0 + PG, PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(vmas_in(t, b0, b0 + 3 * PG), 3);
	EXPECT_EQ(SC(t, SYS_brk, b0, 0, 0, 0, 0, 0), b0);
	EXPECT_EQ(vmas_in(t, b0, b0 + 3 * PG), 0);
	EXPECT_EQ(fault_of(t, (uint64_t)(b0 + PG), PM_READ), SEGV_MAP);
	EXPECT_EQ(SC(t, SYS_brk, b0 + PG, 0, 0, 0, 0, 0), b0 + PG);
	EXPECT_EQ(peek(t, (uint64_t)b0), 0);
	env_close(&e);
}

/* mlock03: mlock and munlock of the whole [stack], ten times over, leave its maps line as
 * it was (the stack is neither shrunk nor split). */
TEST(ltp_mlock03_mlock_munlock_loops_leave_the_stack_alone)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	char before[256];
	const char *maps = proc_text(t, 0, "maps");
	const char *st = strstr(maps, "[stack]");
	REQUIRE_EQ(st != NULL, 1);
	while (st > maps && st[-1] != '\n')
		st--;
	unsigned long lo = 0, hi = 0;
	REQUIRE_EQ(sscanf(st, "%lx-%lx", &lo, &hi), 2);
	snprintf(before, sizeof(before), "%.*s", (int)strcspn(st, "\n"), st);
	for (int i = 0; i < 10; i++) {
		EXPECT_EQ(SC(t, SYS_mlock, (long)lo, (long)(hi - lo), 0, 0, 0, 0), 0);
		EXPECT_EQ(SC(t, SYS_munlock, (long)lo, (long)(hi - lo), 0, 0, 0, 0), 0);
	}
	EXPECT_STREQ(maps_line_at(t, lo), before);
	EXPECT_EQ(status_kb(t, "VmLck:"), 0);
	env_close(&e);
}

/* mlock04: mlock of a shared file mapping that is PROT_WRITE only succeeds, counts in
 * VmLck and makes every page resident (the populate reads what it cannot write-fault). */
TEST(ltp_mlock04_mlock_of_a_write_only_shared_file_mapping)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "wo", 4, 'w');
	long fd = op(t, "wo", O_RDWR);
	REQUIRE_EQ(map_fd(t, W, 4 * PG, PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_mlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(status_kb(t, "VmLck:"), 16);
	EXPECT_STREQ(mincore_str(t, W, 4), "1111");
	EXPECT_EQ(SC(t, SYS_munlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(status_kb(t, "VmLck:"), 0);
	fenv_close(&f);
}

/* mlock203: mlock2(MLOCK_ONFAULT) and then mlock of the same 4 pages counts them once in
 * VmLck (16 kB, not 32), and munlock takes them all off. */
TEST(ltp_mlock203_onfault_then_mlock_counts_vmlck_once)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	REQUIRE_EQ(do_mmap(t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(t, SYS_mlock2, W, 4 * PG, MLOCK_ONFAULT, 0, 0, 0), 0);
	EXPECT_EQ(status_kb(t, "VmLck:"), 16);
	EXPECT_STREQ(mincore_str(t, W, 4), "0000");
	EXPECT_EQ(SC(t, SYS_mlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(status_kb(t, "VmLck:"), 16);
	EXPECT_STREQ(mincore_str(t, W, 4), "1111");
	EXPECT_EQ(SC(t, SYS_munlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(status_kb(t, "VmLck:"), 0);
	env_close(&e);
}

/* mlockall03: MCL_CURRENT while the address space is larger than RLIMIT_MEMLOCK, without
 * SeLockMemoryPrivilege, is ENOMEM and locks nothing; with the limit above it, it works. */
TEST(ltp_mlockall03_mlockall_over_the_limit_is_enomem)
{
	struct env e = env_open();
	int err;
	pm_token *tok = pm_token_parse(e.sys, USER_TOKEN, &err);
	REQUIRE_EQ(tok != NULL, 1);
	pm_thread *p = pm_spawn(e.sys, tok, NULL);
	pm_token_put(tok);
	REQUIRE_EQ(p != NULL, 1);
	REQUIRE_EQ(do_mmap(p, W, 2 * MiB, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(set_rlimit(p, RLIMIT_MEMLOCK, 1 * MiB, 8 * MiB), 0);
	EXPECT_ERRNO(SC(p, SYS_mlockall, MCL_CURRENT, 0, 0, 0, 0, 0), -ENOMEM);
	EXPECT_EQ(status_kb(p, "VmLck:"), 0);
	EXPECT_EQ(set_rlimit(p, RLIMIT_MEMLOCK, 8 * MiB, 8 * MiB), 0);
	EXPECT_EQ(SC(p, SYS_mlockall, MCL_CURRENT, 0, 0, 0, 0, 0), 0);
	EXPECT_TRUE(status_kb(p, "VmLck:") >= 2 * 1024);
	EXPECT_EQ(SC(p, SYS_munlockall, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(status_kb(p, "VmLck:"), 0);
	env_close(&e);
}

/* mincore02: a shared file mapping never touched is not resident; after mlock every page
 * of it is. */
TEST(ltp_mincore02_locked_file_pages_are_resident)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "locked", 4, 'l');
	long fd = op(t, "locked", O_RDONLY);
	REQUIRE_EQ(map_fd(t, W, 4 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_STREQ(mincore_str(t, W, 4), "0000");
	EXPECT_EQ(SC(t, SYS_mlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_STREQ(mincore_str(t, W, 4), "1111");
	fenv_close(&f);
}

/* mincore04: pages a child faults in through an inherited shared mapping (anonymous
 * shared memory, and a shared file) count as resident in the parent, which never
 * touched them: mincore asks the page cache, not the caller's page tables. */
TEST(ltp_mincore04_pages_a_child_faults_are_resident_in_the_parent)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "shared", 4, 's');
	long fd = op(t, "shared", O_RDWR);
	REQUIRE_EQ(do_mmap(t, W, 4 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	REQUIRE_EQ(map_fd(t, W + 8 * PG, 4 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W + 8 * PG);
	EXPECT_STREQ(mincore_str(t, W, 4), "0000");
	pm_thread *c = fork_of(&f.e, t);
	REQUIRE_EQ(c != NULL, 1);
	poke(c, W, 1);
	EXPECT_EQ(peek(c, W + 2 * PG), 0);
	poke(c, W + 8 * PG, 1);
	poke(c, W + 10 * PG, 1);
	EXPECT_EQ(SC(c, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_STREQ(mincore_str(t, W, 4), "1010");
	const char *file = mincore_str(t, W + 8 * PG, 4);
	EXPECT_TRUE(file[0] == '1' && file[2] == '1');	/* read-around may add pages 1, 3 */
	fenv_close(&f);
}
