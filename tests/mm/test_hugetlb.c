/*
 * MAP_HUGETLB (SPEC §5): pools sized by the registry, reserved at mmap (ENOMEM when
 * short), faults mapping whole 2 MiB frames, Linux's alignment rules, meminfo's
 * HugePages_* lines, HugetlbPages in status, and fork sharing then copying.
 */
#include "pm_test.h"

#define HUGE (2 * MiB)

static pm_thread *admin(struct env *e)
{
	int err;
	pm_token *st = pm_token_parse(e->sys, "system", &err);
	pm_thread *t = pm_spawn(e->sys, st, NULL);
	pm_token_put(st);
	return t;
}

static long meminfo(struct env *e, const char *field)
{
	const char *s = strstr(proc_text(e->t, -1, "meminfo"), field);
	return s ? strtol(s + strlen(field) + 1, NULL, 10) : -1;
}

/* An empty pool is ENOMEM; NrHugepages2M fills it and meminfo shows it (SPEC §5). */
TEST(hugetlb_pool_is_sized_by_the_registry)
{
	struct env e = env_open();
	EXPECT_ERRNO(do_mmap(e.t, 0, HUGE, RW, ANON | MAP_HUGETLB), -ENOMEM);
	EXPECT_EQ(meminfo(&e, "HugePages_Total:"), 0);
	EXPECT_EQ(pm_registry_set(admin(&e), "NrHugepages2M", 4), 0);
	EXPECT_EQ(pm_registry_get(e.sys, "NrHugepages2M"), 4);
	EXPECT_EQ(meminfo(&e, "HugePages_Total:"), 4);
	EXPECT_EQ(meminfo(&e, "HugePages_Free:"), 4);
	EXPECT_EQ(meminfo(&e, "Hugepagesize:"), 2048);
	env_close(&e);
}

/* mmap reserves (Rsvd), a fault takes one page (Free drops, Rsvd drops), the length rounds
 * up, and the pool being short at mmap is ENOMEM (SPEC §5). */
TEST(hugetlb_reserves_at_mmap_and_maps_whole_pages)
{
	struct env e = env_open();
	pm_registry_set(admin(&e), "NrHugepages2M", 4);
	long a = do_mmap(e.t, 0, 3 * MiB, RW, ANON | MAP_HUGETLB);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(a & (HUGE - 1), 0);
	EXPECT_EQ(meminfo(&e, "HugePages_Rsvd:"), 2);
	EXPECT_EQ(poke(e.t, a + HUGE - 1, 7), 1);
	EXPECT_EQ(meminfo(&e, "HugePages_Free:"), 3);
	EXPECT_EQ(meminfo(&e, "HugePages_Rsvd:"), 1);
	EXPECT_EQ(peek(e.t, a), 0);	/* zeroed, the whole 2 MiB frame */
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "HugetlbPages:\t    2048 kB") != NULL);
	EXPECT_TRUE(strstr(maps_line_at(e.t, a), "/anon_hugepage (deleted)") != NULL);
	EXPECT_ERRNO(do_mmap(e.t, 0, 3 * HUGE, RW, ANON | MAP_HUGETLB), -ENOMEM);
	EXPECT_EQ(SC(e.t, SYS_munmap, a, 4 * MiB, 0, 0, 0, 0), 0);
	EXPECT_EQ(meminfo(&e, "HugePages_Free:"), 4);
	EXPECT_EQ(meminfo(&e, "HugePages_Rsvd:"), 0);
	env_close(&e);
}

/* Linux's hugetlb errnos: unknown sizes, unaligned MAP_FIXED, splits inside a huge page,
 * growing mremap; MADV_DONTNEED rounds the end down (linux probe, 6.18). */
TEST(hugetlb_alignment_rules)
{
	struct env e = env_open();
	pm_registry_set(admin(&e), "NrHugepages2M", 4);
	EXPECT_ERRNO(do_mmap(e.t, 0, HUGE, RW, ANON | MAP_HUGETLB | (25 << 26)), -EINVAL);
	EXPECT_ERRNO(do_mmap(e.t, 0, HUGE, RW, ANON | MAP_HUGETLB | (30 << 26)), -ENOMEM);
	EXPECT_ERRNO(do_mmap(e.t, 0x200000001000L, HUGE, RW, ANON | MAP_HUGETLB | MAP_FIXED), -EINVAL);
	long a = do_mmap(e.t, 0, 2 * HUGE, RW, ANON | MAP_HUGETLB);
	EXPECT_ERRNO(SC(e.t, SYS_munmap, a + PG, PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_munmap, a, PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, a, PG, PROT_READ, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_mprotect, a, HUGE, PROT_READ, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_mremap, a, 2 * HUGE, 3 * HUGE, 0, 0, 0), -EINVAL);
	poke(e.t, a + HUGE, 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, a + HUGE, PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(peek(e.t, a + HUGE), 1);	/* less than a whole page: nothing zapped */
	EXPECT_EQ(SC(e.t, SYS_madvise, a + HUGE, HUGE, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(peek(e.t, a + HUGE), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Shared hugetlb memory is shared across fork; private memory is copied on write, a whole
 * huge page at a time (SPEC §3, §5). */
TEST(hugetlb_across_fork)
{
	struct env e = env_open();
	pm_registry_set(admin(&e), "NrHugepages2M", 6);
	long s = do_mmap(e.t, 0, HUGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB);
	long p = do_mmap(e.t, 0, HUGE, RW, ANON | MAP_HUGETLB);
	poke(e.t, s, 1);
	poke(e.t, p, 2);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(poke(c, s, 3), 1);
	EXPECT_EQ(peek(e.t, s), 3);
	EXPECT_EQ(poke(c, p + 5, 4), 1);
	EXPECT_EQ(peek(e.t, p + 5), 0);
	EXPECT_EQ(peek(c, p), 2);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}
