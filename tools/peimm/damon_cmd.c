/*
 * 'peimm damon': DAMON's view of a workload drawn as a heatmap, address down, time across.
 * A built-in workload maps 8 MiB in three parts: a hot 2 MiB read every tick, a cold 2 MiB
 * touched once, and a 4 MiB range crossed by a 512 KiB hot spot that moves over time. DAMON
 * (SYSTEM caller, fvaddr over the 8 MiB) samples it; after each aggregation the regions
 * (pm_damon_regions) are spread over the rows, weighted by overlap. Output: colour cells on
 * a terminal (characters without colour), or --out FILE.svg / FILE.png. It only reads
 * DAMON's results; it never steers the monitor beyond starting it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <peimm.h>

#include "cli.h"
#include "picture.h"

#define DAMON_USAGE "usage: peimm damon [--ticks N|--seconds N] [--rows N] [--seed N] [--out FILE.svg|FILE.png]"
#define PG 4096L
#define BASE 0x200000000000UL
#define SPAN (8UL << 20)
#define AGGR_TICKS 20		/* aggregation = 20 samples of 1 tick */

struct part { uint64_t start, end; const char *name; };

static const struct part parts[] = {
	{ 0, 2UL << 20, "hot: read every tick" },
	{ 2UL << 20, 4UL << 20, "cold: written once" },
	{ 4UL << 20, 8UL << 20, "moving hot spot (512K)" },
};

struct heat {
	int     rows, cols, pid;
	long    ticks;
	double *v;		/* rows * cols, 0..1 of the samples per aggregation */
};

/* Adds one aggregation's regions to column col of the grid. */
static void spread(struct heat *h, int col, const pm_damon_region *reg, int n)
{
	uint64_t row_bytes = SPAN / (uint64_t)h->rows;

	for (int i = 0; i < n; i++) {
		for (int r = 0; r < h->rows; r++) {
			uint64_t lo = BASE + (uint64_t)r * row_bytes, hi = lo + row_bytes;
			uint64_t s = reg[i].start > lo ? reg[i].start : lo;
			uint64_t e = reg[i].end < hi ? reg[i].end : hi;
			if (s < e)
				h->v[r * h->cols + col] += (double)(e - s) / (double)row_bytes *
							   reg[i].nr_accesses / AGGR_TICKS;
		}
	}
}

