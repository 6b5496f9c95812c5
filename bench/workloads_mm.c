/*
 * peimm bench: the peimm side of the anonymous-memory, brk, mprotect, maps and uaccess
 * workloads. Each side builds its own pm_system through pm_env.c, sets up what the loop
 * needs, times the loop through pm_syscall/pm_access/pm_proc_read, and destroys the
 * system. Uses only <peimm.h>; never touches src/. The loops mirror bench_host.c one for
 * one: change one, change the other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bench.h"

/* Raises MaxMapCount to 2,000,000 from a short-lived SYSTEM process (the key's SD refuses a
 * plain user, and a user thread cannot impersonate SYSTEM: the integrity ceiling caps it to
 * Identification). Returns 0 or -errno with e->note set. */
static long env_raise_map_count(pm_env *e)
{
	int err = 0;
	pm_token *sys_tok = pm_token_parse(e->sys, "system", &err);
	if (!sys_tok)
		return bench_env_err(e, err, "token_parse(system)");
	pm_thread *admin = pm_spawn(e->sys, sys_tok, NULL);
	pm_token_put(sys_tok);
	if (!admin)
		return bench_env_err(e, -ENOMEM, "spawn(system)");
	long rc = pm_registry_set(admin, PM_REG_MEMORY "MaxMapCount", 2000000);
	pm_syscall(admin, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	return rc ? bench_env_err(e, rc, "registry_set(MaxMapCount)") : 0;
}

/* Maps n separate one-page VMAs, PROT_READ and PROT_NONE in turn so that neighbours never
 * merge (and take no commit charge). Returns 0 or -errno with e->note set. */
static long env_add_vmas(pm_env *e, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		long va = bench_env_mmap(e, BENCH_PAGE, (i & 1) ? PROT_NONE : PROT_READ);
		if (va < 0)
			return bench_env_err(e, va, "mmap of a background VMA");
	}
	return 0;
}

/* ---- mmap + munmap of len bytes (mmap_munmap_4k, mmap1, vma_scale) ---- */

typedef struct mmap_st { pm_env e; uint64_t len; } mmap_st;

static long it_mmap_munmap(void *p)
{
	mmap_st *s = p;
	long va = bench_env_mmap(&s->e, s->len, PROT_READ | PROT_WRITE);

	if (va < 0)
		return bench_env_err(&s->e, va, "mmap");
	long rc = bench_env_munmap(&s->e, (uint64_t)va, s->len);
	return rc ? bench_env_err(&s->e, rc, "munmap") : 1;
}

/* Times mmap+munmap of len bytes with extra_vmas VMAs present. */
static void run_mmap(const bench_ctx *b, uint64_t len, uint64_t extra_vmas, bench_result *r)
{
	mmap_st s = { .len = len };

	if (bench_env_open(b, &s.e, r, 0, NULL))
		return;
	if (extra_vmas && (env_raise_map_count(&s.e) || env_add_vmas(&s.e, extra_vmas))) {
		bench_fail(r, -ENOMEM, "%s", s.e.note);
		goto out;
	}
	bench_loop(b, it_mmap_munmap, &s, s.e.note, r);
out:
	bench_env_close(&s.e);
}

void pm_side_mmap_4k(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	run_mmap(b, BENCH_PAGE, 0, r);
}

void pm_side_mmap1(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	run_mmap(b, BENCH_MMAP1_BYTES, 0, r);
}

void pm_side_vma_scale(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	run_mmap(b, BENCH_PAGE, w->param, r);
}

/* ---- page_fault_anon: map 128 MiB, write one byte per page, unmap ---- */

