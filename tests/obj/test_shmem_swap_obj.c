/*
 * Unit tests of shmem swap in src/obj: the page index's swap entries, and a registered
 * shmem object swapping frames out to and back from a small in-memory swap backend that
 * stands in for mm's (counts per slot, a swap cache), so every slot reference is visible.
 * obj_check must catch a lost or leaked slot reference.
 */
#include "check.h"

#include <errno.h>
#include <string.h>

#include "lib/kmem.h"
#include "obj/object.h"
#include "obj/pindex.h"

#define NSLOTS 16

/* The stand-in swap area: bytes and a reference count per slot, slot 0 unused. */
struct fake_swap {
	struct phys *ph;
	uint8_t data[NSLOTS + 1][PAGE_SIZE];
	unsigned count[NSLOTS + 1];
	struct page *cache[NSLOTS + 1];
	int reads, writes, lru_adds;
};

static int64_t f_write_out(void *ctx, const void *src)
{
	struct fake_swap *f = ctx;
	for (int s = 1; s <= NSLOTS; s++)
		if (!f->count[s]) {
			f->count[s] = 1;
			memcpy(f->data[s], src, PAGE_SIZE);
			f->writes++;
			return s;
		}
	return -ENOSPC;
}

static int f_read_in(void *ctx, uint64_t slot, struct page **out)
{
	struct fake_swap *f = ctx;
	if (f->cache[slot]) {
		page_get(f->cache[slot]);
		*out = f->cache[slot];
		return 0;
	}
	struct page *pg = phys_alloc(f->ph, 0, PHYS_NOZERO);
	if (!pg)
		return -ENOMEM;
	memcpy(page_address(f->ph, pg), f->data[slot], PAGE_SIZE);
	f->reads++;
	*out = pg;
	return 0;
}

static int f_prefetch(void *ctx, uint64_t slot)
{
	struct fake_swap *f = ctx;
	struct page *pg;
	if (f->cache[slot] || f_read_in(ctx, slot, &pg))
		return 0;
	f->cache[slot] = pg;	/* the cache keeps the reference */
	return 1;
}

static int f_cached(void *ctx, uint64_t slot) { return ((struct fake_swap *)ctx)->cache[slot] != NULL; }

static int f_peek(void *ctx, uint64_t slot, void *dst)
{
	memcpy(dst, ((struct fake_swap *)ctx)->data[slot], PAGE_SIZE);
	return 0;
}

static void f_free(void *ctx, uint64_t slot)
{
	struct fake_swap *f = ctx;
	EXPECT_TRUE(f->count[slot] > 0);
	if (f->count[slot] && --f->count[slot] == 0 && f->cache[slot]) {
		phys_put(f->ph, f->cache[slot]);
		f->cache[slot] = NULL;
	}
}

static unsigned f_count(void *ctx, uint64_t slot) { return ((struct fake_swap *)ctx)->count[slot]; }
static void f_lru_add(void *ctx, struct page *pg) { (void)pg; ((struct fake_swap *)ctx)->lru_adds++; }

static const struct obj_swap_ops fake_ops = {
	.write_out = f_write_out, .read_in = f_read_in, .prefetch = f_prefetch, .cached = f_cached,
	.peek = f_peek, .free = f_free, .count = f_count, .lru_add = f_lru_add,
};

static unsigned used_slots(const struct fake_swap *f)
{
	unsigned n = 0;
	for (int s = 1; s <= NSLOTS; s++)
		n += f->count[s] != 0;
	return n;
}

struct rig {
	struct kmem km;
	struct phys ph;
	struct obj_filecache dir;
	struct fake_swap sw;
};

static void rig_open(struct rig *r)
{
	kmem_init(&r->km);
	REQUIRE_EQ(phys_init(&r->ph, &r->km, 16 << 20), 0);
	obj_filecache_init(&r->dir, &r->km, &r->ph);
	memset(&r->sw, 0, sizeof(r->sw));
	r->sw.ph = &r->ph;
	obj_filecache_set_swap(&r->dir, &fake_ops, &r->sw);
}

