/*
 * Differential tests: random call sequences over a 64-page window run on this machine's
 * Linux kernel and in peimm, compared after every call (SPEC §0.4: any difference not in
 * SPEC §13 is a bug). Environment: PEIMM_DIFF_SEED=<first seed> PEIMM_DIFF_N=<sequences>
 * [PEIMM_DIFF_CALLS=<calls per sequence, max 256>] [PEIMM_DIFF_MAXFAIL=<stop after, 3>] make the fast corpus test run that many
 * sequences from that seed instead of its fixed corpus (`make difftest SEED=... N=...`);
 * PEIMM_DIFF_LAX_MERGE=1 joins adjacent equal maps lines before comparing (a debugging aid).
 */
#include "diff_harness.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pm_test.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 0) : dflt;
}

/* Runs n sequences of `calls` calls from seed `first`; stops after PEIMM_DIFF_MAXFAIL
 * (default 3) failing sequences. */
static void run_corpus(uint64_t first, long n, int calls)
{
	static struct diff_seq s;
	struct diff_caps caps;
	diff_probe_caps(&caps);
	long failed = 0, maxfail = env_long("PEIMM_DIFF_MAXFAIL", 3);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n && failed < maxfail; i++) {
		diff_generate(first + (uint64_t)i, calls, &caps, &s);
		if (!diff_check_and_report(&s, &caps))
			failed++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "diff: seeds %llu.., %ld sequences x %d calls, %s mincore, %s, %.1f s\n",
		(unsigned long long)first, n, calls, caps.pm_mincore ? "with" : "without (peimm: ENOSYS)",
		caps.host_no_zero_page ? "no zero page (host and peimm)" : "with the zero page",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fprintf(stderr, "diff: host side of %ld calls: %ld errors, %ld faults, %ld mmaps in the "
		"window, %ld elsewhere, %ld reads (%ld non-zero), %ld accesses to unmapped pages "
		"that succeeded (stack growth), %ld host page-cache flukes\n", diff_stats.calls,
		diff_stats.errors, diff_stats.signals, diff_stats.in_window, diff_stats.elsewhere,
		diff_stats.reads, diff_stats.nonzero_reads, diff_stats.grows, diff_stats.host_flukes);
}

/* 300 random sequences of 40 calls (mmap of anon memory and of two small files, munmap,
 * mprotect, madvise, mremap, mlock family, mseal, msync, fork, loads and stores) give the
 * same results, maps, mincore, VmLck, page and file contents and faults on peimm as on the
 * host kernel (SPEC §0.4, §3, §5, §6, §9, §10). Env vars select another corpus. */
TEST(random_call_sequences_match_the_host_kernel)
{
	uint64_t seed = (uint64_t)env_long("PEIMM_DIFF_SEED", 1);
	long n = env_long("PEIMM_DIFF_N", 300);
	int calls = (int)env_long("PEIMM_DIFF_CALLS", 40);
	run_corpus(seed, n, calls);
}

/* A wider corpus in the fast suite: 1000 sequences of 80 calls from the big corpus's
 * seeds (about 30 s of CPU on this machine's 2 cores). Under ASan every host-side fork
 * copies the sanitizer's shadow mappings, so that build runs the first 150 only. */
#if defined(__SANITIZE_ADDRESS__)
#define WIDE_FAST_N 150
#else
#define WIDE_FAST_N 1000
#endif
TEST(a_thousand_longer_call_sequences_match_the_host_kernel)
{
	run_corpus(1000000, WIDE_FAST_N, 80);
}

/* The big corpora: 4000 sequences of 80 calls, and 2000 more from a second seed range. */
SLOW_TEST(thousands_of_random_call_sequences_match_the_host_kernel)
{
	run_corpus(1000000, 4000, 80);
	run_corpus(2000000, 2000, 80);
}

/* The peimm side of each declared difference that can be checked today (SPEC §5, §6, §13);
 * the host side is whatever Linux does, so only peimm is asked. */
