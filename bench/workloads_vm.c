/*
 * peimm bench: the peimm side of the fork, mremap and file-mapping workloads
 * (cow_fault_after_fork, fork_1g_resident, mremap_move_1g_*, mmap2, page_fault2,
 * page_fault3, malloc1). Same rules as workloads_mm.c: each side owns its pm_system, uses
 * only <peimm.h>, and runs the same loop as its twin in host_vm.c: change one, change the
 * other. Children made by fork are ended with exit_group inside the iteration that made
 * them, so no iteration leaves a process behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bench.h"

#define RW (PROT_READ | PROT_WRITE)

/* Maps len bytes of anon RW memory (at addr with MAP_FIXED, or anywhere when 0), asks for
 * 4 KiB pages and writes every page. Returns the address or -errno with e->note set. */
static long env_populate(pm_env *e, uint64_t addr, uint64_t len)
{
	long flags = MAP_PRIVATE | MAP_ANONYMOUS | (addr ? MAP_FIXED : 0);
	long va = pm_syscall(e->t, SYS_mmap, (long)addr, (long)len, RW, flags, -1, 0), rc;

	if (va < 0)
		return bench_env_err(e, va, "mmap");
	rc = pm_syscall(e->t, SYS_madvise, va, (long)len, MADV_NOHUGEPAGE, 0, 0, 0);
	if (rc)
		return bench_env_err(e, rc, "madvise(MADV_NOHUGEPAGE)");
	rc = pm_syscall(e->t, SYS_madvise, va, (long)len, MADV_POPULATE_WRITE, 0, 0, 0);
	return rc ? bench_env_err(e, rc, "madvise(MADV_POPULATE_WRITE)") : va;
}

/* Writes one byte to every page of [va, va + len) as thread t. Returns 0 or -errno. */
static long touch_pages(pm_env *e, pm_thread *t, uint64_t va, uint64_t len)
{
	const char one = 1;

	for (uint64_t off = 0; off < len; off += BENCH_PAGE) {
		long rc = pm_access(t, va + off, (void *)&one, 1, PM_WRITE, NULL);
		if (rc != 1)
			return bench_env_err(e, rc, "pm_access write");
	}
	return 0;
}

/* ---- cow_fault_after_fork and fork_1g_resident ---- */

typedef struct fork_st { pm_env e; long va; uint64_t len; const bench_ctx *b; } fork_st;

