/*
 * mmap of anonymous memory: argument validation in Linux's order and with its errnos,
 * placement (hints, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_32BIT), the Peios rules for
 * mmap_min_addr and MAP_UNINITIALIZED, max_map_count, and the merge outcomes seen in maps.
 */
#include "pm_test.h"

#define W 0x200000000000L	/* a window no layout uses */

/* The errno table of mmap for anonymous memory (SPEC §3, §5; linux-anchors §2.4). */
TEST(mmap_rejects_bad_arguments_with_linux_errnos)
{
	struct env e = env_open();
	EXPECT_ERRNO(do_mmap(e.t, 0, 0, RW, ANON), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_mmap, 0, PG, RW, ANON, -1, 1), -EINVAL);	/* unaligned offset */
	EXPECT_ERRNO(do_mmap(e.t, 0, PG, RW, MAP_ANONYMOUS), -EINVAL);		/* no type */
	EXPECT_ERRNO(do_mmap(e.t, 0, PG, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS), -EINVAL);
	EXPECT_ERRNO(do_mmap(e.t, 0, PG, RW, MAP_PRIVATE), -EBADF);		/* fd -1, not anonymous */
	EXPECT_ERRNO(do_mmap(e.t, W + 1, PG, RW, ANON | MAP_FIXED), -EINVAL);
	EXPECT_ERRNO(do_mmap(e.t, 0x7ffffffff000L, 2 * PG, RW, ANON | MAP_FIXED), -ENOMEM);
	EXPECT_ERRNO(do_mmap(e.t, 0, -PG, RW, ANON), -ENOMEM);			/* length overflows */
	EXPECT_ERRNO(do_mmap(e.t, 0, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN), -EINVAL);
	env_close(&e);
}

/* Unknown prot bits are ignored by mmap, as on Linux (only mprotect validates them). */
TEST(mmap_ignores_unknown_prot_bits)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, PG, RW | 0x10, ANON);
	EXPECT_TRUE(a > 0);
	env_close(&e);
}

/* MAP_UNINITIALIZED is EINVAL on the default image (SPEC §5). */
TEST(map_uninitialized_is_einval_on_the_default_system)
{
	struct env e = env_open();
	EXPECT_ERRNO(do_mmap(e.t, 0, PG, RW, ANON | MAP_UNINITIALIZED), -EINVAL);
	env_close(&e);
}

/* MAP_FIXED below mmap_min_addr (65536) is EPERM without SeTcbPrivilege, and allowed with
 * it enabled; a hint below it is moved up (SPEC §10). */
TEST(map_fixed_below_mmap_min_addr_needs_setcb)
{
	struct env e = env_open();
	EXPECT_ERRNO(do_mmap(e.t, 0x1000, PG, RW, ANON | MAP_FIXED), -EPERM);
	EXPECT_ERRNO(do_mmap(e.t, 0xf000, PG, RW, ANON | MAP_FIXED_NOREPLACE), -EPERM);
	long h = do_mmap(e.t, 0x1000, PG, RW, ANON);
	EXPECT_TRUE(h >= 65536);
	int err;
	pm_token *tcb = pm_token_parse(e.sys, "user=S-1-5-21-1-1002 privs=SeTcbPrivilege:enabled", &err);
	pm_token *off = pm_token_parse(e.sys, "user=S-1-5-21-1-1002 privs=SeTcbPrivilege", &err);
	pm_thread *t2 = pm_spawn(e.sys, off, NULL);
	EXPECT_ERRNO(do_mmap(t2, 0x1000, PG, RW, ANON | MAP_FIXED), -EPERM);	/* present, not enabled */
	pm_thread *t3 = pm_spawn(e.sys, tcb, NULL);
	EXPECT_EQ(do_mmap(t3, 0x1000, PG, RW, ANON | MAP_FIXED), 0x1000);
	EXPECT_EQ(poke(t3, 0x1000, 7), 1);
	pm_token_put(tcb);
	pm_token_put(off);
	env_close(&e);
}

/* MAP_FIXED_NOREPLACE fails with EEXIST on any overlap, even partial (SPEC §5). */
TEST(map_fixed_noreplace_refuses_any_overlap)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, 4 * PG, RW, ANON | MAP_FIXED_NOREPLACE), W + 4 * PG);
	EXPECT_ERRNO(do_mmap(e.t, W + 4 * PG, PG, RW, ANON | MAP_FIXED_NOREPLACE), -EEXIST);
	EXPECT_ERRNO(do_mmap(e.t, W + 2 * PG, 3 * PG, RW, ANON | MAP_FIXED_NOREPLACE), -EEXIST);
	EXPECT_ERRNO(do_mmap(e.t, W + 7 * PG, 3 * PG, RW, ANON | MAP_FIXED_NOREPLACE | MAP_FIXED), -EEXIST);
	EXPECT_EQ(do_mmap(e.t, W + 8 * PG, PG, RW, ANON | MAP_FIXED_NOREPLACE), W + 8 * PG);
	env_close(&e);
}

