/*
 * The tour's commit-accounting step (SPEC §8): Committed_AS and CommitLimit in meminfo;
 * mode 0 charging a private page when it is first written, not at mmap, and refusing only
 * a request larger than RAM + swap; mode 2 refusing a promise past CommitLimit with
 * ENOMEM; mode 1 refusing nothing; MAP_NORESERVE never charged. It only shows: the
 * checks behind it live in tests/sys/test_commit.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tour.h"

#define PG 4096L
#define MiB (1L << 20)
#define W 0x200000000000L
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define USER "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"

/* A meminfo line's value in kB. */
static long meminfo_kb(pm_thread *t, const char *name)
{
	static char buf[1 << 14];
	long n = pm_proc_read(t, -1, "meminfo", buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	const char *s = strstr(buf, name);
	return s ? strtol(s + strlen(name), NULL, 10) : -1;
}

static long mm(pm_thread *t, long addr, long len, long prot, long flags)
{
	return pm_syscall(t, SYS_mmap, addr, len, prot, flags, -1, 0);
}

int tour_commit(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Commit accounting",
		     "Committed_AS counts the private writable memory processes were promised. In mode 0\n"
		     "(the default) a page is charged when it is first written, and mmap refuses only a\n"
		     "request larger than RAM + swap; mode 2 refuses any promise past CommitLimit; mode 1\n"
		     "refuses nothing. MAP_NORESERVE is never charged, in any mode.");
	pm_system *sys = tour_system(12);
	pm_thread *u = tour_spawn(sys, USER, NULL), *s = tour_spawn(sys, "system", NULL);
	tour_show(t, u, -1, "meminfo", "Commit");
	long c0 = meminfo_kb(u, "Committed_AS:");
	tour_call(t, "mode 0: mmap(16 MiB, RW, private)", mm(u, W, 16 * MiB, RW, ANON | MAP_FIXED));
	long c1 = meminfo_kb(u, "Committed_AS:");
	for (long i = 0; i < 256; i++) {
		uint8_t v = 1;
		pm_access(u, (uint64_t)(W + i * PG), &v, 1, PM_WRITE, NULL);
	}
	long c2 = meminfo_kb(u, "Committed_AS:");
	tour_say(t, "Committed_AS: %ld kB before, %ld kB after the mmap, %ld kB after writing 1 MiB",
		 c0, c1, c2);
	tour_check(t, c1 == c0 && c2 == c0 + 1024, "mode 0 charges at the first write, not at mmap");
	long big = tour_call(t, "mode 0: mmap(256 MiB, RW, private)   (RAM is 64 MiB, no swap)",
			     mm(u, 0, 256 * MiB, RW, ANON));
	long nores = tour_call(t, "mode 0: mmap(256 MiB, RW, private|MAP_NORESERVE)",
			       mm(u, 0, 256 * MiB, RW, ANON | MAP_NORESERVE));
	long r2 = tour_call(t, "SYSTEM: pm_registry_set(OvercommitMemory, 2)",
			    pm_registry_set(s, "OvercommitMemory", 2));
	tour_show(t, u, -1, "meminfo", "Commit");
	long strict = tour_call(t, "mode 2: mmap(32 MiB, RW, private)", mm(u, 0, 32 * MiB, RW, ANON));
	long strict_nores = tour_call(t, "mode 2: mmap(32 MiB, RW, private|MAP_NORESERVE)",
				      mm(u, 0, 32 * MiB, RW, ANON | MAP_NORESERVE));
	tour_call(t, "SYSTEM: pm_registry_set(OvercommitMemory, 1)",
		  pm_registry_set(s, "OvercommitMemory", 1));
	long always = tour_call(t, "mode 1: mmap(256 MiB, RW, private)", mm(u, 0, 256 * MiB, RW, ANON));
	tour_check(t, big == -ENOMEM && nores > 0 && r2 == 0 && strict == -ENOMEM && strict_nores > 0 &&
		   always > 0, "ENOMEM only where the mode says; NORESERVE is never refused");
	tour_check(t, pm_check_invariants(sys) == 0, "every charge equals its recount");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}
