/*
 * Differential testing of peimm against the host's Linux kernel. A seeded generator makes
 * call sequences over a 64-page window; each runs in a forked host child (real syscalls)
 * and in a fresh peimm system, and after every call the two results, the window's maps
 * lines, mincore, VmLck, page contents and the contents of two small files are compared;
 * after the sequence, the files on disk too. Deliberate differences (SPEC §13) live in one
 * table that the generator, both runners and the comparator consult. Mismatches are shrunk.
 */
#ifndef PM_TESTS_DIFF_HARNESS_H
#define PM_TESTS_DIFF_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define DIFF_WIN_PAGES	64
#define DIFF_MAX_CALLS	256
#define DIFF_MAPS_MAX	2400
#define DIFF_SMAPS_MAX	6144	/* up to 64 digest lines of about 90 bytes */

#define DIFF_WIN_BASE	0x200000000000UL

enum diff_op { D_MMAP, D_MUNMAP, D_MPROTECT, D_MADVISE, D_WRITE, D_READ,
	       /* diff_ext.c: */
	       D_MREMAP, D_MLOCK, D_MUNLOCK, D_MLOCK2, D_MSEAL, D_MSYNC, D_FORK };

/* The files a sequence may map (diff_files.c): DIFF_NFILES host files, each created with
 * the same bytes in the host child's directory and in peimm's cfg.root, opened as fds
 * 1..DIFF_NFDS (diff_fd_file gives the file of an fd, diff_fd_rw whether it is O_RDWR). */
#define DIFF_NFILES	2
#define DIFF_NFDS	3
#define DIFF_FILE_MAX	(6 * 4096)	/* bytes of the largest file */

/* One call. Addresses are byte offsets into the window (possibly unaligned on purpose). */
struct diff_call {
	int op;
	int pm_only;		/* self-test: run in peimm only, to plant a difference */
	uint64_t off, len;
	long prot, flags, pgoff;	/* mmap; prot also mprotect; flags also mremap, mlock2,
					   mseal, msync */
	long advice;		/* madvise */
	uint8_t val;		/* write: the byte pattern's seed */
	int fd;			/* mmap: 0 = anonymous, else 1..DIFF_NFDS */
	uint64_t new_off, new_len;	/* mremap: target (window offset, MREMAP_FIXED) and size */
};

struct diff_seq {
	uint64_t seed;
	int n;
	struct diff_call c[DIFF_MAX_CALLS];
};

/* What one call did, made window-relative so host and peimm records compare byte-wise. */
enum diff_rkind { R_VAL, R_ERR, R_WIN, R_ELSEWHERE, R_ELSEWHERE32, R_SIG,
		  R_DECLARED /* not run on this side: rval = index in diff_differences */ };
struct diff_rec {
	int rkind;
	long rval;			/* R_VAL value, R_ERR -errno, R_WIN window offset */
	int signo, code;		/* R_SIG */
	long fault_off;			/* R_SIG: si_addr - window base */
	uint64_t hash;			/* D_READ that succeeded: FNV-1a of the page */
	int invariants;			/* peimm: pm_check_invariants() after the call */
	long vmlck_kb;			/* VmLck of the process after the call */
	uint64_t fhash[DIFF_NFILES];	/* FNV-1a of each file as read() sees it */
	char mincore[DIFF_WIN_PAGES + 1];	/* '.' unmapped, '0'/'1', '-' not compared */
	char maps[DIFF_MAPS_MAX];	/* window lines: "pg-pg perms offset dev ino name" */
	char smaps[DIFF_SMAPS_MAX];	/* window smaps digest (diff_smaps.c) */
	char pagemap[DIFF_WIN_PAGES + 1];	/* diff_pagemap_char of each window page */
};

/* The generator's switches, decided once from what peimm can do right now. */
struct diff_caps {
	int avoid_exec;		/* W^X is enforced and the opt-in failed: no PROT_EXEC */
	int pm_mincore;		/* peimm implements mincore: compare it */
	int host_no_zero_page;	/* the host maps no zero page on read faults of private
				   anonymous memory (mm_forbids_zeropage, or a vendor kernel's
				   pvm_no_zero_page=1): peimm runs with pm_config.no_zero_page */
	int host_soft_dirty;	/* the host sets pagemap bit 55 (CONFIG_MEM_SOFT_DIRTY):
				   compare it, else it is masked on both sides */
};
void diff_probe_caps(struct diff_caps *caps);

/* Appends one digest line per smaps entry of `text` that meets [base, base + window):
 * window-relative range, Size, Anonymous, Private_Dirty, Locked, VmFlags, and Rss and Pss
 * for private anonymous entries (diff_smaps.c). */
void diff_window_smaps(const char *text, uint64_t base, char *out, size_t outlen);

/* One /proc/self/pagemap entry as one character, the flags an unprivileged reader sees
 * (the PFN bits 0-54 are masked: peimm hides them without SeTcb, SPEC §7, and frames are
 * never comparable). Not present and not swapped: a hex digit of present 1, file page or
 * shared anonymous (61) 2, exclusive (56) 4, soft-dirty (55) 8, so '0' is an empty entry,
 * '1' a private anonymous page mapped elsewhere too, '5' one of its own, '3' a shared page
 * cache page. Swapped (62): 's', a guard region (62 and 58): 'g', upper case when also
 * soft-dirty; '?' for any other bit pattern. Soft-dirty only counts when the host has it. */
