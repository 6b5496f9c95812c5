/*
 * The memory calls of a replay: mmap, munmap, mprotect, madvise, mremap, brk, the mlock
 * family, msync, mincore, pkeys and mseal. Each recorded address becomes the peimm address
 * of the same mapping (replay_space.c); a range that spans mappings peimm placed apart
 * becomes one call per piece. The translation table follows every outcome, so later calls
 * find what earlier ones made. It never guesses an address it cannot translate: such a
 * call is skipped with a note, never replayed somewhere else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "replay.h"

#define RP_PAGE 4096L
#define RP_MAP_FIXED 0x10
#define RP_MAP_ANONYMOUS 0x20
#define RP_MAP_FIXED_NOREPLACE 0x100000
#define RP_MREMAP_FIXED 2
#define RP_MREMAP_DONTUNMAP 4
#define RP_MAXPIECES 16

static int is_err(long v) { return v < 0 && v >= -4095; }

static void follow_on(rp_run *r, rp_proc *p, const rp_event *e, const rp_region *dead)
{
	char why[120];
	snprintf(why, sizeof(why), "touches memory peimm refused to map at line %u", dead->dead);
	rp_finding_add(r, p, e, RP_F_FOLLOW, 0, 0, why);
	p->replayed++;
}

static void untranslatable(rp_run *r, rp_proc *p, const rp_event *e)
{
	rp_finding_add(r, p, e, RP_F_NOTE, 0, 0,
		       "address outside every mapping the trace shows (stack, vdso, or an image "
		       "whose place is unknown): not replayed");
	p->skipped++;
}

/* One recorded address: its peimm counterpart, or itself when the trace never mapped it
 * (a hint, or a MAP_FIXED address the program chose). 0, or -1 when it is a dead region. */
static int xlate_addr(rp_proc *p, uint64_t a, uint64_t *pm, const rp_region **dead)
{
	*dead = NULL;
	int rc = rp_space_lookup(p->space, a, pm, dead);
	if (rc == RP_TR_UNKNOWN && rp_space_infer(p->space, a, RP_PAGE))
		rc = rp_space_lookup(p->space, a, pm, dead);
	if (rc == RP_TR_DEAD)
		return -1;
	if (rc == RP_TR_UNKNOWN)
		*pm = a;
	return 0;
}

/* The pieces of [a, a+len): their count, or -1 when the call was handled (follow-on,
 * untranslatable). A failed recorded call on unknown memory replays at the same address. */
static int xlate_range(rp_run *r, rp_proc *p, const rp_event *e, uint64_t a, uint64_t len,
		       int allow_gaps, rp_piece *out)
{
	const rp_region *dead;
	if (!len || (a & (RP_PAGE - 1))) {	/* invalid anyway: let peimm say so */
		if (xlate_addr(p, a, &out[0].pm, &dead)) {
			follow_on(r, p, e, dead);
			return -1;
		}
		out[0].len = len;
		return 1;
	}
	int n = rp_space_range(p->space, a, len, allow_gaps, out, RP_MAXPIECES, &dead);
	if (n == RP_TR_UNKNOWN && rp_space_infer(p->space, a, len))
		n = rp_space_range(p->space, a, len, allow_gaps, out, RP_MAXPIECES, &dead);
	if (n == RP_TR_DEAD) {
		follow_on(r, p, e, dead);
		return -1;
	}
	if (n == RP_TR_UNKNOWN || n == 0) {
		if (e->has_ret && is_err(e->ret)) {
			out[0].pm = a;
			out[0].len = len;
			return 1;
		}
		if (n == 0) {
			return 0;
		}
		untranslatable(r, p, e);
		return -1;
	}
	return n;
}

