/*
 * /proc/<pid>/smaps and smaps_rollup (SPEC §10): every field Linux 6.x prints, computed
 * from the page tables. Each test changes the memory one way (write, fork, clear_refs,
 * mlock, pkey_mprotect) and checks that the figures move as Linux's would.
 */
#include "proc_test.h"

/* A written page is private dirty anonymous memory; a read of untouched anonymous memory
 * maps the zero page, which smaps does not count (vm_normal_page). Field order and widths
 * are Linux's "%-16s%8lu kB". */
TEST(smaps_counts_written_pages_as_private_dirty)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 4 * PG, RW, ANON);
	EXPECT_EQ(poke(e.t, a, 1), 1);
	EXPECT_EQ(poke(e.t, a + PG, 1), 1);
	EXPECT_EQ(peek(e.t, a + 2 * PG), 0);
	const char *s = smaps_entry(e.t, 0, a);
	EXPECT_TRUE(strstr(s, "\nSize:                 16 kB\nKernelPageSize:        4 kB\n"
			   "MMUPageSize:           4 kB\nRss:                   8 kB\n"
			   "Pss:                   8 kB\nPss_Dirty:             8 kB\n"
			   "Shared_Clean:          0 kB\nShared_Dirty:          0 kB\n"
			   "Private_Clean:         0 kB\nPrivate_Dirty:         8 kB\n"
			   "Referenced:            8 kB\nAnonymous:             8 kB\n"
			   "KSM:                   0 kB\nLazyFree:              0 kB\n"
			   "AnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\n"
			   "FilePmdMapped:         0 kB\nShared_Hugetlb:        0 kB\n"
			   "Private_Hugetlb:       0 kB\nSwap:                  0 kB\n"
			   "SwapPss:               0 kB\nLocked:                0 kB\n"
			   "THPeligible:           0\nProtectionKey:         0\n"
			   "VmFlags: rd wr mr mw me ac \n") != NULL);
	if (!strstr(s, "\nSize:                 16 kB\n"))
		fprintf(stderr, "entry:\n%s\n", s);
	env_close(&e);
}

/* After fork the parent's pages are mapped twice: Pss halves and the pages turn shared.
 * Once the child writes one page, the parent's copy of it is private again:
 *   before fork  parent Pss 8   after fork  Pss 4 (2 x 4/2)   child COW  Pss 6 (2 + 4) */
TEST(smaps_pss_halves_after_fork_and_recovers_after_cow)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 2 * PG, RW, ANON);
	poke(e.t, a, 1);
	poke(e.t, a + PG, 1);
	EXPECT_EQ(smaps_kb(e.t, a, "Pss"), 8);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_TRUE(c != NULL);
	EXPECT_EQ(smaps_kb(e.t, a, "Rss"), 8);
	EXPECT_EQ(smaps_kb(e.t, a, "Pss"), 4);
	EXPECT_EQ(smaps_kb(e.t, a, "Shared_Dirty"), 8);
	EXPECT_EQ(smaps_kb(e.t, a, "Private_Dirty"), 0);
	EXPECT_EQ(smaps_kb(c, a, "Pss"), 4);
	EXPECT_EQ(poke(c, a, 2), 1);
	EXPECT_EQ(smaps_kb(e.t, a, "Pss"), 6);
	EXPECT_EQ(smaps_kb(e.t, a, "Shared_Dirty"), 4);
	EXPECT_EQ(smaps_kb(e.t, a, "Private_Dirty"), 4);
	EXPECT_EQ(smaps_kb(c, a, "Pss"), 6);
	env_close(&e);
}

/* clear_refs 1 clears the Accessed bits: Referenced drops to 0 and counts again only
 * the pages touched afterwards (clear_refs_write, CLEAR_REFS_ALL). */
TEST(clear_refs_1_resets_referenced_until_next_access)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 3 * PG, RW, ANON | MAP_POPULATE);
	EXPECT_EQ(smaps_kb(e.t, a, "Referenced"), 12);
	EXPECT_EQ(clear_refs(e.t, "1\n"), 2);
	EXPECT_EQ(smaps_kb(e.t, a, "Referenced"), 0);
	EXPECT_EQ(smaps_kb(e.t, a, "Rss"), 12);
	EXPECT_EQ(peek(e.t, a + PG), 0);
	EXPECT_EQ(smaps_kb(e.t, a, "Referenced"), 4);
	EXPECT_ERRNO(clear_refs(e.t, "0"), -EINVAL);
	EXPECT_ERRNO(clear_refs(e.t, "6"), -EINVAL);
	EXPECT_ERRNO(clear_refs(e.t, "x"), -EINVAL);
	env_close(&e);
}

