/*
 * Shmem and memfd swap (Linux's shmem_writeout and shmem_swapin_folio): MADV_PAGEOUT and
 * LRU reclaim write shared anonymous and memfd pages to swap slots held in the object's
 * index; faults, read(2), /proc/<pid>/mem and core dumps read them back with their exact
 * bytes; hole punches, MADV_REMOVE, truncation and the last close free the slots; locked
 * pages stay; mincore, smaps, pagemap, meminfo and Committed_AS say what Linux 6.18 says.
 */
#include "pm_test.h"

#include "reclaim/swap.h"
#include "sys/sys.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define W 0x200000000000L
#define SHARED (MAP_SHARED | MAP_ANONYMOUS)

static pm_config swap_cfg(long ram, long swap)
{
	pm_config c;
	pm_config_default(&c);
	c.ram_bytes = (uint64_t)ram;
	c.swap_bytes = (uint64_t)swap;
	c.seed = 11;
	return c;
}

static uint8_t byte_of(int page, int b, int salt) { return (uint8_t)(b * 5 + page * 17 + salt); }

static void fill(pm_thread *t, long va, int pages, int salt)
{
	static uint8_t page[PG];
	for (int i = 0; i < pages; i++) {
		for (int b = 0; b < PG; b++)
			page[b] = byte_of(i, b, salt);
		EXPECT_EQ(pm_access(t, (uint64_t)va + (uint64_t)i * PG, page, PG, PM_WRITE, NULL), PG);
	}
}

/* Page i of buf holds what fill(.., salt) wrote to page first + i. */
static int holds(const uint8_t *buf, int first, int pages, int salt)
{
	for (int i = 0; i < pages; i++)
		for (int b = 0; b < PG; b++)
			if (buf[(long)i * PG + b] != byte_of(first + i, b, salt)) {
				fprintf(stderr, "page %d byte %d = %#x, want %#x\n", first + i, b,
					buf[(long)i * PG + b], byte_of(first + i, b, salt));
				return 0;
			}
	return 1;
}

static int same(pm_thread *t, long va, int pages, int salt)
{
	static uint8_t page[PG];
	for (int i = 0; i < pages; i++) {
		if (pm_access(t, (uint64_t)va + (uint64_t)i * PG, page, PG, PM_READ, NULL) != PG)
			return 0;
		if (!holds(page, i, 1, salt))
			return 0;
	}
	return 1;
}

static long memfd(pm_thread *t, const char *name, long pages)
{
	long fd = SC(t, SYS_memfd_create, (long)pm_scratch(t, name, strlen(name) + 1), 0, 0, 0, 0, 0);
	EXPECT_TRUE(fd >= 0);
	EXPECT_EQ(SC(t, SYS_ftruncate, fd, pages * PG, 0, 0, 0, 0), 0);
	return fd;
}

static uint64_t pagemap_entry(pm_thread *t, long va)
{
	uint64_t e = 0;
	EXPECT_EQ(pm_proc_read(t, 0, "pagemap", &e, 8, (uint64_t)va / PG * 8), 8);
	return e;
}

/* A shared anonymous range paged out: the PTEs are none (pagemap: neither present nor
 * swapped, VmSwap 0), smaps counts the object's swapped pages as Swap, Shmem and RssShmem
 * drop, SwapFree drops, and Committed_AS does not move: the pages stay charged. A fault
 * reads each page back exactly and frees its slot. */
