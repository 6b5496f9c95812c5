/*
 * Expectations of the scenario language: what may follow "=>" or 'expect', checked against
 * the last result. Numbers compare as signed 64-bit values; faults by signal, si_code,
 * address and pkey; bytes by content. Each check counts once, and a miss prints
 * "expected X, got Y" with errnos by name and addresses in hex. Nothing here changes the
 * result it checks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

/* "..." with escapes, at most 64 bytes of it, into buf. */
static void fmt_bytes(const unsigned char *p, size_t len, char *buf, size_t size)
{
	size_t o = 0, shown = len < 64 ? len : 64;

	o += (size_t)snprintf(buf + o, size - o, "\"");
	for (size_t i = 0; i < shown && o + 8 < size; i++) {
		if (isprint(p[i]) && p[i] != '"' && p[i] != '\\')
			buf[o++] = (char)p[i];
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", p[i]);
	}
	snprintf(buf + o, size - o, shown < len ? "\"... (%zu bytes)" : "\"", len);
}

/* "SIGSEGV SEGV_MAPERR at 0x1000", with numbers where a name is unknown. */
static void fmt_fault(const pm_siginfo *si, char *buf, size_t size)
{
	const char *sig = sc_signal_name(si->signo), *code = sc_code_name(si->signo, si->code);
	int o = sig ? snprintf(buf, size, "%s", sig) : snprintf(buf, size, "signal %d", si->signo);

	if (code)
		o += snprintf(buf + o, size - (size_t)o, " %s", code);
	else
		o += snprintf(buf + o, size - (size_t)o, " code %d", si->code);
	o += snprintf(buf + o, size - (size_t)o, " at 0x%llx", (unsigned long long)si->addr);
	if (si->signo == 11 && si->code == 4)	/* SEGV_PKUERR names the key */
		snprintf(buf + o, size - (size_t)o, " pkey %d", si->pkey);
}

void sc_fmt_result(const sc_result *r, char *buf, size_t size)
{
	char b[40];

	if (r->kind == SC_RES_NUM)
		snprintf(buf, size, "%s", sc_fmt_num(r->num, b));
	else if (r->kind == SC_RES_FAULT)
		fmt_fault(&r->si, buf, size);
	else if (r->kind == SC_RES_BYTES)
		fmt_bytes(r->bytes, r->len, buf, size);
	else
		snprintf(buf, size, "nothing");
}

/* Counts the check; on a miss prints "expected WANT, got <result>". */
static void verdict(sc_ctx *c, int ok, const char *want)
{
	char got[400];

	if (ok) {
		sc_pass(c);
		return;
	}
	sc_fmt_result(&c->last, got, sizeof(got));
	sc_fail(c, "expected %s, got %s", want, got);
}

static int is_number(const sc_result *r)
{
	return r->kind == SC_RES_NUM || r->kind == SC_RES_FAULT;
}

int sc_expect_ok(sc_ctx *c)
{
	const sc_result *r = &c->last;

	verdict(c, r->kind == SC_RES_BYTES || (r->kind == SC_RES_NUM && r->num >= 0), "ok");
	return SC_OK;
}

/* SIGxxx [CODE] [ADDR] [pkey=N]: a fault with those properties. */
static int expect_fault(sc_ctx *c, const sc_tok *t, size_t n, long sig)
{
	const sc_result *r = &c->last;
	long code = 0, addr = 0, pkey = 0;
	int has_pkey = 0;
	char want[200];

	if (n > 1 && !strncmp(t[n - 1].s, "pkey=", 5)) {
		sc_tok pt = { .s = t[n - 1].s + 5, .len = t[n - 1].len - 5 };
		if (sc_eval(c, &pt, &pkey) != SC_OK)
			return SC_BAD;
		has_pkey = 1;
		n--;
	}
	if (n > 3)
		return sc_bad(c, "expected SIGNAL [CODE] [ADDR] [pkey=N]");
	if ((n > 1 && sc_eval(c, &t[1], &code) != SC_OK) ||
	    (n > 2 && sc_eval(c, &t[2], &addr) != SC_OK))
		return SC_BAD;
	const char *cn = sc_code_name((int)sig, (int)code);
	int len = snprintf(want, sizeof(want), "%s", sc_signal_name((int)sig));
	if (n > 1)
		len += snprintf(want + len, sizeof(want) - (size_t)len, cn ? " %s" : " code %.0s%ld",
				cn ? cn : "", code);
	if (n > 2)
		len += snprintf(want + len, sizeof(want) - (size_t)len, " at 0x%lx", (unsigned long)addr);
	if (has_pkey)
		snprintf(want + len, sizeof(want) - (size_t)len, " pkey %ld", pkey);
	verdict(c, r->kind == SC_RES_FAULT && r->si.signo == sig && (n < 2 || r->si.code == code) &&
		(n < 3 || r->si.addr == (uint64_t)addr) && (!has_pkey || r->si.pkey == pkey), want);
	return SC_OK;
}

