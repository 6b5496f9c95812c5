/*
 * mlock family, mseal, protection keys, mincore and the rlimit calls: argument validation,
 * the quota and its privilege, sealing refusing everything that would change a sealed VMA
 * while changing nothing, and PKRU enforcement by the software MMU (SPEC §9, §10).
 */
#include "pm_test.h"

#define W 0x200000000000L
#define MSEAL 462

static const char *status(pm_thread *t) { return proc_text(t, 0, "status"); }

/* mlock locks and populates; VmLck follows; munlock undoes; mlock2 rejects unknown flags;
 * MLOCK_ONFAULT locks without populating (SPEC §10). */
TEST(mlock_locks_populates_and_unlocks)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_mlock, W + 100, PG, 0, 0, 0, 0), 0);	/* rounds to 2 pages */
	EXPECT_TRUE(strstr(status(e.t), "VmLck:\t       8 kB") != NULL);
	EXPECT_TRUE(strstr(status(e.t), "RssAnon:\t       8 kB") != NULL);
	EXPECT_EQ(maps_count(e.t, "2000000"), 2);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, MADV_DONTNEED, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_munlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(status(e.t), "VmLck:\t       0 kB") != NULL);
	EXPECT_EQ(maps_count(e.t, "2000000"), 1);
	EXPECT_ERRNO(SC(e.t, SYS_mlock2, W, PG, 2, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_mlock2, W + 2 * PG, 2 * PG, MLOCK_ONFAULT, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(status(e.t), "VmLck:\t       8 kB") != NULL);
	EXPECT_TRUE(strstr(status(e.t), "RssAnon:\t       8 kB") != NULL);	/* only the first mlock's */
	EXPECT_ERRNO(SC(e.t, SYS_mlock, W + 8 * PG, PG, 0, 0, 0, 0), -ENOMEM);	/* unmapped */
	env_close(&e);
}

/* The quota is RLIMIT_MEMLOCK: over it ENOMEM, at 0 EPERM; SeLockMemoryPrivilege, enabled,
 * lifts both (SPEC §10). */