TEST(shmem_pageout_then_fault_restores_exact_bytes)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 8 * PG, RW, SHARED | MAP_FIXED), W);
	fill(e.t, W, 8, 1);
	long free0 = view_field(e.t, "meminfo", "SwapFree:"), shmem0 = view_field(e.t, "meminfo", "Shmem:");
	long commit0 = view_field(e.t, "meminfo", "Committed_AS:");
	long out0 = view_field(e.t, "vmstat", "pswpout ");
	EXPECT_EQ(view_field(e.t, "status", "RssShmem:"), 32);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(mincore_resident(e.t, W, 8), 0);
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpout "), out0 + 8);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 32);
	EXPECT_EQ(view_field(e.t, "meminfo", "Shmem:"), shmem0 - 32);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0);
	EXPECT_EQ(view_field(e.t, "status", "RssShmem:"), 0);
	EXPECT_EQ(view_field(e.t, "status", "VmSwap:"), 0);	/* no swap PTE: the object holds them */
	EXPECT_EQ(view_field(e.t, "smaps_rollup", "\nSwap:"), 32);
	EXPECT_EQ(view_field(e.t, "smaps_rollup", "SwapPss:"), 0);
	EXPECT_EQ(pagemap_entry(e.t, W + 3 * PG) >> 62, 0);	/* bits 62 and 63 clear */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	long in0 = view_field(e.t, "vmstat", "pswpin "), maj0 = view_field(e.t, "vmstat", "pgmajfault ");
	EXPECT_TRUE(same(e.t, W, 8, 1));
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 8);
	EXPECT_EQ(view_field(e.t, "vmstat", "pgmajfault "), maj0 + 8);	/* each fault read a slot */
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(view_field(e.t, "meminfo", "Shmem:"), shmem0);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0);
	EXPECT_EQ(view_field(e.t, "smaps_rollup", "\nSwap:"), 0);
	EXPECT_EQ(mincore_resident(e.t, W, 8), 8);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	/* Writes after the swap-in land in the object, seen by a write fault as well. */
	poke(e.t, W + 5 * PG, 0xa5);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(poke(e.t, W + 5 * PG + 1, 0x5a), 1);	/* write fault on a swapped page */
	EXPECT_EQ(peek(e.t, W + 5 * PG), 0xa5);
	EXPECT_EQ(peek(e.t, W + 5 * PG + 1), 0x5a);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* A memfd's swapped pages come back through read(2)/pread with no mapping left, through
 * /proc/<pid>/mem and process_vm_readv of a mapping, and are seen by a forked child
 * (shared: the child's fault swaps a page in for both). */
TEST(memfd_swapped_pages_read_back_through_read_proc_mem_and_fork)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	long fd = memfd(e.t, "swapme", 8);
	EXPECT_EQ(SC(e.t, SYS_mmap, W, 8 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	fill(e.t, W, 8, 7);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 32);
	EXPECT_EQ(view_field(e.t, "smaps_rollup", "\nSwap:"), 32);
	/* /proc/self/mem and process_vm_readv fault the pages in through the mapping. */
	static uint8_t got[8 * PG];
	long in0 = view_field(e.t, "vmstat", "pswpin ");
	EXPECT_EQ(pm_proc_read(e.t, 0, "mem", got, PG, W), PG);
	EXPECT_TRUE(holds(got, 0, 1, 7));
	long dst = do_mmap(e.t, 0, PG, RW, ANON);
	uint64_t iov[4] = { (uint64_t)dst, PG, (uint64_t)W + PG, PG };
	long lv = (long)pm_scratch(e.t, iov, 16), rv = (long)pm_scratch(e.t, iov + 2, 16);
	EXPECT_EQ(SC(e.t, SYS_process_vm_readv, pm_pid(e.t), lv, 1, rv, 1, 0), PG);
	EXPECT_EQ(pm_access(e.t, (uint64_t)dst, got, PG, PM_READ, NULL), PG);
	EXPECT_TRUE(holds(got, 1, 1, 7));
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 2);
	/* A forked child shares the object: its fault swaps page 2 in, the parent then maps
	 * the same frame without another read. */
	long child = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ct = pm_thread_of(e.sys, (int)child);
	EXPECT_TRUE(ct != NULL);
	EXPECT_EQ(peek(ct, W + 2 * PG + 9), byte_of(2, 9, 7));
	poke(ct, W + 2 * PG, 0x77);
	EXPECT_EQ(peek(e.t, W + 2 * PG), 0x77);
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 3);
	EXPECT_EQ(SC(ct, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	/* With no mapping left, pread(2) swaps the rest in. */
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 8 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 20);
	long b = do_mmap(e.t, 0, 8 * PG, RW, ANON);
	EXPECT_EQ(SC(e.t, SYS_pread64, fd, b + 3 * PG, 5 * PG, 3 * PG, 0, 0), 5 * PG);
	EXPECT_EQ(pm_access(e.t, (uint64_t)b + 3 * PG, got, 5 * PG, PM_READ, NULL), 5 * PG);
	EXPECT_TRUE(holds(got, 3, 5, 7));
	EXPECT_EQ(view_field(e.t, "vmstat", "pswpin "), in0 + 8);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Every way a swapped shmem page can go frees its slot: MADV_REMOVE (the hole punch),
 * ftruncate, and the last close plus munmap. The hole reads back as zeroes, the charge
 * (Committed_AS) goes with the pages, and SwapFree ends where it began. */
TEST(punch_remove_truncate_and_close_free_swapped_shmem_slots)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	long fd = memfd(e.t, "holes", 8);
	long commit0 = view_field(e.t, "meminfo", "Committed_AS:");
	EXPECT_EQ(SC(e.t, SYS_mmap, W, 8 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	fill(e.t, W, 8, 3);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0 + 32);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 32);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0 + 32);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 2 * PG, MADV_REMOVE, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 24);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0 + 24);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 2 * PG, 2 * PG, MADV_REMOVE, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 16);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0 + 16);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(e.t, SYS_ftruncate, fd, 6 * PG + 100, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 8);	/* 7 freed, 6 read back */
	EXPECT_EQ(peek(e.t, W + 6 * PG + 99), byte_of(6, 99, 3));
	EXPECT_EQ(peek(e.t, W + 6 * PG + 100), 0);	/* the tail was zeroed */
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(peek(e.t, W), 0);		/* punched */
	EXPECT_EQ(peek(e.t, W + 3 * PG), 0);	/* removed */
	EXPECT_EQ(peek(e.t, W + 4 * PG + 1), byte_of(4, 1, 3));
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 7 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_TRUE(view_field(e.t, "meminfo", "SwapFree:") < free0 - 4);
	EXPECT_EQ(SC(e.t, SYS_close, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_TRUE(view_field(e.t, "meminfo", "SwapFree:") < free0 - 4);	/* the mapping holds it */
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 8 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	/* The same for a shared anonymous mapping: munmap of the last mapping frees all. */
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, SHARED | MAP_FIXED), W);
	fill(e.t, W, 4, 4);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 16);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0);
	env_close(&e);
}

