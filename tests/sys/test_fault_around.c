/*
 * Fault-around (Linux's do_fault_around and filemap_map_pages, src/mm/fault_around.c): a
 * read fault of a file, shmem or memfd VMA also maps the neighbouring pages already in the
 * page cache, in the 16-page window aligned down on the address and clamped to the VMA,
 * the page table and EOF; never for a write fault, never an uncached page, never writable
 * where a shared file mapping needs writenotify. Every rule was checked on Linux 6.18 with
 * mincore and /proc/self/pagemap.
 */
#include "file_env.h"

#include "proc/proc_test.h"

#define W 0x200000000000L	/* 2 MiB aligned */

static long map_fd(pm_thread *t, long addr, long len, long prot, long flags, long fd, long off)
{
	return SC(t, SYS_mmap, addr, len, prot, flags, fd, off);
}

/* A host file of `bytes` bytes, page i filled with fill + i. */
static void put_file(struct fenv *f, const char *name, long bytes, char fill)
{
	char p[128];
	static char page[4096];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	for (long off = 0; off < bytes; off += PG) {
		long n = bytes - off < PG ? bytes - off : PG;
		memset(page, fill + (int)(off / PG), sizeof(page));
		if (write(fd, page, (size_t)n) != (ssize_t)n)
			check_failed(__FILE__, __LINE__, "host write");
	}
	close(fd);
}

/* The present bits of npages pages from va as a string of 'P' and '.'. */
static const char *present(pm_thread *t, uint64_t va, int npages)
{
	static char s[600];
	for (int i = 0; i < npages; i++)
		s[i] = (pagemap_at(t, 0, va + (uint64_t)i * PG) & PM_E_PRESENT) ? 'P' : '.';
	s[npages] = '\0';
	return s;
}

/* mincore of npages pages from va as '1' (cached) and '0'. */
static const char *cached(pm_thread *t, uint64_t va, int npages)
{
	static char s[600];
	uint8_t v[600];
	uint64_t vec = (uint64_t)buf(t, (size_t)npages);
	if (SC(t, SYS_mincore, (long)va, npages * PG, (long)vec, 0, 0, 0) != 0)
		return "mincore failed";
	pm_access(t, vec, v, (size_t)npages, PM_READ, NULL);
	for (int i = 0; i < npages; i++)
		s[i] = (v[i] & 1) ? '1' : '0';
	s[npages] = '\0';
	return s;
}

/* A string of n chars: c in [from, to), '.' elsewhere. */
static const char *span(int n, int from, int to, char c)
{
	static char s[4][600];
	static int k;
	char *r = s[k++ & 3];
	for (int i = 0; i < n; i++)
		r[i] = i >= from && i < to ? c : '.';
	r[n] = '\0';
	return r;
}

static long vmstat(pm_thread *t, const char *field)
{
	char key[64];
	snprintf(key, sizeof(key), "\n%s ", field);
	const char *s = strstr(proc_text(t, -1, "vmstat"), key);
	return s ? strtol(s + strlen(key), NULL, 10) : -1;
}

/* A read fault of one page of a cached file maps exactly its aligned 16-page window
 * (pagemap present, smaps Rss 64 kB); the rest of the cached file stays unmapped. */
