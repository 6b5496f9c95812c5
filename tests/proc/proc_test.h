/*
 * Helpers for the /proc view tests: pick one VMA's entry out of smaps by its start
 * address and read a field of it, read a pagemap entry, and write clear_refs.
 */
#ifndef PM_TESTS_PROC_TEST_H
#define PM_TESTS_PROC_TEST_H

#include <stdio.h>
#include <string.h>

#include "../pm_test.h"

/* The smaps entry (header to VmFlags line) of the VMA starting at addr, in a static
 * buffer; "" when there is none. view is "smaps" or "smaps_rollup". */
static inline const char *smaps_entry(pm_thread *t, int pid, uint64_t addr)
{
	static char entry[4096];
	char key[32];
	snprintf(key, sizeof(key), "%08lx-", (unsigned long)addr);
	const char *s = proc_text(t, pid, "smaps");
	const char *p = strstr(s, key);
	while (p && p != s && p[-1] != '\n')
		p = strstr(p + 1, key);
	entry[0] = '\0';
	if (!p)
		return entry;
	const char *end = strstr(p, "VmFlags:");
	end = end ? strchr(end, '\n') : NULL;
	size_t n = end ? (size_t)(end - p + 1) : strlen(p);
	if (n >= sizeof(entry))
		n = sizeof(entry) - 1;
	memcpy(entry, p, n);
	entry[n] = '\0';
	return entry;
}

/* The number in "<field>: <n> kB" (or "<field>: <n>") of text, or -1 when absent. */
static inline long field_of(const char *text, const char *field)
{
	char key[64];
	snprintf(key, sizeof(key), "\n%s:", field);
	const char *p = strstr(text, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* One smaps field of the VMA starting at addr in the caller's own process, in kB. */
static inline long smaps_kb(pm_thread *t, uint64_t addr, const char *field)
{
	return field_of(smaps_entry(t, 0, addr), field);
}

/* The VmFlags codes of the VMA at addr ("rd wr mr mw me ac "), or "". */
static inline const char *vmflags_at(pm_thread *t, int pid, uint64_t addr)
{
	static char flags[128];
	const char *p = strstr(smaps_entry(t, pid, addr), "VmFlags: ");
	flags[0] = '\0';
	if (p) {
		p += strlen("VmFlags: ");
		size_t n = strcspn(p, "\n");
		snprintf(flags, sizeof(flags), "%.*s", (int)n, p);
	}
	return flags;
}

/* The pagemap entry of va in pid as reader sees it (0 when the read fails). */
static inline uint64_t pagemap_at(pm_thread *reader, int pid, uint64_t va)
{
	uint64_t e = 0;
	long n = pm_proc_read(reader, pid, "pagemap", &e, 8, (va / 4096) * 8);
	return n == 8 ? e : 0;
}

static inline long clear_refs(pm_thread *t, const char *what)
{
	return pm_proc_write(t, 0, "clear_refs", what, strlen(what));
}

#define PM_E_PRESENT	(1ULL << 63)
#define PM_E_SWAP	(1ULL << 62)
#define PM_E_FILE	(1ULL << 61)
#define PM_E_EXCL	(1ULL << 56)
#define PM_E_SOFTDIRTY	(1ULL << 55)
#define PM_E_PFN	((1ULL << 55) - 1)

#endif
