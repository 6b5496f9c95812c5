/*
 * 'peimm replay TRACE' (docs/replay.md): an strace -f recording of a real program replayed
 * against the Peios memory model. The parser (replay_parse.c, replay_args.c) turns the
 * trace into events in the order the calls were entered; the runner (replay_run.c,
 * replay_mem.c, replay_proc.c) drives one peimm process per recorded process through the
 * public API only, translating recorded addresses and fds (replay_space.c, replay_elf.c);
 * the report (replay_report.c) lists what differed. Nothing here includes a header from
 * src/ or keeps state outside the structures below.
 */
#ifndef PEIMM_REPLAY_H
#define PEIMM_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <peimm.h>

enum { RP_MAXARG = 8 };

/* The calls replay knows; every other name is counted and skipped. */
enum rp_call {
	RP_OTHER = -1,
	RP_MMAP, RP_MUNMAP, RP_MPROTECT, RP_MADVISE, RP_MREMAP, RP_BRK, RP_MLOCK, RP_MLOCK2,
	RP_MUNLOCK, RP_MLOCKALL, RP_MUNLOCKALL, RP_MSYNC, RP_MINCORE, RP_PKEY_MPROTECT,
	RP_PKEY_ALLOC, RP_PKEY_FREE, RP_MSEAL, RP_OPENAT, RP_OPEN, RP_CLOSE, RP_DUP, RP_DUP2,
	RP_DUP3, RP_FORK, RP_VFORK, RP_CLONE, RP_CLONE3, RP_EXECVE, RP_EXIT, RP_EXIT_GROUP,
	RP_NCALLS
};

enum rp_kind { RP_EV_CALL, RP_EV_EXITED, RP_EV_KILLED, RP_EV_SIGNAL };

/* One event of the trace: a call (both halves of an unfinished/resumed pair joined, placed
 * where the call was entered), an exit, a death by signal or a delivered signal. */
typedef struct rp_event {
	unsigned line;			/* line of the call's entry (or of the event) */
	int      pid;			/* the recorded tid */
	int      kind;			/* enum rp_kind */
	int      call;			/* enum rp_call for RP_EV_CALL */
	char     name[32];
	int      nargs;
	long     val[RP_MAXARG];	/* numeric value of each argument that has one */
	char    *str[RP_MAXARG];	/* decoded string of a quoted argument, else NULL */
	char   **argv;			/* execve: the argument vector, NULL-terminated */
	int      has_ret;		/* 0: '= ?', interrupted, or never resumed */
	long     ret;			/* the result, -errno on failure */
	int      status;		/* EXITED: the code; KILLED, SIGNAL: the signal */
	uint64_t si_addr;		/* SIGNAL: si_addr when the trace shows one */
	int      pending;		/* parser only: still waiting for its resumed half */
	char    *text;			/* the call as written (halves joined) */
} rp_event;

typedef struct rp_trace {
	const char *file;
	rp_event   *ev;
	size_t      n, cap;
	unsigned    lines;
	char        err[512];		/* "FILE:LINE: what" after a parse error */
} rp_trace;

/* ---- replay_parse.c / replay_args.c ---- */
int  rp_parse_file(rp_trace *tr, FILE *f);		/* 0, or -1 with tr->err */
int  rp_parse_string(rp_trace *tr, const char *text);	/* the same over a string (tests) */
void rp_trace_free(rp_trace *tr);
int  rp_call_of(const char *name);			/* enum rp_call */
const char *rp_call_name(int call);
/* Splits an argument list at top-level commas into out[] (in place); -1 when unbalanced. */
int  rp_split_args(char *s, char **out, int max);
/* Value of a numeric argument: numbers, NULL, NAME|NAME|0x10, N<<NAME, key=VALUE. 0 or -1
 * with a message in err. */
int  rp_eval(const char *arg, long *v, char *err, size_t errlen);
/* Decodes a quoted argument ("..." with C escapes); NULL when it is not one. */
char *rp_unquote(const char *arg);
/* The value of field key inside a {...} argument or of a key=value argument. */
int  rp_field(const char *arg, const char *key, long *v, char *err, size_t errlen);
long rp_errno_value(const char *name);			/* 0 when unknown */
const char *rp_errno_name(long err);

/* ---- replay_elf.c ---- */
typedef struct rp_image {
	char     path[512];
	int      dyn;			/* ET_DYN: placed at a random base */
	uint64_t lo, hi;		/* page-aligned span of the PT_LOADs (vaddr) */
	uint64_t relro, relro_len;	/* what ld.so mprotects to PROT_READ; len 0 = none */
	uint64_t entry;
	char     interp[512];		/* PT_INTERP, "" when static */
	int      rec_known, pm_known;
	uint64_t rec_base, pm_base;
} rp_image;
int rp_elf_read(const char *path, rp_image *img);	/* 0 or -errno */

/* ---- replay_space.c: address and fd translation ---- */
typedef struct rp_region {
	uint64_t rec, end;		/* recorded [rec, end) */
	uint64_t pm;			/* peimm address of rec */
	unsigned dead;			/* line of the call that failed to create it in peimm, 0 = live */
	int      dead_policy;	/* the failure was a Peios policy finding */
} rp_region;

typedef struct rp_space {		/* one address space: threads and CLONE_VM share it */
	int        refs;
	rp_region *r;
	size_t     n, cap;
	int        brk_known;
	uint64_t   rec_brk0, rec_brk, pm_brk0;
	rp_image   img[2];		/* program, interpreter */
	int        nimg;
} rp_space;

