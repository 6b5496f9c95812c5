/*
 * open, openat and memfd_create (shmem, or hugetlb with MFD_HUGETLB). Paths come from process memory and resolve against the
 * system's root directory (cfg.root, default the host "/") as if the process were
 * chrooted there: the host resolves them with openat2's RESOLVE_IN_ROOT, so neither ".."
 * nor a symlink can leave the root. A regular file becomes the page cache's one object
 * for that host file; the host descriptor opened here is closed before returning.
 */
#include "kacs/gate.h"
#include "kacs/sd.h"
#include "sys/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/xattr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "sys/sys.h"

#define MFD_NAME_MAX	249	/* NAME_MAX less "memfd:" */
#define MFD_CLOEXEC_	0x0001u
#define MFD_HUGETLB_	0x0004u
#define MFD_HUGE_BITS	(0x3fu << 26)

/* Flags the host open sees. O_APPEND and O_DIRECT stay with the open file here: the page
 * cache writes back at offsets of its own, and O_DIRECT only marks the file DAX. */
#define HOST_OPEN_FLAGS (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_NONBLOCK | \
			 O_DIRECTORY | O_NOFOLLOW | O_TMPFILE)
/* Flags F_GETFL does not report (do_dentry_open clears them). */
#define OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)

/* Rewrites path (absolute inside the root) without ".", ".." or repeated slashes; ".."
 * at the root stays at the root, as in a chroot. */
