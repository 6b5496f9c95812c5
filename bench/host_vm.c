/*
 * peimm bench: the host-kernel side of the fork, mremap and file-mapping workloads, the
 * same loops as workloads_vm.c issued as real syscalls, loads and stores. All of them run
 * in a forked child (host_fork in the table) because they hold up to 1 GiB resident or
 * fork; the COW side forks once more per iteration and the grandchild times its own faults
 * and sends the figure back through a pipe. Never changes host settings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define RW (PROT_READ | PROT_WRITE)

typedef struct hvm_st {
	char     note[BENCH_NOTE_MAX];
	char    *va;		/* the populated memory, or NULL */
	uint64_t len;		/* its length in bytes */
	char    *src, *dst;	/* mremap: the two places the 1 GiB moves between */
	int      fd, kind;	/* file workloads: the open file and BENCH_FILE_* */
	const bench_ctx *b;	/* the clock to read (cow_fault_after_fork, fork_1g) */
} hvm_st;

static long hvm_err(hvm_st *s, const char *call)
{
	int e = errno ? errno : EPROTO;

	snprintf(s->note, sizeof(s->note), "linux %s: %s", call, strerror(e));
	return -e;
}

/* Maps len bytes of anon RW memory (at addr with MAP_FIXED, or anywhere when NULL), asks
 * for 4 KiB pages and writes every page. Returns the address or NULL with s->note set. */
static char *hvm_populate(hvm_st *s, char *addr, uint64_t len)
{
	char *va = mmap(addr, len, RW, MAP_PRIVATE | MAP_ANONYMOUS | (addr ? MAP_FIXED : 0), -1,
			0);

	if (va == MAP_FAILED) {
		hvm_err(s, "mmap");
		return NULL;
	}
	if (madvise(va, len, MADV_NOHUGEPAGE) || madvise(va, len, MADV_POPULATE_WRITE)) {
		hvm_err(s, "madvise");
		return NULL;
	}
	return va;
}

static void touch_pages(char *va, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += BENCH_PAGE)
		*(volatile char *)(va + off) = 1;
}

/* ---- cow_fault_after_fork: the grandchild times its COW faults ---- */

static long it_cow(void *p, double *secs)
{
	hvm_st *s = p;
	int fds[2], status = 0;
	double t = -1;

	if (pipe(fds))
		return hvm_err(s, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return hvm_err(s, "fork");
	if (pid == 0) {
		double t0 = bench_now(s->b);
		touch_pages(s->va, s->len);
		t = bench_now(s->b) - t0;
		_exit(write(fds[1], &t, sizeof(t)) == sizeof(t) ? 0 : 1);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], &t, sizeof(t));
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != sizeof(t) || t < 0)
		return hvm_err(s, "COW child");
	*secs = t;
	return (long)(s->len / BENCH_PAGE);
}

void host_side_cow_fault(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	hvm_st s = { .len = BENCH_COW_BYTES, .b = b };

	s.va = hvm_populate(&s, NULL, s.len);
	if (!s.va) {
		bench_fail(r, -ENOMEM, "%s", s.note);
		return;
	}
	bench_loop_timed(b, it_cow, &s, s.note, r);
}

/* ---- fork_1g_resident: fork + _exit + waitpid with 1 GiB resident ---- */

/* fork + _exit + wait: one op, timed by the iteration itself so that with --cpu-clock the
 * child's CPU time (its exit tears down the 1 GiB) counts too, as it does in peimm, where
 * the child's exit runs on the timed thread. */
