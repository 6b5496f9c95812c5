/*
 * 'peimm damon': what DAMON saw, drawn as a heatmap of address (down) by time (across).
 * Input: a built-in workload (8 MiB: a hot 2 MiB read every tick, a cold 2 MiB written once,
 * and 4 MiB crossed by a 512 KiB hot spot that moves over time), or a scenario file and one
 * of its processes, monitored from the moment it exists while the scenario's 'tick' lines
 * run the clock. A SYSTEM caller starts DAMON; after each aggregation the regions of
 * pm_damon_regions are recorded, and at the end they are spread over rows of an address
 * axis that leaves out the gaps between the ranges DAMON covered. It only reads DAMON's
 * results; it never steers the monitor beyond starting it. Drawing is in damon_draw.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <peimm.h>

#include "cli.h"
#include "damon_heat.h"
#include "scenario.h"

#define DAMON_USAGE "usage: peimm damon [--ticks N|--seconds N] [--rows N] [--seed N] " \
		    "[--out FILE.svg|FILE.png] [SCENARIO.pmm PROC]"
#define PG 4096L
#define BASE 0x200000000000UL
#define SPAN (8UL << 20)
#define AGGR_TICKS 20		/* aggregation = 20 samples of 1 tick */
#define MAX_REGIONS 1000

static const struct { uint64_t start, end; const char *name; } parts[] = {
	{ 0, 2UL << 20, "hot: read every tick" },
	{ 2UL << 20, 4UL << 20, "cold: written once" },
	{ 4UL << 20, 8UL << 20, "moving hot spot (512K)" },
};

/* What DAMON reported, one aggregation (column) after another. */
struct snap { int col; uint64_t start, end; uint32_t nr; };
struct label { uint64_t addr; char name[HEAT_LABEL]; };
struct record {
	struct snap  *s;
	size_t        n, cap;
	int           cols, pid;
	struct label *lab;
	size_t        nlab, labcap;
};

