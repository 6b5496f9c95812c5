/*
 * Pictures for 'peimm damon' and 'peimm maps': an RGB canvas written as a PNG (stored
 * deflate blocks, CRC-32 and Adler-32 computed here: no image library), a small 5x7 font for
 * the canvas's labels, SVG text escaping, a heat colour ramp, and the terminal's colour
 * choice (truecolour, 256 colours, or none under NO_COLOR or off a terminal).
 */
#ifndef PEIMM_PICTURE_H
#define PEIMM_PICTURE_H

#include <stdint.h>
#include <stdio.h>

typedef struct pic_rgb { uint8_t r, g, b; } pic_rgb;

typedef struct pic_canvas {
	int      w, h;
	uint8_t *px;		/* w * h * 3 bytes, rows top to bottom */
} pic_canvas;

int  pic_canvas_init(pic_canvas *c, int w, int h, pic_rgb bg);	/* 0 or -ENOMEM */
void pic_canvas_free(pic_canvas *c);
void pic_fill(pic_canvas *c, int x, int y, int w, int h, pic_rgb col);	/* clipped */
/* Draws text with the 5x7 font scaled by `scale` (letters it lacks leave a blank). */
void pic_text(pic_canvas *c, int x, int y, int scale, const char *s, pic_rgb col);
int  pic_text_width(const char *s, int scale);
/* Writes the canvas as an 8-bit RGB PNG; 0 or -errno. */
int  pic_write_png(const pic_canvas *c, const char *path);

/* v in [0, 1] to a colour from dark (idle) to bright yellow (hot). */
pic_rgb pic_heat(double v);
/* Writes s to f with &, <, >, " escaped for SVG text and attributes. */
void pic_svg_text(FILE *f, const char *s);
/* 0 = no colour, 1 = 256 colours, 2 = truecolour: for stdout, from isatty, NO_COLOR and
 * COLORTERM. */
int  pic_term_colours(void);
/* Prints an ANSI background escape for col in the given mode (nothing for mode 0). */
void pic_term_bg(FILE *f, int mode, pic_rgb col);
/* "4K", "1.5M", "128T": a byte count in binary units. */
void pic_size(char *buf, size_t size, uint64_t bytes);

#endif
