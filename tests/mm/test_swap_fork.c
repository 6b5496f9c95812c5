/*
 * Reclaim of anonymous memory shared after fork (copy-on-write) and of unmapped swap-cache
 * frames (src/reclaim/README.md "Reverse map"): LRU reclaim reaches every PTE of a frame
 * through the anon_vma tree, all of them become one swap entry (one slot, one reference
 * each), and both twins read the bytes back with copy-on-write intact. Frames MADV_WILLNEED
 * read into the swap cache are reclaimed like any cold page. MADV_PAGEOUT still takes only
 * exclusive pages, as Linux 6.18's madvise_cold_or_pageout_pte_range does.
 */
#include "pm_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sys/sys.h"	/* one test holds a twin's mm lock, as a busy thread of it would */

#define W 0x200000000000L
#define TCB_TOKEN "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium " \
		  "privs=SeTcbPrivilege:enabled"

static pm_config swap_cfg(long ram, long swap)
{
	pm_config c;
	pm_config_default(&c);
	c.ram_bytes = (uint64_t)ram;
	c.swap_bytes = (uint64_t)swap;
	c.seed = 11;
	return c;
}

static uint8_t byte_of(int i, int b, int salt)
{
	return (uint8_t)(b * 5 + i * 17 + salt);
}

static void fill(pm_thread *t, long va, int pages, int salt)
{
	static uint8_t page[PG];
	for (int i = 0; i < pages; i++) {
		for (int b = 0; b < PG; b++)
			page[b] = byte_of(i, b, salt);
		EXPECT_EQ(pm_access(t, va + i * PG, page, PG, PM_WRITE, NULL), PG);
	}
}

/* Pages [first, first + pages) of the range at va hold what fill wrote? */
static int same_from(pm_thread *t, long va, int first, int pages, int salt)
{
	static uint8_t page[PG];
	for (int i = first; i < first + pages; i++) {
		if (pm_access(t, va + i * PG, page, PG, PM_READ, NULL) != PG)
			return 0;
		for (int b = 0; b < PG; b++)
			if (page[b] != byte_of(i, b, salt)) {
				fprintf(stderr, "page %d byte %d = %#x, want %#x\n", i, b, page[b],
					byte_of(i, b, salt));
				return 0;
			}
	}
	return 1;
}

static int same(pm_thread *t, long va, int pages, int salt)
{
	return same_from(t, va, 0, pages, salt);
}

/* The number after name in the smaps block of t's VMA that starts at va, or -1. */
static long vma_field(pm_thread *t, long va, const char *name)
{
	char key[32];
	snprintf(key, sizeof(key), "%08lx-", (unsigned long)va);
	const char *s = strstr(proc_text(t, 0, "smaps"), key);
	const char *f = s ? strstr(s, name) : NULL;
	return f ? strtol(f + strlen(name), NULL, 10) : -1;
}

/* Swap slot of each page in [va, va + n pages) of pid as pagemap shows it to a SeTcb
 * reader (0 = not swapped). */
static void slots_of(pm_thread *tcb, int pid, long va, int n, uint64_t *out)
{
	uint64_t ent[64];
	REQUIRE_EQ(n <= 64, 1);
	EXPECT_EQ(pm_proc_read(tcb, pid, "pagemap", ent, (size_t)n * 8, (uint64_t)va / PG * 8),
		  (long)n * 8);
	for (int i = 0; i < n; i++)
		out[i] = (ent[i] & (1ULL << 62)) ? (ent[i] & ((1ULL << 55) - 1)) >> 5 : 0;
}

/* Reclaim passes until nothing more goes (young pages need two: one to age them). */
static void shrink_all(pm_system *sys)
{
	for (int i = 0; i < 6; i++)
		pm_debug_shrink(sys, 1 << 20);
}

static pm_thread *spawn_tcb(pm_system *sys)
{
	int err;
	pm_token *tok = pm_token_parse(sys, TCB_TOKEN, &err);
	pm_thread *t = tok ? pm_spawn(sys, tok, NULL) : NULL;
	pm_token_put(tok);
	return t;
}

