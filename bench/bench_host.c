/*
 * peimm bench: the host-kernel side of every workload, the same loops as workloads_mm.c
 * issued as real syscalls and real loads and stores. Sides that change this process's brk
 * or add thousands of VMAs are marked host_fork in the workload table and run in a forked
 * child (bench_in_child), so they never disturb the driver. Never changes host settings
 * (vm.max_map_count is read, not raised).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* Per-side state: the last failing call, plus what the loop works on. */
typedef struct host_st {
	char     note[BENCH_NOTE_MAX];
	size_t   len;		/* bytes per mmap */
	char    *va;		/* the mapping the loop works on, or NULL */
	long     base;		/* brk base */
	char    *buf;		/* maps read buffer, BENCH_MAPS_CHUNK bytes */
	const char *view;	/* "/proc/self/maps" or "/proc/self/smaps" */
	uint64_t sum;		/* sink for uaccess loads */
} host_st;

static long host_err(host_st *s, const char *call)
{
	int e = errno ? errno : EPROTO;

	snprintf(s->note, sizeof(s->note), "linux %s: %s", call, strerror(e));
	return -e;
}

/* Maps n one-page VMAs, PROT_READ and PROT_NONE in turn so that they never merge. */
static long host_add_vmas(host_st *s, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		void *p = mmap(NULL, BENCH_PAGE, (i & 1) ? PROT_NONE : PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return host_err(s, "mmap of a background VMA");
	}
	return 0;
}

/* Lines of /proc/self/maps (the VMAs of this process, give or take [vsyscall]). */
static long host_count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long lines = 0;
	int c;

	if (!f)
		return -errno;
	while ((c = getc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	return lines;
}

/* vm.max_map_count, or 65530 (the default) when unreadable. */
static long host_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long v = 65530;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

/* ---- mmap + munmap of len bytes (mmap_munmap_4k, mmap1, vma_scale) ---- */

static long it_mmap_munmap(void *p)
{
	host_st *s = p;
	void *va = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (va == MAP_FAILED)
		return host_err(s, "mmap");
	return munmap(va, s->len) ? host_err(s, "munmap") : 1;
}

void host_side_mmap_4k(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .len = BENCH_PAGE };

	bench_loop(b, it_mmap_munmap, &s, s.note, r);
}

void host_side_mmap1(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .len = BENCH_MMAP1_BYTES };

	bench_loop(b, it_mmap_munmap, &s, s.note, r);
}

/* Runs in a child: adds w->param VMAs, or as many as vm.max_map_count allows. */
void host_side_vma_scale(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .len = BENCH_PAGE };
	long have = host_count_maps(), limit = host_max_map_count();
	uint64_t n = w->param;

	/* Leave room for the loop's own VMA and for what libc may still map. */
	if (have >= 0 && n + (uint64_t)have + 64 > (uint64_t)limit) {
		n = (uint64_t)limit - (uint64_t)have - 64;
		snprintf(r->note, sizeof(r->note),
			 "linux side ran with %lu VMAs: vm.max_map_count is %ld",
			 (unsigned long)(n + (uint64_t)have), limit);
	}
	if (host_add_vmas(&s, n)) {
		bench_fail(r, -ENOMEM, "%s", s.note);
		return;
	}
	bench_loop(b, it_mmap_munmap, &s, s.note, r);
}

/* ---- page_fault_anon: map 128 MiB, write one byte per page, unmap ---- */

static long it_page_fault(void *p)
{
	host_st *s = p;
	char *va = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (va == MAP_FAILED)
		return host_err(s, "mmap");
	if (madvise(va, s->len, MADV_NOHUGEPAGE))
		return host_err(s, "madvise(MADV_NOHUGEPAGE)");
	for (size_t off = 0; off < s->len; off += BENCH_PAGE)
		*(volatile char *)(va + off) = 1;
	return munmap(va, s->len) ? host_err(s, "munmap") : (long)(s->len / BENCH_PAGE);
}

void host_side_page_fault(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .len = BENCH_MMAP1_BYTES };

	bench_loop(b, it_page_fault, &s, s.note, r);
}

