/*
 * The tour's memory-pressure steps. OOM: on a 16 MiB machine a hog holds most of RAM, a
 * second process keeps touching memory, and when no frame is left the killer takes the
 * process with the highest badness, reaps it at once and lets the fault finish; oom_score
 * and the audit line show why. DAMON: a hot range touched every tick and a cold one left
 * alone are told apart by sampling Accessed bits, as Linux's DAMON does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tour.h"

#define PG 4096L
#define W 0x200000000000L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define USER "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"

static pm_system *small_system_swap(uint64_t ram, uint64_t swap)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = ram;
	cfg.swap_bytes = swap;
	cfg.seed = 31;
	pm_system *sys = pm_system_create(&cfg);
	if (!sys) {
		fprintf(stderr, "peimm tour: cannot create a system (out of host memory?)\n");
		exit(1);
	}
	return sys;
}

static pm_system *small_system(uint64_t ram) { return small_system_swap(ram, 0); }

/* Maps pages at base and writes one byte per page; returns how many writes landed. */
static long touch(pm_thread *t, long base, long pages)
{
	pm_syscall(t, SYS_mmap, base, pages * PG, PROT_READ | PROT_WRITE,
		   ANON | MAP_FIXED, -1, 0);
	long n = 0;
	for (long i = 0; i < pages; i++) {
		uint8_t v = 1;
		n += pm_access(t, (uint64_t)(base + i * PG), &v, 1, PM_WRITE, NULL) == 1;
	}
	return n;
}

static long oom_score(pm_thread *reader, int pid)
{
	char buf[32] = { 0 };
	pm_proc_read(reader, pid, "oom_score", buf, sizeof(buf) - 1, 0);
	return strtol(buf, NULL, 10);
}

int tour_oom(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Out of memory",
		     "When a fault finds no free frame, the OOM killer picks the process with the highest\n"
		     "badness (RSS + swap + page tables, plus oom_score_adj), kills it, reaps it at once\n"
		     "and lets the fault finish. oom_score_adj -1000 is immune; every kill is audited.");
	pm_system *sys = small_system(16ULL << 20);
	pm_thread *admin = tour_spawn(sys, "system", NULL);
	pm_thread *hog = tour_spawn(sys, USER, NULL);
	pm_thread *worker = tour_spawn(sys, USER, NULL);
	int hog_pid = pm_pid(hog);
	long held = touch(hog, W, 2560);
	tour_say(t, "16 MiB of RAM; the hog (pid %d) holds %ld pages, oom_score %ld", hog_pid, held,
		 oom_score(admin, hog_pid));
	tour_say(t, "(oom_score is Linux's scale: (1000 + badness * 1000 / total pages) * 2 / 3;\n"
		    "   the audit line below gives the badness itself, in pages)");
	long got = touch(worker, W, 1536);
	tour_say(t, "the worker (pid %d) touched %ld of 1536 pages", pm_pid(worker), got);
	tour_check(t, got == 1536 && pm_thread_of(sys, hog_pid) == NULL,
		   "the hog was killed and reaped; the worker's faults all succeeded");
	tour_show(t, admin, -1, "peios/audit", "oom-kill");
	tour_show(t, admin, -1, "vmstat", "oom_kill");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

int tour_damon(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "DAMON",
		     "DAMON samples the Accessed bits of a process's pages in regions that split and\n"
		     "merge by access rate. Below, 1 MiB read every tick and 1 MiB never touched again;\n"
		     "after two simulated seconds DAMON reports one busy and one idle part.");
	pm_system *sys = small_system(64ULL << 20);
	pm_thread *admin = tour_spawn(sys, "system", NULL);
	pm_thread *app = tour_spawn(sys, USER, NULL);
	const long hot = W, cold = W + (1L << 30), pages = 256;
	touch(app, hot, pages);
	touch(app, cold, pages);
	pm_damon_attrs attrs = { .nr_ranges = 2, .ranges = { { hot, hot + pages * PG },
							    { cold, cold + pages * PG } } };
	long r = tour_call(t, "pm_damon_start(SYSTEM caller, app, {hot range, cold range})",
			   pm_damon_start(admin, pm_pid(app), &attrs));
	long denied = tour_call(t, "pm_damon_start(the app itself, ...)",
				pm_damon_start(app, pm_pid(app), &attrs));
	for (int tick = 0; tick < 2000; tick++) {
		uint8_t v;
		for (long i = 0; i < pages; i++)
			pm_access(app, (uint64_t)(hot + i * PG), &v, 1, PM_READ, NULL);
		pm_system_tick(sys, 1);
	}
	pm_damon_region reg[64];
	int n = pm_damon_regions(admin, pm_pid(app), reg, 64);
	uint32_t hot_max = 0, cold_max = 0;
	for (int i = 0; i < n && i < (int)(sizeof(reg) / sizeof(reg[0])); i++) {
		if (reg[i].start < (uint64_t)cold)
			hot_max = reg[i].nr_accesses > hot_max ? reg[i].nr_accesses : hot_max;
		else
			cold_max = reg[i].nr_accesses > cold_max ? reg[i].nr_accesses : cold_max;
	}
	tour_say(t, "each line: a region, its nr_accesses (samples of 20 that saw an access) and age");
	tour_show(t, admin, pm_pid(app), "damon_regions", NULL);
	tour_say(t, "'peimm damon' draws the same regions over time as a heatmap");
	tour_check(t, r == 0 && denied == -EPERM, "only SYSTEM or Administrators start DAMON");
	tour_check(t, hot_max >= 15 && cold_max == 0,
		   "the hot range is seen in most samples, the cold one in none");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