/* MADV_PAGEOUT leaves a shmem page that another process maps too (folio_maybe_mapped_shared),
 * and never touches a locked one: reclaim culls mlocked shmem to the unevictable list while
 * it swaps out an unlocked shmem range beside it. */
TEST(shared_and_mlocked_shmem_stay_resident)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, SHARED | MAP_FIXED), W);
	fill(e.t, W, 4, 5);
	long child = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ct = pm_thread_of(e.sys, (int)child);
	EXPECT_EQ(peek(ct, W + PG), byte_of(1, 0, 5));	/* the child maps page 1 too */
	/* ... and only page 1: the read faulted its cached neighbours in (fault-around). */
	EXPECT_EQ(SC(ct, SYS_madvise, W, PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(SC(ct, SYS_madvise, W + 2 * PG, 2 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 12);	/* all but page 1 */
	EXPECT_EQ(mincore_resident(e.t, W + PG, 1), 1);
	EXPECT_EQ(SC(ct, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_TRUE(same(e.t, W, 4, 5));
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);
	/* Locked beside unlocked. */
	EXPECT_EQ(do_mmap(e.t, W + 64 * PG, 4 * PG, RW, SHARED | MAP_FIXED), W + 64 * PG);
	fill(e.t, W + 64 * PG, 4, 6);
	EXPECT_EQ(SC(e.t, SYS_mlock, W, 4 * PG, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(e.t, SYS_madvise, W, 4 * PG, MADV_PAGEOUT, 0, 0, 0), -EINVAL);
	for (int i = 0; i < 4; i++)
		pm_debug_shrink(e.sys, 1 << 20);
	EXPECT_EQ(mincore_resident(e.t, W, 4), 4);
	EXPECT_EQ(mincore_resident(e.t, W + 64 * PG, 4), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 16);
	EXPECT_TRUE(view_field(e.t, "meminfo", "Unevictable:") >= 16);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, W, 4, 5));
	EXPECT_TRUE(same(e.t, W + 64 * PG, 4, 6));
	env_close(&e);
}

/* 32 MiB of RAM, 64 MiB of swap: 40 MiB of shared anonymous memory and a 8 MiB memfd
 * written only through write(2) fit, reclaim (kswapd and direct) swaps shmem out, every
 * byte reads back and every invariant holds; with no shmem left SwapFree is back. */
TEST(small_ram_swaps_shmem_out_under_pressure)
{
	pm_config c = swap_cfg(32 * MiB, 64 * MiB);
	struct env e = env_open_cfg(&c);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	const int pages = 40 * MiB / PG, mpages = 8 * MiB / PG;
	long fd = memfd(e.t, "big", 0);
	long b = do_mmap(e.t, 0, PG, RW, ANON);
	poke(e.t, (uint64_t)b, 1);
	long commit0 = view_field(e.t, "meminfo", "Committed_AS:");
	static uint8_t page[PG];
	for (int i = 0; i < mpages; i++) {
		for (int k = 0; k < PG; k++)
			page[k] = byte_of(i, k, 9);
		EXPECT_EQ(pm_access(e.t, (uint64_t)b, page, PG, PM_WRITE, NULL), PG);
		EXPECT_EQ(SC(e.t, SYS_write, fd, b, PG, 0, 0, 0), PG);
	}
	EXPECT_EQ(do_mmap(e.t, W, pages * PG, RW, SHARED | MAP_FIXED), W);
	fill(e.t, W, pages, 8);
	pm_system_tick(e.sys, 1);
	EXPECT_TRUE(view_field(e.t, "vmstat", "pswpout ") > 0);
	EXPECT_TRUE(view_field(e.t, "meminfo", "SwapFree:") < free0 - 8 * 1024);
	EXPECT_EQ(view_field(e.t, "vmstat", "oom_kill "), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0 + (pages + mpages) * 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, W, pages, 8));
	static uint8_t got[PG];
	for (int i = 0; i < mpages; i++) {
		EXPECT_EQ(SC(e.t, SYS_pread64, fd, b, PG, (long)i * PG, 0, 0), PG);
		EXPECT_EQ(pm_access(e.t, (uint64_t)b, got, PG, PM_READ, NULL), PG);
		if (!holds(got, i, 1, 9))
			break;
	}
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, pages * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_close, fd, 0, 0, 0, 0, 0), 0);
	/* Only the few private anonymous pages (buffers) that went out too hold slots. */
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:") + view_field(e.t, "status", "VmSwap:"), free0);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* A core dump of a shared anonymous mapping whose pages are swapped out holds their real
 * bytes, read from the slots: nothing is swapped back in. */
