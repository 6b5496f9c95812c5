/*
 * Reads an strace recording into events: 'PID name(args) = ret', unfinished/resumed pairs
 * (joined and placed where the call was entered, so a child's calls always follow the
 * clone that made it), '+++ exited with N +++', '+++ killed by SIG +++', '--- SIG {...} ---',
 * '[pid N]' prefixes, -t/-tt/-ttt timestamps and -T durations. The arguments of the calls
 * replay knows are evaluated here, so a malformed trace fails before anything runs, with
 * one message naming FILE:LINE. It never runs anything.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

static int bad(rp_trace *tr, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(rp_trace *tr, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(tr->err, sizeof(tr->err), "%s:%u: ", tr->file, line);

	va_start(ap, fmt);
	vsnprintf(tr->err + n, sizeof(tr->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static rp_event *new_event(rp_trace *tr, unsigned line, int pid, int kind)
{
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? tr->cap * 2 : 256;
		rp_event *ev = realloc(tr->ev, cap * sizeof(*ev));
		if (!ev)
			return NULL;
		tr->ev = ev;
		tr->cap = cap;
	}
	rp_event *e = &tr->ev[tr->n++];
	memset(e, 0, sizeof(*e));
	e->line = line;
	e->pid = pid;
	e->kind = kind;
	e->call = RP_OTHER;
	return e;
}

/* Arguments each known call needs as numbers (bit i = argument i). */
static unsigned need_mask(int call)
{
	switch (call) {
	case RP_MMAP: return 0x3f;
	case RP_MPROTECT: case RP_MADVISE: case RP_MLOCK2: case RP_MSYNC: case RP_MSEAL:
	case RP_DUP3: return 0x7;
	case RP_MREMAP: case RP_PKEY_MPROTECT: return 0xf;
	case RP_MUNMAP: case RP_MLOCK: case RP_MUNLOCK: case RP_MINCORE: case RP_PKEY_ALLOC:
	case RP_DUP2: return 0x3;
	case RP_BRK: case RP_MLOCKALL: case RP_PKEY_FREE: case RP_CLOSE: case RP_DUP:
	case RP_EXIT: case RP_EXIT_GROUP: return 0x1;
	case RP_OPENAT: return 0x5;
	case RP_OPEN: return 0x2;
	default: return 0;
	}
}

/* execve's argv: ["a", "b", ...]. */
static int parse_argv(rp_event *e, const char *arg)
{
	char *copy = strdup(arg ? arg : "");
	char *items[256];
	if (!copy)
		return -1;
	size_t l = strlen(copy);
	if (copy[0] != '[') {	/* NULL or an unreadable pointer: no arguments */
		free(copy);
		e->argv = calloc(1, sizeof(char *));
		return e->argv ? 0 : -1;
	}
	if (l < 2 || copy[l - 1] != ']') {
		free(copy);
		return -1;
	}
	copy[l - 1] = '\0';
	int n = rp_split_args(copy + 1, items, 255);
	if (n < 0 || n > 255) {
		free(copy);
		return -1;
	}
	e->argv = calloc((size_t)n + 1, sizeof(char *));
	int k = 0;
	for (int i = 0; e->argv && i < n; i++)
		if ((e->argv[k] = rp_unquote(items[i])))
			k++;
	free(copy);
	return e->argv ? 0 : -1;
}

