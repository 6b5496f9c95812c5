/*
 * The file syscalls through pm_syscall on real host files: open/openat inside cfg.root,
 * read/write/pread/pwrite/lseek/fstat/ftruncate/dup/fcntl with Linux's errnos, one page
 * cache per host file, writeback (last close, exit, the expiry daemon), and memfd with
 * its seals and names. Each test runs in its own mkdtemp root and proves no leaks.
 */
#include "pm_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/fd.h"
#include "sys/sys.h"

#include "file_env.h"

static const char *user_text(pm_thread *t, long va, long n)
{
	static char b[256];
	pm_access(t, (uint64_t)va, b, (size_t)n, PM_READ, NULL);
	b[n] = '\0';
	return b;
}

/* openat resolves inside cfg.root and read returns the host bytes, moving the offset. */
TEST(openat_reads_a_host_file_inside_the_root)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDONLY), b = buf(t, 64);
	EXPECT_EQ(fd, 0);
	EXPECT_EQ(SC(t, SYS_read, fd, b, 5, 0, 0, 0), 5);
	EXPECT_STREQ(user_text(t, b, 5), "hello");
	EXPECT_EQ(SC(t, SYS_read, fd, b, 64, 0, 0, 0), 8);
	EXPECT_EQ(SC(t, SYS_read, fd, b, 64, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_close, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_close, fd, 0, 0, 0, 0, 0), -EBADF);
	fenv_close(&f);
}

/* ".." and symlinks cannot leave the root: the process sees cfg.root as "/". */
TEST(dotdot_and_symlinks_cannot_escape_the_root)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	char p[128];
	snprintf(p, sizeof(p), "%s/out", f.root);
	EXPECT_EQ(symlink("/etc/hostname", p), 0);
	EXPECT_EQ(op(t, "../../../hello.txt", O_RDONLY), 0);
	EXPECT_ERRNO(op(t, "/../etc/hostname", O_RDONLY), -ENOENT);
	EXPECT_ERRNO(op(t, "/out", O_RDONLY), -ENOENT);
	fenv_close(&f);
}

/* write goes through the page cache: a second open sees it at once, the host only after
 * the last close writes it back (SPEC §3). O_CREAT makes the file. */
TEST(two_opens_share_one_page_cache_until_writeback)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long w = op(t, "/new", O_CREAT | O_RDWR), r = op(t, "/new", O_RDONLY), b = buf(t, 64);
	EXPECT_EQ(SC(t, SYS_write, w, str(t, "cached"), 6, 0, 0, 0), 6);
	EXPECT_EQ(SC(t, SYS_read, r, b, 64, 0, 0, 0), 6);
	EXPECT_STREQ(user_text(t, b, 6), "cached");
	EXPECT_STREQ(host_text(&f, "new"), "");
	EXPECT_EQ(SC(t, SYS_close, w, 0, 0, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "new"), "");
	EXPECT_EQ(SC(t, SYS_close, r, 0, 0, 0, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "new"), "cached");
	fenv_close(&f);
}

/* Dirty file data older than DirtyExpireCentisecs (3000) reaches the host on the tick. */
TEST(background_writeback_runs_from_the_system_tick)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDWR);
	EXPECT_EQ(SC(t, SYS_write, fd, str(t, "J"), 1, 0, 0, 0), 1);
	pm_system_tick(f.e.sys, 29999);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "hello, world\n");
	pm_system_tick(f.e.sys, 1);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "Jello, world\n");
	fenv_close(&f);
}

/* Exit closes every fd; the last reference writes the file back. */
TEST(exit_closes_files_and_writes_them_back)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_WRONLY | O_APPEND);
	EXPECT_EQ(SC(t, SYS_write, fd, str(t, "bye"), 3, 0, 0, 0), 3);
	SC(t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "hello, world\nbye");
	fenv_close(&f);
}

/* pread/pwrite use their own offset and leave the file's alone; lseek moves it, with
 * SEEK_DATA/SEEK_HOLE past EOF ENXIO and a bad whence or negative result EINVAL. */
TEST(pread_pwrite_and_lseek_keep_linux_offsets)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDWR), b = buf(t, 64);
	EXPECT_EQ(SC(t, SYS_pwrite64, fd, str(t, "W"), 1, 7, 0, 0), 1);
	EXPECT_EQ(SC(t, SYS_pread64, fd, b, 5, 7, 0, 0), 5);
	EXPECT_STREQ(user_text(t, b, 5), "World");
	EXPECT_EQ(SC(t, SYS_lseek, fd, 0, SEEK_CUR, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_lseek, fd, -2, SEEK_END, 0, 0, 0), 11);
	EXPECT_EQ(SC(t, SYS_lseek, fd, 3, SEEK_HOLE, 0, 0, 0), 13);
	EXPECT_ERRNO(SC(t, SYS_lseek, fd, 13, SEEK_DATA, 0, 0, 0), -ENXIO);
	EXPECT_ERRNO(SC(t, SYS_lseek, fd, 0, 7, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_lseek, fd, -1, SEEK_SET, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_pread64, fd, b, 1, -1, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_pread64, 99, b, 1, -1, 0, 0), -EINVAL);	/* offset first */
	fenv_close(&f);
}

