/*
 * Helpers for tests that drive the whole library through its public API: a small system
 * with a fixed seed, one process, syscall shorthands, and the closing check every such test
 * ends with (invariants hold, and once the process exits every frame is back).
 */
#ifndef PM_TESTS_PM_TEST_H
#define PM_TESTS_PM_TEST_H

#include <errno.h>
#include <linux/mman.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <signal.h>

#include "check.h"
#include "peimm.h"

#define KiB 1024L
#define MiB (1024L * 1024)
#define PG 4096L

#define USER_TOKEN "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"

struct env {
	pm_system *sys;
	pm_token *tok;
	pm_thread *t;
};

static inline struct env env_open_cfg(const pm_config *cfg)
{
	struct env e = { 0 };
	e.sys = pm_system_create(cfg);
	if (!e.sys) {
		check_failed(__FILE__, __LINE__, "pm_system_create failed");
		exit(1);
	}
	int err = 0;
	e.tok = pm_token_parse(e.sys, USER_TOKEN, &err);
	e.t = pm_spawn(e.sys, e.tok, NULL);
	if (!e.t) {
		check_failed(__FILE__, __LINE__, "pm_spawn failed");
		exit(1);
	}
	return e;
}

static inline struct env env_open(void)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = 42;
	return env_open_cfg(&cfg);
}

/* Checks the invariants, ends every process, and proves every frame came back. */
static inline void env_close(struct env *e)
{
	EXPECT_EQ(pm_check_invariants(e->sys), 0);
	pm_sysinfo info;
	for (int pid = 1; pid < 64; pid++) {
		pm_thread *t = pm_thread_of(e->sys, pid);
		if (t)
			pm_syscall(t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	}
	EXPECT_EQ(pm_check_invariants(e->sys), 0);
	pm_system_info(e->sys, &info);
	EXPECT_EQ(info.free_frames, info.total_frames - info.kernel_frames - info.pool_frames -
				    info.retired_frames);
	pm_token_put(e->tok);
	pm_system_destroy(e->sys);
}

#define SC(t, nr, ...) pm_syscall((t), (nr), __VA_ARGS__)
static inline long do_mmap(pm_thread *t, long addr, long len, long prot, long flags)
{
	return pm_syscall(t, SYS_mmap, addr, len, prot, flags, -1, 0);
}
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

/* Reads a whole /proc view into a static buffer (tests are single-threaded). */
static inline const char *proc_text(pm_thread *t, int pid, const char *name)
{
	static char buf[1 << 20];
	long n = pm_proc_read(t, pid, name, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Counts maps lines that contain `needle`. */
static inline int maps_count(pm_thread *t, const char *needle)
{
	const char *s = proc_text(t, 0, "maps");
	int n = 0;
	for (const char *line = s; *line;) {
		size_t len = strcspn(line, "\n");
		const char *hit = strstr(line, needle);
		if (hit && hit < line + len)
			n++;
		line += len + (line[len] == '\n');
	}
	return n;
}

/* The maps line that starts at addr, or "" (copied into a static buffer). */
static inline const char *maps_line_at(pm_thread *t, uint64_t addr)
{
	static char line[256];
	char key[32];
	snprintf(key, sizeof(key), "%08lx-", (unsigned long)addr);
	const char *s = proc_text(t, 0, "maps");
	const char *p = strstr(s, key);
	line[0] = '\0';
	if (p && (p == s || p[-1] == '\n')) {
		size_t n = strcspn(p, "\n");
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
	}
	return line;
}

static inline long poke(pm_thread *t, uint64_t va, uint8_t v)
{
	return pm_access(t, va, &v, 1, PM_WRITE, NULL);
}

static inline int peek(pm_thread *t, uint64_t va)
{
	uint8_t v;
	long r = pm_access(t, va, &v, 1, PM_READ, NULL);
	return r < 0 ? (int)r : v;
}

/* The number after `name` in a /proc view (its first occurrence), or -1: the system views
 * meminfo and vmstat, or t's own view of that name. */
static inline long view_field(pm_thread *t, const char *view, const char *name)
{
	int sysview = !strcmp(view, "meminfo") || !strcmp(view, "vmstat");
	const char *s = strstr(proc_text(t, sysview ? -1 : 0, view), name);
	return s ? strtol(s + strlen(name), NULL, 10) : -1;
}

/* How many of the pages at va mincore reports resident (pages <= 4096). */
static inline long mincore_resident(pm_thread *t, long va, int pages)
{
	long vec = do_mmap(t, 0, PG, RW, ANON);
	EXPECT_EQ(SC(t, SYS_mincore, va, pages * PG, vec, 0, 0, 0), 0);
	long n = 0;
	for (int i = 0; i < pages; i++)
		n += peek(t, (uint64_t)vec + (uint64_t)i) & 1;
	EXPECT_EQ(SC(t, SYS_munmap, vec, PG, 0, 0, 0, 0), 0);
	return n;
}

#endif
