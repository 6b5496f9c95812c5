/*
 * Syscall dispatch: Linux x86-64 numbers to the handlers, with the argument conversions the
 * raw syscall ABI implies. A number with no handler is -ENOSYS, exactly what Linux answers
 * for a call it does not have. Handlers run with the process entered (alive).
 */
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kacs/sd.h"
#include "sys/fd.h"

typedef long (*sys_fn)(struct pm_thread *t, const long a[6]);

static long sys_mmap(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	uint64_t flags = (uint64_t)a[3];
	if ((a[5] & (PAGE_SIZE - 1)) || (flags & MAP_ANONYMOUS))
		return mm_mmap(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
			       flags, NULL, (uint64_t)a[5]);
	/* ksys_mmap_pgoff: the descriptor is looked up before do_mmap's checks. */
	struct vm_object *o;
	int oflags;
	long r = fd_get_object(t->proc, (int)a[4], &o, &oflags);
	if (r)
		return r;
	/* The open mode and the rights the file's SD granted at open must both allow it
	 * (SPEC §3): read data, write data (append alone is not enough), execute. */
	int acc = oflags & O_ACCMODE;
	uint32_t rights = fd_get_rights(t->proc, (int)a[4]);
	unsigned fmode = (acc != O_WRONLY && (rights & FILE_READ_DATA) ? MM_F_READ : 0) |
			 (acc != O_RDONLY && (rights & FILE_WRITE_DATA) ? MM_F_WRITE : 0) |
			 ((rights & FILE_EXECUTE) ? MM_F_EXEC : 0) | ((oflags & O_DIRECT) ? MM_F_DAX : 0);
	c.file_id = fd_mmap_id(t->proc, (int)a[4], &t->proc->sys->next_mmap_id);
	r = mm_mmap_file(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2], flags,
			 o, (uint64_t)a[5], fmode);
	obj_put(o);
	return r;
}

static long sys_remap_file_pages(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_remap_file_pages(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
				   (uint64_t)a[3], (uint64_t)a[4]);
}

static long sys_msync(struct pm_thread *t, const long a[6])
{
	return mm_msync(t->proc->mm, (uint64_t)a[0], (uint64_t)a[1], a[2]);
}

static long sys_munmap(struct pm_thread *t, const long a[6])
{
	return mm_munmap(t->proc->mm, (uint64_t)a[0], (uint64_t)a[1]);
}

static long sys_mprotect(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_mprotect(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2]);
}

static long sys_brk(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_brk(t->proc->mm, &c, (uint64_t)a[0]);
}

static long sys_madvise(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_madvise(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (int)a[2]);
}

static long sys_mremap(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_mremap(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
			 (uint64_t)a[3], (uint64_t)a[4]);
}

static long sys_mincore(struct pm_thread *t, const long a[6])
{
	return mm_mincore(t->proc->mm, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2], t->pkru);
}

static long sys_mlock(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_mlock(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], 0);
}

static long sys_mlock2(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_mlock(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)(unsigned)a[2]);
}

static long sys_munlock(struct pm_thread *t, const long a[6])
{
	return mm_munlock(t->proc->mm, (uint64_t)a[0], (uint64_t)a[1]);
}

static long sys_mlockall(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_mlockall(t->proc->mm, &c, (uint64_t)(unsigned)a[0]);
}

static long sys_munlockall(struct pm_thread *t, const long a[6])
{
	(void)a;
	return mm_munlockall(t->proc->mm);
}

static long sys_mseal(struct pm_thread *t, const long a[6])
{
	return mm_mseal(t->proc->mm, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2]);
}

static long sys_pkey_alloc(struct pm_thread *t, const long a[6])
{
	return mm_pkey_alloc(t->proc->mm, (uint64_t)a[0], (uint64_t)a[1], &t->pkru);
}

static long sys_pkey_free(struct pm_thread *t, const long a[6])
{
	return mm_pkey_free(t->proc->mm, (int)a[0]);
}

static long sys_pkey_mprotect(struct pm_thread *t, const long a[6])
{
	struct mm_caller c;
	thread_caller(t, &c);
	return mm_pkey_mprotect(t->proc->mm, &c, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
				(int)a[3]);
}

static long sys_getpid(struct pm_thread *t, const long a[6]) { (void)a; return t->proc->pid; }
static long sys_gettid(struct pm_thread *t, const long a[6]) { (void)a; return t->tid; }
static long sys_getppid(struct pm_thread *t, const long a[6]) { (void)a; return t->proc->ppid; }

static long sys_exit_group(struct pm_thread *t, const long a[6])
{
	(void)a;
	process_exit(t->proc);	/* torn down when this call leaves the process */
	return 0;
}

static const sys_fn table[] = {
	[SYS_mmap] = sys_mmap,
	[SYS_mprotect] = sys_mprotect,
	[SYS_munmap] = sys_munmap,
	[SYS_brk] = sys_brk,
	[SYS_madvise] = sys_madvise,
	[SYS_mremap] = sys_mremap,
	[SYS_msync] = sys_msync,
	[SYS_remap_file_pages] = sys_remap_file_pages,
	[SYS_mincore] = sys_mincore,
	[SYS_prctl] = sys_prctl,
	[SYS_kill] = sys_kill,
	[SYS_pidfd_open] = sys_pidfd_open,
	[SYS_process_vm_readv] = sys_process_vm_readv,
	[SYS_process_vm_writev] = sys_process_vm_writev,
	[SYS_process_madvise] = sys_process_madvise,
	[SYS_process_mrelease] = sys_process_mrelease,
	[SYS_mlock] = sys_mlock,
	[SYS_munlock] = sys_munlock,
	[SYS_mlockall] = sys_mlockall,
	[SYS_munlockall] = sys_munlockall,
	[SYS_mlock2] = sys_mlock2,
	[SYS_pkey_mprotect] = sys_pkey_mprotect,
	[SYS_pkey_alloc] = sys_pkey_alloc,
	[SYS_pkey_free] = sys_pkey_free,
	[462 /* SYS_mseal */] = sys_mseal,
	[SYS_getrlimit] = sys_getrlimit,
	[SYS_setrlimit] = sys_setrlimit,
	[SYS_prlimit64] = sys_prlimit64,
	[SYS_getpid] = sys_getpid,
	[SYS_getppid] = sys_getppid,
	[SYS_gettid] = sys_gettid,
	[SYS_exit] = sys_exit,
	[SYS_fork] = sys_fork,
	[SYS_vfork] = sys_vfork,
	[SYS_clone] = sys_clone,
	[SYS_execve] = sys_execve,
	[SYS_exit_group] = sys_exit_group,
};

long sys_dispatch(struct pm_thread *t, long nr, const long a[6])
{
	if (nr == PM_SYS_kacs_get_sd)
		return sys_kacs_get_sd(t, a);
	if (nr == PM_SYS_kacs_set_sd)
		return sys_kacs_set_sd(t, a);
	if (nr >= 0 && nr < (long)(sizeof(table) / sizeof(table[0])) && table[nr])
		return table[nr](t, a);
	long r;
	if (sys_file_dispatch(t, nr, a, &r))
		return r;
	return -ENOSYS;
}
