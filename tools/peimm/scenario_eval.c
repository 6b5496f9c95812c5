/*
 * Values of the scenario language: arithmetic on numbers, $variables and symbolic names
 * ('|', then '&', then '+' '-', then '*' '/', unary '-' '~', parentheses), the byte data that
 * write and scratch take, and the way numbers print (errnos by name, addresses in hex).
 * Arithmetic wraps like uint64_t; a number that does not fit, a division by zero or an
 * unknown name is a script error, never undefined behaviour.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

enum { SC_MAX_DEPTH = 64, SC_MAX_DATA = 64 << 20 };

typedef struct sc_ep {
	sc_ctx     *c;
	const char *word;	/* the whole word, for messages */
	const char *p;		/* the next character */
	int         bad;	/* set once an error was reported */
	int         depth;
} sc_ep;

static uint64_t e_or(sc_ep *e);

static uint64_t e_fail(sc_ep *e, const char *what)
{
	if (!e->bad)
		sc_bad(e->c, "%s in '%.60s%s'", what, e->word, strlen(e->word) > 60 ? "..." : "");
	e->bad = 1;
	return 0;
}

/* Multiplies by the K/M/G/T suffix at e->p, if any. */
static uint64_t e_suffix(sc_ep *e, uint64_t v)
{
	static const char units[] = "KMGT";
	const char *u = *e->p ? strchr(units, toupper((unsigned char)*e->p)) : NULL;

	if (!u)
		return v;
	e->p++;
	unsigned shift = 10 * (unsigned)(u - units + 1);
	if (v > (UINT64_MAX >> shift))
		return e_fail(e, "number too large");
	return v << shift;
}

/* A C-style literal: 0x hex, leading-0 octal, else decimal; then an optional size suffix. */
static uint64_t e_number(sc_ep *e)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (e->p[0] == '0' && (e->p[1] == 'x' || e->p[1] == 'X') && isxdigit((unsigned char)e->p[2])) {
		base = 16;
		e->p += 2;
	} else if (e->p[0] == '0' && isdigit((unsigned char)e->p[1])) {
		base = 8;
	}
	for (;; e->p++) {
		int ch = tolower((unsigned char)*e->p), d;
		if (isdigit(ch))
			d = ch - '0';
		else if (base == 16 && ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else
			break;
		if ((unsigned)d >= base)
			return e_fail(e, "bad digit");
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return e_fail(e, "number too large");
		v = v * base + (unsigned)d;
	}
	v = e_suffix(e, v);
	if (isalnum((unsigned char)*e->p) || *e->p == '_')
		return e_fail(e, "bad number");
	return v;
}

/* A $variable or a symbolic constant. */
static uint64_t e_name(sc_ep *e)
{
	char name[64];
	size_t n = 0;
	int var = *e->p == '$';

	e->p += var;
	while (isalnum((unsigned char)e->p[n]) || e->p[n] == '_')
		n++;
	if (n == 0 || n >= sizeof(name))
		return e_fail(e, n ? "name too long" : "missing name after '$'");
	memcpy(name, e->p, n);
	name[n] = '\0';
	e->p += n;
	long v;
	if (var) {
		sc_name *s = sc_find(e->c, SC_VAR, name);
		if (!s && !e->bad)
			sc_bad(e->c, "undefined variable $%s", name);
		e->bad |= !s;
		return s ? (uint64_t)s->u.value : 0;
	}
	if (!sc_const_value(name, &v)) {
		if (!e->bad)
			sc_bad(e->c, "unknown name '%s'", name);
		e->bad = 1;
		return 0;
	}
	return (uint64_t)v;
}

static uint64_t e_unary(sc_ep *e)
{
	uint64_t v;

	if (++e->depth > SC_MAX_DEPTH)
		return e_fail(e, "expression nested too deeply");
	if (*e->p == '-' || *e->p == '~') {
		char op = *e->p++;
		v = e_unary(e);
		v = op == '-' ? (uint64_t)0 - v : ~v;
	} else if (*e->p == '(') {
		e->p++;
		v = e_or(e);
		if (*e->p != ')')
			return e_fail(e, "missing ')'");
		e->p++;
	} else if (isdigit((unsigned char)*e->p)) {
		v = e_number(e);
	} else if (*e->p == '$' || isalpha((unsigned char)*e->p) || *e->p == '_') {
		v = e_name(e);
	} else {
		v = e_fail(e, *e->p ? "unexpected character" : "missing operand");
	}
	e->depth--;
	return v;
}

