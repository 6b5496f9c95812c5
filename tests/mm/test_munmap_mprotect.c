/*
 * munmap and mprotect: Linux's errnos, the split and merge outcomes seen in maps (drawn as
 * rows, one character per page), mprotect's partial application before a hole, and the
 * page contents surviving protection changes.
 */
#include "pm_test.h"

#define W 0x200000000000L

static void map_rw(struct env *e, long off, long pages)
{
	EXPECT_EQ(do_mmap(e->t, W + off * PG, pages * PG, RW, ANON | MAP_FIXED), W + off * PG);
}

/* munmap's errno table (linux-anchors §2.5). Unmapping nothing succeeds. */
TEST(munmap_validates_like_linux)
{
	struct env e = env_open();
	EXPECT_ERRNO(SC(e.t, SYS_munmap, W + 1, PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_munmap, W, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_munmap, 0x7ffffffff000L, 2 * PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_munmap, W, -PG, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 16 * PG, 0, 0, 0, 0), 0);
	env_close(&e);
}

/* munmap of the middle page splits the VMA in two (SPEC §3).
 *   before: AAA    after: A.A */
TEST(munmap_of_middle_page_splits_vma_in_two)
{
	struct env e = env_open();
	map_rw(&e, 0, 3);
	EXPECT_EQ(SC(e.t, SYS_munmap, W + PG, PG, 0, 0, 0, 0), 0);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000001000 rw-p 00000000 00:00 0 ");
	EXPECT_STREQ(maps_line_at(e.t, W + 2 * PG), "200000002000-200000003000 rw-p 00000000 00:00 0 ");
	pm_siginfo si;
	uint8_t b;
	EXPECT_ERRNO(pm_access(e.t, W + PG, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGSEGV);
	EXPECT_EQ(si.code, SEGV_MAPERR);
	EXPECT_EQ(si.addr, W + PG);
	env_close(&e);
}

/* One munmap may span several VMAs and holes. AA.BB -> .....  */
TEST(munmap_spanning_vmas_and_holes_removes_them_all)
{
	struct env e = env_open();
	map_rw(&e, 0, 2);
	EXPECT_EQ(do_mmap(e.t, W + 3 * PG, 2 * PG, PROT_READ, ANON | MAP_FIXED), W + 3 * PG);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 5 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(maps_count(e.t, "20000000"), 0);
	env_close(&e);
}

/* mprotect's errno table: unaligned start, unknown bits, both GROWS flags, a range that
 * starts unmapped (linux-anchors §2.5). A zero length succeeds before prot is checked. */
TEST(mprotect_validates_like_linux)
{
	struct env e = env_open();
	map_rw(&e, 0, 2);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W + 1, PG, PROT_READ, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W, PG, 0x10, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W, 0, 0x10, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W, PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W + 4 * PG, PG, PROT_READ, 0, 0, 0), -ENOMEM);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W, PG, PROT_READ | PROT_GROWSDOWN, 0, 0, 0), -EINVAL);
	env_close(&e);
}

/* mprotect of the middle page splits in three; restoring it merges back (SPEC §3).
 *   AAA -> ArA -> AAA */
TEST(mprotect_middle_page_splits_then_remerges)
{
	struct env e = env_open();
	map_rw(&e, 0, 3);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W + PG, PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_STREQ(maps_line_at(e.t, W + PG), "200000001000-200000002000 r--p 00000000 00:00 0 ");
	EXPECT_EQ(maps_count(e.t, "20000000"), 3);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W + PG, PG, RW, 0, 0, 0), 0);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000003000 rw-p 00000000 00:00 0 ");
	EXPECT_EQ(maps_count(e.t, "20000000"), 1);
	env_close(&e);
}

/* A thousand rounds of the split-into-three and the merge back (the bench's
 * mprotect_split_merge, whose VMA structs come from the per-mm free cache after the first
 * round) keep the maps, the data and every invariant; an allocation failure injected into
 * a round, whether or not the cache has a struct, refuses the split with nothing changed.
 *   AAA -> ArA -> AAA */
