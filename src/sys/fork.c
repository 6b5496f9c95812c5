/*
 * fork, vfork and clone (Linux's kernel_clone): a child process with a copy-on-write copy
 * of the address space (mm_fork), or sharing it (vfork, CLONE_VM); a new thread of the
 * same process (CLONE_THREAD); and exit of one thread. The child inherits the primary
 * token, limits, PSB, PKRU and the fd table (copied, or shared with CLONE_FILES); locks
 * and MCL_FUTURE are not inherited (mm_fork drops them). Returns the child's pid or tid.
 */
#include "sys/sys.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "sys/fd.h"

/* Copies what a child inherits from its parent (copy_process's share of the task). */
static void inherit(struct pm_process *child, const struct pm_process *parent)
{
	memcpy(child->rlim, parent->rlim, sizeof(child->rlim));
	child->pip_type = parent->pip_type;
	child->pip_trust = parent->pip_trust;
	child->dynamic_code = parent->dynamic_code;	/* the policy is inherited (SPEC §4) */
	child->dumpable = parent->dumpable;
	child->ppid = parent->pid;
	child->scratch_next = parent->scratch_next;
	child->scratch_end = parent->scratch_end;
	memcpy(child->comm, parent->comm, sizeof(child->comm));
	child->exec_entry = parent->exec_entry;
	child->exec_sp = parent->exec_sp;
	memcpy(child->saved_auxv, parent->saved_auxv, sizeof(child->saved_auxv));
	child->nr_auxv = parent->nr_auxv;
}

static long new_child(struct pm_thread *t, int share_vm, int share_files)
{
	struct pm_process *parent = t->proc;
	struct pm_system *sys = parent->sys;
	int err = 0;
	struct mm_struct *mm = parent->mm;
	if (share_vm)
		mm_use(mm);
	else if (!(mm = mm_fork(parent->mm, &err)))
		return err;
	struct fd_table *files = parent->files;
	if (share_files)
		fd_table_get(files);
	else if (!(files = fd_table_dup(parent->files))) {
		mm_destroy(mm);
		return -ENOMEM;
	}
	struct pm_process *p = process_new(sys, parent->primary, NULL, mm, files);
	struct pm_thread *th = p ? thread_new(sys, p, 0) : NULL;
	if (!th) {
		if (p)
			process_discard(p);	/* releases what it took over */
		return -ENOMEM;
	}
	th->pkru = t->pkru;
	pthread_mutex_lock(&sys->lock);
	inherit(p, parent);
	process_register_locked(sys, p, th);
	pthread_mutex_unlock(&sys->lock);
	return p->pid;
}

/* A new thread in t's process: it shares everything but its TLB, and starts with t's PKRU
 * (SPEC §10). */
static long new_thread(struct pm_thread *t)
{
	struct pm_system *sys = t->proc->sys;
	struct pm_thread *th = thread_new(sys, t->proc, 0);
	if (!th)
		return -ENOMEM;
	th->pkru = t->pkru;
	pthread_mutex_lock(&sys->lock);
	th->tid = sys->next_pid++;
	t->proc->nthreads++;
	list_add_tail(&th->node, &sys->threads);
	pthread_mutex_unlock(&sys->lock);
	return th->tid;
}

long sys_fork(struct pm_thread *t, const long a[6])
{
	(void)a;
	return new_child(t, 0, 0);
}

/* vfork: the child borrows the parent's address space until it execs or exits. peimm
 * does not suspend the parent; the two simply share the mm, as CLONE_VM does. */
long sys_vfork(struct pm_thread *t, const long a[6])
{
	(void)a;
	return new_child(t, 1, 0);
}

long sys_clone(struct pm_thread *t, const long a[6])
{
	unsigned long flags = (unsigned long)a[0];
	/* copy_process's consistency rules. */
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if (flags & CLONE_THREAD)
		return new_thread(t);
	return new_child(t, (flags & CLONE_VM) != 0, (flags & CLONE_FILES) != 0);
}

/* exit: the thread ends; the last one ends the process. */
long sys_exit(struct pm_thread *t, const long a[6])
{
	(void)a;
	struct pm_system *sys = t->proc->sys;
	pthread_mutex_lock(&sys->lock);
	int last = t->proc->nthreads <= 1;
	if (!last) {
		t->proc->nthreads--;
		atomic_store(&t->exited, 1);
	}
	pthread_mutex_unlock(&sys->lock);
	if (last)
		process_exit(t->proc);
	return 0;
}
