/*
 * Differential testing of peimm against the host's Linux kernel. A seeded generator makes
 * call sequences over a 64-page window; each runs in a forked host child (real syscalls)
 * and in a fresh peimm system, and after every call the two results, the window's maps
 * lines, mincore and page contents are compared. Deliberate differences (SPEC §13) live in
 * one table that both the generator and the comparator consult. Mismatches are shrunk.
 */
#ifndef PM_TESTS_DIFF_HARNESS_H
#define PM_TESTS_DIFF_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define DIFF_WIN_PAGES	64
#define DIFF_MAX_CALLS	256
#define DIFF_MAPS_MAX	2400

enum diff_op { D_MMAP, D_MUNMAP, D_MPROTECT, D_MADVISE, D_WRITE, D_READ };

/* One call. Addresses are byte offsets into the window (possibly unaligned on purpose). */
struct diff_call {
	int op;
	int pm_only;		/* self-test: run in peimm only, to plant a difference */
	uint64_t off, len;
	long prot, flags, pgoff;	/* mmap; prot also mprotect */
	long advice;		/* madvise */
	uint8_t val;		/* write: the byte pattern's seed */
};

struct diff_seq {
	uint64_t seed;
	int n;
	struct diff_call c[DIFF_MAX_CALLS];
};

/* What one call did, made window-relative so host and peimm records compare byte-wise. */
enum diff_rkind { R_VAL, R_ERR, R_WIN, R_ELSEWHERE, R_ELSEWHERE32, R_SIG };
struct diff_rec {
	int rkind;
	long rval;			/* R_VAL value, R_ERR -errno, R_WIN window offset */
	int signo, code;		/* R_SIG */
	long fault_off;			/* R_SIG: si_addr - window base */
	uint64_t hash;			/* D_READ that succeeded: FNV-1a of the page */
	int invariants;			/* peimm: pm_check_invariants() after the call */
	char mincore[DIFF_WIN_PAGES + 1];	/* '.' unmapped, '0'/'1', '-' not compared */
	char maps[DIFF_MAPS_MAX];	/* window lines: "pg-pg perms offset dev ino name" */
};

/* The generator's switches, decided once from what peimm can do right now. */
struct diff_caps {
	int avoid_exec;		/* W^X is enforced and the opt-in failed: no PROT_EXEC */
	int pm_mincore;		/* peimm implements mincore: compare it */
};
void diff_probe_caps(struct diff_caps *caps);

void diff_generate(uint64_t seed, int ncalls, const struct diff_caps *caps, struct diff_seq *s);

/* Runs s on both sides and compares. Returns the index of the first undeclared mismatch, or
 * -1. When why is not NULL it gets a one-line reason; host/pm (may be NULL) get the records. */
int diff_run_compare(const struct diff_seq *s, const struct diff_caps *caps, char *why,
		     size_t whylen, struct diff_rec *host, struct diff_rec *pm);

/* Runs s, and on a mismatch prints seed, call, both results and maps, then shrinks the
 * sequence and prints the minimal reproducer. Returns 1 when the sequence matched. */
int diff_check_and_report(const struct diff_seq *s, const struct diff_caps *caps);

/* Shrinks a failing sequence in place (delta debugging); returns the number of runs used. */
int diff_shrink(struct diff_seq *s, const struct diff_caps *caps, int max_runs);

/* What the host did over all runs so far: shows the corpus reaches the interesting cases. */
struct diff_stats {
	long calls, errors, signals, in_window, elsewhere, reads, nonzero_reads, grows;
};
extern struct diff_stats diff_stats;

void diff_format_call(const struct diff_call *c, char *buf, size_t len);

/* The table of deliberate differences (SPEC §13 and the not-yet-built parts). */
enum diff_how {
	DD_AVOID,		/* the generator never emits such a call */
	DD_ACCEPT,		/* emitted; peimm must give pm_ret, the host side is undone */
	DD_UNREACHED,		/* cannot arise in the window (listed for completeness) */
};
struct diff_difference {
	const char *what;
	const char *spec;
	enum diff_how how;
	long pm_ret;				/* DD_ACCEPT: peimm's declared answer */
	int (*applies)(const struct diff_call *c, const struct diff_caps *caps);
};
extern const struct diff_difference diff_differences[];
extern const int diff_ndifferences;
/* The entry that covers c, or NULL. */
const struct diff_difference *diff_declared(const struct diff_call *c,
					    const struct diff_caps *caps);

#endif
