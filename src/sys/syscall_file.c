/*
 * The file syscalls on the fd table: read, write, pread64, pwrite64, lseek, fstat,
 * ftruncate, fallocate, close, dup, dup2, dup3, fcntl (open, openat and memfd_create are in
 * file_open.c). Data moves through the page cache (obj_pread/obj_pwrite) in page-sized
 * bounce chunks, so read/write and mapped views of a file always agree. Each check comes
 * in Linux's order so the errno matches. No mm or object lock is held across a copy.
 */
#include "sys/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "mm/mm_file.h"
#include "mm/swap_mm.h"
#include "sys/sys.h"

#define MAX_RW_COUNT	0x7ffff000L	/* INT_MAX rounded down to a page, Linux's cap */
#define SETFL_MASK	(O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC)
/* FALLOC_FL_MODE_MASK of Linux 6.18: punch, collapse, zero, insert, unshare, write-zeroes. */
#define FALLOC_MODE_BITS	0xfa

/* The Linux x86-64 struct stat is the host's on this ABI (144 bytes). */
_Static_assert(sizeof(struct stat) == 144, "x86-64 struct stat");

static int can_read(const struct open_file *f)
{
	return (f->flags & O_ACCMODE) == O_RDONLY || (f->flags & O_ACCMODE) == O_RDWR;
}

static int can_write(const struct open_file *f)
{
	return (f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_ACCMODE) == O_RDWR;
}

static uint64_t nofile(struct pm_thread *t) { return t->proc->rlim[RLIMIT_NOFILE].cur; }

/* obj_pread / obj_pwrite of one chunk. A frame the object could not get (a new shmem page,
 * a swap-in, a file read) is retried after direct reclaim, as a fault is
 * (shmem_get_folio's allocation reclaims), before the call fails with ENOMEM. */
static long obj_io(struct pm_thread *t, struct open_file *f, uint64_t pos, void *b, size_t n,
		   int write)
{
	for (int tries = 0;; tries++) {
		long r = write ? obj_pwrite(f->obj, pos, b, n) : obj_pread(f->obj, pos, b, n);
		if (r != -ENOMEM || tries == 16 ||
		    !mm_shrink_lru(&t->proc->sys->ms, 32, NULL, RECLAIM_DIRECT))
			return r;
	}
}

/* Copies from the object at pos to process memory. Bytes copied, or -errno if none. */
static long read_at(struct pm_thread *t, struct open_file *f, uint64_t ubuf, size_t count,
		    uint64_t pos)
{
	uint8_t bounce[PAGE_SIZE];
	size_t done = 0;
	while (done < count) {
		size_t n = (size_t)min_u64(sizeof(bounce), count - done);
		long r = obj_io(t, f, pos + done, bounce, n, 0);
		if (r < 0)
			return done ? (long)done : r;
		if (r && fd_copy_out(t, ubuf + done, bounce, (size_t)r))
			return done ? (long)done : -EFAULT;
		done += (size_t)r;
		if ((size_t)r < n)
			break;
	}
	return (long)done;
}

/* Copies from process memory into the object at pos. Bytes copied, or -errno if none. */
static long write_at(struct pm_thread *t, struct open_file *f, uint64_t ubuf, size_t count,
		     uint64_t pos)
{
	uint8_t bounce[PAGE_SIZE];
	size_t done = 0;
	while (done < count) {
		size_t n = (size_t)min_u64(sizeof(bounce), count - done);
		if (fd_copy_in(t, ubuf + done, bounce, n))
			return done ? (long)done : -EFAULT;
		long r = obj_io(t, f, pos + done, bounce, n, 1);
		if (r < 0)
			return done ? (long)done : r;
		done += (size_t)r;
		if ((size_t)r < n)
			break;
	}
	return (long)done;
}

