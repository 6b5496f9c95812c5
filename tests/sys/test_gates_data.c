/*
 * What the gated calls of SPEC §7 do once they are let through: process_vm_readv/writev
 * move real bytes with Linux's iovec rules (scatter/gather, partial transfers, EFAULT,
 * EINVAL, ESRCH), kill and process_mrelease really end and free a process, process_madvise
 * takes only the remote advice, kacs_set_sd changes what kacs_get_sd and later gates see,
 * impersonation and its revert move the self check, and the audit view's format and
 * readers. test_gates.c holds the who-may matrix.
 */
#include "gates_env.h"

#define UIO_MAXIOV 1024	/* Linux's IOV_MAX */

static uint64_t iovs(pm_thread *t, const uint64_t *pairs, int n)
{
	return pm_scratch(t, pairs, (size_t)n * 2 * sizeof(uint64_t));
}

static uint64_t zeros(pm_thread *t, size_t len)
{
	static const uint8_t z[2 * PG];
	return pm_scratch(t, z, len);
}

static long vm_readv(struct genv *g, uint64_t lv, int ln, uint64_t rv, int rn)
{
	return SC(g->caller, SYS_process_vm_readv, g->tpid, (long)lv, ln, (long)rv, rn, 0);
}

/* Bytes [off, off+n) of t's memory at va all equal b. */
static int all_are(pm_thread *t, uint64_t va, size_t n, int b)
{
	for (size_t i = 0; i < n; i++)
		if (peek(t, va + i) != b)
			return 0;
	return 1;
}

/* process_vm_readv(2): remote iovecs are read in order and scattered over the local ones;
 * the iovec boundaries on the two sides need not line up. */
TEST(process_vm_readv_gathers_remote_iovecs_into_differently_cut_local_ones)
{
	struct genv g = genv_open(K_SAME, 0);
	for (int i = 0; i < 30; i++)
		poke(g.target, g.tva + (uint64_t)i, (uint8_t)(i + 1));
	uint64_t l = zeros(g.caller, 64);
	uint64_t lv[] = { l, 7, l + 32, 23 };			/* 30 bytes in two pieces */
	uint64_t rv[] = { g.tva, 10, g.tva + 10, 0, g.tva + 10, 20 };
	EXPECT_EQ(vm_readv(&g, iovs(g.caller, lv, 2), 2, iovs(g.caller, rv, 3), 3), 30);
	for (int i = 0; i < 7; i++)
		EXPECT_EQ(peek(g.caller, l + (uint64_t)i), i + 1);
	EXPECT_EQ(peek(g.caller, l + 7), 0);
	for (int i = 7; i < 30; i++)
		EXPECT_EQ(peek(g.caller, l + 32 + (uint64_t)(i - 7)), i + 1);
	genv_close(&g);
}

/* process_vm_writev changes the target's memory as the target and /proc/<pid>/mem see it. */
TEST(process_vm_writev_is_seen_by_the_target_and_by_proc_mem)
{
	struct genv g = genv_open(K_SAME, 0);
	uint8_t src[16] = "written remotely";
	uint64_t l = pm_scratch(g.caller, src, sizeof(src));
	uint64_t lv[] = { l, 16 }, rv[] = { g.tva + PG - 8, 16 };	/* across the page line */
	EXPECT_EQ(SC(g.caller, SYS_process_vm_writev, g.tpid, (long)iovs(g.caller, lv, 1), 1,
		     (long)iovs(g.caller, rv, 1), 1, 0), 16);
	uint8_t seen[16] = { 0 };
	EXPECT_EQ(pm_access(g.target, g.tva + PG - 8, seen, 16, PM_READ, NULL), 16);
	EXPECT_EQ(memcmp(seen, src, 16), 0);
	memset(seen, 0, sizeof(seen));
	EXPECT_EQ(pm_proc_read(g.auditor, g.tpid, "mem", seen, 16, g.tva + PG - 8), 16);
	EXPECT_EQ(memcmp(seen, src, 16), 0);
	EXPECT_EQ(peek(g.target, g.tva + PG + 8), TPAT);
	genv_close(&g);
}

