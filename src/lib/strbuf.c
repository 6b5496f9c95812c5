/*
 * strbuf: append-only text building with one sticky error. The buffer doubles when full,
 * so rendering n lines costs O(n) amortised.
 */
#include "lib/strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/kmem.h"

void sb_init(struct strbuf *sb, struct kmem *km)
{
	sb->km = km;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->err = 0;
}

void sb_release(struct strbuf *sb)
{
	kmem_free(sb->km, sb->buf, sb->cap);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

static int sb_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->err)
		return -1;
	if (sb->len + extra + 1 <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	char *nb = kmem_realloc(sb->km, sb->buf, sb->cap, cap);
	if (!nb) {
		sb->err = -ENOMEM;
		return -1;
	}
	sb->buf = nb;
	sb->cap = cap;
	return 0;
}

void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
	if (sb_reserve(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s) { sb_putn(sb, s, strlen(s)); }

void sb_putc(struct strbuf *sb, char c)
{
	if (sb_reserve(sb, 1))
		return;
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sb_hex(struct strbuf *sb, uint64_t v, int width)
{
	static const char digits[] = "0123456789abcdef";
	/* The digit count comes from the highest set bit, so the digits are written in place,
	 * last first, with no staging copy (maps of 20k VMAs spends most of its time here). */
	int n = v ? (67 - __builtin_clzll(v)) / 4 : 1;
	if (n < width)
		n = width < 16 ? width : 16;
	if (sb_reserve(sb, (size_t)n))
		return;
	char *p = sb->buf + sb->len;
	for (int i = n - 1; i >= 0; i--, v >>= 4)
		p[i] = digits[v & 15];
	sb->len += (size_t)n;
	sb->buf[sb->len] = '\0';
}

void sb_dec(struct strbuf *sb, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	int pad = width > n ? width - n : 0;
	if (sb_reserve(sb, (size_t)(n + pad)))
		return;
	while (pad--)
		sb->buf[sb->len++] = ' ';
	for (int i = n - 1; i >= 0; i--)
		sb->buf[sb->len++] = tmp[i];
	sb->buf[sb->len] = '\0';
}

void sb_pad_to(struct strbuf *sb, size_t col)
{
	size_t line_start = sb->len;
	while (line_start > 0 && sb->buf[line_start - 1] != '\n')
		line_start--;
	size_t have = sb->len - line_start;
	if (have >= col || sb_reserve(sb, col - have))
		return;
	memset(sb->buf + sb->len, ' ', col - have);
	sb->len += col - have;
	sb->buf[sb->len] = '\0';
}
