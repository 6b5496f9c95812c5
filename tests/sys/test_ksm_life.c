/*
 * KSM across a process's life (SPEC §6): MADV_UNMERGEABLE and PR_SET_MEMORY_MERGE off
 * give every mapping its own copy (bytes intact, counters back); PR_SET_MEMORY_MERGE marks
 * existing and later VMAs, brk included; fork hands merged pages to the child
 * copy-on-write and exit drops its sharing; exec keeps MERGE_ANY, as Linux 6.7+ does
 * (probed on 6.18: PR_GET_MEMORY_MERGE reads 1 after execve).
 */
#include "ksm_env.h"

static void run_ticks(struct kenv *k, int n)
{
	EXPECT_EQ(pm_registry_set(k->admin, "KsmRun", 1), 0);
	pm_system_tick(k->e.sys, (unsigned)n);
}

TEST(madv_unmergeable_unmerges_with_data_intact_and_counters_back)
{
	struct kenv k = kenv_open(31);
	map_filled(k.e.t, RA, 8, 0x40, 0, 1);
	map_filled(k.e.t, RB, 8, 0x40, 0, 1);
	uint64_t free0 = free_frames(k.e.sys);
	run_ticks(&k, 4);
	REQUIRE_EQ(ksm_val(&k, "pages_sharing"), 15);
	EXPECT_EQ(free_frames(k.e.sys), free0 + 15);
	EXPECT_EQ(SC(k.e.t, SYS_madvise, RA, 8 * PG, MADV_UNMERGEABLE, 0, 0, 0), 0);
	EXPECT_EQ(vma_mergeable(k.e.t, 0, RA), 0);
	EXPECT_EQ(vma_mergeable(k.e.t, 0, RB), 1);
	EXPECT_TRUE(strstr(smaps_block(k.e.t, 0, RA), "\nKSM:                   0 kB\n") != NULL);
	EXPECT_EQ(free_frames(k.e.sys), free0 + 7);	/* 8 private copies came back */
	for (int i = 0; i < 8; i++)
		EXPECT_TRUE(page_is(k.e.t, RA, i, 0x40));
	pm_system_tick(k.e.sys, 1);	/* the scan drops the items of RA */
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 7);
	EXPECT_STREQ(proc_text(k.e.t, 0, "ksm_merging_pages"), "8\n");
	EXPECT_EQ(SC(k.e.t, SYS_madvise, RB, 8 * PG, MADV_UNMERGEABLE, 0, 0, 0), 0);
	pm_system_tick(k.e.sys, 1);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 0);
	EXPECT_EQ(free_frames(k.e.sys), free0);
	EXPECT_TRUE(page_is(k.e.t, RB, 7, 0x40));
	EXPECT_EQ(poke(k.e.t, RB, 1), 1);	/* the private copy is written in place */
	EXPECT_EQ(free_frames(k.e.sys), free0);
	kenv_close(&k);
}

TEST(prctl_memory_merge_marks_existing_later_and_brk_vmas_and_off_unmerges)
{
	struct kenv k = kenv_open(32);
	pm_thread *t = k.e.t;
	map_filled(t, RA, 4, 0x33, 0, 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_MEMORY_MERGE, 0, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_prctl, PR_SET_MEMORY_MERGE, 1, 1, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_prctl, PR_GET_MEMORY_MERGE, 1, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(t, SYS_prctl, PR_SET_MEMORY_MERGE, 1, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_MEMORY_MERGE, 0, 0, 0, 0, 0), 1);
	EXPECT_EQ(vma_mergeable(t, 0, RA), 1);	/* existing */
	map_filled(t, RB, 4, 0x33, 0, 0);
	EXPECT_EQ(vma_mergeable(t, 0, RB), 1);	/* later */
	long brk0 = SC(t, SYS_brk, 0, 0, 0, 0, 0, 0);
	long brk1 = SC(t, SYS_brk, brk0 + 4 * PG, 0, 0, 0, 0, 0);
	REQUIRE_EQ(brk1, brk0 + 4 * PG);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(poke(t, (uint64_t)(brk0 + i * PG), 0), 1);
	static uint8_t page[PG];
	memset(page, 0x33, PG);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(pm_access(t, (uint64_t)(brk0 + i * PG), page, PG, PM_WRITE, NULL), PG);
	EXPECT_EQ(vma_mergeable(t, 0, brk0 & ~(PG - 1)), 1);	/* brk */
	EXPECT_TRUE(strstr(proc_text(t, 0, "ksm_stat"), "ksm_merge_any: yes\n") != NULL);
	run_ticks(&k, 4);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 11);
	EXPECT_EQ(SC(t, SYS_prctl, PR_SET_MEMORY_MERGE, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_prctl, PR_GET_MEMORY_MERGE, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(vma_mergeable(t, 0, RA), 0);
	EXPECT_EQ(vma_mergeable(t, 0, RB), 0);
	EXPECT_STREQ(proc_text(t, 0, "ksm_merging_pages"), "12\n");	/* until the next scan */
	pm_system_tick(k.e.sys, 1);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 0);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 0);
	EXPECT_STREQ(proc_text(t, 0, "ksm_merging_pages"), "0\n");
	EXPECT_TRUE(page_is(t, RA, 3, 0x33));
	EXPECT_TRUE(page_is(t, RB, 0, 0x33));
	EXPECT_EQ(peek(t, (uint64_t)brk0 + 2 * PG + 100), 0x33);
	map_filled(t, RA + 64 * PG, 1, 0x33, 0, 0);
	EXPECT_EQ(vma_mergeable(t, 0, RA + 64 * PG), 0);	/* later ones no longer */
	kenv_close(&k);
}

