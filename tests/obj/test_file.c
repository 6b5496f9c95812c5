/*
 * Unit tests of the object layer's host files, page cache and memfds: read-in with the
 * EOF rules, one object per host file, writeback (explicit, at the last put, by expiry),
 * truncation, invalidation, readahead, seals and the i_mmap list. Host files live in a
 * fresh mkdtemp directory; every test ends with all frames and allocations returned.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "obj/object.h"
#include "vma/vma.h"
#include "obj/pindex.h"

struct fx {
	struct kmem km;
	struct phys ph;
	struct obj_filecache c;
	uint64_t free0;
	char dir[64], path[128];
};

/* A cache over a 16 MiB arena and a host file of `size` bytes of pattern i & 0xff. */
static int fx_open(struct fx *f, size_t size)
{
	kmem_init(&f->km);
	if (phys_init(&f->ph, &f->km, 16ULL << 20))
		return -1;
	f->free0 = phys_free_frames(&f->ph);
	obj_filecache_init(&f->c, &f->km, &f->ph);
	snprintf(f->dir, sizeof(f->dir), "/tmp/peimm-objXXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/f", f->dir);
	int fd = open(f->path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	for (size_t i = 0; i < size; i++) {
		unsigned char b = (unsigned char)(i & 0xff);
		if (write(fd, &b, 1) != 1)
			return -1;
	}
	close(fd);
	return 0;
}

static struct vm_object *fx_obj(struct fx *f, int flags)
{
	int err = 0, fd = open(f->path, flags);
	struct vm_object *o = obj_file_open(&f->c, fd, OBJ_FMODE_READ | OBJ_FMODE_WRITE, "/f", &err);
	close(fd);
	return o;
}

static void fx_close(struct fx *f)
{
	EXPECT_EQ(obj_filecache_destroy(&f->c), 0);
	EXPECT_EQ(phys_free_frames(&f->ph), f->free0);
	EXPECT_EQ(phys_destroy(&f->ph), 0);
	EXPECT_EQ(atomic_load(&f->km.live_objs), 0);
	unlink(f->path);
	rmdir(f->dir);
}

static int host_byte(struct fx *f, off_t off)
{
	unsigned char b;
	int fd = open(f->path, O_RDONLY);
	ssize_t n = pread(fd, &b, 1, off);
	close(fd);
	return n == 1 ? b : -1;
}

static off_t host_size(struct fx *f)
{
	struct stat st;
	return stat(f->path, &st) ? -1 : st.st_size;
}

/* A file page is read from the host; past EOF inside the last page it reads zero, and a
 * page wholly beyond EOF does not exist (-EFAULT, SIGBUS to a mapping; SPEC §3). */
TEST(file_page_is_read_from_host_and_zero_filled_past_eof)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 5000), 0);
	struct vm_object *o = fx_obj(&f, O_RDONLY);
	REQUIRE_EQ(o != NULL, 1);
	struct page *pg;
	REQUIRE_EQ(obj_get_page(o, 1, &pg), 0);
	uint8_t *b = page_address(&f.ph, pg);
	EXPECT_EQ(b[0], 4096 & 0xff);
	EXPECT_EQ(b[903], 4999 & 0xff);
	EXPECT_EQ(b[904], 0);
	EXPECT_EQ(b[4095], 0);
	EXPECT_TRUE(!(pg->flags & PG_shmem) && pg->owner == o && pg->index == 1);
	phys_put(&f.ph, pg);
	EXPECT_ERRNO(obj_get_page(o, 2, &pg), -EFAULT);
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	fx_close(&f);
}

/* Two opens of one host file share one object, so one page cache (SPEC §3). */
TEST(two_opens_of_a_file_share_one_object)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 100), 0);
	struct vm_object *a = fx_obj(&f, O_RDONLY), *b = fx_obj(&f, O_RDWR);
	EXPECT_TRUE(a && a == b);
	EXPECT_EQ(atomic_load(&a->refcount), 2);
	EXPECT_EQ(f.c.nr_objs, 1);
	EXPECT_STREQ(a->name, "/f");
	obj_put(a);
	obj_put(b);
	EXPECT_EQ(f.c.nr_objs, 0);
	fx_close(&f);
}

