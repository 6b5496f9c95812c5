/*
 * peimm bench: the shared vocabulary of the benchmark driver and its workloads. A workload
 * is one loop written twice, once against peimm's public API (workloads_mm.c) and once
 * against the host kernel (bench_host.c); bench_run.c times either side the same way.
 * Bench code uses only <peimm.h>, never a header from src/, and keeps all state in
 * bench_ctx and the per-side state structs (no writable file-scope variables).
 */
#ifndef PEIMM_BENCH_H
#define PEIMM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <peimm.h>

#define BENCH_PAGE	4096UL
#define BENCH_MIB	(1024UL * 1024UL)
#define BENCH_NOTE_MAX	160

/* Options of one invocation; immutable once parsed. */
typedef struct bench_ctx {
	double   seconds;	/* measured time per side per workload, in seconds */
	double   warmup;	/* warm-up time per side, in seconds */
	int      json;		/* 1 = one JSON object per line instead of the table */
	int      cpu_clock;	/* 1 = time by the thread's CPU clock, not the wall clock */
	uint64_t ram_bytes;	/* simulated RAM of each peimm system */
} bench_ctx;

/* What one side of one workload measured. Plain data: it crosses a pipe from a child. */
typedef struct bench_result {
	uint64_t ops;			/* operations counted during the measured window */
	double   secs;			/* length of the measured window, in seconds */
	double   per_op;		/* workload-defined quantity per op (lines per read), or 0 */
	long     err;			/* 0, or the -errno that stopped the side */
	char     note[BENCH_NOTE_MAX];	/* what failed, or a caveat for the row; "" = none */
} bench_result;

/* One timed iteration: performs the loop body once and returns the ops it did (> 0), or
 * -errno with a note written into the side's state. */
typedef long (*bench_iter_fn)(void *state);

struct bench_wl;
/* Runs one side of a workload: sets up, calls bench_loop, tears down. Fills *r. */
typedef void (*bench_side_fn)(const bench_ctx *b, const struct bench_wl *w, bench_result *r);

/* A workload row of the output. */
typedef struct bench_wl {
	const char   *name;	/* row name, e.g. "vma_scale_10k" */
	const char   *what;	/* one line for --list */
	uint64_t      param;	/* workload-defined: VMAs present for vma_scale, else 0 */
	int           host_fork;/* 1 = run the host side in a forked child */
	int           unit;	/* BENCH_UNIT_* extra column in the human table */
	bench_side_fn peimm;	/* the peimm side */
	bench_side_fn host;	/* the host-kernel side */
} bench_wl;

enum { BENCH_UNIT_NONE, BENCH_UNIT_NS, BENCH_UNIT_US, BENCH_UNIT_LINES };

/* ---- bench_run.c: timing ---- */

/* Times iter(state): warm-up for b->warmup seconds (at least one call), then batches of
 * calls between clock reads until b->seconds have passed (at least one call). On an error
 * from iter, r->err is set and r->note names it (copied from note, if given). */
void bench_loop(const bench_ctx *b, bench_iter_fn iter, void *state, const char *note,
		bench_result *r);
/* Runs side(b, w, r) in a forked child and passes *r back through a pipe, so that the
 * workload cannot disturb this process (its brk, its VMA count). */
void bench_in_child(const bench_ctx *b, const bench_wl *w, bench_side_fn side,
		    bench_result *r);