/* A remote iovec that is not mapped ends the transfer; the call returns the bytes moved
 * before it, and the later iovecs are not touched (process_vm_readv(2) RETURN VALUE). */
TEST(process_vm_readv_stops_at_an_unmapped_remote_iovec_and_returns_the_bytes_before)
{
	struct genv g = genv_open(K_SAME, 0);
	uint64_t l = zeros(g.caller, 192);
	uint64_t lv[] = { l, 192 };
	uint64_t rv[] = { g.tva, 64, 0x10000, 64, g.tva + 64, 64 };
	EXPECT_EQ(vm_readv(&g, iovs(g.caller, lv, 1), 1, iovs(g.caller, rv, 3), 3), 64);
	EXPECT_TRUE(all_are(g.caller, l, 64, TPAT));
	EXPECT_TRUE(all_are(g.caller, l + 64, 128, 0));
	uint64_t first_bad[] = { 0x10000, 64, g.tva, 64 };
	EXPECT_ERRNO(vm_readv(&g, iovs(g.caller, lv, 1), 1, iovs(g.caller, first_bad, 2), 2), -EFAULT);
	genv_close(&g);
}

/* Linux copies page by page (process_vm_rw_core): a remote range that runs off the end of
 * its mapping yields the bytes up to the first unmapped page. */
TEST(process_vm_readv_partial_transfer_ends_at_the_first_unmapped_page)
{
	struct genv g = genv_open(K_SAME, 0);
	EXPECT_EQ(SC(g.target, SYS_munmap, (long)(g.tva + PG), PG, 0, 0, 0, 0), 0);
	uint64_t l = zeros(g.caller, 300);
	uint64_t lv[] = { l, 300 }, rv[] = { g.tva + PG - 100, 300 };
	EXPECT_EQ(vm_readv(&g, iovs(g.caller, lv, 1), 1, iovs(g.caller, rv, 1), 1), 100);
	EXPECT_TRUE(all_are(g.caller, l, 100, TPAT));
	EXPECT_EQ(peek(g.caller, l + 100), 0);
	uint64_t src = zeros(g.caller, 300);
	uint64_t sv[] = { src, 300 };
	EXPECT_EQ(SC(g.caller, SYS_process_vm_writev, g.tpid, (long)iovs(g.caller, sv, 1), 1,
		     (long)iovs(g.caller, rv, 1), 1, 0), 100);
	EXPECT_EQ(peek(g.target, g.tva + PG - 1), 0);
	genv_close(&g);
}

/* EFAULT: the local iovec array is unreadable, or the first local buffer is unmapped. A
 * later bad local buffer gives a partial count (process_vm_readv(2) ERRORS). */
TEST(process_vm_readv_with_a_bad_local_iovec_is_efault)
{
	struct genv g = genv_open(K_SAME, 0);
	uint64_t rv = iovs(g.caller, (uint64_t[]){ g.tva, 128 }, 1);
	EXPECT_ERRNO(vm_readv(&g, 0x10000, 1, rv, 1), -EFAULT);
	EXPECT_ERRNO(vm_readv(&g, iovs(g.caller, (uint64_t[]){ 0x10000, 128 }, 1), 1, rv, 1), -EFAULT);
	uint64_t l = zeros(g.caller, 64);
	uint64_t half_bad[] = { l, 64, 0x10000, 64 };
	EXPECT_EQ(vm_readv(&g, iovs(g.caller, half_bad, 2), 2, rv, 1), 64);
	EXPECT_ERRNO(vm_readv(&g, iovs(g.caller, (uint64_t[]){ l, 64 }, 1), 1, 0x10000, 1), -EFAULT);
	genv_close(&g);
}

/* flags must be 0 and counts at most IOV_MAX (EINVAL); a missing pid is ESRCH; no
 * iovecs move nothing. */
