/*
 * Helpers for the conformance tests: scenarios ported from LTP's mm syscall tests and the
 * kernel's tools/testing/selftests/mm, re-expressed against peimm's API (docs/conformance.md
 * maps each source case to the test that covers it). Only scenarios are ported, never code.
 * Builds on file_env.h: a host root per test, host-file helpers and syscall shorthands.
 */
#ifndef PM_TESTS_CONFORMANCE_CONF_H
#define PM_TESTS_CONFORMANCE_CONF_H

#include "../file_env.h"

#define W 0x200000000000L
#define MSEAL 462
#define MADV_GUARD_INSTALL_ 102
#define MADV_GUARD_REMOVE_ 103

static inline long map_fd(pm_thread *t, long addr, long len, long prot, long flags, long fd,
			  long off)
{
	return SC(t, SYS_mmap, addr, len, prot, flags, fd, off);
}

/* A host file of `pages` pages, page i filled with the byte fill + i. */
static inline void put_pages(struct fenv *f, const char *name, int pages, char fill)
{
	char p[128];
	static char page[4096];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	for (int i = 0; i < pages; i++) {
		memset(page, fill + i, sizeof(page));
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
			check_failed(__FILE__, __LINE__, "host write");
	}
	close(fd);
}

static inline void chmod_host(struct fenv *f, const char *name, int mode)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	if (chmod(p, (mode_t)mode))
		check_failed(__FILE__, __LINE__, "chmod %s", p);
}

/* The host file's size in bytes, or -1. */
static inline long host_size(struct fenv *f, const char *name)
{
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	return stat(p, &st) ? -1 : (long)st.st_size;
}

/* A kB figure from /proc/self/status ("VmLck" -> 8), or -1. */
static inline long status_kb(pm_thread *t, const char *field)
{
	const char *s = strstr(proc_text(t, 0, "status"), field);
	return s ? strtol(s + strlen(field) + 1, NULL, 10) : -1;
}

/* An access that must fault: returns the signal and code as signo * 100 + code, so one
 * EXPECT_EQ shows both (SIGSEGV=11: 1101 MAPERR, 1102 ACCERR; SIGBUS=7: 702 ADRERR). */
static inline long fault_of(pm_thread *t, uint64_t va, int how)
{
	pm_siginfo si = { 0 };
	uint8_t b = 0;
	long r = pm_access(t, va, &b, 1, how, &si);
	if (r != -EFAULT)
		return r;
	return si.signo * 100 + si.code;
}
#define SEGV_MAP (SIGSEGV * 100 + SEGV_MAPERR)
#define SEGV_ACC (SIGSEGV * 100 + SEGV_ACCERR)
#define BUS_ADR (SIGBUS * 100 + BUS_ADRERR)

/* mincore's vector for n pages (n <= 64) as a digit string "1100". */
static inline const char *mincore_str(pm_thread *t, uint64_t va, int n)
{
	static char out[65];
	static const char q[64];
	long vec = (long)pm_scratch(t, q, 64);
	long r = SC(t, SYS_mincore, (long)va, n * PG, vec, 0, 0, 0);
	uint8_t v[64];
	if (r != 0 || pm_access(t, (uint64_t)vec, v, (size_t)n, PM_READ, NULL) != n) {
		snprintf(out, sizeof(out), "error %ld", r);
		return out;
	}
	for (int i = 0; i < n; i++)
		out[i] = (char)('0' + (v[i] & 1));
	out[n] = '\0';
	return out;
}

/* Number of maps lines whose range lies inside [lo, hi). */
static inline int vmas_in(pm_thread *t, uint64_t lo, uint64_t hi)
{
	const char *s = proc_text(t, 0, "maps");
	int n = 0;
	for (const char *line = s; *line;) {
		unsigned long a = 0, b = 0;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a >= lo && b <= hi)
			n++;
		size_t len = strcspn(line, "\n");
		line += len + (line[len] == '\n');
	}
	return n;
}

/* The 4-character permission field of the VMA at addr ("rw-p"), or "" if none starts there. */
static inline const char *perms_at(pm_thread *t, uint64_t addr)
{
	static char p[5];
	const char *line = maps_line_at(t, addr);
	const char *sp = strchr(line, ' ');
	p[0] = '\0';
	if (sp && strlen(sp) > 4) {
		memcpy(p, sp + 1, 4);
		p[4] = '\0';
	}
	return p;
}

static inline pm_thread *fork_of(struct env *e, pm_thread *parent)
{
	(void)e;
	long pid = SC(parent, SYS_fork, 0, 0, 0, 0, 0, 0);
	return pid > 0 ? pm_thread_of(e->sys, (int)pid) : NULL;
}

static inline long set_rlimit(pm_thread *t, int res, uint64_t cur, uint64_t max)
{
	uint64_t lim[2] = { cur, max };
	return SC(t, SYS_setrlimit, res, (long)pm_scratch(t, lim, 16), 0, 0, 0, 0);
}

#endif