TEST(coredump_of_swapped_shmem_dumps_its_bytes)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 4 * PG, RW, SHARED | MAP_FIXED), W);
	fill(e.t, W, 4, 2);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 4 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	char dir[] = "/tmp/peimm-shmcoreXXXXXX", core[64];
	REQUIRE_EQ(mkdtemp(dir) != NULL, 1);
	snprintf(core, sizeof(core), "%s/core", dir);
	REQUIRE_EQ(pm_coredump(e.t, core), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0);	/* nothing swapped in */
	int hfd = open(core, O_RDONLY);
	static uint8_t img[1 << 20];
	long n = pread(hfd, img, sizeof(img), 0);
	close(hfd);
	unlink(core);
	rmdir(dir);
	/* Each page's first 64 bytes appear in the image, page-aligned. */
	int found = 0;
	for (long off = 0; off + PG <= n; off += PG)
		for (int i = 0; i < 4; i++) {
			int ok = 1;
			for (int k = 0; k < 64 && ok; k++)
				ok = img[off + k] == byte_of(i, k, 2);
			found += ok;
		}
	EXPECT_EQ(found, 4);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* pm_check_invariants recounts every slot's references (swap PTEs and shmem index
 * entries): one reference too many on a shmem slot (a leak) is reported. */
TEST(invariants_catch_a_leaked_shmem_slot_reference)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	EXPECT_EQ(do_mmap(e.t, W, 2 * PG, RW, SHARED | MAP_FIXED), W);
	fill(e.t, W, 2, 1);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 2 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	struct swap_area *sa = &e.sys->swap;
	uint64_t slot = 0;
	for (uint64_t s = 1; s <= sa->nslots && !slot; s++)
		if (swap_count(sa, s))
			slot = s;
	REQUIRE_EQ(slot != 0, 1);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	swap_dup(sa, slot);
	EXPECT_TRUE(pm_check_invariants(e.sys) > 0);
	swap_put(sa, slot);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_TRUE(same(e.t, W, 2, 1));
	env_close(&e);
}