static long it_page_fault(void *p)
{
	mmap_st *s = p;
	pm_siginfo si;
	const char one = 1;
	long va = bench_env_mmap(&s->e, s->len, PROT_READ | PROT_WRITE), rc;

	if (va < 0)
		return bench_env_err(&s->e, va, "mmap");
	/* 4 KiB faults on both sides: the host would otherwise be free to use THP. */
	rc = pm_syscall(s->e.t, SYS_madvise, va, (long)s->len, MADV_NOHUGEPAGE, 0, 0, 0);
	if (rc)
		return bench_env_err(&s->e, rc, "madvise(MADV_NOHUGEPAGE)");
	for (uint64_t off = 0; off < s->len; off += BENCH_PAGE) {
		rc = pm_access(s->e.t, (uint64_t)va + off, (void *)&one, 1, PM_WRITE, &si);
		if (rc != 1)
			return bench_env_err(&s->e, rc, "pm_access write");
	}
	rc = bench_env_munmap(&s->e, (uint64_t)va, s->len);
	return rc ? bench_env_err(&s->e, rc, "munmap") : (long)(s->len / BENCH_PAGE);
}

void pm_side_page_fault(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	mmap_st s = { .len = BENCH_MMAP1_BYTES };

	if (bench_env_open(b, &s.e, r, 0, NULL))
		return;
	bench_loop(b, it_page_fault, &s, s.e.note, r);
	bench_env_close(&s.e);
}

/* ---- brk_grow_shrink: brk +1 page, brk -1 page (2 ops) ---- */

typedef struct brk_st { pm_env e; long base; } brk_st;

static long it_brk(void *p)
{
	brk_st *s = p;
	long rc = pm_syscall(s->e.t, SYS_brk, s->base + (long)BENCH_PAGE, 0, 0, 0, 0, 0);

	if (rc != s->base + (long)BENCH_PAGE)
		return bench_env_err(&s->e, rc < 0 ? rc : -ENOMEM, "brk(+1 page)");
	rc = pm_syscall(s->e.t, SYS_brk, s->base, 0, 0, 0, 0, 0);
	return rc != s->base ? bench_env_err(&s->e, rc < 0 ? rc : -ENOMEM, "brk(-1 page)") : 2;
}

void pm_side_brk(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	brk_st s;

	if (bench_env_open(b, &s.e, r, 0, NULL))
		return;
	s.base = pm_syscall(s.e.t, SYS_brk, 0, 0, 0, 0, 0, 0);
	if (s.base <= 0)
		bench_fail(r, -EINVAL, "peimm brk(0) = %ld", s.base);
	else
		bench_loop(b, it_brk, &s, s.e.note, r);
	bench_env_close(&s.e);
}

/* ---- mprotect_split_merge: middle page of 3 to R, then back to RW (2 ops) ---- */

typedef struct mprot_st { pm_env e; long va; } mprot_st;

static long it_mprotect(void *p)
{
	mprot_st *s = p;
	long mid = s->va + (long)BENCH_PAGE;
	long rc = pm_syscall(s->e.t, SYS_mprotect, mid, BENCH_PAGE, PROT_READ, 0, 0, 0);

	if (rc)
		return bench_env_err(&s->e, rc, "mprotect(R)");
	rc = pm_syscall(s->e.t, SYS_mprotect, mid, BENCH_PAGE, PROT_READ | PROT_WRITE, 0, 0, 0);
	return rc ? bench_env_err(&s->e, rc, "mprotect(RW)") : 2;
}

void pm_side_mprotect(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	mprot_st s;

	if (bench_env_open(b, &s.e, r, 0, NULL))
		return;
	s.va = bench_env_mmap(&s.e, 3 * BENCH_PAGE, PROT_READ | PROT_WRITE);
	if (s.va < 0)
		bench_fail(r, s.va, "peimm mmap of 3 pages = %ld", s.va);
	else
		bench_loop(b, it_mprotect, &s, s.e.note, r);
	bench_env_close(&s.e);
}

/* ---- maps_20k, smaps_20k: read the whole view with 20,000 VMAs present ---- */

typedef struct maps_st { pm_env e; char *buf; uint64_t lines; const char *view; } maps_st;

