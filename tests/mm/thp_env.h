/*
 * Helpers for the THP tests (docs/thp.md): a system with a SYSTEM process that sets the
 * Thp* registry values, 2 MiB-aligned anonymous areas, ranges filled and checked byte by
 * byte, and readers for smaps, meminfo, vmstat and /sys/kernel/mm/transparent_hugepage.
 */
#ifndef PM_TESTS_THP_ENV_H
#define PM_TESTS_THP_ENV_H

#include <stdio.h>
#include <string.h>

#include "proc/proc_test.h"

#define HP (2 * MiB)
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED 2
#endif

struct tenv {
	struct env e;
	pm_token *sys_tok;
	pm_thread *admin;	/* a SYSTEM process: writes the registry, reads the views */
};

static inline struct tenv tenv_open_cfg(pm_config *cfg)
{
	struct tenv k = { .e = env_open_cfg(cfg) };
	int err = 0;
	k.sys_tok = pm_token_parse(k.e.sys, "system", &err);
	k.admin = pm_spawn(k.e.sys, k.sys_tok, NULL);
	return k;
}

static inline struct tenv tenv_open(void)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = 42;
	return tenv_open_cfg(&cfg);
}

static inline void tenv_close(struct tenv *k)
{
	pm_token_put(k->sys_tok);
	env_close(&k->e);
}

/* An anonymous private area of n huge pages starting on a 2 MiB boundary (the mapping
 * is one page larger at each end, so the VMA holds whole blocks only where asked). */
static inline long thp_area(pm_thread *t, int n)
{
	long a = do_mmap(t, 0, (n + 1) * HP, RW, ANON);
	if (a < 0)
		return a;
	long b = (a + HP - 1) & ~(HP - 1);
	if (b > a)
		SC(t, SYS_munmap, a, b - a, 0, 0, 0, 0);
	SC(t, SYS_munmap, b + n * HP, a + (n + 1) * HP - (b + n * HP), 0, 0, 0, 0);
	return b;
}

static inline uint8_t pat(long off, int salt) { return (uint8_t)(off * 7 + (off >> 12) * 13 + salt); }

/* Writes the pattern over [va, va+len) (len a multiple of 4 KiB). */
static inline void fill(pm_thread *t, long va, long len, int salt)
{
	static uint8_t page[PG];
	for (long o = 0; o < len; o += PG) {
		for (long b = 0; b < PG; b++)
			page[b] = pat(o + b, salt);
		EXPECT_EQ(pm_access(t, va + o, page, PG, PM_WRITE, NULL), PG);
	}
}

/* Bytes of [va, va+len) that differ from the pattern (or from zero inside [z0, z1)). */
static inline long mismatches(pm_thread *t, long va, long len, int salt, long z0, long z1)
{
	static uint8_t page[PG];
	long bad = 0;
	for (long o = 0; o < len; o += PG) {
		if (pm_access(t, va + o, page, PG, PM_READ, NULL) != PG)
			return -1;
		for (long b = 0; b < PG; b++) {
			uint8_t want = (o + b >= z0 && o + b < z1) ? 0 : pat(o + b, salt);
			bad += page[b] != want;
		}
	}
	return bad;
}

static inline long meminfo_kb(pm_thread *t, const char *field)
{
	return field_of(proc_text(t, -1, "meminfo"), field);	/* never the first line */
}

/* A /proc/vmstat counter ("name value" lines). */
static inline long vmstat(pm_thread *t, const char *name)
{
	char key[64];
	const char *s = proc_text(t, -1, "vmstat");
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *p = strstr(s, key);	/* every thp_* line has one before it */
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* A file of /sys/kernel/mm/transparent_hugepage as text. */
static inline const char *thp_sys(struct tenv *k, const char *name)
{
	static char buf[256];
	char path[128];
	snprintf(path, sizeof(path), "sys/kernel/mm/transparent_hugepage/%s", name);
	long n = pm_proc_read(k->admin, -1, path, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static inline long thp_sys_val(struct tenv *k, const char *name)
{
	return strtol(thp_sys(k, name), NULL, 10);
}

/* Fills memory with 4 KiB pages (never huge, never charged: MAP_NORESERVE) until fewer
 * than 400 frames are free, so no order-9 block is left. Returns the hog's address. */
static inline long hog_memory(struct tenv *k, pm_thread *t, long bytes)
{
	long hog = do_mmap(t, 0, bytes, RW, ANON | MAP_NORESERVE);
	EXPECT_TRUE(hog > 0);
	EXPECT_EQ(SC(t, SYS_madvise, hog, bytes, MADV_NOHUGEPAGE, 0, 0, 0), 0);
	pm_sysinfo info;
	long used = 0;
	for (pm_system_info(k->e.sys, &info); hog > 0 && info.free_frames >= 400 &&
	     used < bytes / PG; pm_system_info(k->e.sys, &info))
		if (poke(t, hog + (used++) * PG, 1) != 1)
			break;
	EXPECT_TRUE(info.free_frames < 400);
	return hog;
}

static inline long thp_mode(struct tenv *k, long v)
{
	return pm_registry_set(k->admin, "ThpEnabled", v);
}

#endif
