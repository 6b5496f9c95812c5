/*
 * The fuzz target on every make check: seeded random inputs (and any saved inputs in
 * tests/fuzz/corpus/) through pm_fuzz_one, which aborts on a broken invariant or a leaked
 * frame. PEIMM_FUZZ_SEED and PEIMM_FUZZ_N widen a run; a failing input is printed as hex so
 * it can be saved into the corpus and replayed under libFuzzer (make fuzz).
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "fuzz_syscalls.h"

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Which input is running, for the abort handler: pm_fuzz_one aborts on a failure. */
static char current[640];

static void on_abort(int sig)
{
	if (write(2, current, strlen(current)) < 0)
		_exit(128 + sig);
	_exit(128 + sig);
}

static void watch_aborts(void)
{
	signal(SIGABRT, on_abort);
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 0) : dflt;
}

/* 300 random inputs of 64..4159 bytes: up to a few hundred calls each, across forked
 * processes. */
TEST(random_inputs_keep_invariants_and_return_every_frame)
{
	uint64_t seed = (uint64_t)env_long("PEIMM_FUZZ_SEED", 4242);
	long n = env_long("PEIMM_FUZZ_N", 300);
	static uint8_t buf[4160];
	watch_aborts();
	for (long i = 0; i < n; i++) {
		uint64_t s = seed + (uint64_t)i;
		size_t len = 64 + splitmix(&s) % 4096;
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)splitmix(&s);
		snprintf(current, sizeof(current), "failing input: rerun with PEIMM_FUZZ_SEED=%llu "
			 "PEIMM_FUZZ_N=1\n", (unsigned long long)(seed + (uint64_t)i));
		pm_fuzz_one(buf, len);
	}
}

/* Saved inputs (crashes once found, kept as regression tests) replay cleanly. */
TEST(saved_corpus_inputs_replay_cleanly)
{
	const char *dir = PEIMM_SOURCE_DIR "/tests/fuzz/corpus";
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static uint8_t in[1 << 16];
		size_t len = fread(in, 1, sizeof(in), f);
		fclose(f);
		snprintf(current, sizeof(current), "failing corpus input: %s\n", path);
		watch_aborts();
		pm_fuzz_one(in, len);
	}
	closedir(d);
}
