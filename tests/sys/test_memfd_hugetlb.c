/*
 * memfd_create(MFD_HUGETLB): a hugetlbfs file on the simulated pool, with Linux 6.18's
 * rules as probed on the build machine: MFD_HUGE_* sizes (LTP memfd_create04), write(2)
 * EINVAL, huge-page munmap and the pool limit at mmap (LTP memfd_create03), ftruncate in
 * whole huge pages, mmap offsets, reservations kept by the file, a writable mapping
 * growing it, read(2), sharing across mappings and fork, fallocate and hole punching,
 * seals, the maps and smaps views, and the pool counters back at the start afterwards;
 * and fallocate on a shmem memfd, which came with the same syscall.
 */
#include "pm_test.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#include "file_env.h"

#define HUGE		(2 * MiB)
#define MFD_HUGETLB_	0x0004L
#define MFD_SEAL_	0x0002L	/* MFD_ALLOW_SEALING */
#define HUGE_LOG(n)	((long)(n) << 26)

static pm_thread *admin(struct env *e)
{
	int err;
	pm_token *st = pm_token_parse(e->sys, "system", &err);
	pm_thread *t = pm_spawn(e->sys, st, NULL);
	pm_token_put(st);
	return t;
}

static long meminfo(pm_thread *t, const char *field)
{
	const char *s = strstr(proc_text(t, -1, "meminfo"), field);
	return s ? strtol(s + strlen(field) + 1, NULL, 10) : -1;
}

#define FREE(t)	meminfo(t, "HugePages_Free:")
#define RSVD(t)	meminfo(t, "HugePages_Rsvd:")

/* A system with a pool of n 2 MiB pages, one process. */
static struct env pool_env(long n)
{
	struct env e = env_open();
	pm_registry_set(admin(&e), "NrHugepages2M", n);
	return e;
}

static long hmemfd(pm_thread *t, const char *name, long flags)
{
	return SC(t, SYS_memfd_create, str(t, name), MFD_HUGETLB_ | flags, 0, 0, 0, 0);
}

static long fmap(pm_thread *t, long len, long prot, long flags, long fd, long off)
{
	return SC(t, SYS_mmap, 0, len, prot, flags, fd, off);
}

static struct stat fstat_of(pm_thread *t, long fd)
{
	struct stat st;
	long b = buf(t, sizeof(st));
	memset(&st, 0xff, sizeof(st));
	if (SC(t, SYS_fstat, fd, b, 0, 0, 0, 0) == 0)
		pm_access(t, (uint64_t)b, &st, sizeof(st), PM_READ, NULL);
	return st;
}

/* LTP memfd_create04: the default size, MFD_HUGE_2MB and MFD_HUGE_1GB have a pool (x86
 * with gbpages: peimm always has both); every other size is ENODEV; MFD_HUGE_* without
 * MFD_HUGETLB is EINVAL (Linux 6.18 probe). */
TEST(memfd_create04_huge_page_sizes)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	EXPECT_TRUE(hmemfd(t, "d", 0) >= 0);
	EXPECT_TRUE(hmemfd(t, "2m", HUGE_LOG(21)) >= 0);
	EXPECT_TRUE(hmemfd(t, "1g", HUGE_LOG(30)) >= 0);
	static const int none[] = { 16, 19, 23, 24, 28, 31, 34, 63 };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		EXPECT_ERRNO(hmemfd(t, "x", HUGE_LOG(none[i])), -ENODEV);
	EXPECT_ERRNO(SC(t, SYS_memfd_create, str(t, "x"), HUGE_LOG(21), 0, 0, 0, 0), -EINVAL);
	EXPECT_TRUE(hmemfd(t, "s", MFD_SEAL_ | 8 /* MFD_NOEXEC_SEAL */) >= 0);
	env_close(&e);
}

/* LTP memfd_create03: write(2) is EINVAL, a private writable mapping of a default-size
 * page takes a store, munmap of less than a huge page is EINVAL, and once every free page
 * is mapped another memfd's mapping is ENOMEM at mmap. */
