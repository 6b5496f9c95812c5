/*
 * The tour's steps. Each builds a small system of its own, makes the calls a Peios program
 * would make, prints them with their results and the /proc view that shows the effect, and
 * checks what it claims. Steps never share state, so any one can be read on its own.
 */
#include <errno.h>
#include <linux/mman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tour.h"

#define PG 4096L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)
#define USER "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"

struct box { pm_system *sys; pm_token *tok; pm_thread *t; };

static struct box box_open(uint64_t seed, const char *token)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.seed = seed;
	struct box b = { pm_system_create(&cfg), NULL, NULL };
	int err;
	if (b.sys)
		b.tok = pm_token_parse(b.sys, token, &err);
	if (b.tok)
		b.t = pm_spawn(b.sys, b.tok, NULL);
	if (!b.t) {
		fprintf(stderr, "peimm tour: cannot create a system (out of host memory?)\n");
		exit(1);
	}
	return b;
}

static void box_close(struct box *b)
{
	pm_token_put(b->tok);
	pm_system_destroy(b->sys);
}

static long sc(pm_thread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return pm_syscall(t, nr, a1, a2, a3, a4, a5, a6);
}

static unsigned long region(pm_thread *t, const char *name)
{
	char buf[8192];
	long n = pm_proc_read(t, 0, "maps", buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	char *p = strstr(buf, name);
	if (!p)
		return 0;
	while (p > buf && p[-1] != '\n')
		p--;
	return strtoul(p, NULL, 16);
}

int tour_layout(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "The address space", "A new process gets the Linux x86-64 layout: a randomised stack with a guard gap\n"
		     "below it, vvar and the vDSO (a real ELF image) at the top of the mmap area, and\n"
		     "[vsyscall], execute-only, at its fixed address. The seed decides the layout.");
	struct box b = box_open(2026, USER);
	tour_show(t, b.t, 0, "maps", NULL);
	unsigned long s1 = region(b.t, "[stack]");
	box_close(&b);
	struct box c = box_open(2026, USER);
	unsigned long s2 = region(c.t, "[stack]");
	box_close(&c);
	tour_say(t, "same seed again: [stack] at 0x%lx, then 0x%lx", s1, s2);
	tour_check(t, s1 == s2 && s1, "one seed reproduces one layout");
	struct box d = box_open(7, "system");
	tour_call(t, "SYSTEM: pm_registry_set(RandomizeVaSpace, 0)", pm_registry_set(d.t, "RandomizeVaSpace", 0));
	pm_thread *f1 = pm_spawn(d.sys, d.tok, NULL), *f2 = pm_spawn(d.sys, d.tok, NULL);
	unsigned long a = region(f1, "[vdso]"), z = region(f2, "[vdso]");
	tour_say(t, "with randomize_va_space 0, two processes put [vdso] at 0x%lx and 0x%lx", a, z);
	tour_check(t, a == z && a, "mode 0 turns ASLR off");
	box_close(&d);
	return t->failed_checks == before;
}

int tour_demand_paging(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Demand paging", "mmap only records a VMA. The first read maps the shared zero page; the first\n"
		     "write allocates a zeroed frame. The software MMU walks the page tables on each\n"
		     "access and raises SIGSEGV with Linux's codes when it must.");
	struct box b = box_open(1, USER);
	/* MAP_NORESERVE: a 1 GiB promise is more than this 64 MiB machine's RAM + swap, which
	 * mode 0 refuses (SPEC §8); a sparse reservation promises nothing. */
	long a = tour_call(t, "mmap(NULL, 1 GiB, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0)",
			   sc(b.t, SYS_mmap, 0, 1L << 30, RW, ANON | MAP_NORESERVE, -1, 0));
	tour_show(t, b.t, 0, "status", "VmRSS");
	uint8_t v = 0;
	for (long i = 0; i < 16; i++)
		pm_access(b.t, (uint64_t)a + (uint64_t)i * PG * 1024, &v, 1, PM_WRITE, NULL);
	tour_say(t, "wrote one byte into 16 pages spread over the gigabyte");
	tour_show(t, b.t, 0, "status", "RssAnon");
	pm_siginfo si;
	long r = pm_access(b.t, 0x10, &v, 1, PM_READ, &si);
	tour_say(t, "read at 0x10 -> -%s: SIGSEGV (%d), si_code %s, address 0x%lx",
		 pm_errno_name(r) ? pm_errno_name(r) : "?", si.signo,
		 si.code == SEGV_MAPERR ? "SEGV_MAPERR" : "other", (unsigned long)si.addr);
	tour_check(t, r == -EFAULT && si.signo == SIGSEGV && si.code == SEGV_MAPERR, "unmapped read is SIGSEGV/SEGV_MAPERR");
	char st[4096];
	long sn = pm_proc_read(b.t, 0, "status", st, sizeof(st) - 1, 0);
	st[sn > 0 ? sn : 0] = '\0';
	tour_check(t, strstr(st, "RssAnon:\t      64 kB") != NULL, "16 touched pages = 64 kB resident of 1 GiB mapped");
	tour_check(t, pm_check_invariants(b.sys) == 0, "page tables agree with the VMAs");
	box_close(&b);
	return t->failed_checks == before;
}
