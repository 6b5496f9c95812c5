/*
 * peimm bench: the driver. Owns the workload table, the command-line options and the two
 * output formats (a human table, or one JSON object per line). Runs each selected workload
 * twice, peimm side then host side, and prints ops/s and the ratio peimm/linux. Holds no
 * state outside bench_ctx and the per-run result array; makes no claim about the figures
 * (no thresholds enforced here: the targets live in docs/PERFORMANCE.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

static const bench_wl workloads[] = {
	{ "mmap_munmap_4k", "mmap 4 KiB anon private RW + munmap", 0, 0, BENCH_UNIT_NONE,
	  pm_side_mmap_4k, host_side_mmap_4k },
	{ "mmap1", "will-it-scale mmap1: 128 MiB anon mmap + munmap, untouched", 0, 0,
	  BENCH_UNIT_NONE, pm_side_mmap1, host_side_mmap1 },
	{ "page_fault_anon", "page_fault1: write fault per page of fresh 128 MiB anon (ops = faults)",
	  0, 0, BENCH_UNIT_NS, pm_side_page_fault, host_side_page_fault },
	{ "brk_grow_shrink", "brk1: brk +1 page then -1 page (2 ops per iteration)", 0, 1,
	  BENCH_UNIT_NONE, pm_side_brk, host_side_brk },
	{ "mprotect_split_merge", "mprotect middle page of 3 to R and back to RW (ops = calls)",
	  0, 0, BENCH_UNIT_NONE, pm_side_mprotect, host_side_mprotect },
	{ "maps_20k", "read the whole maps view with 20,000 VMAs present (ops = full reads)", 0,
	  1, BENCH_UNIT_LINES, pm_side_maps, host_side_maps },
	{ "smaps_20k", "read the whole smaps view with 20,000 VMAs present (ops = full reads)",
	  BENCH_VIEW_SMAPS, 1, BENCH_UNIT_LINES, pm_side_maps, host_side_maps },
	{ "vma_scale_100", "mmap+munmap 4 KiB with 100 VMAs present", 100, 1, BENCH_UNIT_NS,
	  pm_side_vma_scale, host_side_vma_scale },
	{ "vma_scale_10k", "mmap+munmap 4 KiB with 10,000 VMAs present", 10000, 1, BENCH_UNIT_NS,
	  pm_side_vma_scale, host_side_vma_scale },
	{ "vma_scale_1m", "mmap+munmap 4 KiB with 1,000,000 VMAs present (host: up to "
	  "vm.max_map_count)", 1000000, 1, BENCH_UNIT_NS, pm_side_vma_scale, host_side_vma_scale },
	{ "uaccess_hit", "8-byte pm_access reads hitting the software TLB vs a plain load", 0, 0,
	  BENCH_UNIT_NS, pm_side_uaccess, host_side_uaccess },
	{ "cow_fault_after_fork", "64 MiB resident, fork, the child writes a byte per page "
	  "(ops = COW faults, timed in the child)", 0, 1, BENCH_UNIT_NS, pm_side_cow_fault,
	  host_side_cow_fault },
	{ "fork_1g_resident", "fork + child exit (+ wait on the host) with 1 GiB resident anon "
	  "(ops = forks)", 0, 1, BENCH_UNIT_US, pm_side_fork_1g, host_side_fork_1g },
	{ "mremap_move_1g_pte", "1 GiB populated, mremap MAYMOVE|FIXED back and forth, 4 KiB "
	  "offset between the ends (ops = moves)", BENCH_ALIGN_PTE, 1, BENCH_UNIT_US,
	  pm_side_mremap_1g, host_side_mremap_1g },
	{ "mremap_move_1g_pmd", "the same, both ends 2 MiB- but not 1 GiB-aligned",
	  BENCH_ALIGN_PMD, 1, BENCH_UNIT_US, pm_side_mremap_1g, host_side_mremap_1g },
	{ "mremap_move_1g_pud", "the same, both ends 1 GiB-aligned", BENCH_ALIGN_PUD, 1,
	  BENCH_UNIT_US, pm_side_mremap_1g, host_side_mremap_1g },
	{ "mmap2", "will-it-scale mmap2: 128 MiB MAP_SHARED mmap of a file + munmap, untouched",
	  BENCH_FILE_MMAP_SHARED, 1, BENCH_UNIT_NONE, pm_side_file, host_side_file },
	{ "page_fault2", "write fault per page of a fresh 128 MiB MAP_PRIVATE file mapping "
	  "(ops = faults)", BENCH_FILE_FAULT_PRIVATE, 1, BENCH_UNIT_NS, pm_side_file,
	  host_side_file },
	{ "page_fault3", "write fault per page of a fresh 128 MiB MAP_SHARED file mapping "
	  "(ops = faults)", BENCH_FILE_FAULT_SHARED, 1, BENCH_UNIT_NS, pm_side_file,
	  host_side_file },
	{ "malloc1", "128 MiB anon mmap, write one page, munmap", 0, 0, BENCH_UNIT_NONE,
	  pm_side_malloc1, host_side_malloc1 },
};

/* Other names for a row: will-it-scale's brk1 is the brk_grow_shrink loop itself, and its
 * page_fault1 the page_fault_anon loop. */
