/*
 * Random operations over a 16 MiB window in THP "always" mode with swap (docs/thp.md):
 * writes, mmap, munmap, mprotect, mlock, mremap, DONTNEED, COLLAPSE, PAGEOUT, fork with a
 * child writing, khugepaged ticks and reclaim, against a shadow of every page's value. After
 * each step the invariants hold; the touched pages read back as the shadow says, and at the
 * end every mapped page does. Seeds are fixed, so a failure replays; PEIMM_THP_SEEDS=n runs
 * seeds 1..n (4 by default) and PEIMM_THP_TRACE=1 prints each step.
 */
#include "thp_env.h"

#define NP	4096			/* pages in the window: 16 MiB */
#define WIN	0x300000000000L
#define UNKNOWN	0xff

struct shadow {
	int16_t val[NP];		/* -1 unmapped, -2 mapped but unknown (after a failed call
					   that may have done part of its work), else the byte
					   every word of the page holds */
	uint8_t prot[NP];		/* PROT_*, or UNKNOWN after a failed mprotect */
};

static uint64_t rnd(uint64_t *s, uint64_t n)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (*s >> 33) % n;
}

/* A range of pages: often 2 MiB-aligned blocks, often cutting one. */
static void pick(uint64_t *s, long *p0, long *np)
{
	if (rnd(s, 3) == 0) {
		*p0 = (long)rnd(s, NP / 512) * 512;
		*np = 512 * (1 + (long)rnd(s, 2));
	} else {
		*p0 = (long)rnd(s, NP);
		*np = 1 + (long)rnd(s, rnd(s, 2) ? 16 : 1100);
	}
	if (*p0 + *np > NP)
		*np = NP - *p0;
}

static void write_page(pm_thread *t, struct shadow *sh, long p, int v)
{
	static uint8_t page[PG];
	memset(page, v, PG);
	long r = pm_access(t, WIN + p * PG, page, PG, PM_WRITE, NULL);
	int ok = sh->val[p] != -1 && (sh->prot[p] & PROT_WRITE);
	if (sh->prot[p] != UNKNOWN && (r == PG) != ok)
		check_failed(__FILE__, __LINE__, "write page %ld: %ld, shadow val %d prot %d", p, r,
			     sh->val[p], sh->prot[p]);
	if (r == PG)
		sh->val[p] = (int16_t)v;
}

/* Checks pages [p0, p0+np) that are readable; returns the count that differ. */
static long verify(pm_thread *t, const struct shadow *sh, long p0, long np)
{
	long bad = 0;
	for (long p = p0; p < p0 + np; p++) {
		if (sh->val[p] < 0 || sh->prot[p] == UNKNOWN || !(sh->prot[p] & PROT_READ))
			continue;
		uint8_t b[3];
		long r = pm_access(t, WIN + p * PG, &b[0], 1, PM_READ, NULL) +
			 pm_access(t, WIN + p * PG + 2049, &b[1], 1, PM_READ, NULL) +
			 pm_access(t, WIN + p * PG + PG - 1, &b[2], 1, PM_READ, NULL);
		if (r != 3 || b[0] != sh->val[p] || b[1] != sh->val[p] || b[2] != sh->val[p]) {
			if (bad++ < 5)
				check_failed(__FILE__, __LINE__, "page %ld reads %d %d %d (r %ld), shadow %d",
					     p, b[0], b[1], b[2], r, sh->val[p]);
		}
	}
	return bad;
}