/* clear_refs 2 touches only anonymous VMAs, 3 only file-backed ones (shared anonymous
 * memory counts as file-backed, as Linux backs it with /dev/zero). */
TEST(clear_refs_2_and_3_split_anon_and_mapped)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, PG, RW, ANON | MAP_POPULATE);
	long s = do_mmap(e.t, 0, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE);
	EXPECT_EQ(clear_refs(e.t, "3"), 1);
	EXPECT_EQ(smaps_kb(e.t, a, "Referenced"), 4);
	EXPECT_EQ(smaps_kb(e.t, s, "Referenced"), 0);
	EXPECT_EQ(peek(e.t, s), 0);
	EXPECT_EQ(clear_refs(e.t, "2"), 1);
	EXPECT_EQ(smaps_kb(e.t, a, "Referenced"), 0);
	EXPECT_EQ(smaps_kb(e.t, s, "Referenced"), 4);
	env_close(&e);
}

/* Locked counts the (Pss of the) resident pages of VM_LOCKED VMAs, and VmFlags shows lo. */
TEST(smaps_locked_counts_mlocked_pages)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 3 * PG, RW, ANON | MAP_LOCKED);
	EXPECT_TRUE(a > 0);
	EXPECT_EQ(smaps_kb(e.t, a, "Locked"), 12);
	EXPECT_EQ(smaps_kb(e.t, a, "Rss"), 12);
	EXPECT_STREQ(vmflags_at(e.t, 0, a), "rd wr mr mw me lo ac ");
	long b = do_mmap(e.t, 0, 2 * PG, PROT_READ, ANON);
	EXPECT_EQ(SC(e.t, SYS_mlock, b, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(e.t, b, "Locked"), 0);	/* the zero page is not a normal page */
	EXPECT_STREQ(vmflags_at(e.t, 0, b), "rd mr mw me lo ");
	env_close(&e);
}

/* ProtectionKey shows the VMA's key after pkey_mprotect (SPEC §10). */
TEST(smaps_protection_key_follows_pkey_mprotect)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 2 * PG, RW, ANON);
	long k = SC(e.t, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0);
	EXPECT_TRUE(k > 0);
	EXPECT_EQ(smaps_kb(e.t, a, "ProtectionKey"), 0);
	EXPECT_EQ(SC(e.t, SYS_pkey_mprotect, a, PG, RW, k, 0, 0), 0);
	EXPECT_EQ(smaps_kb(e.t, a, "ProtectionKey"), k);
	EXPECT_EQ(smaps_kb(e.t, a + PG, "ProtectionKey"), 0);
	env_close(&e);
}

/* VmFlags: shared anonymous memory (sh ms), advice bits (dc wf dd sr rr hg), growsdown
 * (gd), sealing (sl), each in Linux's bit order. */
TEST(smaps_vmflags_use_linux_codes_in_bit_order)
{
	struct env e = env_open();
	long s = do_mmap(e.t, 0, PG, RW, MAP_SHARED | MAP_ANONYMOUS);
	EXPECT_STREQ(vmflags_at(e.t, 0, s), "rd wr sh mr mw me ms ");
	long a = do_mmap(e.t, 0, PG, RW, ANON | MAP_NORESERVE);
	EXPECT_STREQ(vmflags_at(e.t, 0, a), "rd wr mr mw me nr ");
	long b = do_mmap(e.t, 0, PG, RW, ANON);
	EXPECT_EQ(SC(e.t, SYS_madvise, b, PG, MADV_DONTFORK, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, b, PG, MADV_WIPEONFORK, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, b, PG, MADV_DONTDUMP, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, b, PG, MADV_RANDOM, 0, 0, 0), 0);
	EXPECT_STREQ(vmflags_at(e.t, 0, b), "rd wr mr mw me rr dc ac wf dd ");
	long g = do_mmap(e.t, 0, PG, RW, ANON | MAP_GROWSDOWN);
	EXPECT_STREQ(vmflags_at(e.t, 0, g), "rd wr mr mw me gd ac ");
	long x = do_mmap(e.t, 0, PG, PROT_READ, ANON);
	EXPECT_EQ(SC(e.t, 462 /* mseal */, x, PG, 0, 0, 0, 0), 0);
	EXPECT_STREQ(vmflags_at(e.t, 0, x), "rd mr mw me sl ");
	env_close(&e);
}

