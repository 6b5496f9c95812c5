/*
 * The differential harness's newer calls: mremap, mlock/munlock/mlock2, mseal, msync, file
 * mappings and fork. Owns how they are generated, named in reports and issued on each side
 * (fork itself is the runners' business: it changes which process goes on), and the
 * run-time state (sealed pages) the declared differences of mseal depend on. Every target
 * address stays inside the window; results outside it are classified by the runners.
 */
#include "diff_harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pm_test.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define SYS_MSEAL 462
#define WIN_BYTES ((uint64_t)DIFF_WIN_PAGES * PG)

/* ---- generation ---- */

/* A target for a moved range of len bytes, inside the window. */
static uint64_t pick_target(uint64_t *s, uint64_t len)
{
	uint64_t pages = (len + PG - 1) / PG;
	return pages >= DIFF_WIN_PAGES ? 0 : diff_rnd(s, DIFF_WIN_PAGES - pages + 1) * PG;
}

/* Argument combinations mremap refuses (mremap(2) EINVAL, EFAULT). */
static void gen_mremap_invalid(uint64_t *s, struct diff_call *c)
{
	c->new_len = c->len;
	c->flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	c->new_off = pick_target(s, c->len);
	switch (diff_rnd(s, 8)) {
	case 0: c->flags = 8 | MREMAP_MAYMOVE; break;
	case 1: c->flags = MREMAP_FIXED; break;
	case 2: c->flags = MREMAP_DONTUNMAP; break;
	case 3: c->flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP; c->new_len += PG; break;
	case 4: c->off += 1 + diff_rnd(s, PG - 1); break;
	case 5: c->new_len = 0; c->flags = 0; break;
	case 6: c->new_off = c->off + PG; break;	/* overlapping ranges */
	case 7: c->new_off += 1 + diff_rnd(s, PG - 1); break;
	}
}

static void gen_mremap(uint64_t *s, struct diff_call *c)
{
	c->op = D_MREMAP;
	diff_pick_range(s, 12, &c->off, &c->len);
	uint64_t r = diff_rnd(s, 12);
	if (r < 2) {			/* shrink in place */
		c->new_len = c->len > PG ? (1 + diff_rnd(s, c->len / PG - 1)) * PG : PG;
	} else if (r < 5) {		/* grow: in place, or MAYMOVE out of the window */
		c->new_len = c->len + (1 + diff_rnd(s, 8)) * PG;
		c->flags = diff_rnd(s, 3) ? 0 : MREMAP_MAYMOVE;
	} else if (r < 8) {		/* move to a target inside the window */
		c->new_len = diff_rnd(s, 2) ? c->len : (1 + diff_rnd(s, 12)) * PG;
		c->flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		c->new_off = pick_target(s, c->new_len);
	} else if (r < 10) {		/* DONTUNMAP: old range stays, emptied */
		c->new_len = c->len;
		c->flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP | (diff_rnd(s, 4) ? MREMAP_FIXED : 0);
		c->new_off = pick_target(s, c->len);
	} else if (r < 11) {		/* old_len 0: duplicates shared memory, else EINVAL */
		c->len = 0;
		c->new_len = PG * (1 + diff_rnd(s, 4));
		c->flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		c->new_off = pick_target(s, c->new_len);
	} else {
		gen_mremap_invalid(s, c);
	}
	if (diff_rnd(s, 10) == 0 && c->new_len > PG)
		c->new_len -= 1 + diff_rnd(s, PG - 1);	/* lengths round up to pages */
}

static void gen_lock(uint64_t *s, struct diff_call *c)
{
	static const int ops[] = { D_MLOCK, D_MLOCK, D_MUNLOCK, D_MLOCK2, D_MLOCK2 };
	c->op = ops[diff_rnd(s, 5)];
	diff_pick_range(s, 12, &c->off, &c->len);
	if (c->op == D_MLOCK2)
		c->flags = diff_rnd(s, 8) == 0 ? 2 : diff_rnd(s, 2) ? MLOCK_ONFAULT : 0;
	if (diff_rnd(s, 12) == 0)
		c->off += 1 + diff_rnd(s, PG - 1);	/* mlock rounds the start down */
}

