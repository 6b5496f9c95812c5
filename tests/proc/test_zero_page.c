/*
 * The shared zero page and pm_config.no_zero_page (SPEC §1, §7, §10). By default a read of
 * untouched private anonymous memory maps the one zero frame: pagemap shows the same frame
 * everywhere, never exclusive, and smaps does not count it. A system made with
 * no_zero_page behaves as a Linux kernel where mm_forbids_zeropage holds (some VM kernels,
 * s390 KVM hosts): every such read gets a zeroed frame of its own, which Rss and Anonymous
 * count, clean in a read-only VMA and dirty in a writable one (do_anonymous_page). Both
 * settings are checked here so the option is tested whatever the host kernel does.
 */
#include "mm/thp_env.h"

#define TCB_TOKEN "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium " \
		  "privs=SeTcbPrivilege:enabled"

static struct env open_zero_page(int no_zero_page)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = 42;
	cfg.no_zero_page = no_zero_page;
	return env_open_cfg(&cfg);
}

/* A reader that sees PFNs in pagemap (SeTcbPrivilege). */
static pm_thread *tcb_reader(struct env *e, pm_token **tok)
{
	int err = 0;
	*tok = pm_token_parse(e->sys, TCB_TOKEN, &err);
	pm_thread *r = *tok ? pm_spawn(e->sys, *tok, NULL) : NULL;
	if (!r) {
		check_failed(__FILE__, __LINE__, "spawning a SeTcb reader failed");
		exit(1);
	}
	return r;
}

/* mincore of one page: 1 resident, 0 not, or -errno. */
static long resident(pm_thread *t, uint64_t va)
{
	uint8_t v = 0xff;
	uint64_t vec = pm_scratch(t, &v, 1);
	long r = SC(t, SYS_mincore, (long)va, PG, (long)vec, 0, 0, 0);
	if (r)
		return r;
	pm_access(t, vec, &v, 1, PM_READ, NULL);
	return v & 1;
}

/* Default: two reads map one shared frame, present but not exclusive, not in Rss; a
 * fork copies no PTE of such a VMA (it has no anon identity), so the child starts with
 * nothing resident. */
