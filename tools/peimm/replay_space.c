/*
 * Translation between the recorded world and peimm's: each address space keeps the
 * recorded regions the trace created (mmap results, mremap targets) with the peimm address
 * of the same mapping, the two initial breaks, and the program and interpreter images once
 * their recorded base is known; an address translates by containment and offset. Regions
 * peimm refused to create are kept as dead, so later calls on them are follow-ons, not new
 * divergences. Each fd table maps recorded fds to peimm fds. It never calls peimm.
 */
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define RP_PAGE 4096ULL

rp_space *rp_space_new(void)
{
	rp_space *s = calloc(1, sizeof(*s));
	if (s)
		s->refs = 1;
	return s;
}

rp_space *rp_space_copy(const rp_space *s)
{
	rp_space *c = rp_space_new();
	if (!c)
		return NULL;
	*c = *s;
	c->refs = 1;
	c->r = NULL;
	c->cap = 0;
	if (s->n && !(c->r = malloc(s->n * sizeof(*c->r)))) {
		free(c);
		return NULL;
	}
	if (s->n)
		memcpy(c->r, s->r, s->n * sizeof(*c->r));
	c->cap = s->n;
	return c;
}

void rp_space_put(rp_space *s)
{
	if (s && --s->refs == 0) {
		free(s->r);
		free(s);
	}
}

/* Index of the first region ending above a (regions are sorted and disjoint, so their
 * ends are sorted too): the one holding a, or the next one. */
static size_t first_after(const rp_space *s, uint64_t a)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->r[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert(rp_space *s, rp_region nr)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		rp_region *r = realloc(s->r, cap * sizeof(*r));
		if (!r)
			return -1;
		s->r = r;
		s->cap = cap;
	}
	size_t i = first_after(s, nr.rec);
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
	s->r[i] = nr;
	s->n++;
	return 0;
}

int rp_space_remove(rp_space *s, uint64_t rec, uint64_t len)
{
	uint64_t end = rec + ((len + RP_PAGE - 1) & ~(RP_PAGE - 1));
	for (size_t i = first_after(s, rec); i < s->n && s->r[i].rec < end; i++) {
		rp_region *r = &s->r[i];
		rp_region tail = *r;
		int has_tail = r->end > end;
		tail.pm = r->pm + (end - r->rec);
		tail.rec = end;
		if (r->rec < rec) {
			r->end = rec;		/* keep the head */
		} else {
			memmove(r, r + 1, (s->n - i - 1) * sizeof(*r));
			s->n--;
			i--;
		}
		if (has_tail && insert(s, tail))
			return -1;
	}
	return 0;
}

static int put(rp_space *s, uint64_t rec, uint64_t len, uint64_t pm, unsigned dead, int policy)
{
	len = (len + RP_PAGE - 1) & ~(RP_PAGE - 1);
	if (!len || rp_space_remove(s, rec, len))
		return -1;
	rp_region nr = { rec, rec + len, pm, dead, policy };
	return insert(s, nr);
}

int rp_space_set(rp_space *s, uint64_t rec, uint64_t len, uint64_t pm)
{
	return put(s, rec, len, pm, 0, 0);
}

int rp_space_dead(rp_space *s, uint64_t rec, uint64_t len, unsigned line, int policy)
{
	return put(s, rec, len, 0, line ? line : 1, policy);
}

/* The segment holding a: a region, an image, or the heap. 1 when found. */
static int seg_at(const rp_space *s, uint64_t a, uint64_t *start, uint64_t *end, uint64_t *pm,
		  const rp_region **hit)
{
	*hit = NULL;
	size_t i = first_after(s, a);
	if (i < s->n && s->r[i].rec <= a) {
		*start = s->r[i].rec;
		*end = s->r[i].end;
		*pm = s->r[i].pm;
		*hit = &s->r[i];
		return 1;
	}
	for (int k = 0; k < s->nimg; k++) {
		const rp_image *im = &s->img[k];
		if (!im->rec_known || !im->pm_known)
			continue;
		if (a >= im->rec_base + im->lo && a < im->rec_base + im->hi) {
			*start = im->rec_base + im->lo;
			*end = im->rec_base + im->hi;
			*pm = im->pm_base + im->lo;
			return 1;
		}
	}
	if (s->brk_known && a >= s->rec_brk0 && a < ((s->rec_brk + RP_PAGE - 1) & ~(RP_PAGE - 1))) {
		*start = s->rec_brk0;
		*end = (s->rec_brk + RP_PAGE - 1) & ~(RP_PAGE - 1);
		*pm = s->pm_brk0;
		return 1;
	}
	return 0;
}

