/*
 * madvise: validation order and errnos, MADV_DONTNEED's zero refault, flag advice splitting
 * VMAs, populate advice, and the advice this build refuses (SPEC §6).
 */
#include "pm_test.h"

#define W 0x200000000000L

/* Unknown advice is EINVAL before anything else; a hole is ENOMEM (linux-anchors §2.7). */
TEST(madvise_validates_like_linux)
{
	struct env e = env_open();
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, 0, 999, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W + 1, PG, MADV_DONTNEED, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 0, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, MADV_DONTNEED, 0, 0, 0), -ENOMEM);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, MADV_HWPOISON, 0, 0, 0), -EPERM);
	env_close(&e);
}

/* DONTNEED on private anonymous memory: the next read sees zeroes and RSS drops. */
TEST(dontneed_zaps_and_refaults_zero)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 4; i++)
		poke(e.t, W + i * PG, 0xee);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "RssAnon:\t      16 kB") != NULL);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, 2 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "RssAnon:\t       8 kB") != NULL);
	EXPECT_EQ(peek(e.t, W), 0xee);
	EXPECT_EQ(peek(e.t, W + PG), 0);
	EXPECT_EQ(peek(e.t, W + 3 * PG), 0xee);
	env_close(&e);
}

/* DONTNEED on shared anonymous memory keeps the contents: they live in the object. */
TEST(dontneed_on_shared_memory_keeps_contents)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	poke(e.t, W, 0x33);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(peek(e.t, W), 0x33);
	env_close(&e);
}

/* Flag advice splits the VMA like mprotect; undoing it merges back.
 *   AAA -> AdA -> AAA   (d = VM_DONTCOPY) */
TEST(flag_advice_splits_and_merges)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 3 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, MADV_DONTFORK, 0, 0, 0), 0);
	EXPECT_EQ(maps_count(e.t, "20000000"), 3);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + PG, PG, MADV_DOFORK, 0, 0, 0), 0);
	EXPECT_EQ(maps_count(e.t, "20000000"), 1);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, PG, MADV_WIPEONFORK, 0, 0, 0), 0);
	EXPECT_EQ(do_mmap(e.t, W + 8 * PG, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W + 8 * PG);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W + 8 * PG, PG, MADV_WIPEONFORK, 0, 0, 0), -EINVAL);
	env_close(&e);
}

/* POPULATE_WRITE faults pages in; on a mapping that forbids writes it is EINVAL, as
 * Linux 6.18 answers (madvise_populate). */
TEST(populate_write_faults_in_or_is_einval)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_POPULATE_WRITE, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "status"), "RssAnon:\t      16 kB") != NULL);
	EXPECT_EQ(do_mmap(e.t, W + 8 * PG, PG, PROT_READ, ANON | MAP_FIXED), W + 8 * PG);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W + 8 * PG, PG, MADV_POPULATE_WRITE, 0, 0, 0), -EINVAL);
	env_close(&e);
}

/* Advice whose machinery this build lacks would be EINVAL, as Linux answers for advice its
 * build does not carry. KSM is built now: MADV_MERGEABLE is accepted and marks the VMA
 * (VmFlags "mg"), so it is not silently ignored either (STYLE §3.1). */
TEST(advice_without_machinery_is_refused_not_ignored)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, PG, MADV_MERGEABLE, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(proc_text(e.t, 0, "smaps"), " mg") != NULL);
	env_close(&e);
}
