/*
 * The swap area (src/reclaim/swap.c) on its own: a real host file with Linux's header,
 * next-fit slots with reference counts, page round trips through the file, the swap cache
 * holding a frame exactly as long as its slot lives, and exact accounting at destroy.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "phys/phys.h"
#include "reclaim/swap.h"

struct sfix {
	struct kmem km;
	struct phys ph;
	struct swap_area sa;
	char dir[64], path[96];
};

static void sfix_open(struct sfix *f, uint64_t swap_bytes)
{
	kmem_init(&f->km);
	REQUIRE_EQ(phys_init(&f->ph, &f->km, 4 << 20), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/peimm-swaptestXXXXXX");
	REQUIRE_EQ(mkdtemp(f->dir) != NULL, 1);
	snprintf(f->path, sizeof(f->path), "%s/swapfile", f->dir);
	REQUIRE_EQ(swap_init(&f->sa, &f->km, &f->ph, f->path, swap_bytes), 0);
}

static void sfix_close(struct sfix *f, uint64_t want_leaked)
{
	EXPECT_EQ(swap_check(&f->sa), 0);
	EXPECT_EQ(swap_destroy(&f->sa), want_leaked);
	EXPECT_EQ(phys_destroy(&f->ph), 0);
	EXPECT_EQ(atomic_load(&f->km.live_objs), 0);
	unlink(f->path);
	rmdir(f->dir);
}

TEST(swap_file_gets_the_size_and_the_linux_header)
{
	struct sfix f;
	sfix_open(&f, 64 * 4096);
	struct stat st;
	REQUIRE_EQ(stat(f.path, &st), 0);
	EXPECT_EQ(st.st_size, 64 * 4096);
	char magic[11] = { 0 };
	int fd = open(f.path, O_RDONLY);
	EXPECT_EQ(pread(fd, magic, 10, 4096 - 10), 10);
	close(fd);
	EXPECT_STREQ(magic, "SWAPSPACE2");
	uint64_t total, nfree, cached;
	swap_stat(&f.sa, &total, &nfree, &cached);
	EXPECT_EQ(total, 63);	/* one page is the header */
	EXPECT_EQ(nfree, 63);
	sfix_close(&f, 0);
}

TEST(no_swap_configured_refuses_every_slot)
{
	struct kmem km;
	struct phys ph;
	struct swap_area sa;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 4 << 20), 0);
	EXPECT_EQ(swap_init(&sa, &km, &ph, NULL, 0), 0);
	EXPECT_EQ(swap_alloc(&sa), -ENOSPC);
	EXPECT_EQ(swap_destroy(&sa), 0);
	EXPECT_EQ(swap_init(&sa, &km, &ph, NULL, 4096), -EINVAL);	/* no room past the header */
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

TEST(slots_run_out_and_come_back_with_their_last_reference)
{
	struct sfix f;
	sfix_open(&f, 9 * 4096);
	int64_t s[8];
	for (int i = 0; i < 8; i++) {
		s[i] = swap_alloc(&f.sa);
		EXPECT_TRUE(s[i] >= 1 && s[i] <= 8);
	}
	EXPECT_EQ(swap_alloc(&f.sa), -ENOSPC);
	swap_dup(&f.sa, (uint64_t)s[3]);
	EXPECT_EQ(swap_count(&f.sa, (uint64_t)s[3]), 2);
	EXPECT_EQ(swap_put(&f.sa, (uint64_t)s[3]), 0);
	EXPECT_EQ(swap_alloc(&f.sa), -ENOSPC);
	EXPECT_EQ(swap_put(&f.sa, (uint64_t)s[3]), 1);
	EXPECT_EQ(swap_alloc(&f.sa), s[3]);
	for (int i = 0; i < 7; i++)
		swap_put(&f.sa, (uint64_t)s[i]);
	sfix_close(&f, 1);	/* s[7] is still referenced: destroy reports it */
}

TEST(pages_round_trip_through_the_host_file)
{
	struct sfix f;
	sfix_open(&f, 16 * 4096);
	static uint8_t out[4096], in[4096];
	for (int i = 0; i < 4096; i++)
		out[i] = (uint8_t)(i * 7 + 3);
	int64_t s = swap_alloc(&f.sa);
	EXPECT_EQ(swap_write(&f.sa, (uint64_t)s, out), 0);
	EXPECT_EQ(swap_read(&f.sa, (uint64_t)s, in), 0);
	EXPECT_EQ(memcmp(in, out, 4096), 0);
	int fd = open(f.path, O_RDONLY);
	EXPECT_EQ(pread(fd, in, 4096, s * 4096), 4096);	/* really on the host */
	close(fd);
	EXPECT_EQ(memcmp(in, out, 4096), 0);
	EXPECT_EQ(f.sa.pswpout, 1);
	EXPECT_EQ(f.sa.pswpin, 1);
	swap_put(&f.sa, (uint64_t)s);
	sfix_close(&f, 0);
}

TEST(the_swap_cache_keeps_a_frame_while_its_slot_lives)
{
	struct sfix f;
	sfix_open(&f, 16 * 4096);
	uint64_t free0 = phys_free_frames(&f.ph);
	int64_t s = swap_alloc(&f.sa);
	swap_dup(&f.sa, (uint64_t)s);	/* two PTEs name the slot */
	struct page *pg = phys_alloc(&f.ph, 0, PHYS_ZERO);
	REQUIRE_EQ(pg != NULL, 1);
	EXPECT_TRUE(swap_cache_get(&f.sa, (uint64_t)s) == NULL);
	swap_cache_add(&f.sa, (uint64_t)s, pg);
	phys_put(&f.ph, pg);	/* the first PTE's swap-in drops its own use later */
	struct page *again = swap_cache_get(&f.sa, (uint64_t)s);
	EXPECT_TRUE(again == pg);
	EXPECT_EQ(atomic_load(&pg->refcount), 2);
	phys_put(&f.ph, again);
	EXPECT_EQ(swap_put(&f.sa, (uint64_t)s), 0);
	EXPECT_EQ(phys_free_frames(&f.ph), free0 - 1);	/* the cache still holds it */
	EXPECT_EQ(swap_put(&f.sa, (uint64_t)s), 1);
	EXPECT_EQ(phys_free_frames(&f.ph), free0);	/* gone with the slot */
	sfix_close(&f, 0);
}