static void normalize(char *path)
{
	char *out = path, *in = path;
	while (*in) {
		while (*in == '/')
			in++;
		char *end = in + strcspn(in, "/");
		size_t n = (size_t)(end - in);
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else if (n && !(n == 1 && in[0] == '.')) {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/* The absolute (inside the root) path openat means: path itself when absolute, else
 * joined to the directory of dirfd (AT_FDCWD: the root, the process's cwd). */
static int full_path(struct pm_thread *t, int dirfd, const char *path, char *out)
{
	const char *base = "/";
	struct open_file *d = NULL;
	if (path[0] != '/' && dirfd != AT_FDCWD) {
		d = fd_lookup(t->proc->files, dirfd);
		if (!d)
			return -EBADF;
		if (!d->path) {
			fd_file_put(d);
			return -ENOTDIR;
		}
		base = d->path;
	}
	size_t bl = path[0] == '/' ? 0 : strlen(base), pl = strlen(path);
	int err = bl + 1 + pl >= SYS_PATH_MAX ? -ENAMETOOLONG : 0;
	if (!err) {
		memcpy(out, base, bl);
		out[bl] = '/';
		memcpy(out + bl + 1, path, pl + 1);
		normalize(out);
	}
	if (d)
		fd_file_put(d);
	return err;
}

int sys_host_open(const char *root, const char *path, int flags, unsigned mode)
{
	int rootfd = open(root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	int creat = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = creat ? (mode & 07777) : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	int err = fd < 0 ? -errno : 0;
	if (err == -ENOSYS) {
		/* An old host kernel: callers pass normalised paths, so ".." cannot climb; only
		 * symlinks are followed by the host as they are. */
		while (*path == '/')
			path++;
		fd = openat(rootfd, *path ? path : ".", flags | O_CLOEXEC, creat ? mode : 0);
		err = fd < 0 ? -errno : 0;
	}
	close(rootfd);
	return fd < 0 ? err : fd;
}

void sys_host_name(const char *root, int hfd, const char *asked, char *out)
{
	char link[64], real_root[SYS_PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", hfd);
	ssize_t n = readlink(link, out, SYS_PATH_MAX - 1);
	if (n <= 0 || !realpath(root ? root : "/", real_root)) {
		snprintf(out, SYS_PATH_MAX, "%s", asked);
		return;
	}
	out[n] = '\0';
	size_t rl = strcmp(real_root, "/") ? strlen(real_root) : 0;
	if (strncmp(out, real_root, rl) || (out[rl] != '/' && out[rl] != '\0')) {
		snprintf(out, SYS_PATH_MAX, "%s", asked);
		return;
	}
	memmove(out, out + rl, strlen(out + rl) + 1);
	if (!out[0])
		strcpy(out, "/");
}

static int fmode_of(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return OBJ_FMODE_READ;
	case O_WRONLY: return OBJ_FMODE_WRITE;
	case O_RDWR: return OBJ_FMODE_READ | OBJ_FMODE_WRITE;
	}
	return 0;
}

/* The rights a host file's SD grants t's effective token (SPEC §3, DESIGN "Files"): the
 * SD is the file's user.peios.sd attribute (SDDL) if it has one, else one derived from the
 * mode bits. Derived: the owner triplet goes to the token's user when the file's host uid
 * is the token's projected uid, and the "other" triplet to Everyone. peimm projects every
 * token to the host user running it (the simulated users all act through that account;
 * mapping user SIDs to distinct host uids is outside the model), so the owner triplet
 * applies to the host user's own files and "other" to everyone else's. */
static uint32_t triplet_rights(unsigned bits)
{
	return (bits & 4 ? 0x120089u : 0) | (bits & 2 ? 0x120116u : 0) | (bits & 1 ? 0x1200a0u : 0);
}

static uint32_t file_rights(struct pm_thread *t, int hfd, const struct stat *st)
{
	struct pm_system *sys = t->proc->sys;
	char sddl[4096];
	ssize_t n = fgetxattr(hfd, "user.peios.sd", sddl, sizeof(sddl) - 1);
	struct token *tok = thread_token(t);
	if (n <= 0) {
		char user[192];
		sid_format(&tok->user, user, sizeof(user));
		char others[40] = "";
		if (st->st_mode & 7)
			snprintf(others, sizeof(others), "(A;;%#x;;;WD)", triplet_rights(st->st_mode & 7));
		unsigned owner = (st->st_mode >> 6) & 7;
		if (st->st_uid == geteuid() && owner)
			n = snprintf(sddl, sizeof(sddl), "O:%sG:%sD:(A;;%#x;;;%s)%s", user, user,
				     triplet_rights(owner), user, others);
		else
			n = snprintf(sddl, sizeof(sddl), "O:SYG:SYD:%s", others);
	}
	sddl[n] = '\0';
	struct sd *sd;
	size_t off;
	if (sd_from_sddl(&sys->km, sddl, &sd, &off))
		return 0;	/* a malformed SD grants nothing */
	uint32_t granted = 0;
	gate_object(tok, sd, GATE_CLASS_FILE, MAXIMUM_ALLOWED, &granted);
	sd_free(&sys->km, sd);
	return granted;
}

/* The rights an open in `flags` mode needs: read data, and write data (append data for
 * O_APPEND writes). */
static uint32_t open_needs(int flags)
{
	int acc = flags & O_ACCMODE;
	uint32_t need = acc != O_WRONLY ? FILE_READ_DATA : 0;
	if (acc != O_RDONLY)
		need |= (flags & O_APPEND) ? FILE_APPEND_DATA : FILE_WRITE_DATA;
	return need;
}

/* The open file for a host descriptor (consumed): a directory, or the cached object of a
 * regular file, truncated for O_TRUNC. NULL with *err set. */
static struct open_file *open_host(struct pm_thread *t, int hfd, int flags, const char *name,
				   int *err)
{
	struct pm_system *sys = t->proc->sys;
	int ofl = (flags & ~OPEN_ONLY_FLAGS) | O_LARGEFILE;
	struct stat st;
	*err = -ENOMEM;
	if (fstat(hfd, &st) || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
		close(hfd);
		*err = -ENXIO;	/* devices, fifos and sockets are not simulated */
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		struct open_file *f = fd_file_alloc(&sys->km, NULL, ofl, hfd, name);
		if (!f)
			close(hfd);
		return f;
	}
	uint32_t granted = file_rights(t, hfd, &st);
	if ((granted & open_needs(flags)) != open_needs(flags)) {
		close(hfd);
		*err = -EACCES;	/* the file's SD refuses this access */
		return NULL;
	}
	struct vm_object *o = obj_file_open(&sys->fcache, hfd, fmode_of(flags), name, err);
	close(hfd);
	if (!o)
		return NULL;
	if (flags & O_TRUNC)
		fd_truncate_object(o, 0);	/* the host already truncated; drop the cache */
	struct open_file *f = fd_file_alloc(&sys->km, o, ofl, -1, NULL);
	if (!f)
		obj_put(o);
	else
		f->granted = granted;
	return f;
}

long fd_sys_openat(struct pm_thread *t, int dirfd, uint64_t upath, int flags, unsigned mode)
{
	struct pm_system *sys = t->proc->sys;
	char *path = kmem_zalloc(&sys->km, 2 * SYS_PATH_MAX);
	if (!path)
		return -ENOMEM;
	char *full = path + SYS_PATH_MAX;
	long r = fd_copy_string(t, upath, path, SYS_PATH_MAX);
	if (r == 0)
		r = -ENOENT;
	if (r > 0)
		r = full_path(t, dirfd, path, full);
	if (r < 0)
		goto out;
	int hfd = sys_host_open(sys->cfg.root, full, flags & HOST_OPEN_FLAGS, mode);
	if (hfd < 0) {
		r = hfd;
		goto out;
	}
	sys_host_name(sys->cfg.root, hfd, full, path);
	int err;
	struct open_file *f = open_host(t, hfd, flags, path, &err);
	if (!f) {
		r = err;
		goto out;
	}
	r = fd_install(t->proc->files, f, 0, flags & O_CLOEXEC,
		       t->proc->rlim[RLIMIT_NOFILE].cur);
	if (r < 0)
		fd_file_put(f);
out:
	kmem_free(&sys->km, path, 2 * SYS_PATH_MAX);
	return r;
}

long fd_sys_memfd_create(struct pm_thread *t, uint64_t uname, unsigned flags)
{
	const unsigned all = MFD_CLOEXEC_ | OBJ_MFD_ALLOW_SEALING | MFD_HUGETLB_ |
			     OBJ_MFD_NOEXEC_SEAL | OBJ_MFD_EXEC;
	if (flags & ~(all | ((flags & MFD_HUGETLB_) ? MFD_HUGE_BITS : 0)))
		return -EINVAL;
	if ((flags & OBJ_MFD_NOEXEC_SEAL) && (flags & OBJ_MFD_EXEC))
		return -EINVAL;
	char name[MFD_NAME_MAX + 1];
	long n = fd_copy_string(t, uname, name, sizeof(name));
	if (n < 0)
		return n == -ENAMETOOLONG ? -EINVAL : n;
	struct pm_system *sys = t->proc->sys;
	uint64_t ino = atomic_fetch_add(&sys->ms.next_ino, 1);
	int err;
	struct vm_object *o;
	if (flags & MFD_HUGETLB_) {
		/* hugetlb_file_setup: MFD_HUGE_* picks a pool; a size with no pool is ENODEV. */
		unsigned log = (flags & MFD_HUGE_BITS) >> 26;
		int h = (log == 0 || log == 21) ? 0 : log == 30 ? 1 : -1;
		if (h < 0)
			return -ENODEV;
		o = obj_hugetlb_memfd_create(&sys->km, &sys->ph, h, name, flags, ino, &err);
	} else {
		o = obj_memfd_create(&sys->km, &sys->ph, name, flags, ino, &err);
	}
	if (!o)
		return err;
	if (o->kind == OBJ_MEMFD)
		obj_shmem_register(&sys->fcache, o);	/* its pages may be swapped out (not hugetlb's) */
	struct open_file *f = fd_file_alloc(&sys->km, o, O_RDWR | O_LARGEFILE, -1, NULL);
	if (!f) {
		obj_put(o);
		return -ENOMEM;
	}
	long fd = fd_install(t->proc->files, f, 0, flags & MFD_CLOEXEC_,
			     t->proc->rlim[RLIMIT_NOFILE].cur);
	if (fd < 0)
		fd_file_put(f);
	return fd;
}
