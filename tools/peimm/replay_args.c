/*
 * The argument syntax strace prints: lists split at top-level commas, numbers (decimal,
 * hex, octal), NULL, symbolic flags OR-ed together (names from the scenario tables plus
 * the clone flags strace prints), N<<NAME, key=value fields, quoted strings with C escapes,
 * and errno names. Pure text work: nothing here touches peimm.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "scenario.h"

static const struct { const char *name; long v; } extra[] = {
	{ "CSIGNAL", 0xff }, { "CLONE_VM", 0x100 }, { "CLONE_FS", 0x200 },
	{ "CLONE_FILES", 0x400 }, { "CLONE_SIGHAND", 0x800 }, { "CLONE_PIDFD", 0x1000 },
	{ "CLONE_PTRACE", 0x2000 }, { "CLONE_VFORK", 0x4000 }, { "CLONE_PARENT", 0x8000 },
	{ "CLONE_THREAD", 0x10000 }, { "CLONE_NEWNS", 0x20000 }, { "CLONE_SYSVSEM", 0x40000 },
	{ "CLONE_SETTLS", 0x80000 }, { "CLONE_PARENT_SETTID", 0x100000 },
	{ "CLONE_CHILD_CLEARTID", 0x200000 }, { "CLONE_DETACHED", 0x400000 },
	{ "CLONE_UNTRACED", 0x800000 }, { "CLONE_CHILD_SETTID", 0x1000000 },
	{ "CLONE_NEWCGROUP", 0x2000000 }, { "CLONE_NEWUTS", 0x4000000 },
	{ "CLONE_NEWIPC", 0x8000000 }, { "CLONE_NEWUSER", 0x10000000 },
	{ "CLONE_NEWPID", 0x20000000 }, { "CLONE_NEWNET", 0x40000000 },
	{ "CLONE_IO", 0x80000000L }, { "CLONE_CLEAR_SIGHAND", 0x100000000L },
	{ "CLONE_INTO_CGROUP", 0x200000000L }, { "CLONE_NEWTIME", 0x80 },
	{ "O_ASYNC", 0x2000 }, { "O_NDELAY", 0x800 }, { "O_RSYNC", 0x101000 },
	{ "MAP_FILE", 0 }, { "MAP_ABOVE4G", 0x80 }, { "PKEY_DISABLE_EXECUTE", 4 },
	{ "MFD_NOEXEC_SEAL", 8 }, { "MLOCK_ONFAULT", 1 }, { "MSEAL_NONE", 0 },
};

static int name_value(const char *name, long *v)
{
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (!strcmp(extra[i].name, name)) {
			*v = extra[i].v;
			return 1;
		}
	return sc_const_value(name, v);
}

static const char *const calls[RP_NCALLS] = {
	[RP_MMAP] = "mmap", [RP_MUNMAP] = "munmap", [RP_MPROTECT] = "mprotect",
	[RP_MADVISE] = "madvise", [RP_MREMAP] = "mremap", [RP_BRK] = "brk", [RP_MLOCK] = "mlock",
	[RP_MLOCK2] = "mlock2", [RP_MUNLOCK] = "munlock", [RP_MLOCKALL] = "mlockall",
	[RP_MUNLOCKALL] = "munlockall", [RP_MSYNC] = "msync", [RP_MINCORE] = "mincore",
	[RP_PKEY_MPROTECT] = "pkey_mprotect", [RP_PKEY_ALLOC] = "pkey_alloc",
	[RP_PKEY_FREE] = "pkey_free", [RP_MSEAL] = "mseal", [RP_OPENAT] = "openat",
	[RP_OPEN] = "open", [RP_CLOSE] = "close", [RP_DUP] = "dup", [RP_DUP2] = "dup2",
	[RP_DUP3] = "dup3", [RP_FORK] = "fork", [RP_VFORK] = "vfork", [RP_CLONE] = "clone",
	[RP_CLONE3] = "clone3", [RP_EXECVE] = "execve", [RP_EXIT] = "exit",
	[RP_EXIT_GROUP] = "exit_group",
};

int rp_call_of(const char *name)
{
	for (int i = 0; i < RP_NCALLS; i++)
		if (!strcmp(calls[i], name))
			return i;
	return RP_OTHER;
}

const char *rp_call_name(int call)
{
	return call >= 0 && call < RP_NCALLS ? calls[call] : "?";
}

/* Where the quoted string starting at s (on its '"') ends: just past the closing quote,
 * or NULL when it never closes. */
static const char *skip_quoted(const char *s)
{
	for (s++; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '"')
			return s + 1;
	}
	return NULL;
}

int rp_split_args(char *s, char **out, int max)
{
	int n = 0, depth = 0;
	char *start = s;

	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	start = s;
	for (; *s; s++) {
		if (*s == '"') {
			const char *e = skip_quoted(s);
			if (!e)
				return -1;
			s = (char *)e - 1;
		} else if (*s == '(' || *s == '[' || *s == '{') {
			depth++;
		} else if (*s == ')' || *s == ']' || *s == '}') {
			if (--depth < 0)
				return -1;
		} else if (*s == ',' && depth == 0) {
			*s = '\0';
			if (n < max)
				out[n] = start;
			n++;
			start = s + 1;
			while (*start == ' ')
				start++;
		}
	}
	if (depth)
		return -1;
	if (n < max)
		out[n] = start;
	n++;
	for (int i = 0; i < n && i < max; i++) {	/* trailing blanks */
		size_t l = strlen(out[i]);
		while (l && out[i][l - 1] == ' ')
			out[i][--l] = '\0';
	}
	return n;
}

