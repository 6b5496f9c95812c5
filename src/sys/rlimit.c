/*
 * getrlimit, setrlimit and prlimit64 (Linux's kernel/sys.c do_prlimit). Limits are per
 * process; mm enforces RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK and RLIMIT_MEMLOCK. Raising a
 * hard limit needs SeIncreaseQuotaPrivilege, which stands in for CAP_SYS_RESOURCE
 * (SPEC §8, §13). Another process's limits may be changed by a thread of the same user.
 */
#include "sys/sys.h"

#include <errno.h>

#include "kacs/gate.h"

#define NR_OPEN_MAX (1UL << 20)	/* fs.nr_open */

struct user_rlimit { uint64_t cur, max; };

static int copy_from(struct pm_thread *t, uint64_t va, void *buf, size_t len)
{
	struct mm_fault_info fi;
	return mm_access(t->proc->mm, NULL, t->pkru, va, buf, len, PM_READ, &fi) < 0 ? -EFAULT : 0;
}

static int copy_to(struct pm_thread *t, uint64_t va, const void *buf, size_t len)
{
	struct mm_fault_info fi;
	return mm_access(t->proc->mm, NULL, t->pkru, va, (void *)buf, len, PM_WRITE, &fi) < 0 ? -EFAULT : 0;
}

/* do_prlimit: validates and installs `new` (may be NULL), reports the old value. */
static long do_prlimit(struct pm_thread *t, struct pm_process *p, unsigned res,
		       const struct user_rlimit *new, struct user_rlimit *old)
{
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (new && new->cur > new->max)
		return -EINVAL;
	if (new && res == RLIMIT_NOFILE && new->max > NR_OPEN_MAX)
		return -EPERM;
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->lock);
	struct mm_rlimit *r = &p->rlim[res];
	long ret = 0;
	if (new && new->max > r->max && !gate_privilege(thread_token(t), PM_SE_INCREASE_QUOTA_PRIVILEGE))
		ret = -EPERM;
	if (!ret && old) {
		old->cur = r->cur;
		old->max = r->max;
	}
	if (!ret && new) {
		r->cur = new->cur;
		r->max = new->max;
	}
	pthread_mutex_unlock(&sys->lock);
	return ret;
}

long sys_getrlimit(struct pm_thread *t, const long a[6])
{
	struct user_rlimit old;
	long r = do_prlimit(t, t->proc, (unsigned)a[0], NULL, &old);
	return r ? r : copy_to(t, (uint64_t)a[1], &old, sizeof(old));
}

long sys_setrlimit(struct pm_thread *t, const long a[6])
{
	struct user_rlimit new;
	if ((unsigned long)a[0] >= RLIM_NLIMITS)
		return -EINVAL;
	if (copy_from(t, (uint64_t)a[1], &new, sizeof(new)))
		return -EFAULT;
	return do_prlimit(t, t->proc, (unsigned)a[0], &new, NULL);
}

/* Finds and enters the target of prlimit64 (pid 0 = self). */
static struct pm_process *prlimit_target(struct pm_thread *t, long pid, long *err)
{
	if (pid == 0 || pid == t->proc->pid)
		return t->proc;
	struct pm_system *sys = t->proc->sys;
	pthread_mutex_lock(&sys->lock);
	struct pm_process *p = process_lookup_locked(sys, (int)pid);
	if (!p || process_enter(p)) {
		pthread_mutex_unlock(&sys->lock);
		*err = -ESRCH;
		return NULL;
	}
	pthread_mutex_unlock(&sys->lock);
	if (!sid_equal(&thread_token(t)->user, &p->primary->user)) {
		process_leave(p);
		*err = -EPERM;
		return NULL;
	}
	return p;
}

long sys_prlimit64(struct pm_thread *t, const long a[6])
{
	struct user_rlimit new, old;
	long err = 0;
	if (a[2] && copy_from(t, (uint64_t)a[2], &new, sizeof(new)))
		return -EFAULT;
	struct pm_process *p = prlimit_target(t, a[0], &err);
	if (!p)
		return err;
	long r = do_prlimit(t, p, (unsigned)a[1], a[2] ? &new : NULL, a[3] ? &old : NULL);
	if (p != t->proc)
		process_leave(p);
	if (!r && a[3])
		r = copy_to(t, (uint64_t)a[3], &old, sizeof(old));
	return r;
}
