/*
 * File mappings through the page cache (SPEC §3, §5): shared writes reach the host file on
 * msync, munmap and exit; private mappings copy on write; the open file's access mode
 * decides what may be mapped; pages wholly past EOF raise SIGBUS, also after ftruncate;
 * maps shows path, offset, device, inode and "(deleted)"; memfd seals; MAP_SYNC on DAX
 * files writes through; read-ahead follows MADV_SEQUENTIAL and MADV_RANDOM.
 */
#include "file_env.h"

#include <sys/sysmacros.h>

#define W 0x200000000000L

static long map_fd(pm_thread *t, long addr, long len, long prot, long flags, long fd, long off)
{
	return SC(t, SYS_mmap, addr, len, prot, flags, fd, off);
}

/* A kB figure from /proc/self/status ("RssAnon" -> 12). */
static long status_kb(pm_thread *t, const char *field)
{
	const char *s = strstr(proc_text(t, 0, "status"), field);
	return s ? strtol(s + strlen(field) + 1, NULL, 10) : -1;
}

static void put_pages(struct fenv *f, const char *name, int pages, char fill)
{
	char p[128];
	static char page[4096];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	for (int i = 0; i < pages; i++) {
		memset(page, fill + i, sizeof(page));
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
			check_failed(__FILE__, __LINE__, "host write");
	}
	close(fd);
}

/* Shared writes reach the host file on msync (SPEC §3). */
TEST(shared_file_writes_reach_the_host_on_msync)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDWR);
	EXPECT_EQ(map_fd(t, W, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(peek(t, W), 'h');
	EXPECT_EQ(pm_access(t, W, "HELLO", 5, PM_WRITE, NULL), 5);
	EXPECT_EQ(SC(t, SYS_msync, W, PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "HELLO, world\n");
	EXPECT_EQ(pm_access(t, W + 7, "W", 1, PM_WRITE, NULL), 1);
	EXPECT_EQ(SC(t, SYS_munmap, W, PG, 0, 0, 0, 0), 0);	/* munmap writes back too */
	EXPECT_STREQ(host_text(&f, "hello.txt"), "HELLO, World\n");
	fenv_close(&f);
}

/* Exit writes a shared mapping's dirty pages back (SPEC §3). */
TEST(exit_writes_shared_mappings_back)
{
	struct fenv f = fenv_open();
	pm_thread *t = pm_spawn(f.e.sys, f.e.tok, NULL);
	long fd = op(t, "hello.txt", O_RDWR);
	EXPECT_EQ(map_fd(t, W, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(pm_access(t, W, "j", 1, PM_WRITE, NULL), 1);
	EXPECT_EQ(SC(t, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "jello, world\n");
	fenv_close(&f);
}

/* A private file mapping reads the file and copies on write: the host never changes and
 * the descriptor still reads the original (SPEC §3). */
TEST(private_file_mapping_copies_on_write)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "hello.txt", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, PG, RW, MAP_PRIVATE | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(peek(t, W), 'h');
	long anon0 = status_kb(t, "RssAnon"), file0 = status_kb(t, "RssFile");
	EXPECT_EQ(pm_access(t, W, "Y", 1, PM_WRITE, NULL), 1);
	EXPECT_EQ(status_kb(t, "RssAnon"), anon0 + 4);	/* the copy is anonymous */
	EXPECT_EQ(status_kb(t, "RssFile"), file0 - 4);	/* the cached page is no longer mapped */
	EXPECT_EQ(peek(t, W), 'Y');
	EXPECT_EQ(SC(t, SYS_msync, W, PG, MS_SYNC, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "hello, world\n");
	fenv_close(&f);
}

/* What may be mapped follows the open file's access mode, with Linux's errnos. */
TEST(file_mapping_follows_the_open_mode)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long ro = op(t, "hello.txt", O_RDONLY), wo = op(t, "hello.txt", O_WRONLY);
	long rw = op(t, "hello.txt", O_RDWR);
	EXPECT_ERRNO(map_fd(t, 0, PG, RW, MAP_SHARED, ro, 0), -EACCES);
	EXPECT_TRUE(map_fd(t, 0, PG, RW, MAP_PRIVATE, ro, 0) > 0);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_PRIVATE, wo, 0), -EACCES);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED, wo, 0), -EACCES);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED, 99, 0), -EBADF);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED | MAP_GROWSDOWN, rw, 0), -EINVAL);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, 0, rw, 0), -EINVAL);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, rw, 0), -EOPNOTSUPP);
	EXPECT_TRUE(map_fd(t, 0, PG, PROT_READ, MAP_SHARED | 0x800000, rw, 0) > 0);
	EXPECT_ERRNO(map_fd(t, 0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, rw, 0), -EOPNOTSUPP);
	long r = map_fd(t, W, PG, PROT_READ, MAP_SHARED | MAP_FIXED, ro, 0);
	EXPECT_EQ(r, W);
	EXPECT_TRUE(strncmp(maps_line_at(t, W) + 26, "r--s 00000000", 13) == 0);	/* never writable */
	EXPECT_ERRNO(SC(t, SYS_mprotect, W, PG, RW, 0, 0, 0), -EACCES);
	fenv_close(&f);
}

