/*
 * Splits one scenario line into words: whitespace separates words, "..." is one word with
 * C escapes (\n \t \r \0 \\ \" \xHH), '#' outside quotes starts a comment, and a lone "=>"
 * divides the command from its expectation. It owns no state between lines and never
 * evaluates anything; an unterminated string or a bad escape is a script error.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

enum { SC_MAX_WORDS = 4096 };

char *sc_trim(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Decodes the escape after the backslash at *p into *out; advances *p past it. */
static int unescape(sc_ctx *c, const char **p, char *out)
{
	const char *s = *p;
	static const char from[] = "ntr0\\\"", to[] = "\n\t\r\0\\\"";
	const char *f = *s ? strchr(from, *s) : NULL;

	if (!*s)
		return sc_bad(c, "unterminated string");
	if (f) {
		*out = to[f - from];
		*p = s + 1;
		return SC_OK;
	}
	if (*s == 'x' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
		*out = (char)(hexval(s[1]) * 16 + hexval(s[2]));
		*p = s + 3;
		return SC_OK;
	}
	return sc_bad(c, "bad escape '\\%c' in string (use \\n \\t \\r \\0 \\\\ \\\" \\xHH)",
		      *s ? *s : ' ');
}

/* Reads the quoted word that starts at *p (on the opening quote). */
static int read_string(sc_ctx *c, const char **p, sc_tok *t)
{
	const char *s = *p + 1;
	size_t cap = strlen(s) + 1, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return sc_bad(c, "out of memory");
	while (*s && *s != '"') {
		char ch = *s++;
		if (ch == '\\' && unescape(c, &s, &ch) != SC_OK) {
			free(buf);
			return SC_BAD;
		}
		buf[n++] = ch;
	}
	if (*s != '"') {
		free(buf);
		return sc_bad(c, "unterminated string");
	}
	buf[n] = '\0';
	*t = (sc_tok){ .s = buf, .len = n, .quoted = 1 };
	*p = s + 1;
	return SC_OK;
}

/* Reads the plain word at *p: up to whitespace, a quote or a comment. */
static int read_word(sc_ctx *c, const char **p, sc_tok *t)
{
	const char *s = *p;
	size_t n = 0;

	while (s[n] && !isspace((unsigned char)s[n]) && s[n] != '"' && s[n] != '#')
		n++;
	char *buf = malloc(n + 1);
	if (!buf)
		return sc_bad(c, "out of memory");
	memcpy(buf, s, n);
	buf[n] = '\0';
	*t = (sc_tok){ .s = buf, .len = n, .quoted = 0 };
	*p = s + n;
	return SC_OK;
}

static int push(sc_ctx *c, sc_line *l, size_t *cap, sc_tok t)
{
	if (l->total == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		sc_tok *nt = ncap <= SC_MAX_WORDS ? realloc(l->tok, ncap * sizeof(*nt)) : NULL;
		if (!nt) {
			free(t.s);
			return sc_bad(c, "too many words on one line (at most %d)", SC_MAX_WORDS);
		}
		l->tok = nt;
		*cap = ncap;
	}
	l->tok[l->total++] = t;
	return SC_OK;
}

/* Records the "=>" divider, or complains about a second one. */
static int divider(sc_ctx *c, sc_line *l, sc_tok *t)
{
	free(t->s);
	if (l->has_expect)
		return sc_bad(c, "more than one '=>' on the line");
	l->has_expect = 1;
	l->n = l->total;
	return SC_OK;
}

/*
 * Splits text into out (zeroed first). Returns SC_OK with out->total == 0 for a blank or
 * comment line. On failure out holds nothing and needs no sc_line_free.
 */
int sc_split(sc_ctx *c, const char *text, sc_line *out)
{
	size_t cap = 0;
	const char *p = text;

	*out = (sc_line){ 0 };
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		sc_tok t = { 0 };
		int rc = *p == '"' ? read_string(c, &p, &t) : read_word(c, &p, &t);
		if (rc == SC_OK && !t.quoted && !strcmp(t.s, "=>"))
			rc = divider(c, out, &t);
		else if (rc == SC_OK)
			rc = push(c, out, &cap, t);
		if (rc != SC_OK) {
			sc_line_free(out);
			return rc;
		}
	}
	if (!out->has_expect)
		out->n = out->total;
	return SC_OK;
}

void sc_line_free(sc_line *l)
{
	for (size_t i = 0; i < l->total; i++)
		free(l->tok[i].s);
	free(l->tok);
	*l = (sc_line){ 0 };
}