static long sys_nr(int call)
{
	switch (call) {
	case RP_MUNMAP: return SYS_munmap;
	case RP_MPROTECT: return SYS_mprotect;
	case RP_MADVISE: return SYS_madvise;
	case RP_MLOCK: return SYS_mlock;
	case RP_MLOCK2: return SYS_mlock2;
	case RP_MUNLOCK: return SYS_munlock;
	case RP_MSYNC: return SYS_msync;
	case RP_MINCORE: return SYS_mincore;
	case RP_PKEY_MPROTECT: return SYS_pkey_mprotect;
	case RP_MSEAL: return 462;
	default: return -1;
	}
}

/* A call on a range: one peimm call per piece, the first error wins. */
static void range_call(rp_run *r, rp_proc *p, const rp_event *e, pm_thread *t)
{
	rp_piece pc[RP_MAXPIECES];
	uint64_t a = (uint64_t)e->val[0], len = (uint64_t)e->val[1];
	int n = xlate_range(r, p, e, a, len, e->call == RP_MUNMAP, pc);
	long res = 0;

	if (n < 0)
		return;
	for (int i = 0; i < n && res >= 0; i++) {
		long a3 = e->val[2], a4 = e->val[3];
		if (e->call == RP_MINCORE) {	/* the vector lives in peimm's memory */
			size_t pages = (size_t)((pc[i].len + RP_PAGE - 1) / RP_PAGE);
			void *zero = calloc(pages ? pages : 1, 1);
			a3 = zero ? (long)pm_scratch(t, zero, pages ? pages : 1) : -ENOMEM;
			free(zero);
		}
		long v = pm_syscall(t, sys_nr(e->call), (long)pc[i].pm, (long)pc[i].len, a3, a4, 0, 0);
		res = v < 0 ? v : res;
	}
	rp_judge(r, p, e, res, !is_err(e->ret), res >= 0);
	if (e->call == RP_MUNMAP && e->has_ret && !is_err(e->ret))
		rp_space_remove(p->space, a, len);
}

static void do_mmap(rp_run *r, rp_proc *p, const rp_event *e, pm_thread *t)
{
	uint64_t addr = (uint64_t)e->val[0], len = (uint64_t)e->val[1], pm_addr = 0, probe;
	long flags = e->val[3], fd = -1;
	int fixed = (flags & (RP_MAP_FIXED | RP_MAP_FIXED_NOREPLACE)) != 0;
	const rp_region *dead;
	/* A refused MAP_FIXED over a live region leaves that region in peimm. */
	int over_live = fixed && rp_space_lookup(p->space, addr, &probe, &dead) == RP_TR_OK;

	if (addr && xlate_addr(p, addr, &pm_addr, &dead)) {
		if (fixed) {
			follow_on(r, p, e, dead);
			return;
		}
		pm_addr = addr;	/* a hint into refused memory: keep the hint */
	}
	if (!(flags & RP_MAP_ANONYMOUS)) {
		rp_fd *d = rp_fd_find(p->files, (int)e->val[4]);
		if (!d || d->pm < 0) {
			rp_finding_add(r, p, e, RP_F_NOTE, 0, 0, d ?
				       "its file is not on this host: not replayed" :
				       "its fd was not opened by a traced call: not replayed");
			p->skipped++;
			if (e->has_ret && !is_err(e->ret))
				rp_space_remove(p->space, (uint64_t)e->ret, len);
			return;
		}
		fd = d->pm;
	}
	long res = pm_syscall(t, SYS_mmap, (long)pm_addr, (long)len, e->val[2], flags, fd, e->val[5]);
	int rec_ok = !is_err(e->ret), pm_ok = !is_err(res);
	int kind = rp_judge(r, p, e, res, rec_ok, pm_ok);
	if (!e->has_ret)
		return;
	if (rec_ok && pm_ok)
		rp_space_set(p->space, (uint64_t)e->ret, len, (uint64_t)res);
	else if (rec_ok && !over_live)
		rp_space_dead(p->space, (uint64_t)e->ret, len, e->line, kind != RP_F_DIVERGE);
	else if (!rec_ok && pm_ok && !fixed)
		pm_syscall(t, SYS_munmap, res, (long)len, 0, 0, 0, 0);	/* stay in step */
}