char diff_pagemap_char(uint64_t e, const struct diff_caps *caps);
#define DIFF_PAGEMAP_LEGEND "hex of 1 present, 2 file/shared, 4 exclusive, 8 soft-dirty; " \
	"s swapped, g guard region, upper case soft-dirty; - read failed, ? other bits"

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
	long host_flukes;	/* mincore mismatches that did not come back on a rerun */
};
extern struct diff_stats diff_stats;

void diff_format_call(const struct diff_call *c, char *buf, size_t len);

/* What one side knows at run time that decides a declared difference: which window pages
 * are sealed (from its own successful mseal calls) and the mincore string of its last
 * record ('.' = unmapped). Each side keeps its own; they agree while the records do. */
struct diff_state {
	uint8_t sealed[DIFF_WIN_PAGES];
	uint8_t growsdown[DIFF_WIN_PAGES];	/* in a VM_GROWSDOWN VMA (smaps "gd") */
	char mincore[DIFF_WIN_PAGES + 1];
	char maps[DIFF_MAPS_MAX];	/* the window's maps lines after the last call */
};
void diff_state_update(struct diff_state *st, const struct diff_call *c,
		       const struct diff_rec *r);

/* The table of deliberate differences (SPEC §13 and the not-yet-built parts). */
enum diff_how {
	DD_AVOID,		/* the generator never emits such a call */
	DD_ACCEPT,		/* emitted; peimm must give pm_ret, the host side is undone */
	DD_UNREACHED,		/* cannot arise in the window (listed for completeness) */
	DD_HOST_SKIP,		/* depends on run-time state: the host does not run the call
				   (it would change what peimm leaves alone), peimm must give
				   pm_ret */
	DD_SKIP,		/* depends on run-time state: neither side runs the call */
};
struct diff_difference {
	const char *what;
	const char *spec;
	enum diff_how how;
	long pm_ret;				/* DD_ACCEPT, DD_HOST_SKIP: peimm's answer */
	/* st is NULL in the generator: entries that need run-time state answer 0 then. */
	int (*applies)(const struct diff_call *c, const struct diff_caps *caps,
		       const struct diff_state *st);
};
extern const struct diff_difference diff_differences[];
extern const int diff_ndifferences;
/* The entry that covers c, or NULL. */
const struct diff_difference *diff_declared(const struct diff_call *c,
					    const struct diff_caps *caps);
/* The same with a side's run-time state; returns the entry's index, or -1. */
int diff_declared_at(const struct diff_call *c, const struct diff_caps *caps,
		     const struct diff_state *st);

/* ---- shared by diff_harness.c, diff_ext.c and diff_files.c ---- */

uint64_t diff_rnd(uint64_t *s, uint64_t n);
void diff_pick_range(uint64_t *s, int maxpages, uint64_t *off, uint64_t *len);
long diff_pick_prot(uint64_t *s);
void diff_fnv(uint64_t *h, uint8_t b);

/* The generator's memory of the sequence so far (diff_harness.c gen_one). */
struct diff_gen { uint64_t lo, hi; uint64_t written[8]; int nwritten; int forked; };
/* One of the diff_ext.c calls (mremap, mlock family, mseal, msync, a file mmap, fork). */
void diff_gen_ext(uint64_t *s, struct diff_gen *g, struct diff_call *c);
/* Names a diff_ext.c call for reports; returns 0 when op is not one of them. */
int diff_format_ext(const struct diff_call *c, char *buf, size_t len);
/* Issues a diff_ext.c call (not D_FORK) on the host / in peimm: the raw result (an address
 * for mremap) or -errno. */
long diff_host_ext(uint64_t base, const struct diff_call *c);
struct pm_thread;
long diff_pm_ext(struct pm_thread *t, uint64_t base, const struct diff_call *c);

/* diff_harness.c: the window's lines of a maps text, window-relative (base = window);
 * VmLck in kB of a status text, or -1. */
void diff_window_maps(const char *text, uint64_t base, char *out, size_t outlen);
long diff_status_vmlck(const char *text);
/* diff_pm.c: runs s in a fresh peimm system whose cfg.root is root; fills out[0..n).
 * Returns 0, or -1 when the system could not be set up. */
int diff_pm_run(const struct diff_seq *s, const struct diff_caps *caps, const char *root,
		struct diff_rec *out);

/* diff_files.c: a pair of directories with the same files, one per side. */
struct diff_files { char host_dir[64], pm_dir[64]; };
int  diff_files_create(struct diff_files *f, uint64_t seed);
void diff_files_remove(struct diff_files *f);
uint64_t diff_file_size(int file);
const char *diff_file_name(int file);
int  diff_fd_file(int fd);
int  diff_fd_rw(int fd);
/* Opens the files of dir as fds (fds[0] unused); returns 0 or -1. */
int  diff_files_open_host(const char *dir, int fds[DIFF_NFDS + 1]);
/* Hashes each file as pread sees it, into r->fhash. */
void diff_files_hash_host(const int fds[DIFF_NFDS + 1], struct diff_rec *r);
/* Compares the files of the two directories byte by byte; 1 when equal, else 0 with why. */
int  diff_files_disk_equal(const struct diff_files *f, char *why, size_t n);

#endif
