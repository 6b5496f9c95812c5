/*
 * exec (SPEC §3): pm_spawn with an ELF path and the execve syscall. Both build the new
 * program in a fresh address space (layout, image, interpreter, brk, initial stack) and
 * only then install it (Linux's begin_new_exec/exec_mmap): the old mm goes, and with it
 * locks, MCL_FUTURE and pkeys; PKRU resets; close-on-exec fds close; comm becomes the
 * file's basename. A failure before the install leaves the caller untouched.
 */
#include "sys/exec.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "mm/ksm_mm.h"
#include "sys/fd.h"

#define EXEC_PKRU	0x55555554u	/* init_pkru: every key but 0 access-disabled */
#define EXEC_PATH_MAX	4096
#define ARCH_ALIGN_RND	8192		/* arch_align_stack's random pad */

static uint64_t vdso_start(struct mm_struct *mm)
{
	uint64_t at = 0;
	pthread_rwlock_rdlock(&mm->lock);
	for (struct vma *v = vma_first(&mm->mt); v && !at; v = vma_next(&mm->mt, v))
		if (v->kind == VMA_VDSO)
			at = v->vm_start;
	pthread_rwlock_unlock(&mm->lock);
	return at;
}

/* A fresh mm with the standard layout, and the random draws exec needs, all under
 * sys->lock so one seed gives one layout. */
static struct mm_struct *new_layout(struct pm_system *sys, const struct mm_rlimit *rlim,
				    struct exec_stack_in *in, int *err)
{
	struct mm_struct *mm = mm_create(&sys->ms);
	if (!mm) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&sys->lock);
	*err = mm_setup_layout(mm, &sys->rng, rlim, &sys->vdso);
	uint64_t r[2] = { prng_next(&sys->rng), prng_next(&sys->rng) };
	memcpy(in->random, r, sizeof(in->random));
	in->align_rnd = sys->ms.randomize_va_space ? prng_below(&sys->rng, ARCH_ALIGN_RND) : 0;
	pthread_mutex_unlock(&sys->lock);
	if (*err) {
		mm_destroy(mm);
		return NULL;
	}
	return mm;
}

/* The image bounds and the break, as load_elf_binary leaves them. The layout drew the
 * break's random offset from the program base (0 unless randomize_va_space is 2). */
static void set_bounds(struct mm_struct *mm, const struct elf_placed *pl, uint64_t brk_rnd)
{
	pthread_rwlock_wrlock(&mm->lock);
	mm->start_code = pl->start_code;
	mm->end_code = pl->end_code;
	mm->start_data = pl->start_data;
	mm->end_data = pl->end_data;
	mm->start_brk = mm->brk = page_align_up(pl->elf_brk) + brk_rnd;
	pthread_rwlock_unlock(&mm->lock);
}

/* Maps the program and its interpreter (if any) into mm and builds the stack. */
static int load_images(struct mm_struct *mm, const struct mm_rlimit *rlim,
		       struct elf_image *prog, struct elf_image *interp,
		       struct exec_stack_in *in, struct exec_new *out)
{
	struct mm_caller c = { .rlim = rlim, .token = NULL };
	uint64_t pie_base = mm->start_code, brk_rnd = mm->start_brk - mm->start_code;
	struct elf_placed pl, ipl = { 0 };
	int err = elf_image_map(mm, &c, prog, pie_base, &pl);
	if (!err && interp->obj)
		err = elf_image_map(mm, &c, interp, 0, &ipl);
	if (err)
		return err;
	set_bounds(mm, &pl, brk_rnd);
	in->prog = &pl;
	in->phnum = prog->eh.e_phnum;
	in->interp_base = interp->obj ? ipl.bias : 0;
	in->vdso = vdso_start(mm);
	out->entry = interp->obj ? ipl.entry : pl.entry;
	return exec_stack_build(mm, rlim, in, out);
}

