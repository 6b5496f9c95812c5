/*
 * Differential tests for transparent huge pages: fixed sequences over 2 MiB-aligned ranges
 * (the random corpus's 64-page window is too small for a huge page) run on this machine's
 * kernel in a child process and in peimm, and the smaps figures each step leaves are
 * compared (AnonHugePages, Rss, Private_Dirty, Shared_Dirty, THPeligible), fork's sharing
 * and the 4 KiB copy after it included. Reads are
 * avoided: this host maps no zero page on a read fault (a known difference). The host
 * side is skipped when its THP mode is not madvise or always, or when it fell back to
 * small pages (thp_fault_fallback or thp_collapse_alloc_failed moved during the run).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pm_test.h"

#define HPG (2 * MiB)
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

enum { NSTEPS = 10, NFIELDS = 5 };
static const char *const fields[NFIELDS] = {
	"AnonHugePages", "Rss", "Private_Dirty", "Shared_Dirty", "THPeligible",
};

/* What one side saw: per step, the call's result and the fields of the VMA at a. */
struct thp_obs { long ret[NSTEPS]; long f[NSTEPS][NFIELDS]; };

/* A field of the VMA starting at addr in smaps text, or -1. */
static long smaps_field(const char *text, uint64_t addr, const char *field)
{
	char key[40], fk[40];
	snprintf(key, sizeof(key), "%lx-", (unsigned long)addr);
	const char *p = strstr(text, key);
	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, key);
	if (!p)
		return -1;
	const char *end = strstr(p, "VmFlags:");
	snprintf(fk, sizeof(fk), "\n%s:", field);
	const char *f = strstr(p, fk);
	return f && (!end || f < end) ? strtol(f + strlen(fk), NULL, 10) : -1;
}

/* The calls, as one side carries them out. */
struct thp_ops {
	void *ctx;
	long (*sys)(void *ctx, long nr, long a, long b, long c, long d);
	void (*write)(void *ctx, uint64_t va, long len);
	const char *(*smaps)(void *ctx);
	void (*fork)(void *ctx);	/* a child that keeps the pages until release */
	void (*release)(void *ctx);
};

static void observe(const struct thp_ops *o, struct thp_obs *ob, int step, uint64_t a)
{
	const char *s = o->smaps(o->ctx);
	for (int i = 0; i < NFIELDS; i++)
		ob->f[step][i] = smaps_field(s, a, fields[i]);
}

/* The sequence: fault, whole-block mprotect, partial mprotect (split), restore and
 * collapse, partial munmap, DONTNEED of a whole block; a is 2 MiB aligned, 3 blocks. */
static void run_sequence(const struct thp_ops *o, uint64_t a, struct thp_obs *ob)
{
	int st = 0;
	ob->ret[st] = o->sys(o->ctx, SYS_madvise, (long)a, 3 * HPG, MADV_HUGEPAGE, 0);
	o->write(o->ctx, a, 2 * HPG);
	observe(o, ob, st++, a);
	ob->ret[st] = o->sys(o->ctx, SYS_mprotect, (long)a, HPG, PROT_READ, 0);
	observe(o, ob, st++, a);
	ob->ret[st] = o->sys(o->ctx, SYS_mprotect, (long)a, HPG, PROT_READ | PROT_WRITE, 0);
	ob->ret[st] |= o->sys(o->ctx, SYS_mprotect, (long)a + PG, PG, PROT_READ, 0);
	observe(o, ob, st++, a);
	ob->ret[st] = o->sys(o->ctx, SYS_mprotect, (long)a + PG, PG, PROT_READ | PROT_WRITE, 0);
	observe(o, ob, st++, a);
	ob->ret[st] = o->sys(o->ctx, SYS_madvise, (long)a, 3 * HPG, MADV_COLLAPSE, 0);
	observe(o, ob, st++, a);
	ob->ret[st] = o->sys(o->ctx, SYS_munmap, (long)(a + 2 * HPG - PG), PG, 0, 0);
	observe(o, ob, st++, a);
	ob->ret[st] = o->sys(o->ctx, SYS_madvise, (long)a, HPG, MADV_DONTNEED, 0);
	observe(o, ob, st++, a);
	o->write(o->ctx, a + HPG / 2, PG);
	ob->ret[st] = 0;
	observe(o, ob, st++, a);
	o->fork(o->ctx);	/* the child shares the huge page, write-protected */
	ob->ret[st] = 0;
	observe(o, ob, st++, a);
	o->write(o->ctx, a + 5 * PG, PG);	/* split, copy 4 KiB */
	ob->ret[st] = 0;
	observe(o, ob, st++, a);
	o->release(o->ctx);
}

