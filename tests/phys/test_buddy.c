/*
 * Tests of the buddy allocator: blocks split and merge back, frames come out zeroed, the
 * arena is reserved lazily, a batched put equals single puts, and nothing leaks.
 */
#include "check.h"

#include <errno.h>
#include <stdint.h>

#include "lib/kmem.h"
#include "phys/phys.h"

#define MiB (1024ULL * 1024)

/* A fresh arena has every frame but PFN 0 free, in the largest aligned blocks. */
TEST(fresh_arena_has_every_frame_but_pfn0_free)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 64 * MiB), 0);
	EXPECT_EQ(phys_free_frames(&ph), 64 * MiB / 4096 - 1);
	EXPECT_EQ(phys_check(&ph), 0);
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* Order-0 allocations split a large block; freeing them all merges it back (SPEC §1). */
TEST(freed_blocks_merge_back_with_their_buddies)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 8 * MiB), 0);
	uint64_t before[PHYS_MAX_ORDER + 1];
	for (int k = 0; k <= PHYS_MAX_ORDER; k++)
		before[k] = ph.nr_free_blocks[k];
	struct page *pgs[100];
	for (int i = 0; i < 100; i++) {
		pgs[i] = phys_alloc(&ph, 0, PHYS_ZERO);
		EXPECT_TRUE(pgs[i] != NULL);
	}
	EXPECT_EQ(phys_free_frames(&ph), 8 * MiB / 4096 - 1 - 100);
	EXPECT_EQ(phys_check(&ph), 0);
	for (int i = 99; i >= 0; i -= 2)
		phys_put(&ph, pgs[i]);
	for (int i = 0; i < 100; i += 2)
		phys_put(&ph, pgs[i]);
	for (int k = 0; k <= PHYS_MAX_ORDER; k++)
		EXPECT_EQ(ph.nr_free_blocks[k], before[k]);
	EXPECT_EQ(phys_check(&ph), 0);
	EXPECT_EQ(phys_destroy(&ph), 0);
}

/* Every frame handed out is zero, even after a previous owner dirtied it (SPEC §1). */
TEST(allocated_frames_are_zeroed_after_reuse)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 4 * MiB), 0);
	struct page *a = phys_alloc(&ph, 2, PHYS_ZERO);
	REQUIRE_EQ(a != NULL, 1);
	memset(page_address(&ph, a), 0xab, 4 * 4096);
	phys_put(&ph, a);
	struct page *b = phys_alloc(&ph, 2, PHYS_ZERO);
	REQUIRE_EQ(b != NULL, 1);
	const unsigned char *p = page_address(&ph, b);
	int nonzero = 0;
	for (int i = 0; i < 4 * 4096; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(nonzero, 0);
	phys_put(&ph, b);
	EXPECT_EQ(phys_destroy(&ph), 0);
}

/* PHYS_NOZERO hands out old contents (the embedded MAP_UNINITIALIZED path). */
TEST(nozero_allocation_keeps_old_contents)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 4 * MiB), 0);
	ph.poison = 0;
	struct page *a = phys_alloc(&ph, 0, PHYS_ZERO);
	memset(page_address(&ph, a), 0xcd, 4096);
	phys_put(&ph, a);
	struct page *b = phys_alloc(&ph, 0, PHYS_NOZERO);
	EXPECT_TRUE(b == a);
	EXPECT_EQ(((unsigned char *)page_address(&ph, b))[100], 0xcd);
	phys_put(&ph, b);
	EXPECT_EQ(phys_destroy(&ph), 0);
}

/* Orders up to 18 (1 GiB) are served, and exhaustion returns NULL, not a crash. */
TEST(large_orders_and_exhaustion)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 2048 * MiB), 0);
	struct page *g = phys_alloc(&ph, 18, PHYS_ZERO);
	EXPECT_TRUE(g != NULL);
	EXPECT_TRUE(phys_alloc(&ph, 19, PHYS_ZERO) == NULL);
	/* The first GiB holds PFN 0, so only one 1 GiB block exists. */
	EXPECT_TRUE(phys_alloc(&ph, 18, PHYS_ZERO) == NULL);
	EXPECT_EQ(phys_destroy(&ph), 1ULL << 18);
}

