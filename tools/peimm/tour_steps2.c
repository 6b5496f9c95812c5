/*
 * The tour's steps about the rules of mapping: Linux's split and merge outcomes, the Peios
 * refusals (mmap_min_addr, MAP_UNINITIALIZED), the heap and the stack guard gap, the
 * registry's gates, and the integrity checks that watch all of it.
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
#define W 0x200000000000L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)
#define USER "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"

static long sc(pm_thread *t, long nr, long a1, long a2, long a3)
{
	return pm_syscall(t, nr, a1, a2, a3, 0, 0, 0);
}

static long mm(pm_thread *t, long addr, long len, long prot, long flags)
{
	return pm_syscall(t, SYS_mmap, addr, len, prot, flags, -1, 0);
}

static int lines_in_window(pm_thread *t)
{
	char buf[8192];
	long n = pm_proc_read(t, 0, "maps", buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	int c = 0;
	for (char *p = buf; (p = strstr(p, "\n20000000")) != NULL; p++)
		c++;
	return c + (strncmp(buf, "20000000", 8) == 0);
}

int tour_mapping_rules(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Splits and merges", "VMAs split and merge exactly as Linux's do, so /proc/self/maps shows the same\n"
		     "lines for the same calls. Three pages, the middle one made read-only, then back:");
	pm_system *sys = tour_system(3);
	pm_thread *p = tour_spawn(sys, USER, NULL);
	tour_call(t, "mmap(0x200000000000, 3 pages, RW, MAP_FIXED|MAP_PRIVATE|MAP_ANONYMOUS)",
		  mm(p, W, 3 * PG, RW, ANON | MAP_FIXED));
	tour_call(t, "mprotect(0x200000001000, 1 page, PROT_READ)", sc(p, SYS_mprotect, W + PG, PG, PROT_READ));
	tour_show(t, p, 0, "maps", "20000000");
	int split = lines_in_window(p) == 3;
	tour_call(t, "mprotect(0x200000001000, 1 page, PROT_READ|PROT_WRITE)", sc(p, SYS_mprotect, W + PG, PG, RW));
	tour_show(t, p, 0, "maps", "20000000");
	tour_check(t, split && lines_in_window(p) == 1, "split into three, merged back into one");
	tour_call(t, "mprotect(0x200000000000, 1 page, 0x10 /* unknown bit */)", sc(p, SYS_mprotect, W, PG, 0x10));
	tour_call(t, "munmap(0x200000000001, 1 page)", sc(p, SYS_munmap, W + 1, PG, 0));
	tour_check(t, sc(p, SYS_mprotect, W, PG, 0x10) == -EINVAL, "Linux's errnos for bad arguments");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

int tour_peios_rules(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Peios rules for what goes into an address space",
		     "Shaping your own address space needs no privilege, but mapping the null page\n"
		     "does: MAP_FIXED below mmap_min_addr (65536) needs SeTcbPrivilege, enabled.\n"
		     "MAP_UNINITIALIZED is refused on a standard image. MAP_FIXED_NOREPLACE never clobbers.");
	pm_system *sys = tour_system(4);
	pm_thread *u = tour_spawn(sys, USER, NULL);
	pm_thread *tcb = tour_spawn(sys, "user=S-1-5-21-1-1002 privs=SeTcbPrivilege:enabled", NULL);
	long a = tour_call(t, "user:  mmap(0x1000, 1 page, RW, MAP_FIXED|...)", mm(u, 0x1000, PG, RW, ANON | MAP_FIXED));
	long b = tour_call(t, "SeTcb: mmap(0x1000, 1 page, RW, MAP_FIXED|...)", mm(tcb, 0x1000, PG, RW, ANON | MAP_FIXED));
	tour_check(t, a == -EPERM && b == 0x1000, "the null-page region is gated by SeTcbPrivilege");
	long c = tour_call(t, "mmap(NULL, 1 page, RW, MAP_PRIVATE|MAP_ANONYMOUS|MAP_UNINITIALIZED)",
			   mm(u, 0, PG, RW, ANON | MAP_UNINITIALIZED));
	tour_check(t, c == -EINVAL, "MAP_UNINITIALIZED is EINVAL on the default image");
	mm(u, W, 2 * PG, RW, ANON | MAP_FIXED);
	long d = tour_call(t, "mmap(0x200000001000, 2 pages, RW, MAP_FIXED_NOREPLACE|...) over a mapping",
			   mm(u, W + PG, 2 * PG, RW, ANON | MAP_FIXED_NOREPLACE));
	tour_check(t, d == -EEXIST, "MAP_FIXED_NOREPLACE refuses to clobber");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