TEST(declared_differences_hold_in_peimm)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 4 * PG, RW, ANON);
	REQUIRE_EQ(a > 0, 1);
	struct diff_caps caps;
	memset(&caps, 0, sizeof(caps));
	EXPECT_EQ(do_mmap(e.t, 0, PG, RW, ANON | 0x4000000 /* MAP_UNINITIALIZED */), -EINVAL);
	EXPECT_EQ(do_mmap(e.t, 0x1000, PG, RW, ANON | MAP_FIXED), -EPERM);
	long lo = do_mmap(e.t, 0x10000, PG, RW, ANON | MAP_FIXED);
	EXPECT_EQ(lo, 0x10000);
	static const long refused[] = { MADV_HWPOISON, 101 };
	/* HWPOISON and SOFT_OFFLINE are refused for want of SeTcbPrivilege before anything. */
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct diff_call c = { .op = D_MADVISE, .len = PG, .advice = refused[i] };
		const struct diff_difference *d = diff_declared(&c, &caps);
		EXPECT_TRUE(d != NULL && d->how == DD_AVOID);
		long r = SC(e.t, SYS_madvise, a, PG, refused[i], 0, 0, 0);
		if (d && r != d->pm_ret) {
			char g[64], w[64];
			check_failed(__FILE__, __LINE__, "madvise(%#lx, 4096, %ld) = %s, want %s as "
				     "the table declares (update the table)", a, refused[i],
				     val_str(r, g), val_str(d->pm_ret, w));
		}
	}
	struct diff_call u = { .op = D_MMAP, .flags = ANON | 0x4000000 };
	const struct diff_difference *du = diff_declared(&u, &caps);
	EXPECT_TRUE(du != NULL && du->how == DD_ACCEPT && du->pm_ret == -EINVAL);
	if (test_failures == 0) {
		fprintf(stderr, "declared differences:\n");
		for (int i = 0; i < diff_ndifferences; i++)
			fprintf(stderr, "  [%s] %s\n", diff_differences[i].spec,
				diff_differences[i].what);
	}
	env_close(&e);
}

/* The harness itself: a call planted on the peimm side only is found, and the shrinker cuts
 * a 40-call sequence down to the few calls the difference needs. */
TEST(harness_finds_and_shrinks_a_planted_difference)
{
	static struct diff_seq s;
	struct diff_caps caps;
	diff_probe_caps(&caps);
	diff_generate(7, 40, &caps, &s);
	/* Map page 5 on both sides, then unmap it in peimm only, then touch it late on. */
	s.c[3] = (struct diff_call){ .op = D_MMAP, .off = 5 * PG, .len = PG, .prot = RW,
				      .flags = ANON | MAP_FIXED };
	s.c[4] = (struct diff_call){ .op = D_MUNMAP, .off = 5 * PG, .len = PG, .pm_only = 1 };
	for (int i = 5; i < s.n; i++)
		if (s.c[i].op == D_MMAP || s.c[i].op == D_MUNMAP)
			s.c[i] = (struct diff_call){ .op = D_READ, .off = 30 * PG, .len = PG };
	char why[256];
	int bad = diff_run_compare(&s, &caps, why, sizeof(why), NULL, NULL);
	EXPECT_EQ(bad, 4);
	int runs = diff_shrink(&s, &caps, 400);
	EXPECT_TRUE(runs > 1);
	EXPECT_TRUE(s.n >= 1 && s.n <= 2);
	EXPECT_EQ(s.c[s.n - 1].pm_only, 1);
}

/* ---- Minimal reproducers the random corpus found (each fails until peimm is fixed). ---- */

#define CALL_MMAP(o, l, p, f) { .op = D_MMAP, .off = (o), .len = (l), .prot = (p), .flags = (f) }
#define CALL_MPROTECT(o, l, p) { .op = D_MPROTECT, .off = (o), .len = (l), .prot = (p) }
#define CALL_MADVISE(o, l, a) { .op = D_MADVISE, .off = (o), .len = (l), .advice = (a) }

static void run_reproducer(const struct diff_call *calls, int n)
{
	static struct diff_seq s;
	struct diff_caps caps;
	diff_probe_caps(&caps);
	memset(&s, 0, sizeof(s));
	s.n = n;
	for (int i = 0; i < n; i++)
		s.c[i] = calls[i];
	diff_check_and_report(&s, &caps);
}
#define REPRO(...)                                                              \
	do {                                                                    \
		static const struct diff_call c_[] = { __VA_ARGS__ };           \
		run_reproducer(c_, (int)(sizeof(c_) / sizeof(c_[0])));          \
	} while (0)