/* fstat writes a Linux struct stat: the cached size (ahead of the host) and the mode. */
TEST(fstat_reports_the_cached_size)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDWR), b = buf(t, sizeof(struct stat));
	EXPECT_EQ(SC(t, SYS_pwrite64, fd, str(t, "x"), 1, 99, 0, 0), 1);
	EXPECT_EQ(SC(t, SYS_fstat, fd, b, 0, 0, 0, 0), 0);
	struct stat st;
	pm_access(t, (uint64_t)b, &st, sizeof(st), PM_READ, NULL);
	EXPECT_EQ(st.st_size, 100);
	EXPECT_EQ(st.st_mode, S_IFREG | 0644);
	EXPECT_ERRNO(SC(t, SYS_fstat, fd, 0, 0, 0, 0, 0), -EFAULT);
	EXPECT_ERRNO(SC(t, SYS_fstat, 77, b, 0, 0, 0, 0), -EBADF);
	fenv_close(&f);
}

/* Errnos of open/read/write as Linux gives them (open(2), read(2), write(2)). */
TEST(file_calls_fail_with_linux_errnos)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long b = buf(t, 64);
	EXPECT_ERRNO(op(t, "/missing", O_RDONLY), -ENOENT);
	EXPECT_ERRNO(op(t, "", O_RDONLY), -ENOENT);
	EXPECT_ERRNO(op(t, "/hello.txt", O_CREAT | O_EXCL | O_RDWR), -EEXIST);
	EXPECT_ERRNO(op(t, "/", O_RDWR), -EISDIR);
	EXPECT_ERRNO(op(t, "/hello.txt", O_RDONLY | O_DIRECTORY), -ENOTDIR);
	EXPECT_ERRNO(SC(t, SYS_open, 16, O_RDONLY, 0, 0, 0, 0), -EFAULT);
	char *longp = malloc(5000);
	memset(longp, 'a', 4999);
	longp[4999] = '\0';
	EXPECT_ERRNO(op(t, longp, O_RDONLY), -ENAMETOOLONG);
	free(longp);
	long ro = op(t, "/hello.txt", O_RDONLY), wo = op(t, "/hello.txt", O_WRONLY);
	EXPECT_ERRNO(SC(t, SYS_write, ro, b, 1, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_read, wo, b, 1, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_read, 55, b, 1, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_read, ro, 16, 1, 0, 0, 0), -EFAULT);
	long d = op(t, "/", O_RDONLY);
	EXPECT_ERRNO(SC(t, SYS_read, d, b, 1, 0, 0, 0), -EISDIR);
	EXPECT_EQ(SC(t, SYS_openat, d, str(t, "hello.txt"), O_RDONLY, 0, 0, 0) >= 0, 1);
	EXPECT_ERRNO(SC(t, SYS_openat, ro, str(t, "x"), O_RDONLY, 0, 0, 0), -ENOTDIR);
	EXPECT_ERRNO(SC(t, SYS_openat, 99, str(t, "x"), O_RDONLY, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, ro, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, wo, -1, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, d, 0, 0, 0, 0, 0), -EINVAL);
	fenv_close(&f);
}

/* ftruncate shrinks the file: reads stop at the new EOF and the host file follows. */
TEST(ftruncate_shrinks_the_file_and_its_cache)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDWR), b = buf(t, 64);
	EXPECT_EQ(SC(t, SYS_read, fd, b, 64, 0, 0, 0), 13);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, 5, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_pread64, fd, b, 64, 0, 0, 0), 5);
	EXPECT_EQ(SC(t, SYS_pread64, fd, b, 64, 4096, 0, 0), 0);
	EXPECT_STREQ(host_text(&f, "hello.txt"), "hello");
	struct vm_object *o;
	REQUIRE_EQ(fd_get_object(t->proc, (int)fd, &o, NULL), 0);
	struct page *pg;
	EXPECT_ERRNO(obj_get_page(o, 1, &pg), -EFAULT);
	obj_put(o);
	fenv_close(&f);
}