/* fork; returns the child's main thread, or NULL with e->note set. */
static pm_thread *env_fork(pm_env *e)
{
	long pid = pm_syscall(e->t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *c = pid > 0 ? pm_thread_of(e->sys, (int)pid) : NULL;

	if (!c)
		bench_env_err(e, pid < 0 ? pid : -ESRCH, "fork");
	return c;
}

/* fork, then the child writes every page (one COW fault each), timed; the child exits. */
static long it_cow(void *p, double *secs)
{
	fork_st *s = p;
	pm_thread *c = env_fork(&s->e);

	if (!c)
		return -ECHILD;
	double t0 = bench_now(s->b);
	long rc = touch_pages(&s->e, c, (uint64_t)s->va, s->len);
	*secs = bench_now(s->b) - t0;
	pm_syscall(c, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	return rc ? rc : (long)(s->len / BENCH_PAGE);
}

/* fork + exit of the child: one op. */
static long it_fork(void *p)
{
	fork_st *s = p;
	pm_thread *c = env_fork(&s->e);

	if (!c)
		return -ECHILD;
	pm_syscall(c, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	return 1;
}

/* Sets up len bytes of resident anon memory in a system of ram bytes. */
static int fork_setup(const bench_ctx *b, fork_st *s, uint64_t len, uint64_t ram,
		      bench_result *r)
{
	s->len = len;
	s->b = b;
	if (bench_env_open(b, &s->e, r, ram, NULL))
		return -1;
	s->va = env_populate(&s->e, 0, len);
	if (s->va < 0) {
		bench_fail(r, s->va, "%s", s->e.note);
		bench_env_close(&s->e);
		return -1;
	}
	return 0;
}

void pm_side_cow_fault(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	fork_st s;

	if (fork_setup(b, &s, BENCH_COW_BYTES, 0, r))
		return;
	bench_loop_timed(b, it_cow, &s, s.e.note, r);
	bench_env_close(&s.e);
}

void pm_side_fork_1g(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	fork_st s;

	if (fork_setup(b, &s, BENCH_GIB, BENCH_BIG_RAM, r))
		return;
	bench_loop(b, it_fork, &s, s.e.note, r);
	bench_env_close(&s.e);
}

/* ---- mremap_move_1g: 1 GiB moved back and forth between src and dst ---- */

typedef struct mremap_st { pm_env e; uint64_t src, dst; } mremap_st;

static long env_mremap(pm_env *e, uint64_t from, uint64_t to)
{
	long rc = pm_syscall(e->t, SYS_mremap, (long)from, (long)BENCH_GIB, (long)BENCH_GIB,
			     MREMAP_MAYMOVE | MREMAP_FIXED, (long)to, 0);

	return rc == (long)to ? 0 : bench_env_err(e, rc < 0 ? rc : -EFAULT, "mremap");
}

static long it_mremap(void *p)
{
	mremap_st *s = p;

	if (env_mremap(&s->e, s->src, s->dst) || env_mremap(&s->e, s->dst, s->src))
		return -EFAULT;
	return 2;
}

/* Reserves 5 GiB PROT_NONE, takes the first 1 GiB boundary in it as A and A + 2 GiB as
 * B, and populates 1 GiB at the row's source offset from A. Returns 0 or -errno. */
static long mremap_setup(mremap_st *s, int kind)
{
	long res = pm_syscall(s->e.t, SYS_mmap, 0, (long)(5 * BENCH_GIB), PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (res < 0)
		return bench_env_err(&s->e, res, "mmap(5 GiB reservation)");
	uint64_t a = ((uint64_t)res + BENCH_GIB - 1) & ~(BENCH_GIB - 1);
	s->src = a + BENCH_MREMAP_SRC_OFF(kind);
	s->dst = a + 2 * BENCH_GIB + BENCH_MREMAP_DST_OFF(kind);
	long va = env_populate(&s->e, s->src, BENCH_GIB);
	return va < 0 ? va : 0;
}

void pm_side_mremap_1g(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	mremap_st s;

	if (bench_env_open(b, &s.e, r, BENCH_BIG_RAM, NULL))
		return;
	if (mremap_setup(&s, (int)w->param))
		bench_fail(r, -ENOMEM, "%s", s.e.note);
	else
		bench_loop(b, it_mremap, &s, s.e.note, r);
	bench_env_close(&s.e);
}

/* ---- mmap2, page_fault2, page_fault3: a 128 MiB file, mapped and unmapped ---- */

typedef struct file_st { pm_env e; long fd; int kind; } file_st;

static long it_file(void *p)
{
	file_st *s = p;
	long flags = s->kind == BENCH_FILE_FAULT_PRIVATE ? MAP_PRIVATE : MAP_SHARED;
	long va = pm_syscall(s->e.t, SYS_mmap, 0, (long)BENCH_MMAP1_BYTES, RW, flags, s->fd, 0);

	if (va < 0)
		return bench_env_err(&s->e, va, "mmap(file)");
	if (s->kind != BENCH_FILE_MMAP_SHARED &&
	    touch_pages(&s->e, s->e.t, (uint64_t)va, BENCH_MMAP1_BYTES))
		return -EFAULT;
	long rc = bench_env_munmap(&s->e, (uint64_t)va, BENCH_MMAP1_BYTES);
	if (rc)
		return bench_env_err(&s->e, rc, "munmap");
	return s->kind == BENCH_FILE_MMAP_SHARED ? 1 : (long)(BENCH_MMAP1_BYTES / BENCH_PAGE);
}

void pm_side_file(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	file_st s = { .kind = (int)w->param };
	bench_tmpfile f;

	if (bench_tmpfile_create(&f, BENCH_MMAP1_BYTES, r))
		return;
	if (bench_env_open(b, &s.e, r, 0, f.dir))
		goto out_file;
	s.fd = pm_syscall(s.e.t, SYS_openat, AT_FDCWD,
			  (long)pm_scratch(s.e.t, BENCH_FILE_NAME, sizeof(BENCH_FILE_NAME)),
			  O_RDWR, 0, 0, 0);
	if (s.fd < 0)
		bench_fail(r, s.fd, "peimm openat(%s) = %ld", BENCH_FILE_NAME, s.fd);
	else
		bench_loop(b, it_file, &s, s.e.note, r);
	bench_env_close(&s.e);
out_file:
	bench_tmpfile_remove(&f);
}

/* ---- malloc1: 128 MiB anon mmap, one page written, munmap ---- */

typedef struct malloc_st { pm_env e; } malloc_st;

static long it_malloc1(void *p)
{
	malloc_st *s = p;
	long va = bench_env_mmap(&s->e, BENCH_MMAP1_BYTES, RW);

	if (va < 0)
		return bench_env_err(&s->e, va, "mmap");
	if (touch_pages(&s->e, s->e.t, (uint64_t)va, BENCH_PAGE))
		return -EFAULT;
	long rc = bench_env_munmap(&s->e, (uint64_t)va, BENCH_MMAP1_BYTES);
	return rc ? bench_env_err(&s->e, rc, "munmap") : 1;
}

void pm_side_malloc1(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	malloc_st s;

	if (bench_env_open(b, &s.e, r, 0, NULL))
		return;
	bench_loop(b, it_malloc1, &s, s.e.note, r);
	bench_env_close(&s.e);
}
