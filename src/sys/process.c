/*
 * Processes and threads: spawn (a new mm with the standard layout), lookup by pid, exit
 * (the address space torn down, the handles kept until the system goes), the in-flight
 * count that lets the last syscall out of an exiting process do the teardown, and the
 * scratch area tests use to pass data in. Thread handles are never freed before
 * pm_system_destroy, so a stale handle answers -ESRCH instead of crashing.
 */
#include "sys/sys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "kacs/sd.h"
#include "sys/fd.h"

#define PKRU_DEFAULT	0x55555554u	/* every key but 0 access-disabled, as Linux starts threads */
#define SCRATCH_CHUNK	(1ULL << 20)

static void default_rlimits(struct mm_rlimit *r)
{
	for (int i = 0; i < RLIM_NLIMITS; i++)
		r[i].cur = r[i].max = RLIM_INFINITY;
	r[RLIMIT_STACK].cur = 8ULL << 20;
	r[RLIMIT_MEMLOCK].cur = r[RLIMIT_MEMLOCK].max = 8ULL << 20;	/* SPEC §10 */
	r[RLIMIT_NOFILE].cur = 1024;
	r[RLIMIT_NOFILE].max = 4096;
}

struct pm_process *process_lookup_locked(struct pm_system *sys, int pid)
{
	for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next) {
		struct pm_process *p = list_entry(l, struct pm_process, node);
		if (p->pid == pid)
			return p;
	}
	return NULL;
}

struct pm_thread *thread_new(struct pm_system *sys, struct pm_process *p, int tid)
{
	struct pm_thread *t = kmem_new(&sys->km, struct pm_thread);
	if (!t)
		return NULL;
	t->proc = p;
	t->tid = tid;
	t->pkru = PKRU_DEFAULT;
	tlb_init(&t->tlb);
	sb_init(&t->view_cache.sb, &sys->km);
	return t;
}

struct pm_process *process_new(struct pm_system *sys, struct token *primary,
			       const pm_spawn_opts *opts, struct mm_struct *mm,
			       struct fd_table *files)
{
	struct pm_process *p = kmem_new(&sys->km, struct pm_process);
	if (!p) {
		if (mm)
			mm_destroy(mm);
		fd_table_destroy(files);
		return NULL;
	}
	p->sys = sys;
	p->mm = mm ? mm : mm_create(&sys->ms);
	p->files = files ? files : p->mm ? fd_table_create(&sys->km) : NULL;
	if (!p->mm || !p->files) {
		if (p->mm)
			mm_destroy(p->mm);
		fd_table_destroy(p->files);
		kmem_delete(&sys->km, p);
		return NULL;
	}
	p->sd = sd_default_process(&sys->km, primary);	/* from the primary token (SPEC §7) */
	if (!p->sd) {
		mm_destroy(p->mm);
		fd_table_destroy(p->files);
		kmem_delete(&sys->km, p);
		return NULL;
	}
	default_rlimits(p->rlim);
	atomic_init(&p->state, PROC_RUNNING);
	atomic_init(&p->users, 0);
	token_get(primary);
	p->primary = primary;
	p->nthreads = 1;
	p->dumpable = 1;
	if (opts) {
		p->pip_type = opts->pip_type;
		p->pip_trust = opts->pip_trust;
	}
	snprintf(p->comm, sizeof(p->comm), "peimm");
	return p;
}

pm_thread *pm_spawn(pm_system *sys, pm_token *primary, const pm_spawn_opts *opts)
{
	struct token *tok = (struct token *)primary;
	if (!sys || !tok)
		return NULL;
	if (opts && opts->elf_path)
		return exec_spawn(sys, tok, opts);	/* a fresh process that execs the image */
	struct pm_process *p = process_new(sys, tok, opts, NULL, NULL);
	if (!p)
		return NULL;
	pthread_mutex_lock(&sys->lock);
	int err = mm_setup_layout(p->mm, &sys->rng, p->rlim, &sys->vdso);
	struct pm_thread *t = err ? NULL : thread_new(sys, p, 0);
	if (!t) {
		pthread_mutex_unlock(&sys->lock);
		process_discard(p);
		return NULL;
	}
	process_register_locked(sys, p, t);
	pthread_mutex_unlock(&sys->lock);
	return t;
}

void process_discard(struct pm_process *p)
{
	sd_free(&p->sys->km, p->sd);
	mm_destroy(p->mm);
	fd_table_destroy(p->files);
	token_put(p->primary);
	kmem_delete(&p->sys->km, p);
}

