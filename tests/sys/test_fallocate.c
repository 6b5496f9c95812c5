/*
 * fallocate on host files: a hole punched through a shared mapping reaches the host file
 * byte-exact (whole pages and partial edges), every mapping reads zeroes there, and
 * allocation grows the file. The shmem side (swap slots) is in tests/mm/test_shmem_swap.c.
 */
#include "file_env.h"

#include <linux/falloc.h>

TEST(fallocate_punches_a_host_file_byte_exact_through_the_cache)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	char text[3 * 4096 + 1];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	put_host(&f, "data", text);
	long fd = op(t, "data", O_RDWR);
	long a = SC(t, SYS_mmap, 0, 3 * PG, RW, MAP_SHARED, fd, 0);
	REQUIRE_EQ(a > 0, 1);
	const char *v = strstr(proc_text(t, -1, "vmstat"), "\npgmajfault ");
	long maj0 = v ? strtol(v + 12, NULL, 10) : -1;
	EXPECT_EQ(peek(t, (uint64_t)a + 2 * PG), 'x');	/* cached and mapped */
	v = strstr(proc_text(t, -1, "vmstat"), "\npgmajfault ");
	EXPECT_EQ(v ? strtol(v + 12, NULL, 10) : -1, maj0 + 1);	/* read from the host */
	EXPECT_EQ(SC(t, SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100,
		     2 * PG, 0, 0), 0);
	EXPECT_EQ(peek(t, (uint64_t)a + 99), 'x');
	EXPECT_EQ(peek(t, (uint64_t)a + 100), 0);
	EXPECT_EQ(peek(t, (uint64_t)a + PG + 5), 0);
	EXPECT_EQ(peek(t, (uint64_t)a + 2 * PG + 99), 0);
	EXPECT_EQ(peek(t, (uint64_t)a + 2 * PG + 100), 'x');
	char p[128];
	snprintf(p, sizeof(p), "%s/data", f.root);
	int hfd = open(p, O_RDONLY);
	static char host[3 * 4096];
	EXPECT_EQ(pread(hfd, host, sizeof(host), 0), (long)sizeof(host));
	EXPECT_EQ(host[99], 'x');
	EXPECT_EQ(host[100], 0);
	EXPECT_EQ(host[2 * 4096 + 99], 0);
	EXPECT_EQ(host[2 * 4096 + 100], 'x');
	EXPECT_EQ(SC(t, SYS_fallocate, fd, 0, 3 * PG, PG, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_lseek, fd, 0, SEEK_END, 0, 0, 0), 4 * PG);
	struct stat st;
	EXPECT_EQ(fstat(hfd, &st), 0);
	EXPECT_EQ(st.st_size, 4 * 4096);
	close(hfd);
	long ro = op(t, "data", O_RDONLY);
	EXPECT_ERRNO(SC(t, SYS_fallocate, ro, 0, 0, PG, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_fallocate, ro, 0x100, 0, PG, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_COLLAPSE_RANGE, 0, PG, 0, 0), -EOPNOTSUPP);
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}
