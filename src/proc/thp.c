/*
 * /sys/kernel/mm/transparent_hugepage: the mode files with the chosen value in brackets
 * (enabled_show, defrag_show), hpage_pmd_size, and khugepaged's knobs and counters. It
 * only formats a snapshot; it never reads live state.
 */
#include "proc/thp.h"

#include <errno.h>
#include <string.h>

#include "mm/mm.h"

/* "a [b] c": every choice, the current one in brackets. */
static void choices(struct strbuf *sb, const char *const *names, int n, int cur)
{
	for (int i = 0; i < n; i++) {
		if (i)
			sb_putc(sb, ' ');
		if (i == cur)
			sb_printf(sb, "[%s]", names[i]);
		else
			sb_puts(sb, names[i]);
	}
	sb_putc(sb, '\n');
}

int proc_render_thp(const struct proc_thp_view *v, const char *name, struct strbuf *sb)
{
	static const char *const enabled[] = { "always", "madvise", "never" };
	static const char *const defrag[] = { "always", "defer", "defer+madvise", "madvise", "never" };
	static const char kh[] = "khugepaged/";
	if (!strcmp(name, "enabled")) {
		choices(sb, enabled, 3, v->enabled);
		return 0;
	}
	if (!strcmp(name, "defrag")) {
		choices(sb, defrag, 5, v->defrag);
		return 0;
	}
	if (!strcmp(name, "hpage_pmd_size")) {
		sb_printf(sb, "%lu\n", (unsigned long)PMD_SIZE);
		return 0;
	}
	if (strncmp(name, kh, sizeof(kh) - 1))
		return -ENOENT;
	name += sizeof(kh) - 1;
	const struct { const char *name; uint64_t val; } files[] = {
		{ "pages_to_scan", v->pages_to_scan },
		{ "scan_sleep_millisecs", v->scan_sleep_millisecs },
		{ "full_scans", v->full_scans },
		{ "pages_collapsed", v->pages_collapsed },
		{ "max_ptes_none", THP_MAX_PTES_NONE },
		{ "max_ptes_swap", THP_MAX_PTES_SWAP },
		{ "max_ptes_shared", THP_MAX_PTES_SHARED },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(name, files[i].name)) {
			sb_printf(sb, "%lu\n", (unsigned long)files[i].val);
			return 0;
		}
	return -ENOENT;
}
