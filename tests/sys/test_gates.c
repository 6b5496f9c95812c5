/*
 * The gate matrix of SPEC §7 and §12: every cross-process operation and gated /proc view,
 * run by every kind of caller (gates_env.h), each in a fresh system. A row gives, per
 * caller kind, whether the SD grants the right (G), SeDebugPrivilege rescues it (R), the
 * gate denies it (D), or the gate passes but lowering oom_score_adj lacks SeTcb (T). The
 * errno, the effect of an allowed call, and the audit line of every denial and every
 * rescue are all checked. The data-moving details live in test_gates_data.c.
 */
#include "gates_env.h"

/* Result sentinels for calls whose success value is not one number. */
#define OK_POSITIVE	(-100000L)	/* any r > 0 */
#define OK_NOT_EACCES	(-100001L)	/* the view may not be rendered yet: only the gate is
					   checked (anything but -EACCES) */

struct gate_op {
	const char *call;	/* the call as a failure message prints it */
	const char *audit_op;	/* op= in its audit line */
	long denied;		/* the result of a gate denial (SPEC §7) */
	long ok;		/* the result when the gate lets it through */
	int need_pidfd;
	long (*run)(struct genv *g);
	void (*verify)(struct genv *g, const char *who);	/* the effect of an allowed call */
};

static int proc_pid(const struct genv *g) { return g->self ? 0 : g->tpid; }

/* A byte of the target's two pages, read through its own thread (no gate). */
static int target_byte(struct genv *g, uint64_t off)
{
	return peek(g->target, g->tva + off);
}

static long run_kill(struct genv *g) { return SC(g->caller, SYS_kill, g->tpid, SIGKILL, 0, 0, 0, 0); }
static long run_kill0(struct genv *g) { return SC(g->caller, SYS_kill, g->tpid, 0, 0, 0, 0, 0); }

static void verify_dead(struct genv *g, const char *who)
{
	long r = SC(g->target, SYS_getpid, 0, 0, 0, 0, 0, 0);
	if (r != -ESRCH)
		check_failed(__FILE__, __LINE__, "after kill(%d, SIGKILL) as %s: target getpid = %ld, "
			     "want -ESRCH (dying)", g->tpid, who, r);
}

static void verify_alive(struct genv *g, const char *who)
{
	long r = SC(g->target, SYS_getpid, 0, 0, 0, 0, 0, 0);
	if (r != g->tpid)
		check_failed(__FILE__, __LINE__, "as %s: target getpid = %ld, want %d (alive)", who,
			     r, g->tpid);
}

static long run_pidfd_open(struct genv *g)
{
	long r = SC(g->caller, SYS_pidfd_open, g->tpid, 0, 0, 0, 0, 0);
	return r >= 0 ? 1 : r;	/* any fd counts */
}

static uint64_t iov1(pm_thread *t, uint64_t base, uint64_t len)
{
	uint64_t v[2] = { base, len };
	return pm_scratch(t, v, sizeof(v));
}

static uint64_t scratch_fill(pm_thread *t, int byte, size_t len)
{
	uint8_t b[256];
	memset(b, byte, sizeof(b));
	return pm_scratch(t, b, len);
}

static uint64_t local_buf;	/* where the last call put or took its bytes in the caller */

static long run_vm_readv(struct genv *g)
{
	local_buf = scratch_fill(g->caller, 0, 64);
	return SC(g->caller, SYS_process_vm_readv, g->tpid, (long)iov1(g->caller, local_buf, 64), 1,
		  (long)iov1(g->caller, g->tva + 100, 64), 1, 0);
}

static void verify_read_back(struct genv *g, const char *who)
{
	for (int i = 0; i < 64; i++)
		if (peek(g->caller, local_buf + (uint64_t)i) != TPAT) {
			check_failed(__FILE__, __LINE__, "as %s: local byte %d = %#x, want %#x", who, i,
				     peek(g->caller, local_buf + (uint64_t)i), TPAT);
			return;
		}
}

static long run_vm_writev(struct genv *g)
{
	local_buf = scratch_fill(g->caller, 0x5A, 64);
	return SC(g->caller, SYS_process_vm_writev, g->tpid, (long)iov1(g->caller, local_buf, 64), 1,
		  (long)iov1(g->caller, g->tva + 100, 64), 1, 0);
}