/* Writes stay in the cache until writeback, which reaches the host and cleans the page. */
TEST(writeback_reaches_the_host_file_and_cleans_pages)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 8192), 0);
	struct vm_object *o = fx_obj(&f, O_RDWR);
	EXPECT_EQ(obj_pwrite(o, 10, "\xAA\xBB", 2), 2);
	EXPECT_EQ(o->nr_dirty, 1);
	EXPECT_EQ(host_byte(&f, 10), 10);
	EXPECT_EQ(obj_writeback(o, 0, UINT64_MAX, 1), 0);
	EXPECT_EQ(host_byte(&f, 10), 0xAA);
	EXPECT_EQ(host_byte(&f, 11), 0xBB);
	EXPECT_EQ(o->nr_dirty, 0);
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	fx_close(&f);
}

/* The last reference writes dirty pages back, like the last close of a file. */
TEST(last_put_writes_dirty_pages_back)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 100), 0);
	struct vm_object *o = fx_obj(&f, O_RDWR);
	EXPECT_EQ(obj_pwrite(o, 5000, "z", 1), 1);	/* grows the file past a hole */
	EXPECT_EQ(o->size, 5001);
	obj_put(o);
	EXPECT_EQ(host_size(&f), 5001);
	EXPECT_EQ(host_byte(&f, 5000), 'z');
	EXPECT_EQ(host_byte(&f, 4000), 0);
	fx_close(&f);
}

/* Writeback writes only below EOF: a dirty last page does not lengthen the host file. */
TEST(writeback_never_writes_past_eof)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 100), 0);
	struct vm_object *o = fx_obj(&f, O_RDWR);
	struct page *pg;
	REQUIRE_EQ(obj_get_page(o, 0, &pg), 0);
	((uint8_t *)page_address(&f.ph, pg))[200] = 7;	/* a mapped store past EOF */
	obj_page_dirty(o, pg);
	phys_put(&f.ph, pg);
	EXPECT_EQ(obj_writeback(o, 0, 0, 0), 0);
	EXPECT_EQ(host_size(&f), 100);
	obj_put(o);
	fx_close(&f);
}

/* The writeback daemon step writes a file once its dirty data is DirtyExpire old. */
TEST(expired_dirty_data_is_written_back_by_the_daemon_step)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 100), 0);
	struct vm_object *o = fx_obj(&f, O_RDWR);
	obj_writeback_expired(&f.c, 1000, 30000);	/* the clock reads 1000 ms */
	EXPECT_EQ(obj_pwrite(o, 0, "Q", 1), 1);
	EXPECT_EQ(obj_writeback_expired(&f.c, 30999, 30000), 0);
	EXPECT_EQ(host_byte(&f, 0), 0);
	EXPECT_EQ(obj_writeback_expired(&f.c, 31000, 30000), 1);
	EXPECT_EQ(host_byte(&f, 0), 'Q');
	EXPECT_EQ(o->nr_dirty, 0);
	obj_put(o);
	fx_close(&f);
}

/* Truncation shrinks the host file, drops unmapped pages beyond EOF (later gets fault),
 * and zeroes the tail of the last page so a regrown file reads zeros (SPEC §3). */