static uint64_t e_prod(sc_ep *e)
{
	uint64_t v = e_unary(e);

	while (!e->bad && (*e->p == '*' || *e->p == '/')) {
		char op = *e->p++;
		uint64_t r = e_unary(e);
		if (op == '/' && r == 0)
			return e_fail(e, "division by zero");
		int64_t prod;
		if (op == '*' && __builtin_mul_overflow((int64_t)v, (int64_t)r, &prod))
			return e_fail(e, "multiplication overflows");
		if (op == '*')
			v = (uint64_t)prod;
		else	/* signed, and INT64_MIN / -1 must not trap: negate instead */
			v = r == UINT64_MAX ? (uint64_t)0 - v : (uint64_t)((int64_t)v / (int64_t)r);
	}
	return v;
}

static uint64_t e_sum(sc_ep *e)
{
	uint64_t v = e_prod(e);

	while (!e->bad && (*e->p == '+' || *e->p == '-')) {
		char op = *e->p++;
		uint64_t r = e_prod(e);
		v = op == '+' ? v + r : v - r;
	}
	return v;
}

static uint64_t e_and(sc_ep *e)
{
	uint64_t v = e_sum(e);

	while (!e->bad && *e->p == '&') {
		e->p++;
		v &= e_sum(e);
	}
	return v;
}

static uint64_t e_or(sc_ep *e)
{
	uint64_t v = e_and(e);

	while (!e->bad && *e->p == '|') {
		e->p++;
		v |= e_and(e);
	}
	return v;
}

/* Evaluates one word (no spaces inside). A quoted word is not a number. */
int sc_eval(sc_ctx *c, const sc_tok *t, long *out)
{
	if (t->quoted)
		return sc_bad(c, "expected a number, found the string \"%.40s\"", t->s);
	sc_ep e = { .c = c, .word = t->s, .p = t->s };
	uint64_t v = e_or(&e);
	if (!e.bad && *e.p)
		e_fail(&e, *e.p == ')' ? "unbalanced ')'" : "unexpected character");
	if (e.bad)
		return SC_BAD;
	*out = (long)v;
	return SC_OK;
}

/* ---- data for write and scratch ---- */

typedef struct sc_buf { unsigned char *p; size_t len, cap; } sc_buf;

static int buf_put(sc_ctx *c, sc_buf *b, const void *src, size_t n, size_t times)
{
	if (times && n > (SC_MAX_DATA - b->len) / times)
		return sc_bad(c, "data longer than %d MiB", SC_MAX_DATA >> 20);
	size_t need = b->len + n * times + 1;
	if (need > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		while (ncap < need)
			ncap *= 2;
		unsigned char *np = realloc(b->p, ncap);
		if (!np)
			return sc_bad(c, "out of memory");
		b->p = np;
		b->cap = ncap;
	}
	for (size_t i = 0; i < times; i++, b->len += n)
		memcpy(b->p + b->len, src, n);
	b->p[b->len] = 0;
	return SC_OK;
}

/* One item of "bytes": B or B*N, with B in 0..255. */
static int put_byte_item(sc_ctx *c, sc_buf *b, const sc_tok *t)
{
	char left[64];
	const char *star = strchr(t->s, '*');
	size_t ln = star ? (size_t)(star - t->s) : t->len;
	long v, n = 1;

	if (ln >= sizeof(left))
		return sc_bad(c, "byte value too long: '%.40s'", t->s);
	memcpy(left, t->s, ln);
	left[ln] = '\0';
	sc_tok lt = { .s = left, .len = ln };
	if (sc_eval(c, &lt, &v) != SC_OK)
		return SC_BAD;
	if (star && sc_eval(c, &(sc_tok){ .s = (char *)star + 1, .len = strlen(star + 1) }, &n))
		return SC_BAD;
	if (v < 0 || v > 255)
		return sc_bad(c, "byte value %ld out of range 0..255", v);
	if (n < 0 || n > SC_MAX_DATA)
		return sc_bad(c, "repeat count %ld out of range", n);
	unsigned char ch = (unsigned char)v;
	return buf_put(c, b, &ch, 1, (size_t)n);
}