static void verify_written(struct genv *g, const char *who, int byte)
{
	int first = target_byte(g, 100), last = target_byte(g, 163), after = target_byte(g, 164);
	if (first != byte || last != byte || after != TPAT)
		check_failed(__FILE__, __LINE__, "as %s: target bytes 100/163/164 = %#x/%#x/%#x, want "
			     "%#x/%#x/%#x", who, first, last, after, byte, byte, TPAT);
}

static void verify_writev(struct genv *g, const char *who) { verify_written(g, who, 0x5A); }

static long run_madvise(struct genv *g)
{
	return SC(g->caller, SYS_process_madvise, g->pidfd, (long)iov1(g->caller, g->tva, 2 * PG), 1,
		  MADV_WILLNEED, 0, 0);
}

static long run_mrelease(struct genv *g)
{
	return SC(g->caller, SYS_process_mrelease, g->pidfd, 0, 0, 0, 0, 0);
}

static long get_sd(pm_thread *t, long pidfd, char *out, size_t cap)
{
	uint64_t path = pm_scratch(t, "", 1);
	memset(out, 0, cap);
	uint64_t buf = pm_scratch(t, out, cap);
	long r = SC(t, PM_SYS_kacs_get_sd, pidfd, (long)path, PM_AT_EMPTY_PATH, (long)buf, (long)cap, 0);
	out[0] = '\0';
	if (r > 0 && pm_access(t, buf, out, (size_t)r, PM_READ, NULL) != r)
		out[0] = '\0';
	return r;
}

static long run_get_sd(struct genv *g)
{
	char text[1024] = { 0 };
	long r = get_sd(g->caller, g->pidfd, text, sizeof(text));
	if (r > 0 && strncmp(text, "O:", 2))
		check_failed(__FILE__, __LINE__, "kacs_get_sd text \"%s\" does not start with O:", text);
	return r;
}

#define NEW_DACL "D:(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;" TARGET_SID ")(A;;0x1000;;;WD)" \
		 "(A;;0x1000;;;S-1-5-21-1-1099)"

static long set_sd(pm_thread *t, long pidfd, const char *sddl)
{
	uint64_t path = pm_scratch(t, "", 1);
	uint64_t text = pm_scratch(t, sddl, strlen(sddl) + 1);
	return SC(t, PM_SYS_kacs_set_sd, pidfd, (long)path, PM_AT_EMPTY_PATH, (long)text, 0, 0);
}

static long run_set_sd(struct genv *g) { return set_sd(g->caller, g->pidfd, NEW_DACL); }

static void verify_set_sd(struct genv *g, const char *who)
{
	char text[1024] = { 0 };
	get_sd(g->auditor, g->apidfd, text, sizeof(text));
	if (!strstr(text, "S-1-5-21-1-1099"))
		check_failed(__FILE__, __LINE__, "after kacs_set_sd as %s the SD reads \"%s\", want the "
			     "new ACE for S-1-5-21-1-1099", who, text);
}

static long read_view(struct genv *g, const char *name)
{
	char buf[8192];
	return pm_proc_read(g->caller, proc_pid(g), name, buf, sizeof(buf), 0);
}

static long run_maps(struct genv *g) { return read_view(g, "maps"); }
static long run_statm(struct genv *g) { return read_view(g, "statm"); }
static long run_oom_score(struct genv *g) { return read_view(g, "oom_score"); }
static long run_status(struct genv *g) { return read_view(g, "status"); }
static long run_smaps(struct genv *g) { return read_view(g, "smaps"); }
static long run_smaps_rollup(struct genv *g) { return read_view(g, "smaps_rollup"); }
static long run_pagemap(struct genv *g) { return read_view(g, "pagemap"); }
static long run_oom_adj_read(struct genv *g) { return read_view(g, "oom_score_adj"); }

static uint8_t mem_buf[64];

static long run_mem_read(struct genv *g)
{
	memset(mem_buf, 0, sizeof(mem_buf));
	return pm_proc_read(g->caller, proc_pid(g), "mem", mem_buf, sizeof(mem_buf), g->tva + 100);
}

static void verify_mem_read(struct genv *g, const char *who)
{
	(void)g;
	for (size_t i = 0; i < sizeof(mem_buf); i++)
		if (mem_buf[i] != TPAT) {
			check_failed(__FILE__, __LINE__, "as %s: mem byte %zu = %#x, want %#x", who, i,
				     mem_buf[i], TPAT);
			return;
		}
}

