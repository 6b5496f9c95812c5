/*
 * Unit tests of src/lib: the kmem gate's accounting and fault injection, the PRNG's
 * determinism and range, strbuf's formatting, and the intrusive list.
 */
#include "check.h"

#include <errno.h>

#include "lib/kmem.h"
#include "lib/list.h"
#include "lib/prng.h"
#include "lib/strbuf.h"

/* kmem counts live objects and bytes, and frees bring them back to zero. */
TEST(kmem_counts_live_allocations)
{
	struct kmem km;
	kmem_init(&km);
	void *a = kmem_zalloc(&km, 100), *b = kmem_zalloc(&km, 28);
	EXPECT_EQ(atomic_load(&km.live_objs), 2);
	EXPECT_EQ(atomic_load(&km.live_bytes), 128);
	EXPECT_EQ(((unsigned char *)a)[99], 0);
	b = kmem_realloc(&km, b, 28, 56);
	EXPECT_EQ(atomic_load(&km.live_bytes), 156);
	EXPECT_EQ(((unsigned char *)b)[55], 0);
	kmem_free(&km, a, 100);
	kmem_free(&km, b, 56);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
	EXPECT_EQ(atomic_load(&km.live_bytes), 0);
}

/* kmem_fail_nth(n) fails exactly the nth call from now, then allocation works again. */
TEST(kmem_fails_exactly_the_nth_call)
{
	struct kmem km;
	kmem_init(&km);
	kmem_fail_nth(&km, 3);
	void *a = kmem_zalloc(&km, 8), *b = kmem_zalloc(&km, 8), *c = kmem_zalloc(&km, 8);
	void *d = kmem_zalloc(&km, 8);
	EXPECT_TRUE(a && b && !c && d);
	kmem_free(&km, a, 8);
	kmem_free(&km, b, 8);
	kmem_free(&km, d, 8);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* One seed gives one sequence; prng_below stays below its bound. */
TEST(prng_is_deterministic_and_bounded)
{
	struct prng a, b, c;
	prng_seed(&a, 42);
	prng_seed(&b, 42);
	prng_seed(&c, 43);
	int same = 1, differ = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = prng_next(&a), y = prng_next(&b), z = prng_next(&c);
		same &= x == y;
		differ |= x != z;
	}
	for (int i = 0; i < 1000; i++)
		EXPECT_TRUE(prng_below(&c, 7) < 7);
	EXPECT_TRUE(same && differ);
	EXPECT_EQ(prng_below(&a, 0), 0);
}

/* strbuf's hex, decimal and padding match printf's %08lx and %8lu. */
TEST(strbuf_formats_like_printf)
{
	struct kmem km;
	kmem_init(&km);
	struct strbuf sb;
	sb_init(&sb, &km);
	sb_hex(&sb, 0x1f, 8);
	sb_putc(&sb, '|');
	sb_hex(&sb, 0xffffffffff600000ULL, 8);
	sb_putc(&sb, '|');
	sb_dec(&sb, 3060, 8);
	sb_putc(&sb, '|');
	sb_printf(&sb, "%s-%d", "x", 5);
	sb_pad_to(&sb, 40);
	sb_putc(&sb, '$');
	EXPECT_STREQ(sb.buf, "0000001f|ffffffffff600000|    3060|x-5  $");
	EXPECT_EQ(sb.err, 0);
	sb_release(&sb);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* sb_hex agrees with printf's %0*lx for every digit count (0, each power of 16 and the
 * value below it, all 64 bits) and the widths the renderers use. */
TEST(strbuf_hex_matches_printf_at_every_digit_count)
{
	struct kmem km;
	kmem_init(&km);
	for (int bits = 0; bits <= 64; bits++) {
		uint64_t vals[2] = { bits == 64 ? ~0ULL : (1ULL << bits) - 1,
				     bits == 64 ? 0 : 1ULL << bits };
		for (int k = 0; k < 2; k++)
			for (int width = 0; width <= 16; width += 2) {
				struct strbuf sb;
				sb_init(&sb, &km);
				sb_hex(&sb, vals[k], width);
				char want[40];
				snprintf(want, sizeof want, "%0*llx", width, (unsigned long long)vals[k]);
				if (strcmp(sb.buf, want))
					fprintf(stderr, "sb_hex(%#llx, %d) = \"%s\", want \"%s\"\n",
						(unsigned long long)vals[k], width, sb.buf, want);
				EXPECT_STREQ(sb.buf, want);
				sb_release(&sb);
			}
	}
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* An allocation failure makes strbuf's error sticky instead of crashing. */
TEST(strbuf_error_is_sticky)
{
	struct kmem km;
	kmem_init(&km);
	struct strbuf sb;
	sb_init(&sb, &km);
	kmem_fail_nth(&km, 1);
	sb_puts(&sb, "lost");
	sb_puts(&sb, "also lost");
	EXPECT_EQ(sb.err, -ENOMEM);
	EXPECT_EQ(sb.len, 0);
	sb_release(&sb);
}

struct item { int v; struct list_head node; };

/* list_add is LIFO, list_add_tail FIFO, and list_del unlinks. */
TEST(list_orders_and_unlinks)
{
	struct list_head h;
	list_init(&h);
	struct item a = { .v = 1 }, b = { .v = 2 }, c = { .v = 3 };
	list_add_tail(&a.node, &h);
	list_add_tail(&b.node, &h);
	list_add(&c.node, &h);
	int order[3], n = 0;
	for (struct list_head *l = h.next; l != &h; l = l->next)
		order[n++] = list_entry(l, struct item, node)->v;
	EXPECT_EQ(n, 3);
	EXPECT_TRUE(order[0] == 3 && order[1] == 1 && order[2] == 2);
	list_del(&a.node);
	EXPECT_TRUE(h.next == &c.node && c.node.next == &b.node);
	list_del(&b.node);
	list_del(&c.node);
	EXPECT_TRUE(list_empty(&h));
}