TEST(mprotect_split_and_merge_rounds_keep_maps_and_invariants)
{
	struct env e = env_open();
	map_rw(&e, 0, 3);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(poke(e.t, W + i * PG, (uint8_t)(i + 1)), 1);
	for (int round = 0; round < 1000; round++) {
		REQUIRE_EQ(SC(e.t, SYS_mprotect, W + PG, PG, PROT_READ, 0, 0, 0), 0);
		if (round % 100 == 0) {
			EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000001000 rw-p 00000000 00:00 0 ");
			EXPECT_STREQ(maps_line_at(e.t, W + PG), "200000001000-200000002000 r--p 00000000 00:00 0 ");
			EXPECT_STREQ(maps_line_at(e.t, W + 2 * PG), "200000002000-200000003000 rw-p 00000000 00:00 0 ");
			EXPECT_EQ(pm_check_invariants(e.sys), 0);
		}
		REQUIRE_EQ(SC(e.t, SYS_mprotect, W + PG, PG, RW, 0, 0, 0), 0);
		if (round % 100 == 0) {
			EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000003000 rw-p 00000000 00:00 0 ");
			EXPECT_EQ(pm_check_invariants(e.sys), 0);
		}
	}
	for (uint64_t n = 1; n <= 2; n++) {
		pm_debug_fail_alloc(e.sys, n);	/* the first, then the second VMA struct */
		EXPECT_ERRNO(SC(e.t, SYS_mprotect, W + PG, PG, PROT_READ, 0, 0, 0), -ENOMEM);
		pm_debug_fail_alloc(e.sys, 0);
		EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000003000 rw-p 00000000 00:00 0 ");
		EXPECT_EQ(maps_count(e.t, "20000000"), 1);
		EXPECT_EQ(pm_check_invariants(e.sys), 0);
	}
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(peek(e.t, W + i * PG), i + 1);
	env_close(&e);
}

/* A middle VMA that becomes like both neighbours joins both only when the anon identity
 * the joined VMA would carry agrees with each side's (Linux 6.18, checked with a probe):
 * with the left and right pages touched separately (two identities) the middle joins the
 * left only; with only the right one touched all three become one.
 *   A r B -> AA B        . r B -> BBB */
TEST(a_middle_vma_joins_both_neighbours_only_with_one_anon_identity)
{
	struct env e = env_open();
	map_rw(&e, 0, 1);
	EXPECT_EQ(poke(e.t, W, 7), 1);
	map_rw(&e, 2, 1);
	EXPECT_EQ(poke(e.t, W + 2 * PG, 9), 1);
	EXPECT_EQ(do_mmap(e.t, W + PG, PG, PROT_READ, ANON | MAP_FIXED), W + PG);
	EXPECT_EQ(maps_count(e.t, "20000000"), 3);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W + PG, PG, RW, 0, 0, 0), 0);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000002000 rw-p 00000000 00:00 0 ");
	EXPECT_STREQ(maps_line_at(e.t, W + 2 * PG), "200000002000-200000003000 rw-p 00000000 00:00 0 ");
	EXPECT_EQ(maps_count(e.t, "20000000"), 2);
	EXPECT_EQ(peek(e.t, W), 7);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 9);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);

	EXPECT_EQ(SC(e.t, SYS_munmap, W, 3 * PG, 0, 0, 0, 0), 0);
	map_rw(&e, 0, 1);
	map_rw(&e, 2, 1);
	EXPECT_EQ(poke(e.t, W + 2 * PG, 9), 1);
	EXPECT_EQ(do_mmap(e.t, W + PG, PG, PROT_READ, ANON | MAP_FIXED), W + PG);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W + PG, PG, RW, 0, 0, 0), 0);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000003000 rw-p 00000000 00:00 0 ");
	EXPECT_EQ(maps_count(e.t, "20000000"), 1);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 9);
	EXPECT_EQ(poke(e.t, W, 3), 1);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* The number after `field` in a proc view, or -1. */
static long view_kb(pm_thread *t, int pid, const char *view, const char *field)
{
	const char *s = strstr(proc_text(t, pid, view), field);
	return s ? strtol(s + strlen(field), NULL, 10) : -1;
}

/* One munmap across three touched VMAs, two of them charged at first touch (mode 0) and
 * one MAP_NORESERVE, gives back exactly the charge of the charged pages it removes and
 * exactly their RSS, however the zap batches its counters (64 frames at a time, and a
 * charge that changes VMA mid-batch).
 *   AAAAA|NNNNN|CCC  ->  AAA.........CC */