/* Parent P and child C share N written pages after fork (COW). LRU reclaim swaps them out
 * from both: each PTE becomes the same swap entry, SwapFree drops by N pages (not 2N),
 * RSS and smaps follow; both read the bytes back; writes after swap-in are private; each
 * exit gives back its references and SwapFree returns once both are gone. */
TEST(fork_shared_pages_swap_out_once_from_both_twins)
{
	enum { N = 32 };
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	pm_thread *tcb = spawn_tcb(e.sys);
	REQUIRE_EQ(tcb != NULL, 1);
	/* P is a child of the test's process, so both twins can exit while the test's
	 * own (untouched) address space stays. */
	long ppid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *p = pm_thread_of(e.sys, (int)ppid);
	REQUIRE_EQ(p != NULL, 1);
	shrink_all(e.sys);	/* whatever else is cold goes first */
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	REQUIRE_EQ(do_mmap(p, W, N * PG, RW, ANON | MAP_FIXED), W);
	fill(p, W, N, 1);
	long cpid = SC(p, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ch = pm_thread_of(e.sys, (int)cpid);
	REQUIRE_EQ(ch != NULL, 1);
	EXPECT_EQ(vma_field(ch, W, "\nRss:"), N * 4);
	EXPECT_EQ(vma_field(ch, W, "\nPss:"), N * 2);
	/* MADV_PAGEOUT leaves shared pages alone (folio_maybe_mapped_shared). */
	EXPECT_EQ(SC(p, SYS_madvise, W, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(p, W, N), N);
	long rss_p = view_field(p, "status", "RssAnon:"), rss_c = view_field(ch, "status", "RssAnon:");
	shrink_all(e.sys);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(mincore_resident(p, W, N), 0);
	EXPECT_EQ(mincore_resident(ch, W, N), 0);
	EXPECT_EQ(vma_field(p, W, "\nSwap:"), N * 4);
	EXPECT_EQ(vma_field(ch, W, "\nSwap:"), N * 4);
	EXPECT_EQ(vma_field(ch, W, "\nSwapPss:"), N * 2);	/* each slot named twice */
	EXPECT_EQ(vma_field(ch, W, "\nRss:"), 0);
	EXPECT_TRUE(view_field(p, "status", "RssAnon:") <= rss_p - N * 4);
	EXPECT_TRUE(view_field(ch, "status", "RssAnon:") <= rss_c - N * 4);
	uint64_t sp[N], sc[N];
	slots_of(tcb, (int)ppid, W, N, sp);
	slots_of(tcb, (int)cpid, W, N, sc);
	for (int i = 0; i < N; i++) {
		EXPECT_TRUE(sp[i] != 0);
		EXPECT_EQ(sp[i], sc[i]);	/* one slot for both twins */
	}
	/* W is all P and C hold: VmSwap counts N pages in each, SwapFree drops by N, not 2N. */
	EXPECT_EQ(view_field(p, "status", "VmSwap:"), N * 4);
	EXPECT_EQ(view_field(ch, "status", "VmSwap:"), N * 4);
	EXPECT_EQ(free0 - view_field(e.t, "meminfo", "SwapFree:"), N * 4);
	EXPECT_TRUE(view_field(e.t, "vmstat", "pgsteal_anon ") >= N);
	/* Both read back; the child's read maps the swap-cache frame the parent's left. */
	EXPECT_TRUE(same(p, W, N, 1));
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(ch, W, N, 1));
	EXPECT_EQ(vma_field(ch, W, "\nSwap:"), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	/* Copy-on-write after swap-in: the writer copies, the twin keeps the old bytes. */
	poke(ch, W, 0xee);
	poke(p, W + PG, 0xdd);
	EXPECT_EQ(peek(p, W), byte_of(0, 0, 1));
	EXPECT_EQ(peek(ch, W), 0xee);
	EXPECT_EQ(peek(ch, W + PG), byte_of(1, 0, 1));
	EXPECT_EQ(peek(p, W + PG), 0xdd);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	/* Out again, then exits: each drops its own references. */
	shrink_all(e.sys);
	EXPECT_EQ(mincore_resident(ch, W + 2 * PG, N - 2), 0);
	long mid = view_field(e.t, "meminfo", "SwapFree:");
	EXPECT_EQ(SC(ch, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(view_field(e.t, "meminfo", "SwapFree:") < free0);	/* P still names them */
	EXPECT_TRUE(view_field(e.t, "meminfo", "SwapFree:") >= mid);
	EXPECT_TRUE(same_from(p, W, 2, N - 2, 1));	/* the parent's copy, now its own */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(p, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);
	env_close(&e);
}

/* Three generations: P forks C, C forks G, C exits. The frames P faulted are owned by P's
 * anon_vma; G's VMAs descend from it through C's (kept while G's live), so reclaim still
 * finds G's PTEs, also after G moved its copy (mremap) and split it (mprotect). A
 * MADV_WIPEONFORK range in G starts empty and leaves P's pages exclusive. */
TEST(reclaim_reaches_a_grandchild_across_an_exited_middle_generation)
{
	enum { N = 16 };
	const long W2 = W + 0x10000000L, WIPE = W + 0x20000000L;
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	pm_thread *tcb = spawn_tcb(e.sys);
	REQUIRE_EQ(tcb != NULL, 1);
	long ppid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *p = pm_thread_of(e.sys, (int)ppid);
	REQUIRE_EQ(p != NULL, 1);
	shrink_all(e.sys);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	REQUIRE_EQ(do_mmap(p, W, N * PG, RW, ANON | MAP_FIXED), W);
	REQUIRE_EQ(do_mmap(p, WIPE, 4 * PG, RW, ANON | MAP_FIXED), WIPE);
	fill(p, W, N, 7);
	fill(p, WIPE, 4, 8);
	EXPECT_EQ(SC(p, SYS_madvise, WIPE, 4 * PG, MADV_WIPEONFORK, 0, 0, 0), 0);
	long cpid = SC(p, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ch = pm_thread_of(e.sys, (int)cpid);
	REQUIRE_EQ(ch != NULL, 1);
	long gpid = SC(ch, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *g = pm_thread_of(e.sys, (int)gpid);
	REQUIRE_EQ(g != NULL, 1);
	EXPECT_EQ(SC(ch, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(peek(g, WIPE), 0);	/* wiped in C already */
	EXPECT_EQ(SC(g, SYS_mremap, W, N * PG, N * PG, MREMAP_MAYMOVE | MREMAP_FIXED, W2, 0), W2);
	EXPECT_EQ(SC(g, SYS_mprotect, W2 + 4 * PG, 4 * PG, PROT_READ, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	shrink_all(e.sys);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(mincore_resident(p, W, N), 0);
	EXPECT_EQ(mincore_resident(g, W2, N), 0);
	EXPECT_EQ(mincore_resident(p, WIPE, 4), 0);	/* exclusive: the old path */
	uint64_t sp[N], sg[N];
	slots_of(tcb, (int)ppid, W, N, sp);
	slots_of(tcb, (int)gpid, W2, N, sg);
	for (int i = 0; i < N; i++) {
		EXPECT_TRUE(sp[i] != 0);
		EXPECT_EQ(sp[i], sg[i]);
	}
	EXPECT_TRUE(same(g, W2, N, 7));
	poke(g, W2, 0x42);
	EXPECT_TRUE(same(p, W, N, 7));
	EXPECT_TRUE(same(p, WIPE, 4, 8));
	EXPECT_EQ(peek(g, W2), 0x42);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(g, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(p, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	env_close(&e);
}

/* A clean swap-cache frame no PTE maps (MADV_WILLNEED's read-in) is reclaimed by dropping
 * it from the swap cache: the slot keeps the bytes, the PTE stays a swap entry. */
TEST(unmapped_swap_cache_frames_are_reclaimed)
{
	enum { N = 64 };
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, N * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, N, 3);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	long swapfree = view_field(e.t, "meminfo", "SwapFree:");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), N * 4);
	EXPECT_EQ(mincore_resident(e.t, W, N), N);
	long steal0 = view_field(e.t, "vmstat", "pgsteal_anon ");
	long memfree = view_field(e.t, "meminfo", "MemFree:");
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	pm_debug_shrink(e.sys, 1 << 20);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);
	EXPECT_EQ(mincore_resident(e.t, W, N), 0);
	EXPECT_TRUE(view_field(e.t, "meminfo", "MemFree:") >= memfree + N * 4);
	EXPECT_TRUE(view_field(e.t, "vmstat", "pgsteal_anon ") >= steal0 + N);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), swapfree);	/* slots kept */
	EXPECT_EQ(view_field(e.t, "status", "VmSwap:"), N * 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	long in0 = view_field(e.t, "vmstat", "pswpin ");
	EXPECT_TRUE(same(e.t, W, N, 3));
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + N);	/* read again from the slots */
	env_close(&e);
}

/* 32 MiB of RAM and 24 MiB of swap: 20 MiB swapped out, all of it MADV_WILLNEED'd back
 * into the swap cache, then 20 MiB more written. Only 4 MiB of swap is left for the new
 * pages, so they fit only if the cached frames give way (they did not before: the old
 * read-in kept 1/32 of RAM free and the OOM killer came): no OOM kill, and every byte of
 * both ranges reads back. */
TEST(willneed_swap_cache_gives_way_to_new_memory)
{
	const int n = 20 * MiB / PG;
	const long W2 = W + 0x10000000L;
	pm_config c = swap_cfg(32 * MiB, 24 * MiB);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, n * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, n, 5);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, n * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "status", "VmSwap:"), n * 4);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, n * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_TRUE(view_field(e.t, "meminfo", "SwapCached:") >= 16 * 1024);	/* > 1/32 reserve */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	REQUIRE_EQ(do_mmap(e.t, W2, n * PG, RW, ANON | MAP_FIXED), W2);
	fill(e.t, W2, n, 6);
	pm_system_tick(e.sys, 1);
	EXPECT_EQ(view_field(e.t, "vmstat", "oom_kill "), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, W2, n, 6));
	EXPECT_TRUE(same(e.t, W, n, 5));
	EXPECT_EQ(view_field(e.t, "vmstat", "oom_kill "), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* A slot both twins name after fork is read back by the child first: the frame goes to
 * the swap cache owned by the root of their anon_vma tree, so when the parent maps it too,
 * reclaim still reaches both PTEs and frees it (owned by the child's identity, the
 * parent's PTE would be out of reach and the frame would stay). */
TEST(a_twin_read_back_frame_is_reclaimed_from_both_twins)
{
	enum { N = 8 };
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, N * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, N, 4);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	long cpid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ch = pm_thread_of(e.sys, (int)cpid);
	REQUIRE_EQ(ch != NULL, 1);
	EXPECT_TRUE(same(ch, W, N, 4));
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), N * 4);
	EXPECT_TRUE(same(e.t, W, N, 4));	/* maps the cached frames */
	EXPECT_EQ(vma_field(ch, W, "\nPss:"), N * 2);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 + N * 4);	/* slots gone */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	shrink_all(e.sys);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(mincore_resident(e.t, W, N), 0);
	EXPECT_EQ(mincore_resident(ch, W, N), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);
	EXPECT_TRUE(same(e.t, W, N, 4));
	EXPECT_TRUE(same(ch, W, N, 4));
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Reclaim only try-locks the address spaces of a shared frame, all of them before it
 * changes any PTE: while one twin's mm is busy (its lock held, as a fault or mmap would),
 * the frames stay mapped in both twins (rotated, nothing half done); once it is free they
 * go out of both. */
TEST(a_busy_twin_keeps_shared_frames_in_both_until_it_is_free)
{
	enum { N = 16 };
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, N * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, N, 9);
	long cpid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ch = pm_thread_of(e.sys, (int)cpid);
	REQUIRE_EQ(ch != NULL, 1);
	struct mm_struct *busy = ch->proc->mm;
	pthread_rwlock_rdlock(&busy->lock);
	shrink_all(e.sys);
	pthread_rwlock_unlock(&busy->lock);
	EXPECT_EQ(mincore_resident(e.t, W, N), N);
	EXPECT_EQ(mincore_resident(ch, W, N), N);
	EXPECT_EQ(vma_field(ch, W, "\nSwap:"), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);	/* nor held in the swap cache */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	shrink_all(e.sys);
	EXPECT_EQ(mincore_resident(e.t, W, N), 0);
	EXPECT_EQ(mincore_resident(ch, W, N), 0);
	EXPECT_TRUE(same(ch, W, N, 9));
	EXPECT_TRUE(same(e.t, W, N, 9));
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* MADV_PAGEOUT takes a page mapped by this process alone even when it is in the swap cache
 * (its twin still names the slot): the PTE becomes the slot's entry again, the frame goes.
 * A page both twins map stays (folio_maybe_mapped_shared). */
TEST(pageout_of_a_swap_cached_page_mapped_once_reuses_its_slot)
{
	enum { N = 4 };
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, N * PG, RW, ANON | MAP_FIXED), W);
	fill(e.t, W, N, 2);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	long cpid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ch = pm_thread_of(e.sys, (int)cpid);
	REQUIRE_EQ(ch != NULL, 1);
	EXPECT_TRUE(same(e.t, W, N, 2));
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), N * 4);
	long out0 = view_field(e.t, "vmstat", "pswpout ");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(e.t, W, N), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpout "), out0);	/* nothing written: same slots */
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(ch, W, N, 2));
	EXPECT_TRUE(same(e.t, W, N, 2));
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(e.t, W, N), N);	/* both map them now: shared, left alone */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Three twins (a parent and two children sharing 8 MiB after fork) read and write their
 * copies on three host threads while a fourth reclaims over and over on a machine too small
 * for all of it: every read sees what that process last wrote (or the inherited bytes),
 * never a twin's write, and the invariants hold at the end. */
