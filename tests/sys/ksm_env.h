/*
 * Helpers for the KSM tests (SPEC §6, docs/ksm.md): a system with a SYSTEM process that
 * sets the Ksm* registry values, ranges filled page by page with known bytes, and readers
 * for the /sys/kernel/mm/ksm counters, status, smaps and ksm_stat.
 */
#ifndef PM_TESTS_KSM_ENV_H
#define PM_TESTS_KSM_ENV_H

#include <stdio.h>
#include <string.h>

#include "pm_test.h"

#define RA	0x10000000L	/* first test range */
#define RB	0x20000000L	/* second test range */

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

struct kenv {
	struct env e;
	pm_token *sys_tok;
	pm_thread *admin;	/* a SYSTEM process: the only writer of KsmRun */
};

/* ksmd scans everything in one batch per tick unless told otherwise. */
static inline struct kenv kenv_open(uint64_t seed)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = seed;
	struct kenv k = { .e = env_open_cfg(&cfg) };
	int err = 0;
	k.sys_tok = pm_token_parse(k.e.sys, "system", &err);
	k.admin = pm_spawn(k.e.sys, k.sys_tok, NULL);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmSleepMillisecs", 1), 0);
	EXPECT_EQ(pm_registry_set(k.admin, "KsmPagesToScan", 100000), 0);
	return k;
}

static inline void kenv_close(struct kenv *k)
{
	pm_token_put(k->sys_tok);
	env_close(&k->e);
}

/* A /sys/kernel/mm/ksm file as a number. */
static inline long ksm_val(struct kenv *k, const char *name)
{
	char path[128], buf[64];
	snprintf(path, sizeof(path), "sys/kernel/mm/ksm/%s", name);
	long n = pm_proc_read(k->admin, -1, path, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static inline uint64_t free_frames(pm_system *sys)
{
	pm_sysinfo info;
	pm_system_info(sys, &info);
	return info.free_frames;
}

/* Maps n private anonymous pages at addr, fills page i with byte b(i) = base + i*step,
 * and advises them MERGEABLE when asked. */
static inline void map_filled(pm_thread *t, long addr, int n, int base, int step, int merge)
{
	static uint8_t page[PG];
	EXPECT_EQ(do_mmap(t, addr, n * PG, RW, ANON | MAP_FIXED), addr);
	for (int i = 0; i < n; i++) {
		memset(page, (uint8_t)(base + i * step), PG);
		EXPECT_EQ(pm_access(t, addr + i * PG, page, PG, PM_WRITE, NULL), PG);
	}
	if (merge)
		EXPECT_EQ(SC(t, SYS_madvise, addr, n * PG, MADV_MERGEABLE, 0, 0, 0), 0);
}

/* Does every byte of page i of [addr, ...) read as b? */
static inline int page_is(pm_thread *t, long addr, int i, int b)
{
	static uint8_t page[PG];
	if (pm_access(t, addr + i * PG, page, PG, PM_READ, NULL) != PG)
		return 0;
	for (long j = 0; j < PG; j++)
		if (page[j] != (uint8_t)b)
			return 0;
	return 1;
}

/* A "Name:  value" field of a view's text, from `from` on (e.g. status RssAnon in kB). */
static inline long text_field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static inline long status_field(pm_thread *t, int pid, const char *name)
{
	return text_field(proc_text(t, pid, "status"), name);
}

/* The smaps block of the VMA starting at addr, copied into a static buffer. */
static inline const char *smaps_block(pm_thread *t, int pid, long addr)
{
	static char block[4096];
	char key[32];
	snprintf(key, sizeof(key), "%08lx-", (unsigned long)addr);
	const char *s = proc_text(t, pid, "smaps");
	const char *p = strstr(s, key);
	block[0] = '\0';
	if (!p)
		return block;
	const char *end = strstr(p, "VmFlags:");
	end = end ? end + strcspn(end, "\n") : p + strlen(p);
	snprintf(block, sizeof(block), "%.*s", (int)(end - p < 4000 ? end - p : 4000), p);
	return block;
}

/* Does the VmFlags line of the VMA at addr carry " mg" (VM_MERGEABLE)? */
static inline int vma_mergeable(pm_thread *t, int pid, long addr)
{
	const char *b = smaps_block(t, pid, addr);
	const char *f = strstr(b, "VmFlags:");
	return f && strstr(f, " mg") != NULL;
}

#endif
