/*
 * The drawing helpers of picture.h. The PNG is as plain as the format allows: one IHDR, one
 * IDAT holding a zlib stream of stored (uncompressed) deflate blocks, one IEND; every
 * checksum is computed here, bit by bit, with no table kept between calls. Nothing here
 * knows about peimm: it draws what the commands give it and never reads the library.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "picture.h"

int pic_canvas_init(pic_canvas *c, int w, int h, pic_rgb bg)
{
	c->w = w;
	c->h = h;
	c->px = malloc((size_t)w * (size_t)h * 3);
	if (!c->px)
		return -ENOMEM;
	pic_fill(c, 0, 0, w, h, bg);
	return 0;
}

void pic_canvas_free(pic_canvas *c)
{
	free(c->px);
	c->px = NULL;
}

void pic_fill(pic_canvas *c, int x, int y, int w, int h, pic_rgb col)
{
	int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;

	for (int j = y < 0 ? 0 : y; j < y1; j++)
		for (int i = x < 0 ? 0 : x; i < x1; i++) {
			uint8_t *p = c->px + ((size_t)j * (size_t)c->w + (size_t)i) * 3;
			p[0] = col.r;
			p[1] = col.g;
			p[2] = col.b;
		}
}

/* 5x7 glyphs, one byte a row, bit 4 the leftmost column. */
static const struct { char ch; uint8_t rows[7]; } font[] = {
	{ '0', { 0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E } },
	{ '1', { 0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E } },
	{ '2', { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F } },
	{ '3', { 0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E } },
	{ '4', { 0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02 } },
	{ '5', { 0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E } },
	{ '6', { 0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E } },
	{ '7', { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 } },
	{ '8', { 0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E } },
	{ '9', { 0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C } },
	{ 'a', { 0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F } },
	{ 'b', { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E } },
	{ 'c', { 0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E } },
	{ 'd', { 0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F } },
	{ 'e', { 0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E } },
	{ 'f', { 0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08 } },
	{ 'g', { 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E } },
	{ 'h', { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11 } },
	{ 'i', { 0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E } },
	{ 'k', { 0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12 } },
	{ 'l', { 0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E } },
	{ 'm', { 0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11 } },
	{ 'n', { 0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11 } },
	{ 'o', { 0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E } },
	{ 'p', { 0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10 } },
	{ 'r', { 0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10 } },
	{ 's', { 0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E } },
	{ 't', { 0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06 } },
	{ 'u', { 0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D } },
	{ 'v', { 0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04 } },
	{ 'w', { 0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A } },
	{ 'x', { 0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11 } },
	{ 'y', { 0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E } },
	{ 'A', { 0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11 } },
	{ 'D', { 0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E } },
	{ 'G', { 0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F } },
	{ 'K', { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 } },
	{ 'M', { 0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11 } },
	{ 'N', { 0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11 } },
	{ 'O', { 0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E } },
	{ 'T', { 0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 } },
	{ '+', { 0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00 } },
	{ '-', { 0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00 } },
	{ '.', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C } },
	{ ':', { 0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00 } },
	{ '(', { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 } },
	{ ')', { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 } },
	{ '/', { 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00 } },
	{ ',', { 0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08 } },
};

int pic_text_width(const char *s, int scale)
{
	return (int)strlen(s) * 6 * scale;
}

void pic_text(pic_canvas *c, int x, int y, int scale, const char *s, pic_rgb col)
{
	for (; *s; s++, x += 6 * scale)
		for (size_t g = 0; g < sizeof(font) / sizeof(font[0]); g++) {
			if (font[g].ch != *s)
				continue;
			for (int r = 0; r < 7; r++)
				for (int b = 0; b < 5; b++)
					if (font[g].rows[r] & (0x10 >> b))
						pic_fill(c, x + b * scale, y + r * scale, scale, scale, col);
			break;
		}
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
	}
	return ~crc;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One chunk: length, type, data, CRC over type and data. */
static int chunk(FILE *f, const char *type, const uint8_t *data, size_t n)
{
	uint8_t hdr[8], crc[4];

	be32(hdr, (uint32_t)n);
	memcpy(hdr + 4, type, 4);
	be32(crc, n ? crc32_update(crc32_update(0, hdr + 4, 4), data, n) :
		      crc32_update(0, hdr + 4, 4));
	return fwrite(hdr, 1, 8, f) == 8 && (!n || fwrite(data, 1, n, f) == n) &&
	       fwrite(crc, 1, 4, f) == 4 ? 0 : -EIO;
}

