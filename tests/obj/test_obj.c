/*
 * Unit tests of src/obj: the page index (radix tree) and objects' page ownership and
 * lifetime, with frames from a real phys arena and leak checks at the end.
 */
#include "check.h"

#include <errno.h>

#include "lib/kmem.h"
#include "obj/object.h"
#include "obj/pindex.h"

static int count_fn(void *ctx, uint64_t index, struct page *pg)
{
	uint64_t *last = ctx;
	(void)pg;
	if (last[1] && index <= last[0])
		last[2] = 1;	/* out of order */
	last[0] = index;
	last[1]++;
	return 0;
}

/* The index stores sparse and huge indices, walks them in order, and frees empty nodes. */
TEST(pindex_stores_sparse_indices_in_order)
{
	struct kmem km;
	kmem_init(&km);
	struct pindex x;
	pindex_init(&x, &km);
	struct page fake[4];
	const uint64_t idx[4] = { 5, 0, 1ULL << 40, 4096 };
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(pindex_set(&x, idx[i], &fake[i]), 0);
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(pindex_get(&x, idx[i]) == &fake[i]);
	EXPECT_TRUE(pindex_get(&x, 6) == NULL);
	uint64_t st[3] = { 0, 0, 0 };
	pindex_for_each(&x, count_fn, st);
	EXPECT_EQ(st[1], 4);
	EXPECT_EQ(st[2], 0);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(pindex_set(&x, idx[i], NULL), 0);
	EXPECT_TRUE(x.root == NULL);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
	pindex_destroy(&x);
}

/* A failed node allocation leaves the index as it was. */
TEST(pindex_set_failure_changes_nothing)
{
	struct kmem km;
	kmem_init(&km);
	struct pindex x;
	pindex_init(&x, &km);
	struct page fake;
	kmem_fail_nth(&km, 1);
	EXPECT_ERRNO(pindex_set(&x, 123456, &fake), -ENOMEM);
	EXPECT_TRUE(pindex_get(&x, 123456) == NULL);
	pindex_destroy(&x);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* shmem pages are allocated zeroed on first get, shared by later gets, owned by the
 * object, and all returned when the last reference goes. */
TEST(shmem_object_owns_its_pages_until_the_last_put)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 16ULL << 20), 0);
	uint64_t free0 = phys_free_frames(&ph);
	struct vm_object *o = obj_shmem_create(&km, &ph, 8 * 4096, 77);
	REQUIRE_EQ(o != NULL, 1);
	struct page *a, *b;
	EXPECT_EQ(obj_get_page(o, 3, &a), 0);
	EXPECT_EQ(obj_get_page(o, 3, &b), 0);
	EXPECT_TRUE(a == b);
	EXPECT_EQ(atomic_load(&a->refcount), 3);	/* the index + two callers */
	EXPECT_TRUE(a->owner == o && a->index == 3);
	EXPECT_ERRNO(obj_get_page(o, 8, &b), -EFAULT);	/* beyond the object */
	EXPECT_EQ(obj_check(o), 0);
	phys_put(&ph, a);
	phys_put(&ph, a);
	obj_get(o);
	obj_put(o);
	EXPECT_EQ(phys_free_frames(&ph), free0 - 1);
	obj_put(o);
	EXPECT_EQ(phys_free_frames(&ph), free0);
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* A special object is filled from its image at creation. */
TEST(special_object_holds_its_image)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 16ULL << 20), 0);
	static const char image[2 * 4096] = "ELF-ish";
	struct vm_object *o = obj_special_create(&km, &ph, "[x]", image, 2);
	REQUIRE_EQ(o != NULL, 1);
	struct page *pg;
	EXPECT_EQ(obj_get_page(o, 0, &pg), 0);
	EXPECT_EQ(memcmp(page_address(&ph, pg), "ELF-ish", 8), 0);
	phys_put(&ph, pg);
	EXPECT_ERRNO(obj_get_page(o, 2, &pg), -EFAULT);
	obj_put(o);
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}
