/*
 * The KSM views as Linux 6.x prints them: one number per /sys/kernel/mm/ksm file, and the
 * "name value" lines of /proc/<pid>/ksm_stat. The profit figures charge each rmap item
 * Linux's x86-64 size (KSM_RMAP_ITEM_BYTES) and may go negative, as Linux's do. Knobs
 * peimm does not have (NUMA trees, chains, the zero-page mode, smart scan, the advisor)
 * read as their disabled values. Renders only; takes no lock.
 */
#include "proc/ksm.h"

#include <errno.h>
#include <string.h>

/* general_profit_show: what merging saves, less what the rmap items cost. */
static long general_profit(const struct proc_ksm_view *v)
{
	return (long)(v->pages_sharing * PAGE_SIZE) - (long)(v->rmap_items * KSM_RMAP_ITEM_BYTES);
}

int proc_render_ksm(const struct proc_ksm_view *v, const char *name, struct strbuf *sb)
{
	const struct { const char *name; uint64_t value; } files[] = {
		{ "pages_to_scan", v->pages_to_scan }, { "sleep_millisecs", v->sleep_millisecs },
		{ "pages_shared", v->pages_shared }, { "pages_sharing", v->pages_sharing },
		{ "pages_unshared", v->pages_unshared }, { "pages_volatile", v->pages_volatile },
		{ "pages_scanned", v->pages_scanned }, { "full_scans", v->full_scans },
		{ "pages_skipped", 0 }, { "ksm_zero_pages", 0 }, { "use_zero_pages", 0 },
		{ "max_page_sharing", 256 }, { "merge_across_nodes", 1 },
		{ "stable_node_chains", 0 }, { "stable_node_dups", 0 },
		{ "stable_node_chains_prune_millisecs", 2000 }, { "smart_scan", 0 },
	};
	if (!strcmp(name, "run")) {
		sb_printf(sb, "%ld\n", v->run);
		return 0;
	}
	if (!strcmp(name, "general_profit")) {
		sb_printf(sb, "%ld\n", general_profit(v));
		return 0;
	}
	if (!strcmp(name, "advisor_mode")) {
		sb_puts(sb, "[none] scan-time\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(name, files[i].name)) {
			sb_printf(sb, "%lu\n", (unsigned long)files[i].value);
			return 0;
		}
	return -ENOENT;
}

void proc_render_ksm_stat(const struct ksm_mm_stat *st, struct strbuf *sb)
{
	long profit = (long)(st->merging_pages * PAGE_SIZE) -
		      (long)(st->rmap_items * KSM_RMAP_ITEM_BYTES);
	sb_printf(sb, "ksm_rmap_items %lu\n", (unsigned long)st->rmap_items);
	sb_printf(sb, "ksm_zero_pages %ld\n", 0L);
	sb_printf(sb, "ksm_merging_pages %lu\n", (unsigned long)st->merging_pages);
	sb_printf(sb, "ksm_process_profit %ld\n", profit);
	sb_printf(sb, "ksm_merge_any: %s\n", st->merge_any ? "yes" : "no");
	sb_printf(sb, "ksm_mergeable: %s\n", st->mergeable ? "yes" : "no");
}

void proc_render_ksm_merging_pages(const struct ksm_mm_stat *st, struct strbuf *sb)
{
	sb_printf(sb, "%lu\n", (unsigned long)st->merging_pages);
}
