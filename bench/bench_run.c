/*
 * peimm bench: timing. Owns the one loop that measures every side of every workload
 * (warm-up, then batches of iterations between CLOCK_MONOTONIC reads) and the fork+pipe
 * wrapper for host sides that would disturb this process. --cpu-clock reads the thread's
 * CPU clock instead. Knows nothing about what a
 * workload does; never asserts anything about the figures (STYLE §3.9: timing is
 * reported, not tested).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double bench_now(const bench_ctx *b)
{
	struct timespec ts;

	clock_gettime(b->cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long bench_fail(bench_result *r, long err, const char *fmt, ...)
{
	va_list ap;

	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
	return err;
}

/* Records an iteration's error in r, with the side's own note when it wrote one. */
static void loop_failed(bench_result *r, long n, const char *note)
{
	r->err = n;
	if (note && note[0])
		snprintf(r->note, sizeof(r->note), "%s", note);
	else
		snprintf(r->note, sizeof(r->note), "iteration failed: %ld", n);
}

/* Warm-up: calls iter for b->warmup seconds (at least once). Returns how many calls fit
 * in one millisecond (at least 1), the batch between clock reads, or 0 on failure. */
static uint64_t loop_warmup(const bench_ctx *b, bench_iter_fn iter, void *state,
			    const char *note, bench_result *r)
{
	double t0 = bench_now(b), t;
	uint64_t calls = 0;

	do {
		long n = iter(state);
		if (n < 0) {
			loop_failed(r, n, note);
			return 0;
		}
		calls++;
		t = bench_now(b);
	} while (t - t0 < b->warmup);
	double per_ms = (double)calls / ((t - t0) * 1000.0);
	return per_ms < 1.0 ? 1 : (uint64_t)per_ms;
}

void bench_loop(const bench_ctx *b, bench_iter_fn iter, void *state, const char *note,
		bench_result *r)
{
	uint64_t batch = loop_warmup(b, iter, state, note, r), ops = 0;
	double start, t;

	if (!batch)
		return;
	start = bench_now(b);
	do {
		for (uint64_t i = 0; i < batch; i++) {
			long n = iter(state);
			if (n < 0) {
				loop_failed(r, n, note);
				return;
			}
			ops += (uint64_t)n;
		}
		t = bench_now(b);
	} while (t - start < b->seconds);
	r->ops = ops;
	r->secs = t - start;
}

void bench_loop_timed(const bench_ctx *b, bench_timed_fn iter, void *state, const char *note,
		      bench_result *r)
{
	double start = bench_now(b), counted = 0, s = 0;
	uint64_t ops = 0;
	long n = iter(state, &s);	/* warm-up, not counted */

	if (n < 0) {
		loop_failed(r, n, note);
		return;
	}
	do {
		n = iter(state, &s);
		if (n < 0) {
			loop_failed(r, n, note);
			return;
		}
		ops += (uint64_t)n;
		counted += s;
	} while (counted < b->seconds && bench_now(b) - start < 20 * b->seconds + 5);
	r->ops = ops;
	r->secs = counted;
}

/* Reads exactly len bytes from fd; returns 0, or -1 on a short read. */
static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The child's half: runs the side and writes its result to fd. Never returns. */
static void child_run(const bench_ctx *b, const bench_wl *w, bench_side_fn side, int fd)
{
	bench_result r;
	const char *p = (const char *)&r;
	size_t left = sizeof(r);

	memset(&r, 0, sizeof(r));
	side(b, w, &r);
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		p += n;
		left -= (size_t)n;
	}
	_exit(0);
}

void bench_in_child(const bench_ctx *b, const bench_wl *w, bench_side_fn side,
		    bench_result *r)
{
	int fds[2], status = 0;

	fflush(NULL);
	if (pipe(fds) < 0) {
		bench_fail(r, -errno, "pipe: %s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		bench_fail(r, -errno, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		child_run(b, w, side, fds[1]);
	}
	close(fds[1]);
	int got = read_full(fds[0], r, sizeof(*r));
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < 0)
		bench_fail(r, -ECHILD, "host child died (wait status 0x%x)", status);
}