/* Pages wholly past EOF raise SIGBUS; the rest of the last page reads zero; after a
 * shrinking ftruncate, a page that was mapped and read faults with SIGBUS (SPEC §3). */
TEST(access_beyond_eof_is_sigbus_also_after_truncate)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "two.bin", 2, 'a');
	long fd = op(t, "two.bin", O_RDWR);
	EXPECT_EQ(map_fd(t, W, 4 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(peek(t, W + PG), 'b');
	pm_siginfo si;
	uint8_t b;
	EXPECT_ERRNO(pm_access(t, W + 2 * PG, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_EQ(si.code, BUS_ADRERR);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, PG + 10, 0, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + PG + 9), 'b');
	EXPECT_EQ(peek(t, W + PG + 10), 0);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 100, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(pm_access(t, W + PG, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	fenv_close(&f);
}

/* maps shows the path, the offset, a device and inode, and " (deleted)" once the host file
 * is unlinked (SPEC §3). */
TEST(maps_shows_file_identity_and_deleted)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "data.bin", 3, 'x');
	long fd = op(t, "data.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 2 * PG), W);
	const char *l = maps_line_at(t, W);
	struct stat st;
	char host[128];
	snprintf(host, sizeof(host), "%s/data.bin", f.root);
	stat(host, &st);
	char want[256];
	snprintf(want, sizeof(want), "200000000000-200000001000 r--p 00002000 %02x:%02x %lu",
		 major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
	EXPECT_TRUE(strncmp(l, want, strlen(want)) == 0);
	EXPECT_TRUE(strstr(l, "/data.bin") != NULL && l[73] == '/');
	unlink(host);
	EXPECT_TRUE(strstr(maps_line_at(t, W), "/data.bin (deleted)") != NULL);
	fenv_close(&f);
}

/* memfd seals (SPEC §3): F_SEAL_WRITE is EBUSY while a writable shared mapping exists;
 * once sealed, writable shared mappings are EPERM and read-only ones can never gain write. */
TEST(memfd_write_seal_and_mappings)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = SC(t, SYS_memfd_create, str(t, "jit"), MFD_ALLOW_SEALING, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(map_fd(t, W, 2 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_TRUE(strstr(maps_line_at(t, W), "/memfd:jit (deleted)") != NULL);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE, 0, 0, 0), -EBUSY);
	EXPECT_EQ(SC(t, SYS_mprotect, W, PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE, 0, 0, 0), -EBUSY);	/* one page still RW */
	EXPECT_EQ(SC(t, SYS_munmap, W, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE, 0, 0, 0), 0);
	EXPECT_ERRNO(map_fd(t, W, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), -EPERM);
	EXPECT_EQ(map_fd(t, W, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_ERRNO(SC(t, SYS_mprotect, W, PG, RW, 0, 0, 0), -EACCES);
	EXPECT_TRUE(map_fd(t, 0, PG, RW, MAP_PRIVATE, fd, 0) > 0);	/* private copies are fine */
	fenv_close(&f);
}

/* MAP_SYNC on a DAX file (opened O_DIRECT): each store reaches the host file before the
 * access returns, with no msync (SPEC §5). */
TEST(map_sync_on_dax_writes_through)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "pmem.bin", 1, 'p');
	long fd = op(t, "pmem.bin", O_RDWR | O_DIRECT);
	REQUIRE_EQ(fd >= 0, 1);
	EXPECT_ERRNO(map_fd(t, W, PG, RW, MAP_SHARED | MAP_SYNC | MAP_FIXED, fd, 0), -EOPNOTSUPP);
	EXPECT_EQ(map_fd(t, W, PG, RW, MAP_SHARED_VALIDATE | MAP_SYNC | MAP_FIXED, fd, 0), W);
	for (int i = 0; i < 3; i++) {
		char c = (char)('0' + i);
		EXPECT_EQ(pm_access(t, W + i, &c, 1, PM_WRITE, NULL), 1);
		EXPECT_EQ(host_text(&f, "pmem.bin")[i], c);
	}
	fenv_close(&f);
}

/* Read-ahead: a fault under MADV_SEQUENTIAL brings following pages into the cache, under
 * MADV_RANDOM only the faulting page (SPEC §3; mincore shows cache residency). */
TEST(readahead_follows_sequential_and_random_advice)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "seq.bin", 16, 'A');
	put_pages(&f, "rnd.bin", 16, 'A');
	long fs = op(t, "seq.bin", O_RDONLY), fr = op(t, "rnd.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, 16 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fs, 0), W);
	EXPECT_EQ(map_fd(t, W + 32 * PG, 16 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fr, 0), W + 32 * PG);
	EXPECT_EQ(SC(t, SYS_madvise, W, 16 * PG, MADV_SEQUENTIAL, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, W + 32 * PG, 16 * PG, MADV_RANDOM, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W), 'A');
	EXPECT_EQ(peek(t, W + 32 * PG), 'A');
	uint64_t vec = (uint64_t)buf(t, 16);
	uint8_t v[16];
	int seq = 0, rnd = 0;
	EXPECT_EQ(SC(t, SYS_mincore, W, 16 * PG, vec, 0, 0, 0), 0);
	pm_access(t, vec, v, 16, PM_READ, NULL);
	for (int i = 0; i < 16; i++)
		seq += v[i];
	EXPECT_EQ(SC(t, SYS_mincore, W + 32 * PG, 16 * PG, vec, 0, 0, 0), 0);
	pm_access(t, vec, v, 16, PM_READ, NULL);
	for (int i = 0; i < 16; i++)
		rnd += v[i];
	EXPECT_EQ(seq, 16);
	EXPECT_EQ(rnd, 1);
	fenv_close(&f);
}

/* MADV_WILLNEED reads a file range into the page cache without mapping it: mincore (cache
 * residency) shows exactly the advised pages, none is mapped (RssFile 0), and a fault finds the
 * bytes (madvise_willneed -> force_page_cache_readahead; checked on Linux 6.18). */
TEST(willneed_reads_the_advised_file_range_into_the_page_cache)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "wn.bin", 16, 'W');
	long fd = op(t, "wn.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, 16 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W + 4 * PG, 8 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	uint64_t vec = (uint64_t)buf(t, 16);
	uint8_t v[16];
	EXPECT_EQ(SC(t, SYS_mincore, W, 16 * PG, vec, 0, 0, 0), 0);
	pm_access(t, vec, v, 16, PM_READ, NULL);
	for (int i = 0; i < 16; i++) {
		int want = i >= 4 && i < 12;
		if (v[i] != want)
			fprintf(stderr, "mincore after WILLNEED of pages 4..11: page %d = %d, want %d\n",
				i, v[i], want);
		EXPECT_EQ(v[i], want);
	}
	char st[4096];
	long n = pm_proc_read(t, 0, "status", st, sizeof st - 1, 0);
	st[n > 0 ? n : 0] = '\0';
	EXPECT_TRUE(strstr(st, "RssFile:\t       0 kB") != NULL);	/* cached, not mapped */
	EXPECT_EQ(peek(t, W + 5 * PG), 'W' + 5);	/* page i holds 'W' + i */
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* msync's own errnos (linux-anchors §2.9). */
TEST(msync_validates_like_linux)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	EXPECT_EQ(do_mmap(t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_ERRNO(SC(t, SYS_msync, W, PG, 8, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_msync, W + 1, PG, MS_SYNC, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_msync, W, PG, MS_SYNC | MS_ASYNC, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_msync, W, 4 * PG, MS_SYNC, 0, 0, 0), -ENOMEM);
	EXPECT_EQ(SC(t, SYS_msync, W + 8 * PG, 0, MS_SYNC, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mlock, W, PG, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_msync, W, PG, MS_INVALIDATE, 0, 0, 0), -EBUSY);
	fenv_close(&f);
}

/* remap_file_pages is emulated with mmap: only on MAP_SHARED file mappings with prot 0;
 * afterwards the page shows the file page asked for (SPEC §3). */
TEST(remap_file_pages_is_emulated_with_mmap)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_pages(&f, "pages.bin", 4, 'a');
	long fd = op(t, "pages.bin", O_RDWR);
	EXPECT_EQ(map_fd(t, W, 4 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_ERRNO(SC(t, SYS_remap_file_pages, W, PG, PROT_READ, 3, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_remap_file_pages, W, PG, 0, 3, 0, 0), 0);
	EXPECT_EQ(peek(t, W), 'd');
	EXPECT_EQ(peek(t, W + PG), 'b');
	EXPECT_TRUE(strncmp(maps_line_at(t, W) + 26, "rw-s 00003000", 13) == 0);
	EXPECT_EQ(do_mmap(t, W + 8 * PG, PG, RW, ANON | MAP_FIXED), W + 8 * PG);
	EXPECT_ERRNO(SC(t, SYS_remap_file_pages, W + 8 * PG, PG, 0, 3, 0, 0), -EINVAL);
	fenv_close(&f);
}