struct hook_log { unsigned calls, frames; uint8_t seen[4096]; };

static void log_release(void *ctx, struct page **pages, unsigned n)
{
	struct hook_log *log = ctx;
	log->calls++;
	for (unsigned i = 0; i < n; i++) {
		log->frames++;
		log->seen[pages[i]->index]++;
		pages[i]->lru_list = 0;	/* what lru_release_hook does */
	}
}

/* phys_put_many does what a phys_put of each frame does (Linux's release_pages): a frame
 * still referenced stays, the last reference frees, a marked frame is retired, a compound
 * block goes back whole; the release hook sees each dying frame with an lru_list once, in
 * one call per run of 64 frames, and nothing else. */
TEST(put_many_equals_a_put_of_each_frame)
{
	enum { N = 150 };
	struct kmem km;
	struct phys ph;
	struct hook_log log = { 0 };
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 8 * MiB), 0);
	ph.release_hook = log_release;
	ph.release_ctx = &log;
	uint64_t free0 = phys_free_frames(&ph);
	struct page *pgs[N + 1];
	for (int i = 0; i < N; i++) {
		pgs[i] = phys_alloc(&ph, 0, PHYS_ZERO);
		REQUIRE_EQ(pgs[i] != NULL, 1);
		pgs[i]->index = (uint64_t)i;
		pgs[i]->lru_list = (uint8_t)(i % 2);	/* every odd frame is on an LRU list */
		if (i % 10 == 0)
			page_get(pgs[i]);		/* a second holder */
	}
	EXPECT_EQ(phys_mark_retire(&ph, pgs[3], PG_hwpoison), 0);
	pgs[N] = phys_alloc(&ph, 1, PHYS_ZERO);	/* an order-1 block among them */
	REQUIRE_EQ(pgs[N] != NULL, 1);
	pgs[N]->index = N;
	pgs[N]->lru_list = 1;
	phys_put_many(&ph, pgs, N + 1);
	/* Frames 0, 10, ..., 140 keep their second reference; 3 is retired. */
	EXPECT_EQ(phys_free_frames(&ph), free0 - N / 10 - 1);
	EXPECT_EQ(phys_retired_frames(&ph), 1);
	EXPECT_EQ(log.calls, 3);	/* 64 + 64 + 23 frames */
	unsigned want_frames = 0;
	for (int i = 0; i <= N; i++) {
		int dying = i == N || i % 10 != 0;
		int on_lru = i == N || i % 2;
		EXPECT_EQ(log.seen[i], dying && on_lru);
		want_frames += dying && on_lru;
	}
	EXPECT_EQ(log.frames, want_frames);
	for (int i = 0; i < N; i += 10)
		EXPECT_EQ(atomic_load(&pgs[i]->refcount), 1);
	EXPECT_EQ(phys_check(&ph), 0);
	phys_put_many(&ph, pgs, 0);	/* nothing to do */
	for (int i = 0; i < N; i += 10)
		EXPECT_EQ(phys_put(&ph, pgs[i]), 1);
	EXPECT_EQ(phys_free_frames(&ph), free0 - 1);
	EXPECT_EQ(phys_check(&ph), 0);
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* A destroyed arena reports frames still handed out. */
TEST(destroy_reports_leaked_frames)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 4 * MiB), 0);
	phys_alloc(&ph, 0, PHYS_ZERO);
	phys_alloc(&ph, 1, PHYS_ZERO);
	EXPECT_EQ(phys_destroy(&ph), 3);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* Bad sizes are refused with EINVAL. */
TEST(init_rejects_unaligned_or_tiny_ram)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	EXPECT_ERRNO(phys_init(&ph, &km, 4 * MiB + 1), -EINVAL);
	EXPECT_ERRNO(phys_init(&ph, &km, 4096), -EINVAL);
}