static int push(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 256;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* Records the regions of one aggregation as the next column. */
static int take_column(struct record *r, pm_thread *admin, pm_damon_region *reg)
{
	int n = pm_damon_regions(admin, r->pid, reg, MAX_REGIONS);

	for (int i = 0; i < n && i < MAX_REGIONS; i++) {
		if (push((void **)&r->s, &r->cap, r->n, sizeof(*r->s)))
			return -ENOMEM;
		r->s[r->n++] = (struct snap){ r->cols, reg[i].start, reg[i].end, reg[i].nr_accesses };
	}
	r->cols++;
	return 0;
}

static int add_label(struct record *r, uint64_t addr, const char *name)
{
	if (push((void **)&r->lab, &r->labcap, r->nlab, sizeof(*r->lab)))
		return -ENOMEM;
	r->lab[r->nlab].addr = addr;
	snprintf(r->lab[r->nlab].name, HEAT_LABEL, "%s", name);
	r->nlab++;
	return 0;
}

static pm_thread *spawn_as(pm_system *sys, const char *spec)
{
	int err = 0;
	pm_token *tok = pm_token_parse(sys, spec, &err);
	pm_thread *t = tok ? pm_spawn(sys, tok, NULL) : NULL;
	pm_token_put(tok);
	return t;
}

/* The built-in workload under DAMON for `ticks` ticks; 0, or 1 with a message printed. */
static int run_workload(struct record *r, long ticks, uint64_t seed, pm_damon_region *reg)
{
	pm_config cfg;
	int rc = 1;

	pm_config_default(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.seed = seed;
	pm_system *sys = pm_system_create(&cfg);
	pm_thread *admin = sys ? spawn_as(sys, "system") : NULL;
	pm_thread *app = admin ? spawn_as(sys, "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 "
					  "il=medium") : NULL;
	if (!app) {
		fprintf(stderr, "peimm damon: cannot set up the workload (out of host memory?)\n");
		goto out;
	}
	r->pid = pm_pid(app);
	long got = pm_syscall(app, SYS_mmap, (long)BASE, (long)SPAN, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	for (uint64_t off = 0; got == (long)BASE && off < SPAN; off += PG)
		pm_access(app, BASE + off, &(uint8_t){ 1 }, 1, PM_WRITE, NULL);
	pm_damon_attrs attrs = { .sample_us = 1000, .aggr_us = AGGR_TICKS * 1000, .nr_ranges = 1,
				 .ranges = { { BASE, BASE + SPAN } } };
	int err = got == (long)BASE ? pm_damon_start(admin, r->pid, &attrs) : (int)got;
	if (err) {
		fprintf(stderr, "peimm damon: cannot start monitoring: %s\n", pm_errno_name(err));
		goto out;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (add_label(r, BASE + parts[i].start, parts[i].name))
			goto out;
	const uint64_t spot_room = parts[2].end - parts[2].start - (512 << 10);
	for (long tick = 0; tick < ticks; tick++) {
		uint8_t v;
		uint64_t spot = parts[2].start + (uint64_t)((double)tick / (double)ticks * (double)spot_room);
		spot &= ~(uint64_t)(PG - 1);
		for (uint64_t a = parts[0].start; a < parts[0].end; a += PG)
			pm_access(app, BASE + a, &v, 1, PM_READ, NULL);
		for (uint64_t a = spot; a < spot + (512 << 10); a += PG)
			pm_access(app, BASE + a, &v, 1, PM_READ, NULL);
		pm_system_tick(sys, 1);
		if ((tick + 1) % AGGR_TICKS == 0 && take_column(r, admin, reg))
			goto out;
	}
	rc = 0;
out:
	if (sys)
		pm_system_destroy(sys);
	return rc;
}

/* Names the mappings that have one ([heap], [stack], a file's name) at their start. */
static void label_maps(struct record *r, pm_thread *reader)
{
	char *buf = malloc(1 << 20);
	long n = buf ? pm_proc_read(reader, r->pid, "maps", buf, (1 << 20) - 1, 0) : -ENOMEM;

	if (n <= 0) {
		free(buf);
		return;
	}
	buf[n] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long s;
		int off = 0;
		if (sscanf(line, "%llx-%*x %*s %*x %*s %*u%n", &s, &off) != 1 || !off)
			continue;
		const char *name = line + off;
		while (*name == ' ')
			name++;
		const char *slash = strrchr(name, '/');
		if (*name && add_label(r, s, slash ? slash + 1 : name))
			break;
	}
	free(buf);
}

static int by_range_start(const void *a, const void *b)
{
	uint64_t x = ((const pm_damon_range *)a)->start, y = ((const pm_damon_range *)b)->start;
	return x < y ? -1 : x > y;
}

/* fvaddr ranges for a scenario's process: its mappings with neighbours joined, the largest
 * PM_DAMON_MAX_RANGES of them in address order ([vsyscall] left out). DAMON's own vaddr
 * layout needs two gaps in the address space, which a small scenario may not have. */
static int pick_ranges(pm_thread *admin, int pid, pm_damon_attrs *a)
{
	pm_damon_range all[64];
	int n = 0;
	char *buf = malloc(1 << 20);
	long len = buf ? pm_proc_read(admin, pid, "maps", buf, (1 << 20) - 1, 0) : -ENOMEM;

	if (len < 0) {
		free(buf);
		return (int)len;
	}
	buf[len] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long s, e;
		if (sscanf(line, "%llx-%llx", &s, &e) != 2 || s >= 0xffff800000000000ULL)
			continue;
		if (n && all[n - 1].end == s)
			all[n - 1].end = e;
		else if (n < 64)
			all[n++] = (pm_damon_range){ s, e };
	}
	free(buf);
	for (int i = 0; i < n; i++)	/* the largest first */
		for (int j = i + 1; j < n; j++)
			if (all[j].end - all[j].start > all[i].end - all[i].start) {
				pm_damon_range t = all[i];
				all[i] = all[j];
				all[j] = t;
			}
	a->nr_ranges = n < PM_DAMON_MAX_RANGES ? (uint32_t)n : PM_DAMON_MAX_RANGES;
	memcpy(a->ranges, all, a->nr_ranges * sizeof(all[0]));
	qsort(a->ranges, a->nr_ranges, sizeof(all[0]), by_range_start);
	return a->nr_ranges ? 0 : -ENOENT;
}

/* Runs a scenario; DAMON watches `proc` from the first 'tick N' line after the process
 * exists (its mappings are set up by then), and each such line runs tick by tick so every
 * aggregation is recorded. 0, or an exit status. */
static int run_scenario(struct record *r, const char *file, const char *proc, pm_damon_region *reg)
{
	sc_ctx c = { .file = file };
	FILE *f = fopen(file, "r");
	pm_thread *admin = NULL;
	char *line = NULL;
	size_t cap = 0;
	long ticks = 0;
	int rc = SC_OK;

	if (!f) {
		fprintf(stderr, "peimm damon: cannot open '%s': %s\n", file, strerror(errno));
		return 2;
	}
	pm_damon_attrs attrs = { .sample_us = 1000, .aggr_us = AGGR_TICKS * 1000 };

	while (rc == SC_OK && getline(&line, &cap, f) >= 0) {
		sc_line l;
		long n;
		c.lineno++;
		c.text = sc_trim(line);
		if ((rc = sc_split(&c, c.text, &l)) != SC_OK)
			break;
		int tick = l.n == 2 && !l.has_expect && !l.tok[0].quoted && !strcmp(l.tok[0].s, "tick");
		sc_name *p = tick && !admin ? sc_find(&c, SC_PROC, proc) : NULL;
		if (p) {
			r->pid = pm_pid(p->u.thread);
			admin = spawn_as(c.sys, "system");
			int err = admin ? pick_ranges(admin, r->pid, &attrs) : -ENOMEM;
			err = err ? err : pm_damon_start(admin, r->pid, &attrs);
			if (err) {
				fprintf(stderr, "%s:%u: peimm damon: cannot monitor '%s': %s\n", file,
					c.lineno, proc, pm_errno_name(err));
				rc = SC_ABORT;
			}
		}
		if (admin && tick && rc == SC_OK && (rc = sc_eval(&c, &l.tok[1], &n)) == SC_OK) {
			for (long i = 0; i < n && rc == SC_OK; i++) {
				pm_system_tick(c.sys, 1);
				if (++ticks % AGGR_TICKS == 0 && take_column(r, admin, reg))
					rc = sc_bad(&c, "out of memory");
			}
		} else if (rc == SC_OK) {
			rc = sc_exec_line(&c, &l);
		}
		sc_line_free(&l);
	}
	if (rc == SC_BAD)
		fprintf(stderr, "%s:%u: %s\n", file, c.lineno, c.msg);
	else if (rc == SC_OK && !admin && !sc_find(&c, SC_PROC, proc))
		fprintf(stderr, "peimm damon: %s has no process '%s'\n", file, proc);
	else if (rc == SC_OK && r->cols == 0)
		fprintf(stderr, "peimm damon: %s ran too few ticks after '%s' appeared: %d ticks "
			"('tick N' lines) make one column\n", file, proc, AGGR_TICKS);
	if (rc == SC_OK && admin && r->cols)
		label_maps(r, admin);
	free(line);
	fclose(f);
	sc_ctx_free(&c);
	return rc == SC_BAD ? 2 : rc != SC_OK || !admin || !r->cols ? 1 : 0;
}

static int by_start(const void *a, const void *b)
{
	uint64_t x = ((const struct snap *)a)->start, y = ((const struct snap *)b)->start;
	return x < y ? -1 : x > y;
}

/* Spreads the recorded regions over h's rows. The axis is the union of every range DAMON
 * reported; the gaps between those ranges are left out. 0 or -ENOMEM. */
static int build(struct heat *h, struct record *r)
{
	struct snap *sp = malloc((r->n ? r->n : 1) * sizeof(*sp));	/* merged spans */
	int ns = 0;

	if (!sp)
		return -ENOMEM;
	memcpy(sp, r->s, r->n * sizeof(*sp));
	qsort(sp, r->n, sizeof(*sp), by_start);
	for (size_t i = 0; i < r->n; i++) {
		if (ns && sp[i].start <= sp[ns - 1].end) {
			sp[ns - 1].end = sp[i].end > sp[ns - 1].end ? sp[i].end : sp[ns - 1].end;
			continue;
		}
		sp[ns++] = sp[i];
	}
	h->total = 0;
	for (int k = 0; k < ns; k++) {
		sp[k].col = (int)h->total;	/* reused: where the span starts on the axis */
		h->total += sp[k].end - sp[k].start;
	}
	h->nspans = ns;
	h->cols = r->cols;
	h->ticks = (long)r->cols * AGGR_TICKS;
	h->pid = r->pid;
	h->v = calloc((size_t)h->rows * (size_t)(h->cols ? h->cols : 1), sizeof(*h->v));
	h->row_addr = calloc((size_t)h->rows, sizeof(*h->row_addr));
	h->row_gap = calloc((size_t)h->rows, 1);
	h->row_label = calloc((size_t)h->rows, sizeof(*h->row_label));
	if (!h->v || !h->row_addr || !h->row_gap || !h->row_label || !h->total) {
		free(sp);
		return -ENOMEM;
	}
	double per_row = (double)h->total / h->rows;
	for (int k = 0, row = 0; k < ns; k++) {	/* each row: where it starts; gaps above */
		double first = (double)(uint64_t)sp[k].col;
		int rk = (int)(first / per_row);
		for (; row < h->rows && row * per_row < first + (double)(sp[k].end - sp[k].start); row++)
			h->row_addr[row] = (sp[k].start + (uint64_t)(row * per_row - first > 0 ?
					    row * per_row - first : 0)) & ~(uint64_t)(PG - 1);
		if (k > 0 && rk < h->rows) {	/* the row where a range begins shows its start */
			h->row_gap[rk] = 1;
			h->row_addr[rk] = sp[k].start;
		}
	}
	for (size_t i = 0; i < r->n; i++)	/* each region: its share of the rows it covers */
		for (int k = 0; k < ns; k++) {
			uint64_t s = r->s[i].start > sp[k].start ? r->s[i].start : sp[k].start;
			uint64_t e = r->s[i].end < sp[k].end ? r->s[i].end : sp[k].end;
			if (s >= e)
				continue;
			double lo = (double)(uint64_t)sp[k].col + (double)(s - sp[k].start);
			double hi = lo + (double)(e - s);
			for (int row = (int)(lo / per_row); row < h->rows && row * per_row < hi; row++) {
				double a = lo > row * per_row ? lo : row * per_row;
				double b = hi < (row + 1) * per_row ? hi : (row + 1) * per_row;
				if (b > a)
					h->v[row * h->cols + r->s[i].col] +=
						(b - a) / per_row * r->s[i].nr / AGGR_TICKS;
			}
		}
	for (size_t i = 0; i < r->nlab; i++)
		for (int k = 0; k < ns; k++)
			if (r->lab[i].addr >= sp[k].start && r->lab[i].addr < sp[k].end) {
				int row = (int)(((double)(uint64_t)sp[k].col +
						 (double)(r->lab[i].addr - sp[k].start)) / per_row);
				if (row < h->rows && !h->row_label[row][0])
					memcpy(h->row_label[row], r->lab[i].name, HEAT_LABEL);
			}
	free(sp);
	return 0;
}

static int number_arg(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s ? s : "", &end, 0);

	if (!s) {
		fprintf(stderr, "peimm damon: %s wants a number from %ld to %ld\n", opt, lo, hi);
		return -1;
	}
	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr, "peimm damon: %s '%s': want a number from %ld to %ld\n", opt, s,
			lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static int help(void)
{
	printf("%s\n\nDraws what DAMON saw: address down, time across, brighter where more\n"
	       "samples saw an access. Without a scenario it runs a built-in workload that maps\n"
	       "8M: a hot 2M read every tick, a cold 2M written once, and 4M crossed by a 512K\n"
	       "hot spot that moves as time goes on. With SCENARIO.pmm PROC the scenario runs and\n"
	       "DAMON watches PROC from the line that creates it; its 'tick N' lines are the\n"
	       "time axis (20 ticks a column). Gaps between the ranges DAMON covered are left\n"
	       "out of the address axis and marked '~'.\n\n"
	       "  --ticks N    simulated milliseconds of the built-in workload (default 1200)\n"
	       "  --seconds N  the same in simulated seconds\n"
	       "  --rows N     address rows (default 32)\n"
	       "  --seed N     the built-in workload's seed (default 1)\n"
	       "  --out FILE   write FILE.svg or FILE.png instead of drawing on the terminal\n"
	       "               (colour cells, or characters when NO_COLOR is set or stdout\n"
	       "               is not a terminal)\n", DAMON_USAGE);
	return 0;
}

int cmd_damon(int argc, char **argv)
{
	long ticks = 1200, rows = 32, seed = 1;
	const char *out = NULL, *args[2];
	int nargs = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return help();
		if (!strcmp(a, "--ticks") || !strcmp(a, "--seconds") || !strcmp(a, "--rows") ||
		    !strcmp(a, "--seed") || !strcmp(a, "--out"))
			i++;
		if (!strcmp(a, "--ticks")) {
			if (number_arg(a, val, AGGR_TICKS, 100000, &ticks))
				return 2;
		} else if (!strcmp(a, "--seconds")) {
			if (number_arg(a, val, 1, 100, &ticks))
				return 2;
			ticks *= 1000;	/* one tick is one simulated millisecond */
		} else if (!strcmp(a, "--rows")) {
			if (number_arg(a, val, 4, 256, &rows))
				return 2;
		} else if (!strcmp(a, "--seed")) {
			if (number_arg(a, val, 0, 0x7fffffff, &seed))
				return 2;
		} else if (!strcmp(a, "--out")) {
			out = val;
			if (!out || (!ends_with(out, ".svg") && !ends_with(out, ".png"))) {
				fprintf(stderr, "peimm damon: --out wants FILE.svg or FILE.png\n");
				return 2;
			}
		} else if (a[0] == '-' || nargs == 2) {
			fprintf(stderr, "peimm damon: unknown %s '%s' (%s)\n",
				a[0] == '-' ? "option" : "argument", a, DAMON_USAGE);
			return 2;
		} else {
			args[nargs++] = a;
		}
	}
	if (nargs == 1) {
		fprintf(stderr, "peimm damon: '%s' needs a process name after it (%s)\n", args[0],
			DAMON_USAGE);
		return 2;
	}
	struct record r = { 0 };
	struct heat h = { .rows = (int)rows, .aggr_ticks = AGGR_TICKS,
			  .source = nargs ? args[0] : "built-in workload" };
	pm_damon_region *reg = malloc(MAX_REGIONS * sizeof(*reg));
	int rc = !reg ? 1 : nargs ? run_scenario(&r, args[0], args[1], reg) :
		 run_workload(&r, ticks / AGGR_TICKS * AGGR_TICKS, (uint64_t)seed, reg);
	if (!rc && build(&h, &r)) {
		fprintf(stderr, "peimm damon: DAMON reported no regions to draw\n");
		rc = 1;
	}
	if (!rc && !out) {
		damon_draw_terminal(&h);
	} else if (!rc) {
		int err = ends_with(out, ".svg") ? damon_draw_svg(&h, out) : damon_draw_png(&h, out);
		if (err)
			fprintf(stderr, "peimm damon: cannot write '%s': %s\n", out, strerror(-err));
		else
			printf("wrote %s (%d rows x %d columns)\n", out, h.rows, h.cols);
		rc = err ? 1 : 0;
	}
	free(h.v);
	free(h.row_addr);
	free(h.row_gap);
	free(h.row_label);
	free(r.s);
	free(r.lab);
	free(reg);
	return rc;
}