static void do_mremap(rp_run *r, rp_proc *p, const rp_event *e, pm_thread *t)
{
	uint64_t old = (uint64_t)e->val[0], oldlen = (uint64_t)e->val[1], newlen = (uint64_t)e->val[2];
	long flags = e->val[3];
	uint64_t pm_old, pm_new = 0;
	rp_piece pc[RP_MAXPIECES];
	const rp_region *dead;

	int n = xlate_range(r, p, e, old, oldlen ? oldlen : RP_PAGE, 0, pc);
	if (n < 0)
		return;
	pm_old = pc[0].pm;
	if ((flags & RP_MREMAP_FIXED) && xlate_addr(p, (uint64_t)e->val[4], &pm_new, &dead)) {
		follow_on(r, p, e, dead);
		return;
	}
	long res = pm_syscall(t, SYS_mremap, (long)pm_old, (long)oldlen, (long)newlen, flags,
			      (long)pm_new, 0);
	int rec_ok = !is_err(e->ret), pm_ok = !is_err(res);
	int kind = rp_judge(r, p, e, res, rec_ok, pm_ok);
	if (!e->has_ret || !rec_ok)
		return;
	if (oldlen && !(flags & RP_MREMAP_DONTUNMAP))
		rp_space_remove(p->space, old, oldlen);
	if (pm_ok)
		rp_space_set(p->space, (uint64_t)e->ret, newlen, (uint64_t)res);
	else
		rp_space_dead(p->space, (uint64_t)e->ret, newlen, e->line, kind != RP_F_DIVERGE);
}

static void do_brk(rp_run *r, rp_proc *p, const rp_event *e, pm_thread *t)
{
	rp_space *s = p->space;
	uint64_t x = (uint64_t)e->val[0];

	if (!s->brk_known) {
		if (x || !e->has_ret) {
			untranslatable(r, p, e);
			return;
		}
		s->pm_brk0 = (uint64_t)pm_syscall(t, SYS_brk, 0, 0, 0, 0, 0, 0);
		s->rec_brk0 = s->rec_brk = (uint64_t)e->ret;
		s->brk_known = 1;
		rp_judge(r, p, e, (long)s->pm_brk0, 1, 1);
		return;
	}
	uint64_t pm_x = x ? s->pm_brk0 + (x - s->rec_brk0) : 0;
	long res = pm_syscall(t, SYS_brk, (long)pm_x, 0, 0, 0, 0, 0);
	int rec_ok = !x || (uint64_t)e->ret == x, pm_ok = !x || (uint64_t)res == pm_x;
	/* a refused brk returns the old break: show it as ENOMEM, which is what it means */
	rp_judge(r, p, e, pm_ok ? res : -ENOMEM, rec_ok, pm_ok);
	if (e->has_ret)
		s->rec_brk = (uint64_t)e->ret;
}

void rp_do_mem(rp_run *r, rp_proc *p, const rp_event *e)
{
	pm_thread *t = rp_thread(r, p);
	long res;

	if (!t) {
		rp_skip_count(r, p, "(after exit)");
		return;
	}
	switch (e->call) {
	case RP_MMAP:
		do_mmap(r, p, e, t);
		break;
	case RP_MREMAP:
		do_mremap(r, p, e, t);
		break;
	case RP_BRK:
		do_brk(r, p, e, t);
		break;
	case RP_MLOCKALL:
	case RP_MUNLOCKALL:
	case RP_PKEY_ALLOC:
	case RP_PKEY_FREE: {
		long nr = e->call == RP_MLOCKALL ? SYS_mlockall : e->call == RP_MUNLOCKALL ?
			  SYS_munlockall : e->call == RP_PKEY_ALLOC ? SYS_pkey_alloc : SYS_pkey_free;
		res = pm_syscall(t, nr, e->val[0], e->val[1], 0, 0, 0, 0);
		rp_judge(r, p, e, res, !is_err(e->ret), !is_err(res));
		break;
	}
	default:
		range_call(r, p, e, t);
	}
}