TEST(memfd_create03_write_munmap_and_pool_limit)
{
	struct env e = pool_env(3);
	pm_thread *t = e.t;
	long fd = hmemfd(t, "test_file", 0);
	REQUIRE_EQ(fd >= 0, 1);
	EXPECT_ERRNO(SC(t, SYS_write, fd, str(t, "LTP"), 3, 0, 0, 0), -EINVAL);
	long m = fmap(t, HUGE, PROT_WRITE, MAP_PRIVATE, fd, 0);
	REQUIRE_EQ(m > 0, 1);
	EXPECT_EQ(poke(t, (uint64_t)m, 0), 1);
	for (long n = HUGE / 4; n < HUGE; n += HUGE / 4)
		EXPECT_ERRNO(SC(t, SYS_munmap, m, n, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_munmap, m, HUGE, 0, 0, 0, 0), 0);
	long free_pages = FREE(t);
	EXPECT_EQ(free_pages, 3);
	long all = fmap(t, free_pages * HUGE, PROT_WRITE, MAP_PRIVATE, fd, 0);
	REQUIRE_EQ(all > 0, 1);
	EXPECT_EQ(poke(t, (uint64_t)all, 0), 1);
	long fd2 = hmemfd(t, "new_file", 0);
	EXPECT_ERRNO(fmap(t, HUGE, 0, MAP_PRIVATE, fd2, 0), -ENOMEM);
	EXPECT_EQ(SC(t, SYS_munmap, all, free_pages * HUGE, 0, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* ftruncate takes whole huge pages only; mmap needs a huge-aligned offset, rounds the
 * length up and reserves what the file lacks (HugePages_Rsvd), the file keeping the
 * promise after munmap; a fault takes the reserved page; a writable mapping past EOF
 * grows the file and a read-only one does not, faulting SIGBUS there. */
TEST(memfd_hugetlb_ftruncate_mmap_and_reservations)
{
	struct env e = pool_env(8);
	pm_thread *t = e.t;
	long fd = hmemfd(t, "hx", MFD_SEAL_);
	struct stat st = fstat_of(t, fd);
	EXPECT_EQ(st.st_size, 0);
	EXPECT_EQ(st.st_blksize, HUGE);
	EXPECT_EQ(st.st_mode, S_IFREG | 0777);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GET_SEALS, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, fd, 1, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, fd, HUGE + PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 2 * HUGE, 0, 0, 0, 0), 0);
	EXPECT_EQ(fstat_of(t, fd).st_size, 2 * HUGE);
	EXPECT_EQ(RSVD(t), 0);
	EXPECT_ERRNO(fmap(t, HUGE, RW, MAP_SHARED, fd, PG), -EINVAL);
	long a = fmap(t, HUGE, RW, MAP_SHARED, fd, HUGE);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(a & (HUGE - 1), 0);
	EXPECT_EQ(RSVD(t), 1);
	long b = fmap(t, PG, RW, MAP_SHARED, fd, 0);	/* the length rounds up to 2 MiB */
	EXPECT_EQ(RSVD(t), 2);
	EXPECT_EQ(poke(t, (uint64_t)b, 1), 1);
	EXPECT_EQ(FREE(t), 7);
	EXPECT_EQ(RSVD(t), 1);
	EXPECT_EQ(fstat_of(t, fd).st_blocks, HUGE / 512);
	EXPECT_EQ(peek(t, (uint64_t)b + HUGE - 1), 0);
	EXPECT_ERRNO(SC(t, SYS_munmap, b, PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_munmap, b, HUGE, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_munmap, a, HUGE, 0, 0, 0, 0), 0);
	EXPECT_EQ(RSVD(t), 1);	/* page 1 stays promised to the file */
	long c = fmap(t, 4 * HUGE, RW, MAP_SHARED, fd, 0);
	REQUIRE_EQ(c > 0, 1);
	EXPECT_EQ(fstat_of(t, fd).st_size, 4 * HUGE);
	EXPECT_EQ(RSVD(t), 3);
	EXPECT_EQ(peek(t, (uint64_t)c), 1);
	EXPECT_EQ(poke(t, (uint64_t)c + 3 * HUGE, 2), 1);
	EXPECT_EQ(RSVD(t), 2);
	long r = fmap(t, HUGE, PROT_READ, MAP_SHARED, fd, 4 * HUGE);
	REQUIRE_EQ(r > 0, 1);
	EXPECT_EQ(fstat_of(t, fd).st_size, 4 * HUGE);
	pm_siginfo si;
	uint8_t v;
	EXPECT_ERRNO(pm_access(t, (uint64_t)r, &v, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_EQ(RSVD(t), 3);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(t, SYS_close, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(RSVD(t), 3);	/* the mappings keep the file */
	SC(t, SYS_munmap, c, 4 * HUGE, 0, 0, 0, 0);
	SC(t, SYS_munmap, r, HUGE, 0, 0, 0, 0);
	EXPECT_EQ(FREE(t), 8);
	EXPECT_EQ(RSVD(t), 0);
	env_close(&e);
}

/* A private mapping reserves its whole length, reads the file's page, and a store copies
 * it into a page of its own (the file keeps its byte); munmap gives the copy back. */
TEST(memfd_hugetlb_private_mapping_copies_on_write)
{
	struct env e = pool_env(4);
	pm_thread *t = e.t;
	long fd = hmemfd(t, "pv", 0);
	SC(t, SYS_ftruncate, fd, HUGE, 0, 0, 0, 0);
	long s = fmap(t, HUGE, RW, MAP_SHARED, fd, 0);
	poke(t, (uint64_t)s + 10, 5);
	EXPECT_EQ(FREE(t), 3);
	long p = fmap(t, HUGE, RW, MAP_PRIVATE, fd, 0);
	REQUIRE_EQ(p > 0, 1);
	EXPECT_EQ(RSVD(t), 1);
	EXPECT_EQ(peek(t, (uint64_t)p + 10), 5);	/* the file's page, read-only */
	EXPECT_EQ(FREE(t), 3);
	EXPECT_EQ(RSVD(t), 1);
	EXPECT_EQ(poke(t, (uint64_t)p + 10, 6), 1);
	EXPECT_EQ(FREE(t), 2);
	EXPECT_EQ(RSVD(t), 0);
	EXPECT_EQ(peek(t, (uint64_t)s + 10), 5);
	long b = buf(t, 16);
	EXPECT_EQ(SC(t, SYS_pread64, fd, b, 16, 0, 0, 0), 16);
	EXPECT_EQ(peek(t, (uint64_t)b + 10), 5);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	SC(t, SYS_munmap, p, HUGE, 0, 0, 0, 0);
	EXPECT_EQ(FREE(t), 3);
	EXPECT_EQ(RSVD(t), 0);
	SC(t, SYS_close, fd, 0, 0, 0, 0, 0);
	SC(t, SYS_munmap, s, HUGE, 0, 0, 0, 0);
	EXPECT_EQ(FREE(t), 4);
	env_close(&e);
}

/* Two mappings and a forked child share the file's pages; read(2) sees stores and reads
 * holes as zeroes without allocating; maps names the memfd on the hugetlbfs device 00:11
 * and smaps shows 2048 kB pages. */
TEST(memfd_hugetlb_is_shared_and_readable)
{
	struct env e = pool_env(4);
	pm_thread *t = e.t;
	long fd = hmemfd(t, "shr", 0);
	SC(t, SYS_ftruncate, fd, 2 * HUGE, 0, 0, 0, 0);
	long a = fmap(t, 2 * HUGE, RW, MAP_SHARED, fd, 0), b = fmap(t, HUGE, RW, MAP_SHARED, fd, 0);
	REQUIRE_EQ(a > 0 && b > 0, 1);
	poke(t, (uint64_t)a + 7, 42);
	EXPECT_EQ(peek(t, (uint64_t)b + 7), 42);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(poke(c, (uint64_t)b + 8, 43), 1);
	EXPECT_EQ(peek(t, (uint64_t)a + 8), 43);
	long rb = buf(t, 16);
	EXPECT_EQ(SC(t, SYS_read, fd, rb, 16, 0, 0, 0), 16);
	EXPECT_EQ(peek(t, (uint64_t)rb + 7), 42);
	EXPECT_EQ(peek(t, (uint64_t)rb + 8), 43);
	EXPECT_EQ(SC(t, SYS_pread64, fd, rb, 16, HUGE + 5, 0, 0), 16);	/* a hole */
	EXPECT_EQ(peek(t, (uint64_t)rb), 0);
	EXPECT_EQ(SC(t, SYS_pread64, fd, rb, 16, 2 * HUGE - 2, 0, 0), 2);
	EXPECT_EQ(SC(t, SYS_pread64, fd, rb, 16, 2 * HUGE, 0, 0), 0);
	EXPECT_EQ(FREE(t), 3);
	EXPECT_ERRNO(SC(t, SYS_pwrite64, fd, rb, 1, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_write, fd, rb, 0, 0, 0, 0), -EINVAL);
	const char *line = maps_line_at(t, (uint64_t)a);
	EXPECT_TRUE(strstr(line, " 00:11 ") != NULL);
	EXPECT_TRUE(strstr(line, "/memfd:shr (deleted)") != NULL);
	const char *sm = strstr(proc_text(t, 0, "smaps"), "/memfd:shr (deleted)");
	REQUIRE_EQ(sm != NULL, 1);
	EXPECT_TRUE(strstr(sm, "KernelPageSize:     2048 kB") != NULL);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* fallocate allocates whole huge pages over the range (the size grows to off + len unless
 * KEEP_SIZE), ENOSPC when the pool runs dry with the pages got so far kept; a punch frees
 * the pages wholly inside, zeroes the partial ones, unmaps them; other modes EOPNOTSUPP. */
TEST(memfd_hugetlb_fallocate_allocates_and_punches)
{
	struct env e = pool_env(4);
	pm_thread *t = e.t;
	long fd = hmemfd(t, "fa", 0);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, 0, 0, HUGE, 0, 0), 0);
	EXPECT_EQ(FREE(t), 3);
	EXPECT_EQ(fstat_of(t, fd).st_size, HUGE);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, 0, 2 * HUGE + 1, 10, 0, 0), 0);
	EXPECT_EQ(FREE(t), 2);
	EXPECT_EQ(fstat_of(t, fd).st_size, 2 * HUGE + 11);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 3 * HUGE, HUGE, 0, 0), 0);
	EXPECT_EQ(fstat_of(t, fd).st_size, 2 * HUGE + 11);
	EXPECT_EQ(fstat_of(t, fd).st_blocks, 3 * HUGE / 512);
	EXPECT_EQ(FREE(t), 1);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, 0, 4 * HUGE, 2 * HUGE, 0, 0), -ENOSPC);
	EXPECT_EQ(FREE(t), 0);
	EXPECT_EQ(fstat_of(t, fd).st_size, 2 * HUGE + 11);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, HUGE, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_ZERO_RANGE, 0, HUGE, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_COLLAPSE_RANGE, 0, HUGE, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, 0x200, 0, HUGE, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, 0, -1, HUGE, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_fallocate, 99, 0, 0, HUGE, 0, 0), -EBADF);
	long keep = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	EXPECT_EQ(SC(t, SYS_fallocate, fd, keep, 3 * HUGE, 2 * HUGE, 0, 0), 0);
	EXPECT_EQ(FREE(t), 2);
	long m = fmap(t, 2 * HUGE, RW, MAP_SHARED, fd, 0);
	REQUIRE_EQ(m > 0, 1);
	EXPECT_EQ(RSVD(t), 1);
	for (long off = 0; off < 2 * HUGE; off += HUGE / 2)
		poke(t, (uint64_t)(m + off), 7);
	poke(t, (uint64_t)m + 99, 7);
	poke(t, (uint64_t)m + HUGE + 100, 7);
	EXPECT_EQ(RSVD(t), 0);
	EXPECT_EQ(FREE(t), 1);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, keep, 100, HUGE, 0, 0), 0);	/* two partial pages */
	EXPECT_EQ(FREE(t), 1);
	EXPECT_EQ(peek(t, (uint64_t)m + 99), 7);
	EXPECT_EQ(peek(t, (uint64_t)m + HUGE / 2), 0);
	EXPECT_EQ(peek(t, (uint64_t)m + HUGE), 0);
	EXPECT_EQ(peek(t, (uint64_t)m + HUGE + 100), 7);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, keep, HUGE, HUGE, 0, 0), 0);	/* mapped: unmapped */
	EXPECT_EQ(FREE(t), 2);
	EXPECT_EQ(peek(t, (uint64_t)m + HUGE + 100), 0);	/* refaults a fresh page */
	EXPECT_EQ(FREE(t), 1);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	SC(t, SYS_munmap, m, 2 * HUGE, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(FREE(t), 4);
	EXPECT_EQ(RSVD(t), 0);
	env_close(&e);
}