/* ---- the host side ---- */
static long host_sys(void *ctx, long nr, long a, long b, long c, long d)
{
	(void)ctx;
	long r = syscall(nr, a, b, c, d);
	return r < 0 ? -errno : r;
}
static void host_write(void *ctx, uint64_t va, long len)
{
	(void)ctx;
	for (long o = 0; o < len; o += PG)
		((volatile char *)va)[o] = 1;
}
static const char *host_smaps(void *ctx)
{
	static char buf[1 << 20];
	(void)ctx;
	int fd = open("/proc/self/smaps", O_RDONLY);
	long n = 0, r;
	while (fd >= 0 && (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	if (fd >= 0)
		close(fd);
	buf[n] = '\0';
	return buf;
}
static long host_vmstat(const char *name)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");
	size_t n = strlen(name);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static int host_hold[2] = { -1, -1 };
static void host_fork(void *ctx)
{
	(void)ctx;
	if (pipe(host_hold))
		return;
	if (fork() == 0) {
		char c;
		close(host_hold[1]);
		(void)!read(host_hold[0], &c, 1);	/* until the parent releases */
		_exit(0);
	}
	close(host_hold[0]);
}
static void host_release(void *ctx)
{
	(void)ctx;
	close(host_hold[1]);
	wait(NULL);
}

/* Runs the sequence in a child; 1 with *ob filled, 0 when the host cannot take part. */
static int host_run(struct thp_obs *ob)
{
	char mode[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f || !fgets(mode, sizeof(mode), f) || strstr(mode, "[never]")) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	int p[2];
	if (pipe(p))
		return 0;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		long fb = host_vmstat("thp_fault_fallback") + host_vmstat("thp_collapse_alloc_failed");
		char *m = mmap(NULL, 5 * HPG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t a = ((uint64_t)m + HPG - 1) & ~(uint64_t)(HPG - 1);
		munmap(m, a - (uint64_t)m);
		munmap((void *)(a + 3 * HPG), (uint64_t)m + 5 * HPG - (a + 3 * HPG));
		struct thp_obs o;
		struct thp_ops ops = { NULL, host_sys, host_write, host_smaps, host_fork, host_release };
		run_sequence(&ops, a, &o);
		int ok = host_vmstat("thp_fault_fallback") + host_vmstat("thp_collapse_alloc_failed") == fb;
		if (ok && write(p[1], &o, sizeof(o)) != (long)sizeof(o))
			ok = 0;
		_exit(ok ? 0 : 1);
	}
	close(p[1]);
	long n = read(p[0], ob, sizeof(*ob));
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	return n == (long)sizeof(*ob) && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- the peimm side ---- */
struct pm_side { pm_system *sys; pm_thread *t, *child; };
static long pm_sys(void *ctx, long nr, long a, long b, long c, long d)
{
	return pm_syscall(((struct pm_side *)ctx)->t, nr, a, b, c, d, 0, 0);
}
static void pm_write(void *ctx, uint64_t va, long len)
{
	for (long o = 0; o < len; o += PG)
		poke(((struct pm_side *)ctx)->t, va + (uint64_t)o, 1);
}
static const char *pm_smaps(void *ctx)
{
	return proc_text(((struct pm_side *)ctx)->t, 0, "smaps");
}
static void pm_fork(void *ctx)
{
	struct pm_side *p = ctx;
	p->child = pm_thread_of(p->sys, (int)pm_syscall(p->t, SYS_fork, 0, 0, 0, 0, 0, 0));
}
static void pm_release(void *ctx)
{
	struct pm_side *p = ctx;
	if (p->child)
		pm_syscall(p->child, SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

TEST(thp_sequences_match_the_host_kernel)
{
	struct thp_obs host, pm;
	memset(&host, 0, sizeof(host));
	if (!host_run(&host)) {
		fprintf(stderr, "diff thp: the host cannot take part (THP never, or it fell back)\n");
		return;
	}
	struct env e = env_open();
	long m = do_mmap(e.t, 0, 5 * HPG, RW, ANON);
	uint64_t a = ((uint64_t)m + HPG - 1) & ~(uint64_t)(HPG - 1);
	SC(e.t, SYS_munmap, m, (long)(a - (uint64_t)m), 0, 0, 0, 0);
	SC(e.t, SYS_munmap, (long)(a + 3 * HPG), (long)((uint64_t)m + 5 * HPG - (a + 3 * HPG)), 0, 0, 0, 0);
	struct pm_side side = { e.sys, e.t, NULL };
	struct thp_ops ops = { &side, pm_sys, pm_write, pm_smaps, pm_fork, pm_release };
	run_sequence(&ops, a, &pm);
	for (int s = 0; s < NSTEPS && getenv("PEIMM_DIFF_VERBOSE"); s++)
		fprintf(stderr, "step %d: ret %ld/%ld AnonHugePages %ld/%ld Rss %ld/%ld Private_Dirty "
			"%ld/%ld Shared_Dirty %ld/%ld THPeligible %ld/%ld (host/peimm)\n", s,
			host.ret[s], pm.ret[s], host.f[s][0], pm.f[s][0], host.f[s][1], pm.f[s][1],
			host.f[s][2], pm.f[s][2], host.f[s][3], pm.f[s][3], host.f[s][4], pm.f[s][4]);
	for (int s = 0; s < NSTEPS; s++) {
		if (host.ret[s] != pm.ret[s])
			check_failed(__FILE__, __LINE__, "step %d: host returned %ld, peimm %ld", s,
				     host.ret[s], pm.ret[s]);
		for (int i = 0; i < NFIELDS; i++)
			if (host.f[s][i] != pm.f[s][i])
				check_failed(__FILE__, __LINE__, "step %d: %s is %ld on the host, %ld "
					     "in peimm", s, fields[i], host.f[s][i], pm.f[s][i]);
	}
	env_close(&e);
}