/* read, write, pread64 and pwrite64: positional when pos >= 0, else at the file offset. */
static long rw(struct pm_thread *t, int fd, uint64_t ubuf, long count, long pos, int write)
{
	struct open_file *f = fd_lookup(t->proc->files, fd);
	if (!f)
		return -EBADF;
	long r;
	if (!(write ? can_write(f) : can_read(f)))
		r = -EBADF;
	else if (!f->obj)
		r = -EISDIR;
	else if (count < 0 || (write && f->obj->kind == OBJ_HUGETLB))
		r = -EINVAL;	/* hugetlbfs has no write_iter: no FMODE_CAN_WRITE */
	else
		r = 0;
	if (r || !count)
		goto out;
	if (count > MAX_RW_COUNT)
		count = MAX_RW_COUNT;
	pthread_mutex_lock(&f->pos_lock);
	/* O_APPEND writes at the end, even pwrite's (a documented Linux bug, kept). */
	uint64_t at = (write && (f->flags & O_APPEND)) ? f->obj->size
		      : pos >= 0 ? (uint64_t)pos : f->pos;
	r = write ? write_at(t, f, ubuf, (size_t)count, at) : read_at(t, f, ubuf, (size_t)count, at);
	if (r > 0 && pos < 0)
		f->pos = at + (uint64_t)r;
	pthread_mutex_unlock(&f->pos_lock);
out:
	fd_file_put(f);
	return r;
}

static long sys_lseek(struct pm_thread *t, int fd, long off, int whence)
{
	struct open_file *f = fd_lookup(t->proc->files, fd);
	if (!f)
		return -EBADF;
	uint64_t size = f->obj ? f->obj->size : 0;
	long r;
	pthread_mutex_lock(&f->pos_lock);
	switch (whence) {
	case SEEK_SET: r = off; break;
	case SEEK_CUR: r = (long)f->pos + off; break;
	case SEEK_END: r = (long)size + off; break;
	case SEEK_DATA:	/* no holes are tracked: data everywhere below EOF */
		r = (off < 0 || (uint64_t)off >= size) ? -ENXIO : off;
		break;
	case SEEK_HOLE:
		r = (off < 0 || (uint64_t)off >= size) ? -ENXIO : (long)size;
		break;
	default: r = -EINVAL;
	}
	if (r < 0 && r != -ENXIO)
		r = -EINVAL;
	if (r >= 0)
		f->pos = (uint64_t)r;
	pthread_mutex_unlock(&f->pos_lock);
	fd_file_put(f);
	return r;
}

/* The struct stat of an open file: the host's for files and directories (with the cached
 * size, which may be ahead of the host), a synthetic one for memfds (shmem, dev 0:1). */
static int stat_file(struct open_file *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (!f->obj)
		return fstat(f->dir_fd, st) ? -EIO : 0;
	struct vm_object *o = f->obj;
	pthread_mutex_lock(&o->lock);
	int err = 0;
	if (o->kind == OBJ_FILE) {
		err = fstat(o->host_fd, st) ? -EIO : 0;
	} else {
		/* hugetlbfs: its own mount (00:11), blocks and block size in huge pages. */
		uint64_t unit = o->kind == OBJ_HUGETLB ? obj_huge_size(o) : PAGE_SIZE;
		st->st_dev = makedev(o->dev_major, o->dev_minor);
		st->st_ino = o->ino;
		st->st_mode = S_IFREG | o->mode;
		st->st_blocks = (blkcnt_t)(o->nr_pages * (unit / 512));
		st->st_blksize = (blksize_t)unit;
	}
	st->st_size = (off_t)o->size;
	if (o->kind == OBJ_FILE)
		st->st_blksize = PAGE_SIZE;
	pthread_mutex_unlock(&o->lock);
	return err;
}

static long sys_fstat(struct pm_thread *t, int fd, uint64_t ubuf)
{
	struct open_file *f = fd_lookup(t->proc->files, fd);
	if (!f)
		return -EBADF;
	struct stat st;
	int err = stat_file(f, &st);
	fd_file_put(f);
	if (!err)
		err = fd_copy_out(t, ubuf, &st, sizeof(st));
	return err;
}

int fd_truncate_object(struct vm_object *o, uint64_t size)
{
	uint64_t old = o->size;
	int err = obj_truncate(o, size);
	if (err || size >= old)
		return err;
	/* Pages beyond the new EOF: no PTE may keep them (a later touch raises SIGBUS,
	 * SPEC §3), then the cache lets them go. */
	uint64_t first = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	mm_unmap_object_range(o, first, UINT64_MAX);
	obj_truncate_pages(o, first);
	return 0;
}

static long sys_ftruncate(struct pm_thread *t, int fd, long length)
{
	if (length < 0)
		return -EINVAL;
	struct open_file *f = fd_lookup(t->proc->files, fd);
	if (!f)
		return -EBADF;
	long r = (!f->obj || !can_write(f)) ? -EINVAL : fd_truncate_object(f->obj, (uint64_t)length);
	fd_file_put(f);
	return r;
}