/* mprotect that removes write from anonymous memory never faulted in drops VM_ACCOUNT
 * (mprotect_fixup), so the two VMAs below become one (SPEC §3 merge rules):
 *   before  [r--][rw-]   after mprotect(both, PROT_NONE)  [------]  */
TEST(mprotect_to_none_merges_untouched_neighbours_like_linux)
{
	REPRO(CALL_MMAP(0x14000, 0xb000, PROT_READ, ANON | MAP_FIXED),
	      CALL_MMAP(0x1f000, 0x1000, RW, ANON | MAP_FIXED),
	      CALL_MPROTECT(0x14000, 0xc000, PROT_NONE));
}

/* mprotect that adds write to private memory charges it and sets VM_ACCOUNT, so it merges
 * with an accounted writable neighbour (SPEC §3):  [-w-][r-x] -> mprotect(RW) -> [rw-]  */
TEST(mprotect_adding_write_merges_with_an_accounted_neighbour_like_linux)
{
	REPRO(CALL_MMAP(0x8000, 0x8000, PROT_WRITE, ANON | MAP_FIXED | MAP_POPULATE),
	      CALL_MMAP(0x10000, 0x8000, PROT_READ, ANON | MAP_FIXED),
	      CALL_MPROTECT(0x8000, 0x10000, RW));
}

/* Making a locked private mapping writable populates it (mprotect_fixup), as mlock would
 * (SPEC §5 MAP_LOCKED): mincore shows every page resident afterwards. */
TEST(mprotect_adding_write_to_locked_memory_populates_it_like_linux)
{
	REPRO(CALL_MMAP(0x12000, 0x7000, PROT_NONE, ANON | MAP_FIXED | MAP_LOCKED),
	      CALL_MPROTECT(0x12000, 0x7000, PROT_WRITE));
}

/* MADV_POPULATE_* on memory whose protection forbids the access is EINVAL, not EFAULT
 * (GUP's check_vma_flags under FOLL_MADV_POPULATE; SPEC §6). */
TEST(madvise_populate_write_of_exec_only_memory_is_einval_like_linux)
{
	REPRO(CALL_MMAP(0xb000, 0xd000, PROT_EXEC, ANON | MAP_FIXED),
	      CALL_MADVISE(0xb000, 0xd000, MADV_POPULATE_WRITE));
}

/* MADV_POPULATE_READ needs VM_READ: on write-only memory it is EINVAL and nothing is
 * populated, although x86 hardware could read the pages (SPEC §6). */
TEST(madvise_populate_read_of_write_only_memory_is_einval_like_linux)
{
	REPRO(CALL_MMAP(0x27000, 0xf000, PROT_WRITE, ANON | MAP_FIXED),
	      CALL_MADVISE(0x2a000, 0x5000, MADV_POPULATE_READ));
}

/* MADV_POPULATE_* stops with ENOMEM at the first hole: a range that starts unmapped
 * populates nothing (SPEC §6).  [hole][rw-] -> populate both -> ENOMEM, rw- not resident */
TEST(madvise_populate_stops_at_the_first_hole_like_linux)
{
	REPRO(CALL_MMAP(0x1d000, 0x5000, RW, ANON | MAP_FIXED),
	      CALL_MADVISE(0x18000, 0x13000, MADV_POPULATE_READ));
}

/* Stack growth gives the VMA its anon identity (expand_downwards calls anon_vma_prepare), so
 * removing write later keeps VM_ACCOUNT and the pieces stay apart (SPEC §2, §3):
 *   [r-- growsdown, grown by a faulting write] -> RW part -> X over both -> 3 VMAs  */
