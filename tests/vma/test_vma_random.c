/*
 * Randomised and scale tests of the VMA index. The differential test drives the tree and
 * a plain sorted array of the same VMAs with one seeded stream of inserts, removes,
 * adjusts, lookups and gap searches, compares every answer, and runs vma_tree_check every
 * CHECK_EVERY steps. The seed is printed on failure; PEIMM_SEED overrides it. The scale
 * tests build trees of 100k (fast tier) and 1M VMAs (slow tier).
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/prng.h"
#include "vma_test.h"

#define DEFAULT_SEED	0x9e3779b97f4a7c15ULL
#define CHECK_EVERY	1000

static uint64_t test_seed(void)
{
	const char *s = getenv("PEIMM_SEED");
	return s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
}

/* ---------------------------------------------------------------- the model ----------- */

enum { POOL = 3000, SPACE = 8192 /* pages */, GUARD = 2 /* pages */ };

struct model {
	struct vma *v[POOL];		/* the VMAs in the tree, sorted by vm_start */
	unsigned n;
};

/* Index of the first VMA with vm_end > addr (n if none). */
static unsigned model_find(const struct model *m, uint64_t addr)
{
	unsigned lo = 0, hi = m->n;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (m->v[mid]->vm_end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void model_insert(struct model *m, struct vma *v)
{
	unsigned k = model_find(m, v->vm_start);
	memmove(&m->v[k + 1], &m->v[k], (m->n - k) * sizeof(m->v[0]));
	m->v[k] = v;
	m->n++;
}

static void model_remove(struct model *m, unsigned k)
{
	memmove(&m->v[k], &m->v[k + 1], (m->n - k - 1) * sizeof(m->v[0]));
	m->n--;
}

static uint64_t model_start_gap(const struct vma *v)
{
	uint64_t g = GUARD * PG;
	if (!(v->vm_flags & VM_GROWSDOWN))
		return v->vm_start;
	return v->vm_start < g ? 0 : v->vm_start - g;
}

/* Brute force over every gap: the best aligned placement, or -ENOMEM. */
static int model_gap(const struct model *m, bool top, uint64_t len, uint64_t mask,
		     uint64_t low, uint64_t high, uint64_t *out)
{
	bool found = false;
	for (unsigned k = 0; k <= m->n; k++) {
		uint64_t gs = k ? m->v[k - 1]->vm_end : 0;
		uint64_t ge = k < m->n ? model_start_gap(m->v[k]) : UINT64_MAX;
		uint64_t lo = gs > low ? gs : low, hi = ge < high ? ge : high;
		if (hi < lo || hi - lo < len)
			continue;
		uint64_t a = top ? (hi - len) & ~mask : (lo + mask) & ~mask;
		if (a < lo || a > hi - len)
			continue;
		if (!found || (top ? a > *out : a < *out))
			*out = a;
		found = true;
	}
	return found ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- the driver ---------- */

struct run {
	struct vt x;
	struct model m;
	struct vma pool[POOL];
	bool used[POOL];
	struct prng r;
	uint64_t step;
};

static struct vma *pool_get(struct run *R)
{
	unsigned i = (unsigned)prng_below(&R->r, POOL);
	for (unsigned k = 0; k < POOL; k++, i = (i + 1) % POOL)
		if (!R->used[i]) {
			R->used[i] = true;
			return &R->pool[i];
		}
	return NULL;
}

static void step_insert(struct run *R)
{
	struct vma *v = pool_get(R);
	if (!v)
		return;
	uint64_t start = prng_below(&R->r, SPACE) * PG, len = (1 + prng_below(&R->r, 8)) * PG;
	uint64_t flags = VM_READ | (prng_below(&R->r, 8) == 0 ? VM_GROWSDOWN : 0);
	vma_set(v, start, start + len, flags);
	unsigned k = model_find(&R->m, start);
	if (k < R->m.n && R->m.v[k]->vm_start < start + len) {
		R->used[v - R->pool] = false;	/* would overlap */
		return;
	}
	if (prng_below(&R->r, 10) == 0) {
		uint64_t count = R->x.t.count;
		kmem_fail_nth(&R->x.km, 1);
		int err = vma_insert(&R->x.t, v);
		kmem_fail_nth(&R->x.km, 0);
		if (err == 0)
			goto inserted;
		EXPECT_EQ(err, -ENOMEM);
		EXPECT_EQ(R->x.t.count, count);
		EXPECT_TRUE(vma_find(&R->x.t, start) != v);
	}
	EXPECT_EQ(vma_insert(&R->x.t, v), 0);
inserted:
	model_insert(&R->m, v);
}

static void step_remove(struct run *R)
{
	if (!R->m.n)
		return;
	unsigned k = (unsigned)prng_below(&R->r, R->m.n);
	struct vma *v = R->m.v[k];
	vma_remove(&R->x.t, v);
	model_remove(&R->m, k);
	R->used[v - R->pool] = false;
}

/* Moves a random VMA's bounds anywhere between its neighbours. */
static void step_adjust(struct run *R)
{
	if (!R->m.n)
		return;
	unsigned k = (unsigned)prng_below(&R->r, R->m.n);
	struct vma *v = R->m.v[k];
	uint64_t lo = k ? R->m.v[k - 1]->vm_end / PG : 0;
	uint64_t hi = k + 1 < R->m.n ? R->m.v[k + 1]->vm_start / PG : SPACE + 8;
	uint64_t s = lo + prng_below(&R->r, hi - lo);
	uint64_t e = s + 1 + prng_below(&R->r, hi - s);
	vma_adjust(&R->x.t, v, s * PG, e * PG);
}

static void step_query(struct run *R)
{
	uint64_t addr = prng_below(&R->r, (SPACE + 16) * PG);
	unsigned k = model_find(&R->m, addr);
	struct vma *want = k < R->m.n ? R->m.v[k] : NULL;
	EXPECT_TRUE(vma_find(&R->x.t, addr) == want);
	struct vma *in = want && want->vm_start <= addr ? want : NULL;
	EXPECT_TRUE(vma_lookup(&R->x.t, addr) == in);
}

static void step_gap(struct run *R, bool top)
{
	static const uint64_t masks[] = { 0, 0x1fff, 0x3fff, 0xffff };
	uint64_t len = (1 + prng_below(&R->r, 12)) * PG;
	uint64_t mask = masks[prng_below(&R->r, 4)];
	uint64_t low = prng_below(&R->r, SPACE) * PG;
	uint64_t high = low + prng_below(&R->r, SPACE + 64) * PG;
	uint64_t got = 1, want = 2;
	int gerr = top ? vma_gap_topdown(&R->x.t, len, mask, low, high, &got)
		       : vma_gap_bottomup(&R->x.t, len, mask, low, high, &got);
	int werr = model_gap(&R->m, top, len, mask, low, high, &want);
	EXPECT_EQ(gerr, werr);
	if (!gerr && !werr && got != want)
		check_failed(__FILE__, __LINE__,
			     "vma_gap_%s(len=%#" PRIx64 ", mask=%#" PRIx64 ", low=%#" PRIx64
			     ", high=%#" PRIx64 ") = %#" PRIx64 ", want %#" PRIx64,
			     top ? "topdown" : "bottomup", len, mask, low, high, got, want);
}

/* Walks the list beside the model; 0 when they hold the same VMAs in the same order. */
static int compare_with_model(struct run *R)
{
	struct vma *v = vma_first(&R->x.t);
	for (unsigned k = 0; k < R->m.n; k++, v = vma_next(&R->x.t, v))
		if (v != R->m.v[k])
			return 1;
	return v != NULL || R->x.t.count != R->m.n;
}

/* The tree answers every find, lookup and gap search as a sorted array does, through 50k
 * random inserts (some under injected allocation failure), removes and adjusts. */
TEST(random_operations_match_a_sorted_array_model)
{
	struct run *R = calloc(1, sizeof(*R));
	uint64_t seed = test_seed();
	int before = test_failures;
	prng_seed(&R->r, seed);
	vt_init(&R->x, GUARD * PG);
	for (R->step = 0; R->step < 50000 && test_failures == before; R->step++) {
		uint64_t op = prng_below(&R->r, 100);
		if (op < 36)
			step_insert(R);
		else if (op < 60)
			step_remove(R);
		else if (op < 70)
			step_adjust(R);
		else if (op < 80)
			step_query(R);
		else
			step_gap(R, op < 90);
		if (R->step % CHECK_EVERY == CHECK_EVERY - 1) {
			EXPECT_EQ(vma_tree_check(&R->x.t), 0);
			EXPECT_EQ(compare_with_model(R), 0);
		}
	}
	EXPECT_EQ(vma_tree_check(&R->x.t), 0);
	EXPECT_EQ(vt_destroy(&R->x), 0);
	if (test_failures != before)
		fprintf(stderr, "random test: seed %#" PRIx64 " (PEIMM_SEED), failed at step %" PRIu64
			"\n", seed, R->step);
	free(R);
}

/* ---------------------------------------------------------------- scale --------------- */

/* Builds n one-page VMAs (one-page holes between) in random order, looks each up, churns
 * 10k mmap-like cycles (top-down search, insert, remove), then removes all in random order. */
static void scale_run(uint64_t n)
{
	struct vt x;
	struct prng r;
	struct vma *v = calloc(n + 1, sizeof(*v));
	uint64_t *order = calloc(n, sizeof(*order));
	uint64_t out = 0;
	prng_seed(&r, test_seed());
	vt_init(&x, 0);
	for (uint64_t i = 0; i < n; i++)
		order[i] = i;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = prng_below(&r, i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = order[i];
		vma_set(&v[k], (2 * k + 1) * PG, (2 * k + 2) * PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[k]), 0);
	}
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	for (uint64_t k = 0; k < n; k++)
		if (vma_lookup(&x.t, v[k].vm_start + 5) != &v[k])
			EXPECT_TRUE(vma_lookup(&x.t, v[k].vm_start + 5) == &v[k]);
	uint64_t calls = 0;
	for (int i = 0; i < 10000; i++) {
		if (i == 1)	/* the first cycle may leave a node in the spare cache */
			calls = atomic_load(&x.km.calls);
		REQUIRE_EQ(vma_gap_topdown(&x.t, PG, 0, 0, (2 * n + 64) * PG, &out), 0);
		vma_set(&v[n], out, out + PG, VM_READ);
		REQUIRE_EQ(vma_insert(&x.t, &v[n]), 0);
		vma_remove(&x.t, &v[n]);
	}
	/* Steady state: after the first cycle the churn never called the allocator. */
	EXPECT_EQ(atomic_load(&x.km.calls), calls);
	for (uint64_t i = 0; i < n; i++)
		vma_remove(&x.t, &v[order[(i * 7919) % n]]);
	EXPECT_EQ(x.t.count, 0);
	EXPECT_EQ(vma_tree_check(&x.t), 0);
	EXPECT_EQ(vt_destroy(&x), 0);
	free(order);
	free(v);
}

/* 100k VMAs: the index stays valid and leak-free at a size real processes reach. */
TEST(index_of_100k_vmas_builds_churns_and_empties)
{
	scale_run(100000);
}

/* 1M VMAs (SPEC's scaling target): slow tier only. */
SLOW_TEST(index_of_1m_vmas_builds_churns_and_empties)
{
	scale_run(1000000);
}