/* One item in u8/u16/u32/u64 mode: an expression stored little-endian. */
static int put_word_item(sc_ctx *c, sc_buf *b, const sc_tok *t, unsigned width)
{
	long v;
	unsigned char le[8];

	if (sc_eval(c, t, &v) != SC_OK)
		return SC_BAD;
	for (unsigned i = 0; i < width; i++)
		le[i] = (unsigned char)((uint64_t)v >> (8 * i));
	return buf_put(c, b, le, width, 1);
}

/* What the non-string words of data mean: set by the keyword before them. */
typedef enum { M_NONE, M_BYTES, M_ZERO, M_U8, M_U16, M_U32, M_U64 } sc_mode;

static sc_mode mode_of(const sc_tok *t)
{
	static const char *const kw[] = { [M_BYTES] = "bytes", [M_ZERO] = "zero", [M_U8] = "u8",
					  [M_U16] = "u16", [M_U32] = "u32", [M_U64] = "u64" };
	for (unsigned m = M_BYTES; !t->quoted && m <= M_U64; m++)
		if (!strcmp(t->s, kw[m]))
			return (sc_mode)m;
	return M_NONE;
}

/* One data item under the current mode (a keyword has already been consumed). */
static int put_item(sc_ctx *c, sc_buf *b, const sc_tok *t, sc_mode mode)
{
	static const unsigned width[] = { [M_U8] = 1, [M_U16] = 2, [M_U32] = 4, [M_U64] = 8 };
	long n;

	if (t->quoted)
		return buf_put(c, b, t->s, t->len, 1);
	if (mode == M_NONE)
		return sc_bad(c, "expected a string or bytes/u8/u16/u32/u64/zero, found '%.40s'",
			      t->s);
	if (mode == M_BYTES)
		return put_byte_item(c, b, t);
	if (mode != M_ZERO)
		return put_word_item(c, b, t, width[mode]);
	if (sc_eval(c, t, &n) != SC_OK)
		return SC_BAD;
	if (n < 0 || n > SC_MAX_DATA)
		return sc_bad(c, "zero count %ld out of range", n);
	return buf_put(c, b, "", 1, (size_t)n);
}

/*
 * Builds bytes from data words: "strings" (no terminator added), 'bytes B B*N ...',
 * 'u8|u16|u32|u64 EXPR ...' (little-endian) and 'zero N ...'. *buf is malloc'd (caller
 * frees) and NUL-terminated beyond *len. On failure nothing is allocated.
 */
int sc_data(sc_ctx *c, const sc_tok *t, size_t n, unsigned char **buf, size_t *len)
{
	sc_buf b = { 0 };
	sc_mode mode = M_NONE;

	if (n == 0)
		return sc_bad(c, "missing data (a string, bytes, u64 ... or zero N)");
	if (buf_put(c, &b, "", 0, 0) != SC_OK)
		return SC_BAD;
	for (size_t i = 0; i < n; i++) {
		sc_mode m = mode_of(&t[i]);
		if (m != M_NONE) {
			mode = m;
			continue;
		}
		if (put_item(c, &b, &t[i], mode) != SC_OK) {
			free(b.p);
			return SC_BAD;
		}
	}
	*buf = b.p;
	*len = b.len;
	return SC_OK;
}

/* Errnos by name, small numbers in decimal, addresses and other large values in hex. */
const char *sc_fmt_num(long v, char buf[40])
{
	const char *name = v < 0 && v >= -4095 ? sc_errno_name(v) : NULL;

	if (name)
		snprintf(buf, 40, "-%s", name);
	else if (v > -65536 && v < 65536)
		snprintf(buf, 40, "%ld", v);
	else
		snprintf(buf, 40, "0x%lx", (unsigned long)v);
	return buf;
}