TEST(stack_growth_gives_the_vma_an_anon_identity_like_linux)
{
	REPRO(CALL_MMAP(0xb000, 0x10000, PROT_READ, ANON | MAP_FIXED | MAP_GROWSDOWN),
	      { .op = D_WRITE, .off = 0x4ee3, .val = 0xf5 },
	      CALL_MPROTECT(0xa000, 0x14000, RW),
	      CALL_MPROTECT(0x5000, 0x9000, PROT_EXEC));
}

/* The same through a read fault below the stack and mprotect(PROT_GROWSDOWN). */
TEST(stack_growth_by_a_read_keeps_later_mprotect_pieces_apart_like_linux)
{
	REPRO(CALL_MMAP(0x2c000, 0xd000, PROT_WRITE, ANON | MAP_FIXED | MAP_GROWSDOWN),
	      CALL_MPROTECT(0x2e000, 0x2000, RW),
	      { .op = D_READ, .off = 0x20000, .len = PG },
	      CALL_MPROTECT(0x35000, 0x2000, PROT_EXEC),
	      CALL_MPROTECT(0x2e000, 0x7000, PROT_WRITE),
	      CALL_MPROTECT(0x2e000, 0xd000, PROT_READ | PROT_GROWSDOWN));
}

/* ---- Reproducers for the mremap, fork, mseal and file-mapping calls (diff_ext.c) ---- */

#define CALL_MREMAP(o, l, nl, f, no) { .op = D_MREMAP, .off = (o), .len = (l), .new_len = (nl), \
				       .flags = (f), .new_off = (no) }

/* mremap checks its arguments before it looks at the address space: overlapping old and
 * new ranges with MREMAP_FIXED are EINVAL even when nothing is mapped (mremap(2),
 * check_mremap_params; SPEC §3). */
TEST(mremap_fixed_onto_an_overlapping_range_is_einval_before_efault_like_linux)
{
	REPRO(CALL_MREMAP(0x2b000, 0xa000, 0x2000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x33000));
}

/* A move whose old range runs past its VMA is EFAULT and leaves the target alone: Linux
 * checks the source before mremap_to unmaps the destination (SPEC §3).
 *   [tgt rw-]   [a r--|past EOF]  mremap(a.., past the VMA, FIXED onto tgt) -> EFAULT,
 *   tgt still mapped */
TEST(mremap_fixed_with_a_bad_source_leaves_the_target_mapped_like_linux)
{
	REPRO(CALL_MMAP(0x10000, 0x7000, RW, ANON | MAP_FIXED),
	      CALL_MMAP(0x26000, 0x8000, PROT_READ, ANON | MAP_FIXED),
	      CALL_MREMAP(0x2a000, 0xb000, 0xc000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x13000));
}

/* fork copies no page tables for a private VMA that has no anon identity (never written:
 * only zero-page PTEs), as copy_page_range skips it; the child's mincore shows the pages
 * non-resident (SPEC §3 fork, §10 mincore). On a host with no zero page the populate gave
 * the VMA real frames and an anon identity, and both sides show them resident instead. */
TEST(fork_does_not_copy_zero_page_ptes_of_never_written_memory_like_linux)
{
	REPRO(CALL_MMAP(0x36000, 0x1000, PROT_READ, ANON | MAP_FIXED | MAP_POPULATE),
	      { .op = D_FORK });
}

/* mseal: MADV_DONTFORK on a sealed read-only private anonymous VMA is EPERM on Linux
 * (is_discard counts DONTFORK: the child would lose the memory); peimm allows it (SPEC §9
 * lists DONTNEED, FREE, DONTNEED_LOCKED, REMOVE, WIPEONFORK only). */
TEST(madvise_dontfork_of_sealed_readonly_memory_is_eperm_like_linux)
{
	struct env e = env_open();
	long a = do_mmap(e.t, 0, 2 * PG, PROT_READ, ANON);
	REQUIRE_EQ(a > 0, 1);
	EXPECT_EQ(SC(e.t, 462, a, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, a, 2 * PG, MADV_DONTFORK, 0, 0, 0), -EPERM);
	env_close(&e);
}

/* MREMAP_DONTUNMAP needs old_len == new_len after both are rounded up to pages
 * (check_mremap_params): an unaligned equal-in-pages new_len goes on to the address
 * checks (here EFAULT: nothing is mapped), it is not EINVAL (SPEC §3). */