/* Seals on a hugetlb memfd work as on shmem: SHRINK and GROW stop size changes (GROW
 * even a KEEP_SIZE fallocate past EOF), WRITE is EBUSY while a writable shared mapping
 * exists and then refuses one, FUTURE_WRITE refuses writable shared mappings now and
 * later (mprotect EACCES); MFD_NOEXEC_SEAL starts with F_SEAL_EXEC and mode 0666. */
TEST(memfd_hugetlb_seals)
{
	struct env e = pool_env(4);
	pm_thread *t = e.t;
	long fd = hmemfd(t, "sl", MFD_SEAL_);
	SC(t, SYS_ftruncate, fd, 2 * HUGE, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SHRINK, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, fd, HUGE, 0, 0, 0, 0), -EPERM);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 3 * HUGE, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, fd, 4 * HUGE, 0, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, 0, 0, 8 * HUGE, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 3 * HUGE, HUGE, 0, 0), -EPERM);
	long m = fmap(t, HUGE, RW, MAP_SHARED, fd, 0);
	REQUIRE_EQ(m > 0, 1);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE, 0, 0, 0), -EBUSY);
	SC(t, SYS_munmap, m, HUGE, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE, 0, 0, 0), 0);
	EXPECT_ERRNO(fmap(t, HUGE, RW, MAP_SHARED, fd, 0), -EPERM);
	long p = fmap(t, HUGE, RW, MAP_PRIVATE, fd, 0);
	REQUIRE_EQ(p > 0, 1);
	EXPECT_EQ(poke(t, (uint64_t)p, 1), 1);
	SC(t, SYS_munmap, p, HUGE, 0, 0, 0, 0);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, HUGE,
			0, 0), -EPERM);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | 0x20, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GET_SEALS, 0, 0, 0, 0), 0x3e);
	long fw = hmemfd(t, "fw", MFD_SEAL_);
	SC(t, SYS_ftruncate, fw, HUGE, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fw, F_ADD_SEALS, F_SEAL_FUTURE_WRITE, 0, 0, 0), 0);
	EXPECT_ERRNO(fmap(t, HUGE, RW, MAP_SHARED, fw, 0), -EPERM);
	long ro = fmap(t, HUGE, PROT_READ, MAP_SHARED, fw, 0);
	REQUIRE_EQ(ro > 0, 1);
	EXPECT_ERRNO(SC(t, SYS_mprotect, ro, HUGE, RW, 0, 0, 0), -EACCES);
	long nx = hmemfd(t, "nx", 8 /* MFD_NOEXEC_SEAL */);
	EXPECT_EQ(SC(t, SYS_fcntl, nx, F_GET_SEALS, 0, 0, 0, 0), 0x20);
	EXPECT_EQ(fstat_of(t, nx).st_mode, S_IFREG | 0666);
	EXPECT_EQ(SC(t, SYS_fcntl, hmemfd(t, "x", 0), F_GET_SEALS, 0, 0, 0, 0), F_SEAL_SEAL);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Truncation drops the file's pages and promises beyond the end, SIGBUS there afterwards,
 * takes private copies too (their VMA owes its reservation again, as Linux restores it),
 * and MADV_REMOVE punches a whole huge page; closing and unmapping everything brings
 * Free and Rsvd back. The counts are those of the same steps on Linux 6.18. */