/* Marks r failed with err and a printf-style note; returns err. */
long bench_fail(bench_result *r, long err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Now, in seconds: CLOCK_MONOTONIC, or CLOCK_THREAD_CPUTIME_ID with --cpu-clock (on a
 * machine shared with other loads, the time this thread ran, not the time it waited). */
double bench_now(const bench_ctx *b);

/* One iteration that times itself: returns its ops (> 0) and sets *secs to the part of the
 * iteration that counts (the COW faults, not the fork around them); or -errno. */
typedef long (*bench_timed_fn)(void *state, double *secs);
/* Like bench_loop, but r->secs is the sum of what each iteration reported: one uncounted
 * warm-up call, then calls until that sum reaches b->seconds (or 20x the wall time). */
void bench_loop_timed(const bench_ctx *b, bench_timed_fn iter, void *state, const char *note,
		      bench_result *r);

/* ---- pm_env.c: one peimm process in its own system, for the peimm sides ---- */

typedef struct pm_env {
	pm_system *sys;
	pm_token  *user;		/* the process's primary token; one reference */
	pm_thread *t;			/* main thread of the process */
	char       note[BENCH_NOTE_MAX];	/* what the last failing call was */
} pm_env;

/* Creates a system of ram bytes (0 = b->ram_bytes) whose openat resolves against root
 * (NULL = "/"; the string must outlive the system), and one process under a plain user
 * token. Returns 0, or -errno with r failed and e zeroed. */
int  bench_env_open(const bench_ctx *b, pm_env *e, bench_result *r, uint64_t ram,
		    const char *root);
void bench_env_close(pm_env *e);
/* Writes "peimm call = -ERRNO" into e->note and returns rc (forced negative). */
long bench_env_err(pm_env *e, long rc, const char *call);
long bench_env_mmap(pm_env *e, uint64_t len, int prot);
long bench_env_munmap(pm_env *e, uint64_t va, uint64_t len);

/* ---- bench_file.c: the temporary directory and file of the file-mapping workloads ---- */

typedef struct bench_tmpfile {
	char dir[64];		/* mkdtemp directory; the peimm side's cfg.root */
	char path[96];		/* dir + "/" + BENCH_FILE_NAME */
} bench_tmpfile;
#define BENCH_FILE_NAME "bench.dat"
/* Creates dir and a sparse file of len bytes in it. Returns 0 or -errno (r failed). */
int  bench_tmpfile_create(bench_tmpfile *f, uint64_t len, bench_result *r);
void bench_tmpfile_remove(bench_tmpfile *f);

/* ---- workloads_mm.c / bench_host.c: the two sides ---- */

void pm_side_mmap_4k(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_mmap1(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_page_fault(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_brk(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_mprotect(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_maps(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_vma_scale(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_uaccess(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_cow_fault(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_fork_1g(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_mremap_1g(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_file(const bench_ctx *b, const bench_wl *w, bench_result *r);
void pm_side_malloc1(const bench_ctx *b, const bench_wl *w, bench_result *r);

void host_side_mmap_4k(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_mmap1(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_page_fault(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_brk(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_mprotect(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_maps(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_vma_scale(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_uaccess(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_cow_fault(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_fork_1g(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_mremap_1g(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_file(const bench_ctx *b, const bench_wl *w, bench_result *r);
void host_side_malloc1(const bench_ctx *b, const bench_wl *w, bench_result *r);

/* Loop parameters both sides share, so the two loops stay the same loop. */
#define BENCH_MMAP1_BYTES	(128UL * BENCH_MIB)	/* will-it-scale mmap1/page_fault1 size */
#define BENCH_MAPS_VMAS		20000UL			/* VMAs present for maps_20k */
#define BENCH_MAPS_CHUNK	(128UL * 1024UL)	/* read() size for maps, as cat(1) uses */
enum { BENCH_VIEW_MAPS, BENCH_VIEW_SMAPS };		/* w->param of maps_20k, smaps_20k */
#define BENCH_UACCESS_SET	8UL			/* pages in the uaccess working set */
#define BENCH_UACCESS_BATCH	1024L			/* loads per timed iteration */
#define BENCH_COW_BYTES		(64UL * BENCH_MIB)	/* populated before each fork */
#define BENCH_GIB		(1024UL * BENCH_MIB)
#define BENCH_BIG_RAM		(3UL * BENCH_GIB)	/* peimm RAM of the 1 GiB workloads */
/* mremap_move_1g: source and target offsets from 1 GiB-aligned bases A and B, by row
 * (w->param): PTE-aligned (4 KiB apart), PMD-aligned (2 MiB steps), PUD-aligned. */
enum { BENCH_ALIGN_PTE, BENCH_ALIGN_PMD, BENCH_ALIGN_PUD };
#define BENCH_MREMAP_SRC_OFF(k)	((k) == BENCH_ALIGN_PMD ? 2 * BENCH_MIB : 0UL)
#define BENCH_MREMAP_DST_OFF(k)	((k) == BENCH_ALIGN_PTE ? BENCH_PAGE : \
				 (k) == BENCH_ALIGN_PMD ? 4 * BENCH_MIB : 0UL)
/* File workloads (w->param): what the timed loop does with the 128 MiB file mapping. */
enum { BENCH_FILE_MMAP_SHARED, BENCH_FILE_FAULT_PRIVATE, BENCH_FILE_FAULT_SHARED };

#endif
