/*
 * Every allocation failure leaves the address space as it was (STYLE rules 7 and 16):
 * for N = 1, 2, ... the Nth host allocation of a call fails, and each failed call must
 * return ENOMEM (or the call's documented refusal), leave maps unchanged, keep every
 * invariant, and leak nothing; then the call is repeated without failure.
 */
#include "pm_test.h"

#define W 0x200000000000L

typedef long (*op_fn)(pm_thread *t);

/* Returns how many injected failures the call met before it succeeded. */
static int walk_failures(struct env *e, op_fn op, const char *name)
{
	static char before[1 << 20];
	for (uint64_t n = 1; n < 64; n++) {
		const char *now = proc_text(e->t, 0, "maps");
		memcpy(before, now, strlen(now) + 1);
		pm_debug_fail_alloc(e->sys, n);
		long r = op(e->t);
		pm_debug_fail_alloc(e->sys, 0);
		if (r >= 0)
			return (int)n - 1;
		if (r != -ENOMEM)
			check_failed(__FILE__, __LINE__, "%s with allocation %lu failing = %ld, want -ENOMEM",
				     name, (unsigned long)n, r);
		const char *after = proc_text(e->t, 0, "maps");
		if (strcmp(before, after))
			check_failed(__FILE__, __LINE__, "%s failed at allocation %lu but changed maps:\n%s\nwas\n%s",
				     name, (unsigned long)n, after, before);
		EXPECT_EQ(pm_check_invariants(e->sys), 0);
	}
	check_failed(__FILE__, __LINE__, "%s never succeeded", name);
	return 0;
}

static long op_mmap_fixed_split(pm_thread *t)
{
	return do_mmap(t, W + PG, PG, PROT_READ, ANON | MAP_FIXED);
}

static long op_mprotect_split(pm_thread *t)
{
	return SC(t, SYS_mprotect, W + 5 * PG, PG, PROT_READ, 0, 0, 0);
}

static long op_munmap_split(pm_thread *t)
{
	return SC(t, SYS_munmap, W + 9 * PG, PG, 0, 0, 0, 0);
}

static long op_shared(pm_thread *t)
{
	return do_mmap(t, W + 20 * PG, 2 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
}

/* mmap over the middle of a VMA, mprotect and munmap of a middle page, and a new shared
 * mapping each survive every allocation failure with nothing changed. */
TEST(allocation_failures_leave_the_address_space_unchanged)
{
	struct env e = env_open();
	REQUIRE_EQ(do_mmap(e.t, W, 16 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 16; i++)
		poke(e.t, W + i * PG, 1);
	EXPECT_TRUE(walk_failures(&e, op_mmap_fixed_split, "mmap(MAP_FIXED) splitting a VMA") > 0);
	EXPECT_TRUE(walk_failures(&e, op_mprotect_split, "mprotect of a middle page") > 0);
	EXPECT_TRUE(walk_failures(&e, op_munmap_split, "munmap of a middle page") > 0);
	EXPECT_TRUE(walk_failures(&e, op_shared, "mmap(MAP_SHARED|MAP_ANONYMOUS)") > 0);
	EXPECT_EQ(maps_count(e.t, "2000000"), 7);
	env_close(&e);
}
