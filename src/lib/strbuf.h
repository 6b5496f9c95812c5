/*
 * A growable text buffer for the /proc renderers and the CLI. Appends never fail loudly:
 * an allocation failure sets `err` to -ENOMEM and later appends are ignored, so a renderer
 * checks once at the end. The hex and decimal appenders avoid printf on the hot paths
 * (maps of 20k VMAs is a benchmark).
 */
#ifndef PM_LIB_STRBUF_H
#define PM_LIB_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct kmem;

struct strbuf {
	struct kmem *km;	/* allocator; immutable */
	char *buf;		/* NUL-terminated text, or NULL before the first append */
	size_t len;		/* bytes used, excluding the NUL */
	size_t cap;		/* bytes allocated */
	int err;		/* 0, or -ENOMEM once an append failed */
};

void sb_init(struct strbuf *sb, struct kmem *km);
void sb_release(struct strbuf *sb);
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lower-case hex, zero-padded to at least `width` digits. */
void sb_hex(struct strbuf *sb, uint64_t v, int width);
/* Decimal, right-aligned with spaces to at least `width` characters. */
void sb_dec(struct strbuf *sb, uint64_t v, int width);
/* Pads with spaces until the buffer holds `col` bytes since the last newline. */
void sb_pad_to(struct strbuf *sb, size_t col);

#endif
