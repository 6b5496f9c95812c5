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

static pm_system *small_system(uint64_t ram)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = ram;
	cfg.seed = 31;
	pm_system *sys = pm_system_create(&cfg);
	if (!sys) {
		fprintf(stderr, "peimm tour: cannot create a system (out of host memory?)\n");
		exit(1);
	}
	return sys;
}

/* Maps pages at base and writes one byte per page; returns how many writes landed. */
static long touch(pm_thread *t, long base, long pages)
{
	pm_syscall(t, SYS_mmap, base, pages * PG, PROT_READ | PROT_WRITE,
		   ANON | MAP_FIXED | MAP_NORESERVE, -1, 0);
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
		if (reg[i].start < cold)
			hot_max = reg[i].nr_accesses > hot_max ? reg[i].nr_accesses : hot_max;
		else
			cold_max = reg[i].nr_accesses > cold_max ? reg[i].nr_accesses : cold_max;
	}
	tour_show(t, admin, pm_pid(app), "damon_regions", NULL);
	tour_check(t, r == 0 && denied == -EPERM, "only SYSTEM or Administrators start DAMON");
	tour_check(t, hot_max >= 15 && cold_max == 0,
		   "the hot range is seen in most samples, the cold one in none");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}
