/*
 * The memory commands of the scenario language: write, fill, read, access, peek and
 * scratch. Every load and store goes through the software MMU (pm_access), so a fault
 * becomes a result (signal, code, address) that "=>" can check. Sizes are capped so that a
 * script cannot make the tool allocate without bound.
 */
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

enum { SC_MAX_READ = 16 << 20, SC_CHUNK = 64 << 10 };

/* Records what pm_access returned: a count, a fault, or another -errno. */
static void set_access(sc_ctx *c, long ret, const pm_siginfo *si)
{
	sc_set_num(c, ret);
	if (ret < 0 && si->signo != 0) {
		c->last.kind = SC_RES_FAULT;
		c->last.si = *si;
	}
}

/* PROC ADDR: the first two words after the command. */
static int proc_addr(sc_ctx *c, const sc_line *l, size_t min, const char *usage,
		     pm_thread **t, long *addr)
{
	if (l->n < min)
		return sc_bad(c, "usage: %s", usage);
	if (sc_proc_arg(c, &l->tok[1], t) != SC_OK || sc_eval(c, &l->tok[2], addr) != SC_OK)
		return SC_BAD;
	return SC_OK;
}

static int eval_len(sc_ctx *c, const sc_tok *t, long max, long *out)
{
	if (sc_eval(c, t, out) != SC_OK)
		return SC_BAD;
	if (*out < 0 || *out > max)
		return sc_bad(c, "length %ld out of range 0..%ld", *out, max);
	return SC_OK;
}

int sc_cmd_write(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;
	long addr;
	unsigned char *buf;
	size_t len;
	pm_siginfo si = { 0 };

	if (proc_addr(c, l, 4, "write PROC ADDR DATA...", &t, &addr) != SC_OK ||
	    sc_data(c, l->tok + 3, l->n - 3, &buf, &len) != SC_OK)
		return SC_BAD;
	long ret = pm_access(t, (uint64_t)addr, buf, len, PM_WRITE, &si);
	free(buf);
	set_access(c, ret, &si);
	return SC_OK;
}

int sc_cmd_fill(sc_ctx *c, const sc_line *l)
{
	static const long max_fill = 1L << 36;
	pm_thread *t = NULL;
	long addr, len, byte, ret = 0;
	pm_siginfo si = { 0 };

	if (l->n != 5)
		return sc_bad(c, "usage: fill PROC ADDR LEN BYTE");
	if (proc_addr(c, l, 5, "", &t, &addr) != SC_OK ||
	    eval_len(c, &l->tok[3], max_fill, &len) != SC_OK || sc_eval(c, &l->tok[4], &byte))
		return SC_BAD;
	if (byte < 0 || byte > 255)
		return sc_bad(c, "byte value %ld out of range 0..255", byte);
	unsigned char *chunk = malloc(SC_CHUNK);
	if (!chunk)
		return sc_bad(c, "out of memory");
	memset(chunk, (int)byte, SC_CHUNK);
	long done = 0;
	while (done < len && ret >= 0) {
		size_t n = (size_t)(len - done < SC_CHUNK ? len - done : SC_CHUNK);
		ret = pm_access(t, (uint64_t)(addr + done), chunk, n, PM_WRITE, &si);
		done += ret > 0 ? ret : 0;
		if (ret == 0)
			break;	/* no progress: report what was done */
	}
	free(chunk);
	set_access(c, ret < 0 ? ret : done, &si);
	return SC_OK;
}

int sc_cmd_read(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;
	long addr, len;
	pm_siginfo si = { 0 };

	if (l->n != 4)
		return sc_bad(c, "usage: read PROC ADDR LEN");
	if (proc_addr(c, l, 4, "", &t, &addr) != SC_OK ||
	    eval_len(c, &l->tok[3], SC_MAX_READ, &len) != SC_OK)
		return SC_BAD;
	unsigned char *buf = calloc(1, (size_t)len + 1);
	if (!buf)
		return sc_bad(c, "out of memory");
	long ret = pm_access(t, (uint64_t)addr, buf, (size_t)len, PM_READ, &si);
	if (ret < 0) {
		free(buf);
		set_access(c, ret, &si);
		return SC_OK;
	}
	sc_set_num(c, ret);
	c->last.kind = SC_RES_BYTES;
	c->last.bytes = buf;
	c->last.len = (size_t)ret <= (size_t)len ? (size_t)ret : (size_t)len;
	return SC_OK;
}

/* "r", "w", "x" or a combination: PM_READ | PM_WRITE | PM_EXEC. */
static int access_how(sc_ctx *c, const sc_tok *t, int *how)
{
	static const char letters[] = "rwx";
	static const int bits[] = { PM_READ, PM_WRITE, PM_EXEC };

	*how = 0;
	for (size_t i = 0; i < t->len; i++) {
		const char *f = t->s[i] ? strchr(letters, t->s[i]) : NULL;
		if (!f || t->quoted)
			return sc_bad(c, "access mode must be letters of 'rwx', found '%.20s'", t->s);
		*how |= bits[f - letters];
	}
	if (!*how)
		return sc_bad(c, "empty access mode");
	return SC_OK;
}

int sc_cmd_access(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;
	long addr, len = 1;
	int how;
	pm_siginfo si = { 0 };

	if (l->n < 4 || l->n > 5)
		return sc_bad(c, "usage: access PROC ADDR r|w|x [LEN]");
	if (proc_addr(c, l, 4, "", &t, &addr) != SC_OK || access_how(c, &l->tok[3], &how) ||
	    (l->n == 5 && eval_len(c, &l->tok[4], SC_MAX_READ, &len) != SC_OK))
		return SC_BAD;
	unsigned char *buf = calloc(1, (size_t)len + 1);
	if (!buf)
		return sc_bad(c, "out of memory");
	long ret = pm_access(t, (uint64_t)addr, buf, (size_t)len, how, &si);
	free(buf);
	set_access(c, ret, &si);
	return SC_OK;
}

int sc_cmd_peek(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;
	long addr, size = 8;
	unsigned char b[8] = { 0 };
	pm_siginfo si = { 0 };

	if (l->n < 3 || l->n > 4)
		return sc_bad(c, "usage: peek PROC ADDR [1|2|4|8]");
	if (proc_addr(c, l, 3, "", &t, &addr) != SC_OK ||
	    (l->n == 4 && sc_eval(c, &l->tok[3], &size) != SC_OK))
		return SC_BAD;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return sc_bad(c, "peek size must be 1, 2, 4 or 8");
	long ret = pm_access(t, (uint64_t)addr, b, (size_t)size, PM_READ, &si);
	if (ret < 0) {
		set_access(c, ret, &si);
		return SC_OK;
	}
	uint64_t v = 0;
	for (long i = size - 1; i >= 0; i--)
		v = v << 8 | b[i];
	sc_set_num(c, (long)v);
	return SC_OK;
}

int sc_cmd_scratch(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;
	unsigned char *buf;
	size_t len;

	if (l->n < 3)
		return sc_bad(c, "usage: scratch PROC DATA...");
	if (sc_proc_arg(c, &l->tok[1], &t) != SC_OK ||
	    sc_data(c, l->tok + 2, l->n - 2, &buf, &len) != SC_OK)
		return SC_BAD;
	uint64_t addr = pm_scratch(t, buf, len);
	free(buf);
	sc_set_num(c, (long)addr);
	return SC_OK;
}