static void rig_close(struct rig *r)
{
	EXPECT_EQ(used_slots(&r->sw), 0);
	EXPECT_EQ(obj_filecache_destroy(&r->dir), 0);
	EXPECT_EQ(atomic_load(&r->ph.nr_shmem), 0);
	EXPECT_EQ(atomic_load(&r->ph.nr_shmem_swapped), 0);
	EXPECT_EQ(phys_destroy(&r->ph), 0);
	EXPECT_EQ(atomic_load(&r->km.live_objs), 0);
}

/* One page of o filled with `v`, the object's reference dropped again. */
static struct page *touch(struct vm_object *o, uint64_t i, uint8_t v)
{
	struct page *pg = NULL;
	EXPECT_EQ(obj_get_page(o, i, &pg), 0);
	if (pg)
		memset(page_address(o->ph, pg), v, PAGE_SIZE);
	return pg;	/* with the caller's reference */
}

/* Swap entries live beside frames: each kind is invisible to the other's calls, a set
 * replaces whatever was there, and erasing frees the nodes. */
TEST(pindex_swap_entries_and_frames_share_the_tree)
{
	struct kmem km;
	kmem_init(&km);
	struct pindex x;
	pindex_init(&x, &km);
	struct page fake[2];
	uint64_t slot = 0, at = 0;
	EXPECT_EQ(pindex_set(&x, 3, &fake[0]), 0);
	EXPECT_EQ(pindex_set_swap(&x, 4, 77), 0);
	EXPECT_EQ(pindex_set_swap(&x, 1ULL << 30, 78), 0);
	EXPECT_TRUE(pindex_get(&x, 4) == NULL);
	EXPECT_EQ(pindex_get_swap(&x, 3, &slot), 0);
	EXPECT_EQ(pindex_get_swap(&x, 4, &slot), 1);
	EXPECT_EQ(slot, 77);
	EXPECT_TRUE(pindex_next(&x, 0, &at) == &fake[0] && at == 3);
	EXPECT_TRUE(pindex_next(&x, 4, &at) == NULL);
	EXPECT_EQ(pindex_next_swap(&x, 0, &at, &slot), 1);
	EXPECT_EQ(at, 4);
	EXPECT_EQ(pindex_next_swap(&x, 5, &at, &slot), 1);
	EXPECT_EQ(at, 1ULL << 30);
	EXPECT_EQ(slot, 78);
	/* A frame replaces a swap entry and back. */
	EXPECT_EQ(pindex_set(&x, 4, &fake[1]), 0);
	EXPECT_EQ(pindex_get_swap(&x, 4, &slot), 0);
	EXPECT_TRUE(pindex_get(&x, 4) == &fake[1]);
	EXPECT_EQ(pindex_set_swap(&x, 3, 9), 0);
	EXPECT_TRUE(pindex_get(&x, 3) == NULL);
	EXPECT_EQ(pindex_set(&x, 3, NULL), 0);
	EXPECT_EQ(pindex_get_swap(&x, 3, &slot), 0);
	EXPECT_EQ(pindex_set(&x, 4, NULL), 0);
	EXPECT_EQ(pindex_set(&x, 1ULL << 30, NULL), 0);
	EXPECT_TRUE(x.root == NULL);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
	pindex_destroy(&x);
}

/* A frame only the index and the caller hold goes to a slot and comes back with its bytes;
 * a mapped or otherwise held frame does not go; the counters follow each move. */
TEST(shmem_object_swaps_a_frame_out_and_back)
{
	static struct rig r;
	rig_open(&r);
	struct vm_object *o = obj_shmem_create(&r.km, &r.ph, 4 * PAGE_SIZE, 1);
	obj_shmem_register(&r.dir, o);
	struct page *pg = touch(o, 2, 0x42);
	EXPECT_EQ(r.sw.lru_adds, 1);	/* a new shmem frame joins the LRU */
	page_get(pg);			/* someone else holds it too */
	EXPECT_ERRNO(obj_shmem_swap_out(o, pg), -EAGAIN);
	phys_put(&r.ph, pg);
	atomic_fetch_add(&pg->mapcount, 1);	/* mapped */
	EXPECT_ERRNO(obj_shmem_swap_out(o, pg), -EAGAIN);
	atomic_fetch_sub(&pg->mapcount, 1);
	EXPECT_EQ(obj_shmem_swap_out(o, pg), 0);
	EXPECT_EQ(phys_put(&r.ph, pg), 1);	/* the caller's was the last reference */
	EXPECT_EQ(o->nr_pages, 0);
	EXPECT_EQ(o->nr_swapped, 1);
	EXPECT_EQ(atomic_load(&r.ph.nr_shmem_swapped), 1);
	EXPECT_EQ(used_slots(&r.sw), 1);
	EXPECT_EQ(obj_swapped_pages(o, 0, 3), 1);
	EXPECT_EQ(obj_page_resident(o, 2), 0);
	EXPECT_EQ(obj_check(o), 0);
	uint8_t b[16];
	EXPECT_EQ(obj_pread(o, 2 * PAGE_SIZE + 100, b, sizeof(b)), (long)sizeof(b));
	EXPECT_EQ(b[0], 0x42);
	EXPECT_EQ(r.sw.reads, 1);
	EXPECT_EQ(used_slots(&r.sw), 0);	/* the swap-in freed the slot */
	EXPECT_EQ(o->nr_swapped, 0);
	EXPECT_EQ(o->nr_pages, 1);
	EXPECT_EQ(r.sw.lru_adds, 2);
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	rig_close(&r);
}