static const struct { const char *alias, *name; } aliases[] = {
	{ "brk1", "brk_grow_shrink" },
	{ "page_fault1", "page_fault_anon" },
};
#define NALIAS (sizeof(aliases) / sizeof(aliases[0]))
#define NWL (sizeof(workloads) / sizeof(workloads[0]))

/* One row of output: both sides of one workload. */
typedef struct bench_row {
	const bench_wl *w;
	bench_result    pm, host;
} bench_row;

static void usage(FILE *f)
{
	fprintf(f, "usage: peimm bench [--seconds S] [--json] [--cpu-clock] [--list] [WORKLOAD...]\n\n"
		   "Runs each workload in peimm and on the host kernel, S seconds per side\n"
		   "(default 0.3) after a short warm-up, and prints ops/s and the ratio\n"
		   "peimm/linux (above 1 = peimm is faster). No WORKLOAD = all of them.\n\n"
		   "  --seconds S  measured time per side per workload\n"
		   "  --json       one JSON object per line instead of the table\n"
		   "  --cpu-clock  time by the thread's CPU clock (for a loaded machine; a\n"
		   "               host fork row adds the child's CPU time from wait4)\n"
		   "  --list       name the workloads and exit\n");
}

static void list_workloads(void)
{
	for (size_t i = 0; i < NWL; i++)
		printf("%-22s %s\n", workloads[i].name, workloads[i].what);
	for (size_t i = 0; i < NALIAS; i++)
		printf("%-22s alias of %s\n", aliases[i].alias, aliases[i].name);
}

static double rate(const bench_result *r)
{
	return r->secs > 0 ? (double)r->ops / r->secs : 0.0;
}

/* Prints s as the body of a JSON string (quotes and backslashes escaped). */
static void json_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar((unsigned char)*s < 0x20 ? ' ' : *s);
	}
}

static void print_json(const bench_row *row)
{
	const bench_result *bad = row->pm.err ? &row->pm : row->host.err ? &row->host : NULL;
	double p = rate(&row->pm), l = rate(&row->host);

	printf("{\"workload\": \"%s\", ", row->w->name);
	if (bad) {
		printf("\"error\": \"");
		json_str(bad->note);
		printf("\"}\n");
		return;
	}
	printf("\"peimm_ops_s\": %.1f, \"linux_ops_s\": %.1f, \"ratio\": %.3f", p, l,
	       l > 0 ? p / l : 0.0);
	if (row->host.note[0] || row->pm.note[0]) {
		printf(", \"note\": \"");
		json_str(row->host.note[0] ? row->host.note : row->pm.note);
		putchar('"');
	}
	printf("}\n");
}

/* The extra column of the human table: ns/op or lines/s, and any caveat. */
static void print_extra(const bench_row *row)
{
	double p = rate(&row->pm), l = rate(&row->host);

	if (row->w->unit == BENCH_UNIT_NS && p > 0 && l > 0)
		printf("  ns/op: peimm %.1f, linux %.1f", 1e9 / p, 1e9 / l);
	if (row->w->unit == BENCH_UNIT_US && p > 0 && l > 0)
		printf("  us/op: peimm %.1f, linux %.1f", 1e6 / p, 1e6 / l);
	if (row->w->unit == BENCH_UNIT_LINES)
		printf("  lines/s: peimm %.2f M, linux %.2f M (%.0f/%.0f lines)",
		       p * row->pm.per_op / 1e6, l * row->host.per_op / 1e6, row->pm.per_op,
		       row->host.per_op);
	if (row->pm.note[0])
		printf("  [%s]", row->pm.note);
	if (row->host.note[0])
		printf("  [%s]", row->host.note);
}

static void print_human(const bench_row *row)
{
	double p = rate(&row->pm), l = rate(&row->host);

	printf("%-22s", row->w->name);
	if (row->pm.err || row->host.err) {
		printf(" FAILED: %s\n", row->pm.err ? row->pm.note : row->host.note);
		return;
	}
	printf(" %15.0f %15.0f %8.3f", p, l, l > 0 ? p / l : 0.0);
	print_extra(row);
	putchar('\n');
}

/* Runs both sides of row->w. */
static void run_row(const bench_ctx *b, bench_row *row)
{
	const bench_wl *w = row->w;

	memset(&row->pm, 0, sizeof(row->pm));
	memset(&row->host, 0, sizeof(row->host));
	w->peimm(b, w, &row->pm);
	if (w->host_fork)
		bench_in_child(b, w, w->host, &row->host);
	else
		w->host(b, w, &row->host);
	if (b->json)
		print_json(row);
	else
		print_human(row);
	fflush(stdout);
}

