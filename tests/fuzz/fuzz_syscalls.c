/*
 * The fuzz target (DESIGN "Testing"): bytes become a sequence of syscalls in up to six
 * processes of one small system, with impersonation, registry changes, cross-process calls
 * and daemon ticks mixed in (32 MiB, so allocation failure paths run too), with
 * pm_check_invariants() after every call and, at the end, every process exited and every
 * frame back on the free lists. Any broken invariant or leaked frame aborts, which is what
 * a fuzzer reports. Results and errnos are not judged here: the differential test does that
 * against the host kernel; this target looks for crashes, sanitizer reports and
 * inconsistent state on paths no hand-written test reaches.
 *
 * Built two ways: with clang's libFuzzer (make fuzz) through LLVMFuzzerTestOneInput, and
 * into the ordinary test binary, where tests/fuzz/test_fuzz_replay.c feeds it seeded random
 * inputs on every make check.
 */
#include "fuzz_syscalls.h"

#include <linux/mman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <peimm.h>

#define FZ_PAGE 4096L
#define FZ_ARENA 0x100000000000L	/* a window far from the top-down mmap area */
#define FZ_PAGES 64
#define FZ_PROCS 6
#define FZ_TOKEN "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium " \
		 "privs=SeLockMemoryPrivilege:enabled"

struct fz {
	const uint8_t *data;
	size_t len, pos;
	pm_system *sys;
	pm_thread *admin;	/* a SYSTEM process that changes registry values */
	pm_token *client;	/* another user, for impersonation */
	int pids[FZ_PROCS];	/* 0 = free slot */
	int nprocs;
	long calls, ok;		/* syscalls made, and how many succeeded (PEIMM_FUZZ_STATS) */
};

static unsigned fz_byte(struct fz *f)
{
	return f->pos < f->len ? f->data[f->pos++] : 0;
}

/* An address in the arena, sometimes unaligned or outside it, to reach the error paths. */
static long fz_addr(struct fz *f)
{
	unsigned b = fz_byte(f);
	long a = FZ_ARENA + (long)(b % FZ_PAGES) * FZ_PAGE;
	if (b >= 250)
		return b == 255 ? 0 : a + 123;
	return a;
}

static long fz_len(struct fz *f)
{
	unsigned b = fz_byte(f);
	if (b >= 252)
		return b == 255 ? 0 : b == 254 ? (1L << 40) : 100;
	return (long)(b % 16 + 1) * FZ_PAGE;
}

static long fz_prot(struct fz *f)
{
	return (long)(fz_byte(f) % 8);	/* READ, WRITE, EXEC combinations (W^X refuses some) */
}

static pm_thread *fz_thread(struct fz *f, int *slot)
{
	unsigned b = fz_byte(f);
	for (int i = 0; i < FZ_PROCS; i++) {
		int s = (int)((b + (unsigned)i) % FZ_PROCS);
		pm_thread *t = f->pids[s] ? pm_thread_of(f->sys, f->pids[s]) : NULL;
		if (t) {
			*slot = s;
			return t;
		}
		f->pids[s] = 0;
	}
	return NULL;
}

static struct fz *fz_current;	/* for sc's counters; the fuzzer runs one input at a time */

static long sc(pm_thread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long r = pm_syscall(t, nr, a1, a2, a3, a4, a5, a6);
	fz_current->calls++;
	fz_current->ok += r >= 0;
	return r;
}

