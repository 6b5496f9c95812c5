/*
 * KSM (SPEC §6): with KsmRun=1, ksmd merges identical anonymous pages of MERGEABLE ranges
 * into one write-protected frame (pages_shared/pages_sharing count them, frames come back),
 * a write breaks the sharing for the writer only, KsmRun=2 unmerges everything, and only
 * SYSTEM may set KsmRun.
 */
#include "ksm_env.h"

static void run_ksmd(struct kenv *k, int ticks)
{
	EXPECT_EQ(pm_registry_set(k->admin, "KsmRun", 1), 0);
	for (int i = 0; i < ticks; i++)
		pm_system_tick(k->e.sys, 1);
}

TEST(ksmd_merges_identical_pages_of_two_processes_and_frees_frames)
{
	struct kenv k = kenv_open(5);
	pm_thread *other = pm_spawn(k.e.sys, k.e.tok, NULL);
	REQUIRE_EQ(other != NULL, 1);
	map_filled(k.e.t, RA, 16, 0x40, 0, 1);	/* 16 pages all 0x40 */
	map_filled(other, RB, 16, 0x40, 0, 1);
	uint64_t before = free_frames(k.e.sys);
	run_ksmd(&k, 10);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 31);
	EXPECT_TRUE(free_frames(k.e.sys) >= before + 31);
	EXPECT_EQ(peek(k.e.t, RA + 5 * PG), 0x40);
	EXPECT_EQ(peek(other, RB + 9 * PG), 0x40);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	kenv_close(&k);
}

TEST(a_write_breaks_sharing_for_the_writer_only)
{
	struct kenv k = kenv_open(6);
	map_filled(k.e.t, RA, 4, 0x11, 0, 1);
	map_filled(k.e.t, RB, 4, 0x11, 0, 1);
	run_ksmd(&k, 10);
	REQUIRE_EQ(ksm_val(&k, "pages_sharing") > 0, 1);
	EXPECT_EQ(poke(k.e.t, RA, 0x99), 1);
	EXPECT_EQ(peek(k.e.t, RA), 0x99);
	EXPECT_EQ(peek(k.e.t, RB), 0x11);
	EXPECT_EQ(peek(k.e.t, RA + PG), 0x11);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	kenv_close(&k);
}

TEST(ksm_run_2_unmerges_everything_and_only_system_sets_ksm_run)
{
	struct kenv k = kenv_open(7);
	map_filled(k.e.t, RA, 8, 0x22, 0, 1);
	run_ksmd(&k, 10);
	REQUIRE_EQ(ksm_val(&k, "pages_sharing") > 0, 1);
	EXPECT_ERRNO(pm_registry_set(k.e.t, "KsmRun", 0), -EACCES);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmRun", 2), 0);
	pm_system_tick(k.e.sys, 1);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 0);
	EXPECT_EQ(peek(k.e.t, RA + 7 * PG), 0x22);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	kenv_close(&k);
}

TEST(pages_not_advised_mergeable_are_left_alone)
{
	struct kenv k = kenv_open(8);
	map_filled(k.e.t, RA, 8, 0x33, 0, 0);
	run_ksmd(&k, 10);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 0);
	kenv_close(&k);
}
