/*
 * The tour's steps on freeing and hiding: process_mrelease, which frees a killed process's
 * memory at once instead of waiting for the reaper, behind the PROCESS_SET_QUOTA gate; and
 * pagemap, which shows every process its own page flags but the physical frame numbers
 * only to a SeTcbPrivilege holder. Like every step it uses the public API only and says
 * whether what it showed held.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tour.h"

#define PG 4096L
#define W 0x200000000000L
#define USER "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"
#define STRANGER "user=S-1-5-21-1-1002 groups=S-1-5-32-545,S-1-1-0 il=medium"
#define PFN_MASK ((1ULL << 55) - 1)
#define PRESENT (1ULL << 63)

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

static uint64_t free_frames(pm_system *sys)
{
	pm_sysinfo si;
	pm_system_info(sys, &si);
	return si.free_frames;
}

/* Maps and writes `pages` pages at W; returns how many writes landed. */
static long fill(pm_thread *t, long pages)
{
	long n = 0;
	pm_syscall(t, SYS_mmap, W, pages * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	for (long i = 0; i < pages; i++)
		n += pm_access(t, (uint64_t)(W + i * PG), &(uint8_t){ 1 }, 1, PM_WRITE, NULL) == 1;
	return n;
}

int tour_mrelease(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "process_mrelease",
		     "A SIGKILLed process is dying: its memory waits for the reaper, which runs in the\n"
		     "daemons' tick. process_mrelease(pidfd) frees it at once, as Linux's does for an\n"
		     "OOM daemon. The caller needs PROCESS_SET_QUOTA on the target, else EPERM.");
	pm_system *sys = tour_system(41);
	pm_thread *admin = tour_spawn(sys, "system", NULL);
	pm_thread *victim = tour_spawn(sys, USER, NULL);
	pm_thread *stranger = tour_spawn(sys, STRANGER, NULL);
	int pid = pm_pid(victim);
	long held = fill(victim, 2048);
	tour_say(t, "the victim (pid %d) has written %ld pages (8 MiB)", pid, held);
	long fd = tour_call(t, "SYSTEM:   pidfd_open(victim, 0)",
			    pm_syscall(admin, SYS_pidfd_open, pid, 0, 0, 0, 0, 0));
	long sfd = tour_call(t, "stranger: pidfd_open(victim, 0)",
			     pm_syscall(stranger, SYS_pidfd_open, pid, 0, 0, 0, 0, 0));
	tour_call(t, "SYSTEM:   kill(victim, SIGKILL)", pm_syscall(admin, SYS_kill, pid, SIGKILL, 0, 0, 0, 0));
	long gone = tour_call(t, "victim:   getpid()", pm_syscall(victim, SYS_getpid, 0, 0, 0, 0, 0, 0));
	uint64_t dying = free_frames(sys);
	tour_say(t, "it is dying: it runs no more, yet its pid is still there (pm_thread_of: %s)",
		 pm_thread_of(sys, pid) ? "found" : "gone");
	tour_say(t, "and its 8 MiB still held: free frames now %llu", (unsigned long long)dying);
	long refused = tour_call(t, "stranger: process_mrelease(pidfd, 0)",
				 pm_syscall(stranger, SYS_process_mrelease, sfd, 0, 0, 0, 0, 0));
	long r = tour_call(t, "SYSTEM:   process_mrelease(pidfd, 0)",
			   pm_syscall(admin, SYS_process_mrelease, fd, 0, 0, 0, 0, 0));
	uint64_t after = free_frames(sys);
	tour_say(t, "free frames after process_mrelease: %llu (%lld more), no tick has run",
		 (unsigned long long)after, (long long)(after - dying));
	tour_check(t, held == 2048 && gone == -ESRCH && fd >= 0 && r == 0 && after >= dying + 2048,
		   "the dying process's 2048 pages came back at once");
	tour_check(t, sfd >= 0 && refused == -EPERM,
		   "a caller without PROCESS_SET_QUOTA on the target is refused with EPERM");
	tour_check(t, pm_check_invariants(sys) == 0, "the frame accounting still balances");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

/* The first pagemap entry of `th`'s page at W, as `th` itself reads it. */
static uint64_t own_entry(pm_thread *th)
{
	uint64_t e = 0;
	long n = pm_proc_read(th, 0, "pagemap", &e, sizeof(e), (uint64_t)W / PG * 8);
	return n == (long)sizeof(e) ? e : 0;
}

int tour_pagemap(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "pagemap and PFN hiding",
		     "/proc/<pid>/pagemap has one 64-bit entry per page: bit 63 present, bits 0-54 the\n"
		     "physical frame number. Like Linux without CAP_SYS_ADMIN, a reader without\n"
		     "SeTcbPrivilege gets the flags with the frame number zeroed, so physical\n"
		     "addresses (a Rowhammer aid) never leak.");
	pm_system *sys = tour_system(43);
	pm_thread *user = tour_spawn(sys, USER, NULL);
	pm_thread *tcb = tour_spawn(sys, "user=S-1-5-21-1-1002 privs=SeTcbPrivilege:enabled", NULL);
	fill(user, 1);
	fill(tcb, 1);
	uint64_t u = own_entry(user), k = own_entry(tcb);
	tour_say(t, "user reads its own entry:          0x%016llx (present %d, PFN %llu)",
		 (unsigned long long)u, !!(u & PRESENT), (unsigned long long)(u & PFN_MASK));
	tour_say(t, "SeTcb holder reads its own entry:  0x%016llx (present %d, PFN %llu)",
		 (unsigned long long)k, !!(k & PRESENT), (unsigned long long)(k & PFN_MASK));
	tour_check(t, (u & PRESENT) && (u & PFN_MASK) == 0, "a normal user sees present, PFN 0");
	tour_check(t, (k & PRESENT) && (k & PFN_MASK) != 0, "the SeTcbPrivilege holder sees the PFN");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}
