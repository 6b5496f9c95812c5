/*
 * Processes and descriptors in a replay: fork, vfork, clone and clone3 make peimm children
 * (threads join their process; CLONE_VM and CLONE_FILES share the translation tables),
 * execve loads the host file, exit and exit_group end them; open, openat, close and the dups
 * keep the recorded-fd to peimm-fd table. A replay never changes the host: an open for
 * writing becomes a memfd in peimm, a file gone from the host keeps its recorded result,
 * and a recorded failed execve of a file that exists now keeps its recorded failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "replay.h"

#define RP_CLONE_VM 0x100
#define RP_CLONE_FILES 0x400
#define RP_CLONE_VFORK 0x4000
#define RP_CLONE_THREAD 0x10000

static int is_err(long v) { return v < 0 && v >= -4095; }

static void as_recorded(rp_proc *p)
{
	p->replayed++;	/* the outcome is the record's: nothing to compare */
}

static void note(rp_run *r, rp_proc *p, const rp_event *e, const char *why)
{
	rp_finding_add(r, p, e, RP_F_NOTE, 0, 0, why);
}

/* The child of a fork-like call, sharing or copying the parent's tables. */
static void new_child(rp_run *r, rp_proc *p, const rp_event *e, long flags, long pm_pid)
{
	rp_proc *c = rp_new_proc(r, (int)e->ret, (int)pm_pid);
	if (!c)
		return;
	rp_add_task(r, (int)e->ret, c);
	snprintf(c->program, sizeof(c->program), "%s", p->program);
	if (pm_pid < 0) {	/* peimm refused the fork: the child's calls are skipped */
		c->alive = 0;
		c->lost = 1;
		c->space = rp_space_new();
		c->files = rp_files_new();
		return;
	}
	if (flags & RP_CLONE_VM) {
		c->space = p->space;
		c->space->refs++;
	} else {
		c->space = rp_space_copy(p->space);
	}
	if (flags & RP_CLONE_FILES) {
		c->files = p->files;
		c->files->refs++;
	} else {
		c->files = rp_files_copy(p->files);
	}
}

static void do_fork(rp_run *r, rp_proc *p, const rp_event *e, pm_thread *t)
{
	long flags = e->call == RP_FORK ? 0 : e->call == RP_VFORK ?
		     RP_CLONE_VM | RP_CLONE_VFORK : e->val[0];
	long nr = e->call == RP_FORK ? SYS_fork : e->call == RP_VFORK ? SYS_vfork : SYS_clone;
	long res = pm_syscall(t, nr, flags & 0xffffffffL, 0, 0, 0, 0, 0);
	int rec_ok = !is_err(e->ret), pm_ok = !is_err(res);

	rp_judge(r, p, e, res, rec_ok, pm_ok);
	if (!e->has_ret || !rec_ok)
		return;
	if (flags & RP_CLONE_THREAD)
		rp_add_task(r, (int)e->ret, p);
	else
		new_child(r, p, e, flags, pm_ok ? res : -1);
}

/* argv as recorded (strace may have cut long strings), and no environment. */
static long exec_call(pm_thread *t, const rp_event *e)
{
	size_t n = 0;
	while (e->argv && e->argv[n])
		n++;
	uint64_t *vec = calloc(n + 1, sizeof(*vec));
	if (!vec)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		vec[i] = rp_scratch_str(t, e->argv[i]);
	uint64_t uvec = pm_scratch(t, vec, (n + 1) * sizeof(*vec));
	free(vec);
	return pm_syscall(t, SYS_execve, (long)rp_scratch_str(t, e->str[0]), (long)uvec, 0, 0, 0, 0);
}

static void do_execve(rp_run *r, rp_proc *p, const rp_event *e, pm_thread *t)
{
	const char *path = e->str[0];
	int here = !access(path, F_OK), rec_ok = e->has_ret && e->ret == 0;

	if (!e->has_ret || (!rec_ok && here)) {
		as_recorded(p);	/* trying it could replace the image the record kept */
		return;
	}
	if (rec_ok && !here) {
		note(r, p, e, "the program is not on this host: the rest of this process is skipped");
		p->lost = 1;
		as_recorded(p);
		return;
	}
	rp_snapshot_maps(r, p);
	long res = exec_call(t, e);
	rp_judge(r, p, e, res, rec_ok, res == 0);
	if (rec_ok && res == 0) {
		if (rp_after_exec(r, p, path))
			note(r, p, e, "could not set up the new image's translation");
	} else if (rec_ok) {
		p->lost = 1;	/* the rest of its calls belong to an image peimm did not load */
	}
}

void rp_do_proc(rp_run *r, rp_proc *p, const rp_event *e)
{
	pm_thread *t = rp_thread(r, p);

	if (!t) {
		rp_skip_count(r, p, "(after exit)");
		return;
	}
	switch (e->call) {
	case RP_EXECVE:
		do_execve(r, p, e, t);
		break;
	case RP_EXIT:
	case RP_EXIT_GROUP:
		rp_snapshot_maps(r, p);
		pm_syscall(t, e->call == RP_EXIT ? SYS_exit : SYS_exit_group, e->val[0], 0, 0, 0, 0, 0);
		as_recorded(p);
		break;
	default:
		do_fork(r, p, e, t);
	}
}