/* One term of an OR: a number, NULL, a name, or N<<NAME. */
static int term(const char *t, size_t len, long *v, char *err, size_t errlen)
{
	char buf[96];

	if (!len || len >= sizeof(buf)) {
		snprintf(err, errlen, "bad value '%.*s'", (int)(len < 60 ? len : 60), t);
		return -1;
	}
	memcpy(buf, t, len);
	buf[len] = '\0';
	char *shl = strstr(buf, "<<");
	if (shl) {
		long a, b;
		*shl = '\0';
		if (term(buf, strlen(buf), &a, err, errlen) ||
		    term(shl + 2, strlen(shl + 2), &b, err, errlen))
			return -1;
		*v = (long)((unsigned long)a << b);
		return 0;
	}
	if (!strcmp(buf, "NULL")) {
		*v = 0;
		return 0;
	}
	if (isdigit((unsigned char)buf[0]) || buf[0] == '-') {
		char *end;
		errno = 0;
		*v = buf[0] == '-' ? strtol(buf, &end, 0) : (long)strtoull(buf, &end, 0);
		if (!errno && !*end)
			return 0;
	} else if (name_value(buf, v)) {
		return 0;
	}
	snprintf(err, errlen, "unknown value '%s'", buf);
	return -1;
}

int rp_eval(const char *arg, long *v, char *err, size_t errlen)
{
	char buf[512];
	size_t n = 0;

	if (!arg) {
		snprintf(err, errlen, "missing argument");
		return -1;
	}
	const char *eq = strchr(arg, '=');
	if (eq && !strchr(arg, '"') && isalpha((unsigned char)arg[0]))
		arg = eq + 1;	/* key=value: the value */
	/* Copy without comments, -y paths and blanks. */
	for (const char *s = arg; *s && n + 1 < sizeof(buf); s++) {
		if (s[0] == '/' && s[1] == '*') {
			const char *e = strstr(s + 2, "*/");
			if (!e)
				break;
			s = e + 1;
		} else if (*s == '<' && s[1] != '<' && (s == arg || s[-1] != '<')) {
			const char *e = strchr(s, '>');
			if (!e)
				break;
			s = e;
		} else if (*s != ' ') {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	if (!n) {
		snprintf(err, errlen, "empty argument");
		return -1;
	}
	long acc = 0;
	for (const char *s = buf; ; ) {
		const char *bar = strchr(s, '|');
		size_t len = bar ? (size_t)(bar - s) : strlen(s);
		long t;
		if (term(s, len, &t, err, errlen))
			return -1;
		acc |= t;
		if (!bar)
			break;
		s = bar + 1;
	}
	*v = acc;
	return 0;
}

int rp_field(const char *arg, const char *key, long *v, char *err, size_t errlen)
{
	size_t kl = strlen(key);
	const char *s = arg;

	if (!arg)
		goto missing;
	if (*s == '{')
		s++;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		if (!strncmp(s, key, kl) && s[kl] == '=') {
			char val[256];
			const char *e = s + kl + 1;
			size_t n = 0;
			int depth = 0;
			for (; *e && n + 1 < sizeof(val); e++) {
				if ((*e == ',' || *e == '}') && depth == 0)
					break;
				depth += (*e == '[' || *e == '{') - (*e == ']' || *e == '}');
				val[n++] = *e;
			}
			val[n] = '\0';
			return rp_eval(val, v, err, errlen);
		}
		/* skip this field */
		int depth = 0;
		for (; *s; s++) {
			if (*s == '"') {
				const char *q = skip_quoted(s);
				if (!q)
					goto missing;
				s = q - 1;
			} else if (*s == '[' || *s == '{') {
				depth++;
			} else if (*s == ']' || *s == '}') {
				if (--depth < 0)
					goto missing;
			} else if (*s == ',' && !depth) {
				break;
			}
		}
	}
missing:
	snprintf(err, errlen, "no field '%s'", key);
	return -1;
}

char *rp_unquote(const char *arg)
{
	if (!arg || arg[0] != '"')
		return NULL;
	const char *end = skip_quoted(arg);
	if (!end)
		return NULL;
	char *out = malloc((size_t)(end - arg));
	size_t n = 0;
	if (!out)
		return NULL;
	for (const char *s = arg + 1; s < end - 1; s++) {
		if (*s != '\\') {
			out[n++] = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case 'v': out[n++] = '\v'; break;
		case 'f': out[n++] = '\f'; break;
		case 'x': {
			int c = 0, k = 0;
			while (k < 2 && isxdigit((unsigned char)s[1])) {
				s++;
				c = c * 16 + (isdigit((unsigned char)*s) ? *s - '0' : (tolower(*s) - 'a' + 10));
				k++;
			}
			out[n++] = (char)c;
			break;
		}
		default:
			if (*s >= '0' && *s <= '7') {
				int c = *s - '0', k = 1;
				while (k < 3 && s[1] >= '0' && s[1] <= '7') {
					c = c * 8 + (*++s - '0');
					k++;
				}
				out[n++] = (char)c;
			} else {
				out[n++] = *s;
			}
		}
	}
	out[n] = '\0';
	return out;
}

long rp_errno_value(const char *name)
{
	for (long e = 1; e < 200; e++) {
		const char *n = strerrorname_np((int)e);
		if (n && !strcmp(n, name))
			return e;
	}
	return 0;
}

const char *rp_errno_name(long err)
{
	const char *n = strerrorname_np((int)(err < 0 ? -err : err));
	return n ? n : "E?";
}
