/*
 * fork, vfork and clone (SPEC §3): the child's address space is a copy-on-write copy at the
 * page-table level; shared mappings stay shared; MADV_DONTFORK ranges are absent and
 * MADV_WIPEONFORK ones zero in the child; locks and MCL_FUTURE are not inherited; PKRU is;
 * threads share the mm; vfork children share it until they go.
 */
#include <sched.h>

#include "pm_test.h"

#define W 0x200000000000L

static const char *status_of(pm_thread *t) { return proc_text(t, 0, "status"); }

/* After fork both sides see the parent's bytes; a write on either side is private to it,
 * and frames are shared until then (RSS counts them on both sides). */
TEST(fork_copies_on_write)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 4; i++)
		poke(e.t, W + i * PG, 0x20 + i);
	pm_sysinfo before, after;
	pm_system_info(e.sys, &before);
	long pid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	REQUIRE_EQ(pid > 1, 1);
	pm_thread *c = pm_thread_of(e.sys, (int)pid);
	REQUIRE_EQ(c != NULL, 1);
	pm_system_info(e.sys, &after);
	EXPECT_TRUE(before.free_frames - after.free_frames < 16);	/* tables only, no copies */
	EXPECT_EQ(peek(c, W + PG), 0x21);
	EXPECT_EQ(poke(c, W + PG, 0x99), 1);
	EXPECT_EQ(peek(c, W + PG), 0x99);
	EXPECT_EQ(peek(e.t, W + PG), 0x21);
	EXPECT_EQ(poke(e.t, W + 2 * PG, 0x77), 1);
	EXPECT_EQ(peek(c, W + 2 * PG), 0x22);
	EXPECT_EQ(SC(c, SYS_getppid, 0, 0, 0, 0, 0, 0), pm_pid(e.t));
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Shared anonymous memory stays shared across fork (SPEC §5). */
TEST(shared_memory_stays_shared_after_fork)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	long pid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *c = pm_thread_of(e.sys, (int)pid);
	EXPECT_EQ(poke(c, W, 0x42), 1);
	EXPECT_EQ(peek(e.t, W), 0x42);
	EXPECT_EQ(poke(e.t, W + 1, 0x43), 1);
	EXPECT_EQ(peek(c, W + 1), 0x43);
	env_close(&e);
}

/* DONTFORK ranges are absent in the child, WIPEONFORK ones read zero, and the child's
 * VMAs inherit neither lock (VmLck 0) nor MCL_FUTURE (SPEC §3). */
TEST(fork_honours_dontfork_wipeonfork_and_drops_locks)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(do_mmap(e.t, W + 2 * PG, PG, RW, ANON | MAP_FIXED), W + 2 * PG);
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, PG, RW, ANON | MAP_FIXED | MAP_LOCKED), W + 4 * PG);
	poke(e.t, W, 1);
	poke(e.t, W + 2 * PG, 2);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, PG, MADV_DONTFORK, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 2 * PG, PG, MADV_WIPEONFORK, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_mlockall, MCL_FUTURE, 0, 0, 0, 0, 0), 0);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_ERRNO(peek(c, W), -EFAULT);
	EXPECT_EQ(peek(c, W + 2 * PG), 0);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 2);
	EXPECT_TRUE(strstr(status_of(c), "VmLck:\t       0 kB") != NULL);
	EXPECT_EQ(do_mmap(c, W + 8 * PG, PG, RW, ANON | MAP_FIXED), W + 8 * PG);
	EXPECT_TRUE(strstr(status_of(c), "VmLck:\t       0 kB") != NULL);
	env_close(&e);
}

/* A forked child's inherited VMAs do not merge with each other (LTP vma01): each gets an
 * anon identity of its own. */
TEST(forked_child_keeps_inherited_vmas_apart)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	poke(e.t, W, 1);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W + PG, PG, PROT_READ, 0, 0, 0), 0);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(SC(c, SYS_mprotect, W + PG, PG, RW, 0, 0, 0), 0);
	EXPECT_EQ(maps_count(c, "2000000"), 2);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W + PG, PG, RW, 0, 0, 0), 0);
	EXPECT_EQ(maps_count(e.t, "2000000"), 1);
	env_close(&e);
}

/* Threads share the mm and start with the creator's PKRU (SPEC §10); exit of one thread
 * leaves the others running. */
TEST(clone_thread_shares_the_mm_and_pkru)
{
	struct env e = env_open();
	long key = SC(e.t, SYS_pkey_alloc, 0, PKEY_DISABLE_WRITE, 0, 0, 0, 0);
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_pkey_mprotect, W, PG, RW, key, 0, 0), 0);
	long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	EXPECT_ERRNO(SC(e.t, SYS_clone, CLONE_THREAD, 0, 0, 0, 0, 0), -EINVAL);
	long tid = SC(e.t, SYS_clone, flags, 0, 0, 0, 0, 0);
	REQUIRE_EQ(tid > 0, 1);
	EXPECT_ERRNO(poke(e.t, W, 1), -EFAULT);	/* write-disabled by PKRU in both */
	EXPECT_EQ(SC(e.t, SYS_exit, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_getpid, 0, 0, 0, 0, 0, 0), -ESRCH);
	env_close(&e);
}

/* A clone(CLONE_VM) sibling is its own process on the parent's mm: the system-wide frame
 * recount walks that mm once, not once per process (it used to count every frame twice). */
TEST(invariants_count_a_shared_mm_once)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(poke(e.t, W + (uint64_t)i * PG, 0x11), 1);
	long pid = SC(e.t, SYS_clone, CLONE_VM | SIGCHLD, 0, 0, 0, 0, 0);
	REQUIRE_EQ(pid > 0, 1);
	pm_thread *c = pm_thread_of(e.sys, (int)pid);
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(poke(c, W + PG, 0x22), 1);
	EXPECT_EQ(peek(e.t, W + PG), 0x22);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(c, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* vfork's child shares the parent's address space until it exits (SPEC §3). */
TEST(vfork_child_shares_the_address_space)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_vfork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(poke(c, W, 0x5e), 1);
	EXPECT_EQ(peek(e.t, W), 0x5e);
	EXPECT_EQ(SC(c, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(peek(e.t, W), 0x5e);	/* the parent's mm lives on */
	env_close(&e);
}