/* Evaluates the arguments of a known call; -1 with tr->err on a malformed one. */
static int eval_args(rp_trace *tr, rp_event *e, char *args)
{
	char *a[RP_MAXARG + 1], msg[160];
	int n = rp_split_args(args, a, RP_MAXARG + 1);
	unsigned need = need_mask(e->call);

	if (n < 0)
		return bad(tr, e->line, "unbalanced quotes or brackets in %s(...)", e->name);
	e->nargs = n > RP_MAXARG ? RP_MAXARG : n;
	for (int i = 0; i < e->nargs; i++) {
		if (a[i][0] == '"') {
			if (!(e->str[i] = rp_unquote(a[i])))
				return bad(tr, e->line, "bad string in %s(...)", e->name);
		} else if (rp_eval(a[i], &e->val[i], msg, sizeof(msg)) && (need >> i & 1)) {
			return bad(tr, e->line, "%s argument %d: %s", e->name, i + 1, msg);
		}
	}
	for (int i = e->nargs; i < RP_MAXARG; i++)
		if (need >> i & 1)
			return bad(tr, e->line, "%s needs %d arguments, the trace shows %d", e->name,
				   i + 1, e->nargs);
	if ((e->call == RP_OPENAT && !e->str[1]) || (e->call == RP_OPEN && !e->str[0]) ||
	    (e->call == RP_EXECVE && !e->str[0]))
		return bad(tr, e->line, "%s without a quoted path", e->name);
	if (e->call == RP_EXECVE && parse_argv(e, e->nargs > 1 ? a[1] : NULL))
		return bad(tr, e->line, "execve's argv is not a [\"...\", ...] list");
	if ((e->call == RP_CLONE || e->call == RP_CLONE3) &&
	    rp_field(a[0], "flags", &e->val[0], msg, sizeof(msg)) &&
	    (e->call == RP_CLONE3 || rp_field(n > 1 ? a[1] : "", "flags", &e->val[0], msg, sizeof(msg))))
		return bad(tr, e->line, "%s: %s", e->name, msg);
	return 0;
}

/* The result after the closing parenthesis: '= 0', '= -1 ENOENT (...)', '= ?'. */
static int parse_result(rp_trace *tr, rp_event *e, const char *s)
{
	while (*s == ' ')
		s++;
	if (*s != '=')
		return bad(tr, e->line, "no '= result' after %s(...)", e->name);
	for (s++; *s == ' '; s++)
		;
	if (*s == '?')
		return 0;
	char *end;
	errno = 0;
	long v = *s == '-' ? strtol(s, &end, 0) : (long)strtoull(s, &end, 0);
	if (end == s || errno)
		return bad(tr, e->line, "bad result '%.40s'", s);
	e->has_ret = 1;
	e->ret = v;
	if (v == -1 && end[0] == ' ' && end[1] == 'E') {
		char name[40];
		size_t k = 0;
		for (end++; (isupper((unsigned char)*end) || isdigit((unsigned char)*end) || *end == '_') &&
			    k + 1 < sizeof(name); end++)
			name[k++] = *end;
		name[k] = '\0';
		long err = rp_errno_value(name);
		if (!strncmp(name, "ERESTART", 8) || !strcmp(name, "EINTR"))
			e->has_ret = 0;	/* interrupted: no outcome to compare */
		else if (!err)
			return bad(tr, e->line, "unknown errno '%s'", name);
		e->ret = -err;
	}
	return 0;
}

/* End of a call's argument list: the ')' matching the '(' just before s, or NULL. */
static const char *args_end(const char *s)
{
	int depth = 0;
	for (; *s; s++) {
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				return NULL;
		} else if (*s == '(' || *s == '[' || *s == '{') {
			depth++;
		} else if (*s == ']' || *s == '}') {
			depth--;
		} else if (*s == ')') {
			if (depth-- == 0)
				return s;
		}
	}
	return NULL;
}

/* A whole call "name(args) = ret" into e (whose line and pid are set). */
static int parse_call(rp_trace *tr, rp_event *e, const char *text, int finished)
{
	const char *open = strchr(text, '(');
	size_t nl = open ? (size_t)(open - text) : 0;

	if (!open || !nl || nl >= sizeof(e->name))
		return bad(tr, e->line, "not an strace line: '%.60s'", text);
	for (size_t i = 0; i < nl; i++)
		if (!isalnum((unsigned char)text[i]) && text[i] != '_')
			return bad(tr, e->line, "not an strace line: '%.60s'", text);
	memcpy(e->name, text, nl);
	e->name[nl] = '\0';
	e->call = rp_call_of(e->name);
	free(e->text);
	if (!(e->text = strdup(text)))
		return bad(tr, e->line, "out of memory");
	const char *close = finished ? args_end(open + 1) : open + strlen(open);
	if (!close)
		return bad(tr, e->line, "unbalanced parentheses in %s(...)", e->name);
	char *args = strndup(open + 1, (size_t)(close - open - 1));
	if (!args)
		return bad(tr, e->line, "out of memory");
	int rc = e->call == RP_OTHER ? 0 : eval_args(tr, e, args);
	free(args);
	if (!rc && finished)
		rc = parse_result(tr, e, close + 1);
	return rc;
}