static long it_fork(void *p, double *secs)
{
	hvm_st *s = p;
	int status = 0;
	struct rusage ru;
	double t0 = bench_now(s->b);
	pid_t pid = fork();

	if (pid < 0)
		return hvm_err(s, "fork");
	if (pid == 0)
		_exit(0);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return hvm_err(s, "wait4");
	*secs = bench_now(s->b) - t0;
	if (s->b->cpu_clock)
		*secs += (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
	return 1;
}

void host_side_fork_1g(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	hvm_st s = { .len = BENCH_GIB, .b = b };

	s.va = hvm_populate(&s, NULL, s.len);
	if (!s.va) {
		bench_fail(r, -ENOMEM, "%s", s.note);
		return;
	}
	bench_loop_timed(b, it_fork, &s, s.note, r);
}

/* ---- mremap_move_1g: 1 GiB moved back and forth between src and dst ---- */

static long hvm_mremap(hvm_st *s, char *from, char *to)
{
	void *p = mremap(from, BENCH_GIB, BENCH_GIB, MREMAP_MAYMOVE | MREMAP_FIXED, to);

	return p == to ? 0 : hvm_err(s, "mremap");
}

static long it_mremap(void *p)
{
	hvm_st *s = p;

	if (hvm_mremap(s, s->src, s->dst) || hvm_mremap(s, s->dst, s->src))
		return -EFAULT;
	return 2;
}

/* The same layout as the peimm side: A is the first 1 GiB boundary in a 5 GiB
 * reservation, B = A + 2 GiB, and the row's offsets from each. */
void host_side_mremap_1g(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	hvm_st s = { .len = BENCH_GIB };
	char *res = mmap(NULL, 5 * BENCH_GIB, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (res == MAP_FAILED) {
		bench_fail(r, -errno, "linux mmap(5 GiB reservation): %s", strerror(errno));
		return;
	}
	char *a = (char *)(((uintptr_t)res + BENCH_GIB - 1) & ~(uintptr_t)(BENCH_GIB - 1));
	s.src = a + BENCH_MREMAP_SRC_OFF(w->param);
	s.dst = a + 2 * BENCH_GIB + BENCH_MREMAP_DST_OFF(w->param);
	if (!hvm_populate(&s, s.src, BENCH_GIB)) {
		bench_fail(r, -ENOMEM, "%s", s.note);
		return;
	}
	bench_loop(b, it_mremap, &s, s.note, r);
}

/* ---- mmap2, page_fault2, page_fault3: a 128 MiB file, mapped and unmapped ---- */

static long it_file(void *p)
{
	hvm_st *s = p;
	int flags = s->kind == BENCH_FILE_FAULT_PRIVATE ? MAP_PRIVATE : MAP_SHARED;
	char *va = mmap(NULL, BENCH_MMAP1_BYTES, RW, flags, s->fd, 0);

	if (va == MAP_FAILED)
		return hvm_err(s, "mmap(file)");
	if (s->kind != BENCH_FILE_MMAP_SHARED)
		touch_pages(va, BENCH_MMAP1_BYTES);
	if (munmap(va, BENCH_MMAP1_BYTES))
		return hvm_err(s, "munmap");
	return s->kind == BENCH_FILE_MMAP_SHARED ? 1 : (long)(BENCH_MMAP1_BYTES / BENCH_PAGE);
}

void host_side_file(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	hvm_st s = { .kind = (int)w->param };
	bench_tmpfile f;

	if (bench_tmpfile_create(&f, BENCH_MMAP1_BYTES, r))
		return;
	s.fd = open(f.path, O_RDWR | O_CLOEXEC);
	if (s.fd < 0) {
		bench_fail(r, -errno, "linux open(%s): %s", BENCH_FILE_NAME, strerror(errno));
	} else {
		bench_loop(b, it_file, &s, s.note, r);
		close(s.fd);
	}
	bench_tmpfile_remove(&f);
}

/* ---- malloc1: 128 MiB anon mmap, one page written, munmap ---- */

static long it_malloc1(void *p)
{
	hvm_st *s = p;
	char *va = mmap(NULL, BENCH_MMAP1_BYTES, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (va == MAP_FAILED)
		return hvm_err(s, "mmap");
	touch_pages(va, BENCH_PAGE);
	return munmap(va, BENCH_MMAP1_BYTES) ? hvm_err(s, "munmap") : 1;
}

void host_side_malloc1(const bench_ctx *b, const bench_wl *w, bench_result *r)
{
	hvm_st s = { .len = 0 };

	bench_loop(b, it_malloc1, &s, s.note, r);
}
