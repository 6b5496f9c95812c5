/*
 * LTP testcases/kernel/syscalls/mmap, ported as scenarios (docs/conformance.md): partial
 * last pages, read-only and exec file maps, maps permissions, PROT_NONE, the refusal
 * errnos, ftruncate under a live map, high addresses, remapping two files crosswise and
 * MAP_SHARED_VALIDATE. Each test is named after the LTP case it ports.
 */
#include "conf.h"

/* mmap01: a file of 10 bytes mapped shared: the rest of its page reads zero, and a store
 * there reaches neither the file's bytes nor its size, also after msync and munmap. */
TEST(ltp_mmap01_bytes_past_eof_read_zero_and_never_reach_the_file)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_host(&f, "ten", "0123456789");
	long fd = op(t, "ten", O_RDWR);
	REQUIRE_EQ(map_fd(t, W, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(peek(t, W + 9), '9');
	for (long off = 10; off < PG; off += 509)
		EXPECT_EQ(peek(t, W + off), 0);
	EXPECT_EQ(peek(t, W + PG - 1), 0);
	EXPECT_EQ(pm_access(t, W + 100, "XYZ", 3, PM_WRITE, NULL), 3);
	EXPECT_EQ(SC(t, SYS_msync, W, PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_EQ(host_size(&f, "ten"), 10);
	EXPECT_STREQ(host_text(&f, "ten"), "0123456789");
	EXPECT_EQ(SC(t, SYS_munmap, W, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(host_size(&f, "ten"), 10);
	fenv_close(&f);
}

/* mmap02: PROT_READ of an O_RDONLY descriptor works and shows the file's bytes. */
TEST(ltp_mmap02_read_only_fd_maps_prot_read_and_shows_the_file)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDONLY);
	REQUIRE_EQ(map_fd(t, W, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	char b[14] = { 0 };
	EXPECT_EQ(pm_access(t, W, b, 13, PM_READ, NULL), 13);
	EXPECT_STREQ(b, "hello, world\n");
	EXPECT_EQ(fault_of(t, W, PM_WRITE), SEGV_ACC);
	fenv_close(&f);
}

/* mmap03: a 0555 file opened read-only maps PROT_READ|PROT_EXEC, and instruction fetches
 * see the file's bytes (never-writable code is allowed under W^X, SPEC §4). */
TEST(ltp_mmap03_exec_map_of_a_read_only_0555_file_fetches_its_bytes)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "code", 1, (char)0x90);
	chmod_host(&f, "code", 0555);
	long fd = op(t, "code", O_RDONLY);
	REQUIRE_EQ(map_fd(t, W, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0), W);
	uint8_t b[16];
	EXPECT_EQ(pm_access(t, W + 32, b, 16, PM_EXEC, NULL), 16);
	EXPECT_EQ(b[0], 0x90);
	EXPECT_EQ(b[15], 0x90);
	EXPECT_STREQ(perms_at(t, W), "r-xp");
	fenv_close(&f);
}

/* mmap04: the maps permission field follows prot and MAP_SHARED / MAP_PRIVATE. Write+exec
 * combinations are refused by W^X (SPEC §4, §13) and are not in the list. */
TEST(ltp_mmap04_maps_permissions_follow_prot_and_sharing)
{
	static const struct { int prot, flags; const char *want; } cases[] = {
		{ PROT_NONE, MAP_PRIVATE, "---p" },		{ PROT_NONE, MAP_SHARED, "---s" },
		{ PROT_READ, MAP_PRIVATE, "r--p" },		{ PROT_READ, MAP_SHARED, "r--s" },
		{ PROT_WRITE, MAP_PRIVATE, "-w-p" },		{ PROT_WRITE, MAP_SHARED, "-w-s" },
		{ RW, MAP_PRIVATE, "rw-p" },			{ RW, MAP_SHARED, "rw-s" },
		{ PROT_READ | PROT_EXEC, MAP_PRIVATE, "r-xp" }, { PROT_READ | PROT_EXEC, MAP_SHARED, "r-xs" },
		{ PROT_EXEC, MAP_PRIVATE, "--xp" },
	};
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "f", 1, 'a');
	chmod_host(&f, "f", 0755);
	long fd = op(t, "f", O_RDWR);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long a = map_fd(t, W, PG, cases[i].prot, cases[i].flags | MAP_FIXED, fd, 0);
		EXPECT_EQ(a, W);
		const char *got = perms_at(t, W);
		if (strcmp(got, cases[i].want) != 0)
			check_failed(__FILE__, __LINE__, "mmap(prot %#x, flags %#x): maps perms %s, want %s",
				     cases[i].prot, cases[i].flags, got, cases[i].want);
		EXPECT_EQ(SC(t, SYS_munmap, W, PG, 0, 0, 0, 0), 0);
	}
	EXPECT_ERRNO(map_fd(t, W, PG, RW | PROT_EXEC, MAP_PRIVATE, fd, 0), -EACCES);	/* W^X */
	fenv_close(&f);
}

/* mmap05: a PROT_NONE file mapping is created, and every access to it is SIGSEGV. */
TEST(ltp_mmap05_prot_none_file_mapping_faults_on_every_access)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDWR);
	REQUIRE_EQ(map_fd(t, W, PG, PROT_NONE, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(fault_of(t, W, PM_READ), SEGV_ACC);
	EXPECT_EQ(fault_of(t, W + 5, PM_WRITE), SEGV_ACC);
	EXPECT_EQ(fault_of(t, W + 9, PM_EXEC), SEGV_ACC);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "hello, world\n");
	fenv_close(&f);
}