static rp_event *pending_of(rp_trace *tr, int pid)
{
	for (size_t i = tr->n; i-- > 0;)
		if (tr->ev[i].pending && tr->ev[i].pid == pid)
			return &tr->ev[i];
	return NULL;
}

static const char UNFINISHED[] = " <unfinished ...>";

static int call_line(rp_trace *tr, unsigned line, int pid, char *s)
{
	size_t l = strlen(s), ul = strlen(UNFINISHED);

	char *changed = strstr(s, " <pid changed to ");
	if (changed && s[l - 1] == '>' && !strcmp(s + l - 5, " ...>")) {
		strcpy(changed, UNFINISHED);	/* a non-leader's execve, resumed by the leader */
		l = strlen(s);
	}
	if (l > ul && !strcmp(s + l - ul, UNFINISHED)) {
		if (pending_of(tr, pid))
			return bad(tr, line, "pid %d starts a call while another is unfinished", pid);
		rp_event *e = new_event(tr, line, pid, RP_EV_CALL);
		if (!e)
			return bad(tr, line, "out of memory");
		s[l - ul] = '\0';
		e->pending = 1;
		e->text = strdup(s);	/* the first half, until the resumed one arrives */
		return e->text ? 0 : bad(tr, line, "out of memory");
	}
	if (!strncmp(s, "<... ", 5)) {
		char *r = strstr(s, " resumed>");
		rp_event *e = pending_of(tr, pid);
		if (!r || r == s + 4)
			return bad(tr, line, "malformed resumed line (want '<... NAME resumed>')");
		*r = '\0';
		if (!e)
			return bad(tr, line, "'%s' resumed, but pid %d has no unfinished call", s + 5, pid);
		if (strncmp(e->text, s + 5, strlen(s + 5)) || e->text[strlen(s + 5)] != '(')
			return bad(tr, line, "'%s' resumed, but pid %d's unfinished call is '%.30s'",
				   s + 5, pid, e->text);
		char *rest = r + strlen(" resumed>");
		size_t n = strlen(e->text) + strlen(rest) + 1;
		char *joined = malloc(n);
		if (!joined)
			return bad(tr, line, "out of memory");
		snprintf(joined, n, "%s%s", e->text, rest);
		e->pending = 0;
		int rc = parse_call(tr, e, joined, 1);
		free(joined);
		return rc;
	}
	rp_event *e = new_event(tr, line, pid, RP_EV_CALL);
	return e ? parse_call(tr, e, s, 1) : bad(tr, line, "out of memory");
}

/* '+++ exited with N +++', '+++ killed by SIGx (core dumped) +++', '+++ superseded ... +++'. */
static int exit_line(rp_trace *tr, unsigned line, int pid, const char *s)
{
	int v;
	char sig[32];

	if (sscanf(s, "+++ exited with %d +++", &v) == 1) {
		rp_event *e = new_event(tr, line, pid, RP_EV_EXITED);
		if (!e)
			return bad(tr, line, "out of memory");
		e->status = v;
		return 0;
	}
	if (sscanf(s, "+++ killed by %31[A-Z0-9] ", sig) == 1) {
		long n;
		char msg[80];
		rp_event *e = new_event(tr, line, pid, RP_EV_KILLED);
		if (!e)
			return bad(tr, line, "out of memory");
		e->status = rp_eval(sig, &n, msg, sizeof(msg)) ? 0 : (int)n;
		return 0;
	}
	if (sscanf(s, "+++ superseded by execve in pid %d +++", &v) == 1) {
		/* The thread v that called execve now goes by the leader's pid: its call
		 * resumes under that pid. */
		rp_event *e = pending_of(tr, v);
		if (e && !pending_of(tr, pid))
			e->pid = pid;
		return 0;
	}
	return bad(tr, line, "unknown '+++' line");
}