/* MAP_FIXED replaces what was there: the old contents are gone (SPEC §5).
 *   before: AAAA     after: AXXA (X is new, zero-filled) */
TEST(map_fixed_replaces_existing_pages)
{
	struct env e = env_open();
	REQUIRE_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 4; i++)
		poke(e.t, W + i * PG, 0x11);
	EXPECT_EQ(do_mmap(e.t, W + PG, 2 * PG, PROT_READ, ANON | MAP_FIXED), W + PG);
	EXPECT_EQ(peek(e.t, W), 0x11);
	EXPECT_EQ(peek(e.t, W + PG), 0);
	EXPECT_EQ(peek(e.t, W + 3 * PG), 0x11);
	EXPECT_STREQ(maps_line_at(e.t, W + PG), "200000001000-200000003000 r--p 00000000 00:00 0 ");
	env_close(&e);
}

/* A free hint is honoured exactly; an occupied one is not (arch_get_unmapped_area_topdown). */
TEST(free_hint_is_honoured_and_busy_hint_moves)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON), W);
	long b = do_mmap(e.t, W, PG, PROT_READ, ANON);
	EXPECT_TRUE(b > 0 && b != W);
	env_close(&e);
}

/* MAP_32BIT places the mapping in [0x40000000, 0x80000000) (SPEC §5). */
TEST(map_32bit_lands_in_the_low_2gib_window)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 8 * PG, RW, ANON | MAP_32BIT);
	EXPECT_TRUE(a >= 0x40000000L && a + 8 * PG <= 0x80000000L);
	env_close(&e);
}

/* Anonymous mappings that are multiples of 2 MiB are 2 MiB aligned (THP placement). */
TEST(large_anonymous_mappings_are_pmd_aligned)
{
	struct env e = env_open();
	do_mmap(e.t, 0, 3 * PG, RW, ANON);
	long a = do_mmap(e.t, 0, 4 * MiB, RW, ANON);
	EXPECT_EQ(a & (2 * MiB - 1), 0);
	env_close(&e);
}

/* Adjacent anonymous mappings with the same flags merge into one VMA; different
 * protections do not (SPEC §3).
 *   AA + BB -> AAAA     AA + rr -> AArr */
TEST(adjacent_compatible_mappings_merge)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(do_mmap(e.t, W + 2 * PG, 2 * PG, RW, ANON | MAP_FIXED), W + 2 * PG);
	EXPECT_STREQ(maps_line_at(e.t, W), "200000000000-200000004000 rw-p 00000000 00:00 0 ");
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, 2 * PG, PROT_READ, ANON | MAP_FIXED), W + 4 * PG);
	EXPECT_STREQ(maps_line_at(e.t, W + 4 * PG), "200000004000-200000006000 r--p 00000000 00:00 0 ");
	env_close(&e);
}

/* Shared anonymous memory shows as the deleted /dev/zero on device 00:01 (SPEC §3). */
TEST(shared_anonymous_mapping_shows_dev_zero_deleted)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	const char *l = maps_line_at(e.t, W);
	EXPECT_TRUE(strncmp(l, "200000000000-200000002000 rw-s 00000000 00:01 ", 46) == 0);
	EXPECT_TRUE(strstr(l, "/dev/zero (deleted)") != NULL && l[73] == '/');
	EXPECT_EQ(poke(e.t, W, 9), 1);
	EXPECT_EQ(peek(e.t, W), 9);
	env_close(&e);
}

/* max_map_count: a call that would leave more VMAs than the limit is ENOMEM, mmap and
 * splitting munmap alike (SPEC §3). */
TEST(max_map_count_limits_mmap_and_splits)
{
	struct env e = env_open();
	int err;
	pm_token *sysk = pm_token_parse(e.sys, "system", &err);
	pm_thread *admin = pm_spawn(e.sys, sysk, NULL);
	pm_token_put(sysk);
	/* The process has 4 VMAs (stack, vvar, vvar_vclock, vdso); allow 6. */
	EXPECT_EQ(pm_registry_set(admin, "MaxMapCount", 6), 0);
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, 3 * PG, PROT_READ, ANON | MAP_FIXED), W + 4 * PG);
	EXPECT_ERRNO(do_mmap(e.t, W + 10 * PG, PG, RW, ANON | MAP_FIXED), -ENOMEM);
	EXPECT_ERRNO(SC(e.t, SYS_munmap, W + 5 * PG, PG, 0, 0, 0, 0), -ENOMEM);	/* would split in 3 */
	EXPECT_ERRNO(SC(e.t, SYS_mprotect, W + 5 * PG, PG, RW, 0, 0, 0), -ENOMEM);
	EXPECT_EQ(SC(e.t, SYS_munmap, W + 4 * PG, PG, 0, 0, 0, 0), 0);	/* trims, no new VMA */
	EXPECT_EQ(do_mmap(e.t, W + PG, PG, RW, ANON | MAP_FIXED), W + PG);	/* merges: no new VMA */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* MAP_POPULATE faults every page in at mmap time (SPEC §5). */