/* Truncation, a hole punch and the last put free every slot; WILLNEED's read-in leaves the
 * entry and makes the page resident for mincore; a core-dump peek reads without a
 * swap-in. */
TEST(shmem_object_frees_slots_on_truncate_punch_and_put)
{
	static struct rig r;
	rig_open(&r);
	struct vm_object *o = obj_shmem_create(&r.km, &r.ph, 8 * PAGE_SIZE, 1);
	obj_shmem_register(&r.dir, o);
	for (uint64_t i = 0; i < 8; i++) {
		struct page *pg = touch(o, i, (uint8_t)(0x10 + i));
		EXPECT_EQ(obj_shmem_swap_out(o, pg), 0);
		phys_put(&r.ph, pg);
	}
	EXPECT_EQ(used_slots(&r.sw), 8);
	EXPECT_EQ(obj_punch_hole(o, 1, 2), 0);
	EXPECT_EQ(used_slots(&r.sw), 6);
	EXPECT_EQ(obj_truncate(o, 6 * PAGE_SIZE), 0);
	EXPECT_EQ(used_slots(&r.sw), 4);
	EXPECT_EQ(obj_read_range(o, 3, 2), 2);
	EXPECT_EQ(obj_page_resident(o, 3), 1);
	EXPECT_EQ(obj_page_resident(o, 5), 0);
	EXPECT_EQ(o->nr_swapped, 4);		/* still swap entries */
	uint8_t page[PAGE_SIZE];
	EXPECT_EQ(obj_peek_copy(o, 5, page), 1);
	EXPECT_EQ(page[7], 0x15);
	EXPECT_EQ(obj_peek_copy(o, 1, page), 0);	/* the hole */
	int reads = r.sw.reads;
	struct page *pg = NULL;
	EXPECT_EQ(obj_get_page(o, 3, &pg), 0);		/* from the swap cache: no read */
	EXPECT_EQ(r.sw.reads, reads);
	EXPECT_EQ(((uint8_t *)page_address(&r.ph, pg))[9], 0x13);
	phys_put(&r.ph, pg);
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);				/* slots 0, 4 and 5 (with 4's cached frame) go */
	rig_close(&r);
}

/* obj_check catches an entry whose slot lost its reference and a wrong swap counter. */
TEST(obj_check_catches_lost_slot_references)
{
	static struct rig r;
	rig_open(&r);
	struct vm_object *o = obj_shmem_create(&r.km, &r.ph, PAGE_SIZE, 1);
	obj_shmem_register(&r.dir, o);
	struct page *pg = touch(o, 0, 1);
	EXPECT_EQ(obj_shmem_swap_out(o, pg), 0);
	phys_put(&r.ph, pg);
	EXPECT_EQ(obj_check(o), 0);
	uint64_t slot = 0;
	for (uint64_t s = 1; s <= NSLOTS; s++)
		if (r.sw.count[s])
			slot = s;
	r.sw.count[slot] = 0;			/* a double free would leave this */
	EXPECT_TRUE(obj_check(o) > 0);
	r.sw.count[slot] = 1;
	o->nr_swapped++;
	EXPECT_TRUE(obj_check(o) > 0);
	o->nr_swapped--;
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	rig_close(&r);
}
