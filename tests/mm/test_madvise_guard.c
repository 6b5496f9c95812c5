/*
 * Guard regions (MADV_GUARD_INSTALL / MADV_GUARD_REMOVE, SPEC §6, Linux 6.13+): PTE markers
 * that make any access SIGSEGV (SEGV_MAPERR, as Linux 6.18 reports) without faulting a
 * page in or changing /proc maps. DONTNEED keeps them, fork copies them, munmap drops them,
 * GUARD_REMOVE clears only them.
 */
#include "pm_test.h"

#define W 0x200000000000L

static void expect_guard_fault(pm_thread *t, uint64_t va, int how)
{
	pm_siginfo si = { 0 };
	uint8_t b = 0;
	EXPECT_ERRNO(pm_access(t, va, &b, 1, how, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGSEGV);
	EXPECT_EQ(si.code, SEGV_MAPERR);
	EXPECT_EQ(si.addr, va);
}

/*   before  [a][b][c][d]   install on page 1   [a][G][c][d]   maps: one line, unchanged */
TEST(guard_page_access_is_segv_without_faulting_a_page_in)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(poke(e.t, W + i * PG, (uint8_t)(0x10 + i)), 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, 102 /* MADV_GUARD_INSTALL */, 0, 0, 0), 0);
	expect_guard_fault(e.t, W + PG + 7, PM_READ);
	expect_guard_fault(e.t, W + PG, PM_WRITE);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "RssAnon:\t      12 kB") != NULL);
	EXPECT_EQ(maps_count(e.t, "200000000000-200000004000"), 1);
	EXPECT_EQ(peek(e.t, W), 0x10);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 0x12);
	/* mincore: a guard is not resident; MADV_POPULATE_READ cannot fault it (EFAULT). */
	long vec = (long)pm_scratch(e.t, "????", 4);
	EXPECT_EQ(SC(e.t, SYS_mincore, W, 4 * PG, vec, 0, 0, 0), 0);
	uint8_t v[4];
	EXPECT_EQ(pm_access(e.t, (uint64_t)vec, v, 4, PM_READ, NULL), 4);
	EXPECT_EQ(v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], 1011);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, 4 * PG, MADV_POPULATE_READ, 0, 0, 0), -EFAULT);
	env_close(&e);
}

/* MADV_DONTNEED zaps pages but keeps guards; a fork child inherits them, and removing
 * them in the child leaves the parent's. */
TEST(guard_survives_dontneed_and_fork)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, 2 * PG, 102, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	expect_guard_fault(e.t, W + 2 * PG, PM_READ);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	expect_guard_fault(c, W + PG, PM_READ);
	EXPECT_EQ(SC(c, SYS_madvise, W, 4 * PG, 103 /* MADV_GUARD_REMOVE */, 0, 0, 0), 0);
	EXPECT_EQ(poke(c, W + PG, 1), 1);
	expect_guard_fault(e.t, W + PG, PM_WRITE);
	env_close(&e);
}

/* Guards in shared and file-backed private mappings are copied by fork too (the child has
 * no page tables of its own for them otherwise). */
TEST(guard_in_shared_mapping_is_inherited)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	EXPECT_EQ(poke(e.t, W, 9), 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, 102, 0, 0, 0), 0);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	expect_guard_fault(c, W + PG, PM_READ);
	EXPECT_EQ(peek(c, W), 9);
	env_close(&e);
}

/*   [a][G][c]  GUARD_REMOVE over all three  [a][ ][c]: data of a and c untouched */
TEST(guard_remove_clears_only_markers)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 3 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(poke(e.t, W, 0xa1), 1);
	EXPECT_EQ(poke(e.t, W + PG, 0xb2), 1);
	EXPECT_EQ(poke(e.t, W + 2 * PG, 0xc3), 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, 102, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 3 * PG, 103, 0, 0, 0), 0);
	EXPECT_EQ(peek(e.t, W), 0xa1);
	EXPECT_EQ(peek(e.t, W + PG), 0);		/* installing discarded the page */
	EXPECT_EQ(peek(e.t, W + 2 * PG), 0xc3);
	env_close(&e);
}

/* munmap drops guards: a new mapping at the same place is ordinary memory. */
TEST(munmap_drops_guards)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 2 * PG, 102, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(poke(e.t, W + PG, 3), 1);
	EXPECT_EQ(peek(e.t, W + PG), 3);
	env_close(&e);
}

/* is_valid_guard_vma (Linux 6.18): installing over mlocked memory is EINVAL, removing is
 * allowed; a PROT_NONE range reports SEGV_ACCERR first, as the VMA check comes first. */
TEST(guard_install_refuses_locked_memory)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED | MAP_LOCKED), W);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, 102, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, PG, 103, 0, 0, 0), 0);
	EXPECT_EQ(do_mmap(e.t, W + 2 * PG, PG, PROT_NONE, ANON | MAP_FIXED), W + 2 * PG);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 2 * PG, PG, 102, 0, 0, 0), 0);
	pm_siginfo si = { 0 };
	uint8_t b;
	EXPECT_ERRNO(pm_access(e.t, W + 2 * PG, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.code, SEGV_ACCERR);
	env_close(&e);
}

/* Found by the differential test against Linux 6.18: VM_MAYBE_GUARD is one of the flags
 * anon identity borrowing ignores (VM_IGNORE_MERGE), so two neighbours guarded one after
 * the other share an identity and merge once mprotect makes their flags equal. */
TEST(guarded_neighbours_share_an_anon_identity_and_merge_after_mprotect)
{
	struct env e = env_open();
	const long B = 0x200000000000L;
	EXPECT_EQ(do_mmap(e.t, B + 0xd000, 0xa000, PROT_READ, ANON | MAP_FIXED | MAP_POPULATE), B + 0xd000);
	EXPECT_EQ(do_mmap(e.t, B + 0x14000, 0x5000, PROT_READ | PROT_EXEC,
			  ANON | MAP_FIXED | MAP_POPULATE), B + 0x14000);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, B + 0x10000, 0xe000, 102 /* GUARD_INSTALL */, 0, 0, 0), -ENOMEM);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, B + 0x10000, 0xc000, PROT_EXEC, 0, 0, 0), -ENOMEM);
	EXPECT_EQ(maps_count(e.t, "200000010000-200000019000 --xp"), 1);
	env_close(&e);
}