/* ---- descriptors ---- */

static int pm_fd_of(rp_proc *p, int rec)
{
	rp_fd *d = rp_fd_find(p->files, rec);
	return d ? d->pm : -2;	/* -1: known only to the record; -2: not from a traced call */
}

/* The host path an AT_FDCWD open means, for the existence check. */
static void host_path(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];
	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(out, len, "%s", path);
	else
		snprintf(out, len, "%s/%s", cwd, path);
}

static void do_open(rp_run *r, rp_proc *p, const rp_event *e, pm_thread *t)
{
	int at = e->call == RP_OPENAT;
	const char *path = e->str[at ? 1 : 0];
	long flags = e->val[at ? 2 : 1], mode = e->val[at ? 3 : 2];
	int dirfd = at ? (int)e->val[0] : AT_FDCWD, rec_ok = !is_err(e->ret);
	int cloexec = (flags & O_CLOEXEC) != 0, here = 1;
	char full[PATH_MAX + 256];
	struct stat st;

	if (dirfd == AT_FDCWD || path[0] == '/') {
		host_path(path, full, sizeof(full));
		here = !stat(full, &st);
		path = full;
		dirfd = AT_FDCWD;
	} else if ((dirfd = pm_fd_of(p, dirfd)) < 0) {
		note(r, p, e, "its directory fd is not known to the replay: not replayed");
		p->skipped++;
		return;
	}
	int writes = (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | __O_TMPFILE));
	long res;
	if (writes) {
		if (!rec_ok || !e->has_ret) {
			as_recorded(p);	/* never try a write on the host */
			return;
		}
		res = pm_syscall(t, SYS_memfd_create, (long)rp_scratch_str(t, "replay"),
				 cloexec ? 1 : 0, 0, 0, 0, 0);
	} else if (!here || (!rec_ok && e->ret == -ENOENT) ||
		   (dirfd == AT_FDCWD && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		/* the host's files changed since, or a device peimm does not model */
		if (rec_ok) {
			note(r, p, e, here ? "a device, not a file peimm models: its recorded fd is kept" :
				      "the file is not on this host: its recorded fd is kept");
			rp_fd_set(p->files, (int)e->ret, -1, cloexec);
		}
		as_recorded(p);
		return;
	} else {
		res = pm_syscall(t, SYS_openat, dirfd, (long)rp_scratch_str(t, path), flags, mode, 0, 0);
	}
	rp_judge(r, p, e, res, rec_ok, !is_err(res));
	if (!e->has_ret)
		return;
	if (rec_ok)
		rp_fd_set(p->files, (int)e->ret, is_err(res) ? -1 : (int)res, cloexec);
	else if (!is_err(res))
		pm_syscall(t, SYS_close, res, 0, 0, 0, 0, 0);
}

/* The peimm number for a dup2/dup3 target: the one it already has, else the same number
 * when peimm does not use it for another recorded fd. */
static int target_fd(rp_proc *p, int rec)
{
	int pm = pm_fd_of(p, rec), n = rec;
	if (pm >= 0)
		return pm;
	for (size_t i = 0; i < p->files->n; i++)
		if (p->files->f[i].pm == n) {
			n += 512;
			i = (size_t)-1;
		}
	return n;
}

void rp_do_fd(rp_run *r, rp_proc *p, const rp_event *e)
{
	pm_thread *t = rp_thread(r, p);
	int rec_ok = !is_err(e->ret);

	if (!t) {
		rp_skip_count(r, p, "(after exit)");
		return;
	}
	if (e->call == RP_OPEN || e->call == RP_OPENAT) {
		do_open(r, p, e, t);
		return;
	}
	int old = pm_fd_of(p, (int)e->val[0]);
	if (old == -2) {
		rp_skip_count(r, p, "(fd not from a traced call)");
		return;
	}
	long res, newfd = 0;
	if (old == -1) {	/* a file only the record has: keep the record's outcome */
		res = rec_ok ? 0 : e->ret;
		as_recorded(p);
	} else if (e->call == RP_CLOSE) {
		res = pm_syscall(t, SYS_close, old, 0, 0, 0, 0, 0);
		rp_judge(r, p, e, res, rec_ok, res >= 0);
	} else if (e->call == RP_DUP) {
		res = pm_syscall(t, SYS_dup, old, 0, 0, 0, 0, 0);
		rp_judge(r, p, e, res, rec_ok, res >= 0);
	} else {
		newfd = target_fd(p, (int)e->val[1]);
		res = pm_syscall(t, e->call == RP_DUP2 ? SYS_dup2 : SYS_dup3, old, newfd,
				 e->call == RP_DUP3 ? e->val[2] : 0, 0, 0, 0);
		rp_judge(r, p, e, res, rec_ok, res >= 0);
	}
	if (!e->has_ret || !rec_ok)
		return;
	if (e->call == RP_CLOSE)
		rp_fd_drop(p->files, (int)e->val[0]);
	else
		rp_fd_set(p->files, (int)e->ret, old == -1 || res < 0 ? -1 : (int)res,
			  e->call == RP_DUP3 && (e->val[2] & O_CLOEXEC));
}
