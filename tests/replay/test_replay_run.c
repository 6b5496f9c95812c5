/*
 * Replaying crafted traces (tools/peimm/replay_run.c and friends): recorded addresses land
 * in the translated peimm mappings (MAP_FIXED into a recorded region, munmap of a recorded
 * address, brk from the recorded initial break, an image found from ld.so's RELRO call),
 * outcomes are compared, Peios policy denials are classified, threads share and forks copy
 * the translation, and execve follows the record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "replay.h"

static int replay(rp_trace *tr, rp_run *r, const char *text, int dynamic_code)
{
	rp_opts o = { .dynamic_code = dynamic_code, .maps = 1 };
	memset(tr, 0, sizeof(*tr));
	tr->file = "t.trace";
	if (rp_parse_string(tr, text)) {
		check_failed(__FILE__, __LINE__, "parse: %s", tr->err);
		return -1;
	}
	return rp_run_trace(r, tr, &o);
}

static void done(rp_trace *tr, rp_run *r)
{
	EXPECT_EQ(pm_check_invariants(r->sys), 0);
	rp_run_free(r);
	rp_trace_free(tr);
}

/* Does proc i's final maps have a line "lo-hi perms"? */
static int has_map(const rp_run *r, size_t i, uint64_t lo, uint64_t hi, const char *perms)
{
	char want[80];
	snprintf(want, sizeof(want), "%08llx-%08llx %s", (unsigned long long)lo,
		 (unsigned long long)hi, perms);
	return i < r->nprocs && r->procs[i]->maps && strstr(r->procs[i]->maps, want) != NULL;
}

/* Does any line of proc i's final maps start at lo? */
static int starts_at(const rp_run *r, size_t i, uint64_t lo)
{
	char want[40];
	snprintf(want, sizeof(want), "\n%08llx-", (unsigned long long)lo);
	return i < r->nprocs && r->procs[i]->maps && strstr(r->procs[i]->maps, want) != NULL;
}

static uint64_t pm_of(rp_run *r, size_t i, uint64_t rec)
{
	uint64_t pm = 0;
	const rp_region *hit;
	if (rp_space_lookup(r->procs[i]->space, rec, &pm, &hit) != RP_TR_OK)
		check_failed(__FILE__, __LINE__, "%#llx does not translate", (unsigned long long)rec);
	return pm;
}

#define ANON "MAP_PRIVATE|MAP_ANONYMOUS"

TEST(map_fixed_into_a_recorded_region_lands_in_its_translation)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r,
		"1 mmap(NULL, 12288, PROT_READ|PROT_WRITE, " ANON ", -1, 0) = 0x7f1234560000\n"
		"1 mmap(0x7f1234561000, 4096, PROT_READ, " ANON "|MAP_FIXED, -1, 0) = 0x7f1234561000\n", 0), 0);
	uint64_t p = pm_of(&r, 0, 0x7f1234560000);
	EXPECT_EQ(pm_of(&r, 0, 0x7f1234561000), p + 0x1000);
	EXPECT_TRUE(has_map(&r, 0, p + 0x1000, p + 0x2000, "r--p"));
	EXPECT_TRUE(has_map(&r, 0, p + 0x2000, p + 0x3000, "rw-p"));
	EXPECT_EQ(r.procs[0]->replayed, 2);
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	done(&tr, &r);
}

TEST(munmap_of_a_recorded_address_unmaps_its_translation)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r,
		"1 mmap(NULL, 12288, PROT_READ|PROT_WRITE, " ANON ", -1, 0) = 0x7f1234560000\n"
		"1 mprotect(0x7f1234560000, 4096, PROT_READ) = 0\n"
		"1 munmap(0x7f1234561000, 4096) = 0\n"
		"1 mprotect(0x7f1234561000, 4096, PROT_READ) = -1 ENOMEM (Cannot allocate memory)\n", 0), 0);
	uint64_t p = pm_of(&r, 0, 0x7f1234560000);
	EXPECT_TRUE(has_map(&r, 0, p, p + 0x1000, "r--p"));
	EXPECT_TRUE(has_map(&r, 0, p + 0x2000, p + 0x3000, "rw-p"));
	EXPECT_TRUE(!starts_at(&r, 0, p + 0x1000));
	EXPECT_EQ(r.procs[0]->replayed, 4);
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	done(&tr, &r);
}