/* ---- brk_grow_shrink: brk +1 page, brk -1 page (2 ops); runs in a child ---- */

static long it_brk(void *p)
{
	host_st *s = p;
	long top = s->base + (long)BENCH_PAGE;

	errno = ENOMEM;
	if (syscall(SYS_brk, top) != top)
		return host_err(s, "brk(+1 page)");
	if (syscall(SYS_brk, s->base) != s->base)
		return host_err(s, "brk(-1 page)");
	return 2;
}

void host_side_brk(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .base = syscall(SYS_brk, 0) };

	bench_loop(b, it_brk, &s, s.note, r);
}

/* ---- mprotect_split_merge: middle page of 3 to R, then back to RW (2 ops) ---- */

static long it_mprotect(void *p)
{
	host_st *s = p;
	char *mid = s->va + BENCH_PAGE;

	if (mprotect(mid, BENCH_PAGE, PROT_READ))
		return host_err(s, "mprotect(R)");
	return mprotect(mid, BENCH_PAGE, PROT_READ | PROT_WRITE) ? host_err(s, "mprotect(RW)") : 2;
}

void host_side_mprotect(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .len = 3 * BENCH_PAGE };

	s.va = mmap(NULL, s.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.va == MAP_FAILED) {
		bench_fail(r, -errno, "linux mmap of 3 pages: %s", strerror(errno));
		return;
	}
	bench_loop(b, it_mprotect, &s, s.note, r);
	munmap(s.va, s.len);
}

/* ---- maps_20k, smaps_20k: read /proc/self/[s]maps with 20,000 VMAs present; runs in a
 * child ---- */

/* One full read: open, read to EOF in BENCH_MAPS_CHUNK reads, close. Returns the lines
 * seen when count is set, else 1; or -errno. */
static long maps_read_all(host_st *s, int count)
{
	int fd = open(s->view, O_RDONLY | O_CLOEXEC);
	long lines = 0;
	ssize_t n;

	if (fd < 0)
		return host_err(s, "open of the view");
	while ((n = read(fd, s->buf, BENCH_MAPS_CHUNK)) > 0)
		for (ssize_t i = 0; count && i < n; i++)
			lines += s->buf[i] == '\n';
	if (n < 0) {
		long e = host_err(s, "read of the view");
		close(fd);
		return e;
	}
	close(fd);
	return count ? lines : 1;
}

static long it_maps(void *p)
{
	return maps_read_all(p, 0);
}

void host_side_maps(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .buf = malloc(BENCH_MAPS_CHUNK),
		      .view = w->param == BENCH_VIEW_SMAPS ? "/proc/self/smaps" : "/proc/self/maps" };
	long lines = 0;

	if (!s.buf) {
		bench_fail(r, -ENOMEM, "out of host memory");
		return;
	}
	if (host_add_vmas(&s, BENCH_MAPS_VMAS) || (lines = maps_read_all(&s, 1)) < 0) {
		bench_fail(r, -ENOMEM, "%s", s.note);
		free(s.buf);
		return;
	}
	bench_loop(b, it_maps, &s, s.note, r);
	r->per_op = (double)lines;
	free(s.buf);
}

/* ---- uaccess_hit: 8-byte loads over the same small resident working set ---- */

static long it_uaccess(void *p)
{
	host_st *s = p;
	uint64_t sum = 0;

	for (long i = 0; i < BENCH_UACCESS_BATCH; i++) {
		uint64_t off = ((uint64_t)(i & 7) << 12) | (((uint64_t)i >> 3) & 511) << 3;
		sum += *(volatile uint64_t *)(void *)(s->va + off);
	}
	s->sum += sum;
	return BENCH_UACCESS_BATCH;
}

void host_side_uaccess(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	host_st s = { .len = BENCH_UACCESS_SET * BENCH_PAGE };

	s.va = mmap(NULL, s.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.va == MAP_FAILED) {
		bench_fail(r, -errno, "linux mmap: %s", strerror(errno));
		return;
	}
	memset(s.va, 1, s.len);
	bench_loop(b, it_uaccess, &s, s.note, r);
	munmap(s.va, s.len);
}