static void run_seed(uint64_t seed, int steps)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 48 * MiB;
	cfg.swap_bytes = 32 * MiB;
	cfg.seed = seed;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	EXPECT_EQ(thp_mode(&k, 0), 0);
	EXPECT_EQ(pm_registry_set(k.admin, "ThpKhugepagedScanSleepMillisecs", 1), 0);
	static struct shadow sh;
	for (long p = 0; p < NP; p++) {
		sh.val[p] = 0;
		sh.prot[p] = PROT_READ | PROT_WRITE;
	}
	REQUIRE_EQ(do_mmap(t, WIN, NP * PG, RW, ANON | MAP_FIXED), WIN);
	uint64_t s = seed;
	int v = 1;
	for (int i = 0; i < steps && test_failures == 0; i++) {
		long p0, np;
		pick(&s, &p0, &np);
		long a = WIN + p0 * PG, len = np * PG, r = 0;
		int op = (int)rnd(&s, 14);
		if (getenv("PEIMM_THP_TRACE"))
			fprintf(stderr, "step %d: op %d pages %ld+%ld\n", i, op, p0, np);
		switch (op) {
		case 0: case 1: case 2:	/* writes over the range, some pages only */
			for (long p = p0; p < p0 + np; p += 1 + (long)rnd(&s, 40))
				write_page(t, &sh, p, v);
			v = v % 250 + 1;
			break;
		case 3:
			r = SC(t, SYS_munmap, a, len, 0, 0, 0, 0);
			for (long p = p0; r == 0 && p < p0 + np; p++)
				sh.val[p] = -1;
			break;
		case 4:
			r = do_mmap(t, a, len, RW, ANON | MAP_FIXED);
			for (long p = p0; r == a && p < p0 + np; p++) {
				sh.val[p] = 0;
				sh.prot[p] = PROT_READ | PROT_WRITE;
			}
			break;
		case 5: {
			static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE };
			int pr = prots[rnd(&s, 3)];
			r = SC(t, SYS_mprotect, a, len, pr, 0, 0, 0);
			for (long p = p0; p < p0 + np; p++)	/* a failure may have done part */
				sh.prot[p] = r == 0 ? (uint8_t)pr : UNKNOWN;
			break;
		}
		case 6:
			r = SC(t, SYS_madvise, a, len, MADV_DONTNEED, 0, 0, 0);
			for (long p = p0; p < p0 + np; p++)	/* EINVAL at a locked VMA: part done */
				if (sh.val[p] != -1)
					sh.val[p] = r == 0 ? 0 : -2;
			break;
		case 7:
			SC(t, SYS_madvise, a, len, MADV_COLLAPSE, 0, 0, 0);
			break;
		case 8:
			SC(t, SYS_madvise, a, len, MADV_PAGEOUT, 0, 0, 0);
			break;
		case 9:
			if (rnd(&s, 2))
				SC(t, SYS_mlock, a, len, 0, 0, 0, 0);
			else
				SC(t, SYS_munlock, a, len, 0, 0, 0, 0);
			break;
		case 10: {	/* mremap a range to another place in the window */
			long d0 = (long)rnd(&s, NP - np + 1);
			if (rnd(&s, 2))
				d0 = (d0 & ~511L) + (p0 & 511);
			if (d0 + np > NP || (d0 < p0 + np && p0 < d0 + np))
				break;
			r = SC(t, SYS_mremap, a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, WIN + d0 * PG, 0);
			if (r == WIN + d0 * PG) {
				static struct shadow tmp;
				memcpy(&tmp, &sh, sizeof(tmp));
				for (long p = 0; p < np; p++) {
					sh.val[d0 + p] = tmp.val[p0 + p];
					sh.prot[d0 + p] = tmp.prot[p0 + p];
					sh.val[p0 + p] = -1;
				}
			}
			break;
		}
		case 11: {	/* fork; the child writes and checks, then exits */
			pm_thread *c = pm_thread_of(k.e.sys, (int)SC(t, SYS_fork, 0, 0, 0, 0, 0, 0));
			if (!c)
				break;
			static struct shadow cs;
			memcpy(&cs, &sh, sizeof(cs));
			for (long p = p0; p < p0 + np; p += 1 + (long)rnd(&s, 30))
				write_page(c, &cs, p, 251);
			EXPECT_EQ(verify(c, &cs, 0, NP), 0);
			EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
			SC(c, SYS_exit_group, 0, 0, 0, 0, 0, 0);
			break;
		}
		case 12:
			pm_system_tick(k.e.sys, 1 + (unsigned)rnd(&s, 3));
			break;
		case 13:
			pm_debug_shrink(k.e.sys, 64 + rnd(&s, 2048));
			break;
		}
		if (pm_check_invariants(k.e.sys) != 0) {
			check_failed(__FILE__, __LINE__, "seed %lu step %d: invariants broken",
				     (unsigned long)seed, i);
			break;
		}
		EXPECT_EQ(verify(t, &sh, p0, np), 0);
	}
	/* Everything readable once more, then all of it. */
	for (long p = 0; p < NP; p++)
		if (sh.val[p] >= 0 && (sh.prot[p] == UNKNOWN || !(sh.prot[p] & PROT_READ)) &&
		    SC(t, SYS_mprotect, WIN + p * PG, PG, PROT_READ, 0, 0, 0) == 0)
			sh.prot[p] = PROT_READ;
	EXPECT_EQ(verify(t, &sh, 0, NP), 0);
	/* The run must have exercised the machinery it is about. */
	EXPECT_TRUE(vmstat(t, "thp_fault_alloc") + vmstat(t, "thp_collapse_alloc") > 0);
	EXPECT_TRUE(vmstat(t, "thp_split_pmd") > 0);
	if (getenv("PEIMM_THP_TRACE"))
		fprintf(stderr, "seed %lu: fault_alloc %ld collapse_alloc %ld split_pmd %ld "
			"split_page %ld pages_collapsed %ld zero_page_alloc %ld\n",
			(unsigned long)seed, vmstat(t, "thp_fault_alloc"),
			vmstat(t, "thp_collapse_alloc"), vmstat(t, "thp_split_pmd"),
			vmstat(t, "thp_split_page"), thp_sys_val(&k, "khugepaged/pages_collapsed"),
			vmstat(t, "thp_zero_page_alloc"));
	tenv_close(&k);
}

TEST(thp_random_operations_keep_data_and_invariants)
{
	const char *n = getenv("PEIMM_THP_SEEDS");
	uint64_t last = n ? strtoul(n, NULL, 0) : 4;
	for (uint64_t seed = 1; seed <= last && test_failures == 0; seed++)
		run_seed(seed, 300);
}