TEST(brk_translates_from_the_recorded_initial_break)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r,
		"1 brk(NULL) = 0x2a808000\n"
		"1 brk(0x2a829000) = 0x2a829000\n"
		"1 mprotect(0x2a810000, 4096, PROT_READ) = 0\n"
		"1 brk(0x2a808000) = 0x2a808000\n", 0), 0);
	rp_space *s = r.procs[0]->space;
	EXPECT_EQ(s->rec_brk0, 0x2a808000);
	EXPECT_EQ(r.procs[0]->replayed, 4);
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	EXPECT_EQ(rp_total(&r, RP_F_NOTE), 0);
	done(&tr, &r);
}

TEST(a_different_outcome_is_a_divergence_with_both_results)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r,
		"1 mmap(NULL, 4096, PROT_READ, " ANON ", -1, 0) = 0x7f0000000000\n"
		"1 munmap(0x7f0000000000, 4096) = -1 EINVAL (Invalid argument)\n", 0), 0);
	REQUIRE_EQ(rp_total(&r, RP_F_DIVERGE), 1);
	EXPECT_EQ(r.f[0].line, 2);
	EXPECT_EQ(r.f[0].rec, -22);
	EXPECT_EQ(r.f[0].pm, 0);
	EXPECT_EQ(r.procs[0]->count[RP_F_DIVERGE], 1);
	done(&tr, &r);
}

static const char wx_trace[] =
	"1 mmap(NULL, 8192, PROT_READ|PROT_WRITE|PROT_EXEC, " ANON ", -1, 0) = 0x7f0000000000\n"
	"1 mprotect(0x7f0000000000, 4096, PROT_READ|PROT_EXEC) = 0\n"
	"1 munmap(0x7f0000000000, 8192) = 0\n"
	"1 mmap(NULL, 4096, PROT_READ|PROT_WRITE, " ANON ", -1, 0) = 0x7f0000100000\n"
	"1 mprotect(0x7f0000100000, 4096, PROT_READ) = 0\n"
	"1 mprotect(0x7f0000100000, 4096, PROT_READ|PROT_EXEC) = 0\n";

TEST(wx_denials_name_the_call_and_their_follow_ons_are_not_divergences)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r, wx_trace, 0), 0);
	EXPECT_EQ(rp_total(&r, RP_F_WX), 2);
	EXPECT_EQ(rp_total(&r, RP_F_FOLLOW), 2);
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	REQUIRE_EQ(r.nf, 4);
	EXPECT_EQ(r.f[0].kind, RP_F_WX);
	EXPECT_EQ(r.f[0].line, 1);
	EXPECT_EQ(r.f[0].pm, -13);
	EXPECT_EQ(r.f[3].kind, RP_F_WX);
	EXPECT_EQ(r.f[3].line, 6);	/* RW -> R -> RX: the write history forbids it */
	done(&tr, &r);
}

TEST(with_dynamic_code_the_jit_pattern_replays_cleanly)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r, wx_trace, 1), 0);
	EXPECT_EQ(r.nf, 0);
	EXPECT_EQ(r.procs[0]->replayed, 6);
	done(&tr, &r);
}

TEST(peios_policy_refusals_are_classified)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r,
		"1 mmap(NULL, 4096, PROT_READ|PROT_WRITE, " ANON "|MAP_UNINITIALIZED, -1, 0) = 0x7f0000000000\n"
		"1 mmap(0x1000, 4096, PROT_READ, " ANON "|MAP_FIXED, -1, 0) = 0x1000\n"
		"1 mmap(NULL, 67108864, PROT_READ|PROT_WRITE, " ANON "|MAP_NORESERVE, -1, 0) = 0x7f1000000000\n"
		"1 mlock(0x7f1000000000, 67108864) = 0\n", 0), 0);
	EXPECT_EQ(rp_total(&r, RP_F_UNINIT), 1);
	EXPECT_EQ(rp_total(&r, RP_F_MINADDR), 1);
	EXPECT_EQ(rp_total(&r, RP_F_MLOCK), 1);
	EXPECT_EQ(rp_total(&r, -1), 3);
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	done(&tr, &r);
}