#define FALLOC_MODE_MASK	0xfaL	/* Linux's FALLOC_FL_MODE_MASK: one operation */
#define FALLOC_WRITE_ZEROES	0x80L

/* vfs_fallocate's mode rule: one operation, with KEEP_SIZE only where it means something. */
static int falloc_mode_ok(long mode)
{
	if (mode & ~(FALLOC_MODE_MASK | FALLOC_FL_KEEP_SIZE))
		return 0;
	switch (mode & FALLOC_MODE_MASK) {
	case 0:
	case FALLOC_FL_UNSHARE_RANGE:
	case FALLOC_FL_ZERO_RANGE:
		return 1;
	case FALLOC_FL_PUNCH_HOLE:
		return (mode & FALLOC_FL_KEEP_SIZE) != 0;
	case FALLOC_FL_COLLAPSE_RANGE:
	case FALLOC_FL_INSERT_RANGE:
	case FALLOC_WRITE_ZEROES:
		return !(mode & FALLOC_FL_KEEP_SIZE);
	default:
		return 0;
	}
}

/* fallocate: vfs_fallocate's checks in its order (checked on Linux 6.18 with a memfd),
 * then shmem_fallocate's or hugetlbfs_fallocate's, which know allocation and holes only
 * (host files: the same two here, since the other operations would move the cached pages'
 * contents). A hole
 * (PUNCH_HOLE|KEEP_SIZE) zaps every mapping of its whole pages, frees their frames and
 * swap slots, and zeroes the partial pages at its edges; modes 0 and KEEP_SIZE allocate
 * the range (obj_fallocate). */
static long sys_fallocate(struct pm_thread *t, int fd, long mode, long off, long len)
{
	struct open_file *f = fd_lookup(t->proc->files, fd);
	if (!f)
		return -EBADF;
	long r = 0;
	long kind = mode & FALLOC_MODE_MASK;
	if (off < 0 || len <= 0)
		r = -EINVAL;
	else if (!falloc_mode_ok(mode))
		r = -EOPNOTSUPP;
	else if (!can_write(f))
		r = -EBADF;
	else if (!f->obj)
		r = -EISDIR;	/* only a directory has no object, and it is never writable */
	else if ((uint64_t)off + (uint64_t)len > (uint64_t)INT64_MAX)
		r = -EFBIG;
	else if (kind && kind != FALLOC_FL_PUNCH_HOLE)
		r = -EOPNOTSUPP;
	if (r || kind != FALLOC_FL_PUNCH_HOLE) {
		r = r ? r : obj_fallocate(f->obj, (int)mode, (uint64_t)off, (uint64_t)len);
		fd_file_put(f);
		return r;
	}
	struct vm_object *o = f->obj;
	uint64_t start = (uint64_t)off, end = start + (uint64_t)len;
	uint64_t first = (start + PAGE_SIZE - 1) / PAGE_SIZE, stop = end / PAGE_SIZE;
	int seals = obj_get_seals(o);
	if (seals > 0 && (seals & (OBJ_SEAL_WRITE | OBJ_SEAL_FUTURE_WRITE)))
		r = -EPERM;
	else if (o->kind == OBJ_HUGETLB) {
		/* hugetlbfs_punch_hole: whole huge pages go (their mappings first), the partial
		 * ones at the edges are zeroed in place. */
		uint64_t mask = obj_huge_size(o) - 1;
		uint64_t lo = (start + mask) & ~mask, hi = end & ~mask;
		if (lo < hi)
			mm_unmap_object_pages(o, lo >> PAGE_SHIFT, (hi >> PAGE_SHIFT) - 1);
		r = obj_hugetlb_punch(o, start, end);
		fd_file_put(f);
		return r;
	} else if (first < stop)
		r = mm_punch_object(o, first, stop - 1);
	/* The partial pages at the edges (one page may hold both). */
	uint64_t head_end = min_u64(end, first * PAGE_SIZE);
	if (!r)
		r = obj_punch_edge(o, start, head_end);
	if (!r)
		r = obj_punch_edge(o, max_u64(head_end, stop * PAGE_SIZE), end);
	fd_file_put(f);
	return r;
}

static long sys_dup(struct pm_thread *t, int fd, long min_fd, int cloexec)
{
	struct open_file *f = fd_lookup(t->proc->files, fd);
	if (!f)
		return -EBADF;
	long r = fd_install(t->proc->files, f, (int)min_fd, cloexec, nofile(t));
	if (r < 0)
		fd_file_put(f);
	return r;
}

