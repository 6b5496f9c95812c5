/*
 * 'peimm shell': the scenario language of 'peimm run' at a prompt. Each line goes through
 * the same interpreter (sc_split, sc_exec_line) in one context that lives for the session,
 * so names, processes and variables persist from line to line. It adds only what a prompt
 * needs: help, exit, printing each result, line editing with history (kept in
 * ~/.peimm_history) and Tab completion through libedit when the build found it (else plain
 * reads). A wrong line prints one line
 * on stderr and the shell goes on; it never stops on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shell.h"

#ifdef PEIMM_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#define SHELL_USAGE "usage: peimm shell"

static void help_all(void)
{
	const char *name;

	printf("Scenario lines, as in 'peimm run' files (docs/scenarios.md), one at a time:\n\n");
	for (size_t i = 0; (name = sc_command_name(i)); i++)
		printf("  %-12s %s\n", name, sc_command_brief(i));
	printf("  %-12s %s\n", "PROC NAME", "a syscall by name: p1 mmap 0 4096 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS -1 0");
	printf("  %-12s %s\n", "$x = ...", "bind a command's result or a value to a variable");
	printf("  %-12s %s\n", "help [CMD]", "this list, or one command (also: help syscalls, help SYSCALL)");
	printf("  %-12s %s\n", "exit", "leave (also quit, or end of input)");
	printf("\nEach result is printed; '=> EXPECTATION' after a line checks it. Tab completes\n"
	       "commands, process names, syscall names and constants.\n");
}

static void help_one(const char *what)
{
	long nr;

	if (sc_command_help(what))
		return;
	if (!strcmp(what, "help"))
		printf("help [CMD]\n    list the commands, or explain one\n");
	else if (!strcmp(what, "exit") || !strcmp(what, "quit"))
		printf("%s\n    leave the shell (end of input does too)\n", what);
	else if (!strcmp(what, "syscalls"))
		sc_list_syscalls();
	else if (sc_syscall_nr(what, &nr))
		printf("PROC %s [ARG...]\n    syscall %ld through pm_syscall; the result is its "
		       "return value or -errno\n", what, nr);
	else
		fprintf(stderr, "help: no command '%s' (try 'help')\n", what);
}

/* Prints the result of the line just run, as '-v' of peimm run does. */
static void print_result(sc_ctx *c, const sc_line *l)
{
	char res[400];
	const char *w0 = l->tok[0].s;

	if (!c->fresh || c->last.kind == SC_RES_NONE || !strcmp(w0, "show") || !strcmp(w0, "echo"))
		return;
	sc_fmt_result(&c->last, res, sizeof(res));
	if (w0[0] == '$')
		printf("%s = %s\n", w0, res);
	else
		printf("%s\n", res);
}

int shell_line(sc_ctx *c, char *text)
{
	sc_line l;
	int rc, end = 0;

	c->lineno++;
	c->text = sc_trim(text);
	c->fresh = 0;
	if (sc_split(c, c->text, &l) != SC_OK) {
		fflush(stdout);
		fprintf(stderr, "%s:%u: %s\n", c->file, c->lineno, c->msg);
		return 0;
	}
	const sc_tok *t0 = l.total ? &l.tok[0] : NULL;
	if (t0 && !t0->quoted && l.n == 1 && !l.has_expect &&
	    (!strcmp(t0->s, "exit") || !strcmp(t0->s, "quit"))) {
		end = 1;
	} else if (t0 && !t0->quoted && !strcmp(t0->s, "help") && !sc_find(c, SC_PROC, "help")) {
		if (l.n == 1)
			help_all();
		for (size_t i = 1; i < l.n; i++)
			help_one(l.tok[i].s);
	} else {
		unsigned failures = c->failures;
		rc = sc_exec_line(c, &l);
		fflush(stdout);
		if (rc == SC_BAD)
			fprintf(stderr, "%s:%u: %s\n", c->file, c->lineno, c->msg);
		else if (rc == SC_OK && c->failures == failures && l.n)
			print_result(c, &l);
		if (rc == SC_BAD)
			c->failures++;	/* counted for the exit status of a piped session */
	}
	fflush(stdout);
	sc_line_free(&l);
	return end;
}

#ifdef PEIMM_HAVE_LIBEDIT
/* libedit's completion hooks take no argument: the session's context for them. */
static sc_ctx *complete_ctx;

struct matches { char **v; size_t n, cap; };