TEST(threads_share_and_forks_copy_the_translation)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r,
		"10 mmap(NULL, 8192, PROT_READ|PROT_WRITE, " ANON ", -1, 0) = 0x7f0000000000\n"
		"10 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, "
		"exit_signal=0, stack=0x1} <unfinished ...>\n"
		"11 munmap(0x7f0000001000, 4096) = 0\n"
		"10 <... clone3 resumed> => {parent_tid=[11]}, 88) = 11\n"
		"10 fork() = 20\n"
		"20 mprotect(0x7f0000000000, 4096, PROT_READ) = 0\n"
		"10 munmap(0x7f0000000000, 4096) = 0\n"
		"11 exit(0) = ?\n"
		"11 +++ exited with 0 +++\n", 0), 0);
	REQUIRE_EQ(r.nprocs, 2);
	EXPECT_EQ(r.procs[0]->calls, 6);
	EXPECT_EQ(r.procs[1]->pid, 20);
	uint64_t pm;
	const rp_region *hit;
	EXPECT_EQ(rp_space_lookup(r.procs[0]->space, 0x7f0000001000, &pm, &hit), RP_TR_UNKNOWN);
	EXPECT_EQ(rp_space_lookup(r.procs[0]->space, 0x7f0000000000, &pm, &hit), RP_TR_UNKNOWN);
	uint64_t child = pm_of(&r, 1, 0x7f0000000000);
	EXPECT_TRUE(has_map(&r, 1, child, child + 0x1000, "r--p"));
	EXPECT_EQ(r.nf, 0);
	done(&tr, &r);
}

TEST(execve_follows_the_record)
{
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r,
		"1 execve(\"/nonexistent/peimm-replay\", [\"x\"], 0x7ffc /* 0 vars */) = -1 ENOENT (No such file or directory)\n"
		"1 execve(\"/bin/true\", [\"true\", \"--version\"], 0x7ffc /* 0 vars */) = 0\n"
		"1 execve(\"/nonexistent/peimm-replay\", [\"x\"], 0x7ffc /* 0 vars */) = 0\n"
		"1 mmap(NULL, 4096, PROT_READ, " ANON ", -1, 0) = 0x7f0000000000\n", 0), 0);
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	EXPECT_EQ(rp_total(&r, RP_F_NOTE), 1);	/* the program is not on this host */
	EXPECT_STREQ(r.procs[0]->program, "/bin/true");
	EXPECT_EQ(r.procs[0]->replayed, 3);
	EXPECT_EQ(r.procs[0]->skipped, 1);
	EXPECT_TRUE(r.procs[0]->lost);
	done(&tr, &r);
}

TEST(an_image_is_found_from_the_relro_call_of_ld_so)
{
	rp_image img;
	REQUIRE_EQ(rp_elf_read("/bin/true", &img), 0);
	if (!img.dyn || !img.relro_len || !img.interp[0])
		return;	/* a static or non-PIE /bin/true: nothing to infer */
	uint64_t base = 0x555555554000ULL;
	char text[1024];
	snprintf(text, sizeof(text),
		 "1 execve(\"/bin/true\", [\"true\"], 0x7ffc /* 0 vars */) = 0\n"
		 "1 brk(NULL) = %#llx\n"
		 "1 mprotect(%#llx, %llu, PROT_READ) = 0\n",
		 (unsigned long long)(base + img.hi + 0x3000),
		 (unsigned long long)(base + img.relro), (unsigned long long)img.relro_len);
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r, text, 0), 0);
	rp_space *s = r.procs[0]->space;
	EXPECT_EQ(s->img[0].rec_known, 1);
	EXPECT_EQ(s->img[0].rec_base, base);
	EXPECT_EQ(s->img[0].pm_known, 1);
	EXPECT_EQ(r.nf, 0);
	EXPECT_EQ(r.procs[0]->replayed, 3);
	uint64_t pm = pm_of(&r, 0, base + img.relro);
	EXPECT_EQ(pm, s->img[0].pm_base + img.relro);
	done(&tr, &r);
}

TEST(max_map_count_hits_are_classified)
{
	enum { N = 65540 };
	size_t cap = (size_t)N * 112, len = 0;
	char *text = malloc(cap);
	REQUIRE_EQ(text != NULL, 1);
	for (int i = 0; i < N; i++)	/* alternate protections so that nothing merges */
		len += (size_t)snprintf(text + len, cap - len,
			"1 mmap(NULL, 4096, %s, " ANON ", -1, 0) = %#llx\n",
			i % 2 ? "PROT_READ" : "PROT_READ|PROT_WRITE",
			0x7f0000000000ULL + (unsigned long long)i * 0x2000);
	rp_trace tr;
	rp_run r;
	int rc = replay(&tr, &r, text, 0);
	free(text);
	REQUIRE_EQ(rc, 0);
	unsigned hits = rp_total(&r, RP_F_MAPCOUNT);
	EXPECT_TRUE(hits > 0 && hits < 20);	/* the last few, past the limit of 65530 */
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	EXPECT_EQ(r.f[0].kind, RP_F_MAPCOUNT);
	EXPECT_EQ(r.f[0].pm, -12);
	done(&tr, &r);
}