/* Shared anonymous memory is shmem: not Anonymous, private while mapped once, shared and
 * halved in Pss once a fork maps it twice. */
TEST(smaps_shared_anon_is_shmem_and_splits_after_fork)
{
	struct env e = env_open();
	long s = do_mmap(e.t, 0, 2 * PG, RW, MAP_SHARED | MAP_ANONYMOUS);
	poke(e.t, s, 1);
	EXPECT_EQ(smaps_kb(e.t, s, "Rss"), 4);
	EXPECT_EQ(smaps_kb(e.t, s, "Anonymous"), 0);
	EXPECT_EQ(smaps_kb(e.t, s, "Private_Dirty"), 4);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_TRUE(c != NULL);
	EXPECT_EQ(peek(c, s), 1);
	EXPECT_EQ(smaps_kb(e.t, s, "Pss"), 2);
	EXPECT_EQ(smaps_kb(e.t, s, "Shared_Dirty") + smaps_kb(e.t, s, "Shared_Clean"), 4);
	env_close(&e);
}

/* smaps_rollup: one "[rollup]" header spanning every VMA, then the sums, with the Pss
 * split by kind; its Rss is the sum of the smaps entries' Rss. */
TEST(smaps_rollup_sums_every_vma)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 3 * PG, RW, ANON | MAP_POPULATE);
	long s = do_mmap(e.t, 0, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE);
	EXPECT_TRUE(a > 0 && s > 0);
	const char *all = proc_text(e.t, 0, "smaps");
	long rss = 0, pss = 0;
	for (const char *p = strstr(all, "\nRss:"); p; p = strstr(p + 1, "\nRss:"))
		rss += strtol(p + 5, NULL, 10);
	for (const char *p = strstr(all, "\nPss:"); p; p = strstr(p + 1, "\nPss:"))
		pss += strtol(p + 5, NULL, 10);
	EXPECT_TRUE(strstr(all, "[vsyscall]\nSize:                  4 kB\n") != NULL);
	const char *r = proc_text(e.t, 0, "smaps_rollup");
	EXPECT_TRUE(strstr(r, " ---p 00000000 00:00 0                          [rollup]\n"
			   "Rss:") != NULL);
	EXPECT_EQ(field_of(r, "Rss"), rss);
	EXPECT_EQ(field_of(r, "Pss"), pss);
	EXPECT_EQ(field_of(r, "Pss_Anon"), 12);
	EXPECT_EQ(field_of(r, "Pss_Shmem"), 4);
	EXPECT_EQ(field_of(r, "Size"), -1);
	EXPECT_EQ(field_of(r, "VmFlags"), -1);
	EXPECT_TRUE(strstr(r, "\nLocked:                0 kB\n") != NULL);
	env_close(&e);
}

/* smaps needs PROCESS_QUERY_INFORMATION (SPEC §7): an impersonated client that only has
 * the limited right is refused, even for /proc/self. */
TEST(smaps_and_pagemap_are_gated_by_query_information)
{
	struct env e = env_open();
	int err = 0;
	pm_token *other = pm_token_parse(e.sys, "user=S-1-5-21-1-2002 groups=S-1-1-0 il=medium", &err);
	EXPECT_EQ(pm_impersonate(e.t, other), 0);
	char buf[64];
	EXPECT_ERRNO(pm_proc_read(e.t, 0, "smaps", buf, sizeof(buf), 0), -EACCES);
	EXPECT_ERRNO(pm_proc_read(e.t, 0, "smaps_rollup", buf, sizeof(buf), 0), -EACCES);
	EXPECT_ERRNO(pm_proc_read(e.t, 0, "pagemap", buf, 8, 0), -EACCES);
	EXPECT_ERRNO(clear_refs(e.t, "1"), -EACCES);
	EXPECT_EQ(pm_revert(e.t), 0);
	pm_token_put(other);
	EXPECT_TRUE(pm_proc_read(e.t, 0, "smaps", buf, sizeof(buf), 0) > 0);
	env_close(&e);
}