TEST(a_read_fault_maps_the_shared_zero_page_by_default)
{
	struct env e = open_zero_page(0);
	pm_token *tok;
	pm_thread *r = tcb_reader(&e, &tok);
	long a = do_mmap(e.t, 0, 2 * PG, PROT_READ, ANON);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(peek(e.t, a), 0);
	EXPECT_EQ(peek(e.t, a + PG), 0);
	uint64_t p0 = pagemap_at(r, pm_pid(e.t), a), p1 = pagemap_at(r, pm_pid(e.t), a + PG);
	EXPECT_TRUE((p0 & PM_E_PRESENT) && (p1 & PM_E_PRESENT));
	EXPECT_TRUE((p0 & PM_E_PFN) != 0);
	EXPECT_EQ(p0 & PM_E_PFN, p1 & PM_E_PFN);
	EXPECT_EQ((p0 | p1) & PM_E_EXCL, 0);
	EXPECT_EQ(smaps_kb(e.t, a, "Rss"), 0);
	EXPECT_EQ(smaps_kb(e.t, a, "Anonymous"), 0);
	EXPECT_EQ(resident(e.t, a), 1);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(resident(c, a), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	pm_token_put(tok);
	env_close(&e);
}

/* no_zero_page: each read gets its own zeroed, exclusive frame that Rss and Anonymous
 * count, clean in a read-only VMA; mprotect to RW then a write keeps the same frame. */
TEST(with_no_zero_page_a_read_fault_maps_a_private_zeroed_frame)
{
	struct env e = open_zero_page(1);
	pm_token *tok;
	pm_thread *r = tcb_reader(&e, &tok);
	long a = do_mmap(e.t, 0, 3 * PG, PROT_READ, ANON);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(peek(e.t, a), 0);
	EXPECT_EQ(peek(e.t, a + PG), 0);
	uint64_t p0 = pagemap_at(r, pm_pid(e.t), a), p1 = pagemap_at(r, pm_pid(e.t), a + PG);
	EXPECT_TRUE((p0 & PM_E_PRESENT) && (p1 & PM_E_PRESENT));
	EXPECT_TRUE((p0 & PM_E_EXCL) && (p1 & PM_E_EXCL));
	EXPECT_TRUE((p0 & PM_E_PFN) != (p1 & PM_E_PFN));
	EXPECT_EQ(smaps_kb(e.t, a, "Rss"), 8);
	EXPECT_EQ(smaps_kb(e.t, a, "Anonymous"), 8);
	EXPECT_EQ(smaps_kb(e.t, a, "Private_Clean"), 8);
	EXPECT_EQ(smaps_kb(e.t, a, "Private_Dirty"), 0);
	EXPECT_EQ(field_of(proc_text(e.t, 0, "status"), "RssAnon"), 8);
	EXPECT_EQ(resident(e.t, a + 2 * PG), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(e.t, SYS_mprotect, a, 3 * PG, RW, 0, 0, 0), 0);
	EXPECT_EQ(poke(e.t, a, 7), 1);
	uint64_t w0 = pagemap_at(r, pm_pid(e.t), a);
	EXPECT_EQ(w0 & PM_E_PFN, p0 & PM_E_PFN);
	EXPECT_EQ(smaps_kb(e.t, a, "Private_Dirty"), 4);
	EXPECT_EQ(smaps_kb(e.t, a, "Private_Clean"), 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	pm_token_put(tok);
	env_close(&e);
}

/* no_zero_page in a writable VMA: a read maps the frame writable and dirty, as a write
 * would; MAP_POPULATE of read-only memory and MADV_POPULATE_READ allocate too. */
TEST(with_no_zero_page_reads_and_populate_allocate_frames)
{
	struct env e = open_zero_page(1);
	long w = do_mmap(e.t, 0, 2 * PG, RW, ANON);
	REQUIRE_EQ(w > 0, 1);
	EXPECT_EQ(peek(e.t, w), 0);
	EXPECT_EQ(smaps_kb(e.t, w, "Private_Dirty"), 4);
	EXPECT_EQ(smaps_kb(e.t, w, "Anonymous"), 4);
	long p = do_mmap(e.t, 0, 4 * PG, PROT_READ, ANON | MAP_POPULATE);
	REQUIRE_EQ(p > 0, 1);
	EXPECT_EQ(smaps_kb(e.t, p, "Anonymous"), 16);
	EXPECT_EQ(smaps_kb(e.t, p, "Private_Clean"), 16);
	long q = do_mmap(e.t, 0, 2 * PG, RW, ANON);
	REQUIRE_EQ(q > 0, 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, q, 2 * PG, MADV_POPULATE_READ, 0, 0, 0), 0);
	EXPECT_EQ(smaps_kb(e.t, q, "Anonymous"), 8);
	EXPECT_EQ(smaps_kb(e.t, q, "Private_Dirty"), 8);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* no_zero_page: read-faulted memory has an anon identity and real frames, so fork shares
 * them copy-on-write: the child sees them resident, not exclusive, at half Pss. */
TEST(with_no_zero_page_fork_shares_read_faulted_frames)
{
	struct env e = open_zero_page(1);
	long a = do_mmap(e.t, 0, 2 * PG, PROT_READ, ANON);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(peek(e.t, a), 0);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(resident(c, a), 1);
	EXPECT_EQ(resident(c, a + PG), 0);
	EXPECT_EQ(pagemap_at(c, 0, a) & (PM_E_PRESENT | PM_E_EXCL), PM_E_PRESENT);
	EXPECT_EQ(smaps_kb(c, a, "Rss"), 4);
	EXPECT_EQ(smaps_kb(c, a, "Pss"), 2);
	EXPECT_EQ(peek(c, a), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* no_zero_page and THP (do_huge_pmd_anonymous_page): a read fault in a MADV_HUGEPAGE
 * block maps a huge page of its own, not the huge zero page: dirty, writable only in a
 * writable VMA, counted in AnonHugePages (checked on Linux 6.18 with a read-only VMA). */
TEST(with_no_zero_page_a_huge_read_fault_maps_a_dirty_huge_page)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = 42;
	cfg.no_zero_page = 1;
	struct tenv k = tenv_open_cfg(&cfg);
	pm_thread *t = k.e.t;
	long a = thp_area(t, 1), b = thp_area(t, 1);
	REQUIRE_EQ(a > 0 && b > 0, 1);
	EXPECT_EQ(SC(t, SYS_mprotect, a, HP, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, a, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, b, HP, MADV_HUGEPAGE, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, a + 5), 0);
	EXPECT_EQ(smaps_kb(t, a, "AnonHugePages"), 2048);
	EXPECT_EQ(smaps_kb(t, a, "Private_Dirty"), 2048);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);	/* no writable entry in r-- */
	EXPECT_EQ(peek(t, b + 5), 0);
	EXPECT_EQ(smaps_kb(t, b, "AnonHugePages"), 2048);
	EXPECT_EQ(poke(t, b + 5, 7), 1);
	EXPECT_EQ(vmstat(t, "thp_fault_alloc"), 2);
	EXPECT_EQ(vmstat(t, "thp_zero_page_alloc"), 0);
	EXPECT_EQ(pm_check_invariants(k.e.sys), 0);
	tenv_close(&k);
}