int tour_swap(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Swap",
		     "Swap is a real host file. MADV_PAGEOUT writes anonymous pages to it and leaves swap\n"
		     "entries in the page tables; the next touch reads them back through the swap cache.");
	pm_system *sys = small_system_swap(32ULL << 20, 64ULL << 20);
	pm_thread *app = tour_spawn(sys, USER, NULL);
	const long pages = 64;
	pm_syscall(app, SYS_mmap, W, pages * PG, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0);
	for (long i = 0; i < pages; i++) {
		uint8_t v = (uint8_t)(i + 1);
		pm_access(app, (uint64_t)(W + i * PG), &v, 1, PM_WRITE, NULL);
	}
	tour_call(t, "madvise(64 pages, MADV_PAGEOUT)", pm_syscall(app, SYS_madvise, W, pages * PG,
								   MADV_PAGEOUT, 0, 0, 0));
	tour_show(t, app, 0, "status", "VmSwap");
	tour_show(t, app, -1, "vmstat", "pswp");
	int ok = 1;
	for (long i = 0; i < pages; i++) {
		uint8_t v = 0;
		pm_access(app, (uint64_t)(W + i * PG), &v, 1, PM_READ, NULL);
		ok &= v == (uint8_t)(i + 1);
	}
	tour_say(t, "after reading every page back:");
	tour_show(t, app, -1, "vmstat", "pswpin");
	tour_check(t, ok && pm_check_invariants(sys) == 0, "every page came back with its bytes");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

int tour_ksm(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "KSM",
		     "ksmd (KsmRun=1, SYSTEM only) finds identical anonymous pages in MERGEABLE ranges\n"
		     "and maps them to one write-protected frame; a write takes a private copy again.");
	pm_system *sys = small_system(64ULL << 20);
	pm_thread *admin = tour_spawn(sys, "system", NULL);
	pm_thread *a = tour_spawn(sys, USER, NULL), *b = tour_spawn(sys, USER, NULL);
	static const uint8_t fill[PG] = { 7 };
	for (pm_thread **p = (pm_thread *[]){ a, b, NULL }; *p; p++) {
		pm_syscall(*p, SYS_mmap, W, 32 * PG, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0);
		for (long i = 0; i < 32; i++)
			pm_access(*p, (uint64_t)(W + i * PG), (void *)fill, PG, PM_WRITE, NULL);
		pm_syscall(*p, SYS_madvise, W, 32 * PG, MADV_MERGEABLE, 0, 0, 0);
	}
	long denied = tour_call(t, "user:   pm_registry_set(KsmRun, 1)", pm_registry_set(a, "KsmRun", 1));
	tour_call(t, "SYSTEM: pm_registry_set(KsmRun, 1)", pm_registry_set(admin, "KsmRun", 1));
	pm_registry_set(admin, "KsmSleepMillisecs", 1);
	for (int i = 0; i < 20; i++)
		pm_system_tick(sys, 1);
	tour_show(t, admin, -1, "sys/kernel/mm/ksm/pages_shared", NULL);
	tour_show(t, admin, -1, "sys/kernel/mm/ksm/pages_sharing", NULL);
	uint8_t w = 9, ra = 0, rb = 0;
	pm_access(a, W, &w, 1, PM_WRITE, NULL);
	pm_access(a, W, &ra, 1, PM_READ, NULL);
	pm_access(b, W, &rb, 1, PM_READ, NULL);
	tour_say(t, "process a wrote 9 to its first page; a reads %u, b reads %u", ra, rb);
	tour_check(t, denied == -EACCES && ra == 9 && rb == 7 && pm_check_invariants(sys) == 0,
		   "64 identical pages merged; a write broke the sharing for the writer only");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}