static void fz_mmap(struct fz *f, pm_thread *t)
{
	static const long extra[] = { 0, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE,
		MAP_NORESERVE, MAP_LOCKED, MAP_GROWSDOWN, MAP_FIXED | MAP_POPULATE };
	long addr = fz_addr(f), len = fz_len(f), prot = fz_prot(f);
	unsigned b = fz_byte(f);
	long flags = ((b & 1) ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | extra[(b >> 1) % 8];
	sc(t, SYS_mmap, addr, len, prot, flags, -1, 0);
}

static void fz_madvise(struct fz *f, pm_thread *t)
{
	static const long advice[] = { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE,
		MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP,
		MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, 22 /* POPULATE_READ */,
		23 /* POPULATE_WRITE */, 24 /* DONTNEED_LOCKED */, 25 /* COLLAPSE */,
		102 /* GUARD_INSTALL */, 103 /* GUARD_REMOVE */, 999 };
	long addr = fz_addr(f), len = fz_len(f);
	sc(t, SYS_madvise, addr, len, advice[fz_byte(f) % (sizeof(advice) / sizeof(advice[0]))], 0, 0, 0);
}

static void fz_mremap(struct fz *f, pm_thread *t)
{
	static const long flags[] = { 0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED,
		MREMAP_MAYMOVE | MREMAP_DONTUNMAP, MREMAP_FIXED };
	long old = fz_addr(f), oldlen = fz_len(f), newlen = fz_len(f), to = fz_addr(f);
	sc(t, SYS_mremap, old, oldlen, newlen, flags[fz_byte(f) % 5], to, 0);
}

static void fz_access(struct fz *f, pm_thread *t)
{
	static const int how[] = { PM_READ, PM_WRITE, PM_EXEC };
	uint8_t buf[64];
	unsigned b = fz_byte(f);
	memset(buf, (int)b, sizeof(buf));
	long va = fz_addr(f) + (long)(fz_byte(f) % 64) * 64;
	pm_siginfo si;
	pm_access(t, (uint64_t)va, buf, 1 + b % sizeof(buf), how[b % 3], &si);
}

static void fz_lock(struct fz *f, pm_thread *t)
{
	long addr = fz_addr(f), len = fz_len(f);
	switch (fz_byte(f) % 6) {
	case 0: sc(t, SYS_mlock, addr, len, 0, 0, 0, 0); break;
	case 1: sc(t, SYS_munlock, addr, len, 0, 0, 0, 0); break;
	case 2: sc(t, SYS_mlock2, addr, len, 1 /* MLOCK_ONFAULT */, 0, 0, 0); break;
	case 3: sc(t, SYS_mlockall, MCL_CURRENT | MCL_ONFAULT, 0, 0, 0, 0, 0); break;
	case 4: sc(t, SYS_munlockall, 0, 0, 0, 0, 0, 0); break;
	default: sc(t, PM_SYS_mseal, addr, len, 0, 0, 0, 0); break;
	}
}

static void fz_pkey(struct fz *f, pm_thread *t)
{
	unsigned b = fz_byte(f);
	long addr = fz_addr(f), len = fz_len(f);
	if (b % 3 == 0)
		sc(t, SYS_pkey_alloc, 0, b % 4, 0, 0, 0, 0);
	else if (b % 3 == 1)
		sc(t, SYS_pkey_mprotect, addr, len, fz_prot(f), (long)(b % 17), 0, 0);
	else
		sc(t, SYS_pkey_free, (long)(b % 17), 0, 0, 0, 0, 0);
}

static void fz_memfd(struct fz *f, pm_thread *t)
{
	uint64_t name = pm_scratch(t, "fz", 3);
	long fd = sc(t, SYS_memfd_create, (long)name, 0, 0, 0, 0, 0);
	if (fd < 0)
		return;
	long len = fz_len(f);
	sc(t, SYS_ftruncate, fd, len, 0, 0, 0, 0);
	long prot = fz_prot(f), shared = fz_byte(f) & 1 ? MAP_SHARED : MAP_PRIVATE;
	sc(t, SYS_mmap, fz_addr(f), len, prot, shared | MAP_FIXED, fd, 0);
	sc(t, SYS_close, fd, 0, 0, 0, 0, 0);
}

static void fz_cross(struct fz *f, pm_thread *t)
{
	int slot;
	pm_thread *other = fz_thread(f, &slot);
	if (!other)
		return;
	long remote = fz_addr(f), n = 1 + fz_byte(f) % 200;
	static const uint8_t zeros[256];
	uint64_t local[2] = { pm_scratch(t, zeros, (size_t)n), (uint64_t)n };
	uint64_t riov[2] = { (uint64_t)remote, (uint64_t)n };
	uint64_t l = pm_scratch(t, local, sizeof(local)), r = pm_scratch(t, riov, sizeof(riov));
	long nr = fz_byte(f) & 1 ? SYS_process_vm_writev : SYS_process_vm_readv;
	sc(t, nr, pm_pid(other), (long)l, 1, (long)r, 1, 0);
}

static void fz_fork_or_exit(struct fz *f, pm_thread *t, int slot)
{
	unsigned b = fz_byte(f);
	if (b % 3 == 0 && f->nprocs > 1) {
		sc(t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
		f->pids[slot] = 0;
		f->nprocs--;
		return;
	}
	if (b % 3 == 2) {
		sc(t, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, (b >> 2) & 1, 0, 0, 0, 0);
		return;
	}
	for (int i = 0; i < FZ_PROCS; i++) {
		if (f->pids[i])
			continue;
		long pid = sc(t, SYS_fork, 0, 0, 0, 0, 0, 0);
		if (pid > 0) {
			f->pids[i] = (int)pid;
			f->nprocs++;
		}
		return;
	}
}

/* Impersonation on and off (another user: the thread loses its own gates), or a registry
 * change from the SYSTEM process (the applier pushes it into the live system). */
static void fz_identity(struct fz *f, pm_thread *t)
{
	static const struct { const char *name; long lo, hi; } knobs[] = {
		{ "OvercommitMemory", 0, 2 }, { "Swappiness", 0, 200 }, { "KsmRun", 0, 2 },
		{ "KsmPagesToScan", 1, 1000 }, { "ThpEnabled", 0, 2 },
		{ "DynamicCodeOptIn", 0, 1 }, { "MaxMapCount", 64, 65530 },
		{ "RandomizeVaSpace", 0, 2 }, { "DirtyExpireCentisecs", 0, 3000 },
	};
	unsigned b = fz_byte(f);
	if (b % 3 == 0) {
		pm_impersonate(t, f->client);
	} else if (b % 3 == 1) {
		pm_revert(t);
	} else {
		unsigned k = fz_byte(f) % (sizeof(knobs) / sizeof(knobs[0]));
		char path[96];
		snprintf(path, sizeof(path), "Machine\\System\\Memory\\%s", knobs[k].name);
		long v = knobs[k].lo + (long)(fz_byte(f) * 257u % (unsigned)(knobs[k].hi - knobs[k].lo + 1));
		pm_registry_set(f->admin, path, v);
	}
}

static void fz_step(struct fz *f)
{
	int slot;
	pm_thread *t = fz_thread(f, &slot);
	if (!t)
		return;
	switch (fz_byte(f) % 15) {
	case 0: case 1: fz_mmap(f, t); break;
	case 2: sc(t, SYS_munmap, fz_addr(f), fz_len(f), 0, 0, 0, 0); break;
	case 3: sc(t, SYS_mprotect, fz_addr(f), fz_len(f), fz_prot(f), 0, 0, 0); break;
	case 4: fz_madvise(f, t); break;
	case 5: fz_mremap(f, t); break;
	case 6: case 7: fz_access(f, t); break;
	case 8: fz_lock(f, t); break;
	case 9: fz_pkey(f, t); break;
	case 10: fz_memfd(f, t); break;
	case 11: fz_cross(f, t); break;
	case 12: fz_fork_or_exit(f, t, slot); break;
	case 13: fz_identity(f, t); break;
	default: {
		long cur = sc(t, SYS_brk, 0, 0, 0, 0, 0, 0);
		sc(t, SYS_brk, cur + ((long)(fz_byte(f) % 9) - 4) * FZ_PAGE, 0, 0, 0, 0, 0);
		pm_system_tick(f->sys, fz_byte(f) % 4);
	}
	}
}

static void fz_die(struct fz *f, const char *what)
{
	fprintf(stderr, "fuzz: %s after %zu of %zu input bytes\n", what, f->pos, f->len);
	abort();
}

int pm_fuzz_one(const uint8_t *data, size_t len)
{
	struct fz f = { .data = data, .len = len };
	fz_current = &f;
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 32ULL << 20;
	cfg.seed = 1 + (len ? data[0] : 0);
	f.sys = pm_system_create(&cfg);
	if (!f.sys)
		return 0;
	int err;
	pm_token *tok = pm_token_parse(f.sys, FZ_TOKEN, &err);
	pm_thread *first = tok ? pm_spawn(f.sys, tok, NULL) : NULL;
	pm_token_put(tok);
	pm_token *sys_tok = pm_token_parse(f.sys, "system", &err);
	f.admin = sys_tok ? pm_spawn(f.sys, sys_tok, NULL) : NULL;
	pm_token_put(sys_tok);
	f.client = pm_token_parse(f.sys, "user=S-1-5-21-1-1002 groups=S-1-1-0 il=medium", &err);
	if (!first || !f.admin || !f.client)
		fz_die(&f, "cannot spawn the first processes");
	f.pids[0] = pm_pid(first);
	f.nprocs = 1;
	while (f.pos < f.len) {
		fz_step(&f);
		if (pm_check_invariants(f.sys))
			fz_die(&f, "pm_check_invariants failed");
	}
	for (int i = 0; i < FZ_PROCS; i++) {
		pm_thread *t = f.pids[i] ? pm_thread_of(f.sys, f.pids[i]) : NULL;
		if (t)
			sc(t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	}
	sc(f.admin, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	pm_token_put(f.client);
	pm_system_tick(f.sys, 1);	/* the reaper frees killed processes */
	pm_sysinfo info;
	pm_system_info(f.sys, &info);
	if (info.free_frames != info.total_frames - info.kernel_frames - info.pool_frames ||
	    info.nr_processes != 0)
		fz_die(&f, "frames or processes left after every process exited");
	pm_system_destroy(f.sys);
	if (getenv("PEIMM_FUZZ_STATS"))
		fprintf(stderr, "fuzz: %zu bytes, %ld calls, %ld succeeded\n", len, f.calls, f.ok);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return pm_fuzz_one(data, size);
}