TEST(read_fault_maps_the_cached_aligned_16_page_window)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_file(&f, "c.bin", 64 * PG, 'a');
	long fd = op(t, "c.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, 64 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W, 64 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_STREQ(present(t, W, 64), span(64, 0, 0, 'P'));
	EXPECT_EQ(peek(t, W + 20 * PG), 'a' + 20);
	EXPECT_STREQ(present(t, W, 64), span(64, 16, 32, 'P'));
	EXPECT_STREQ(cached(t, W, 64), span(64, 0, 64, '1'));
	EXPECT_EQ(smaps_kb(t, W, "Rss"), 64);
	/* The neighbours hold the file's bytes: a read of them needs no fault. */
	long faults = vmstat(t, "pgfault");
	EXPECT_EQ(peek(t, W + 31 * PG), 'a' + 31);
	EXPECT_EQ(vmstat(t, "pgfault"), faults);
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* The window is clamped to the VMA (a VMA that starts inside an aligned block gets 16
 * pages from its start), to the 2 MiB page table and to EOF; a read fault past EOF still
 * maps the cached pages of its window below EOF before it raises SIGBUS. */
TEST(fault_around_window_clamps_to_vma_page_table_and_eof)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_file(&f, "c.bin", 64 * PG, 'a');
	put_file(&f, "e.bin", 10 * PG - 100, 'k');
	long fd = op(t, "c.bin", O_RDONLY), fe = op(t, "e.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, 64 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W, 64 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_munmap, W, 64 * PG, 0, 0, 0, 0), 0);

	/* A VMA starting at slot 5 of its block: the window is its pages 0..15. */
	EXPECT_EQ(map_fd(t, W + 5 * PG, 40 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W + 5 * PG);
	EXPECT_EQ(peek(t, W + 7 * PG), 'a' + 2);
	EXPECT_STREQ(present(t, W + 5 * PG, 40), span(40, 0, 16, 'P'));
	EXPECT_EQ(SC(t, SYS_munmap, W + 5 * PG, 40 * PG, 0, 0, 0, 0), 0);

	/* The VMA's end. */
	EXPECT_EQ(map_fd(t, W, 10 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(peek(t, W + 3 * PG), 'a' + 3);
	EXPECT_STREQ(present(t, W, 10), span(10, 0, 10, 'P'));
	EXPECT_EQ(SC(t, SYS_munmap, W, 10 * PG, 0, 0, 0, 0), 0);

	/* A VMA across a 2 MiB boundary: each side's window stops at its page table. */
	long b = W + 2 * MiB - 8 * PG;
	EXPECT_EQ(map_fd(t, b, 32 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), b);
	EXPECT_EQ(peek(t, b + 9 * PG), 'a' + 9);
	EXPECT_STREQ(present(t, b, 32), span(32, 8, 24, 'P'));
	EXPECT_EQ(peek(t, b + 6 * PG), 'a' + 6);
	EXPECT_STREQ(present(t, b, 32), span(32, 0, 24, 'P'));
	EXPECT_EQ(SC(t, SYS_munmap, b, 32 * PG, 0, 0, 0, 0), 0);

	/* EOF: page 12 lies past the 10-page file; its window's cached pages 0..9 map. */
	EXPECT_EQ(map_fd(t, W, 32 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fe, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W, 10 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	pm_siginfo si;
	uint8_t c;
	EXPECT_ERRNO(pm_access(t, W + 12 * PG, &c, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_STREQ(present(t, W, 32), span(32, 0, 10, 'P'));
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* filemap_map_pages installs no new page table when the first cached page of the window is
 * the file's last: a fault past EOF whose window holds only that page maps nothing into
 * an empty 2 MiB region, but maps it once the region's table exists. */
TEST(fault_past_eof_maps_the_last_page_only_into_an_existing_table)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_file(&f, "s.bin", 6 * PG, 'a');
	long fd = op(t, "s.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 5 * PG), W);
	EXPECT_EQ(SC(t, SYS_madvise, W, PG, MADV_WILLNEED, 0, 0, 0), 0);
	pm_siginfo si;
	uint8_t c;
	EXPECT_ERRNO(pm_access(t, W + PG, &c, 1, PM_READ, &si), -EFAULT);
	EXPECT_EQ(si.signo, SIGBUS);
	EXPECT_STREQ(present(t, W, 3), "...");
	/* Another VMA's page gives the region a table: now the last page maps. */
	EXPECT_EQ(do_mmap(t, W + 64 * PG, PG, RW, ANON | MAP_FIXED), W + 64 * PG);
	EXPECT_EQ(poke(t, W + 64 * PG, 1), 1);
	EXPECT_ERRNO(pm_access(t, W + PG, &c, 1, PM_READ, &si), -EFAULT);
	EXPECT_STREQ(present(t, W, 3), "P..");
	/* munmap keeps a table while a VMA is left in its 2 MiB (free_pgtables' floor and
	 * ceiling), so a fresh mapping of the same file page still faults it around. */
	EXPECT_EQ(SC(t, SYS_munmap, W, 3 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(map_fd(t, W, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 5 * PG), W);
	EXPECT_ERRNO(pm_access(t, W + PG, &c, 1, PM_READ, &si), -EFAULT);
	EXPECT_STREQ(present(t, W, 3), "P..");
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* Uncached pages in the window are neither mapped nor read; a read fault of one of them
 * reads it (and read-ahead), and the retried fault maps what is cached then. */
TEST(fault_around_skips_uncached_pages_and_reads_nothing)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_file(&f, "c.bin", 64 * PG, 'a');
	long fd = op(t, "c.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, 64 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W + 16 * PG, 2 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, W + 22 * PG, 10 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + 24 * PG), 'a' + 24);
	EXPECT_STREQ(present(t, W + 16 * PG, 16), "PP....PPPPPPPPPP");
	EXPECT_STREQ(cached(t, W + 16 * PG, 16), "1100001111111111");
	EXPECT_EQ(peek(t, W + 19 * PG), 'a' + 19);	/* reads 19 and, ahead, 20..21 */
	EXPECT_STREQ(cached(t, W + 16 * PG, 16), "1101111111111111");
	EXPECT_STREQ(present(t, W + 16 * PG, 16), "PP.PPPPPPPPPPPPP");
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* Write faults never fault around (do_cow_fault, do_shared_fault); MADV_RANDOM does not
 * stop a read fault's fault-around. */
TEST(write_faults_do_not_fault_around_but_random_reads_do)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_file(&f, "c.bin", 64 * PG, 'a');
	long fd = op(t, "c.bin", O_RDWR);
	EXPECT_EQ(map_fd(t, W, 64 * PG, RW, MAP_PRIVATE | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W, 64 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(poke(t, W + 40 * PG, 'x'), 1);
	EXPECT_STREQ(present(t, W, 64), span(64, 40, 41, 'P'));
	EXPECT_EQ(SC(t, SYS_munmap, W, 64 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(map_fd(t, W, 64 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(poke(t, W + 40 * PG, 'x'), 1);
	EXPECT_STREQ(present(t, W, 64), span(64, 40, 41, 'P'));
	EXPECT_EQ(SC(t, SYS_madvise, W, 64 * PG, MADV_RANDOM, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + 20 * PG), 'a' + 20);
	EXPECT_STREQ(present(t, W, 32), span(32, 16, 32, 'P'));
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* On a writable shared file mapping the neighbours are mapped read-only, so the first
 * store to one faults, dirties the page (writenotify) and msync writes it to the host. */
TEST(fault_around_keeps_shared_file_pages_write_protected)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_file(&f, "c.bin", 32 * PG, 'a');
	long fd = op(t, "c.bin", O_RDWR);
	EXPECT_EQ(map_fd(t, W, 32 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W, 32 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + 4 * PG), 'a' + 4);
	EXPECT_STREQ(present(t, W, 32), span(32, 0, 16, 'P'));
	EXPECT_EQ(field_of(proc_text(t, -1, "meminfo"), "Dirty"), 0);
	long faults = vmstat(t, "pgfault");
	EXPECT_EQ(poke(t, W + 5 * PG + 1, 'Z'), 1);
	EXPECT_EQ(vmstat(t, "pgfault"), faults + 1);	/* the write-protect fault */
	EXPECT_EQ(field_of(proc_text(t, -1, "meminfo"), "Dirty"), 4);
	EXPECT_EQ(SC(t, SYS_msync, W, 32 * PG, MS_SYNC, 0, 0, 0), 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/c.bin", f.root);
	int hfd = open(p, O_RDONLY);
	char got = 0;
	EXPECT_EQ(pread(hfd, &got, 1, 5 * PG + 1), 1);
	close(hfd);
	EXPECT_EQ(got, 'Z');
	EXPECT_EQ(field_of(proc_text(t, -1, "meminfo"), "Dirty"), 0);
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* Shmem and memfd fault around the same way, only over the pages that exist (holes are
 * not allocated), and writable at once in a shared writable mapping (no writenotify):
 * a store to a neighbour does not fault. RssShmem counts the mapped pages. */
TEST(shmem_and_memfd_fault_around_their_existing_pages)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long m = SC(t, SYS_memfd_create, str(t, "fa"), 0, 0, 0, 0, 0);
	EXPECT_TRUE(m >= 0);
	EXPECT_EQ(SC(t, SYS_ftruncate, m, 64 * PG, 0, 0, 0, 0), 0);
	for (int i = 0; i < 64; i += 2)
		EXPECT_EQ(SC(t, SYS_pwrite64, m, str(t, "x"), 1, i * PG, 0, 0), 1);
	EXPECT_EQ(map_fd(t, W, 64 * PG, RW, MAP_SHARED | MAP_FIXED, m, 0), W);
	EXPECT_EQ(peek(t, W + 20 * PG), 'x');
	EXPECT_STREQ(present(t, W + 16 * PG, 16), "P.P.P.P.P.P.P.P.");
	EXPECT_STREQ(present(t, W, 16), span(16, 0, 0, 'P'));
	EXPECT_EQ(smaps_kb(t, W, "Rss"), 32);
	long faults = vmstat(t, "pgfault");
	EXPECT_EQ(poke(t, W + 22 * PG, 'y'), 1);
	EXPECT_EQ(vmstat(t, "pgfault"), faults);
	/* A private read of a hole allocates that page alone and maps its cached window. */
	long pv = W + 64 * PG;
	EXPECT_EQ(map_fd(t, pv, 64 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, m, 0), pv);
	EXPECT_EQ(peek(t, pv + 33 * PG), 0);
	EXPECT_STREQ(present(t, pv + 32 * PG, 16), "PPP.P.P.P.P.P.P.");
	/* Shared anonymous memory: every page written, dropped from the page table, then
	 * one read maps its window back. */
	long sh = W + 2 * MiB;
	EXPECT_EQ(do_mmap(t, sh, 64 * PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), sh);
	for (int i = 0; i < 64; i++)
		EXPECT_EQ(poke(t, sh + i * PG, 1), 1);
	EXPECT_EQ(SC(t, SYS_madvise, sh, 64 * PG, MADV_DONTNEED, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, sh + 40 * PG), 1);
	EXPECT_STREQ(present(t, sh, 64), span(64, 32, 48, 'P'));
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "RssShmem"), (8 + 9 + 16) * 4);
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}

/* In a lock-on-fault VMA the pages fault-around maps count as locked like the faulting
 * one (smaps Locked 64 kB), and both mappings of one cached page lose the exclusive bit. */
TEST(fault_around_pages_are_locked_and_counted_like_faulted_ones)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	put_file(&f, "c.bin", 64 * PG, 'a');
	long fd = op(t, "c.bin", O_RDONLY);
	EXPECT_EQ(map_fd(t, W, 64 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_EQ(SC(t, SYS_madvise, W, 64 * PG, MADV_WILLNEED, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_mlock2, W, 64 * PG, MLOCK_ONFAULT, 0, 0, 0), 0);
	EXPECT_EQ(peek(t, W + 20 * PG), 'a' + 20);
	EXPECT_EQ(smaps_kb(t, W, "Rss"), 64);
	EXPECT_EQ(smaps_kb(t, W, "Locked"), 64);
	EXPECT_TRUE(pagemap_at(t, 0, W + 17 * PG) & PM_E_EXCL);
	long w2 = W + 2 * MiB;
	EXPECT_EQ(map_fd(t, w2, 64 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), w2);
	EXPECT_EQ(peek(t, w2 + 24 * PG), 'a' + 24);
	EXPECT_STREQ(present(t, w2, 64), span(64, 16, 32, 'P'));
	EXPECT_EQ(pagemap_at(t, 0, W + 17 * PG) & PM_E_EXCL, 0);
	EXPECT_EQ(pagemap_at(t, 0, w2 + 17 * PG) & (PM_E_EXCL | PM_E_PRESENT | PM_E_FILE),
		  PM_E_PRESENT | PM_E_FILE);
	EXPECT_EQ(field_of(proc_text(t, 0, "status"), "RssFile"), 128);
	EXPECT_EQ(pm_check_invariants(f.e.sys), 0);
	fenv_close(&f);
}
