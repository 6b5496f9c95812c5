/*
 * Error injection (SPEC §6; SeTcbPrivilege stands in for CAP_SYS_ADMIN): MADV_HWPOISON
 * retires the frame and any later access is SIGBUS (BUS_MCEERR_AR), in every process that
 * maps it; MADV_SOFT_OFFLINE moves the data to a new frame and retires the old one. A
 * retired frame is counted (pm_sysinfo.retired_frames), never leaked and never reused.
 */
#include "pm_test.h"

#define W 0x200000000000L
#define MADV_SOFT_OFFLINE_ 101

static pm_thread *tcb_process(struct env *e)
{
	int err;
	pm_token *tok = pm_token_parse(e->sys, "user=S-1-5-21-1-1002 privs=SeTcbPrivilege:enabled",
				       &err);
	pm_thread *t = pm_spawn(e->sys, tok, NULL);
	pm_token_put(tok);
	return t;
}

static uint64_t retired(struct env *e)
{
	pm_sysinfo info;
	pm_system_info(e->sys, &info);
	return info.retired_frames;
}

static void expect_sigbus(pm_thread *t, uint64_t va)
{
	pm_siginfo si = { 0 };
	uint8_t b;
	EXPECT_ERRNO(pm_access(t, va, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_EQ(si.code, BUS_MCEERR_AR);
	EXPECT_EQ(si.addr, va);
}

/* Without SeTcbPrivilege enabled both are EPERM, before anything else is looked at. */
TEST(error_injection_needs_tcb_privilege)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(poke(e.t, W, 1), 1);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, MADV_HWPOISON, 0, 0, 0), -EPERM);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, MADV_SOFT_OFFLINE_, 0, 0, 0), -EPERM);
	EXPECT_EQ(peek(e.t, W), 1);
	env_close(&e);
}

/* LTP madvise07: a poisoned page raises SIGBUS; DONTNEED drops the poison entry and the
 * page refaults as a fresh zero page; the poisoned frame stays retired. */
TEST(hwpoison_page_access_is_sigbus)
{
	struct env e = env_open();
	pm_thread *t = tcb_process(&e);
	EXPECT_EQ(do_mmap(t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(poke(t, W, 0x77), 1);
	EXPECT_EQ(poke(t, W + PG, 0x78), 1);
	EXPECT_EQ(SC(t, SYS_madvise, W, PG, MADV_HWPOISON, 0, 0, 0), 0);
	EXPECT_EQ(retired(&e), 1);
	expect_sigbus(t, W + 3);
	EXPECT_EQ(peek(t, W + PG), 0x78);
	EXPECT_EQ(SC(t, SYS_madvise, W, PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W), 0);
	EXPECT_EQ(retired(&e), 1);
	env_close(&e);
}

/* A poisoned anonymous frame shared with a fork child is poisoned for the child too. */
TEST(hwpoison_reaches_a_fork_child)
{
	struct env e = env_open();
	pm_thread *t = tcb_process(&e);
	EXPECT_EQ(do_mmap(t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(poke(t, W, 0x31), 1);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(peek(c, W), 0x31);
	EXPECT_EQ(SC(t, SYS_madvise, W, PG, MADV_HWPOISON, 0, 0, 0), 0);
	expect_sigbus(t, W);
	expect_sigbus(c, W);
	EXPECT_EQ(retired(&e), 1);
	env_close(&e);
}

/* Shared memory: every mapper gets the poison marker at once (through the object). */
TEST(hwpoison_of_shared_memory_reaches_every_mapper)
{
	struct env e = env_open();
	pm_thread *t = tcb_process(&e);
	EXPECT_EQ(do_mmap(t, W, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	EXPECT_EQ(poke(t, W, 0x44), 1);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(peek(c, W), 0x44);
	EXPECT_EQ(SC(t, SYS_madvise, W, PG, MADV_HWPOISON, 0, 0, 0), 0);
	expect_sigbus(c, W);
	expect_sigbus(t, W);
	EXPECT_EQ(retired(&e), 1);
	env_close(&e);
}

/* SOFT_OFFLINE keeps the data, moves it to another frame and retires the old one. */
TEST(soft_offline_preserves_data)
{
	struct env e = env_open();
	pm_thread *t = tcb_process(&e);
	EXPECT_EQ(do_mmap(t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(do_mmap(t, W + 4 * PG, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W + 4 * PG);
	EXPECT_EQ(poke(t, W + 5, 0x5a), 1);
	EXPECT_EQ(poke(t, W + PG, 0x5b), 1);
	EXPECT_EQ(poke(t, W + 4 * PG + 9, 0x5c), 1);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(SC(t, SYS_madvise, W, 2 * PG, MADV_SOFT_OFFLINE_, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, W + 4 * PG, PG, MADV_SOFT_OFFLINE_, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + 5), 0x5a);
	EXPECT_EQ(peek(t, W + PG), 0x5b);
	EXPECT_EQ(peek(c, W + 5), 0x5a);		/* the child still holds the old frame */
	EXPECT_EQ(peek(c, W + 4 * PG + 9), 0x5c);
	EXPECT_EQ(poke(c, W + 4 * PG, 1), 1);		/* still one shared page for both */
	EXPECT_EQ(peek(t, W + 4 * PG), 1);
	EXPECT_EQ(retired(&e), 1);			/* the shmem frame; the anon ones are held */
	EXPECT_EQ(SC(c, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(retired(&e), 3);
	env_close(&e);
}