static void gen_seal_or_sync(uint64_t *s, struct diff_call *c)
{
	static const long sync_flags[] = { MS_ASYNC, MS_SYNC, MS_INVALIDATE,
					   MS_ASYNC | MS_INVALIDATE, MS_SYNC | MS_INVALIDATE, 0,
					   MS_ASYNC | MS_SYNC, 8 };
	c->op = diff_rnd(s, 3) == 0 ? D_MSEAL : D_MSYNC;
	diff_pick_range(s, 12, &c->off, &c->len);
	if (c->op == D_MSYNC)
		c->flags = sync_flags[diff_rnd(s, 8)];
	else if (diff_rnd(s, 20) == 0)
		c->flags = 1 + (long)diff_rnd(s, 2);
	if (diff_rnd(s, 20) == 0)
		c->off += 1 + diff_rnd(s, PG - 1);
}

static void gen_file_mmap(uint64_t *s, struct diff_gen *g, struct diff_call *c)
{
	static const long fprots[] = { PROT_READ, PROT_READ | PROT_WRITE,
				       PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE };
	c->op = D_MMAP;
	c->fd = 1 + (int)diff_rnd(s, DIFF_NFDS);
	diff_pick_range(s, 8, &c->off, &c->len);
	uint64_t fpages = (diff_file_size(diff_fd_file(c->fd)) + PG - 1) / PG;
	c->pgoff = (long)(diff_rnd(s, fpages + 2) * PG);
	uint64_t r = diff_rnd(s, 10);
	c->flags = (r < 5 ? MAP_SHARED : r < 9 ? MAP_PRIVATE : MAP_SHARED_VALIDATE) |
		   (diff_rnd(s, 6) ? MAP_FIXED : diff_rnd(s, 2) ? MAP_FIXED_NOREPLACE : 0);
	if (diff_rnd(s, 8) == 0)
		c->flags |= MAP_POPULATE;
	if (diff_rnd(s, 20) == 0)
		c->flags |= MAP_LOCKED;
	if (diff_rnd(s, 30) == 0)
		c->pgoff += 1 + (long)diff_rnd(s, PG - 1);	/* EINVAL */
	c->prot = fprots[diff_rnd(s, 5)];
	g->lo = c->off / PG;
	g->hi = (c->off + c->len + PG - 1) / PG;
}

void diff_gen_ext(uint64_t *s, struct diff_gen *g, struct diff_call *c)
{
	uint64_t r = diff_rnd(s, 100);
	if (r < 25)
		gen_mremap(s, c);
	else if (r < 40)
		gen_lock(s, c);
	else if (r < 58)
		gen_seal_or_sync(s, c);
	else if (r < 96 || g->forked)
		gen_file_mmap(s, g, c);
	else {
		c->op = D_FORK;
		g->forked = 1;
	}
}

/* ---- names ---- */

int diff_format_ext(const struct diff_call *c, char *buf, size_t len)
{
	const char *pre = c->pm_only ? "[peimm only] " : "";
	unsigned long o = (unsigned long)c->off, l = (unsigned long)c->len;
	switch (c->op) {
	case D_MREMAP:
		snprintf(buf, len, "%smremap(W+%#lx, %#lx, %#lx, %s%s%s%#lx, W+%#lx)", pre, o, l,
			 (unsigned long)c->new_len, c->flags & MREMAP_MAYMOVE ? "MAYMOVE|" : "",
			 c->flags & MREMAP_FIXED ? "FIXED|" : "",
			 c->flags & MREMAP_DONTUNMAP ? "DONTUNMAP|" : "",
			 c->flags & ~(long)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP),
			 (unsigned long)c->new_off);
		break;
	case D_MLOCK: snprintf(buf, len, "%smlock(W+%#lx, %#lx)", pre, o, l); break;
	case D_MUNLOCK: snprintf(buf, len, "%smunlock(W+%#lx, %#lx)", pre, o, l); break;
	case D_MLOCK2:
		snprintf(buf, len, "%smlock2(W+%#lx, %#lx, %s)", pre, o, l,
			 c->flags == MLOCK_ONFAULT ? "MLOCK_ONFAULT" : c->flags ? "2" : "0");
		break;
	case D_MSEAL: snprintf(buf, len, "%smseal(W+%#lx, %#lx, %ld)", pre, o, l, c->flags); break;
	case D_MSYNC:
		snprintf(buf, len, "%smsync(W+%#lx, %#lx, %s%s%s%#lx)", pre, o, l,
			 c->flags & MS_ASYNC ? "MS_ASYNC|" : "", c->flags & MS_SYNC ? "MS_SYNC|" : "",
			 c->flags & MS_INVALIDATE ? "MS_INVALIDATE|" : "",
			 c->flags & ~(long)(MS_ASYNC | MS_SYNC | MS_INVALIDATE));
		break;
	case D_FORK: snprintf(buf, len, "%sfork(), the sequence goes on in the child", pre); break;
	default: return 0;
	}
	return 1;
}