void process_register_locked(struct pm_system *sys, struct pm_process *p, struct pm_thread *t)
{
	p->pid = t->tid = sys->next_pid++;
	list_add_tail(&p->node, &sys->procs);
	list_add_tail(&t->node, &sys->threads);
	sys->nr_live++;
}

int pm_pid(const pm_thread *t) { return t ? t->proc->pid : -ESRCH; }

pm_thread *pm_thread_of(pm_system *sys, int pid)
{
	pm_thread *found = NULL;
	pthread_mutex_lock(&sys->lock);
	/* The main thread, or, once it has exited, any thread of the process still running. */
	for (struct list_head *l = sys->threads.next; l != &sys->threads; l = l->next) {
		struct pm_thread *t = list_entry(l, struct pm_thread, node);
		if (t->proc->pid != pid || atomic_load(&t->proc->state) == PROC_DEAD ||
		    atomic_load(&t->exited))
			continue;
		if (!found || t->tid == pid)
			found = t;
	}
	pthread_mutex_unlock(&sys->lock);
	return found;
}

/* Tears the process down once nothing is using it: the mm, the token. Idempotent. */
static void teardown(struct pm_process *p)
{
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->lock);
	if (atomic_load(&p->state) == PROC_DEAD || !p->mm) {
		pthread_mutex_unlock(&sys->lock);
		return;
	}
	struct mm_struct *mm = p->mm;
	struct fd_table *files = p->files;
	p->mm = NULL;
	p->files = NULL;
	atomic_store(&p->state, PROC_DEAD);
	sys->nr_live--;
	pthread_mutex_unlock(&sys->lock);
	sys_damon_exit(p);	/* monitoring stops with its target */
	mm_destroy(mm);
	fd_table_destroy(files);	/* after the mm: the last put of a file writes it back */
	token_put(p->primary);
	p->primary = NULL;
	pthread_mutex_lock(&sys->lock);
	sd_free(&sys->km, p->sd);
	p->sd = NULL;
	pthread_mutex_unlock(&sys->lock);
}

void process_exit(struct pm_process *p)
{
	int expected = PROC_RUNNING;
	atomic_compare_exchange_strong(&p->state, &expected, PROC_DYING);
	if (atomic_load(&p->users) == 0)
		teardown(p);
}

int process_enter(struct pm_process *p)
{
	atomic_fetch_add(&p->users, 1);
	if (atomic_load(&p->state) != PROC_RUNNING) {
		process_leave(p);
		return -ESRCH;
	}
	return 0;
}

void process_leave(struct pm_process *p)
{
	/* A SIGKILLed process stays dying until the reaper or process_mrelease frees it. */
	if (atomic_fetch_sub(&p->users, 1) == 1 && atomic_load(&p->state) == PROC_DYING && !p->killed)
		teardown(p);
}

void process_reap(struct pm_process *p)
{
	if (atomic_load(&p->users) == 0)
		teardown(p);
}

void process_kill(struct pm_process *p)
{
	int expected = PROC_RUNNING;
	if (atomic_compare_exchange_strong(&p->state, &expected, PROC_DYING))
		p->killed = 1;
}

void thread_caller(struct pm_thread *t, struct mm_caller *c)
{
	c->rlim = t->proc->rlim;
	c->token = thread_token(t);
	c->wx = !t->proc->dynamic_code;
	c->file_id = 0;
}

/* Bump-allocates len bytes of the process's scratch area, mapping more when it runs out. */
static long scratch_reserve(struct pm_thread *t, size_t len)
{
	struct pm_process *p = t->proc;
	uint64_t need = (len + 15) & ~15ULL;
	if (p->scratch_next + need > p->scratch_end || !p->scratch_end) {
		uint64_t size = page_align_up(need > SCRATCH_CHUNK ? need : SCRATCH_CHUNK);
		struct mm_caller kc = { .rlim = p->rlim, .token = NULL };
		long a = mm_mmap(p->mm, &kc, 0, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (a < 0)
			return a;
		p->scratch_next = (uint64_t)a;
		p->scratch_end = (uint64_t)a + size;
	}
	uint64_t at = p->scratch_next;
	p->scratch_next += need;
	return (long)at;
}

uint64_t pm_scratch(pm_thread *t, const void *data, size_t len)
{
	if (!t || process_enter(t->proc))
		return (uint64_t)-ESRCH;
	long at = scratch_reserve(t, len ? len : 1);
	if (at >= 0 && len) {
		struct mm_fault_info fi;
		if (mm_access(t->proc->mm, NULL, 0, (uint64_t)at, (void *)data, len, PM_WRITE, &fi) < 0)
			at = -EFAULT;
	}
	process_leave(t->proc);
	return (uint64_t)at;
}
