/*
 * MADV_REMOVE (SPEC §6): punches a hole in the object behind a shared mapping (shmem,
 * memfd, host file), so every process mapping those pages reads zeroes and the page cache
 * drops them; a host file gets a real hole. Private copies survive. Errnos as Linux 6.18.
 */
#include "file_env.h"

#define W 0x200000000000L

/* Shared anonymous memory is shmem: the punch reaches a fork child's mapping too. */
TEST(remove_on_shared_anon_zeroes_every_mapper)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 3 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(poke(e.t, W + i * PG, (uint8_t)(0x41 + i)), 1);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(peek(c, W + PG), 0x42);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "RssShmem:\t      12 kB") != NULL);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, MADV_REMOVE, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "RssShmem:\t       8 kB") != NULL);
	EXPECT_EQ(peek(c, W + PG), 0);
	EXPECT_EQ(peek(e.t, W + PG), 0);
	EXPECT_EQ(peek(c, W), 0x41);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 0x43);
	env_close(&e);
}

/* madvise_remove's checks: private anonymous or locked -> EINVAL; a private file mapping,
 * or a shared one of a file opened read-only -> EACCES; a hole -> ENOMEM. */
TEST(remove_errnos_follow_linux)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	EXPECT_EQ(do_mmap(t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_ERRNO(SC(t, SYS_madvise, W, PG, MADV_REMOVE, 0, 0, 0), -EINVAL);
	EXPECT_EQ(do_mmap(t, W + 2 * PG, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_LOCKED),
		  W + 2 * PG);
	EXPECT_ERRNO(SC(t, SYS_madvise, W + 2 * PG, PG, MADV_REMOVE, 0, 0, 0), -EINVAL);
	long fd = op(t, "/hello.txt", O_RDWR);
	EXPECT_EQ(SC(t, SYS_mmap, W + 4 * PG, PG, RW, MAP_PRIVATE | MAP_FIXED, fd, 0), W + 4 * PG);
	EXPECT_ERRNO(SC(t, SYS_madvise, W + 4 * PG, PG, MADV_REMOVE, 0, 0, 0), -EACCES);
	long ro = op(t, "/hello.txt", O_RDONLY);
	EXPECT_EQ(SC(t, SYS_mmap, W + 6 * PG, PG, PROT_READ, MAP_SHARED | MAP_FIXED, ro, 0), W + 6 * PG);
	EXPECT_ERRNO(SC(t, SYS_madvise, W + 6 * PG, PG, MADV_REMOVE, 0, 0, 0), -EACCES);
	/* A read-only shared view of a read-write descriptor may punch (VM_MAYWRITE). */
	EXPECT_EQ(SC(t, SYS_mmap, W + 8 * PG, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W + 8 * PG);
	EXPECT_EQ(SC(t, SYS_madvise, W + 8 * PG, PG, MADV_REMOVE, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_madvise, W + 7 * PG, 2 * PG, MADV_REMOVE, 0, 0, 0), -ENOMEM);
	fenv_close(&f);
}

/* A host file: the hole is real on the host (SEEK_HOLE finds it, it reads zeroes), the
 * mapping reads zeroes, and a private copy of the page made earlier keeps its data. */
TEST(remove_on_host_file_punches_a_host_hole)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	static char text[3 * PG + 1];
	memset(text, 'x', 3 * PG);
	put_host(&f, "data.bin", text);
	long fd = op(t, "/data.bin", O_RDWR);
	EXPECT_EQ(SC(t, SYS_mmap, W, 3 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_mmap, W + 4 * PG, 3 * PG, RW, MAP_PRIVATE | MAP_FIXED, fd, 0), W + 4 * PG);
	EXPECT_EQ(poke(t, W + 5 * PG, 'p'), 1);		/* a private copy of page 1 */
	EXPECT_EQ(peek(t, W + PG + 1), 'x');
	EXPECT_EQ(SC(t, SYS_madvise, W + PG, PG, MADV_REMOVE, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + PG + 1), 0);
	EXPECT_EQ(peek(t, W + 5 * PG), 'p');
	EXPECT_EQ(peek(t, W + 5 * PG + 1), 'x');
	EXPECT_EQ(peek(t, W + 2 * PG), 'x');
	char p[128];
	snprintf(p, sizeof(p), "%s/data.bin", f.root);
	int hfd = open(p, O_RDONLY);
	EXPECT_EQ(lseek(hfd, 0, SEEK_HOLE), PG);
	char b[4] = { 1, 1, 1, 1 };
	EXPECT_EQ(pread(hfd, b, 4, PG + 10), 4);
	EXPECT_EQ(b[0] | b[1] | b[2] | b[3], 0);
	struct stat st;
	fstat(hfd, &st);
	EXPECT_EQ(st.st_size, 3 * PG);		/* FALLOC_FL_KEEP_SIZE */
	close(hfd);
	fenv_close(&f);
}

/* A memfd: the punch frees the page-cache frame and the memfd reads zeroes there. */
TEST(remove_on_memfd_frees_its_page)
{
	struct env e = env_open();
	long fd = SC(e.t, SYS_memfd_create, (long)pm_scratch(e.t, "m", 2), 0, 0, 0, 0, 0);
	EXPECT_EQ(SC(e.t, SYS_ftruncate, fd, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_mmap, W, 2 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(poke(e.t, W, 7), 1);
	EXPECT_EQ(poke(e.t, W + PG, 8), 1);
	pm_sysinfo before, after;
	pm_system_info(e.sys, &before);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, PG, MADV_REMOVE, 0, 0, 0), 0);
	pm_system_info(e.sys, &after);
	EXPECT_EQ(after.free_frames, before.free_frames + 1);
	long b = (long)pm_scratch(e.t, "zz", 2);
	EXPECT_EQ(SC(e.t, SYS_pread64, fd, b, 1, 0, 0, 0), 1);
	EXPECT_EQ(peek(e.t, (uint64_t)b), 0);
	EXPECT_EQ(peek(e.t, W + PG), 8);
	env_close(&e);
}