/* dup shares the offset; dup2/dup3/F_DUPFD pick their slots; close-on-exec is per fd;
 * F_GETFL shows the access mode with O_LARGEFILE (fcntl(2), dup(2)). */
TEST(dup_and_fcntl_share_offsets_and_keep_fd_flags)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDWR | O_CLOEXEC), b = buf(t, 8);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0), FD_CLOEXEC);
	long d = SC(t, SYS_dup, fd, 0, 0, 0, 0, 0);
	EXPECT_EQ(d, 1);
	EXPECT_EQ(SC(t, SYS_fcntl, d, F_GETFD, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_read, fd, b, 2, 0, 0, 0), 2);
	EXPECT_EQ(SC(t, SYS_lseek, d, 0, SEEK_CUR, 0, 0, 0), 2);
	EXPECT_EQ(SC(t, SYS_dup2, fd, 10, 0, 0, 0, 0), 10);
	EXPECT_EQ(SC(t, SYS_dup2, 10, 10, 0, 0, 0, 0), 10);
	EXPECT_ERRNO(SC(t, SYS_dup2, 33, 33, 0, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_dup2, fd, -1, 0, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_dup3, fd, fd, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_dup3, fd, 50, 4, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_dup3, fd, 11, O_CLOEXEC, 0, 0, 0), 11);
	EXPECT_EQ(SC(t, SYS_fcntl, 11, F_GETFD, 0, 0, 0, 0), FD_CLOEXEC);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_DUPFD, 5, 0, 0, 0), 5);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_DUPFD_CLOEXEC, 5, 0, 0, 0), 6);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_DUPFD, -1, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_DUPFD, 1 << 20, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_SETFD, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0), O_RDWR | O_LARGEFILE);
	EXPECT_EQ(SC(t, SYS_fcntl, d, F_SETFL, O_APPEND, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0), O_RDWR | O_LARGEFILE | O_APPEND);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, 999, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_fcntl, 77, F_GETFD, 0, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_GET_SEALS, 0, 0, 0, 0), -EINVAL);
	long ro = op(t, "/hello.txt", O_RDONLY), wo = op(t, "/hello.txt", O_WRONLY);
	EXPECT_ERRNO(SC(t, SYS_fcntl, ro, F_ADD_SEALS, F_SEAL_GROW, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(t, SYS_fcntl, wo, F_ADD_SEALS, F_SEAL_GROW, 0, 0, 0), -EINVAL);
	fenv_close(&f);
}

/* O_DIRECT marks the open file DAX for MAP_SYNC (SPEC §5); fd_get_object hands mmap the
 * object and the open flags, EBADF for a closed fd and ENODEV for a directory. */
TEST(fd_get_object_reports_access_mode_and_dax)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDONLY | O_DIRECT), d = op(t, "/", O_RDONLY);
	struct vm_object *o = NULL;
	int fl = 0;
	EXPECT_EQ(fd_get_object(t->proc, (int)fd, &o, &fl), 0);
	EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
	EXPECT_TRUE(fl & O_DIRECT);
	EXPECT_TRUE(o && o->kind == OBJ_FILE && !strcmp(o->name, "/hello.txt"));
	if (o)
		obj_put(o);
	EXPECT_ERRNO(fd_get_object(t->proc, 40, &o, &fl), -EBADF);
	EXPECT_ERRNO(fd_get_object(t->proc, (int)d, &o, &fl), -ENODEV);
	fenv_close(&f);
}

/* memfd_create: fd, /memfd:NAME (deleted) on 00:01, mode 0777 (0666 and F_SEAL_EXEC with
 * MFD_NOEXEC_SEAL), F_SEAL_SEAL without MFD_ALLOW_SEALING; bad flags, long names EINVAL,
 * a bad name pointer EFAULT (memfd_create(2)). */