TEST(memfd_hugetlb_truncate_and_remove_give_pages_back)
{
	struct env e = pool_env(6);
	pm_thread *t = e.t;
	long fd = hmemfd(t, "tr", 0);
	SC(t, SYS_ftruncate, fd, 3 * HUGE, 0, 0, 0, 0);
	long s = fmap(t, 3 * HUGE, RW, MAP_SHARED, fd, 0);
	long p = fmap(t, 3 * HUGE, RW, MAP_PRIVATE, fd, 0);
	REQUIRE_EQ(s > 0 && p > 0, 1);
	EXPECT_EQ(RSVD(t), 6);
	poke(t, (uint64_t)s, 1);
	poke(t, (uint64_t)s + 2 * HUGE, 1);
	poke(t, (uint64_t)p + 2 * HUGE, 2);	/* a private copy of page 2 */
	EXPECT_EQ(FREE(t), 3);
	EXPECT_EQ(RSVD(t), 3);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, HUGE, 0, 0, 0, 0), 0);
	EXPECT_EQ(FREE(t), 5);
	EXPECT_EQ(RSVD(t), 3);	/* the private VMA's pages 0-2 (Linux 6.18 probe: 3) */
	pm_siginfo si;
	uint8_t v;
	EXPECT_ERRNO(pm_access(t, (uint64_t)s + 2 * HUGE, &v, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_ERRNO(pm_access(t, (uint64_t)p + 2 * HUGE, &v, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(t, SYS_madvise, s, HUGE, MADV_REMOVE, 0, 0, 0), 0);
	EXPECT_EQ(FREE(t), 6);
	EXPECT_EQ(peek(t, (uint64_t)s), 0);
	EXPECT_EQ(FREE(t), 5);
	SC(t, SYS_close, fd, 0, 0, 0, 0, 0);
	SC(t, SYS_munmap, s, 3 * HUGE, 0, 0, 0, 0);
	SC(t, SYS_munmap, p, 3 * HUGE, 0, 0, 0, 0);
	EXPECT_EQ(FREE(t), 6);
	EXPECT_EQ(RSVD(t), 0);
	env_close(&e);
}

/* The same fallocate on a shmem memfd (shmem_fallocate, Linux 6.18 probe): allocation by
 * 4 KiB pages with the size growing to off + len unless KEEP_SIZE; a punch zeroes the
 * partial pages in place and drops the whole ones; GROW refuses any range past EOF, WRITE
 * refuses the punch but not an allocation inside the file. */
TEST(memfd_shmem_fallocate_allocates_and_punches)
{
	struct env e = env_open();
	pm_thread *t = e.t;
	long fd = SC(t, SYS_memfd_create, str(t, "s"), MFD_SEAL_, 0, 0, 0, 0);
	long keep = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	EXPECT_EQ(SC(t, SYS_fallocate, fd, 0, 100, 5000, 0, 0), 0);
	EXPECT_EQ(fstat_of(t, fd).st_size, 5100);
	EXPECT_EQ(fstat_of(t, fd).st_blocks, 16);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 2 * PG, 2 * PG, 0, 0), 0);
	EXPECT_EQ(fstat_of(t, fd).st_size, 5100);
	EXPECT_EQ(fstat_of(t, fd).st_blocks, 32);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 4 * PG, 0, 0, 0, 0), 0);
	long m = fmap(t, 4 * PG, RW, MAP_SHARED, fd, 0);
	REQUIRE_EQ(m > 0, 1);
	for (long i = 0; i < 4 * PG; i += 50)
		poke(t, (uint64_t)(m + i), 7);
	poke(t, (uint64_t)m + 99, 7);
	poke(t, (uint64_t)m + 5100, 7);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, keep, 100, 5000, 0, 0), 0);
	EXPECT_EQ(peek(t, (uint64_t)m + 99), 7);
	EXPECT_EQ(peek(t, (uint64_t)m + 100), 0);
	EXPECT_EQ(peek(t, (uint64_t)m + 5050), 0);
	EXPECT_EQ(peek(t, (uint64_t)m + 5100), 7);
	EXPECT_EQ(fstat_of(t, fd).st_blocks, 32);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, keep, 2 * PG, PG, 0, 0), 0);
	EXPECT_EQ(fstat_of(t, fd).st_blocks, 24);	/* mapped, yet dropped */
	EXPECT_EQ(peek(t, (uint64_t)m + 2 * PG + 50), 0);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_ZERO_RANGE, 0, 100, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, 100, 0, 0), -EOPNOTSUPP);
	SC(t, SYS_munmap, m, 4 * PG, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, 0, 0, PG, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 4 * PG, 1, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, 0, 4 * PG - 384, 1000, 0, 0), -EPERM);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_fallocate, fd, keep, 0, PG, 0, 0), -EPERM);
	EXPECT_EQ(SC(t, SYS_fallocate, fd, 0, 0, PG, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}