TEST(a_range_over_regions_placed_apart_becomes_one_piece_each)
{
	rp_space *s = rp_space_new();
	rp_piece pc[4];
	const rp_region *dead;
	REQUIRE_EQ(s != NULL, 1);
	EXPECT_EQ(rp_space_set(s, 0x10000, 0x2000, 0x900000), 0);
	EXPECT_EQ(rp_space_set(s, 0x12000, 0x2000, 0x500000), 0);
	EXPECT_EQ(rp_space_range(s, 0x11000, 0x2000, 0, pc, 4, &dead), 2);
	EXPECT_EQ(pc[0].pm, 0x901000);
	EXPECT_EQ(pc[0].len, 0x1000);
	EXPECT_EQ(pc[1].pm, 0x500000);
	EXPECT_EQ(pc[1].len, 0x1000);
	/* a gap is unknown, unless gaps are allowed (munmap) */
	EXPECT_EQ(rp_space_range(s, 0x13000, 0x3000, 0, pc, 4, &dead), RP_TR_UNKNOWN);
	EXPECT_EQ(rp_space_range(s, 0x13000, 0x3000, 1, pc, 4, &dead), 1);
	/* removing the middle splits a region and keeps the tail's offset */
	EXPECT_EQ(rp_space_remove(s, 0x10000, 0x1000), 0);
	EXPECT_EQ(rp_space_remove(s, 0x12000, 0x1000), 0);
	uint64_t pm;
	EXPECT_EQ(rp_space_lookup(s, 0x10000, &pm, &dead), RP_TR_UNKNOWN);
	EXPECT_EQ(rp_space_lookup(s, 0x13fff, &pm, &dead), RP_TR_OK);
	EXPECT_EQ(pm, 0x501fff);
	/* a refused region is dead: a range touching it says so */
	EXPECT_EQ(rp_space_dead(s, 0x20000, 0x1000, 7, 1), 0);
	EXPECT_EQ(rp_space_range(s, 0x20000, 0x1000, 1, pc, 4, &dead), RP_TR_DEAD);
	EXPECT_EQ(dead->dead, 7);
	rp_space_put(s);
}

TEST(descriptors_follow_dups_and_writes_never_touch_the_host)
{
	char never[64];
	snprintf(never, sizeof(never), "/tmp/peimm-replay-never-%d", (int)getpid());
	char text[2048];
	snprintf(text, sizeof(text),
		"1 openat(AT_FDCWD, \"/bin/true\", O_RDONLY|O_CLOEXEC) = 3\n"
		"1 dup2(3, 10) = 10\n"
		"1 close(3) = 0\n"
		"1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 10, 0) = 0x7f0000000000\n"
		"1 close(10) = 0\n"
		"1 close(10) = -1 EBADF (Bad file descriptor)\n"
		"1 openat(AT_FDCWD, \"%s\", O_RDWR|O_CREAT|O_TRUNC, 0644) = 4\n"
		"1 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 4, 0) = 0x7f0000100000\n"
		"1 openat(AT_FDCWD, \"/nonexistent/peimm\", O_RDONLY) = 5\n"
		"1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 5, 0) = 0x7f0000200000\n", never);
	rp_trace tr;
	rp_run r;
	REQUIRE_EQ(replay(&tr, &r, text, 0), 0);
	EXPECT_EQ(access(never, F_OK), -1);	/* the open for writing became a memfd */
	EXPECT_EQ(rp_total(&r, RP_F_DIVERGE), 0);
	EXPECT_EQ(rp_total(&r, RP_F_NOTE), 2);	/* the missing file, and the mmap of it */
	uint64_t p = pm_of(&r, 0, 0x7f0000000000);
	EXPECT_TRUE(has_map(&r, 0, p, p + 0x1000, "r--p"));
	uint64_t q = pm_of(&r, 0, 0x7f0000100000);
	EXPECT_TRUE(has_map(&r, 0, q, q + 0x2000, "rw-s"));
	done(&tr, &r);
}