TEST(process_vm_calls_check_flags_counts_and_the_pid)
{
	struct genv g = genv_open(K_SAME, 0);
	uint64_t l = zeros(g.caller, 64);
	uint64_t lv = iovs(g.caller, (uint64_t[]){ l, 64 }, 1);
	uint64_t rv = iovs(g.caller, (uint64_t[]){ g.tva, 64 }, 1);
	EXPECT_ERRNO(SC(g.caller, SYS_process_vm_readv, g.tpid, (long)lv, 1, (long)rv, 1, 1), -EINVAL);
	EXPECT_ERRNO(SC(g.caller, SYS_process_vm_writev, g.tpid, (long)lv, 1, (long)rv, 1, 1), -EINVAL);
	EXPECT_ERRNO(vm_readv(&g, lv, UIO_MAXIOV + 1, rv, 1), -EINVAL);
	EXPECT_ERRNO(vm_readv(&g, lv, 1, rv, UIO_MAXIOV + 1), -EINVAL);
	EXPECT_ERRNO(SC(g.caller, SYS_process_vm_readv, 999, (long)lv, 1, (long)rv, 1, 0), -ESRCH);
	EXPECT_EQ(vm_readv(&g, lv, 0, rv, 1), 0);
	genv_close(&g);
}

/* kill(SIGKILL) makes the target dying at once; the OOM reaper then frees its memory
 * (DESIGN.md "Processes end"). */
TEST(kill_with_sigkill_ends_the_target_and_the_reaper_frees_its_memory)
{
	struct genv g = genv_open(K_SAME, 0);
	pm_sysinfo before, after;
	pm_system_info(g.sys, &before);
	EXPECT_EQ(SC(g.caller, SYS_kill, g.tpid, SIGKILL, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(g.target, SYS_getpid, 0, 0, 0, 0, 0, 0), -ESRCH);
	pm_system_tick(g.sys, 20);
	pm_system_info(g.sys, &after);
	EXPECT_TRUE(after.free_frames > before.free_frames);
	EXPECT_TRUE(pm_thread_of(g.sys, g.tpid) == NULL);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, 0, 0, 0, 0, 0), -ESRCH);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, 65, 0, 0, 0, 0), -EINVAL);
	genv_close(&g);
}

/* process_mrelease(pidfd, 0) frees a dying process's memory before it returns (SPEC §8);
 * flags other than 0 and the caller itself are EINVAL, a non-pidfd EBADF. */
