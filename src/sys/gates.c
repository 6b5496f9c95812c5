/*
 * The cross-process gates of SPEC §7 at the syscall boundary: one wrapper (sys_gate) that
 * runs kacs's two checks for a caller thread and a target process and writes every denial
 * and every privilege-rescued grant to the audit log; pidfd lookup; and the process calls
 * that need it: kill, pidfd_open, process_vm_readv/writev, process_madvise and
 * process_mrelease. No parent fast path and no self bypass (SPEC §7).
 */
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "kacs/gate.h"
#include "kacs/sd.h"
#include "sys/fd.h"

int sys_gate(struct pm_thread *t, struct pm_process *target, uint32_t right, const char *op)
{
	struct pm_process *me = t->proc;
	struct token *tok = thread_token(t);
	struct gate_result res;
	pthread_mutex_lock(&me->sys->lock);
	int r = gate_process(tok, me->pip_type, me->pip_trust, target->sd, target->pip_type,
			     target->pip_trust, right, &res);
	pthread_mutex_unlock(&me->sys->lock);
	if (r || res.why[2] == '+') {
		char who[200];
		token_describe(tok, who, sizeof(who));
		audit_log(me->sys, "gate op=%s caller=%d target=%d right=%#x result=%s why=%s %s", op,
			  me->pid, target->pid, right, r ? "denied" : "allowed", res.why, who);
	}
	return r;
}

struct pm_process *sys_target_pid(struct pm_thread *t, long pid)
{
	struct pm_system *sys = t->proc->sys;
	pthread_mutex_lock(&sys->lock);
	struct pm_process *p = process_lookup_locked(sys, (int)pid);
	if (p && atomic_load(&p->state) == PROC_DEAD)
		p = NULL;
	pthread_mutex_unlock(&sys->lock);
	return p;
}

/* The process a pidfd names: -EBADF when fd is not a pidfd, -ESRCH when it is gone. */
static struct pm_process *pidfd_target(struct pm_thread *t, long fd, long *err)
{
	struct open_file *f = fd_lookup(t->proc->files, (int)fd);
	if (!f || !f->pid) {
		if (f)
			fd_file_put(f);
		*err = -EBADF;
		return NULL;
	}
	int pid = f->pid;
	fd_file_put(f);
	struct pm_process *p = sys_target_pid(t, pid);
	*err = p ? 0 : -ESRCH;
	return p;
}

long sys_pidfd_open(struct pm_thread *t, const long a[6])
{
	if (a[1] & ~(long)O_NONBLOCK)
		return -EINVAL;
	if (a[0] <= 0)
		return -EINVAL;
	struct pm_process *p = sys_target_pid(t, a[0]);
	if (!p)
		return -ESRCH;
	long r = sys_gate(t, p, PROCESS_QUERY_LIMITED_INFORMATION, "pidfd_open");
	if (r)
		return r;
	struct open_file *f = fd_file_alloc(&t->proc->sys->km, NULL, O_RDWR, -1, NULL);
	if (!f)
		return -ENOMEM;
	f->pid = p->pid;
	r = fd_install(t->proc->files, f, 0, 1, t->proc->rlim[RLIMIT_NOFILE].cur);
	if (r < 0)
		fd_file_put(f);
	return r;
}

/* The right a signal needs (digest §4.4): 0 probes existence, stop/continue signals need
 * SUSPEND_RESUME, the rest TERMINATE. */
static uint32_t signal_right(long sig)
{
	if (sig == 0)
		return PROCESS_QUERY_LIMITED_INFORMATION;
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU || sig == SIGCONT)
		return PROCESS_SUSPEND_RESUME;
	if (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH)
		return PROCESS_SIGNAL;	/* the signals whose default action is to ignore */
	return PROCESS_TERMINATE;
}

long sys_kill(struct pm_thread *t, const long a[6])
{
	long sig = a[1];
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (a[0] <= 0)
		return -EINVAL;	/* process groups are not modelled */
	struct pm_process *p = sys_target_pid(t, a[0]);
	if (!p)
		return -ESRCH;
	long r = sys_gate(t, p, signal_right(sig), "kill");
	if (r)
		return r;	/* EACCES: Peios's kill gate (digest §4.4, tested in pkm), not EPERM */
	/* Only SIGKILL has an effect on memory: the process dies and its memory waits for
	 * the reaper (DESIGN.md). Other signals have no handlers to run here. */
	if (sig == SIGKILL)
		process_kill(p);
	return 0;
}

/* process_mrelease(pidfd, flags): frees a dying process's memory now (SPEC §8). */
long sys_process_mrelease(struct pm_thread *t, const long a[6])
{
	long err;
	if (a[1])
		return -EINVAL;
	struct pm_process *p = pidfd_target(t, a[0], &err);
	if (!p)
		return err;
	if (p == t->proc)
		return -EINVAL;	/* self is rejected: the caller is not dying */
	long r = sys_gate(t, p, PROCESS_SET_QUOTA, "process_mrelease");
	if (r)
		return -EPERM;
	if (!p->killed)
		return -EINVAL;	/* it must already be dying */
	process_reap(p);
	return 0;
}
