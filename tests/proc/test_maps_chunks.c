/*
 * Reading maps and smaps in chunks, as cat(1) does: the pieces join up to exactly one full
 * read, a change to the address space between two chunks shows up in the next chunk (the
 * reader's continuation cache is only reused while nothing changed), and another process's
 * view, or the other view, is never mixed in.
 */
#include "pm_test.h"

#define W 0x200000000000L

static size_t read_view_chunked(pm_thread *t, int pid, const char *view, char *out, size_t cap,
				size_t chunk)
{
	size_t off = 0;
	long n;
	while (off < cap && (n = pm_proc_read(t, pid, view, out + off,
					      chunk < cap - off ? chunk : cap - off, off)) > 0)
		off += (size_t)n;
	out[off] = '\0';
	return off;
}

static size_t read_chunked(pm_thread *t, int pid, char *out, size_t cap, size_t chunk)
{
	return read_view_chunked(t, pid, "maps", out, cap, chunk);
}

TEST(maps_read_in_small_chunks_equals_one_full_read)
{
	struct env e = env_open();
	for (long i = 0; i < 300; i++)
		do_mmap(e.t, W + i * 2 * PG, PG, i % 2 ? PROT_READ : RW, ANON | MAP_FIXED);
	static char whole[1 << 16], pieces[1 << 16];
	long n = pm_proc_read(e.t, 0, "maps", whole, sizeof(whole) - 1, 0);
	REQUIRE_EQ(n > 0, 1);
	whole[n] = '\0';
	EXPECT_EQ(read_chunked(e.t, 0, pieces, sizeof(pieces) - 1, 100), (size_t)n);
	EXPECT_STREQ(pieces, whole);
	env_close(&e);
}

TEST(a_change_between_chunks_is_seen_by_the_next_chunk)
{
	struct env e = env_open();
	for (long i = 0; i < 100; i++)
		do_mmap(e.t, W + i * 2 * PG, PG, RW, ANON | MAP_FIXED);
	static char a[1 << 15], b[1 << 15];
	long n = pm_proc_read(e.t, 0, "maps", a, 200, 0);
	REQUIRE_EQ(n, 200);
	/* Replace every line with a wider one: the tail must come from the new layout. */
	for (long i = 0; i < 100; i++)
		do_mmap(e.t, W + i * 2 * PG, PG, PROT_READ, ANON | MAP_FIXED);
	EXPECT_EQ(SC(e.t, SYS_munmap, W + 10 * 2 * PG, PG, 0, 0, 0, 0), 0);
	long m = pm_proc_read(e.t, 0, "maps", a + 200, sizeof(a) - 201, 200);
	REQUIRE_EQ(m > 0, 1);
	a[200 + m] = '\0';
	long full = pm_proc_read(e.t, 0, "maps", b, sizeof(b) - 1, 0);
	b[full] = '\0';
	EXPECT_STREQ(a + 200, b + 200);	/* the continuation is today's view, not a stale one */
	env_close(&e);
}

TEST(chunks_of_two_processes_never_mix)
{
	struct env e = env_open();
	pm_thread *other = pm_spawn(e.sys, e.tok, NULL);
	REQUIRE_EQ(other != NULL, 1);
	for (long i = 0; i < 50; i++)
		do_mmap(other, W + i * 2 * PG, PG, RW, ANON | MAP_FIXED);
	static char mine[1 << 15], theirs[1 << 15], want[1 << 15];
	long n = pm_proc_read(e.t, 0, "maps", mine, 100, 0);
	REQUIRE_EQ(n, 100);
	long m = pm_proc_read(e.t, pm_pid(other), "maps", theirs + 100, sizeof(theirs) - 101, 100);
	REQUIRE_EQ(m > 0, 1);
	theirs[100 + m] = '\0';
	long w = pm_proc_read(e.t, pm_pid(other), "maps", want, sizeof(want) - 1, 0);
	want[w] = '\0';
	EXPECT_STREQ(theirs + 100, want + 100);
	env_close(&e);
}

TEST(smaps_read_in_small_chunks_equals_one_full_read)
{
	struct env e = env_open();
	for (long i = 0; i < 200; i++) {
		do_mmap(e.t, W + i * 2 * PG, PG, i % 2 ? PROT_READ : RW, ANON | MAP_FIXED);
		if (!(i % 2))
			poke(e.t, W + i * 2 * PG, (uint8_t)i);	/* Rss differs line to line */
	}
	static char whole[1 << 19], pieces[1 << 19];
	long n = pm_proc_read(e.t, 0, "smaps", whole, sizeof(whole) - 1, 0);
	REQUIRE_EQ(n > 0 && n < (long)sizeof(whole) - 1, 1);
	whole[n] = '\0';
	EXPECT_EQ(read_view_chunked(e.t, 0, "smaps", pieces, sizeof(pieces) - 1, 333), (size_t)n);
	EXPECT_STREQ(pieces, whole);
	env_close(&e);
}

TEST(an_smaps_continuation_sees_a_change_between_chunks)
{
	struct env e = env_open();
	for (long i = 0; i < 40; i++)
		do_mmap(e.t, W + i * 2 * PG, PG, RW, ANON | MAP_FIXED);
	static char a[1 << 17], b[1 << 17];
	long n = pm_proc_read(e.t, 0, "smaps", a, 300, 0);
	REQUIRE_EQ(n, 300);
	for (long i = 0; i < 40; i++)
		do_mmap(e.t, W + i * 2 * PG, 2 * PG, PROT_READ, ANON | MAP_FIXED);
	long m = pm_proc_read(e.t, 0, "smaps", a + 300, sizeof(a) - 301, 300);
	REQUIRE_EQ(m > 0, 1);
	a[300 + m] = '\0';
	long full = pm_proc_read(e.t, 0, "smaps", b, sizeof(b) - 1, 0);
	b[full] = '\0';
	EXPECT_STREQ(a + 300, b + 300);
	env_close(&e);
}

TEST(a_maps_chunk_never_continues_an_smaps_read)
{
	struct env e = env_open();
	for (long i = 0; i < 60; i++)
		do_mmap(e.t, W + i * 2 * PG, PG, RW, ANON | MAP_FIXED);
	static char s[1 << 17], m[1 << 16], want[1 << 16];
	REQUIRE_EQ(pm_proc_read(e.t, 0, "smaps", s, 500, 0), 500);
	long n = pm_proc_read(e.t, 0, "maps", m + 500, sizeof(m) - 501, 500);
	REQUIRE_EQ(n > 0, 1);
	m[500 + n] = '\0';
	long w = pm_proc_read(e.t, 0, "maps", want, sizeof(want) - 1, 0);
	want[w] = '\0';
	EXPECT_STREQ(m + 500, want + 500);
	env_close(&e);
}