TEST(munmap_across_charged_and_noreserve_vmas_returns_exact_charge_and_rss)
{
	struct env e = env_open();
	long c0 = view_kb(e.t, -1, "meminfo", "Committed_AS:");
	EXPECT_EQ(do_mmap(e.t, W, 100 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(do_mmap(e.t, W + 100 * PG, 100 * PG, RW, ANON | MAP_FIXED | MAP_NORESERVE), W + 100 * PG);
	EXPECT_EQ(do_mmap(e.t, W + 200 * PG, 30 * PG, RW, ANON | MAP_FIXED), W + 200 * PG);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000064000 rw-p 00000000 00:00 0 ");
	EXPECT_STREQ(maps_line_at(e.t, W + 100 * PG), "200000064000-2000000c8000 rw-p 00000000 00:00 0 ");
	EXPECT_STREQ(maps_line_at(e.t, W + 200 * PG), "2000000c8000-2000000e6000 rw-p 00000000 00:00 0 ");
	for (int i = 0; i < 230; i++)
		REQUIRE_EQ(poke(e.t, W + i * PG, 1), 1);
	EXPECT_EQ(view_kb(e.t, -1, "meminfo", "Committed_AS:") - c0, 130 * 4);
	EXPECT_EQ(view_kb(e.t, 0, "status", "RssAnon:"), 230 * 4);
	EXPECT_EQ(SC(e.t, SYS_munmap, W + 50 * PG, 160 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_kb(e.t, -1, "meminfo", "Committed_AS:") - c0, 70 * 4);
	EXPECT_EQ(view_kb(e.t, 0, "status", "RssAnon:"), 70 * 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 230 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_kb(e.t, -1, "meminfo", "Committed_AS:"), c0);
	EXPECT_EQ(view_kb(e.t, 0, "status", "RssAnon:"), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* mprotect over RW,hole,RW fails with ENOMEM after changing the part before the hole,
 * exactly as Linux 6.18 does (linux-anchors §2.5).
 *   A.A -> r.A  (= -ENOMEM) */
TEST(mprotect_across_a_hole_changes_the_part_before_it)
{
	struct env e = env_open();
	map_rw(&e, 0, 1);
	map_rw(&e, 2, 1);
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W, 3 * PG, PROT_READ, 0, 0, 0), -ENOMEM);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000001000 r--p 00000000 00:00 0 ");
	EXPECT_STREQ(maps_line_at(e.t, W + 2 * PG), "200000002000-200000003000 rw-p 00000000 00:00 0 ");
	env_close(&e);
}

/* Data survives PROT_NONE and comes back readable; writes to read-only pages fault with
 * SEGV_ACCERR (SPEC §4). The process opts in to dynamic code, since RW -> RX is W^X's. */
TEST(protection_changes_keep_data_and_are_enforced)
{
	struct env e = env_open();
	EXPECT_EQ(SC(e.t, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 1, 0, 0, 0, 0), 0);
	map_rw(&e, 0, 2);
	EXPECT_EQ(poke(e.t, W, 0x42), 1);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W, 2 * PG, PROT_NONE, 0, 0, 0), 0);
	pm_siginfo si;
	uint8_t b = 0;
	EXPECT_ERRNO(pm_access(e.t, W, &b, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.code, SEGV_ACCERR);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W, 2 * PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(peek(e.t, W), 0x42);
	EXPECT_ERRNO(pm_access(e.t, W, &b, 1, PM_WRITE, &si), -EFAULT);
	EXPECT_EQ(si.code, SEGV_ACCERR);
	EXPECT_ERRNO(pm_access(e.t, W, &b, 1, PM_EXEC, &si), -EFAULT);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W, 2 * PG, PROT_READ | PROT_EXEC, 0, 0, 0), 0);
	EXPECT_EQ(pm_access(e.t, W, &b, 1, PM_EXEC, &si), 1);
	EXPECT_EQ(b, 0x42);
	env_close(&e);
}

/* The software TLB never serves a stale translation: after munmap and after mprotect the
 * next access faults, even though the previous one hit (SPEC §1). */
TEST(tlb_is_invalidated_by_munmap_and_mprotect)
{
	struct env e = env_open();
	map_rw(&e, 0, 1);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(poke(e.t, W + 8, 1), 1);	/* warm the TLB */
	EXPECT_EQ(SC(e.t, SYS_mprotect, W, PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_ERRNO(poke(e.t, W + 8, 2), -EFAULT);
	EXPECT_EQ(peek(e.t, W + 8), 1);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, PG, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(peek(e.t, W + 8), -EFAULT);
	map_rw(&e, 0, 1);
	EXPECT_EQ(peek(e.t, W + 8), 0);	/* a new mapping, a new zeroed page */
	env_close(&e);
}

/* PROT_GROWSDOWN extends mprotect to the start of a grows-down VMA. */
TEST(prot_growsdown_extends_to_the_vma_start)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED | MAP_GROWSDOWN), W);
	EXPECT_EQ(SC(e.t, SYS_mprotect, W + 2 * PG, PG, PROT_READ | PROT_GROWSDOWN, 0, 0, 0), 0);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000003000 r--p 00000000 00:00 0 ");
	env_close(&e);
}

/* An access that spans two pages checks both: the second page's fault is reported at its
 * own address. */
TEST(access_across_a_page_boundary_faults_at_the_second_page)
{
	struct env e = env_open();
	map_rw(&e, 0, 1);
	uint8_t buf[16] = { 0 };
	pm_siginfo si;
	EXPECT_ERRNO(pm_access(e.t, W + PG - 8, buf, 16, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.addr, W + PG);
	map_rw(&e, 1, 1);
	memset(buf, 0x77, sizeof(buf));
	EXPECT_EQ(pm_access(e.t, W + PG - 8, buf, 16, PM_WRITE, &si), 16);
	EXPECT_EQ(peek(e.t, W + PG + 7), 0x77);
	env_close(&e);
}