static int signal_line(rp_trace *tr, unsigned line, int pid, const char *s)
{
	char sig[32], msg[80];
	long n;

	if (sscanf(s, "--- %31[A-Z0-9] ", sig) != 1)
		return bad(tr, line, "malformed signal line");
	rp_event *e = new_event(tr, line, pid, RP_EV_SIGNAL);
	if (!e)
		return bad(tr, line, "out of memory");
	e->status = rp_eval(sig, &n, msg, sizeof(msg)) ? 0 : (int)n;
	const char *brace = strchr(s, '{');
	long addr;
	if (brace && !rp_field(brace, "si_addr", &addr, msg, sizeof(msg)))
		e->si_addr = (uint64_t)addr;
	return 0;
}

/* Skips '[pid N] ' or 'N ', then a timestamp; sets *pid (0 when the trace has none). */
static char *prefix(char *s, int *pid)
{
	*pid = 0;
	if (!strncmp(s, "[pid", 4)) {
		char *e;
		*pid = (int)strtol(s + 4, &e, 10);
		if (*e == ']')
			s = e + 1;
	} else if (isdigit((unsigned char)*s)) {
		char *e;
		long v = strtol(s, &e, 10);
		if (*e == ' ') {
			*pid = (int)v;
			s = e;
		}
	}
	while (*s == ' ')
		s++;
	size_t k = strspn(s, "0123456789:.");
	if (k && s[k] == ' ' && strpbrk(s, ":.") && strpbrk(s, ":.") < s + k) {
		s += k;
		while (*s == ' ')
			s++;
	}
	return s;
}

static int parse_line(rp_trace *tr, char *line, unsigned lineno)
{
	size_t l = strlen(line);
	while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
		line[--l] = '\0';
	if (l && line[l - 1] == '>') {	/* -T: ' <0.000012>' */
		char *lt = strrchr(line, '<');
		if (lt && lt > line && lt[-1] == ' ' && isdigit((unsigned char)lt[1])) {
			*--lt = '\0';
			l = (size_t)(lt - line);
		}
	}
	char *s = line;
	while (*s == ' ')
		s++;
	if (!*s || !strncmp(s, "strace: ", 8))
		return 0;
	int pid;
	s = prefix(s, &pid);
	if (!strncmp(s, "+++ ", 4))
		return exit_line(tr, lineno, pid, s);
	if (!strncmp(s, "--- ", 4))
		return signal_line(tr, lineno, pid, s);
	if (!isalpha((unsigned char)*s) && *s != '_' && strncmp(s, "<... ", 5))
		return bad(tr, lineno, "not an strace line: '%.60s'", s);
	return call_line(tr, lineno, pid, s);
}

/* Calls still unfinished at the end ran into the end of the trace: no result. */
static int finish(rp_trace *tr)
{
	for (size_t i = 0; i < tr->n; i++) {
		rp_event *e = &tr->ev[i];
		if (!e->pending)
			continue;
		e->pending = 0;
		char *t = e->text;
		e->text = NULL;
		int rc = parse_call(tr, e, t, 0);
		size_t n = strlen(t) + strlen(UNFINISHED) + 1;
		char *shown = malloc(n);
		if (shown) {	/* show it as the trace does */
			snprintf(shown, n, "%s%s", t, UNFINISHED);
			free(e->text);
			e->text = shown;
		}
		free(t);
		if (rc)
			return rc;
	}
	return 0;
}

int rp_parse_file(rp_trace *tr, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		tr->lines++;
		if ((size_t)n != strlen(line))
			rc = bad(tr, tr->lines, "NUL byte in the line");
		else
			rc = parse_line(tr, line, tr->lines);
	}
	free(line);
	if (!rc && ferror(f))
		rc = bad(tr, tr->lines, "cannot read: %s", strerror(errno));
	return rc ? rc : finish(tr);
}

int rp_parse_string(rp_trace *tr, const char *text)
{
	if (!*text)
		return 0;
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	if (!f)
		return bad(tr, 0, "fmemopen failed");
	int rc = rp_parse_file(tr, f);
	fclose(f);
	return rc;
}

void rp_trace_free(rp_trace *tr)
{
	for (size_t i = 0; i < tr->n; i++) {
		rp_event *e = &tr->ev[i];
		for (int k = 0; k < RP_MAXARG; k++)
			free(e->str[k]);
		for (int k = 0; e->argv && e->argv[k]; k++)
			free(e->argv[k]);
		free(e->argv);
		free(e->text);
	}
	free(tr->ev);
	tr->ev = NULL;
	tr->n = tr->cap = 0;
}