TEST(mremap_dontunmap_compares_lengths_in_pages_like_linux)
{
	REPRO(CALL_MREMAP(0x14000, 0x9000, 0x8811, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0x28000));
}

/* mlock populates what it locks; a page past the end of the file cannot be populated, and
 * Linux turns populate's EFAULT into ENOMEM (__mlock_posix_error_return), although the
 * VMA stays locked (SPEC §3, §10).  file b: 2 pages + 100 bytes, mapped 6 pages. */
TEST(mlock_of_a_file_mapping_past_eof_is_enomem_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x1c000, .len = 0x6000, .prot = RW,
		.flags = MAP_SHARED | MAP_FIXED, .fd = 2 },
	      { .op = D_MLOCK, .off = 0x1c000, .len = 0x6000 });
}

/* mremap to the same size without flags is a no-op that returns the address (mremap(2));
 * peimm aborts instead: remap_locked asks mm_unmap_range_locked to unmap the empty tail
 * [addr + new_len, addr + old_len), which splits twice at one address (PM_ENFORCE in
 * split_prepared). Runs peimm in a child so the abort fails only this test. */
TEST(mremap_to_the_same_size_inside_a_vma_is_a_no_op_like_linux)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct env e = env_open();
		long a = do_mmap(e.t, 0, 2 * PG, RW, ANON);
		long r = SC(e.t, SYS_mremap, a, PG, PG, 0, 0, 0);
		env_close(&e);
		_exit(r == a && test_failures == 0 ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- Reproducers from the wide corpus (seeds 1000000.., 80 calls) ---- */

#define CALL_MSEAL(o, l) { .op = D_MSEAL, .off = (o), .len = (l) }
#define DONTUNMAP_FIXED (MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)

/* A write fault in a private file mapping prepares the anon identity before it reads the
 * page (do_cow_fault), so even a write past EOF (SIGBUS) leaves the VMA one; fork then
 * gives each piece of it its own, and the child's pieces stay apart (SPEC §3 merges):
 *   parent [-w- written past EOF | r--]  fork  child mprotect(RW over the seam) -> 3 VMAs */
TEST(a_private_write_past_eof_still_gives_the_vma_an_anon_identity_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0xe000, .len = 0x7000, .prot = PROT_WRITE,
		.flags = MAP_PRIVATE | MAP_FIXED, .fd = 2, .pgoff = 0x4000 },
	      { .op = D_WRITE, .off = 0x12d76, .val = 0x5d },
	      CALL_MPROTECT(0x13000, 0x14000, PROT_READ),
	      { .op = D_FORK },
	      CALL_MPROTECT(0x10000, 0x4000, RW));
}

/* MREMAP_DONTUNMAP of part of a locked VMA unlocks the whole old VMA without splitting it
 * (Linux 6.18 dontunmap_complete), and locked_vm keeps its pages: VmLck counts the old VMA
 * and the moved copy (SPEC §3, §10: peimm follows Linux, the quota included). */
TEST(mremap_dontunmap_unlocks_the_whole_old_vma_like_linux)
{
	REPRO(CALL_MMAP(0x1e000, 0x70c2, PROT_READ, MAP_SHARED | ANON | MAP_LOCKED | MAP_FIXED),
	      CALL_MREMAP(0x1e000, 0x2000, 0x2000, DONTUNMAP_FIXED, 0x2c000));
	REPRO(CALL_MMAP(0x3b000, 0x4000, PROT_WRITE, ANON | MAP_LOCKED | MAP_STACK),
	      CALL_MREMAP(0x3b000, 0x4000, 0x4000, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0x3000),
	      { .op = D_MUNMAP, .off = 0x3b000, .len = 0x4000 });
}

/* Growing a lock-on-fault mapping populates nothing: populate_vma_page_range leaves
 * VM_LOCKONFAULT VMAs to their faults (SPEC §10 mlock2). */
TEST(mremap_growing_lock_on_fault_memory_does_not_populate_it_like_linux)
{
	REPRO(CALL_MMAP(0x18000, 0xf000, PROT_READ, ANON | MAP_FIXED),
	      { .op = D_MLOCK2, .off = 0x1e000, .len = 0x6000, .flags = MLOCK_ONFAULT },
	      CALL_MREMAP(0x21000, 0x3000, 0x8000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x4000));
}

