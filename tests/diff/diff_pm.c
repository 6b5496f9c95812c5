/*
 * The differential harness's peimm side: a fresh system per sequence (cfg.root = the
 * sequence's peimm directory; a user token holding SeLockMemoryPrivilege, as the root host
 * child holds CAP_IPC_LOCK), the same window, the same files opened through openat, and
 * after every call the record the host child makes: result, maps lines, mincore, VmLck,
 * file hashes (through pread64) and pm_check_invariants. fork moves the sequence on to
 * the child's thread; the parent process stays until env_close ends it. When the host
 * kernel maps no zero page on read faults (caps->host_no_zero_page), neither does the
 * system (pm_config.no_zero_page), so both allocate the same frames.
 */
#include "diff_harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "pm_test.h"

#define WIN_BYTES	((uint64_t)DIFF_WIN_PAGES * PG)
#define TWO_GIB		0x80000000UL

struct pm_side {
	struct env e;
	pm_thread *t;		/* the thread the sequence runs in (a child's after fork) */
	uint64_t base;
	uint64_t vec;		/* scratch byte for mincore, 0 = none */
	uint64_t fbuf;		/* scratch buffer of DIFF_FILE_MAX bytes for pread64 */
	long fds[DIFF_NFDS + 1];
};

static struct env open_env(const char *root, const struct diff_caps *caps)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = 42;
	cfg.root = root;
	cfg.no_zero_page = caps->host_no_zero_page;	/* as the host kernel does */
	struct env e = { 0 };
	int err = 0;
	e.sys = pm_system_create(&cfg);
	if (e.sys)
		e.tok = pm_token_parse(e.sys, USER_TOKEN " privs=SeLockMemoryPrivilege:enabled",
				       &err);
	if (e.tok)
		e.t = pm_spawn(e.sys, e.tok, NULL);
	return e;
}

/* Opens the files as fds[1..]; returns 0 or the failing openat's -errno. */
static long open_files(struct pm_side *ps)
{
	for (int k = 1; k <= DIFF_NFDS; k++) {
		const char *name = diff_file_name(diff_fd_file(k));
		long path = (long)pm_scratch(ps->t, name, strlen(name) + 1);
		ps->fds[k] = SC(ps->t, SYS_openat, AT_FDCWD, path, diff_fd_rw(k) ? O_RDWR : O_RDONLY,
				0, 0, 0);
		if (ps->fds[k] < 0)
			return ps->fds[k];
	}
	return 0;
}

static int pm_open(struct pm_side *ps, const struct diff_caps *caps, const char *root)
{
	char v[64];
	ps->e = open_env(root, caps);
	ps->t = ps->e.t;
	if (!ps->t) {
		check_failed(__FILE__, __LINE__, "peimm: cannot create the system and process");
		if (ps->e.tok)
			pm_token_put(ps->e.tok);
		if (ps->e.sys)
			pm_system_destroy(ps->e.sys);
		return -1;
	}
	pm_syscall(ps->t, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 1, 0, 0, 0, 0);
	ps->base = DIFF_WIN_BASE;
	long r = do_mmap(ps->t, (long)ps->base, (long)WIN_BYTES, PROT_NONE,
			 ANON | MAP_FIXED_NOREPLACE);
	if (r == (long)ps->base)
		r = open_files(ps);
	if (r != 0 && r != (long)ps->base) {
		check_failed(__FILE__, __LINE__, "peimm: setting up the window and files = %s",
			     val_str(r, v));
		env_close(&ps->e);
		return -1;
	}
	SC(ps->t, SYS_munmap, (long)ps->base, (long)WIN_BYTES, 0, 0, 0, 0);
	uint8_t zero = 0;
	ps->vec = caps->pm_mincore ? pm_scratch(ps->t, &zero, 1) : 0;
	static const uint8_t zeros[DIFF_FILE_MAX];
	ps->fbuf = pm_scratch(ps->t, zeros, sizeof(zeros));
	return 0;
}

/* Hashes each writable-fd file as peimm's pread64 sees it. */
static void pm_hash_files(struct pm_side *ps, struct diff_rec *r)
{
	static uint8_t buf[DIFF_FILE_MAX];
	for (int k = 1; k <= DIFF_NFDS; k++) {
		if (!diff_fd_rw(k))
			continue;
		long n = SC(ps->t, SYS_pread64, ps->fds[k], (long)ps->fbuf, DIFF_FILE_MAX, 0, 0, 0);
		uint64_t h = 0xcbf29ce484222325ULL;
		if (n > 0 && pm_access(ps->t, ps->fbuf, buf, (size_t)n, PM_READ, NULL) == n)
			for (long i = 0; i < n; i++)
				diff_fnv(&h, buf[i]);
		r->fhash[diff_fd_file(k)] = n < 0 ? 0 : h;
	}
}