static long run_mem_write(struct genv *g)
{
	memset(mem_buf, 0x3C, sizeof(mem_buf));
	return pm_proc_pwrite(g->caller, proc_pid(g), "mem", mem_buf, sizeof(mem_buf), g->tva + 100);
}

static void verify_mem_write(struct genv *g, const char *who) { verify_written(g, who, 0x3C); }

static long run_oom_raise(struct genv *g)
{
	return pm_proc_pwrite(g->caller, proc_pid(g), "oom_score_adj", "100\n", 4, 0);
}

static long run_oom_lower(struct genv *g)
{
	return pm_proc_pwrite(g->caller, proc_pid(g), "oom_score_adj", "-100\n", 5, 0);
}

static void verify_oom_adj(struct genv *g, const char *who, const char *want)
{
	const char *got = proc_text(g->auditor, g->tpid, "oom_score_adj");
	if (strcmp(got, want))
		check_failed(__FILE__, __LINE__, "as %s: oom_score_adj reads \"%s\", want \"%s\"", who,
			     got, want);
}

static void verify_oom_raise(struct genv *g, const char *who) { verify_oom_adj(g, who, "100\n"); }
static void verify_oom_lower(struct genv *g, const char *who) { verify_oom_adj(g, who, "-100\n"); }

enum op_id {
	OP_KILL, OP_KILL0, OP_PIDFD_OPEN, OP_VM_READV, OP_VM_WRITEV, OP_MADVISE, OP_MRELEASE,
	OP_GET_SD, OP_SET_SD, OP_MAPS, OP_STATM, OP_OOM_SCORE, OP_STATUS, OP_SMAPS,
	OP_SMAPS_ROLLUP, OP_PAGEMAP, OP_OOM_ADJ_READ, OP_MEM_READ, OP_MEM_WRITE, OP_OOM_RAISE,
	OP_OOM_LOWER, NOPS
};

static const struct gate_op ops[NOPS] = {
	/* Peios's kill gate answers EACCES (digest §4.4, tested in pkm), not Linux's EPERM. */
	[OP_KILL] = { "kill(pid, SIGKILL)", "kill", -EACCES, 0, 0, run_kill, verify_dead },
	[OP_KILL0] = { "kill(pid, 0)", "kill", -EACCES, 0, 0, run_kill0, verify_alive },
	[OP_PIDFD_OPEN] = { "pidfd_open(pid, 0)", "pidfd_open", -EACCES, 1, 0, run_pidfd_open, NULL },
	[OP_VM_READV] = { "process_vm_readv(pid, 64 bytes)", "process_vm_readv", -EPERM, 64, 0,
			  run_vm_readv, verify_read_back },
	[OP_VM_WRITEV] = { "process_vm_writev(pid, 64 bytes)", "process_vm_writev", -EPERM, 64, 0,
			   run_vm_writev, verify_writev },
	[OP_MADVISE] = { "process_madvise(pidfd, 2 pages, MADV_WILLNEED)", "process_madvise",
			 -EPERM, 2 * PG, 1, run_madvise, verify_alive },
	/* A granted mrelease of a process that is not dying is Linux's EINVAL. */
	[OP_MRELEASE] = { "process_mrelease(pidfd, 0)", "process_mrelease", -EPERM, -EINVAL, 1,
			  run_mrelease, verify_alive },
	[OP_GET_SD] = { "kacs_get_sd(pidfd, \"\", AT_EMPTY_PATH)", "kacs_get_sd", -EACCES,
			OK_POSITIVE, 1, run_get_sd, NULL },
	[OP_SET_SD] = { "kacs_set_sd(pidfd, \"\", AT_EMPTY_PATH, \"D:...\")", "kacs_set_sd", -EACCES,
			0, 1, run_set_sd, verify_set_sd },
	[OP_MAPS] = { "read /proc/pid/maps", "maps", -EACCES, OK_POSITIVE, 0, run_maps, NULL },
	[OP_STATM] = { "read /proc/pid/statm", "statm", -EACCES, OK_POSITIVE, 0, run_statm, NULL },
	[OP_OOM_SCORE] = { "read /proc/pid/oom_score", "oom_score", -EACCES, OK_POSITIVE, 0,
			   run_oom_score, NULL },
	[OP_STATUS] = { "read /proc/pid/status", "status", -EACCES, OK_POSITIVE, 0, run_status, NULL },
	[OP_SMAPS] = { "read /proc/pid/smaps", "smaps", -EACCES, OK_NOT_EACCES, 0, run_smaps, NULL },
	[OP_SMAPS_ROLLUP] = { "read /proc/pid/smaps_rollup", "smaps_rollup", -EACCES, OK_NOT_EACCES,
			      0, run_smaps_rollup, NULL },
	[OP_PAGEMAP] = { "read /proc/pid/pagemap", "pagemap", -EACCES, OK_NOT_EACCES, 0, run_pagemap,
			 NULL },
	[OP_OOM_ADJ_READ] = { "read /proc/pid/oom_score_adj", "oom_score_adj", -EACCES, OK_POSITIVE,
			      0, run_oom_adj_read, NULL },
	[OP_MEM_READ] = { "pread /proc/pid/mem, 64 bytes", "mem", -EACCES, 64, 0, run_mem_read,
			  verify_mem_read },
	[OP_MEM_WRITE] = { "pwrite /proc/pid/mem, 64 bytes", "mem", -EACCES, 64, 0, run_mem_write,
			   verify_mem_write },
	[OP_OOM_RAISE] = { "write \"100\" to /proc/pid/oom_score_adj", "oom_score_adj", -EACCES, 4,
			   0, run_oom_raise, verify_oom_raise },
	[OP_OOM_LOWER] = { "write \"-100\" to /proc/pid/oom_score_adj", "oom_score_adj", -EACCES, 5,
			   0, run_oom_lower, verify_oom_lower },
};