/* mremap grows in place over free space even inside the guard gap of a stack VMA above:
 * vma_expandable asks only for overlap (SPEC §3). */
TEST(mremap_grows_in_place_into_a_stack_guard_gap_like_linux)
{
	REPRO(CALL_MMAP(0x31000, 0x5329, PROT_READ, ANON | MAP_GROWSDOWN | MAP_NORESERVE),
	      CALL_MMAP(0x16000, 0xb000, RW, ANON | MAP_FIXED),
	      CALL_MREMAP(0x1a000, 0x7000, 0xe000, MREMAP_MAYMOVE, 0));
}

/* MADV_GUARD_INSTALL and MADV_DONTFORK meet mseal VMA by VMA (can_madvise_modify): the
 * VMAs before a sealed read-only anonymous one take the advice, then EPERM (SPEC §9 lists
 * neither among the all-or-nothing refusals). */
TEST(madvise_guard_and_dontfork_stop_at_the_sealed_vma_like_linux)
{
	REPRO(CALL_MMAP(0x10000, 0x4000, PROT_NONE, ANON | MAP_STACK),
	      CALL_MSEAL(0x12000, 0x2000),
	      CALL_MADVISE(0x10000, 0x5000, MADV_GUARD_INSTALL));
	REPRO(CALL_MMAP(0x1e000, 0xf000, PROT_READ, ANON | MAP_FIXED),
	      CALL_MSEAL(0x26000, 0x1000),
	      CALL_MADVISE(0x23000, 0xf000, MADV_DONTFORK));
}

/* The declared mseal differences apply only where the seal is what refuses the call: a
 * misaligned offset is EINVAL first, a sealed page left out of a fork child by DONTFORK is
 * no longer sealed there, a multi-VMA move from a sealed VMA is EPERM on both sides, a
 * PROT_GROWSDOWN mprotect starts at its VMA's start, and a shrinking FIXED move whose cut
 * tail is sealed is refused whole by peimm (Linux unmaps the target first). */
TEST(declared_seal_differences_apply_only_where_the_seal_refuses)
{
	REPRO(CALL_MMAP(0x2d000, 0x10000, RW, ANON | MAP_NORESERVE | MAP_FIXED),
	      CALL_MSEAL(0x36000, 0x6000),
	      { .op = D_MMAP, .off = 0x37000, .len = 0x8000, .prot = RW, .flags = ANON | MAP_FIXED,
		.pgoff = 0xb6e });
	REPRO(CALL_MMAP(0, 0xd000, PROT_EXEC, MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS),
	      CALL_MSEAL(0x2000, 0x7000),
	      CALL_MADVISE(0x3000, 0xd000, MADV_DONTFORK),
	      { .op = D_FORK },
	      { .op = D_MUNMAP, .off = 0x8000, .len = 0xd000 });
	REPRO(CALL_MMAP(0x18000, 0xd000, PROT_NONE, ANON | MAP_FIXED),
	      CALL_MSEAL(0x1b000, 0xa000),
	      CALL_MREMAP(0x24000, 0x3000, 0x3000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x10000));
	REPRO(CALL_MMAP(0xa000, 0xd000, RW, ANON | MAP_FIXED | MAP_GROWSDOWN | MAP_POPULATE),
	      CALL_MSEAL(0xe000, 0x1000),
	      CALL_MPROTECT(0x8000, 0x13000, PROT_READ | PROT_GROWSDOWN));
	REPRO(CALL_MMAP(0x23000, 0x10000, PROT_READ, ANON | MAP_FIXED),
	      CALL_MMAP(0x35000, 0x1000, RW, ANON | MAP_FIXED),
	      CALL_MSEAL(0x24000, 0x4000),
	      CALL_MREMAP(0x23000, 0xa000, 0x1000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x35000));
}

/* VMAs mapped through two different opens of one file never merge, even with contiguous
 * offsets and equal flags: Linux compares the struct file (is_mergeable_vma), and each
 * open(2) makes a new one (SPEC §3 merges).  file a: fd 3 read-only, fd 1 read-write. */
