/*
 * The tour's transparent-huge-page step: a write in a MADV_HUGEPAGE range maps one 2 MiB
 * frame behind a single PMD entry (smaps AnonHugePages), an mprotect of one 4 KiB page
 * splits it into 512 PTEs with every byte kept, and MADV_COLLAPSE copies the pages back
 * into a fresh huge page once the protections agree again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tour.h"

#define PG 4096L
#define HP (2L << 20)
#define W 0x200000000000L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define USER "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* The number after "AnonHugePages:" in the smaps entry of the VMA at W. */
static long anon_huge_kb(pm_thread *th)
{
	static char buf[1 << 16];
	long n = pm_proc_read(th, 0, "smaps", buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	char key[32];
	snprintf(key, sizeof(key), "%lx-", (unsigned long)W);
	const char *p = strstr(buf, key);
	p = p ? strstr(p, "AnonHugePages:") : NULL;
	return p ? strtol(p + strlen("AnonHugePages:"), NULL, 10) : -1;
}

/* Does every byte of the 2 MiB at W read back as i * 7 + 1 (mod 256)? */
static int intact(pm_thread *th)
{
	static uint8_t buf[HP];
	if (pm_access(th, W, buf, HP, PM_READ, NULL) != HP)
		return 0;
	for (long i = 0; i < HP; i++)
		if (buf[i] != (uint8_t)(i * 7 + 1))
			return 0;
	return 1;
}

int tour_thp(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Transparent huge pages",
		     "ThpEnabled=madvise (Linux's default): a write in a MADV_HUGEPAGE range maps one\n"
		     "2 MiB frame with a PS entry. A partial mprotect splits it into 512 PTEs that keep\n"
		     "every byte; MADV_COLLAPSE (or khugepaged, on its tick) makes it huge again.");
	pm_system *sys = tour_system(41);
	pm_thread *th = tour_spawn(sys, USER, NULL);
	tour_call(t, "mmap(W, 2 MiB, RW, PRIVATE|ANON|FIXED)",
		  pm_syscall(th, SYS_mmap, W, HP, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0));
	tour_call(t, "madvise(W, 2 MiB, MADV_HUGEPAGE)",
		  pm_syscall(th, SYS_madvise, W, HP, MADV_HUGEPAGE, 0, 0, 0));
	static uint8_t data[HP];
	for (long i = 0; i < HP; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	pm_access(th, W, data, HP, PM_WRITE, NULL);
	long huge = anon_huge_kb(th);
	tour_say(t, "wrote 2 MiB: smaps AnonHugePages %ld kB (one fault, one PMD)", huge);
	tour_call(t, "mprotect(W + 4 KiB, 4 KiB, PROT_READ)",
		  pm_syscall(th, SYS_mprotect, W + PG, PG, PROT_READ, 0, 0, 0));
	long split = anon_huge_kb(th);
	int kept = intact(th);
	tour_say(t, "after the split: AnonHugePages %ld kB, all 2 MiB intact: %s", split,
		 kept ? "yes" : "no");
	tour_call(t, "mprotect(W + 4 KiB, 4 KiB, RW)",
		  pm_syscall(th, SYS_mprotect, W + PG, PG, PROT_READ | PROT_WRITE, 0, 0, 0));
	tour_call(t, "madvise(W, 2 MiB, MADV_COLLAPSE)",
		  pm_syscall(th, SYS_madvise, W, HP, MADV_COLLAPSE, 0, 0, 0));
	long back = anon_huge_kb(th);
	tour_say(t, "collapsed: AnonHugePages %ld kB", back);
	tour_show(t, th, -1, "vmstat", "thp_fault_alloc");
	tour_show(t, th, -1, "vmstat", "thp_split_pmd");
	tour_show(t, th, -1, "vmstat", "thp_collapse_alloc ");
	tour_check(t, huge == 2048 && split == 0 && kept && back == 2048 && intact(th) &&
		   pm_check_invariants(sys) == 0,
		   "a 2 MiB fault, a split that kept every byte, and a collapse back");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}