/* mmap06: EACCES for a descriptor that is not open for reading; EINVAL for length 0 and
 * for flags naming neither MAP_PRIVATE, MAP_SHARED nor MAP_SHARED_VALIDATE. */
TEST(ltp_mmap06_write_only_fd_zero_length_and_missing_type_are_refused)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long wo = op(t, "hello.txt", O_WRONLY);
	long rw = op(t, "hello.txt", O_RDWR);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED, wo, 0), -EACCES);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_PRIVATE, wo, 0), -EACCES);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_WRITE, MAP_SHARED, wo, 0), -EACCES);
	EXPECT_ERRNO(map_fd(t, 0, 0, PROT_READ, MAP_SHARED, rw, 0), -EINVAL);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, 0, rw, 0), -EINVAL);
	EXPECT_ERRNO(map_fd(t, W, PG, PROT_READ, MAP_FIXED, rw, 0), -EINVAL);
	fenv_close(&f);
}

/* mmap08: a closed or never-opened descriptor is EBADF. */
TEST(ltp_mmap08_closed_descriptor_is_ebadf)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDWR);
	EXPECT_EQ(SC(t, SYS_close, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED, fd, 0), -EBADF);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_PRIVATE, 1000, 0), -EBADF);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED, -1, 0), -EBADF);
	fenv_close(&f);
}

/* mmap09: ftruncate of a mapped file: shrinking makes the cut pages SIGBUS, growing again
 * brings them back reading zero, and truncating to 0 makes even page 0 SIGBUS. */
TEST(ltp_mmap09_ftruncate_shrink_grow_and_zero_while_mapped)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "f", 4, 'a');
	long fd = op(t, "f", O_RDWR);
	REQUIRE_EQ(map_fd(t, W, 4 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(peek(t, W + 3 * PG), 'd');
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + PG), 'b');
	EXPECT_EQ(fault_of(t, W + 2 * PG, PM_READ), BUS_ADR);
	EXPECT_EQ(fault_of(t, W + 3 * PG, PM_WRITE), BUS_ADR);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + 3 * PG), 0);
	EXPECT_EQ(poke(t, W + 3 * PG, 'z'), 1);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(fault_of(t, W, PM_READ), BUS_ADR);
	EXPECT_EQ(host_size(&f, "f"), 0);
	fenv_close(&f);
}

/* mmap15: a fixed mapping above the user address range (here at 2^53) is ENOMEM. */
TEST(ltp_mmap15_fixed_mapping_above_the_user_range_is_enomem)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDWR);
	EXPECT_ERRNO(map_fd(t, 1L << 53, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), -ENOMEM);
	EXPECT_ERRNO(do_mmap(t, 0x7ffffffff000L, 2 * PG, PROT_READ, ANON | MAP_FIXED), -ENOMEM);
	long a = map_fd(t, 1L << 53, PG, PROT_READ, MAP_SHARED, fd, 0);	/* a hint only */
	EXPECT_TRUE(a > 0 && a < 0x7ffffffff000L);
	fenv_close(&f);
}

/* mmap19: two files mapped at X and Y, then remapped crosswise with MAP_FIXED: each address
 * shows the other file's bytes (a stale translation would show the old ones). */
TEST(ltp_mmap19_remapping_two_files_crosswise_shows_the_new_data)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "a", 1, 'A');
	put_pages(&f, "b", 1, 'B');
	long fa = op(t, "a", O_RDWR), fb = op(t, "b", O_RDWR);
	long x = W, y = W + 16 * PG;
	REQUIRE_EQ(map_fd(t, x, PG, RW, MAP_SHARED | MAP_FIXED, fa, 0), x);
	REQUIRE_EQ(map_fd(t, y, PG, RW, MAP_SHARED | MAP_FIXED, fb, 0), y);
	EXPECT_EQ(peek(t, x), 'A');
	EXPECT_EQ(peek(t, y), 'B');
	REQUIRE_EQ(map_fd(t, x, PG, RW, MAP_SHARED | MAP_FIXED, fb, 0), x);
	REQUIRE_EQ(map_fd(t, y, PG, RW, MAP_SHARED | MAP_FIXED, fa, 0), y);
	EXPECT_EQ(peek(t, x), 'B');
	EXPECT_EQ(peek(t, y), 'A');
	fenv_close(&f);
}

/* mmap20: MAP_SHARED_VALIDATE refuses a flag bit it does not know with EOPNOTSUPP, where
 * plain MAP_SHARED ignores it. */
TEST(ltp_mmap20_shared_validate_with_an_unknown_flag_is_eopnotsupp)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDWR);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x400, fd, 0), -EOPNOTSUPP);
	EXPECT_TRUE(map_fd(t, 0, PG, PROT_READ, MAP_SHARED | 0x400, fd, 0) > 0);
	EXPECT_TRUE(map_fd(t, 0, PG, PROT_READ, MAP_SHARED_VALIDATE, fd, 0) > 0);
	fenv_close(&f);
}
