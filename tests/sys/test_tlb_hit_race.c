/*
 * The lock-free TLB read hit (mm_access_hit) against another thread of the same address
 * space changing it: a read that hit a translation before a munmap or mprotect must fault
 * after it, and a reader racing a thread that unmaps the page and hands its frame to a new
 * mapping must only ever see the old contents or the fault, never the new owner's bytes.
 * The two simulated threads share one mm through clone(CLONE_VM), as a CLONE_THREAD sibling
 * would, and run on two host threads.
 */
#include "pm_test.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>

#define A 0x300000000000L	/* the page the reader reads */
#define B 0x310000000000L	/* where the writer reuses the freed frames */
#define REUSE_PAGES 16
#define OLD_BYTES 0x1111111111111111ULL
#define NEW_BYTES 0x2222222222222222ULL

/* A second simulated thread on the same mm. */
static pm_thread *sibling(struct env *e)
{
	long pid = SC(e->t, SYS_clone, CLONE_VM | SIGCHLD, 0, 0, 0, 0, 0);
	return pid > 0 ? pm_thread_of(e->sys, (int)pid) : NULL;
}

static long read8(pm_thread *t, uint64_t va, uint64_t *v, pm_siginfo *si)
{
	return pm_access(t, va, v, 8, PM_READ, si);
}

static long fill(pm_thread *t, uint64_t va, long pages, uint8_t byte)
{
	static _Thread_local uint8_t buf[PG];
	memset(buf, byte, sizeof(buf));
	for (long i = 0; i < pages; i++)
		if (pm_access(t, va + (uint64_t)i * PG, buf, PG, PM_WRITE, NULL) != PG)
			return -1;
	return 0;
}

TEST(a_hit_in_one_thread_faults_after_another_thread_unmaps_or_protects)
{
	struct env e = env_open();
	pm_thread *r = sibling(&e);
	REQUIRE_EQ(r != NULL, 1);
	EXPECT_EQ(do_mmap(e.t, A, PG, RW, ANON | MAP_FIXED), A);
	EXPECT_EQ(fill(e.t, A, 1, 0x11), 0);
	uint64_t v = 0;
	pm_siginfo si;
	for (int i = 0; i < 3; i++)	/* the first read fills r's TLB, the others hit */
		EXPECT_EQ(read8(r, A + 8, &v, &si), 8);
	EXPECT_EQ(v, OLD_BYTES);
	EXPECT_EQ(SC(e.t, SYS_mprotect, A, PG, PROT_NONE, 0, 0, 0), 0);
	EXPECT_ERRNO(read8(r, A + 8, &v, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGSEGV);
	EXPECT_EQ(si.code, SEGV_ACCERR);
	EXPECT_EQ(SC(e.t, SYS_mprotect, A, PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(read8(r, A + 8, &v, &si), 8);
	EXPECT_EQ(read8(r, A + 8, &v, &si), 8);
	EXPECT_EQ(SC(e.t, SYS_munmap, A, PG, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(read8(r, A + 8, &v, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGSEGV);
	EXPECT_EQ(si.code, SEGV_MAPERR);
	EXPECT_EQ(si.addr, (uint64_t)A + 8);
	env_close(&e);
}

struct race {
	pm_thread *reader;
	atomic_int stop;
	atomic_long hits, faults, zeros, foreign, other;
};

/* Lets the reader run until *count moves (bounded: the host may not schedule it). */
static void wait_for(atomic_long *count)
{
	long was = atomic_load(count);
	for (int i = 0; i < 500 && atomic_load(count) == was; i++)
		sched_yield();
}

/* Reads A until told to stop, sorting what each read saw. */
static void *reader_main(void *arg)
{
	struct race *rc = arg;
	while (!atomic_load(&rc->stop)) {
		uint64_t v = 0;
		pm_siginfo si;
		long n = read8(rc->reader, A + 64, &v, &si);
		if (n == -EFAULT && si.signo == SIGSEGV && si.code == SEGV_MAPERR)
			rc->faults++;
		else if (n != 8)
			rc->other++;
		else if (v == OLD_BYTES)
			rc->hits++;
		else if (v == 0)
			rc->zeros++;	/* the fresh mapping before its fill */
		else
			rc->foreign++;
	}
	return NULL;
}

TEST(a_racing_reader_never_sees_a_freed_frame_reused)
{
	struct env e = env_open();
	struct race rc = { .reader = sibling(&e) };
	REQUIRE_EQ(rc.reader != NULL, 1);
	atomic_init(&rc.stop, 0);
	atomic_init(&rc.hits, 0);
	atomic_init(&rc.faults, 0);
	atomic_init(&rc.zeros, 0);
	atomic_init(&rc.foreign, 0);
	atomic_init(&rc.other, 0);
	pthread_t th;
	REQUIRE_EQ(pthread_create(&th, NULL, reader_main, &rc), 0);
	long bad = 0;
	for (int i = 0; i < 1000 && !bad; i++) {
		/* A's frame is freed by the munmap and most likely handed to B at once. */
		bad |= do_mmap(e.t, A, PG, RW, ANON | MAP_FIXED) != A;
		bad |= fill(e.t, A, 1, 0x11);
		wait_for(&rc.hits);
		bad |= SC(e.t, SYS_munmap, A, PG, 0, 0, 0, 0) != 0;
		bad |= do_mmap(e.t, B, REUSE_PAGES * PG, RW, ANON | MAP_FIXED) != B;
		bad |= fill(e.t, B, REUSE_PAGES, 0x22);
		bad |= SC(e.t, SYS_munmap, B, REUSE_PAGES * PG, 0, 0, 0, 0) != 0;
		if (i % 16 == 0)
			wait_for(&rc.faults);
	}
	atomic_store(&rc.stop, 1);
	pthread_join(th, NULL);
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(atomic_load(&rc.foreign), 0);	/* NEW_BYTES or worse: a reused frame */
	EXPECT_EQ(atomic_load(&rc.other), 0);
	EXPECT_TRUE(atomic_load(&rc.hits) > 0);
	EXPECT_TRUE(atomic_load(&rc.faults) > 0);
	(void)NEW_BYTES;
	env_close(&e);
}