/* Reads the view to its end in BENCH_MAPS_CHUNK reads; returns the bytes read. */
static long maps_read_all(maps_st *s)
{
	uint64_t off = 0;
	long n;

	while ((n = pm_proc_read(s->e.t, 0, s->view, s->buf, BENCH_MAPS_CHUNK, off)) > 0)
		off += (uint64_t)n;
	return n < 0 ? bench_env_err(&s->e, n, "proc_read") : (long)off;
}

static long it_maps(void *p)
{
	long n = maps_read_all(p);

	return n < 0 ? n : 1;
}

/* Counts the lines of one full read (outside the timed loop). */
static long maps_count_lines(maps_st *s)
{
	uint64_t off = 0, lines = 0;
	long n;

	while ((n = pm_proc_read(s->e.t, 0, s->view, s->buf, BENCH_MAPS_CHUNK, off)) > 0) {
		for (long i = 0; i < n; i++)
			lines += s->buf[i] == '\n';
		off += (uint64_t)n;
	}
	s->lines = lines;
	return n < 0 ? bench_env_err(&s->e, n, "proc_read") : 0;
}

void pm_side_maps(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	maps_st s = { .buf = malloc(BENCH_MAPS_CHUNK),
		      .view = w->param == BENCH_VIEW_SMAPS ? "smaps" : "maps" };

	if (!s.buf) {
		bench_fail(r, -ENOMEM, "out of host memory");
		return;
	}
	if (bench_env_open(b, &s.e, r, 0, NULL))
		goto out_buf;
	if (env_add_vmas(&s.e, BENCH_MAPS_VMAS) || maps_count_lines(&s)) {
		bench_fail(r, -ENOMEM, "%s", s.e.note);
		goto out_env;
	}
	bench_loop(b, it_maps, &s, s.e.note, r);
	r->per_op = (double)s.lines;
out_env:
	bench_env_close(&s.e);
out_buf:
	free(s.buf);
}

/* ---- uaccess_hit: 8-byte reads over a small resident working set ---- */

typedef struct uacc_st { pm_env e; long va; uint64_t sum; } uacc_st;

static long it_uaccess(void *p)
{
	uacc_st *s = p;
	uint64_t v, sum = 0;

	for (long i = 0; i < BENCH_UACCESS_BATCH; i++) {
		uint64_t off = ((uint64_t)(i & 7) << 12) | (((uint64_t)i >> 3) & 511) << 3;
		long rc = pm_access(s->e.t, (uint64_t)s->va + off, &v, 8, PM_READ, NULL);
		if (rc != 8)
			return bench_env_err(&s->e, rc, "pm_access read");
		sum += v;
	}
	s->sum += sum;
	return BENCH_UACCESS_BATCH;
}

/* Maps the working set and writes every page, so that the loop only hits. */
static long uaccess_setup(uacc_st *s)
{
	const uint64_t fill = 1;

	s->va = bench_env_mmap(&s->e, BENCH_UACCESS_SET * BENCH_PAGE, PROT_READ | PROT_WRITE);
	if (s->va < 0)
		return bench_env_err(&s->e, s->va, "mmap");
	for (uint64_t i = 0; i < BENCH_UACCESS_SET; i++) {
		long rc = pm_access(s->e.t, (uint64_t)s->va + i * BENCH_PAGE, (void *)&fill, 8,
				    PM_WRITE, NULL);
		if (rc != 8)
			return bench_env_err(&s->e, rc, "pm_access write");
	}
	return 0;
}

void pm_side_uaccess(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	uacc_st s = { .sum = 0 };

	if (bench_env_open(b, &s.e, r, 0, NULL))
		return;
	if (uaccess_setup(&s))
		bench_fail(r, -EFAULT, "%s", s.e.note);
	else
		bench_loop(b, it_uaccess, &s, s.e.note, r);
	bench_env_close(&s.e);
}