/* fork: the child maps the same KSM frames (no copy); its writes copy for it alone;
 * the scan counts its mappings too; its exit takes them away; no frame is lost. */
TEST(fork_shares_merged_pages_copy_on_write_and_exit_drops_the_sharing)
{
	struct kenv k = kenv_open(33);
	pm_thread *t = k.e.t;
	map_filled(t, RA, 8, 0x40, 0, 1);
	map_filled(t, RB, 8, 0x40, 0, 1);
	run_ticks(&k, 4);
	REQUIRE_EQ(ksm_val(&k, "pages_sharing"), 15);
	uint64_t free0 = free_frames(k.e.sys);
	long pid = SC(t, SYS_fork, 0, 0, 0, 0, 0, 0);
	REQUIRE_EQ(pid > 0, 1);
	pm_thread *c = pm_thread_of(k.e.sys, (int)pid);
	EXPECT_TRUE(page_is(c, RA, 5, 0x40));
	EXPECT_TRUE(strstr(smaps_block(c, (int)pid, RA), "\nKSM:                  32 kB\n") != NULL);
	EXPECT_EQ(poke(c, RB + 3 * PG, 0x99), 1);
	EXPECT_EQ(peek(c, RB + 3 * PG), 0x99);
	EXPECT_TRUE(page_is(t, RB, 3, 0x40));
	pm_system_tick(k.e.sys, 2);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 15 + 15);
	EXPECT_STREQ(proc_text(c, (int)pid, "ksm_merging_pages"), "15\n");
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	EXPECT_EQ(SC(c, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 15);
	EXPECT_EQ(free_frames(k.e.sys) >= free0, 1);
	pm_system_tick(k.e.sys, 2);
	EXPECT_EQ(ksm_val(&k, "pages_shared"), 1);
	EXPECT_EQ(ksm_val(&k, "pages_sharing"), 15);
	EXPECT_TRUE(page_is(t, RB, 7, 0x40));
	kenv_close(&k);
}

/* Linux 6.7+ keeps MMF_VM_MERGE_ANY in the new mm and registers it (ksm_execve); fork
 * keeps it too. */
TEST(merge_any_survives_fork_and_exec_as_in_linux_6_7_and_later)
{
	struct kenv k = kenv_open(34);
	pm_thread *t = k.e.t;
	EXPECT_EQ(SC(t, SYS_prctl, PR_SET_MEMORY_MERGE, 1, 0, 0, 0, 0), 0);
	long pid = SC(t, SYS_fork, 0, 0, 0, 0, 0, 0);
	REQUIRE_EQ(pid > 0, 1);
	pm_thread *c = pm_thread_of(k.e.sys, (int)pid);
	EXPECT_EQ(SC(c, SYS_prctl, PR_GET_MEMORY_MERGE, 0, 0, 0, 0, 0), 1);
	REQUIRE_EQ(SC(c, SYS_execve, (long)pm_scratch(c, "/bin/ls", 8), 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(c, SYS_prctl, PR_GET_MEMORY_MERGE, 0, 0, 0, 0, 0), 1);
	map_filled(c, RA, 4, 0x21, 0, 0);
	map_filled(c, RB, 4, 0x21, 0, 0);
	EXPECT_EQ(vma_mergeable(c, (int)pid, RA), 1);
	run_ticks(&k, 4);
	EXPECT_STREQ(proc_text(c, (int)pid, "ksm_merging_pages"), "8\n");
	EXPECT_TRUE(strstr(proc_text(c, (int)pid, "ksm_stat"), "ksm_merge_any: yes\n") != NULL);
	kenv_close(&k);
}