/* The lowest segment start above a, or UINT64_MAX. */
static uint64_t next_start(const rp_space *s, uint64_t a)
{
	uint64_t best = UINT64_MAX;
	size_t i = first_after(s, a);
	if (i < s->n && s->r[i].rec <= a)
		i++;	/* the one holding a */
	if (i < s->n)
		best = s->r[i].rec;
	for (int k = 0; k < s->nimg; k++) {
		uint64_t st = s->img[k].rec_base + s->img[k].lo;
		if (s->img[k].rec_known && s->img[k].pm_known && st > a && st < best)
			best = st;
	}
	if (s->brk_known && s->rec_brk0 > a && s->rec_brk0 < best && s->rec_brk > s->rec_brk0)
		best = s->rec_brk0;
	return best;
}

int rp_space_lookup(const rp_space *s, uint64_t a, uint64_t *pm, const rp_region **hit)
{
	uint64_t st, en, base;
	if (!seg_at(s, a, &st, &en, &base, hit))
		return RP_TR_UNKNOWN;
	if (*hit && (*hit)->dead)
		return RP_TR_DEAD;
	*pm = base + (a - st);
	return RP_TR_OK;
}

int rp_space_range(rp_space *s, uint64_t a, uint64_t len, int allow_gaps, rp_piece *out,
		   int max, const rp_region **dead)
{
	uint64_t end = a + len, c = a;
	int n = 0;

	*dead = NULL;
	while (c < end) {
		uint64_t st, en, base;
		const rp_region *hit;
		if (!seg_at(s, c, &st, &en, &base, &hit)) {
			if (!allow_gaps)
				return RP_TR_UNKNOWN;
			c = next_start(s, c);
			continue;
		}
		if (hit && hit->dead) {
			*dead = hit;
			return RP_TR_DEAD;
		}
		uint64_t stop = en < end ? en : end, pm = base + (c - st);
		if (n && out[n - 1].pm + out[n - 1].len == pm) {
			out[n - 1].len += stop - c;
		} else {
			if (n == max)
				return RP_TR_UNKNOWN;
			out[n].pm = pm;
			out[n].len = stop - c;
			n++;
		}
		c = stop;
	}
	return n;
}

int rp_space_infer(rp_space *s, uint64_t a, uint64_t len)
{
	int fits[2] = { 0, 0 }, pick;
	for (int i = 0; i < s->nimg && i < 2; i++) {
		const rp_image *im = &s->img[i];
		fits[i] = !im->rec_known && im->dyn && im->relro_len && len == im->relro_len &&
			  a >= im->relro && !((a - im->relro) & (RP_PAGE - 1));
	}
	if (fits[0] && fits[1]) {
		/* Both could be: the program lies just below the break, the interpreter up in
		 * the mmap area. Without a break there is no telling. */
		uint64_t top = a - s->img[0].relro + s->img[0].hi;
		if (!s->brk_known)
			return 0;
		pick = top <= s->rec_brk0 && s->rec_brk0 - top < (1ULL << 32) ? 0 : 1;
	} else if (fits[0] || fits[1]) {
		pick = fits[0] ? 0 : 1;
	} else {
		return 0;
	}
	s->img[pick].rec_base = a - s->img[pick].relro;
	s->img[pick].rec_known = 1;
	return 1;
}

rp_files *rp_files_new(void)
{
	rp_files *f = calloc(1, sizeof(*f));
	if (f)
		f->refs = 1;
	return f;
}

rp_files *rp_files_copy(const rp_files *f)
{
	rp_files *c = rp_files_new();
	if (!c)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		if (rp_fd_set(c, f->f[i].rec, f->f[i].pm, f->f[i].cloexec)) {
			rp_files_put(c);
			return NULL;
		}
	return c;
}

void rp_files_put(rp_files *f)
{
	if (f && --f->refs == 0) {
		free(f->f);
		free(f);
	}
}

rp_fd *rp_fd_find(rp_files *f, int rec)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->f[i].rec == rec)
			return &f->f[i];
	return NULL;
}

int rp_fd_set(rp_files *f, int rec, int pm, int cloexec)
{
	rp_fd *d = rp_fd_find(f, rec);
	if (!d) {
		if (f->n == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 16;
			rp_fd *n = realloc(f->f, cap * sizeof(*n));
			if (!n)
				return -1;
			f->f = n;
			f->cap = cap;
		}
		d = &f->f[f->n++];
	}
	d->rec = rec;
	d->pm = pm;
	d->cloexec = cloexec;
	return 0;
}

void rp_fd_drop(rp_files *f, int rec)
{
	rp_fd *d = rp_fd_find(f, rec);
	if (d)
		*d = f->f[--f->n];
}
