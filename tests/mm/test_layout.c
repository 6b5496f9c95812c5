/*
 * The initial layout and ASLR (SPEC §2): randomize_va_space 0 fixes everything, 1 moves the
 * stack and mmap base but not the heap, 2 moves all of them; one seed reproduces one
 * layout exactly; the random ranges stay inside the entropy SPEC gives.
 */
#include "pm_test.h"

struct layout { unsigned long stack, vdso, heap; };

static unsigned long line_start(const char *m, const char *name)
{
	const char *p = strstr(m, name);
	if (!p)
		return 0;
	while (p > m && p[-1] != '\n')
		p--;
	return strtoul(p, NULL, 16);
}

static struct layout layout_of(uint64_t seed, int mode)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 32 * MiB;
	cfg.seed = seed;
	struct env e = env_open_cfg(&cfg);
	int err;
	pm_token *st = pm_token_parse(e.sys, "system", &err);
	pm_thread *admin = pm_spawn(e.sys, st, NULL);
	pm_token_put(st);
	EXPECT_EQ(pm_registry_set(admin, "Machine\\System\\Memory\\RandomizeVaSpace", mode), 0);
	pm_thread *t = pm_spawn(e.sys, e.tok, NULL);
	SC(t, SYS_brk, SC(t, SYS_brk, 0, 0, 0, 0, 0, 0) + PG, 0, 0, 0, 0, 0);
	const char *m = proc_text(t, 0, "maps");
	struct layout l = { line_start(m, "[stack]"), line_start(m, "[vdso]"), line_start(m, "[heap]") };
	env_close(&e);
	return l;
}

/* The same seed gives the same layout; another seed moves every region in mode 2. */
TEST(one_seed_reproduces_one_layout)
{
	struct layout a = layout_of(7, 2), b = layout_of(7, 2), c = layout_of(8, 2);
	EXPECT_EQ(a.stack, b.stack);
	EXPECT_EQ(a.vdso, b.vdso);
	EXPECT_EQ(a.heap, b.heap);
	EXPECT_TRUE(a.stack != c.stack && a.vdso != c.vdso && a.heap != c.heap);
}

/* Mode 0: nothing is randomised, whatever the seed. */
TEST(mode_0_fixes_every_region)
{
	struct layout a = layout_of(1, 0), b = layout_of(2, 0);
	EXPECT_EQ(a.stack, b.stack);
	EXPECT_EQ(a.vdso, b.vdso);
	EXPECT_EQ(a.heap, b.heap);
	EXPECT_EQ(a.heap, 0x555555554000UL);
}

/* Mode 1: stack and mmap base move, heap stays (SPEC §2 follows the seed here). */
TEST(mode_1_moves_stack_and_mmap_but_not_heap)
{
	struct layout a = layout_of(1, 1), b = layout_of(2, 1);
	EXPECT_TRUE(a.stack != b.stack);
	EXPECT_TRUE(a.vdso != b.vdso);
	EXPECT_EQ(a.heap, b.heap);
}

/* Over many seeds, each region stays inside its entropy window: stack 8 MiB, heap
 * 32 MiB + 1 GiB of program base, mmap base 1 GiB. */
TEST(random_offsets_stay_inside_their_windows)
{
	unsigned long smin = ~0UL, smax = 0, hmin = ~0UL, hmax = 0, vmin = ~0UL, vmax = 0;
	for (uint64_t s = 1; s <= 24; s++) {
		struct layout l = layout_of(s * 7919, 2);
		smin = l.stack < smin ? l.stack : smin;
		smax = l.stack > smax ? l.stack : smax;
		hmin = l.heap < hmin ? l.heap : hmin;
		hmax = l.heap > hmax ? l.heap : hmax;
		vmin = l.vdso < vmin ? l.vdso : vmin;
		vmax = l.vdso > vmax ? l.vdso : vmax;
	}
	EXPECT_TRUE(smax - smin < 8 * MiB && smax - smin > 0);
	EXPECT_TRUE(hmin >= 0x555555554000UL && hmax < 0x555555554000UL + (1UL << 30) + 32 * MiB);
	EXPECT_TRUE(vmax - vmin < (1UL << 30) && vmax - vmin > 8 * MiB);
}