/* Opens and checks the interpreter a PT_INTERP names; a bad one is ELIBBAD. */
static int open_interp(struct pm_system *sys, const struct elf_image *prog,
		       struct elf_image *interp)
{
	memset(interp, 0, sizeof(*interp));
	if (!prog->interp)
		return 0;
	int err = elf_image_open(sys, prog->interp, interp);
	if (!err && (err = elf_image_read(interp)) == -ENOEXEC)
		err = -ELIBBAD;
	if (!err && interp->eh.e_type != ET_DYN)
		err = -ELIBBAD;
	return err;
}

static void set_comm(char comm[16], const char *path)
{
	const char *slash = strrchr(path, '/');
	snprintf(comm, 16, "%s", slash ? slash + 1 : path);
}

int exec_build(struct pm_system *sys, const struct mm_rlimit *rlim, const char *path,
	       const struct exec_args *args, struct exec_new *out)
{
	struct elf_image prog, interp;
	memset(out, 0, sizeof(*out));
	int err = elf_image_open(sys, path, &prog);
	if (err)
		return err;
	err = elf_image_read(&prog);
	if (!err)
		err = open_interp(sys, &prog, &interp);
	else
		memset(&interp, 0, sizeof(interp));
	struct exec_stack_in in = { .args = args, .execfn = path };
	struct mm_struct *mm = err ? NULL : new_layout(sys, rlim, &in, &err);
	if (mm)
		err = load_images(mm, rlim, &prog, &interp, &in, out);
	if (mm && err)
		mm_destroy(mm);
	else if (mm)
		out->mm = mm;
	set_comm(out->comm, path);
	elf_image_release(&interp);
	elf_image_release(&prog);
	return err;
}

/* de_thread: every other thread of p ends, and no call of theirs is still in flight. */
static void end_other_threads(struct pm_thread *t)
{
	struct pm_process *p = t->proc;
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->lock);
	for (struct list_head *l = sys->threads.next; l != &sys->threads; l = l->next) {
		struct pm_thread *o = list_entry(l, struct pm_thread, node);
		if (o->proc == p && o != t)
			atomic_store(&o->exited, 1);
	}
	p->nthreads = 1;
	pthread_mutex_unlock(&sys->lock);
	while (atomic_load(&p->users) > 1)
		sched_yield();	/* their calls (and /proc readers) finish with the old mm */
}

static void close_on_exec(struct fd_table *ft)
{
	pthread_mutex_lock(&ft->lock);
	int cap = ft->cap;
	pthread_mutex_unlock(&ft->lock);
	for (int fd = 0; fd < cap; fd++)
		if (fd_get_cloexec(ft, fd) == 1)
			fd_close(ft, fd);
}

void exec_install(struct pm_thread *t, struct exec_new *n)
{
	struct pm_process *p = t->proc;
	struct pm_system *sys = p->sys;
	end_other_threads(t);
	/* Linux 6.7+ keeps MMF_VM_MERGE_ANY across exec (MMF_INIT_MASK, ksm_execve): the new
	 * mm is registered and its VMAs marked as mmap would have marked them. */
	if (p->mm && mm_ksm_merge_any(p->mm))
		mm_ksm_set_merge_any(n->mm, 1);
	if (p->mm)
		n->mm->thp_disable = p->mm->thp_disable;	/* MMF_INIT_MASK: kept across exec */
	pthread_mutex_lock(&sys->lock);
	struct mm_struct *old_mm = p->mm;
	struct fd_table *old_files = n->files ? p->files : NULL;
	p->mm = n->mm;
	if (n->files)
		p->files = n->files;
	memcpy(p->comm, n->comm, sizeof(p->comm));
	p->exec_entry = n->entry;
	p->exec_sp = n->sp;
	memcpy(p->saved_auxv, n->auxv, sizeof(p->saved_auxv));
	p->nr_auxv = n->nauxv;
	p->scratch_next = p->scratch_end = 0;	/* the scratch area went with the old mm */
	pthread_mutex_unlock(&sys->lock);
	t->pkru = EXEC_PKRU;	/* the new mm has only key 0 (SPEC §10) */
	tlb_release(&t->tlb);
	/* The PSB takes the image's values, and the dynamic-code policy returns to the
	 * default, W^X on (SPEC §4, digest §4.8). */
	p->pip_type = n->pip_type;
	p->pip_trust = n->pip_trust;
	p->dynamic_code = 0;
	if (old_mm)
		mm_destroy(old_mm);	/* one user: a vfork parent keeps its mm */
	if (old_files)
		fd_table_destroy(old_files);
	close_on_exec(p->files);
	n->mm = NULL;
	n->files = NULL;
}

