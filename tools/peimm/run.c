/*
 * 'peimm run [-v] [-x] FILE.pmm...': reads scenario files line by line and runs them
 * (scenario_exec.c), each file in a fresh system. It owns the options, the reporting of
 * passes, failures and script errors, and the exit status: 0 all expectations held, 1 some
 * failed (every failure is reported; -x stops at the first), 2 the script itself is wrong
 * or unreadable (one line FILE:LINE: what, and the run stops there).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scenario.h"

enum { SC_MAX_LINE = 64 << 10 };

int sc_bad(sc_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return SC_BAD;
}

void sc_fail(sc_ctx *c, const char *fmt, ...)
{
	va_list ap;

	/* One line: where, the line itself, and why it failed. */
	fflush(stdout);
	fprintf(stderr, "%s:%u: %s: ", c->file, c->lineno, c->text);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	c->checks++;
	c->failures++;
}

void sc_pass(sc_ctx *c)
{
	c->checks++;
}

#define RUN_USAGE "usage: peimm run [-v] [-x] FILE.pmm..."

static void help(void)
{
	printf("%s\n", RUN_USAGE);
	printf("\nRuns scenario files: small line-oriented scripts that create a peimm system,\n"
	       "tokens and processes, call syscalls by name and check what comes back.\n"
	       "Each file runs in a fresh system. Full reference: docs/scenarios.md.\n\n"
	       "options:\n"
	       "  -v   echo each line and its result\n"
	       "  -x   stop at the first failed expectation\n\n"
	       "commands:\n");
	sc_print_commands();
	printf("\narguments: 4096, 0x1000, 0644 (octal), 64K 2M 1G, $var, NAME constants\n"
	       "  (PROT_READ, MAP_PRIVATE, MADV_DONTNEED, EINVAL, SIGSEGV, ...), + - * / | & ~ and\n"
	       "  parentheses with no spaces inside one argument, \"strings\" with \\n \\xHH.\n"
	       "  $x = COMMAND ... binds the command's result; $x = EXPR binds a value.\n\n"
	       "expectations (after => on the line, or 'expect' on the next line):\n"
	       "  VALUE (e.g. 0, -EINVAL, $a)  ok  err  not VALUE  range LO HI  aligned N\n"
	       "  SIGSEGV|SIGBUS [CODE] [ADDR] [pkey=N]   (a fault from the MMU)\n"
	       "  \"text\"  bytes B*N ...  u64 V ...  zero  contains \"text\"  (bytes read)\n\n"
	       "exit status: 0 every expectation held, 1 some failed, 2 error in the script.\n\n"
	       "syscalls by name:\n");
	sc_list_syscalls();
}

/* Reads one line into *line; 0 at the end, -1 with a script error. */
static int next_line(sc_ctx *c, FILE *f, char **line, size_t *cap)
{
	ssize_t n = getline(line, cap, f);

	if (n < 0)
		return 0;
	c->lineno++;
	if (n > SC_MAX_LINE)
		return sc_bad(c, "line longer than %d bytes", SC_MAX_LINE);
	if ((size_t)n != strlen(*line))
		return sc_bad(c, "NUL byte in the line");
	return 1;
}

/* Prints the line and what it produced, for -v. */
static void trace(sc_ctx *c, const sc_line *l, int before)
{
	char res[400];

	if (before) {
		printf("%s:%u: %s\n", c->file, c->lineno, c->text);
		return;
	}
	if (l->total == 0 || !c->fresh || c->last.kind == SC_RES_NONE)
		return;
	sc_fmt_result(&c->last, res, sizeof(res));
	printf("  -> %s\n", res);
}

/* Runs the lines of f. Returns SC_OK, SC_BAD (message printed) or SC_ABORT. */
static int run_lines(sc_ctx *c, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0;
	int rc = SC_OK, got;

	while ((got = next_line(c, f, &buf, &cap)) > 0) {
		sc_line l;
		c->text = sc_trim(buf);
		c->fresh = 0;
		if (c->verbose && *c->text && *c->text != '#')
			trace(c, NULL, 1);
		if ((rc = sc_split(c, c->text, &l)) != SC_OK)
			break;
		rc = sc_exec_line(c, &l);
		if (c->verbose && rc == SC_OK)
			trace(c, &l, 0);
		sc_line_free(&l);
		if (rc != SC_OK || (c->stop_first && c->failures))
			break;
	}
	if (got < 0)
		rc = SC_BAD;
	else if (ferror(f))	/* a directory, an I/O error: not an empty script */
		rc = sc_bad(c, "cannot read: %s", strerror(errno));
	if (rc == SC_BAD) {
		fflush(stdout);
		if (c->lineno)
			fprintf(stderr, "%s:%u: %s\n", c->file, c->lineno, c->msg);
		else
			fprintf(stderr, "%s: %s\n", c->file, c->msg);
	}
	free(buf);
	return rc;
}

/* Runs one file in a fresh context; returns its exit status. */
static int run_file(const char *path, int verbose, int stop_first)
{
	sc_ctx c = { .file = path, .verbose = verbose, .stop_first = stop_first };
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;

	if (!f) {
		fprintf(stderr, "peimm run: cannot open '%s': %s\n", path, strerror(errno));
		return 2;
	}
	int rc = run_lines(&c, f);
	if (f != stdin)
		fclose(f);
	sc_ctx_free(&c);
	fflush(stdout);
	if (rc == SC_BAD)
		return 2;
	if (c.failures || rc == SC_ABORT) {
		fprintf(stderr, "%s: %u of %u checks failed%s\n", path, c.failures, c.checks,
			rc == SC_ABORT ? " (stopped: setup failed)" :
			c.stop_first ? " (stopped at the first)" : "");
		return 1;
	}
	printf("%s: %u checks passed\n", path, c.checks);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	int verbose = 0, stop_first = 0, status = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help();
			return 0;
		}
		if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "-x"))
			stop_first = 1;
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "peimm run: unknown option '%s' (%s)\n", argv[i], RUN_USAGE);
			return 2;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		int rc = run_file(argv[i], verbose, stop_first);
		status = rc > status ? rc : status;
		files++;
	}
	if (!files) {
		fprintf(stderr, "peimm run: no scenario file given (%s)\n", RUN_USAGE);
		return 2;
	}
	return status;
}
