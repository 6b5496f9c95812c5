/*
 * Draws the heatmap of damon_heat.h three ways: colour cells (or ramp characters) on a
 * terminal, an SVG, and a PNG through picture.c. Address down, time across; an axis of
 * addresses at the left, the rows' labels at the right, time ticks and a legend below.
 * It only draws what it is given; it never talks to the library.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "damon_heat.h"
#include "picture.h"

static const char ramp[] = " .:-=+*#%@";

static void caption(const struct heat *h, char *buf, size_t size)
{
	char row[16];
	pic_size(row, sizeof(row), h->total / (uint64_t)h->rows);
	snprintf(buf, size, "pid %d (%s), %ld ticks; one column = %d ticks, one row = %s%s",
		 h->pid, h->source, h->ticks, h->aggr_ticks, row,
		 h->nspans > 1 ? " of mapped memory (gaps cut, marked ~)" : "");
}

void damon_draw_terminal(const struct heat *h)
{
	int mode = pic_term_colours();
	char cap[200];

	caption(h, cap, sizeof(cap));
	printf("DAMON access heatmap: %s.\nBrighter = an access seen in more of the %d samples of "
	       "an aggregation.\n\n  %-16s time ->\n", cap, h->aggr_ticks, "address");
	for (int r = 0; r < h->rows; r++) {
		printf(" %c0x%012llx ", h->row_gap[r] ? '~' : ' ', (unsigned long long)h->row_addr[r]);
		for (int col = 0; col < h->cols; col++) {
			double v = h->v[r * h->cols + col];
			int k = (int)(v * 9 + 0.5) > 9 ? 9 : (int)(v * 9 + 0.5);
			if (mode) {
				pic_term_bg(stdout, mode, pic_heat(v));
				putchar(' ');
			} else {
				putchar(ramp[k]);
			}
		}
		printf("%s %s\n", mode ? "\033[0m" : "", h->row_label[r]);
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
	       mode ? "\033[0m" : "", h->aggr_ticks);
}

enum { CELL_W = 10, CELL_H = 14, LEFT = 170, TOP = 64, RIGHT = 230 };

int damon_draw_svg(const struct heat *h, const char *path)
{
	FILE *f = fopen(path, "w");
	int w = LEFT + h->cols * CELL_W + RIGHT, ht = TOP + h->rows * CELL_H + 90;
	int right = LEFT + h->cols * CELL_W;
	char cap[200];

	if (!f)
		return -errno;
	caption(h, cap, sizeof(cap));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"monospace\" font-size=\"12\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
		"<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">DAMON access heatmap</text>\n"
		"<text x=\"10\" y=\"40\">", w < 900 ? 900 : w, ht, w < 900 ? 900 : w, ht);
	pic_svg_text(f, cap);
	fprintf(f, "</text>\n<text x=\"10\" y=\"56\" fill=\"#555\">At the start DAMON's regions are "
		"coarse; within a few aggregations they split to follow the accesses.</text>\n");
	for (int r = 0; r < h->rows; r++) {
		int y = TOP + r * CELL_H;
		for (int col = 0; col < h->cols; col++) {
			pic_rgb c = pic_heat(h->v[r * h->cols + col]);
			fprintf(f, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
				"fill=\"#%02x%02x%02x\"/>\n", LEFT + col * CELL_W, y, CELL_W, CELL_H,
				c.r, c.g, c.b);
		}
		if (h->row_gap[r])
			fprintf(f, "<line class=\"gap\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
				"stroke=\"#ffffff\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>\n",
				LEFT - 4, y, right, y);
		if (r % 4 == 0 || h->row_gap[r])
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s0x%llx</text>\n",
				LEFT - 8, y + 11, h->row_gap[r] ? "~ " : "",
				(unsigned long long)h->row_addr[r]);
		if (h->row_label[r][0]) {
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n"
				"<text x=\"%d\" y=\"%d\">", right, y, right + 8, y, right + 12, y + 12);
			pic_svg_text(f, h->row_label[r]);
			fprintf(f, "</text>\n");
		}
	}
	int base = TOP + h->rows * CELL_H;
	for (int col = 0; col <= h->cols; col += 10)
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n"
			"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
			LEFT + col * CELL_W, base, LEFT + col * CELL_W, base + 5,
			LEFT + col * CELL_W, base + 18, col * h->aggr_ticks);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (ticks of 1 ms)</text>\n",
		LEFT + h->cols * CELL_W / 2, base + 34);
	for (int i = 0; i < 10; i++) {
		pic_rgb c = pic_heat(i / 9.0);
		fprintf(f, "<rect class=\"legend\" x=\"%d\" y=\"%d\" width=\"16\" height=\"12\" "
			"fill=\"#%02x%02x%02x\"/>\n", LEFT + i * 16, base + 48, c.r, c.g, c.b);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">idle</text>\n"
		"<text x=\"%d\" y=\"%d\">accessed in all %d samples of an aggregation</text>\n"
		"</svg>\n", LEFT - 6, base + 58, LEFT + 166, base + 58, h->aggr_ticks);
	return fclose(f) ? -EIO : 0;
}

int damon_draw_png(const struct heat *h, const char *path)
{
	pic_canvas cv;
	const pic_rgb ink = { 20, 20, 20 }, white = { 255, 255, 255 };
	int w = LEFT + h->cols * CELL_W + RIGHT, ht = TOP + h->rows * CELL_H + 90;
	int right = LEFT + h->cols * CELL_W;
	char buf[64];

	if (pic_canvas_init(&cv, w, ht, white))
		return -ENOMEM;
	snprintf(buf, sizeof(buf), "DAMON heatmap, pid %d", h->pid);
	pic_text(&cv, 10, 10, 2, buf, ink);
	pic_text(&cv, 10, 40, 1, "address", ink);
	for (int r = 0; r < h->rows; r++) {
		int y = TOP + r * CELL_H;
		for (int col = 0; col < h->cols; col++)
			pic_fill(&cv, LEFT + col * CELL_W, y, CELL_W, CELL_H,
				 pic_heat(h->v[r * h->cols + col]));
		if (h->row_gap[r])
			for (int x = LEFT - 4; x < right; x += 7)
				pic_fill(&cv, x, y - 1, 4, 2, white);
		if (r % 4 == 0 || h->row_gap[r]) {
			snprintf(buf, sizeof(buf), "%s0x%llx", h->row_gap[r] ? "- " : "",
				 (unsigned long long)h->row_addr[r]);
			pic_text(&cv, LEFT - 8 - pic_text_width(buf, 1), y + 3, 1, buf, ink);
		}
		if (h->row_label[r][0]) {
			pic_fill(&cv, right, y, 8, 1, ink);
			pic_text(&cv, right + 12, y + 3, 1, h->row_label[r], ink);
		}
	}
	int base = TOP + h->rows * CELL_H;
	for (int col = 0; col <= h->cols; col += 10) {
		snprintf(buf, sizeof(buf), "%d", col * h->aggr_ticks);
		pic_fill(&cv, LEFT + col * CELL_W, base, 1, 5, ink);
		pic_text(&cv, LEFT + col * CELL_W - pic_text_width(buf, 1) / 2, base + 9, 1, buf, ink);
	}
	pic_text(&cv, LEFT + h->cols * CELL_W / 2 - 36, base + 26, 1, "time (ticks)", ink);
	for (int i = 0; i < 10; i++)
		pic_fill(&cv, LEFT + i * 16, base + 48, 16, 12, pic_heat(i / 9.0));
	pic_text(&cv, LEFT - 6 - pic_text_width("idle", 1), base + 51, 1, "idle", ink);
	pic_text(&cv, LEFT + 166, base + 51, 1, "hot", ink);
	int rc = pic_write_png(&cv, path);
	pic_canvas_free(&cv);
	return rc;
}