int tour_heap_and_stack(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "The heap and the stack", "brk moves the program break and returns it (or the old one when refused).\n"
		     "The stack grows on demand, and never into the 1 MiB guard gap of the mapping below.");
	pm_system *sys = tour_system(5);
	pm_thread *p = tour_spawn(sys, USER, NULL);
	long b0 = tour_call(t, "brk(0)", sc(p, SYS_brk, 0, 0, 0));
	long b1 = tour_call(t, "brk(brk(0) + 64 KiB)", sc(p, SYS_brk, b0 + 16 * PG, 0, 0));
	tour_show(t, p, 0, "maps", "[heap]");
	tour_check(t, b1 == b0 + 16 * PG, "the heap grew by 64 KiB");
	const long S = 0x300000000000L;
	mm(p, S, 4 * PG, RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
	mm(p, S - 256 * PG - 4 * PG, PG, RW, ANON | MAP_FIXED);
	uint8_t v = 1;
	pm_siginfo si;
	long ok = pm_access(p, S - 2 * PG, &v, 1, PM_WRITE, &si);
	long bad = pm_access(p, S - 256 * PG, &v, 1, PM_WRITE, &si);
	tour_say(t, "a grows-down mapping at 0x%lx; a write 2 pages below it %s (the stack grew),\n"
		 "  a write into the guard gap -> %s", S, ok == 1 ? "landed" : "faulted",
		 bad == -EFAULT ? "SIGSEGV" : "allowed");
	tour_check(t, ok == 1 && bad == -EFAULT, "stack clash protection: growth stops before the gap");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

int tour_registry(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "The registry", "The knobs live in Machine\\System\\Memory. Users may read them; writing needs\n"
		     "the key's write right (SYSTEM, Administrators), and the change applies at once.");
	pm_system *sys = tour_system(6);
	pm_thread *u = tour_spawn(sys, USER, NULL);
	pm_thread *s = tour_spawn(sys, "system", NULL);
	tour_call(t, "get MaxMapCount", pm_registry_get(sys, "Machine\\System\\Memory\\MaxMapCount"));
	long r1 = tour_call(t, "user:   pm_registry_set(MaxMapCount, 8)", pm_registry_set(u, "MaxMapCount", 8));
	long r2 = tour_call(t, "SYSTEM: pm_registry_set(MaxMapCount, 8)", pm_registry_set(s, "MaxMapCount", 8));
	long n = 0, r = 0;
	for (; n < 10 && r >= 0; n++)
		r = mm(u, W + n * 2 * PG, PG, n & 1 ? PROT_READ : RW, ANON | MAP_FIXED);
	tour_say(t, "the user's process could then add %ld mappings before mmap said %s", n - 1,
		 r < 0 ? pm_errno_name(r) : "nothing");
	tour_check(t, r1 == -EACCES && r2 == 0 && r == -ENOMEM, "max_map_count is enforced from the registry");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

int tour_integrity(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Integrity", "Every subsystem can recount what it caches: VMAs and the B-tree's gaps, page\n"
		     "tables, RSS and VM counters, and every frame's references. Tests run the checks\n"
		     "after every call; here they run after a burst of random calls.");
	pm_system *sys = tour_system(8);
	pm_thread *p = tour_spawn(sys, USER, NULL);
	pm_sysinfo before_info, after_info;
	pm_system_info(sys, &before_info);
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		long addr = W + (long)(x % 64) * PG, len = (long)((x >> 8) % 8 + 1) * PG;
		switch ((x >> 16) % 4) {
		case 0: mm(p, addr, len, (x >> 20) & 3, ANON | MAP_FIXED); break;
		case 1: sc(p, SYS_munmap, addr, len, 0); break;
		case 2: sc(p, SYS_mprotect, addr, len, (x >> 24) & 3); break;
		default: { uint8_t v = 1; pm_access(p, (uint64_t)addr, &v, 1, PM_WRITE, NULL); }
		}
	}
	int problems = pm_check_invariants(sys);
	tour_say(t, "2000 random mmap/munmap/mprotect/write calls; pm_check_invariants found %d problems", problems);
	sc(p, SYS_exit_group, 0, 0, 0);
	pm_system_info(sys, &after_info);
	tour_say(t, "after exit: %lu of %lu frames free (%lu held by the kernel for the zero page and vDSO)",
		 (unsigned long)after_info.free_frames, (unsigned long)after_info.total_frames,
		 (unsigned long)after_info.kernel_frames);
	tour_check(t, problems == 0, "every invariant holds");
	tour_check(t, after_info.free_frames == after_info.total_frames - after_info.kernel_frames,
		   "every frame came back when the process exited");
	(void)before_info;
	pm_system_destroy(sys);
	return t->failed_checks == before;
}