enum { RACE_PAGES = 2048 };
static atomic_int race_stop;
struct twin {
	pm_thread *t;
	uint64_t rng;
	uint64_t want[RACE_PAGES];
	atomic_long bad;
};

static void *twin_run(void *arg)
{
	struct twin *w = arg;
	while (!atomic_load(&race_stop)) {
		w->rng ^= w->rng << 13;
		w->rng ^= w->rng >> 7;
		w->rng ^= w->rng << 17;
		long i = (long)(w->rng % RACE_PAGES);
		uint64_t v = 0;
		if (w->rng & 0x300) {
			if (pm_access(w->t, (uint64_t)(W + i * PG + 64), &v, 8, PM_READ, NULL) != 8 ||
			    v != w->want[i])
				atomic_fetch_add(&w->bad, 1);
		} else {
			v = w->rng;
			if (pm_access(w->t, (uint64_t)(W + i * PG + 64), &v, 8, PM_WRITE, NULL) != 8)
				atomic_fetch_add(&w->bad, 1);
			w->want[i] = v;
		}
	}
	return NULL;
}

TEST(twins_racing_reclaim_read_their_own_bytes)
{
	pm_config c = swap_cfg(16 * MiB, 48 * MiB);
	struct env e = env_open_cfg(&c);
	static struct twin tw[3];
	REQUIRE_EQ(do_mmap(e.t, W, RACE_PAGES * PG, RW, ANON | MAP_FIXED), W);
	for (long i = 0; i < RACE_PAGES; i++) {
		uint64_t v = 0x5100000000ULL + (uint64_t)i;
		EXPECT_EQ(pm_access(e.t, (uint64_t)(W + i * PG + 64), &v, 8, PM_WRITE, NULL), 8);
		for (int k = 0; k < 3; k++)
			tw[k].want[i] = v;
	}
	tw[0].t = e.t;
	for (int k = 1; k < 3; k++) {
		long pid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
		tw[k].t = pm_thread_of(e.sys, (int)pid);
		REQUIRE_EQ(tw[k].t != NULL, 1);
	}
	pthread_t th[3];
	atomic_store(&race_stop, 0);
	for (int k = 0; k < 3; k++) {
		tw[k].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
		atomic_store(&tw[k].bad, 0);
		REQUIRE_EQ(pthread_create(&th[k], NULL, twin_run, &tw[k]), 0);
	}
	for (int r = 0; r < 300; r++) {
		pm_debug_shrink(e.sys, 512);
		pm_system_tick(e.sys, 1);
	}
	atomic_store(&race_stop, 1);
	for (int k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	printf("race: pswpout %ld, pswpin %ld\n", view_field(e.t, "vmstat", "pswpout "),
	       view_field(e.t, "vmstat", "pswpin "));
	for (int k = 0; k < 3; k++) {
		EXPECT_EQ(atomic_load(&tw[k].bad), 0);
		for (long i = 0; i < RACE_PAGES; i++) {
			uint64_t v = 0;
			EXPECT_EQ(pm_access(tw[k].t, (uint64_t)(W + i * PG + 64), &v, 8, PM_READ, NULL), 8);
			if (v != tw[k].want[i]) {
				EXPECT_EQ(v, tw[k].want[i]);
				break;
			}
		}
	}
	EXPECT_TRUE(view_field(e.t, "vmstat", "pswpout ") > 0);
	EXPECT_EQ(view_field(e.t, "vmstat", "oom_kill "), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Shared anonymous memory (shmem) MADV_WILLNEED'd back into the swap cache: those frames
 * are on the anon LRU too, and reclaim drops them from the cache while the object's index
 * still names the slots; the bytes come back from the slots. */
TEST(shmem_willneed_swap_cache_frames_are_reclaimed)
{
	enum { N = 64 };
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, W, N * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), W);
	fill(e.t, W, N, 12);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(e.t, W, N), 0);
	long cached0 = view_field(e.t, "meminfo", "SwapCached:");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, N * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), cached0 + N * 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	pm_debug_shrink(e.sys, 1 << 20);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 0);
	EXPECT_EQ(mincore_resident(e.t, W, N), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, W, N, 12));
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* A frame that is mapped and also in the swap cache (the parent read it back while its fork
 * twin still names the slot) holds one reference more than its PTEs: the cache's. Collapse
 * accepts that one, as Linux's is_refcount_suitable does, so MADV_COLLAPSE over the block
 * (that frame plus 511 swap entries) makes a huge page; the twin keeps its bytes. */
TEST(collapse_accepts_the_swap_cache_reference)
{
	enum { N = 512 };
	const long H = W + 0x40000000L;	/* 2 MiB aligned */
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	REQUIRE_EQ(do_mmap(e.t, H, N * PG, RW, ANON | MAP_FIXED), H);
	fill(e.t, H, N, 6);
	EXPECT_EQ(SC(e.t, SYS_madvise, H, N * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	long cpid = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ch = pm_thread_of(e.sys, (int)cpid);
	REQUIRE_EQ(ch != NULL, 1);
	EXPECT_TRUE(same_from(e.t, H, 0, 1, 6));	/* mapped, and cached for the twin */
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapCached:"), 4);
	EXPECT_EQ(SC(e.t, SYS_madvise, H, N * PG, MADV_COLLAPSE, 0, 0, 0), 0);
	EXPECT_EQ(vma_field(e.t, H, "AnonHugePages:"), 2048);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, H, N, 6));
	EXPECT_TRUE(same(ch, H, N, 6));
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}
