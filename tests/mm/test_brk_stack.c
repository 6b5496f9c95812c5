/*
 * brk and the stack: the raw brk call returns the new or the unchanged break, refuses to
 * collide with a mapping or cross RLIMIT_DATA, and frees pages when it shrinks; the stack
 * grows on demand down to RLIMIT_STACK and never into the guard gap (SPEC §2).
 */
#include "pm_test.h"

static long brk_(pm_thread *t, long v) { return SC(t, SYS_brk, v, 0, 0, 0, 0, 0); }

/* brk(0) reports the break; growing maps [heap]; the pages read zero and keep writes. */
TEST(brk_grows_the_heap_and_reports_the_new_break)
{
	struct env e = env_open();
	long b0 = brk_(e.t, 0);
	EXPECT_TRUE(b0 > 0 && (b0 & (PG - 1)) == 0);
	EXPECT_EQ(brk_(e.t, b0 + 3 * PG + 100), b0 + 3 * PG + 100);
	EXPECT_TRUE(maps_count(e.t, "[heap]") == 1);
	EXPECT_EQ(peek(e.t, b0 + 3 * PG + 50), 0);
	EXPECT_EQ(poke(e.t, b0 + 3 * PG + 50, 3), 1);
	EXPECT_EQ(brk_(e.t, 0), b0 + 3 * PG + 100);
	env_close(&e);
}

/* Shrinking frees the pages: growing again gives zeroes (SPEC §2). */
TEST(brk_shrink_frees_pages)
{
	struct env e = env_open();
	long b0 = brk_(e.t, 0);
	brk_(e.t, b0 + 4 * PG);
	EXPECT_EQ(poke(e.t, b0 + 3 * PG, 9), 1);
	EXPECT_EQ(brk_(e.t, b0 + PG), b0 + PG);
	EXPECT_ERRNO(peek(e.t, b0 + 3 * PG), -EFAULT);
	EXPECT_EQ(brk_(e.t, b0 + 4 * PG), b0 + 4 * PG);
	EXPECT_EQ(peek(e.t, b0 + 3 * PG), 0);
	env_close(&e);
}

/* Refusals return the old break, never an errno (linux-anchors §2.9): below the start,
 * into another mapping, and past the mapping's one-page clearance. */
TEST(brk_refusals_return_the_old_break)
{
	struct env e = env_open();
	long b0 = brk_(e.t, 0);
	EXPECT_EQ(brk_(e.t, b0 - PG), b0);
	EXPECT_EQ(do_mmap(e.t, b0 + 8 * PG, PG, RW, ANON | MAP_FIXED), b0 + 8 * PG);
	EXPECT_EQ(brk_(e.t, b0 + 8 * PG), b0);
	EXPECT_EQ(brk_(e.t, b0 + 7 * PG + 1), b0);	/* would leave no free page before it */
	EXPECT_EQ(brk_(e.t, b0 + 7 * PG), b0 + 7 * PG);
	env_close(&e);
}

/* A grows-down mapping extends on a fault just below it, and the maps line follows. */
TEST(stack_grows_down_on_access_below_it)
{
	struct env e = env_open();
	const char *m = proc_text(e.t, 0, "maps");
	const char *st = strstr(m, "[stack]");
	REQUIRE_EQ(st != NULL, 1);
	while (st > m && st[-1] != '\n')
		st--;
	unsigned long lo = strtoul(st, NULL, 16);
	EXPECT_EQ(poke(e.t, lo - 10 * PG, 1), 1);
	EXPECT_EQ(maps_line_at(e.t, lo - 10 * PG)[0] != '\0', 1);
	EXPECT_TRUE(strstr(maps_line_at(e.t, lo - 10 * PG), "[stack]") != NULL);
	env_close(&e);
}

/* Stack growth stops at RLIMIT_STACK (8 MiB) with SIGSEGV (SPEC §2). */
TEST(stack_growth_stops_at_rlimit_stack)
{
	struct env e = env_open();
	const char *m = proc_text(e.t, 0, "maps");
	const char *st = strstr(m, "[stack]");
	while (st > m && st[-1] != '\n')
		st--;
	unsigned long hi = strtoul(strchr(st, '-') + 1, NULL, 16);
	pm_siginfo si;
	uint8_t b = 1;
	EXPECT_EQ(pm_access(e.t, hi - 8 * MiB + PG, &b, 1, PM_WRITE, &si), 1);
	EXPECT_ERRNO(pm_access(e.t, hi - 8 * MiB - PG, &b, 1, PM_WRITE, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGSEGV);
	env_close(&e);
}

/* Nothing is placed in the guard gap below a grows-down mapping, and growth that would
 * come within the gap of the mapping below fails (SPEC §2). */
TEST(guard_gap_below_growsdown_mapping_stays_empty)
{
	struct env e = env_open();
	const long S = 0x300000000000L, GAP = 256 * PG;
	EXPECT_EQ(do_mmap(e.t, S, 4 * PG, RW, ANON | MAP_FIXED | MAP_GROWSDOWN), S);
	/* A hint inside the gap is not honoured. */
	long h = do_mmap(e.t, S - 2 * PG, PG, RW, ANON);
	EXPECT_TRUE(h != S - 2 * PG);
	/* A mapping placed (MAP_FIXED) just below the gap blocks growth into the gap. */
	EXPECT_EQ(do_mmap(e.t, S - GAP - 4 * PG, PG, RW, ANON | MAP_FIXED), S - GAP - 4 * PG);
	EXPECT_EQ(poke(e.t, S - 2 * PG, 1), 1);			/* still clear of the gap */
	EXPECT_ERRNO(poke(e.t, S - GAP, 1), -EFAULT);		/* within the gap of the mapping below */
	env_close(&e);
}