/* execve(path, argv, envp), 0 or -errno; on failure the process is unchanged. The errnos
 * are those of Linux's do_execveat_common in its order: the
 * path (EFAULT, ENAMETOOLONG, ENOENT for ""), the lookup and permission (ENOENT, EACCES),
 * the vectors (EFAULT, E2BIG), then the image (ENOEXEC, EINVAL, ELIBBAD, ENOMEM). */
long sys_execve(struct pm_thread *t, const long a[6])
{
	struct pm_process *p = t->proc;
	struct pm_system *sys = p->sys;
	char *path = kmem_zalloc(&sys->km, EXEC_PATH_MAX);
	if (!path)
		return -ENOMEM;
	struct exec_args args;
	exec_args_init(&args, &sys->km);
	struct exec_new n;
	struct elf_image probe;
	long r = fd_copy_string(t, (uint64_t)a[0], path, EXEC_PATH_MAX);
	if (r == 0)
		r = -ENOENT;
	if (r > 0 && !(r = elf_image_open(sys, path, &probe)))
		elf_image_release(&probe);	/* ENOENT/EACCES come before the vectors' errors */
	if (r >= 0)
		r = exec_args_copy(t, (uint64_t)a[1], (uint64_t)a[2], p->rlim[RLIMIT_STACK].cur, &args);
	if (r >= 0)
		r = exec_build(sys, p->rlim, path, &args, &n);
	if (r >= 0 && atomic_load(&p->files->users) > 1 && !(n.files = fd_table_dup(p->files))) {
		mm_destroy(n.mm);	/* unshare_files failed */
		r = -ENOMEM;
	}
	if (r >= 0) {
		n.pip_type = n.pip_trust = 0;	/* unsigned images run unprotected (digest §4.8) */
		exec_install(t, &n);
	}
	exec_args_free(&args);
	kmem_free(&sys->km, path, EXEC_PATH_MAX);
	return r < 0 ? r : 0;
}

/* pm_spawn with opts->elf_path: a new process (not yet visible) that execs the image with
 * argv = { elf_path } and no environment. NULL on any failure, with nothing left over. */
pm_thread *exec_spawn(struct pm_system *sys, struct token *primary, const pm_spawn_opts *opts)
{
	struct exec_args args;
	exec_args_init(&args, &sys->km);
	struct pm_process *p = process_new(sys, primary, opts, NULL, NULL);
	struct pm_thread *t = p ? thread_new(sys, p, 0) : NULL;
	struct exec_new n;
	int err = t ? exec_args_push(&args, opts->elf_path, strlen(opts->elf_path)) : -ENOMEM;
	args.argc = 1;
	if (!err)
		err = exec_build(sys, p->rlim, opts->elf_path, &args, &n);
	exec_args_free(&args);
	if (err) {
		if (t)
			kmem_delete(&sys->km, t);
		if (p)
			process_discard(p);
		return NULL;
	}
	n.pip_type = opts->pip_type;	/* the spawner states the image's PSB (pm_spawn_opts) */
	n.pip_trust = opts->pip_trust;
	exec_install(t, &n);	/* p is not registered yet: nobody else sees it */
	pthread_mutex_lock(&sys->lock);
	process_register_locked(sys, p, t);
	pthread_mutex_unlock(&sys->lock);
	return t;
}

/* The contract is in peimm.h. */
int pm_exec_info(pm_thread *t, uint64_t *entry, uint64_t *sp)
{
	if (!t || process_enter(t->proc))
		return -ESRCH;
	struct pm_process *p = t->proc;
	int r = p->exec_entry ? 0 : -ENOEXEC;
	if (entry)
		*entry = p->exec_entry;
	if (sp)
		*sp = p->exec_sp;
	process_leave(t->proc);
	return r;
}