/* Runs the workload under DAMON and fills the grid; 0, or 1 with a message printed. */
static int run_workload(struct heat *h, uint64_t seed)
{
	pm_config cfg;
	int err = 0, rc = 1;

	pm_config_default(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.seed = seed;
	pm_system *sys = pm_system_create(&cfg);
	pm_token *st = sys ? pm_token_parse(sys, "system", &err) : NULL;
	pm_token *ut = sys ? pm_token_parse(sys, "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 "
					    "il=medium", &err) : NULL;
	pm_thread *admin = st ? pm_spawn(sys, st, NULL) : NULL;
	pm_thread *app = ut ? pm_spawn(sys, ut, NULL) : NULL;
	pm_damon_region *reg = malloc(1000 * sizeof(*reg));
	long got;

	if (!admin || !app || !reg) {
		fprintf(stderr, "peimm damon: cannot set up the workload (out of host memory?)\n");
		goto out;
	}
	h->pid = pm_pid(app);
	got = pm_syscall(app, SYS_mmap, (long)BASE, (long)SPAN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	for (uint64_t off = 0; got == (long)BASE && off < SPAN; off += PG)
		pm_access(app, BASE + off, &(uint8_t){ 1 }, 1, PM_WRITE, NULL);
	pm_damon_attrs attrs = { .sample_us = 1000, .aggr_us = AGGR_TICKS * 1000, .nr_ranges = 1,
				 .ranges = { { BASE, BASE + SPAN } } };
	int r = got == (long)BASE ? pm_damon_start(admin, h->pid, &attrs) : (int)got;
	if (r) {
		fprintf(stderr, "peimm damon: cannot start monitoring: %s\n", pm_errno_name(r));
		goto out;
	}
	for (long tick = 0; tick < h->ticks; tick++) {
		uint8_t v;
		uint64_t spot = parts[2].start + (uint64_t)((double)tick / (double)h->ticks *
						 (double)(parts[2].end - parts[2].start - (512 << 10)));
		spot &= ~(uint64_t)(PG - 1);
		for (uint64_t a = parts[0].start; a < parts[0].end; a += PG)
			pm_access(app, BASE + a, &v, 1, PM_READ, NULL);
		for (uint64_t a = spot; a < spot + (512 << 10); a += PG)
			pm_access(app, BASE + a, &v, 1, PM_READ, NULL);
		pm_system_tick(sys, 1);
		if ((tick + 1) % AGGR_TICKS == 0) {
			int n = pm_damon_regions(admin, h->pid, reg, 1000);
			spread(h, (int)(tick / AGGR_TICKS), reg, n < 1000 ? n : 1000);
		}
	}
	rc = 0;
out:
	free(reg);
	pm_token_put(st);
	pm_token_put(ut);
	if (sys)
		pm_system_destroy(sys);
	return rc;
}

static const char *part_at(uint64_t off)
{
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (off == parts[i].start)
			return parts[i].name;
	return NULL;
}

static void draw_terminal(const struct heat *h)
{
	static const char ramp[] = " .:-=+*#%@";
	int mode = pic_term_colours();
	uint64_t row_bytes = SPAN / (uint64_t)h->rows;

	printf("DAMON access heatmap of pid %d: 8M at 0x%lx, %ld ticks; one column = %d ticks\n"
	       "(one aggregation of %d samples), one row = %lluK. Brighter = accessed in more samples.\n\n",
	       h->pid, BASE, h->ticks, AGGR_TICKS, AGGR_TICKS, (unsigned long long)(row_bytes >> 10));
	printf("  %-14s time ->\n", "address");
	for (int r = 0; r < h->rows; r++) {
		uint64_t off = (uint64_t)r * row_bytes;
		const char *name = NULL;
		for (uint64_t o = off; o < off + row_bytes && !name; o += PG)
			name = part_at(o);
		printf("  0x%012lx ", (unsigned long)(BASE + off));
		for (int col = 0; col < h->cols; col++) {
			double v = h->v[r * h->cols + col];
			if (mode) {
				pic_term_bg(stdout, mode, pic_heat(v));
				putchar(' ');
			} else {
				putchar(ramp[(int)(v * 9 + 0.5) > 9 ? 9 : (int)(v * 9 + 0.5)]);
			}
		}
		printf("%s %s\n", mode ? "\033[0m" : "", name ? name : "");
	}
	printf("\n  legend: idle ");
	for (int i = 0; i <= 9; i++) {
		if (mode) {
			pic_term_bg(stdout, mode, pic_heat(i / 9.0));
			printf("  ");
		} else {
			printf("'%c'", ramp[i]);
		}
	}
	printf("%s hot (an access seen in all %d samples of an aggregation)\n",
	       mode ? "\033[0m" : "", AGGR_TICKS);
}

enum { CELL_W = 10, CELL_H = 14, LEFT = 170, TOP = 64, RIGHT = 230 };

static int draw_svg(const struct heat *h, const char *path)
{
	FILE *f = fopen(path, "w");
	int w = LEFT + h->cols * CELL_W + RIGHT, ht = TOP + h->rows * CELL_H + 90;
	uint64_t row_bytes = SPAN / (uint64_t)h->rows;

	if (!f)
		return -errno;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"monospace\" font-size=\"12\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
		"<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">DAMON access heatmap, "
		"pid %d (%ld ticks, one column = %d ticks)</text>\n"
		"<text x=\"10\" y=\"40\">address (one row = %lluK). At the start every page was just "
		"written, and DAMON's regions begin coarse, then split to follow the accesses.</text>\n",
		w, ht, w, ht, h->pid, h->ticks, AGGR_TICKS, (unsigned long long)(row_bytes >> 10));
	for (int r = 0; r < h->rows; r++) {
		uint64_t off = (uint64_t)r * row_bytes;
		for (int col = 0; col < h->cols; col++) {
			pic_rgb c = pic_heat(h->v[r * h->cols + col]);
			fprintf(f, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
				"fill=\"#%02x%02x%02x\"/>\n", LEFT + col * CELL_W, TOP + r * CELL_H,
				CELL_W, CELL_H, c.r, c.g, c.b);
		}
		if (r % 4 == 0)
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0x%lx</text>\n",
				LEFT - 8, TOP + r * CELL_H + 11, (unsigned long)(BASE + off));
		for (uint64_t o = off; o < off + row_bytes; o += PG)
			if (part_at(o)) {
				fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n"
					"<text x=\"%d\" y=\"%d\">", LEFT + h->cols * CELL_W,
					TOP + r * CELL_H, LEFT + h->cols * CELL_W + 8,
					TOP + r * CELL_H, LEFT + h->cols * CELL_W + 12,
					TOP + r * CELL_H + 12);
				pic_svg_text(f, part_at(o));
				fprintf(f, "</text>\n");
			}
	}
	int base = TOP + h->rows * CELL_H;
	for (int col = 0; col <= h->cols; col += 10)
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n"
			"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
			LEFT + col * CELL_W, base, LEFT + col * CELL_W, base + 5,
			LEFT + col * CELL_W, base + 18, col * AGGR_TICKS);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (ticks of 1 ms)</text>\n",
		LEFT + h->cols * CELL_W / 2, base + 34);
	for (int i = 0; i < 10; i++) {
		pic_rgb c = pic_heat(i / 9.0);
		fprintf(f, "<rect class=\"legend\" x=\"%d\" y=\"%d\" width=\"16\" height=\"12\" "
			"fill=\"#%02x%02x%02x\"/>\n", LEFT + i * 16, base + 48, c.r, c.g, c.b);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">idle</text>\n"
		"<text x=\"%d\" y=\"%d\">accessed in all %d samples of an aggregation</text>\n"
		"</svg>\n", LEFT - 6, base + 58, LEFT + 166, base + 58, AGGR_TICKS);
	return fclose(f) ? -EIO : 0;
}