/* G granted by the SD; R granted by the SeDebug rescue; D denied at the gate; T the gate
 * passes but lowering oom_score_adj needs SeTcbPrivilege too (SPEC §7). */
enum { G = 'G', R = 'R', D = 'D', T = 'T' };

static const struct { enum op_id op; char want[NKINDS + 1]; } matrix[] = {
	/*                  same other dbgon dbgoff imp system pip pipdbg pipsys pipdom impself low */
	{ OP_KILL,          { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_KILL0,         { G, G, G, G, G, G, D, D, D, G, G, G } },
	{ OP_PIDFD_OPEN,    { G, G, G, G, G, G, D, D, D, G, G, G } },
	{ OP_VM_READV,      { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_VM_WRITEV,     { G, D, R, D, D, G, D, D, D, G, D, D } },
	{ OP_MADVISE,       { G, D, R, D, D, G, D, D, D, G, D, D } },
	/* mrelease on self is EINVAL before any gate (SPEC §7), which the G value gives. */
	{ OP_MRELEASE,      { G, D, R, D, D, G, D, D, D, G, G, D } },
	{ OP_GET_SD,        { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_SET_SD,        { G, D, R, D, D, G, D, D, D, G, D, D } },
	{ OP_MAPS,          { G, G, G, G, G, G, D, D, D, G, G, G } },
	{ OP_STATM,         { G, G, G, G, G, G, D, D, D, G, G, G } },
	{ OP_OOM_SCORE,     { G, G, G, G, G, G, D, D, D, G, G, G } },
	{ OP_STATUS,        { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_SMAPS,         { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_SMAPS_ROLLUP,  { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_PAGEMAP,       { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_OOM_ADJ_READ,  { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_MEM_READ,      { G, D, R, D, D, G, D, D, D, G, D, G } },
	{ OP_MEM_WRITE,     { G, D, R, D, D, G, D, D, D, G, D, D } },
	{ OP_OOM_RAISE,     { G, D, R, D, D, G, D, D, D, G, D, D } },
	{ OP_OOM_LOWER,     { T, D, T, D, D, G, D, D, D, T, D, D } },
};

static int result_ok(long got, long ok)
{
	if (ok == OK_POSITIVE)
		return got > 0;
	if (ok == OK_NOT_EACCES)
		return got != -EACCES;
	return got == ok;
}

static const char *want_str(long v, char buf[64])
{
	if (v == OK_POSITIVE)
		return "> 0";
	if (v == OK_NOT_EACCES)
		return "anything but -EACCES";
	return val_str(v, buf);
}

/* Checks the audit lines one case wrote: a denial or a rescue names the op and the result;
 * a plain grant writes neither. */
static void check_audit(struct genv *g, const struct gate_op *op, char want, enum kind k)
{
	const char *who = kinds[k].name;
	const char *since = audit_since_mark(g);
	char key[64];
	snprintf(key, sizeof(key), "gate op=%s ", op->audit_op);
	int denied = audit_has(since, key, "result=denied");
	int rescued = audit_has(since, key, "why=sd+sedebug");
	int want_denied = want == D || want == T, want_rescued = want == R;
	if (want == T && k == K_DBG_ON)
		want_rescued = 1;	/* SeDebug grants SET_QUOTA; SeTcb is still missing */
	if (denied != want_denied || rescued != want_rescued)
		check_failed(__FILE__, __LINE__, "%s as %s: audit has denied=%d rescued=%d, want "
			     "denied=%d rescued=%d; new audit text:\n%s", op->call, who, denied,
			     rescued, want_denied, want_rescued, since);
}

static void run_case(enum kind k, enum op_id id, char want)
{
	const struct gate_op *op = &ops[id];
	const char *who = kinds[k].name;
	struct genv g = genv_open(k, op->need_pidfd);
	audit_mark(&g);
	long got = op->run(&g);
	long expect = (want == D || want == T) ? op->denied : op->ok;
	int pass = (want == D || want == T) ? got == expect : result_ok(got, expect);
	char gs[64], ws[64];
	if (!pass)
		check_failed(__FILE__, __LINE__, "%s as %s caller = %s, want %s (%c)", op->call, who,
			     val_str(got, gs), want_str(expect, ws), want);
	check_audit(&g, op, want, k);
	if (pass && (want == G || want == R) && op->verify)
		op->verify(&g, who);
	genv_close(&g);
}

static void run_column(enum kind k)
{
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++)
		run_case(k, matrix[i].op, matrix[i].want[k]);
}

/* A process's own user holds every right through the default DACL (SPEC §7). */
TEST(gate_matrix_same_user_caller_holds_every_right) { run_column(K_SAME); }

/* Another user gets only Everyone's QUERY_LIMITED_INFORMATION (SPEC §7's default SD). */
TEST(gate_matrix_other_user_caller_gets_only_limited_query) { run_column(K_OTHER); }

/* SeDebugPrivilege, enabled, overrides each DACL denial and is audited (SPEC §7, §12). */
TEST(gate_matrix_enabled_sedebug_rescues_every_dacl_denial) { run_column(K_DBG_ON); }

/* A privilege counts only when present and enabled (SPEC §12). */
TEST(gate_matrix_disabled_sedebug_rescues_nothing) { run_column(K_DBG_OFF); }

/* The effective token is the impersonation token (SPEC §7 check a). */
TEST(gate_matrix_impersonating_thread_acts_with_the_client_rights) { run_column(K_IMP); }

/* SYSTEM is granted GENERIC_ALL by the default DACL and holds SeTcb (SPEC §7). */
TEST(gate_matrix_system_caller_holds_every_right) { run_column(K_SYSTEM); }

/* PIP dominance is the second check: the owner cannot reach a protected process. */
TEST(gate_matrix_pip_target_refuses_its_unprotected_owner) { run_column(K_PIP); }

/* SeDebugPrivilege never overrides PIP (SPEC §7). */
TEST(gate_matrix_sedebug_does_not_rescue_a_pip_denial) { run_column(K_PIP_DBG); }

/* Nor does being SYSTEM. */
TEST(gate_matrix_system_cannot_reach_a_pip_target) { run_column(K_PIP_SYS); }

/* A caller of the same PIP type and higher trust dominates and passes both checks. */
TEST(gate_matrix_dominant_pip_caller_holds_every_right) { run_column(K_PIP_DOM); }

/* No self bypass (SPEC §7): a SYSTEM thread impersonating a client that cannot read its
 * process cannot read /proc/self/mem or its own memory by process_vm_readv either. */
TEST(gate_matrix_impersonating_thread_has_no_self_bypass) { run_column(K_IMP_SELF); }

/* MIC (digest §4.7): a lower-integrity caller facing the default NO_WRITE_UP label keeps
 * the read and execute categories (VM_READ, QUERY_INFORMATION, TERMINATE) and loses the
 * rest (VM_WRITE, WRITE_DAC, SET_QUOTA), even as the owner. */
TEST(gate_matrix_low_integrity_owner_reads_but_cannot_write) { run_column(K_LOW_IL); }