TEST(process_mrelease_frees_a_killed_process_before_returning)
{
	struct genv g = genv_open(K_SAME, 1);
	long self = SC(g.caller, SYS_pidfd_open, pm_pid(g.caller), 0, 0, 0, 0, 0);
	EXPECT_ERRNO(SC(g.caller, SYS_process_mrelease, self, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(g.caller, SYS_process_mrelease, g.pidfd, 1, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(g.caller, SYS_process_mrelease, 77, 0, 0, 0, 0, 0), -EBADF);
	EXPECT_ERRNO(SC(g.caller, SYS_process_mrelease, g.pidfd, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_EQ(SC(g.caller, SYS_kill, g.tpid, SIGKILL, 0, 0, 0, 0), 0);
	pm_sysinfo before, after;
	pm_system_info(g.sys, &before);
	EXPECT_EQ(SC(g.caller, SYS_process_mrelease, g.pidfd, 0, 0, 0, 0, 0), 0);
	pm_system_info(g.sys, &after);
	EXPECT_TRUE(after.free_frames > before.free_frames);
	EXPECT_TRUE(pm_thread_of(g.sys, g.tpid) == NULL);
	EXPECT_ERRNO(SC(g.caller, SYS_process_mrelease, g.pidfd, 0, 0, 0, 0, 0), -ESRCH);
	genv_close(&g);
}

/* Remotely only COLD, PAGEOUT, WILLNEED and COLLAPSE are accepted (SPEC §7); others are
 * EINVAL. WILLNEED returns the bytes advised. */
TEST(process_madvise_takes_only_the_remote_advice)
{
	struct genv g = genv_open(K_SAME, 1);
	uint64_t v = iovs(g.caller, (uint64_t[]){ g.tva, 2 * PG }, 1);
	static const long local_only[] = { MADV_DONTNEED, MADV_FREE, MADV_NORMAL, MADV_SEQUENTIAL,
					   MADV_DONTFORK, MADV_MERGEABLE, MADV_HUGEPAGE, MADV_REMOVE };
	for (size_t i = 0; i < sizeof(local_only) / sizeof(local_only[0]); i++) {
		long r = SC(g.caller, SYS_process_madvise, g.pidfd, (long)v, 1, local_only[i], 0, 0);
		if (r != -EINVAL)
			check_failed(__FILE__, __LINE__, "process_madvise(pidfd, advice %ld) = %ld, "
				     "want -EINVAL", local_only[i], r);
	}
	EXPECT_ERRNO(SC(g.caller, SYS_process_madvise, g.pidfd, (long)v, 1, MADV_WILLNEED, 1, 0), -EINVAL);
	EXPECT_ERRNO(SC(g.caller, SYS_process_madvise, 77, (long)v, 1, MADV_WILLNEED, 0, 0), -EBADF);
	EXPECT_EQ(SC(g.caller, SYS_process_madvise, g.pidfd, (long)v, 1, MADV_WILLNEED, 0, 0), 2 * PG);
	EXPECT_TRUE(all_are(g.target, g.tva, 2 * PG, TPAT));	/* advice, not a discard */
	genv_close(&g);
}

static long sd_get(pm_thread *t, long pidfd, char *out, size_t cap)
{
	uint64_t path = pm_scratch(t, "", 1);
	memset(out, 0, cap);
	uint64_t buf = pm_scratch(t, out, cap);
	long r = SC(t, PM_SYS_kacs_get_sd, pidfd, (long)path, PM_AT_EMPTY_PATH, (long)buf, (long)cap, 0);
	if (r > 0)
		pm_access(t, buf, out, (size_t)r, PM_READ, NULL);
	return r;
}

static long sd_set(pm_thread *t, long pidfd, const char *sddl)
{
	uint64_t path = pm_scratch(t, "", 1);
	uint64_t text = pm_scratch(t, sddl, strlen(sddl) + 1);
	return SC(t, PM_SYS_kacs_set_sd, pidfd, (long)path, PM_AT_EMPTY_PATH, (long)text, 0, 0);
}

/* The owner's kacs_set_sd replaces the DACL: kacs_get_sd returns it, and the gates that
 * follow decide by it (SPEC §7): a VM_READ grant lets another user read but not write,
 * and dropping Everyone closes even the limited-query views. */
TEST(kacs_set_sd_changes_what_get_sd_returns_and_what_later_gates_allow)
{
	struct genv g = genv_open(K_OTHER, 0);
	long own = SC(g.target, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0);
	long theirs = SC(g.caller, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0);
	REQUIRE_EQ(own >= 0 && theirs >= 0, 1);
	uint64_t l = zeros(g.caller, 64);
	uint64_t lv = iovs(g.caller, (uint64_t[]){ l, 64 }, 1);
	uint64_t rv = iovs(g.caller, (uint64_t[]){ g.tva, 64 }, 1);
	EXPECT_ERRNO(vm_readv(&g, lv, 1, rv, 1), -EPERM);
	EXPECT_EQ(sd_set(g.target, own, "D:(A;;GA;;;" TARGET_SID ")(A;;GA;;;SY)(A;;0x1010;;;"
			 "S-1-5-21-1-1002)"), 0);
	char text[1024];
	EXPECT_TRUE(sd_get(g.target, own, text, sizeof(text)) > 0);
	EXPECT_TRUE(strstr(text, "S-1-5-21-1-1002") != NULL);
	EXPECT_TRUE(strstr(text, "(A;;0x1000;;;WD)") == NULL);
	EXPECT_TRUE(strncmp(text, "O:" TARGET_SID, strlen("O:" TARGET_SID)) == 0); /* owner kept */
	EXPECT_EQ(vm_readv(&g, lv, 1, rv, 1), 64);
	EXPECT_TRUE(all_are(g.caller, l, 64, TPAT));
	EXPECT_ERRNO(SC(g.caller, SYS_process_vm_writev, g.tpid, (long)lv, 1, (long)rv, 1, 0), -EPERM);
	EXPECT_EQ(sd_set(g.target, own, "D:(A;;GA;;;" TARGET_SID ")(A;;GA;;;SY)"), 0);
	EXPECT_ERRNO(SC(g.caller, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0), -EACCES);
	char buf[256];
	EXPECT_ERRNO(pm_proc_read(g.caller, g.tpid, "maps", buf, sizeof(buf), 0), -EACCES);
	EXPECT_ERRNO(sd_get(g.caller, theirs, text, sizeof(text)), -EACCES);
	genv_close(&g);
}

/* kacs_get_sd/kacs_set_sd argument rules (peimm/abi.h): ERANGE for a short buffer,
 * EINVAL for malformed SDDL, a path or a missing AT_EMPTY_PATH, EBADF for a non-pidfd. */
TEST(kacs_sd_calls_check_their_arguments)
{
	struct genv g = genv_open(K_SAME, 1);
	char text[1024];
	long n = sd_get(g.caller, g.pidfd, text, sizeof(text));
	EXPECT_TRUE(n > 1);
	EXPECT_EQ((long)strlen(text) + 1, n);
	EXPECT_ERRNO(sd_get(g.caller, g.pidfd, text, (size_t)n - 1), -ERANGE);
	EXPECT_ERRNO(sd_set(g.caller, g.pidfd, "D:(A;;GA;;;NOT-A-SID)"), -EINVAL);
	EXPECT_ERRNO(sd_get(g.caller, 77, text, sizeof(text)), -EBADF);
	uint64_t path = pm_scratch(g.caller, "x", 2), buf = zeros(g.caller, 64);
	EXPECT_ERRNO(SC(g.caller, PM_SYS_kacs_get_sd, g.pidfd, (long)path, PM_AT_EMPTY_PATH,
			(long)buf, 64, 0), -EINVAL);
	uint64_t empty = pm_scratch(g.caller, "", 1);
	EXPECT_ERRNO(SC(g.caller, PM_SYS_kacs_get_sd, g.pidfd, (long)empty, 0, (long)buf, 64, 0),
		     -EINVAL);
	genv_close(&g);
}

/* No self bypass (SPEC §7): a SYSTEM process reads its own /proc/self/mem, loses it while
 * a thread impersonates a client the SD does not grant, and gets it back on pm_revert. The
 * denial is audited with the client's identity. */
TEST(impersonating_thread_loses_its_own_proc_mem_until_it_reverts)
{
	struct genv g = genv_open(K_SYSTEM, 0);
	uint64_t va = pm_scratch(g.caller, "secret", 7);
	char buf[7] = { 0 };
	EXPECT_EQ(pm_proc_read(g.caller, 0, "mem", buf, 7, va), 7);
	EXPECT_STREQ(buf, "secret");
	REQUIRE_EQ(pm_impersonate(g.caller, genv_token(&g, TOK_OTHER)), 0);
	EXPECT_EQ(pm_impersonation_level(g.caller), 2);
	audit_mark(&g);
	EXPECT_ERRNO(pm_proc_read(g.caller, 0, "mem", buf, 7, va), -EACCES);
	EXPECT_ERRNO(pm_proc_pwrite(g.caller, 0, "mem", "public", 7, va), -EACCES);
	EXPECT_TRUE(audit_has(audit_since_mark(&g), "gate op=mem ", "user=S-1-5-21-1-1002"));
	EXPECT_TRUE(pm_proc_read(g.caller, 0, "maps", buf, sizeof(buf), 0) > 0);	/* Everyone */
	EXPECT_EQ(pm_revert(g.caller), 0);
	EXPECT_EQ(pm_impersonation_level(g.caller), -1);
	EXPECT_EQ(pm_proc_read(g.caller, 0, "mem", buf, 7, va), 7);
	genv_close(&g);
}

/* A server without SeImpersonatePrivilege gets only Identification for another user
 * (digest §4.9); AccessCheck then denies everything, and SeDebug in the client token
 * rescues nothing. */
TEST(identification_level_impersonation_is_denied_even_limited_query)
{
	struct genv g = genv_open(K_SAME, 0);
	REQUIRE_EQ(pm_impersonate(g.caller, genv_token(&g, TOK_DBG_ON)), 0);
	EXPECT_EQ(pm_impersonation_level(g.caller), 1);
	char buf[64];
	EXPECT_ERRNO(pm_proc_read(g.caller, g.tpid, "maps", buf, sizeof(buf), 0), -EACCES);
	EXPECT_ERRNO(pm_proc_read(g.caller, 0, "maps", buf, sizeof(buf), 0), -EACCES);
	EXPECT_ERRNO(SC(g.caller, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0), -EACCES);
	uint64_t lv = iovs(g.caller, (uint64_t[]){ zeros(g.caller, 8), 8 }, 1);
	uint64_t rv = iovs(g.caller, (uint64_t[]){ g.tva, 8 }, 1);
	EXPECT_ERRNO(vm_readv(&g, lv, 1, rv, 1), -EPERM);
	EXPECT_EQ(pm_revert(g.caller), 0);
	EXPECT_EQ(vm_readv(&g, lv, 1, rv, 1), 8);
	genv_close(&g);
}

/* oom_score_adj (SPEC §7): raising needs SET_QUOTA; lowering below the current value also
 * needs SeTcbPrivilege; values outside -1000..1000 are EINVAL. */
TEST(lowering_oom_score_adj_needs_setcb_and_raising_does_not)
{
	struct genv g = genv_open(K_SAME, 0);
	EXPECT_EQ(pm_proc_write(g.caller, g.tpid, "oom_score_adj", "100", 3), 3);
	EXPECT_ERRNO(pm_proc_write(g.caller, g.tpid, "oom_score_adj", "50", 2), -EACCES);
	EXPECT_EQ(pm_proc_write(g.caller, g.tpid, "oom_score_adj", "100", 3), 3);	/* not lower */
	EXPECT_EQ(pm_proc_write(g.caller, g.tpid, "oom_score_adj", "1000", 4), 4);
	EXPECT_ERRNO(pm_proc_write(g.caller, g.tpid, "oom_score_adj", "1001", 4), -EINVAL);
	EXPECT_ERRNO(pm_proc_write(g.caller, g.tpid, "oom_score_adj", "ten", 3), -EINVAL);
	EXPECT_STREQ(proc_text(g.auditor, g.tpid, "oom_score_adj"), "1000\n");
	EXPECT_EQ(pm_proc_write(g.auditor, g.tpid, "oom_score_adj", "-1000", 5), 5);	/* SYSTEM */
	EXPECT_STREQ(proc_text(g.auditor, g.tpid, "oom_score_adj"), "-1000\n");
	genv_close(&g);
}

/* An audit line names the op, the caller, the target, the right and the result, with the
 * caller's token (SPEC §12). */
TEST(a_gate_denial_is_audited_with_caller_target_op_right_and_result)
{
	struct genv g = genv_open(K_OTHER, 0);
	audit_mark(&g);
	uint64_t lv = iovs(g.caller, (uint64_t[]){ zeros(g.caller, 8), 8 }, 1);
	uint64_t rv = iovs(g.caller, (uint64_t[]){ g.tva, 8 }, 1);
	EXPECT_ERRNO(vm_readv(&g, lv, 1, rv, 1), -EPERM);
	char want[160];
	snprintf(want, sizeof(want), "gate op=process_vm_readv caller=%d target=%d right=0x10 "
		 "result=denied", pm_pid(g.caller), g.tpid);
	const char *since = audit_since_mark(&g);
	if (!audit_has(since, want, "user=S-1-5-21-1-1002"))
		check_failed(__FILE__, __LINE__, "audit after a denied process_vm_readv:\n%s\nwant a "
			     "line with \"%s\" and the caller's user", since, want);
	genv_close(&g);
}

/* peios/audit is for SYSTEM and Administrators (docs/security.md). */
TEST(audit_view_is_readable_only_by_system_and_administrators)
{
	struct genv g = genv_open(K_OTHER, 0);
	char buf[64];
	EXPECT_ERRNO(pm_proc_read(g.caller, -1, "peios/audit", buf, sizeof(buf), 0), -EACCES);
	pm_thread *admin = genv_spawn(&g, "user=S-1-5-21-1-1004 groups=S-1-5-32-544", 0, 0);
	EXPECT_TRUE(pm_proc_read(admin, -1, "peios/audit", buf, sizeof(buf), 0) >= 0);
	pm_thread *deny_only = genv_spawn(&g, "user=S-1-5-21-1-1005 groups=S-1-5-32-544:deny", 0, 0);
	EXPECT_ERRNO(pm_proc_read(deny_only, -1, "peios/audit", buf, sizeof(buf), 0), -EACCES);
	genv_close(&g);
}

/* kill's right follows the signal (digest §4.4): TERMINATE for fatal signals, SIGNAL for
 * the ignored-by-default ones, SUSPEND_RESUME for stop and continue, QUERY_LIMITED for
 * signal 0; a denial is EACCES. A DACL granting the
 * caller TERMINATE alone lets SIGTERM through and nothing else. */
TEST(kill_needs_the_right_of_its_signal_class)
{
	struct genv g = genv_open(K_OTHER, 0);
	long own = SC(g.target, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0);
	EXPECT_EQ(sd_set(g.target, own, "D:(A;;GA;;;" TARGET_SID ")(A;;0x1;;;S-1-5-21-1-1002)"), 0);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, 0, 0, 0, 0, 0), -EACCES);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, SIGSTOP, 0, 0, 0, 0), -EACCES);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, SIGCONT, 0, 0, 0, 0), -EACCES);
	EXPECT_EQ(SC(g.target, SYS_getpid, 0, 0, 0, 0, 0, 0), g.tpid);
	EXPECT_EQ(SC(g.target, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0) >= 0, 1);
	EXPECT_EQ(sd_set(g.target, own, "D:(A;;GA;;;" TARGET_SID ")(A;;0x800;;;S-1-5-21-1-1002)"), 0);
	EXPECT_EQ(SC(g.caller, SYS_kill, g.tpid, SIGSTOP, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, SIGTERM, 0, 0, 0, 0), -EACCES);
	EXPECT_EQ(sd_set(g.target, own, "D:(A;;GA;;;" TARGET_SID ")(A;;0x2;;;S-1-5-21-1-1002)"), 0);
	EXPECT_EQ(SC(g.caller, SYS_kill, g.tpid, SIGCHLD, 0, 0, 0, 0), 0);	/* PROCESS_SIGNAL */
	EXPECT_EQ(SC(g.caller, SYS_kill, g.tpid, SIGWINCH, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, SIGTERM, 0, 0, 0, 0), -EACCES);
	EXPECT_EQ(sd_set(g.target, own, "D:(A;;GA;;;" TARGET_SID ")(A;;0x1;;;S-1-5-21-1-1002)"), 0);
	EXPECT_ERRNO(SC(g.caller, SYS_kill, g.tpid, SIGURG, 0, 0, 0, 0), -EACCES);
	EXPECT_EQ(SC(g.caller, SYS_kill, g.tpid, SIGTERM, 0, 0, 0, 0), 0);
	genv_close(&g);
}

/* A PIP denial is audited as such even when SeDebug would have rescued the DACL check
 * (SPEC §7: SeDebug never overrides PIP). */
TEST(a_pip_denial_is_audited_as_pip_even_with_sedebug)
{
	struct genv g = genv_open(K_PIP_DBG, 0);
	audit_mark(&g);
	char buf[64];
	EXPECT_ERRNO(pm_proc_read(g.caller, g.tpid, "mem", buf, sizeof(buf), g.tva), -EACCES);
	const char *since = audit_since_mark(&g);
	if (!audit_has(since, "gate op=mem ", "result=denied why=pip"))
		check_failed(__FILE__, __LINE__, "audit after a PIP-denied mem read:\n%s\nwant "
			     "\"result=denied why=pip\"", since);
	genv_close(&g);
}