TEST(mappings_of_one_file_through_two_opens_stay_apart_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x22000, .len = 0x6000, .prot = PROT_NONE,
		.flags = MAP_PRIVATE | MAP_FIXED, .fd = 3, .pgoff = 0x5000 },
	      { .op = D_MMAP, .off = 0x22000, .len = 0x5000, .prot = PROT_NONE,
		.flags = MAP_PRIVATE | MAP_FIXED, .fd = 1, .pgoff = 0x5000 });
}

/* MADV_GUARD_INSTALL gives an anonymous VMA an anon identity but not a file-backed one
 * (Linux 6.18), so after fork the child's guarded file piece still merges with its
 * unguarded neighbour (SPEC §3 merges, §6 guard regions). */
TEST(guarding_a_file_mapping_gives_it_no_anon_identity_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x30000, .len = 0x8000, .prot = PROT_READ,
		.flags = MAP_PRIVATE | MAP_FIXED, .fd = 3, .pgoff = 0x6000 },
	      CALL_MMAP(0x2a000, 0x6000, RW, ANON | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE),
	      { .op = D_MLOCK2, .off = 0x34000, .len = 0x2000, .flags = MLOCK_ONFAULT },
	      CALL_MADVISE(0x2b000, 0x13000, MADV_GUARD_INSTALL),
	      { .op = D_FORK },
	      CALL_MPROTECT(0x2d000, 0x10000, PROT_NONE));
}

/* Writeback zeroes the part of the page that straddles EOF, as Linux's writepage does:
 * a store past EOF through a shared mapping reads back as zero after msync, and never
 * reaches the file (SPEC §3 file mappings).  file b: 2 pages + 100 bytes. */
TEST(writeback_zeroes_the_tail_of_the_page_at_eof_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x6000, .len = 0x1000, .prot = RW,
		.flags = MAP_SHARED | MAP_FIXED, .fd = 2, .pgoff = 0x2000 },
	      { .op = D_WRITE, .off = 0x61c3, .val = 0x85 },
	      { .op = D_MSYNC, .off = 0x6000, .len = 0x1000, .flags = MS_SYNC },
	      { .op = D_READ, .off = 0x6000, .len = PG });
}

/* The page cache's dirty state is per page, as Linux's folio dirty flag, not per mapping:
 * msync(MS_SYNC) in a fork child writes back the page its parent dirtied through a shared
 * mapping (the child has no PTE for it: fork copies none of a shared VMA), so writeback
 * zeroes the page's tail past EOF for both (SPEC §3 file mappings).  file b: 2 pages +
 * 100 bytes; corpus seed 3000827. */
TEST(msync_writes_back_pages_another_process_dirtied_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x6000, .len = 0x1000, .prot = PROT_WRITE,
		.flags = MAP_SHARED | MAP_FIXED, .fd = 2, .pgoff = 0x2000 },
	      { .op = D_WRITE, .off = 0x61c3, .val = 0x85 },
	      { .op = D_FORK },
	      { .op = D_MSYNC, .off = 0x4000, .len = 0x9000, .flags = MS_SYNC },
	      { .op = D_READ, .off = 0x6000, .len = PG });
}

/* Only MS_SYNC writes anything back: MS_ASYNC, MS_INVALIDATE and no flags start no I/O on
 * Linux 6.x, so a store past EOF survives them (SPEC §3 file mappings). */
TEST(msync_without_ms_sync_writes_nothing_back_like_linux)
{
	static const long flags[] = { MS_ASYNC, MS_INVALIDATE, 0 };
	for (int i = 0; i < 3; i++) {
		const struct diff_call c[] = {
			{ .op = D_MMAP, .off = 0x6000, .len = 0x1000, .prot = RW,
			  .flags = MAP_SHARED | MAP_FIXED, .fd = 2, .pgoff = 0x2000 },
			{ .op = D_WRITE, .off = 0x61c3, .val = 0x85 },
			{ .op = D_MSYNC, .off = 0x6000, .len = 0x1000, .flags = flags[i] },
			{ .op = D_READ, .off = 0x6000, .len = PG },
		};
		run_reproducer(c, 4);
	}
}