static long sys_dup3(struct pm_thread *t, int oldfd, int newfd, long flags, int is_dup2)
{
	if (is_dup2 && oldfd == newfd) {
		int r = fd_get_cloexec(t->proc->files, oldfd);
		return r < 0 ? r : newfd;
	}
	if (flags & ~(long)O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	return fd_dup_to(t->proc->files, oldfd, newfd, (flags & O_CLOEXEC) != 0, nofile(t));
}

static long fcntl_file(struct open_file *f, int cmd, unsigned long arg)
{
	long r = 0;
	switch (cmd) {
	case F_GETFL:
		pthread_mutex_lock(&f->pos_lock);
		r = f->flags;
		pthread_mutex_unlock(&f->pos_lock);
		return r;
	case F_SETFL:
		pthread_mutex_lock(&f->pos_lock);
		f->flags = (f->flags & ~SETFL_MASK) | ((int)arg & SETFL_MASK);
		pthread_mutex_unlock(&f->pos_lock);
		return 0;
	case F_ADD_SEALS:	/* memfd_add_seals: write access first, then the seal rules */
		if (!can_write(f))
			return -EPERM;
		return f->obj ? obj_add_seals(f->obj, (unsigned)arg) : -EINVAL;
	case F_GET_SEALS:
		return f->obj ? obj_get_seals(f->obj) : -EINVAL;
	}
	return -EINVAL;
}

static long sys_fcntl(struct pm_thread *t, int fd, int cmd, unsigned long arg)
{
	struct open_file *f = fd_lookup(t->proc->files, fd);
	if (!f)
		return -EBADF;
	long r;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= nofile(t)) {
			r = -EINVAL;
			break;
		}
		r = fd_install(t->proc->files, f, (int)arg, cmd == F_DUPFD_CLOEXEC, nofile(t));
		if (r >= 0)
			return r;	/* the new slot took our reference */
		break;
	case F_GETFD:
		r = fd_get_cloexec(t->proc->files, fd);
		r = r > 0 ? FD_CLOEXEC : r;
		break;
	case F_SETFD:
		r = fd_set_cloexec(t->proc->files, fd, (arg & FD_CLOEXEC) != 0);
		break;
	default:
		r = fcntl_file(f, cmd, arg);
	}
	fd_file_put(f);
	return r;
}

int sys_file_dispatch(struct pm_thread *t, long nr, const long a[6], long *ret)
{
	switch (nr) {
	case SYS_read: *ret = rw(t, (int)a[0], (uint64_t)a[1], a[2], -1, 0); break;
	case SYS_write: *ret = rw(t, (int)a[0], (uint64_t)a[1], a[2], -1, 1); break;
	case SYS_pread64:
	case SYS_pwrite64:
		*ret = a[3] < 0 ? -EINVAL : rw(t, (int)a[0], (uint64_t)a[1], a[2], a[3],
					       nr == SYS_pwrite64);
		break;
	case SYS_open:
		*ret = fd_sys_openat(t, AT_FDCWD, (uint64_t)a[0], (int)a[1], (unsigned)a[2]);
		break;
	case SYS_openat:
		*ret = fd_sys_openat(t, (int)a[0], (uint64_t)a[1], (int)a[2], (unsigned)a[3]);
		break;
	case SYS_close: *ret = fd_close(t->proc->files, (int)a[0]); break;
	case SYS_fstat: *ret = sys_fstat(t, (int)a[0], (uint64_t)a[1]); break;
	case SYS_lseek: *ret = sys_lseek(t, (int)a[0], a[1], (int)a[2]); break;
	case SYS_ftruncate: *ret = sys_ftruncate(t, (int)a[0], a[1]); break;
	case SYS_fallocate: *ret = sys_fallocate(t, (int)a[0], a[1], a[2], a[3]); break;
	case SYS_dup: *ret = sys_dup(t, (int)a[0], 0, 0); break;
	case SYS_dup2: *ret = sys_dup3(t, (int)a[0], (int)a[1], 0, 1); break;
	case SYS_dup3: *ret = sys_dup3(t, (int)a[0], (int)a[1], a[2], 0); break;
	case SYS_fcntl: *ret = sys_fcntl(t, (int)a[0], (int)a[1], (unsigned long)a[2]); break;
	case SYS_memfd_create: *ret = fd_sys_memfd_create(t, (uint64_t)a[0], (unsigned)a[1]); break;
	default: return 0;
	}
	return 1;
}