TEST(mlock_quota_and_selockmemory)
{
	struct env e = env_open();
	long big = do_mmap(e.t, 0, 9 * MiB, RW, ANON);
	EXPECT_ERRNO(SC(e.t, SYS_mlock, big, 9 * MiB, 0, 0, 0, 0), -ENOMEM);
	uint64_t zero[2] = { 0, 0 };
	EXPECT_EQ(SC(e.t, SYS_setrlimit, RLIMIT_MEMLOCK, (long)pm_scratch(e.t, zero, 16), 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_mlock, big, PG, 0, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(e.t, SYS_mlockall, MCL_CURRENT, 0, 0, 0, 0, 0), -EPERM);
	int err;
	pm_token *lm = pm_token_parse(e.sys, "user=S-1-5-21-1-1001 privs=SeLockMemoryPrivilege:enabled", &err);
	pm_thread *p = pm_spawn(e.sys, lm, NULL);
	long b2 = do_mmap(p, 0, 9 * MiB, RW, ANON);
	EXPECT_EQ(SC(p, SYS_mlock, b2, 9 * MiB, 0, 0, 0, 0), 0);
	pm_token_put(lm);
	env_close(&e);
}

/* mlockall: flag validation, MCL_CURRENT locks what exists, MCL_FUTURE what comes next;
 * munlockall clears both. */
TEST(mlockall_current_and_future)
{
	struct env e = env_open();
	EXPECT_ERRNO(SC(e.t, SYS_mlockall, 0, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_mlockall, MCL_ONFAULT, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_mlockall, 8, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_mlockall, MCL_FUTURE, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_TRUE(strstr(status(e.t), "VmLck:\t       8 kB") != NULL);
	EXPECT_EQ(SC(e.t, SYS_munlockall, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(status(e.t), "VmLck:\t       0 kB") != NULL);
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, PG, RW, ANON | MAP_FIXED), W + 4 * PG);
	EXPECT_TRUE(strstr(status(e.t), "VmLck:\t       0 kB") != NULL);
	EXPECT_EQ(SC(e.t, SYS_mlockall, MCL_CURRENT, 0, 0, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(status(e.t), "VmLck:\t       0 kB") == NULL);
	env_close(&e);
}

/* mseal's own errnos: flags, alignment, holes; len 0 and resealing are no-ops (SPEC §9). */
TEST(mseal_validates_and_seals)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_ERRNO(SC(e.t, MSEAL, W, PG, 1, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, MSEAL, W + 1, PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, MSEAL, W, 8 * PG, 0, 0, 0, 0), -ENOMEM);
	EXPECT_EQ(SC(e.t, MSEAL, W, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, MSEAL, W + PG, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, MSEAL, W + PG, PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(maps_count(e.t, "2000000"), 3);	/* sealing split the VMA */
	env_close(&e);
}

/* Every change to a sealed VMA is EPERM and changes nothing, even for the unsealed parts of
 * the range; reads and permitted writes still work (SPEC §9).
 *   AsA: munmap/mprotect/MAP_FIXED/DONTNEED over all three pages -> EPERM, still AsA */
TEST(sealed_vmas_refuse_every_change)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 3 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 3; i++)
		poke(e.t, W + i * PG, 0x10 + i);
	EXPECT_EQ(SC(e.t, MSEAL, W + PG, PG, 0, 0, 0, 0), 0);
	static char before[1 << 20];
	strcpy(before, proc_text(e.t, 0, "maps"));
	EXPECT_ERRNO(SC(e.t, SYS_munmap, W, 3 * PG, 0, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W, 3 * PG, PROT_READ, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(do_mmap(e.t, W, 3 * PG, RW, ANON | MAP_FIXED), -EPERM);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, 3 * PG, MADV_DONTNEED, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(e.t, SYS_pkey_mprotect, W, 3 * PG, PROT_READ, 0, 0, 0), -EPERM);
	EXPECT_STREQ(proc_text(e.t, 0, "maps"), before);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(peek(e.t, W + i * PG), 0x10 + i);
	EXPECT_EQ(poke(e.t, W + PG, 0x77), 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, MADV_RANDOM, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, PG, 0, 0, 0, 0), 0);	/* the unsealed part alone */
	env_close(&e);
}

/* pkey_alloc hands out 1..15 then ENOSPC; bad flags or rights are EINVAL; pkey_free of a
 * free key is EINVAL; pkey_mprotect needs an allocated key (SPEC §10). */
TEST(pkey_allocation_rules)
{
	struct env e = env_open();
	EXPECT_ERRNO(SC(e.t, SYS_pkey_alloc, 1, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_pkey_alloc, 0, 4, 0, 0, 0, 0), -EINVAL);
	for (long k = 1; k <= 15; k++)
		EXPECT_EQ(SC(e.t, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0), k);
	EXPECT_ERRNO(SC(e.t, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0), -ENOSPC);
	EXPECT_EQ(SC(e.t, SYS_pkey_free, 7, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_pkey_free, 7, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_pkey_free, 16, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_ERRNO(SC(e.t, SYS_pkey_mprotect, W, PG, RW, 7, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0), 7);
	EXPECT_EQ(SC(e.t, SYS_pkey_mprotect, W, PG, RW, 7, 0, 0), 0);
	env_close(&e);
}

/* The software MMU enforces PKRU: a key allocated with PKEY_DISABLE_WRITE allows reads and
 * faults writes with SEGV_PKUERR and si_pkey; DISABLE_ACCESS faults reads too. */
TEST(pkru_is_enforced_with_segv_pkuerr)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	poke(e.t, W, 1);
	poke(e.t, W + PG, 2);
	long kw = SC(e.t, SYS_pkey_alloc, 0, PKEY_DISABLE_WRITE, 0, 0, 0, 0);
	long ka = SC(e.t, SYS_pkey_alloc, 0, PKEY_DISABLE_ACCESS, 0, 0, 0, 0);
	EXPECT_EQ(SC(e.t, SYS_pkey_mprotect, W, PG, RW, kw, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_pkey_mprotect, W + PG, PG, RW, ka, 0, 0), 0);
	EXPECT_EQ(peek(e.t, W), 1);
	pm_siginfo si;
	uint8_t b = 9;
	EXPECT_ERRNO(pm_access(e.t, W, &b, 1, PM_WRITE, &si), -EFAULT);
	EXPECT_EQ(si.code, SEGV_PKUERR);
	EXPECT_EQ(si.pkey, kw);
	EXPECT_ERRNO(pm_access(e.t, W + PG, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.code, SEGV_PKUERR);
	EXPECT_EQ(si.pkey, ka);
	EXPECT_EQ(pm_access(e.t, W + PG, &b, 1, PM_EXEC, &si), -EFAULT);	/* not executable anyway */
	EXPECT_EQ(si.code, SEGV_ACCERR);
	env_close(&e);
}

/* A PKU fault on a page not yet faulted in reports the VMA's key in si_pkey, and no
 * frame is allocated for the refused access. */
TEST(pkey_fault_on_an_untouched_page_reports_the_key)
{
	struct env e = env_open();
	long k = SC(e.t, SYS_pkey_alloc, 0, PKEY_DISABLE_ACCESS, 0, 0, 0, 0);
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_pkey_mprotect, W, PG, RW, k, 0, 0), 0);
	pm_siginfo si;
	uint8_t b;
	EXPECT_ERRNO(pm_access(e.t, W, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.code, SEGV_PKUERR);
	EXPECT_EQ(si.pkey, k);
	EXPECT_TRUE(strstr(status(e.t), "RssAnon:\t       0 kB") != NULL);
	env_close(&e);
}

/* mincore: one byte per page, touched anonymous pages resident, untouched not; its errnos. */
TEST(mincore_reports_residency)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	poke(e.t, W + 2 * PG, 1);
	peek(e.t, W + 3 * PG);	/* the zero page counts as resident */
	uint64_t vec = pm_scratch(e.t, "\xff\xff\xff\xff", 4);
	EXPECT_EQ(SC(e.t, SYS_mincore, W, 4 * PG, vec, 0, 0, 0), 0);
	uint8_t v[4];
	pm_access(e.t, vec, v, 4, PM_READ, NULL);
	EXPECT_TRUE(v[0] == 0 && v[1] == 0 && v[2] == 1 && v[3] == 1);
	EXPECT_ERRNO(SC(e.t, SYS_mincore, W + 1, PG, vec, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_mincore, W, 8 * PG, vec, 0, 0, 0), -ENOMEM);
	EXPECT_ERRNO(SC(e.t, SYS_mincore, W, PG, 0x10, 0, 0, 0), -EFAULT);
	env_close(&e);
}

/* getrlimit/setrlimit/prlimit64: soft above hard is EINVAL; raising the hard limit needs
 * SeIncreaseQuotaPrivilege; RLIMIT_AS is enforced by mmap (SPEC §8). */
TEST(rlimits_are_validated_and_enforced)
{
	struct env e = env_open();
	uint64_t r[2];
	uint64_t buf = pm_scratch(e.t, r, 16);
	EXPECT_EQ(SC(e.t, SYS_getrlimit, RLIMIT_STACK, buf, 0, 0, 0, 0), 0);
	pm_access(e.t, buf, r, 16, PM_READ, NULL);
	EXPECT_EQ(r[0], 8 * MiB);
	uint64_t bad[2] = { 2 * MiB, MiB };
	EXPECT_ERRNO(SC(e.t, SYS_setrlimit, RLIMIT_AS, pm_scratch(e.t, bad, 16), 0, 0, 0, 0), -EINVAL);
	uint64_t as[2] = { 64 * MiB, 64 * MiB };
	EXPECT_EQ(SC(e.t, SYS_setrlimit, RLIMIT_AS, pm_scratch(e.t, as, 16), 0, 0, 0, 0), 0);
	EXPECT_ERRNO(do_mmap(e.t, 0, 64 * MiB, RW, ANON), -ENOMEM);
	uint64_t up[2] = { 128 * MiB, 128 * MiB };
	EXPECT_ERRNO(SC(e.t, SYS_prlimit64, 0, RLIMIT_AS, pm_scratch(e.t, up, 16), 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(e.t, SYS_getrlimit, 99, buf, 0, 0, 0, 0), -EINVAL);
	env_close(&e);
}

/* Found by the differential test against Linux 6.18: mprotect that makes lock-on-fault
 * memory writable does not populate it (populate_vma_page_range skips VM_LOCKONFAULT). */
TEST(mprotect_to_writable_does_not_populate_lock_on_fault_memory)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, PROT_READ, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_mlock2, W, 4 * PG, 1 /* MLOCK_ONFAULT */, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W, 4 * PG, RW, 0, 0, 0), 0);
	uint64_t vec = pm_scratch(e.t, "\xff\xff\xff\xff", 4);
	EXPECT_EQ(SC(e.t, SYS_mincore, W, 4 * PG, vec, 0, 0, 0), 0);
	uint8_t v[4];
	pm_access(e.t, vec, v, 4, PM_READ, NULL);
	EXPECT_EQ(v[0] | v[1] | v[2] | v[3], 0);
	env_close(&e);
}

/* A shrinking mremap unmaps only its tail: a seal in the part it keeps does not refuse it
 * (as Linux), a seal in the tail does (SPEC §9, nothing changes). */
TEST(shrinking_mremap_checks_seals_only_in_the_tail_it_cuts)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 10 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, PM_SYS_mseal, W + PG, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_mremap, W, 10 * PG, 4 * PG, 0, 0, 0), W);
	EXPECT_EQ(maps_count(e.t, "200000004000-"), 0);	/* the tail is gone */
	EXPECT_ERRNO(SC(e.t, SYS_mremap, W, 4 * PG, PG, 0, 0, 0), -EPERM);
	EXPECT_EQ(maps_count(e.t, "200000003000-200000004000"), 1);	/* nothing changed */
	env_close(&e);
}