typedef struct rp_piece { uint64_t pm, len; } rp_piece;

enum { RP_TR_OK = 0, RP_TR_UNKNOWN = -1, RP_TR_DEAD = -2 };

rp_space *rp_space_new(void);
rp_space *rp_space_copy(const rp_space *s);
void      rp_space_put(rp_space *s);
int       rp_space_set(rp_space *s, uint64_t rec, uint64_t len, uint64_t pm);
int       rp_space_dead(rp_space *s, uint64_t rec, uint64_t len, unsigned line, int policy);
int       rp_space_remove(rp_space *s, uint64_t rec, uint64_t len);
int       rp_space_lookup(const rp_space *s, uint64_t a, uint64_t *pm, const rp_region **hit);
/* Pieces of [a, a+len) in peimm (at most max): their count, RP_TR_UNKNOWN when part of the
 * range is outside every known region (gaps allowed when allow_gaps), RP_TR_DEAD when it
 * touches a region that peimm refused (*dead set). */
int       rp_space_range(rp_space *s, uint64_t a, uint64_t len, int allow_gaps, rp_piece *out,
			 int max, const rp_region **dead);
/* Learns where a recorded image sat from an address ld.so used on it (its RELRO). */
int       rp_space_infer(rp_space *s, uint64_t a, uint64_t len);

typedef struct rp_fd { int rec, pm, cloexec; } rp_fd;	/* pm -1: known only to the record */
typedef struct rp_files { int refs; rp_fd *f; size_t n, cap; } rp_files;

rp_files *rp_files_new(void);
rp_files *rp_files_copy(const rp_files *f);
void      rp_files_put(rp_files *f);
rp_fd    *rp_fd_find(rp_files *f, int rec);
int       rp_fd_set(rp_files *f, int rec, int pm, int cloexec);
void      rp_fd_drop(rp_files *f, int rec);

/* ---- replay_run.c and friends ---- */
enum rp_finding_kind {
	RP_F_DIVERGE, RP_F_WX, RP_F_EXECRIGHT, RP_F_UNINIT, RP_F_MINADDR, RP_F_MLOCK, RP_F_MAPCOUNT,
	RP_F_FOLLOW, RP_F_NOTE, RP_F_NKINDS
};

typedef struct rp_finding {
	int       kind;
	int       pid;
	unsigned  line;
	char     *call;		/* the trace text */
	long      rec, pm;	/* results; rec_has 0 = the trace shows none */
	int       rec_has, pm_has;
	char      why[200];
} rp_finding;

typedef struct rp_proc {
	int       pid;		/* recorded tgid */
	int       pm_pid;
	int       alive;
	int       lost;		/* its program could not be loaded: calls are skipped */
	rp_space *space;
	rp_files *files;
	char      program[512];
	unsigned  calls, replayed, skipped, count[RP_F_NKINDS];
	char     *maps;		/* the final /proc/PID/maps (--maps) */
} rp_proc;

typedef struct rp_task { int tid; rp_proc *proc; } rp_task;
typedef struct rp_skip { char name[32]; unsigned n; } rp_skip;

typedef struct rp_opts {
	int         dynamic_code, json, maps;
	const char *token;
} rp_opts;

typedef struct rp_run {
	const rp_trace *tr;
	rp_opts         o;
	pm_system      *sys;
	pm_token       *tok;
	rp_proc       **procs;
	size_t          nprocs, capprocs;
	rp_task        *tasks;
	size_t          ntasks, captasks;
	rp_finding     *f;
	size_t          nf, capf;
	rp_skip        *skips;
	size_t          nskips, capskips;
	long            max_map_count;
	char            err[256];	/* a setup failure (the system, the token) */
} rp_run;

int  rp_run_trace(rp_run *r, const rp_trace *tr, const rp_opts *o);	/* 0 or -1 */
void rp_run_free(rp_run *r);
rp_proc *rp_task_proc(rp_run *r, int tid);
void rp_add_task(rp_run *r, int tid, rp_proc *p);
rp_proc *rp_new_proc(rp_run *r, int pid, int pm_pid);
void rp_finding_add(rp_run *r, rp_proc *p, const rp_event *e, int kind, long pm, int pm_has,
		    const char *why);
void rp_skip_count(rp_run *r, rp_proc *p, const char *name);
pm_thread *rp_thread(rp_run *r, rp_proc *p);
/* Compares a replayed call's outcome with the record and files the finding if any: its
 * kind, or -1 when the outcomes agree. */
int  rp_judge(rp_run *r, rp_proc *p, const rp_event *e, long pm, int rec_ok, int pm_ok);
uint64_t rp_scratch_str(pm_thread *t, const char *s);
void rp_snapshot_maps(rp_run *r, rp_proc *p);
int  rp_after_exec(rp_run *r, rp_proc *p, const char *path);

/* replay_mem.c: the memory calls; replay_proc.c: processes and fds. */
void rp_do_mem(rp_run *r, rp_proc *p, const rp_event *e);
void rp_do_proc(rp_run *r, rp_proc *p, const rp_event *e);
void rp_do_fd(rp_run *r, rp_proc *p, const rp_event *e);

/* ---- replay_report.c ---- */
void rp_report_text(const rp_run *r, FILE *out);
void rp_report_json(const rp_run *r, FILE *out);
const char *rp_kind_name(int kind);
unsigned rp_total(const rp_run *r, int kind);

#endif