/* ---- issuing ---- */

static long raw(long r)
{
	return r == -1 ? -errno : r;
}

long diff_host_ext(uint64_t base, const struct diff_call *c)
{
	uint64_t a = base + c->off;
	switch (c->op) {
	case D_MREMAP:
		return raw(syscall(SYS_mremap, a, c->len, c->new_len, c->flags, base + c->new_off));
	case D_MLOCK: return raw(syscall(SYS_mlock, a, c->len));
	case D_MUNLOCK: return raw(syscall(SYS_munlock, a, c->len));
	case D_MLOCK2: return raw(syscall(SYS_mlock2, a, c->len, c->flags));
	case D_MSEAL: return raw(syscall(SYS_MSEAL, a, c->len, c->flags));
	case D_MSYNC: return raw(syscall(SYS_msync, a, c->len, c->flags));
	}
	return -ENOSYS;
}

long diff_pm_ext(struct pm_thread *t, uint64_t base, const struct diff_call *c)
{
	long a = (long)(base + c->off), l = (long)c->len;
	switch (c->op) {
	case D_MREMAP:
		return SC(t, SYS_mremap, a, l, (long)c->new_len, c->flags, (long)(base + c->new_off),
			  0);
	case D_MLOCK: return SC(t, SYS_mlock, a, l, 0, 0, 0, 0);
	case D_MUNLOCK: return SC(t, SYS_munlock, a, l, 0, 0, 0, 0);
	case D_MLOCK2: return SC(t, SYS_mlock2, a, l, c->flags, 0, 0, 0);
	case D_MSEAL: return SC(t, SYS_MSEAL, a, l, c->flags, 0, 0, 0);
	case D_MSYNC: return SC(t, SYS_msync, a, l, c->flags, 0, 0, 0);
	}
	return -ENOSYS;
}

/* ---- run-time state ---- */

void diff_state_update(struct diff_state *st, const struct diff_call *c,
		       const struct diff_rec *r)
{
	memcpy(st->mincore, r->mincore, sizeof(st->mincore));
	memcpy(st->maps, r->maps, sizeof(st->maps));
	/* Which pages are mapped, and in a VM_GROWSDOWN VMA (smaps "gd"). A sealed page can
	 * only go unmapped through a fork that left its MADV_DONTFORK VMA behind. */
	uint8_t mapped[DIFF_WIN_PAGES];
	memset(mapped, 0, sizeof(mapped));
	memset(st->growsdown, 0, sizeof(st->growsdown));
	for (const char *p = r->smaps; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned long s, e;
		const char *nl = strchr(p, '\n'), *gd = strstr(p, " gd ");
		if (sscanf(p, "%lx-%lx", &s, &e) != 2)
			continue;
		for (unsigned long q = s; q < e && q < DIFF_WIN_PAGES; q++) {
			mapped[q] = 1;
			st->growsdown[q] = gd && (!nl || gd < nl);
		}
	}
	for (int q = 0; q < DIFF_WIN_PAGES; q++)
		if (!mapped[q])
			st->sealed[q] = 0;
	if (c->op != D_MSEAL || r->rkind != R_VAL || r->rval != 0)
		return;
	for (uint64_t p = c->off / PG; p < (c->off + c->len + PG - 1) / PG; p++)
		if (p < DIFF_WIN_PAGES)
			st->sealed[p] = 1;
}
