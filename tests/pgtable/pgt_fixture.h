/*
 * Shared set-up for the pgtable tests: each test owns a kmem, a phys and a pgt, and
 * fixture_done proves the tree is consistent and that every frame came back (STYLE rule
 * 16). Helpers here only build mappings; they never hide a check a test relies on.
 */
#ifndef PM_TESTS_PGT_FIXTURE_H
#define PM_TESTS_PGT_FIXTURE_H

#include "check.h"

#include <errno.h>
#include <stdint.h>

#include "lib/kmem.h"
#include "pgtable/pgtable.h"
#include "phys/phys.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)

#define USER_RW (PTE_P | PTE_RW | PTE_US)

struct fixture {
	struct kmem km;
	struct phys ph;
	struct pgt p;
	uint64_t free_at_start;		/* free frames before the root was allocated */
};

/* kmem + phys of ram bytes + a pgt of `levels`; 0 or the failing call's -errno. */
static inline int fixture_init(struct fixture *f, uint64_t ram, int levels)
{
	kmem_init(&f->km);
	int err = phys_init(&f->ph, &f->km, ram);
	if (err)
		return err;
	f->free_at_start = phys_free_frames(&f->ph);
	return pgt_init(&f->p, &f->ph, levels);
}

/* The end-of-test proof: a clean pgt_check, then every frame and host object returned. */
static inline void fixture_done(struct fixture *f)
{
	EXPECT_EQ(pgt_check(&f->p), 0);
	pgt_destroy(&f->p);
	EXPECT_EQ(phys_free_frames(&f->ph), f->free_at_start);
	EXPECT_EQ(phys_destroy(&f->ph), 0);
	EXPECT_EQ(atomic_load(&f->km.live_objs), 0);
}

/* Maps va to pfn at `level` (1, 2 or 3) with bits; PS is added for levels 2 and 3. */
static inline int map_at(struct pgt *p, uint64_t va, int level, uint64_t pfn, pte_t bits)
{
	pte_t *ep;
	int err = pgt_alloc_entry(p, va, level, &ep);
	if (err)
		return err;
	if (*ep != 0)
		return -EBUSY;
	pgt_set(p, ep, pte_mk(pfn, bits | (level > 1 ? PTE_PS : 0)));
	return 0;
}

static inline int map4k(struct pgt *p, uint64_t va, uint64_t pfn)
{
	return map_at(p, va, 1, pfn, USER_RW);
}

/* The leaf value mapping va, or 0 when none; *level as pgt_lookup sets it (0 if none). */
static inline pte_t leaf_of(struct pgt *p, uint64_t va, int *level)
{
	int l = 0;
	pte_t *ep = pgt_lookup(p, va, &l);
	if (level)
		*level = ep ? l : 0;
	return ep ? *ep : 0;
}

/* A leaf callback that records how often and where it was called. */
struct visits {
	int n;
	uint64_t va[16];
	int level[16];
};

static inline int record_visit(void *ctx, uint64_t va, pte_t *ep, int level)
{
	struct visits *v = ctx;
	if (v->n < 16) {
		v->va[v->n] = va;
		v->level[v->n] = level;
	}
	v->n++;
	return 0;
}

#endif