static int draw_png(const struct heat *h, const char *path)
{
	pic_canvas cv;
	const pic_rgb ink = { 20, 20, 20 }, white = { 255, 255, 255 };
	int w = LEFT + h->cols * CELL_W + RIGHT, ht = TOP + h->rows * CELL_H + 90;
	uint64_t row_bytes = SPAN / (uint64_t)h->rows;
	char buf[64];

	if (pic_canvas_init(&cv, w, ht, white))
		return -ENOMEM;
	snprintf(buf, sizeof(buf), "DAMON heatmap, pid %d", h->pid);
	pic_text(&cv, 10, 10, 2, buf, ink);
	pic_text(&cv, 10, 40, 1, "address", ink);
	for (int r = 0; r < h->rows; r++) {
		uint64_t off = (uint64_t)r * row_bytes;
		for (int col = 0; col < h->cols; col++)
			pic_fill(&cv, LEFT + col * CELL_W, TOP + r * CELL_H, CELL_W, CELL_H,
				 pic_heat(h->v[r * h->cols + col]));
		if (r % 4 == 0) {
			snprintf(buf, sizeof(buf), "0x%lx", (unsigned long)(BASE + off));
			pic_text(&cv, LEFT - 8 - pic_text_width(buf, 1), TOP + r * CELL_H + 3, 1, buf, ink);
		}
		for (uint64_t o = off; o < off + row_bytes; o += PG)
			if (part_at(o)) {
				pic_fill(&cv, LEFT + h->cols * CELL_W, TOP + r * CELL_H, 8, 1, ink);
				pic_text(&cv, LEFT + h->cols * CELL_W + 12, TOP + r * CELL_H + 3, 1,
					 part_at(o), ink);
			}
	}
	int base = TOP + h->rows * CELL_H;
	for (int col = 0; col <= h->cols; col += 10) {
		snprintf(buf, sizeof(buf), "%d", col * AGGR_TICKS);
		pic_fill(&cv, LEFT + col * CELL_W, base, 1, 5, ink);
		pic_text(&cv, LEFT + col * CELL_W - pic_text_width(buf, 1) / 2, base + 9, 1, buf, ink);
	}
	pic_text(&cv, LEFT + h->cols * CELL_W / 2 - 60, base + 26, 1, "time (ticks)", ink);
	for (int i = 0; i < 10; i++)
		pic_fill(&cv, LEFT + i * 16, base + 48, 16, 12, pic_heat(i / 9.0));
	pic_text(&cv, LEFT - 6 - pic_text_width("idle", 1), base + 51, 1, "idle", ink);
	pic_text(&cv, LEFT + 166, base + 51, 1, "hot", ink);
	int rc = pic_write_png(&cv, path);
	pic_canvas_free(&cv);
	return rc;
}