TEST(memfd_create_names_and_validates_like_linux)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = SC(t, SYS_memfd_create, str(t, "abc"), MFD_CLOEXEC, 0, 0, 0, 0);
	EXPECT_EQ(fd, 0);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0), FD_CLOEXEC);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0), O_RDWR | O_LARGEFILE);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GET_SEALS, 0, 0, 0, 0), F_SEAL_SEAL);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW, 0, 0, 0), -EPERM);
	struct vm_object *o;
	REQUIRE_EQ(fd_get_object(t->proc, (int)fd, &o, NULL), 0);
	EXPECT_STREQ(o->name, "/memfd:abc (deleted)");
	EXPECT_EQ(o->dev_minor, 1);
	obj_put(o);
	long b = buf(t, sizeof(struct stat));
	struct stat st;
	long ne = SC(t, SYS_memfd_create, str(t, "n"), 8 /* MFD_NOEXEC_SEAL */, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_fstat, ne, b, 0, 0, 0, 0), 0);
	pm_access(t, (uint64_t)b, &st, sizeof(st), PM_READ, NULL);
	EXPECT_EQ(st.st_mode, S_IFREG | 0666);
	EXPECT_EQ(SC(t, SYS_fcntl, ne, F_GET_SEALS, 0, 0, 0, 0), 0x20);
	EXPECT_ERRNO(SC(t, SYS_memfd_create, str(t, "x"), 0x100, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_memfd_create, str(t, "x"), 8 | 0x10, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_memfd_create, 16, 0, 0, 0, 0, 0), -EFAULT);
	char name[251];
	memset(name, 'n', 250);
	name[250] = '\0';
	EXPECT_ERRNO(SC(t, SYS_memfd_create, str(t, name), 0, 0, 0, 0, 0), -EINVAL);
	name[249] = '\0';
	EXPECT_EQ(SC(t, SYS_memfd_create, str(t, name), 0, 0, 0, 0, 0) >= 0, 1);
	fenv_close(&f);
}

/* Seals through fcntl: GROW stops writes past the end and growing, SHRINK shrinking,
 * WRITE and FUTURE_WRITE all writes, WRITE is EBUSY while writable shared mappings
 * exist, and after F_SEAL_SEAL nothing more is added (fcntl(2), EPERM). */
TEST(memfd_seals_through_fcntl_return_linux_errnos)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = SC(t, SYS_memfd_create, str(t, "s"), MFD_ALLOW_SEALING, 0, 0, 0, 0);
	long data = str(t, "abcdef");
	EXPECT_EQ(SC(t, SYS_write, fd, data, 4, 0, 0, 0), 4);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_write, fd, data, 1, 0, 0, 0), -EPERM);
	EXPECT_EQ(SC(t, SYS_pwrite64, fd, data, 2, 0, 0, 0), 2);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, fd, 8, 0, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(t, SYS_ftruncate, fd, 2, 0, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_ADD_SEALS, 0x40, 0, 0, 0), -EINVAL);
	struct vm_object *o;
	REQUIRE_EQ(fd_get_object(t->proc, (int)fd, &o, NULL), 0);
	EXPECT_EQ(obj_map_writable_get(o), 0);	/* as mmap(MAP_SHARED, PROT_WRITE) does */
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE, 0, 0, 0), -EBUSY);
	obj_map_writable_put(o);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_pwrite64, fd, data, 1, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(obj_map_writable_get(o), -EPERM);
	obj_put(o);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_fcntl, fd, F_ADD_SEALS, 0, 0, 0, 0), -EPERM);
	EXPECT_EQ(SC(t, SYS_fcntl, fd, F_GET_SEALS, 0, 0, 0, 0), 0x1f);
	long b = buf(t, 8);
	EXPECT_EQ(SC(t, SYS_pread64, fd, b, 8, 0, 0, 0), 4);
	EXPECT_STREQ(user_text(t, b, 4), "abcd");
	fenv_close(&f);
}

/* The fd table honours RLIMIT_NOFILE (1024): EMFILE once every slot is taken. */
TEST(fd_table_is_limited_by_rlimit_nofile)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDONLY), last = 0;
	EXPECT_EQ(SC(t, SYS_dup2, fd, 1023, 0, 0, 0, 0), 1023);
	EXPECT_ERRNO(SC(t, SYS_dup2, fd, 1024, 0, 0, 0, 0), -EBADF);
	for (int i = 1; i < 1023; i++)
		last = SC(t, SYS_dup, fd, 0, 0, 0, 0, 0);
	EXPECT_EQ(last, 1022);
	EXPECT_ERRNO(SC(t, SYS_dup, fd, 0, 0, 0, 0, 0), -EMFILE);
	EXPECT_ERRNO(op(t, "/hello.txt", O_RDONLY), -EMFILE);
	fenv_close(&f);
}

/* fork's fd table copy shares open files (one offset) and keeps close-on-exec flags. */
TEST(fd_table_copy_shares_open_files)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long fd = op(t, "/hello.txt", O_RDONLY | O_CLOEXEC);
	struct fd_table *copy = fd_table_dup(t->proc->files);
	REQUIRE_EQ(copy != NULL, 1);
	EXPECT_EQ(fd_get_cloexec(copy, (int)fd), 1);
	struct open_file *a = fd_lookup(copy, (int)fd), *b = fd_lookup(t->proc->files, (int)fd);
	EXPECT_TRUE(a && a == b);
	fd_file_put(a);
	fd_file_put(b);
	fd_table_destroy(copy);
	fenv_close(&f);
}