/* fallocate(PUNCH_HOLE|KEEP_SIZE) over swapped memfd pages: the whole pages of the hole
 * free their slots, the partial pages at its edges are read back and zeroed in part (as
 * Linux 6.18 does); vfs_fallocate's errors; allocation (mode 0) grows the file and gives it
 * pages, which Committed_AS charges. */
TEST(fallocate_punch_hole_frees_swapped_slots_and_zeroes_the_edges)
{
	pm_config c = swap_cfg(64 * MiB, 16 * MiB);
	struct env e = env_open_cfg(&c);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	long fd = memfd(e.t, "punch", 8);
	EXPECT_EQ(SC(e.t, SYS_mmap, W, 8 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	fill(e.t, W, 8, 6);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 8 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 32);
	long hole = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	EXPECT_ERRNO(SC(e.t, SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, PG, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(e.t, SYS_fallocate, fd, FALLOC_FL_ZERO_RANGE, 0, PG, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(e.t, SYS_fallocate, fd, 0x100, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(e.t, SYS_fallocate, fd, 0x100, 0, PG, 0, 0), -EOPNOTSUPP);
	EXPECT_ERRNO(SC(e.t, SYS_fallocate, fd, 0, 1, 0x7fffffffffffffffL, 0, 0), -EFBIG);
	EXPECT_ERRNO(SC(e.t, SYS_fallocate, 99, 0, 0, PG, 0, 0), -EBADF);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 32);
	EXPECT_EQ(SC(e.t, SYS_fallocate, fd, hole, 100, 3 * PG, 0, 0), 0);
	/* Pages 1 and 2 are gone; 0 and 3 came back to be zeroed in part; 4-7 stay out. */
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:"), free0 - 16);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(peek(e.t, W + 99), byte_of(0, 99, 6));
	EXPECT_EQ(peek(e.t, W + 100), 0);
	EXPECT_EQ(peek(e.t, W + PG + 7), 0);
	EXPECT_EQ(peek(e.t, W + 3 * PG + 99), 0);
	EXPECT_EQ(peek(e.t, W + 3 * PG + 100), byte_of(3, 100, 6));
	EXPECT_TRUE(same(e.t, W + 4 * PG, 1, 6 + 4 * 17));
	/* A hole inside one swapped page. */
	EXPECT_EQ(SC(e.t, SYS_madvise, W + 5 * PG, PG, MADV_PAGEOUT, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_fallocate, fd, hole, 5 * PG + 10, 20, 0, 0), 0);
	EXPECT_EQ(peek(e.t, W + 5 * PG + 9), byte_of(5, 9, 6));
	EXPECT_EQ(peek(e.t, W + 5 * PG + 10), 0);
	EXPECT_EQ(peek(e.t, W + 5 * PG + 29), 0);
	EXPECT_EQ(peek(e.t, W + 5 * PG + 30), byte_of(5, 30, 6));
	/* Allocation grows the file and charges its new pages. */
	long commit0 = view_field(e.t, "meminfo", "Committed_AS:");
	EXPECT_EQ(SC(e.t, SYS_fallocate, fd, 0, 8 * PG, 2 * PG, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_lseek, fd, 0, SEEK_END, 0, 0, 0), 10 * PG);
	EXPECT_EQ(view_field(e.t, "meminfo", "Committed_AS:"), commit0 + 8);
	EXPECT_EQ(SC(e.t, SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 10 * PG, 2 * PG, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_lseek, fd, 0, SEEK_END, 0, 0, 0), 10 * PG);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(e.t, SYS_close, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 8 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:") + view_field(e.t, "status", "VmSwap:"), free0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Three host threads on one memfd while reclaim runs: a writer in the parent and one in a
 * forked child, each owning half the pages (a counter in the first 8 bytes, checked after
 * every store), the child also paging random ranges out, and a second child reading the
 * file with pread(2) and shrinking the LRU. Bytes 8.. of every page
 * never change and must survive every swap-out and swap-in; afterwards every invariant
 * holds and every slot is back once the file is gone. */
static atomic_int race_go;

struct racer {
	pm_thread *t;
	long first, n, iters, fd;
	int pageout, failed;
	pm_system *sys;
};

static void *race_writer(void *arg)
{
	struct racer *r = arg;
	uint64_t prng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)r->first;
	while (!atomic_load(&race_go))
		;
	for (long it = 1; it <= r->iters && !r->failed; it++)
		for (long i = r->first; i < r->first + r->n; i++) {
			uint64_t v = (uint64_t)it << 16 | (uint64_t)i, got = 0;
			if (pm_access(r->t, (uint64_t)W + (uint64_t)i * PG, &v, 8, PM_WRITE, NULL) != 8 ||
			    pm_access(r->t, (uint64_t)W + (uint64_t)i * PG, &got, 8, PM_READ, NULL) != 8 ||
			    got != v)
				r->failed = 1;
			if (r->pageout && (i & 7) == 0) {
				prng = prng * 6364136223846793005ULL + 1442695040888963407ULL;
				long at = (long)(prng >> 33) % 64;
				SC(r->t, SYS_madvise, W + at * PG, 4 * PG, MADV_PAGEOUT, 0, 0, 0);
			}
		}
	return NULL;
}

static void *race_reader(void *arg)
{
	struct racer *r = arg;
	long b = do_mmap(r->t, 0, PG, RW, ANON);
	static uint8_t got[PG];
	while (!atomic_load(&race_go))
		;
	for (long it = 0; it < r->iters && !r->failed; it++) {
		long i = it % 64;
		if (SC(r->t, SYS_pread64, r->fd, b, PG, i * PG, 0, 0) != PG ||
		    pm_access(r->t, (uint64_t)b, got, PG, PM_READ, NULL) != PG)
			r->failed = 1;
		for (int k = 8; k < PG && !r->failed; k += 97)
			if (got[k] != byte_of((int)i, k, 4))
				r->failed = 1;
		if (it % 8 == 0)
			pm_debug_shrink(r->sys, 64);
	}
	return NULL;
}

TEST(writers_pageout_pread_and_reclaim_race_on_one_memfd)
{
	pm_config c = swap_cfg(32 * MiB, 32 * MiB);
	struct env e = env_open_cfg(&c);
	long free0 = view_field(e.t, "meminfo", "SwapFree:");
	long fd = memfd(e.t, "race", 64);
	EXPECT_EQ(SC(e.t, SYS_mmap, W, 64 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	fill(e.t, W, 64, 4);
	long child = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *ct = pm_thread_of(e.sys, (int)child);
	long sib = SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0);
	pm_thread *st = pm_thread_of(e.sys, (int)sib);
	REQUIRE_EQ(ct != NULL && st != NULL, 1);
	struct racer rs[3] = {
		{ .t = e.t, .first = 0, .n = 32, .iters = 300 },
		{ .t = ct, .first = 32, .n = 32, .iters = 300, .pageout = 1 },
		{ .t = st, .iters = 3000, .fd = fd, .sys = e.sys },
	};
	long out0 = view_field(e.t, "vmstat", "pswpout "), in0 = view_field(e.t, "vmstat", "pswpin ");
	pthread_t th[3];
	atomic_store(&race_go, 0);
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, i == 2 ? race_reader : race_writer, &rs[i]);
	atomic_store(&race_go, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(rs[i].failed, 0);
	fprintf(stderr, "race: %ld pages swapped out, %ld read back\n",
		view_field(e.t, "vmstat", "pswpout ") - out0, view_field(e.t, "vmstat", "pswpin ") - in0);
	EXPECT_TRUE(view_field(e.t, "vmstat", "pswpout ") - out0 >= 64);
	EXPECT_TRUE(view_field(e.t, "vmstat", "pswpin ") - in0 >= 64);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	uint64_t v = 0;
	EXPECT_EQ(pm_access(e.t, W + 40 * PG, &v, 8, PM_READ, NULL), 8);
	EXPECT_EQ(v, (uint64_t)300 << 16 | 40);
	EXPECT_EQ(SC(ct, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_close, fd, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 64 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	EXPECT_EQ(SC(st, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(view_field(e.t, "meminfo", "SwapFree:") + view_field(e.t, "status", "VmSwap:"), free0);
	EXPECT_EQ(pm_check_invariants(e.sys), 0);
	env_close(&e);
}

/* Shmem is swap-backed, so Swappiness treats it as anonymous memory: with 0 one reclaim
 * pass takes the (cold) page-cache pages and leaves 512 cold shmem pages alone, with 200
 * it swaps shmem out and leaves the file pages. */
static void shmem_mix(long swappiness, long *shmem_swapped_kb, long *file_left)
{
	static char root[64];
	snprintf(root, sizeof(root), "/tmp/peimm-shmixXXXXXX");
	REQUIRE_EQ(mkdtemp(root) != NULL, 1);
	pm_config c = swap_cfg(64 * MiB, 32 * MiB);
	c.root = root;
	struct env e = env_open_cfg(&c);
	int err;
	pm_token *stok = pm_token_parse(e.sys, "system", &err);
	pm_thread *admin = pm_spawn(e.sys, stok, NULL);
	pm_token_put(stok);
	EXPECT_EQ(pm_registry_set(admin, "Swappiness", swappiness), 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/mix", root);
	int hfd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	EXPECT_EQ(ftruncate(hfd, 512 * PG), 0);
	close(hfd);
	long fd = SC(e.t, SYS_openat, AT_FDCWD, (long)pm_scratch(e.t, "/mix", 5), O_RDWR, 0, 0, 0);
	const long F = 0x300000000000L;
	REQUIRE_EQ(SC(e.t, SYS_mmap, F, 512 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), F);
	for (long i = 0; i < 512; i++)
		peek(e.t, (uint64_t)(F + i * PG));
	REQUIRE_EQ(do_mmap(e.t, W, 512 * PG, RW, SHARED | MAP_FIXED), W);
	fill(e.t, W, 512, 3);
	EXPECT_EQ(SC(e.t, SYS_madvise, W, 512 * PG, MADV_COLD, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_madvise, F, 512 * PG, MADV_COLD, 0, 0, 0), 0);
	EXPECT_TRUE(pm_debug_shrink(e.sys, 256) >= 256);
	*shmem_swapped_kb = view_field(e.t, "smaps_rollup", "\nSwap:");
	*file_left = mincore_resident(e.t, F, 512);
	EXPECT_EQ(mincore_resident(e.t, W, 512), 512 - *shmem_swapped_kb / 4);
	EXPECT_TRUE(same(e.t, W, 512, 3));
	env_close(&e);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	EXPECT_EQ(system(p), 0);
}

TEST(swappiness_treats_shmem_as_anonymous_memory)
{
	long swapped, file_left;
	shmem_mix(0, &swapped, &file_left);
	EXPECT_EQ(swapped, 0);
	EXPECT_TRUE(file_left <= 512 - 256);
	shmem_mix(200, &swapped, &file_left);
	EXPECT_TRUE(swapped >= 256 * 4);
	EXPECT_EQ(file_left, 512);
}