/* "string", bytes ..., u64 ... or zero N: the bytes read must be exactly these. */
static int expect_data(sc_ctx *c, const sc_tok *t, size_t n)
{
	const sc_result *r = &c->last;
	unsigned char *want;
	size_t len;
	char wbuf[400];

	if (sc_data(c, t, n, &want, &len) != SC_OK)
		return SC_BAD;
	fmt_bytes(want, len, wbuf, sizeof(wbuf));
	verdict(c, r->kind == SC_RES_BYTES && r->len == len && !memcmp(r->bytes, want, len), wbuf);
	free(want);
	return SC_OK;
}

/* zero: the bytes read are all 0; contains S: they include S. */
static int expect_bytes_test(sc_ctx *c, const sc_tok *t, size_t n)
{
	const sc_result *r = &c->last;
	char want[300];
	int ok = r->kind == SC_RES_BYTES;

	if (!strcmp(t[0].s, "zero")) {
		for (size_t i = 0; ok && i < r->len; i++)
			ok = r->bytes[i] == 0;
		verdict(c, ok, "all zero bytes");
		return SC_OK;
	}
	if (n != 2 || !t[1].quoted)
		return sc_bad(c, "usage: contains \"TEXT\"");
	snprintf(want, sizeof(want), "text containing \"%.200s\"", t[1].s);
	verdict(c, ok && (t[1].len == 0 || (r->len >= t[1].len &&
					     memmem(r->bytes, r->len, t[1].s, t[1].len))), want);
	return SC_OK;
}

/* range LO HI, aligned N, not X: numeric tests with operands. */
static int expect_numeric(sc_ctx *c, const sc_tok *t, size_t n)
{
	const sc_result *r = &c->last;
	long a = 0, b = 0;
	char want[200], ba[40], bb[40];
	int range = !strcmp(t[0].s, "range"), aligned = !strcmp(t[0].s, "aligned");

	if (n != (range ? 3u : 2u))
		return sc_bad(c, range ? "usage: range LO HI" : "usage: %s N", t[0].s);
	if (sc_eval(c, &t[1], &a) != SC_OK || (range && sc_eval(c, &t[2], &b) != SC_OK))
		return SC_BAD;
	if (aligned && a <= 0)
		return sc_bad(c, "alignment must be positive");
	int num = is_number(r);
	if (range) {
		snprintf(want, sizeof(want), "a value in [%s, %s]", sc_fmt_num(a, ba), sc_fmt_num(b, bb));
		verdict(c, num && r->num >= a && r->num <= b, want);
	} else if (aligned) {
		snprintf(want, sizeof(want), "a non-negative multiple of %s", sc_fmt_num(a, ba));
		verdict(c, num && r->num >= 0 && r->num % a == 0, want);
	} else {
		snprintf(want, sizeof(want), "anything but %s", sc_fmt_num(a, ba));
		verdict(c, num && r->num != a, want);
	}
	return SC_OK;
}

static int is_data_word(const sc_tok *t, size_t n)
{
	static const char *const kw[] = { "bytes", "u8", "u16", "u32", "u64" };

	if (t->quoted || (!strcmp(t->s, "zero") && n > 1))
		return 1;
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (!strcmp(t->s, kw[i]))
			return 1;
	return 0;
}

/* Checks tok[0 .. n) against the last result. SC_BAD only for a malformed expectation. */
int sc_expect(sc_ctx *c, const sc_tok *t, size_t n)
{
	const sc_result *r = &c->last;
	long v;
	char want[40];

	if (n == 0)
		return sc_bad(c, "missing expectation");
	if (r->kind == SC_RES_NONE)
		return sc_bad(c, "nothing to check: the previous command gives no result");
	if (is_data_word(&t[0], n))
		return expect_data(c, t, n);
	const char *w = t[0].s;
	if (!strcmp(w, "zero") || !strcmp(w, "contains"))
		return expect_bytes_test(c, t, n);
	if (!strcmp(w, "range") || !strcmp(w, "aligned") || !strcmp(w, "not"))
		return expect_numeric(c, t, n);
	if (!strncmp(w, "SIG", 3) && sc_const_value(w, &v) && sc_signal_name((int)v))
		return expect_fault(c, t, n, v);
	if (n != 1)
		return sc_bad(c, "unexpected '%.40s' after the expectation", t[1].s);
	if (!strcmp(w, "ok"))
		return sc_expect_ok(c);
	if (!strcmp(w, "err") || !strcmp(w, "error")) {
		verdict(c, is_number(r) && r->num < 0, "an error");
		return SC_OK;
	}
	if (sc_eval(c, &t[0], &v) != SC_OK)
		return SC_BAD;
	verdict(c, is_number(r) && r->num == v, sc_fmt_num(v, want));
	return SC_OK;
}