static void collect(void *arg, const char *cand)
{
	struct matches *m = arg;

	if (m->n + 1 >= m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 32;
		char **nv = realloc(m->v, ncap * sizeof(*nv));
		if (!nv)
			return;
		m->v = nv;
		m->cap = ncap;
	}
	if ((m->v[m->n] = strdup(cand)))
		m->n++;
}

/* Builds libedit's match array: [0] the longest common prefix, then the words, then NULL. */
static char **complete(const char *text, int start, int end)
{
	struct matches m = { 0 };

	(void)text;
	rl_attempted_completion_over = 1;	/* never fall back to file names */
	collect(&m, "");
	shell_complete(complete_ctx, rl_line_buffer, (size_t)end, collect, &m);
	(void)start;
	if (m.n <= 1) {
		for (size_t i = 0; i < m.n; i++)
			free(m.v[i]);
		free(m.v);
		return NULL;
	}
	size_t common = strlen(m.v[1]);
	for (size_t i = 2; i < m.n; i++)
		for (size_t k = 0; k < common; k++)
			if (m.v[i][k] != m.v[1][k]) {
				common = k;
				break;
			}
	free(m.v[0]);
	m.v[0] = strndup(m.v[1], common);
	m.v[m.n] = NULL;
	return m.v;
}

static char *read_line(void)
{
	return readline("peimm> ");
}

/* ~/.peimm_history keeps the last 1000 lines between sessions; "" when HOME is unset. */
static void history_path(char *buf, size_t size)
{
	const char *home = getenv("HOME");

	buf[0] = '\0';
	if (home && *home)
		snprintf(buf, size, "%s/.peimm_history", home);
}

static void edit_setup(sc_ctx *c)
{
	char path[4096];

	complete_ctx = c;
	rl_readline_name = "peimm";
	rl_basic_word_break_characters = " \t|&+-*/~()=,";
	rl_attempted_completion_function = complete;
	using_history();
	stifle_history(1000);
	history_path(path, sizeof(path));
	if (path[0])
		read_history(path);	/* none yet is fine */
}

static void edit_done(void)
{
	char path[4096];

	history_path(path, sizeof(path));
	if (path[0])
		write_history(path);	/* a read-only home only loses the history */
}

static void edit_remember(const char *line)
{
	if (*line)
		add_history(line);
}
#else
static char *read_line(void)
{
	char *line = NULL;
	size_t cap = 0;

	fputs("peimm> ", stdout);
	fflush(stdout);
	if (getline(&line, &cap, stdin) < 0) {
		free(line);
		return NULL;
	}
	return line;
}

static void edit_setup(sc_ctx *c) { (void)c; }
static void edit_done(void) { }
static void edit_remember(const char *line) { (void)line; }
#endif

/* No terminal: read lines, print results, no prompt. */
static void run_piped(sc_ctx *c)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, stdin) >= 0)
		if (shell_line(c, line))
			break;
	free(line);
}

static void run_interactive(sc_ctx *c)
{
	char *line;

	printf("peimm shell: scenario lines at a prompt. 'help' lists the commands, Tab completes,\n"
	       "'exit' or Ctrl-D leaves.\n");
	edit_setup(c);
	while ((line = read_line())) {
		edit_remember(sc_trim(line));
		int end = shell_line(c, line);
		free(line);
		if (end)
			break;
	}
	if (!line)
		printf("\n");
	edit_done();
}

int cmd_shell(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s\n\nAn interactive prompt over the scenario language of 'peimm run'\n"
			       "(docs/scenarios.md): one system for the session, each line run as it is\n"
			       "typed and its result printed. 'help' inside lists the commands.\n"
			       "When standard input is not a terminal it reads the lines from it with no\n"
			       "prompt, and exits 1 if any line was wrong or any expectation failed.\n",
			       SHELL_USAGE);
			return 0;
		}
		fprintf(stderr, "peimm shell: unknown %s '%s' (%s)\n",
			argv[i][0] == '-' ? "option" : "argument", argv[i], SHELL_USAGE);
		return 2;
	}
	sc_ctx c = { .file = "shell" };
	int tty = isatty(STDIN_FILENO);

	if (tty)
		run_interactive(&c);
	else
		run_piped(&c);
	unsigned failures = c.failures;
	sc_ctx_free(&c);
	fflush(stdout);
	return !tty && failures ? 1 : 0;
}