/* munmap writes nothing back on Linux: the page stays dirty in the page cache with the
 * store past EOF in its tail, and a new mapping of it reads that store (peimm copies the
 * data to the host file at munmap, SPEC §3, but leaves the page as Linux does).  file b:
 * 2 pages + 100 bytes; corpus seeds 1002682 and 1003739. */
TEST(munmap_leaves_a_dirty_page_and_its_tail_past_eof_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x15000, .len = 0x3000, .prot = RW,
		.flags = MAP_SHARED | MAP_FIXED, .fd = 2, .pgoff = 0x1000 },
	      { .op = D_WRITE, .off = 0x16d14, .val = 0x50 },
	      { .op = D_MUNMAP, .off = 0x16000, .len = 0x1000 },
	      { .op = D_MMAP, .off = 0x28000, .len = 0x3000, .prot = RW,
		.flags = MAP_SHARED | MAP_FIXED, .fd = 2, .pgoff = 0x1000 },
	      { .op = D_READ, .off = 0x29000, .len = PG });
}

/* Fault-around (src/mm/fault_around.c): a read fault past EOF maps the cached pages of its
 * window below EOF first, but filemap_map_pages installs no new page table when the
 * window's first cached page is the file's last, so here nothing is mapped (the VMA is
 * alone in its 2 MiB region).  file b: 2 pages + 100 bytes; corpus seed 186. */
TEST(fault_past_eof_maps_no_last_page_into_a_new_table_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x6000, .len = 0x3000, .prot = PROT_READ,
		.flags = MAP_PRIVATE | MAP_FIXED, .fd = 2, .pgoff = 0x2000 },
	      { .op = D_READ, .off = 0x8000, .len = PG });
}

/* ... while a MAP_FIXED replacement leaves the page table a VMA still shares
 * (free_pgtables' floor and ceiling), so there the same fault maps the last page of a
 * (file a: 6 pages); corpus seed 1000025. */
TEST(munmap_keeps_a_page_table_a_neighbour_shares_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x1e000, .len = 0x8000, .prot = PROT_READ,
		.flags = MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, .fd = 2, .pgoff = 0 },
	      { .op = D_MMAP, .off = 0x1d000, .len = 0x4000, .prot = PROT_READ,
		.flags = MAP_PRIVATE | MAP_FIXED, .fd = 1, .pgoff = 0x5000 },
	      { .op = D_READ, .off = 0x1f000, .len = PG });
}

/* A VMA that ever had guard markers is VM_COPY_ON_FORK: fork copies all its entries, so
 * the child maps the shared file pages fault-around mapped in the parent (pagemap '3',
 * no longer exclusive); corpus seed 1000412. */
TEST(fork_copies_the_pages_of_a_guarded_file_mapping_like_linux)
{
	REPRO({ .op = D_MMAP, .off = 0x7000, .len = 0x8000, .prot = PROT_READ,
		.flags = MAP_SHARED | MAP_FIXED, .fd = 2, .pgoff = 0 },
	      { .op = D_READ, .off = 0x8000, .len = PG },
	      CALL_MADVISE(0x9000, 0xb000, MADV_GUARD_INSTALL),
	      { .op = D_FORK });
}

/* fork gives the child a page table for every one the parent has under a VMA it copies,
 * empty or not (copy_pte_range), so in the child the same fault past EOF maps b's last
 * page into that existing table; corpus seed 4000842. */
TEST(fork_copies_empty_page_tables_of_copied_vmas_like_linux)
{
	REPRO(CALL_MMAP(0x30000, 0x1000, RW, ANON | MAP_FIXED | MAP_POPULATE),
	      CALL_MADVISE(0x2b000, 0x7000, MADV_DONTNEED),
	      { .op = D_MMAP, .off = 0x1000, .len = 0x4000, .prot = PROT_READ,
		.flags = MAP_SHARED | MAP_FIXED, .fd = 2, .pgoff = 0x2000 },
	      { .op = D_FORK },
	      { .op = D_READ, .off = 0x2000, .len = PG });
}