TEST(truncate_drops_pages_beyond_eof_and_zeroes_the_tail)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 3 * 4096), 0);
	struct vm_object *o = fx_obj(&f, O_RDWR);
	EXPECT_EQ(obj_readahead(o, 0, 8), 2);
	struct page *pg;
	REQUIRE_EQ(obj_get_page(o, 0, &pg), 0);
	phys_put(&f.ph, pg);
	EXPECT_EQ(o->nr_pages, 3);
	EXPECT_EQ(obj_truncate(o, 100), 0);
	EXPECT_EQ(host_size(&f), 100);
	EXPECT_EQ(o->nr_pages, 1);
	EXPECT_ERRNO(obj_get_page(o, 1, &pg), -EFAULT);
	EXPECT_EQ(obj_truncate(o, 4096), 0);
	char b[2];
	EXPECT_EQ(obj_pread(o, 99, b, 2), 2);
	EXPECT_EQ(b[0], 99);
	EXPECT_EQ(b[1], 0);
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	fx_close(&f);
}

/* Invalidation drops clean pages nobody holds, and keeps dirty or held ones. */
TEST(invalidate_drops_only_clean_unheld_pages)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 3 * 4096), 0);
	struct vm_object *o = fx_obj(&f, O_RDWR);
	struct page *held;
	REQUIRE_EQ(obj_get_page(o, 0, &held), 0);
	EXPECT_EQ(obj_readahead(o, 0, 2), 2);
	EXPECT_EQ(obj_pwrite(o, 4096, "d", 1), 1);
	EXPECT_EQ(obj_invalidate(o, 0, UINT64_MAX), 1);	/* only page 2 */
	EXPECT_TRUE(obj_peek_page(o, 0) && obj_peek_page(o, 1) && !obj_peek_page(o, 2));
	phys_put(&f.ph, held);
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	fx_close(&f);
}

/* An unlinked host file reports deleted, and maps names it "path (deleted)". */
TEST(unlinked_file_is_reported_deleted)
{
	struct fx f;
	REQUIRE_EQ(fx_open(&f, 10), 0);
	struct vm_object *o = fx_obj(&f, O_RDWR);
	char buf[64];
	EXPECT_EQ(obj_is_deleted(o), 0);
	EXPECT_STREQ(obj_map_name(o, buf, sizeof(buf)), "/f");
	unlink(f.path);
	EXPECT_EQ(obj_is_deleted(o), 1);
	EXPECT_STREQ(obj_map_name(o, buf, sizeof(buf)), "/f (deleted)");
	obj_put(o);
	fx_close(&f);
}

/* A memfd is named /memfd:NAME (deleted) on device 00:01, grows on write, keeps its
 * frames as shmem, and without ALLOW_SEALING carries F_SEAL_SEAL (memfd_create(2)). */
TEST(memfd_is_named_like_linux_and_sealed_without_allow_sealing)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 16ULL << 20), 0);
	int err;
	struct vm_object *o = obj_memfd_create(&km, &ph, "buf", 0, 99, &err);
	REQUIRE_EQ(o != NULL, 1);
	EXPECT_STREQ(o->name, "/memfd:buf (deleted)");
	EXPECT_EQ(o->dev_major * 256 + o->dev_minor, 1);
	EXPECT_EQ(obj_get_seals(o), OBJ_SEAL_SEAL);
	EXPECT_ERRNO(obj_add_seals(o, OBJ_SEAL_GROW), -EPERM);
	EXPECT_EQ(obj_pwrite(o, 4096, "x", 1), 1);
	EXPECT_EQ(o->size, 4097);
	EXPECT_TRUE(obj_peek_page(o, 1) && (obj_peek_page(o, 1)->flags & PG_shmem));
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* Seals (fcntl(2)): unknown bits EINVAL; WRITE while writable shared mappings exist
 * EBUSY; sealed writes and size changes EPERM; nothing after F_SEAL_SEAL (EPERM). */