static int number_arg(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s ? s : "", &end, 0);

	if (!s || !*s || *end || v < lo || v > hi) {
		fprintf(stderr, "peimm damon: %s '%s': want a number from %ld to %ld\n", opt,
			s ? s : "", lo, hi);
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

int cmd_damon(int argc, char **argv)
{
	long ticks = 1200, rows = 32, seed = 1;
	const char *out = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf("%s\n\nRuns a built-in workload under DAMON and draws what DAMON saw:\n"
			       "address down, time across, brighter = accessed in more samples. The\n"
			       "workload maps 8M: a hot 2M read every tick, a cold 2M written once, and\n"
			       "4M crossed by a 512K hot spot that moves as time goes on.\n\n"
			       "  --ticks N   simulated milliseconds to run (default 1200; 20 a column)\n"
			       "  --seconds N the same in simulated seconds\n"
			       "  --rows N    address rows (default 32)\n"
			       "  --seed N    the system's seed (default 1)\n"
			       "  --out FILE  write FILE.svg or FILE.png instead of drawing on the terminal\n"
			       "              (colour cells, or characters when NO_COLOR is set or stdout\n"
			       "              is not a terminal)\n", DAMON_USAGE);
			return 0;
		}
		if (!strcmp(a, "--ticks")) {
			if (number_arg(a, i + 1 < argc ? argv[++i] : NULL, AGGR_TICKS, 100000, &ticks))
				return 2;
		} else if (!strcmp(a, "--seconds")) {
			if (number_arg(a, i + 1 < argc ? argv[++i] : NULL, 1, 100, &ticks))
				return 2;
			ticks *= 1000;	/* one tick is one simulated millisecond */
		} else if (!strcmp(a, "--rows")) {
			if (number_arg(a, i + 1 < argc ? argv[++i] : NULL, 4, 256, &rows))
				return 2;
		} else if (!strcmp(a, "--seed")) {
			if (number_arg(a, i + 1 < argc ? argv[++i] : NULL, 0, 0x7fffffff, &seed))
				return 2;
		} else if (!strcmp(a, "--out")) {
			out = i + 1 < argc ? argv[++i] : NULL;
			if (!out || (!ends_with(out, ".svg") && !ends_with(out, ".png"))) {
				fprintf(stderr, "peimm damon: --out wants FILE.svg or FILE.png\n");
				return 2;
			}
		} else {
			fprintf(stderr, "peimm damon: unknown %s '%s' (%s)\n",
				a[0] == '-' ? "option" : "argument", a, DAMON_USAGE);
			return 2;
		}
	}
	struct heat h = { .rows = (int)rows, .cols = (int)(ticks / AGGR_TICKS), .ticks = ticks };
	h.ticks = (long)h.cols * AGGR_TICKS;
	h.v = calloc((size_t)h.rows * (size_t)h.cols, sizeof(double));
	if (!h.v || run_workload(&h, (uint64_t)seed)) {
		free(h.v);
		return 1;
	}
	int rc = 0;
	if (!out)
		draw_terminal(&h);
	else
		rc = ends_with(out, ".svg") ? draw_svg(&h, out) : draw_png(&h, out);
	if (rc)
		fprintf(stderr, "peimm damon: cannot write '%s': %s\n", out, strerror(-rc));
	else if (out)
		printf("wrote %s (%d rows x %d columns)\n", out, h.rows, h.cols);
	free(h.v);
	return rc ? 1 : 0;
}