/* The vma_scale target: peimm's per-op cost at 1M VMAs against its cost at 100. */
static void print_scale_summary(const bench_row *rows, size_t n)
{
	const bench_row *lo = NULL, *hi = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(rows[i].w->name, "vma_scale_100") && !rows[i].pm.err)
			lo = &rows[i];
		if (!strcmp(rows[i].w->name, "vma_scale_1m") && !rows[i].pm.err)
			hi = &rows[i];
	}
	if (lo && hi && rate(&hi->pm) > 0)
		printf("vma_scale: peimm cost at 1M VMAs / cost at 100 = %.2f (target <= 2)\n",
		       rate(&lo->pm) / rate(&hi->pm));
}

/* The O(tables) claim of mremap: cost per move with PTE-aligned ends over PMD-aligned. */
static void print_mremap_summary(const bench_row *rows, size_t n, int json)
{
	const bench_row *pte = NULL, *pmd = NULL;

	for (size_t i = 0; i < n; i++) {
		if (rows[i].pm.err || rows[i].host.err)
			continue;
		if (!strcmp(rows[i].w->name, "mremap_move_1g_pte"))
			pte = &rows[i];
		if (!strcmp(rows[i].w->name, "mremap_move_1g_pmd"))
			pmd = &rows[i];
	}
	if (!pte || !pmd || rate(&pte->pm) <= 0 || rate(&pte->host) <= 0)
		return;
	double pr = rate(&pmd->pm) / rate(&pte->pm), lr = rate(&pmd->host) / rate(&pte->host);
	if (json)
		printf("{\"summary\": \"mremap_pte_over_pmd\", \"peimm\": %.1f, \"linux\": %.1f}\n",
		       pr, lr);
	else
		printf("mremap_move_1g: cost per move PTE-aligned / PMD-aligned = %.1f in peimm, "
		       "%.1f in linux\n", pr, lr);
}

static int find_workload(const char *name)
{
	for (size_t i = 0; i < NALIAS; i++)
		if (!strcmp(aliases[i].alias, name))
			name = aliases[i].name;
	for (size_t i = 0; i < NWL; i++)
		if (!strcmp(workloads[i].name, name))
			return (int)i;
	return -1;
}

/* Parses --seconds's value into b. Returns 0, or 2 after printing why. */
static int parse_seconds(bench_ctx *b, const char *arg)
{
	char *end;
	double s;

	if (!arg) {
		fprintf(stderr, "peimm bench: --seconds needs a value\n");
		return 2;
	}
	errno = 0;
	s = strtod(arg, &end);
	if (errno || end == arg || *end || !(s > 0) || s > 3600) {
		fprintf(stderr, "peimm bench: --seconds '%s': want a number of seconds in (0, 3600]\n",
			arg);
		return 2;
	}
	b->seconds = s;
	b->warmup = s / 10 < 0.05 ? s / 10 : 0.05;
	return 0;
}

/* Parses argv into b and sel (sel[i] = 1 runs workloads[i]). Returns -1 to go on running,
 * else the exit status (0 after --help/--list, 2 on a usage error). */
static int parse_args(int argc, char **argv, bench_ctx *b, unsigned char *sel)
{
	int any = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int k;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--list")) {
			list_workloads();
			return 0;
		} else if (!strcmp(a, "--json")) {
			b->json = 1;
		} else if (!strcmp(a, "--cpu-clock")) {
			b->cpu_clock = 1;
		} else if (!strcmp(a, "--seconds")) {
			if (parse_seconds(b, i + 1 < argc ? argv[++i] : NULL))
				return 2;
		} else if ((k = find_workload(a)) >= 0) {
			sel[k] = 1;
			any = 1;
		} else {
			fprintf(stderr, "peimm bench: unknown %s '%s' (try 'peimm bench --list')\n",
				a[0] == '-' ? "option" : "workload", a);
			return 2;
		}
	}
	if (!any)
		memset(sel, 1, NWL);
	return -1;
}

int cmd_bench(int argc, char **argv)
{
	bench_ctx b = { .seconds = 0.3, .warmup = 0.03, .ram_bytes = 2048UL * BENCH_MIB };
	unsigned char sel[NWL] = { 0 };
	bench_row rows[NWL];
	size_t n = 0;
	int rc = parse_args(argc, argv, &b, sel), failed = 0;

	if (rc >= 0)
		return rc;
	if (!b.json)
		printf("%-22s %15s %15s %8s\n", "workload", "peimm ops/s", "linux ops/s",
		       "ratio");
	for (size_t i = 0; i < NWL; i++) {
		if (!sel[i])
			continue;
		rows[n].w = &workloads[i];
		run_row(&b, &rows[n]);
		failed |= rows[n].pm.err || rows[n].host.err;
		n++;
	}
	if (!b.json)
		putchar('\n');
	if (!b.json)
		print_scale_summary(rows, n);
	print_mremap_summary(rows, n, b.json);
	return failed ? 1 : 0;
}