TEST(memfd_seals_refuse_what_they_forbid)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 16ULL << 20), 0);
	int err;
	struct vm_object *o = obj_memfd_create(&km, &ph, "s", OBJ_MFD_ALLOW_SEALING, 1, &err);
	REQUIRE_EQ(o != NULL, 1);
	EXPECT_EQ(obj_pwrite(o, 0, "abcd", 4), 4);
	EXPECT_ERRNO(obj_add_seals(o, 0x40), -EINVAL);
	EXPECT_EQ(obj_map_writable_get(o), 0);
	EXPECT_ERRNO(obj_add_seals(o, OBJ_SEAL_WRITE), -EBUSY);
	EXPECT_ERRNO(obj_add_seals(o, OBJ_SEAL_EXEC), -EBUSY);	/* 0777: EXEC implies WRITE */
	obj_map_writable_put(o);
	EXPECT_EQ(obj_add_seals(o, OBJ_SEAL_SHRINK | OBJ_SEAL_GROW), 0);
	EXPECT_ERRNO(obj_truncate(o, 2), -EPERM);
	EXPECT_ERRNO(obj_truncate(o, 8), -EPERM);
	EXPECT_ERRNO(obj_pwrite(o, 3, "xy", 2), -EPERM);	/* would grow */
	EXPECT_EQ(obj_pwrite(o, 0, "xy", 2), 2);
	EXPECT_EQ(obj_add_seals(o, OBJ_SEAL_WRITE), 0);
	EXPECT_ERRNO(obj_pwrite(o, 0, "x", 1), -EPERM);
	EXPECT_ERRNO(obj_map_writable_get(o), -EPERM);
	EXPECT_EQ(obj_add_seals(o, OBJ_SEAL_SEAL), 0);
	EXPECT_ERRNO(obj_add_seals(o, 0), -EPERM);
	EXPECT_EQ(obj_get_seals(o), OBJ_SEAL_SEAL | OBJ_SEAL_SHRINK | OBJ_SEAL_GROW | OBJ_SEAL_WRITE);
	struct vm_object *sh = obj_shmem_create(&km, &ph, 4096, 5);
	EXPECT_ERRNO(obj_add_seals(sh, OBJ_SEAL_GROW), -EINVAL);
	EXPECT_ERRNO(obj_get_seals(sh), -EINVAL);
	obj_put(sh);
	obj_put(o);
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* i_mmap lists the VMAs that map an object; linking is intrusive and cannot fail. */
TEST(vma_links_are_listed_and_counted)
{
	struct kmem km;
	struct phys ph;
	kmem_init(&km);
	REQUIRE_EQ(phys_init(&ph, &km, 16ULL << 20), 0);
	struct vm_object *o = obj_shmem_create(&km, &ph, 4096, 5);
	struct vma v = { .vm_obj = o }, w = { .vm_obj = o };
	obj_link_vma(o, &v);
	obj_link_vma(o, &w);
	obj_unlink_vma(o, &v);
	EXPECT_EQ(o->nr_mmap, 1);
	EXPECT_TRUE(o->i_mmap.next == &w.vm_obj_node);
	EXPECT_EQ(obj_check(o), 0);
	obj_unlink_vma(o, &w);
	EXPECT_EQ(obj_check(o), 0);
	obj_put(o);
	EXPECT_EQ(phys_destroy(&ph), 0);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}

/* pindex_next finds the next entry at or after an index, so callers may erase as they go. */
TEST(pindex_next_walks_entries_while_they_are_erased)
{
	struct kmem km;
	kmem_init(&km);
	struct pindex x;
	pindex_init(&x, &km);
	struct page fake[4];
	const uint64_t idx[4] = { 3, 64, 4097, 1ULL << 36 };
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(pindex_set(&x, idx[i], &fake[i]), 0);
	uint64_t at, n = 0;
	for (struct page *pg = pindex_next(&x, 4, &at); pg; pg = pindex_next(&x, at + 1, &at)) {
		EXPECT_TRUE(pg == &fake[n + 1] && at == idx[n + 1]);
		pindex_set(&x, at, NULL);
		n++;
	}
	EXPECT_EQ(n, 3);
	EXPECT_TRUE(pindex_next(&x, 0, &at) == &fake[0] && at == 3);
	pindex_destroy(&x);
	EXPECT_EQ(atomic_load(&km.live_objs), 0);
}