int pic_write_png(const pic_canvas *c, const char *path)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t row = (size_t)c->w * 3 + 1, raw = row * (size_t)c->h;
	size_t blocks = raw / 65535 + 1, zlen = 2 + raw + blocks * 5 + 4;
	uint8_t ihdr[13] = { 0 }, *z = malloc(zlen);
	uint32_t a = 1, b = 0;
	size_t zo = 0, done = 0;
	int rc = -ENOMEM;

	if (!z)
		return rc;
	be32(ihdr, (uint32_t)c->w);
	be32(ihdr + 4, (uint32_t)c->h);
	ihdr[8] = 8;		/* bit depth */
	ihdr[9] = 2;		/* colour type: RGB */
	z[zo++] = 0x78;		/* zlib: deflate, 32K window */
	z[zo++] = 0x01;		/* no preset dictionary, fastest; 0x7801 % 31 == 0 */
	while (done < raw || done == 0) {
		size_t n = raw - done > 65535 ? 65535 : raw - done;
		z[zo++] = done + n == raw;	/* BFINAL on the last, BTYPE 00 = stored */
		z[zo++] = (uint8_t)n;
		z[zo++] = (uint8_t)(n >> 8);
		z[zo++] = (uint8_t)~n;
		z[zo++] = (uint8_t)(~n >> 8);
		for (size_t i = 0; i < n; i++, done++) {
			size_t y = done / row, x = done % row;
			uint8_t v = x == 0 ? 0 : c->px[y * (size_t)c->w * 3 + x - 1];	/* filter 0 */
			z[zo++] = v;
			a = (a + v) % 65521;
			b = (b + a) % 65521;
		}
		if (raw == 0)
			break;
	}
	be32(z + zo, (b << 16) | a);
	zo += 4;
	FILE *f = fopen(path, "wb");
	if (!f) {
		rc = -errno;
		goto out;
	}
	rc = fwrite(sig, 1, 8, f) == 8 ? 0 : -EIO;
	if (!rc)
		rc = chunk(f, "IHDR", ihdr, sizeof(ihdr));
	if (!rc)
		rc = chunk(f, "IDAT", z, zo);
	if (!rc)
		rc = chunk(f, "IEND", NULL, 0);
	if (fclose(f) && !rc)
		rc = -EIO;
out:
	free(z);
	return rc;
}

pic_rgb pic_heat(double v)
{
	static const pic_rgb stops[] = {
		{ 24, 24, 48 }, { 72, 30, 120 }, { 180, 40, 90 }, { 240, 110, 40 }, { 255, 230, 120 },
	};
	const int n = sizeof(stops) / sizeof(stops[0]) - 1;

	v = v < 0 ? 0 : v > 1 ? 1 : v;
	int i = (int)(v * n);
	if (i >= n)
		return stops[n];
	double f = v * n - i;
	return (pic_rgb){ (uint8_t)(stops[i].r + f * (stops[i + 1].r - stops[i].r)),
			  (uint8_t)(stops[i].g + f * (stops[i + 1].g - stops[i].g)),
			  (uint8_t)(stops[i].b + f * (stops[i + 1].b - stops[i].b)) };
}

void pic_svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

int pic_term_colours(void)
{
	const char *ct = getenv("COLORTERM");

	if (!isatty(STDOUT_FILENO) || getenv("NO_COLOR"))
		return 0;
	return ct && (!strcmp(ct, "truecolor") || !strcmp(ct, "24bit")) ? 2 : 1;
}

void pic_term_bg(FILE *f, int mode, pic_rgb col)
{
	if (mode == 2)
		fprintf(f, "\033[48;2;%u;%u;%um", col.r, col.g, col.b);
	else if (mode == 1)
		fprintf(f, "\033[48;5;%dm", 16 + 36 * ((col.r * 5 + 127) / 255) +
			6 * ((col.g * 5 + 127) / 255) + (col.b * 5 + 127) / 255);
}

void pic_size(char *buf, size_t size, uint64_t bytes)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%lluB", (unsigned long long)bytes);
	else if (v == (double)(uint64_t)v || v >= 100)
		snprintf(buf, size, "%.0f%c", v, units[u]);
	else
		snprintf(buf, size, "%.1f%c", v, units[u]);
}