static void pm_record_state(struct pm_side *ps, const struct diff_caps *caps,
			    struct diff_rec *r)
{
	static char text[1 << 18];
	long n = pm_proc_read(ps->t, 0, "maps", text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	diff_window_maps(text, ps->base, r->maps, sizeof(r->maps));
	n = pm_proc_read(ps->t, 0, "smaps", text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	diff_window_smaps(text, ps->base, r->smaps, sizeof(r->smaps));
	for (int i = 0; i < DIFF_WIN_PAGES; i++) {
		uint8_t v = 0;
		long k = -ENOSYS;
		if (ps->vec) {
			k = pm_syscall(ps->t, SYS_mincore, (long)(ps->base + (uint64_t)i * PG), PG,
				       (long)ps->vec, 0, 0, 0);
			if (k == 0)
				pm_access(ps->t, ps->vec, &v, 1, PM_READ, NULL);
		}
		r->mincore[i] = k == -ENOSYS ? '-' : k == -ENOMEM ? '.' : k < 0 ? '?' :
				(v & 1) ? '1' : '0';
	}
	r->mincore[DIFF_WIN_PAGES] = '\0';
	/* As the process itself, unprivileged: no PFNs (SPEC §7), every flag bit. */
	uint64_t pme[DIFF_WIN_PAGES];
	n = pm_proc_read(ps->t, 0, "pagemap", pme, sizeof(pme), ps->base / PG * 8);
	for (int i = 0; i < DIFF_WIN_PAGES; i++)
		r->pagemap[i] = n == (long)sizeof(pme) ? diff_pagemap_char(pme[i], caps) : '-';
	r->pagemap[DIFF_WIN_PAGES] = '\0';
	n = pm_proc_read(ps->t, 0, "status", text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	r->vmlck_kb = diff_status_vmlck(text);
	pm_hash_files(ps, r);
	r->invariants = pm_check_invariants(ps->e.sys);
}

/* An address result (mmap, mremap) made window-relative; outside the window it is undone. */
static void pm_addr_result(struct pm_side *ps, long ret, uint64_t len, struct diff_rec *r)
{
	uint64_t base = ps->base;
	if (ret < 0 && ret > -4096) {
		r->rkind = R_ERR;
		r->rval = ret;
	} else if ((uint64_t)ret >= base && (uint64_t)ret < base + WIN_BYTES) {
		r->rkind = R_WIN;
		r->rval = (long)((uint64_t)ret - base);
	} else {
		r->rkind = (uint64_t)ret + len <= TWO_GIB ? R_ELSEWHERE32 : R_ELSEWHERE;
		pm_syscall(ps->t, SYS_munmap, ret, (long)len, 0, 0, 0, 0);
	}
}

/* D_WRITE and D_READ through the software MMU. */
static void pm_access_call(struct pm_side *ps, const struct diff_call *c, struct diff_rec *r)
{
	static uint8_t buf[PG];
	pm_siginfo si;
	memset(&si, 0, sizeof(si));
	if (c->op == D_WRITE)
		for (int i = 0; i < 8; i++)
			buf[i] = (uint8_t)(c->val + i);
	long ret = pm_access(ps->t, ps->base + c->off, buf, c->op == D_WRITE ? 8 : PG,
			     c->op == D_WRITE ? PM_WRITE : PM_READ, &si);
	if (ret == -EFAULT) {
		r->rkind = R_SIG;
		r->signo = si.signo;
		r->code = si.code;
		r->fault_off = (long)(si.addr - ps->base);
		return;
	}
	if (ret >= 0 && c->op == D_READ) {
		uint64_t h = 0xcbf29ce484222325ULL;
		for (int i = 0; i < PG; i++)
			diff_fnv(&h, buf[i]);
		r->hash = h;
	}
	r->rkind = ret < 0 ? R_ERR : R_VAL;
	r->rval = ret;
}

static void pm_call(struct pm_side *ps, const struct diff_call *c, struct diff_rec *r)
{
	pm_thread *t = ps->t;
	long a = (long)(ps->base + c->off), l = (long)c->len, ret = 0;
	r->rkind = R_VAL;
	switch (c->op) {
	case D_MMAP:
		ret = pm_syscall(t, SYS_mmap, a, l, c->prot, c->flags, c->fd ? ps->fds[c->fd] : -1,
				 c->pgoff);
		pm_addr_result(ps, ret, c->len, r);
		return;
	case D_MREMAP:
		pm_addr_result(ps, diff_pm_ext(t, ps->base, c), c->new_len, r);
		return;
	case D_MUNMAP: ret = pm_syscall(t, SYS_munmap, a, l, 0, 0, 0, 0); break;
	case D_MPROTECT: ret = pm_syscall(t, SYS_mprotect, a, l, c->prot, 0, 0, 0); break;
	case D_MADVISE: ret = pm_syscall(t, SYS_madvise, a, l, c->advice, 0, 0, 0); break;
	case D_WRITE:
	case D_READ:
		pm_access_call(ps, c, r);
		return;
	case D_FORK:
		ret = pm_syscall(t, SYS_fork, 0, 0, 0, 0, 0, 0);
		if (ret > 0 && pm_thread_of(ps->e.sys, (int)ret))
			ps->t = pm_thread_of(ps->e.sys, (int)ret);
		ret = ret > 0 ? 0 : ret;	/* the host record is made in the child: 0 */
		break;
	default: ret = diff_pm_ext(t, ps->base, c); break;
	}
	r->rkind = ret < 0 ? R_ERR : R_VAL;
	r->rval = ret;
}

int diff_pm_run(const struct diff_seq *s, const struct diff_caps *caps, const char *root,
		struct diff_rec *out)
{
	struct pm_side ps;
	static struct diff_state st;
	if (pm_open(&ps, caps, root))
		return -1;
	memset(&st, 0, sizeof(st));
	memset(st.mincore, '.', DIFF_WIN_PAGES);
	for (int i = 0; i < s->n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		int d = diff_declared_at(&s->c[i], caps, &st);
		if (d >= 0 && diff_differences[d].how == DD_SKIP)
			out[i] = (struct diff_rec){ .rkind = R_DECLARED, .rval = d };
		else
			pm_call(&ps, &s->c[i], &out[i]);
		pm_record_state(&ps, caps, &out[i]);
		diff_state_update(&st, &s->c[i], &out[i]);
	}
	env_close(&ps.e);
	return 0;
}