TEST(map_populate_makes_pages_resident)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED | MAP_POPULATE), W);
	const char *s = proc_text(e.t, 0, "status");
	EXPECT_TRUE(strstr(s, "RssAnon:\t      32 kB") != NULL);
	env_close(&e);
}

/* MAP_LOCKED with RLIMIT_MEMLOCK available locks and populates (VmLck); MAP_STACK sets
 * the no-THP flag only (SPEC §5). */
TEST(map_locked_counts_in_vmlck)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, ANON | MAP_FIXED | MAP_LOCKED), W);
	const char *s = proc_text(e.t, 0, "status");
	EXPECT_TRUE(strstr(s, "VmLck:\t      16 kB") != NULL);
	EXPECT_TRUE(strstr(s, "RssAnon:\t      16 kB") != NULL);
	/* 8 MiB quota: more than that is EAGAIN. */
	EXPECT_ERRNO(do_mmap(e.t, 0, 9 * MiB, RW, ANON | MAP_LOCKED), -EAGAIN);
	env_close(&e);
}

/* MAP_HUGETLB draws from the hugetlb pool, which is empty by default: ENOMEM. */
TEST(map_hugetlb_with_an_empty_pool_is_enomem)
{
	struct env e = env_open();
	EXPECT_ERRNO(do_mmap(e.t, 0, 2 * MiB, RW, ANON | MAP_HUGETLB), -ENOMEM);
	env_close(&e);
}

/* On an embedded image MAP_UNINITIALIZED hands out frames unzeroed: after another mapping
 * wrote and freed them, the new mapping can see old bytes. A plain mapping never does
 * (SPEC §5). */
TEST(map_uninitialized_on_embedded_can_expose_old_data)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 32 * MiB;
	cfg.seed = 5;
	cfg.embedded = 1;
	struct env e = env_open_cfg(&cfg);
	uint8_t page[PG];
	memset(page, 0xc3, sizeof(page));
	EXPECT_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED), W);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(pm_access(e.t, W + i * PG, page, PG, PM_WRITE, NULL), PG);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 8 * PG, 0, 0, 0, 0), 0);
	/* Plain memory: zero, always. */
	EXPECT_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED), W);
	int dirty = 0;
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(poke(e.t, W + i * PG, 0), 1);	/* write fault: a fresh frame */
		EXPECT_EQ(pm_access(e.t, W + i * PG, page, PG, PM_READ, NULL), PG);
		for (int j = 1; j < PG; j++)
			dirty += page[j] != 0;
	}
	EXPECT_EQ(dirty, 0);
	memset(page, 0xc3, sizeof(page));
	for (int i = 0; i < 8; i++)
		pm_access(e.t, W + i * PG, page, PG, PM_WRITE, NULL);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 8 * PG, 0, 0, 0, 0), 0);
	/* MAP_UNINITIALIZED: the recycled frames keep what was there (or the debug poison). */
	EXPECT_EQ(do_mmap(e.t, W, 8 * PG, RW, ANON | MAP_FIXED | MAP_UNINITIALIZED), W);
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(poke(e.t, W + i * PG, 0), 1);
		EXPECT_EQ(pm_access(e.t, W + i * PG, page, PG, PM_READ, NULL), PG);
		for (int j = 1; j < PG; j++)
			dirty += page[j] != 0;
	}
	EXPECT_TRUE(dirty > 0);
	env_close(&e);
}

/* With 5-level paging the user range reaches 56 bits, but mmap returns an address above
 * 47 bits only when the hint is above that boundary (SPEC §1, §5). */
TEST(five_level_paging_goes_high_only_on_a_high_hint)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 32 * MiB;
	cfg.seed = 9;
	cfg.paging_levels = 5;
	struct env e = env_open_cfg(&cfg);
	long low = do_mmap(e.t, 0, PG, RW, ANON);
	EXPECT_TRUE(low > 0 && low < 0x800000000000L);
	long high = do_mmap(e.t, 0x100000000000000L - 0x10000000000L, PG, RW, ANON);
	EXPECT_EQ(high, 0x100000000000000L - 0x10000000000L);
	long fixed = do_mmap(e.t, 0x80000000000000L, PG, RW, ANON | MAP_FIXED);
	EXPECT_EQ(fixed, 0x80000000000000L);
	EXPECT_EQ(poke(e.t, fixed, 4), 1);
	EXPECT_EQ(peek(e.t, fixed), 4);
	/* A 4-level system has no such addresses. */
	struct env f = env_open();
	EXPECT_ERRNO(do_mmap(f.t, 0x80000000000000L, PG, RW, ANON | MAP_FIXED), -ENOMEM);
	env_close(&f);
	env_close(&e);
}
