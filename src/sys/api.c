/*
 * The small public entry points that only translate: tokens, impersonation, the software
 * MMU, and errno names. Each checks that the process is alive and hands the work to the
 * layer that owns it.
 */
#include "sys/sys.h"

#include "kacs/access.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

pm_token *pm_token_parse(pm_system *sys, const char *spec, int *err)
{
	return (pm_token *)token_parse(&sys->km, spec, err);
}

void pm_token_put(pm_token *tok) { token_put((struct token *)tok); }

int pm_impersonate(pm_thread *t, pm_token *tok)
{
	if (!t || !tok)
		return -EINVAL;
	if (process_enter(t->proc))
		return -ESRCH;
	/* The identity gate and the integrity ceiling decide the level (digest §4.9): an
	 * Identification-level token may be inspected but every AccessCheck denies it. */
	int level = impersonation_level(t->proc->primary, (struct token *)tok, IMP_IMPERSONATION);
	struct token *imp = level < 0 ? NULL : token_dup_impersonation((struct token *)tok, level);
	if (imp) {
		struct token *old = t->imp;
		t->imp = imp;
		token_put(old);
		if (level == IMP_IDENTIFICATION)
			audit_log(t->proc->sys, "impersonate pid=%d tid=%d level=identification (capped)",
				  t->proc->pid, t->tid);
	}
	process_leave(t->proc);
	return imp ? 0 : -ENOMEM;
}

int pm_impersonation_level(pm_thread *t)
{
	return t && t->imp ? t->imp->imp_level : -1;
}

int pm_revert(pm_thread *t)
{
	if (!t)
		return -EINVAL;
	struct token *old = t->imp;
	t->imp = NULL;
	token_put(old);
	return 0;
}

long pm_access(pm_thread *t, uint64_t va, void *buf, size_t len, int how, pm_siginfo *si)
{
	if (!t)
		return -EINVAL;
	if (!how || (how & ~(PM_READ | PM_WRITE | PM_EXEC)))
		return -EINVAL;
	if (atomic_load(&t->exited))
		return -ESRCH;
	if (atomic_load(&t->proc->sys->panicked))
		return -EIO;	/* PanicOnOom halted the machine */
	/* A small read that hits the TLB needs neither the process reference nor mm->lock:
	 * mm_access_hit validates its copy against the TLB generation, which the teardown
	 * of a dying process bumps as it unmaps (so such a read falls through to the ESRCH
	 * below). Only a running process is read this way. */
	if (atomic_load_explicit(&t->proc->state, memory_order_acquire) == PROC_RUNNING &&
	    mm_access_hit(&t->tlb, t->pkru, va, buf, len, how)) {
		if (si)
			memset(si, 0, sizeof(*si));
		return (long)len;
	}
	if (process_enter(t->proc))
		return -ESRCH;
	struct mm_fault_info fi = { 0 };
	long r;
	/* A fault that finds no frame (SIGKILL, code 0) asks the OOM killer for room and
	 * retries, as the kernel's allocation path does (SPEC §8); a bounded number of times,
	 * since each round kills a process. */
	for (int round = 0;; round++) {
		r = mm_access_rlim(t->proc->mm, &t->tlb, t->pkru, va, buf, len, how, &fi,
				   t->proc->rlim);
		if (r >= 0 || fi.signo != SIGKILL || fi.code != 0 || round == 64 ||
		    sys_oom_kill(t->proc->sys, t->proc))
			break;
	}
	process_leave(t->proc);
	if (r < 0 && si) {
		si->signo = fi.signo;
		si->code = fi.code;
		si->addr = fi.addr;
		si->pkey = fi.pkey;
	} else if (si) {
		memset(si, 0, sizeof(*si));
	}
	return r;
}

long pm_syscall(pm_thread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (!t)
		return -EINVAL;
	if (atomic_load(&t->exited))
		return -ESRCH;
	if (atomic_load(&t->proc->sys->panicked))
		return -EIO;
	if (process_enter(t->proc))
		return -ESRCH;
	const long a[6] = { a1, a2, a3, a4, a5, a6 };
	long r = sys_dispatch(t, nr, a);
	process_leave(t->proc);
	return r;
}

static const char *const errnames[] = {
	[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR",
	[EIO] = "EIO", [ENXIO] = "ENXIO", [E2BIG] = "E2BIG", [ENOEXEC] = "ENOEXEC",
	[EBADF] = "EBADF", [ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
	[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY", [EEXIST] = "EEXIST",
	[EXDEV] = "EXDEV", [ENODEV] = "ENODEV", [ENOTDIR] = "ENOTDIR", [EISDIR] = "EISDIR",
	[EINVAL] = "EINVAL", [ENFILE] = "ENFILE", [EMFILE] = "EMFILE", [ETXTBSY] = "ETXTBSY",
	[EFBIG] = "EFBIG", [ENOSPC] = "ENOSPC", [ESPIPE] = "ESPIPE", [EROFS] = "EROFS",
	[ERANGE] = "ERANGE", [ENAMETOOLONG] = "ENAMETOOLONG", [ENOSYS] = "ENOSYS",
	[EOVERFLOW] = "EOVERFLOW", [EOPNOTSUPP] = "EOPNOTSUPP", [ELOOP] = "ELOOP",
};

const char *pm_errno_name(long err)
{
	if (err < 0)
		err = -err;
	if (err < (long)(sizeof(errnames) / sizeof(errnames[0])))
		return errnames[err];
	return NULL;
}
