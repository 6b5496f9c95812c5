/*
 * The /proc and registry commands of the scenario language: show, proc, maps and registry.
 * A view is read whole through pm_proc_read as the named process sees it (pid 0 = itself,
 * -1 = system-wide views, else a target process); the tests (contains, lacks, has, count,
 * field) work line by line. Failures print the view they looked at, so a broken
 * expectation explains itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

enum { SC_MAX_VIEW = 64 << 20, SC_DUMP_LINES = 60 };

typedef struct sc_view {
	pm_thread  *reader;
	int         pid;	/* 0 = the reader's own process, -1 = system-wide */
	const char *name;	/* "maps", "status", "meminfo", ... */
	long        ret;	/* bytes read, or -errno */
	char       *text;	/* owned, NUL-terminated; NULL when ret < 0 */
	size_t      len;
	int         filter;	/* 1 = only maps lines whose range holds addr */
	uint64_t    addr;
} sc_view;

static int system_view(const char *name)
{
	static const char *const names[] = { "meminfo", "vmstat", "zoneinfo", "buddyinfo",
					     "pagetypeinfo", "swaps" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return 1;
	return !strncmp(name, "sys/", 4);
}

static int is_keyword(const sc_tok *t)
{
	static const char *const kw[] = { "contains", "has", "lacks", "field", "count", "at",
					  "start", "end" };
	for (size_t i = 0; !t->quoted && i < sizeof(kw) / sizeof(kw[0]); i++)
		if (!strcmp(kw[i], t->s))
			return 1;
	return 0;
}

/* TARGET: a process name, self (0), system (-1), or a pid expression. */
static int target_arg(sc_ctx *c, const sc_tok *t, int *pid)
{
	sc_name *p = t->quoted ? NULL : sc_find(c, SC_PROC, t->s);
	long v;

	if (p) {
		*pid = pm_pid(p->u.thread);
		return SC_OK;
	}
	if (!strcmp(t->s, "self") || !strcmp(t->s, "system")) {
		*pid = t->s[1] == 'e' ? 0 : -1;
		return SC_OK;
	}
	if (sc_eval(c, t, &v) != SC_OK)
		return SC_BAD;
	if (v < -1 || v > 0x7fffffff)
		return sc_bad(c, "pid %ld out of range", v);
	*pid = (int)v;
	return SC_OK;
}

/* Reads the whole view into v->text; v->ret is the size or -errno. */
static void view_read(sc_view *v)
{
	size_t cap = 8192;

	v->text = NULL;
	v->len = 0;
	for (;;) {
		if (v->len + 4096 + 1 > cap || !v->text) {
			cap = v->text ? cap * 2 : cap;
			char *nt = cap <= SC_MAX_VIEW ? realloc(v->text, cap) : NULL;
			if (!nt) {
				v->ret = -27;	/* EFBIG: too large to be a view */
				break;
			}
			v->text = nt;
		}
		v->ret = pm_proc_read(v->reader, v->pid, v->name, v->text + v->len,
				      cap - v->len - 1, v->len);
		if (v->ret <= 0)
			break;
		v->len += (size_t)v->ret;
	}
	if (v->ret < 0) {
		free(v->text);
		v->text = NULL;
		v->len = 0;
		return;
	}
	v->text[v->len] = '\0';
	v->ret = (long)v->len;
}

/* Iterates the lines of the view that pass the 'at' filter. *pos starts at 0. */
static int next_line(const sc_view *v, size_t *pos, const char **line, size_t *len)
{
	while (*pos < v->len) {
		const char *s = v->text + *pos, *nl = memchr(s, '\n', v->len - *pos);
		size_t n = nl ? (size_t)(nl - s) : v->len - *pos;
		unsigned long lo, hi;
		*pos += n + (nl != NULL);
		if (v->filter && (sscanf(s, "%lx-%lx", &lo, &hi) != 2 || v->addr < lo ||
				  v->addr >= hi))
			continue;
		*line = s;
		*len = n;
		return 1;
	}
	return 0;
}

static void dump(const sc_view *v)
{
	size_t pos = 0, n, shown = 0;
	const char *line;
	sc_view all = *v;

	all.filter = 0;
	if (v->pid > 0)
		fprintf(stderr, "  /proc/%d/%s as read:\n", v->pid, v->name);
	else
		fprintf(stderr, "  /proc/%s%s as read:\n", v->pid ? "" : "self/", v->name);
	while (next_line(&all, &pos, &line, &n) && shown++ < SC_DUMP_LINES)
		fprintf(stderr, "    %.*s\n", (int)n, line);
	if (shown > SC_DUMP_LINES)
		fprintf(stderr, "    ...\n");
}

/* contains/has S or lacks S: is S inside some (filtered) line? */
static int test_substring(sc_ctx *c, const sc_view *v, const sc_tok *s, int want)
{
	size_t pos = 0, n;
	const char *line;
	int found = 0;

	while (!found && next_line(v, &pos, &line, &n))
		found = s->len == 0 || (n >= s->len && memmem(line, n, s->s, s->len));
	if (found == want) {
		sc_pass(c);
		return SC_OK;
	}
	sc_fail(c, "expected %s line containing \"%s\"%s, found %s", want ? "a" : "no", s->s,
		v->filter ? " at that address" : "", want ? "none" : "one");
	dump(v);
	return SC_OK;
}

/* count [N]: the number of (filtered) lines, checked against N or kept as the result. */
static int test_count(sc_ctx *c, const sc_line *l, size_t i, const sc_view *v)
{
	size_t pos = 0, n, count = 0;
	const char *line;
	long want;

	while (next_line(v, &pos, &line, &n))
		count++;
	if (i == l->n) {
		sc_set_num(c, (long)count);
		return SC_OK;
	}
	if (i + 1 != l->n || sc_eval(c, &l->tok[i], &want) != SC_OK)
		return i + 1 != l->n ? sc_bad(c, "usage: ... count [N]") : SC_BAD;
	if ((long)count == want) {
		sc_pass(c);
		return SC_OK;
	}
	sc_fail(c, "expected %ld lines, got %zu", want, count);
	dump(v);
	return SC_OK;
}

/* field NAME: the number after "NAME:" at the start of a line. */
static int get_field(sc_ctx *c, const sc_tok *f, const sc_view *v)
{
	size_t pos = 0, n;
	const char *line;

	while (next_line(v, &pos, &line, &n)) {
		if (n <= f->len || memcmp(line, f->s, f->len) || line[f->len] != ':')
			continue;
		char *end;
		long val = strtol(line + f->len + 1, &end, 0);
		if (end != line + f->len + 1) {
			sc_set_num(c, val);
			return SC_OK;
		}
	}
	sc_fail(c, "no numeric field '%s:' in %s", f->s, v->name);
	dump(v);
	return SC_OK;
}

/* start S / end S: the range bounds of the first maps line containing S. */
static int get_bound(sc_ctx *c, const sc_tok *s, const sc_view *v, int end)
{
	size_t pos = 0, n;
	const char *line;
	unsigned long lo, hi;

	while (next_line(v, &pos, &line, &n))
		if (s->len && n >= s->len && memmem(line, n, s->s, s->len) &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			sc_set_num(c, (long)(end ? hi : lo));
			return SC_OK;
		}
	sc_fail(c, "no line with an address range contains \"%s\"", s->s);
	dump(v);
	return SC_OK;
}

/* Applies the test that starts at word i (or keeps the text as the result). */
static int view_test(sc_ctx *c, const sc_line *l, size_t i, sc_view *v)
{
	char b[40];
	const char *kw = i < l->n ? l->tok[i].s : NULL;

	if (!kw || v->ret < 0) {
		if (v->ret < 0 && kw)
			sc_fail(c, "could not read %s: %s", v->name, sc_fmt_num(v->ret, b));
		else if (v->ret < 0)
			sc_set_num(c, v->ret);
		else {
			sc_set_num(c, v->ret);
			c->last.kind = SC_RES_BYTES;
			c->last.bytes = (unsigned char *)v->text;
			c->last.len = v->len;
			v->text = NULL;
		}
		return SC_OK;
	}
	if (!strcmp(kw, "count"))
		return test_count(c, l, i + 1, v);
	if (i + 2 != l->n || l->tok[i].quoted)
		return sc_bad(c, "expected contains|has|lacks|start|end \"TEXT\", field NAME or "
			      "count [N]");
	if (!strcmp(kw, "field"))
		return get_field(c, &l->tok[i + 1], v);
	if (!strcmp(kw, "contains") || !strcmp(kw, "has") || !strcmp(kw, "lacks"))
		return test_substring(c, v, &l->tok[i + 1], kw[0] != 'l');
	if (!strcmp(kw, "start") || !strcmp(kw, "end"))
		return get_bound(c, &l->tok[i + 1], v, kw[0] == 'e');
	return sc_bad(c, "unknown test '%s' (contains has lacks field count start end)", kw);
}

/* PROC [TARGET] starting at word 1; the view name comes from the caller or word 2. */
static int view_open(sc_ctx *c, const sc_line *l, size_t *i, const char *fixed, sc_view *v)
{
	*v = (sc_view){ 0 };
	if (l->n < (fixed ? 2u : 3u) || sc_proc_arg(c, &l->tok[1], &v->reader) != SC_OK)
		return l->n < (fixed ? 2u : 3u) ? sc_bad(c, "missing process or view name") : SC_BAD;
	v->name = fixed ? fixed : l->tok[2].s;
	*i = fixed ? 2 : 3;
	v->pid = system_view(v->name) ? -1 : 0;
	if (*i < l->n && !is_keyword(&l->tok[*i]))
		if (target_arg(c, &l->tok[(*i)++], &v->pid) != SC_OK)
			return SC_BAD;
	return SC_OK;
}

int sc_cmd_show(sc_ctx *c, const sc_line *l)
{
	sc_view v;
	size_t i = 0;

	if (view_open(c, l, &i, NULL, &v) != SC_OK)
		return SC_BAD;
	if (i != l->n)
		return sc_bad(c, "usage: show PROC VIEW [TARGET]");
	view_read(&v);
	if (v.ret >= 0) {
		fwrite(v.text, 1, v.len, stdout);
		if (v.len && v.text[v.len - 1] != '\n')
			putchar('\n');
	}
	int rc = view_test(c, l, i, &v);
	free(v.text);
	return rc;
}

int sc_cmd_proc(sc_ctx *c, const sc_line *l)
{
	sc_view v;
	size_t i = 0;

	if (view_open(c, l, &i, NULL, &v) != SC_OK)
		return SC_BAD;
	if (i < l->n && !strcmp(l->tok[i].s, "at"))
		return sc_bad(c, "'at ADDR' works with the maps command");
	view_read(&v);
	int rc = view_test(c, l, i, &v);
	free(v.text);
	return rc;
}

int sc_cmd_maps(sc_ctx *c, const sc_line *l)
{
	sc_view v;
	size_t i = 0;
	long addr;

	if (view_open(c, l, &i, "maps", &v) != SC_OK)
		return SC_BAD;
	if (i < l->n && !l->tok[i].quoted && !strcmp(l->tok[i].s, "at")) {
		if (i + 1 >= l->n || sc_eval(c, &l->tok[i + 1], &addr) != SC_OK)
			return i + 1 >= l->n ? sc_bad(c, "missing address after 'at'") : SC_BAD;
		v.filter = 1;
		v.addr = (uint64_t)addr;
		i += 2;
	}
	if (i < l->n && !strcmp(l->tok[i].s, "field"))
		return sc_bad(c, "maps has no fields; use has, lacks or count");
	view_read(&v);
	int rc = view_test(c, l, i, &v);
	free(v.text);
	return rc;
}

/* A short name means Machine\System\Memory\<Name>; a path with '\' or '/' is used as is. */
static int reg_path(sc_ctx *c, const sc_tok *t, char *buf, size_t size)
{
	int full = strchr(t->s, '\\') || strchr(t->s, '/');
	int n = snprintf(buf, size, "%s%s", full ? "" : PM_REG_MEMORY, t->s);

	if (n < 0 || (size_t)n >= size)
		return sc_bad(c, "registry path too long");
	return SC_OK;
}

int sc_cmd_registry(sc_ctx *c, const sc_line *l)
{
	char path[512];
	pm_thread *t = NULL;
	long v;
	int rc;

	if (l->n == 3 && !strcmp(l->tok[1].s, "get")) {
		if (reg_path(c, &l->tok[2], path, sizeof(path)) != SC_OK)
			return SC_BAD;
		if ((rc = sc_need_system(c)) != SC_OK)
			return rc;
		sc_set_num(c, pm_registry_get(c->sys, path));
		return SC_OK;
	}
	if (l->n != 5 || strcmp(l->tok[2].s, "set"))
		return sc_bad(c, "usage: registry PROC set NAME VALUE | registry get NAME");
	if (sc_proc_arg(c, &l->tok[1], &t) != SC_OK ||
	    reg_path(c, &l->tok[3], path, sizeof(path)) != SC_OK || sc_eval(c, &l->tok[4], &v))
		return SC_BAD;
	sc_set_num(c, pm_registry_set(t, path, v));
	return SC_OK;
}
