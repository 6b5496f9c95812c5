/*
 * The tour's steps about processes and what backs memory: fork with copy-on-write, a
 * shared file mapping whose stores reach the host file, mremap moving memory without
 * copying it, mseal refusing every change, a protection-key fault, and hugetlb pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tour.h"

#define PG 4096L
#define W 0x200000000000L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)
#define USER "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"

struct box { pm_system *sys; pm_thread *t; };

static struct box box(uint64_t seed, const char *root, const char *token)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.seed = seed;
	cfg.root = root;
	struct box b = { pm_system_create(&cfg), NULL };
	int err;
	pm_token *tok = b.sys ? pm_token_parse(b.sys, token, &err) : NULL;
	b.t = tok ? pm_spawn(b.sys, tok, NULL) : NULL;
	pm_token_put(tok);
	if (!b.t) {
		fprintf(stderr, "peimm tour: cannot create a system (out of host memory?)\n");
		exit(1);
	}
	return b;
}

static long sc(pm_thread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return pm_syscall(t, nr, a1, a2, a3, a4, a5, a6);
}

static int peek(pm_thread *t, uint64_t va)
{
	uint8_t v;
	return pm_access(t, va, &v, 1, PM_READ, NULL) < 0 ? -1 : v;
}

static long poke(pm_thread *t, uint64_t va, uint8_t v) { return pm_access(t, va, &v, 1, PM_WRITE, NULL); }

int tour_fork(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "fork and copy-on-write", "fork copies page tables, not pages: both sides share every frame read-only, and\n"
		     "the first write on either side copies just that page (SPEC §3).");
	struct box b = box(11, NULL, USER);
	sc(b.t, SYS_mmap, W, 64 * PG, RW, ANON | MAP_FIXED, -1, 0);
	for (long i = 0; i < 64; i++)
		poke(b.t, W + i * PG, 'p');
	pm_sysinfo a, z;
	pm_system_info(b.sys, &a);
	long pid = tour_call(t, "fork()", sc(b.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	pm_thread *c = pm_thread_of(b.sys, (int)pid);
	pm_system_info(b.sys, &z);
	tour_say(t, "64 resident pages in the parent; fork used %lu frames (page tables only)",
		 (unsigned long)(a.free_frames - z.free_frames));
	poke(c, W, 'c');
	tour_say(t, "child writes 'c' to the first page: child reads '%c', parent reads '%c'",
		 peek(c, W), peek(b.t, W));
	tour_check(t, peek(c, W) == 'c' && peek(b.t, W) == 'p' && a.free_frames - z.free_frames < 16,
		   "fork is copy-on-write at the page-table level");
	tour_check(t, pm_check_invariants(b.sys) == 0, "frame reference counts add up across both processes");
	pm_system_destroy(b.sys);
	return t->failed_checks == before;
}

int tour_files(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "File mappings", "Files are real host files, read through a page cache. A MAP_SHARED store reaches\n"
		     "the host file on msync (and munmap, exit and background writeback).");
	char root[] = "/tmp/peimm-tourXXXXXX";
	if (!mkdtemp(root))
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "%s/greeting.txt", root);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("hello from the host\n", f);
		fclose(f);
	}
	struct box b = box(12, root, USER);
	long name = (long)pm_scratch(b.t, "greeting.txt", 13);
	long fd = tour_call(t, "openat(AT_FDCWD, \"greeting.txt\", O_RDWR)", sc(b.t, SYS_openat, AT_FDCWD, name, O_RDWR, 0, 0, 0));
	long a = tour_call(t, "mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)",
			   sc(b.t, SYS_mmap, 0, PG, RW, MAP_SHARED, fd, 0));
	tour_show(t, b.t, 0, "maps", "greeting");
	pm_access(b.t, (uint64_t)a, "HELLO", 5, PM_WRITE, NULL);
	tour_call(t, "msync(addr, 4096, MS_SYNC)", sc(b.t, SYS_msync, a, PG, MS_SYNC, 0, 0, 0));
	char host[64] = "";
	f = fopen(path, "r");
	if (f) {
		if (!fgets(host, sizeof(host), f))
			host[0] = '\0';
		fclose(f);
	}
	host[strcspn(host, "\n")] = '\0';
	tour_say(t, "the host file now reads: %s", host);
	tour_check(t, strncmp(host, "HELLO from the host", 19) == 0, "a shared store reached the host file");
	pm_system_destroy(b.sys);
	unlink(path);
	rmdir(root);
	return t->failed_checks == before;
}

int tour_mremap_mseal(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "mremap and mseal", "mremap moves memory by relinking page tables, never by copying pages. mseal makes\n"
		     "a mapping immutable: every change is EPERM, and a refused call changes nothing (SPEC §9).");
	struct box b = box(13, NULL, USER);
	long src = 0x300000000000L, dst = 0x310000000000L;
	sc(b.t, SYS_mmap, src, 4L << 20, RW, ANON | MAP_FIXED, -1, 0);
	poke(b.t, src + 12345, 42);
	tour_call(t, "mremap(src, 4 MiB, 4 MiB, MREMAP_MAYMOVE|MREMAP_FIXED, dst)",
		  sc(b.t, SYS_mremap, src, 4L << 20, 4L << 20, MREMAP_MAYMOVE | MREMAP_FIXED, dst, 0));
	tour_check(t, peek(b.t, dst + 12345) == 42 && peek(b.t, src) < 0, "the data moved with its page tables");
	sc(b.t, SYS_mmap, W, 3 * PG, RW, ANON | MAP_FIXED, -1, 0);
	tour_call(t, "mseal(0x200000001000, 1 page, 0)", sc(b.t, 462, W + PG, PG, 0, 0, 0, 0));
	long r1 = tour_call(t, "munmap(0x200000000000, 3 pages)", sc(b.t, SYS_munmap, W, 3 * PG, 0, 0, 0, 0));
	long r2 = tour_call(t, "mprotect(0x200000000000, 3 pages, PROT_READ)", sc(b.t, SYS_mprotect, W, 3 * PG, PROT_READ, 0, 0, 0));
	long r3 = tour_call(t, "madvise(0x200000001000, 1 page, MADV_DONTNEED)", sc(b.t, SYS_madvise, W + PG, PG, MADV_DONTNEED, 0, 0, 0));
	tour_show(t, b.t, 0, "maps", "20000000");
	tour_check(t, r1 == -EPERM && r2 == -EPERM && r3 == -EPERM, "sealed memory refuses, and nothing changed");
	pm_system_destroy(b.sys);
	return t->failed_checks == before;
}

int tour_pkeys_hugetlb(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Protection keys and huge pages", "A protection key tags pages; each thread's PKRU says what it may do with each\n"
		     "key, and the software MMU raises SEGV_PKUERR. Hugetlb pages come from pools the\n"
		     "registry sizes, reserved at mmap time.");
	struct box b = box(14, NULL, "system");
	long k = tour_call(t, "pkey_alloc(0, PKEY_DISABLE_WRITE)", sc(b.t, SYS_pkey_alloc, 0, PKEY_DISABLE_WRITE, 0, 0, 0, 0));
	sc(b.t, SYS_mmap, W, PG, RW, ANON | MAP_FIXED, -1, 0);
	tour_call(t, "pkey_mprotect(0x200000000000, 4096, PROT_READ|PROT_WRITE, key)", sc(b.t, SYS_pkey_mprotect, W, PG, RW, k, 0, 0));
	pm_siginfo si;
	uint8_t v = 1;
	long r = pm_access(b.t, W, &v, 1, PM_WRITE, &si);
	tour_say(t, "a write -> %s: SIGSEGV (%d), si_code %s, pkey %d", r < 0 ? "fault" : "ok",
		 si.signo, si.code == SEGV_PKUERR ? "SEGV_PKUERR" : "other", si.pkey);
	tour_check(t, r < 0 && si.code == SEGV_PKUERR && si.pkey == k, "PKRU forbids the write");
	tour_call(t, "SYSTEM: pm_registry_set(NrHugepages2M, 2)", pm_registry_set(b.t, "NrHugepages2M", 2));
	long h = tour_call(t, "mmap(NULL, 2 MiB, RW, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB)",
			   sc(b.t, SYS_mmap, 0, 2L << 20, RW, ANON | MAP_HUGETLB, -1, 0));
	poke(b.t, (uint64_t)h, 1);
	tour_show(t, b.t, -1, "meminfo", "HugePages");
	tour_check(t, h > 0, "a 2 MiB page from the pool");
	pm_system_destroy(b.sys);
	return t->failed_checks == before;
}
