/*
 * Runs one parsed scenario line: '$var = ...' assignment, the command table, and the
 * catch-all 'PROC SYSCALL ARGS' that goes through pm_syscall. It owns the table of names
 * (variables, processes, tokens) and the last result; after a command it applies the
 * line's "=>" expectation, or the command's implicit one. Everything it calls on the
 * library is public API (<peimm.h>).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

enum {
	F_KEEP = 1,	/* leaves the last result alone (expect, echo, tick, ...) */
	F_OK = 2,	/* without "=>", the result must be a success */
	F_ZERO = 4,	/* without "=>", the result must be 0 */
};

static int cmd_expect(sc_ctx *c, const sc_line *l);
static int cmd_echo(sc_ctx *c, const sc_line *l);
static int cmd_tick(sc_ctx *c, const sc_line *l);
static int cmd_check(sc_ctx *c, const sc_line *l);
static int cmd_pid(sc_ctx *c, const sc_line *l);
static int cmd_sysinfo(sc_ctx *c, const sc_line *l);

static const struct sc_cmd {
	const char *name;
	int (*fn)(sc_ctx *, const sc_line *);
	int flags;
	const char *usage;
	const char *help;
} cmds[] = {
	{ "system", sc_cmd_system, F_KEEP, "system [ram=N] [swap=N] [seed=N] [levels=4|5] "
	  "[embedded=0|1] [root=\"DIR\"] [swap_path=\"FILE\"]", "create the system (else: defaults, seed 1, on first use)" },
	{ "token", sc_cmd_token, 0, "token NAME SPEC... | token NAME system", "define a token (pm_token_parse)" },
	{ "spawn", sc_cmd_spawn, 0, "spawn NAME TOKEN [pip=N|protected|isolated] [trust=N] [elf=\"PATH\"]", "create a process; result: its pid (0 if refused)" },
	{ "bind", sc_cmd_bind, 0, "bind NAME PID", "name an existing process, e.g. a fork child" },
	{ "impersonate", sc_cmd_impersonate, 0, "impersonate PROC TOKEN", "pm_impersonate on the main thread" },
	{ "revert", sc_cmd_revert, 0, "revert PROC", "pm_revert" },
	{ "write", sc_cmd_write, F_OK, "write PROC ADDR DATA...", "store data through the MMU (DATA: \"str\", bytes B*N, u64 V, zero N)" },
	{ "fill", sc_cmd_fill, F_OK, "fill PROC ADDR LEN BYTE", "store LEN copies of BYTE" },
	{ "read", sc_cmd_read, F_OK, "read PROC ADDR LEN", "load LEN bytes; result: the bytes" },
	{ "access", sc_cmd_access, 0, "access PROC ADDR r|w|x [LEN]", "probe with one MMU access (w stores zeros); result: LEN or the fault" },
	{ "peek", sc_cmd_peek, F_OK, "peek PROC ADDR [1|2|4|8]", "load a little-endian number" },
	{ "scratch", sc_cmd_scratch, F_OK, "scratch PROC DATA...", "copy data into the process (pm_scratch); result: its address" },
	{ "show", sc_cmd_show, F_OK, "show PROC VIEW [TARGET]", "print /proc/TARGET/VIEW as PROC reads it" },
	{ "proc", sc_cmd_proc, F_OK, "proc PROC VIEW [TARGET] [contains S|lacks S|field NAME|count [N]]", "read and test a /proc view" },
	{ "maps", sc_cmd_maps, F_OK, "maps PROC [TARGET] [at ADDR] has S|lacks S|count [N]|start S|end S",
	  "test the lines of maps; start/end give the range of the first line with S" },
	{ "registry", sc_cmd_registry, 0, "registry PROC set NAME VALUE | registry get NAME", "the Memory registry key (short names)" },
	{ "pid", cmd_pid, 0, "pid PROC", "result: the pid of PROC" },
	{ "sysinfo", cmd_sysinfo, 0, "sysinfo free_frames|total_frames|live_objects|nr_processes|seed", "a pm_system_info counter" },
	{ "tick", cmd_tick, F_KEEP, "tick N", "run the daemons N ticks (pm_system_tick)" },
	{ "check", cmd_check, F_ZERO, "check", "pm_check_invariants, which must find 0 problems" },
	{ "expect", cmd_expect, F_KEEP, "expect EXPECTATION", "check the result of the previous command" },
	{ "echo", cmd_echo, F_KEEP, "echo WORDS...", "print the words, $variables substituted" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct sc_cmd *find_cmd(const char *word)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, word))
			return &cmds[i];
	return NULL;
}

int sc_is_command(const char *word)
{
	return find_cmd(word) != NULL || !strcmp(word, "syscall");
}

/* The name of command i of the table, NULL past the end (for the shell's completion). */
const char *sc_command_name(size_t i)
{
	return i < NCMDS ? cmds[i].name : NULL;
}

/* The one-line help of command i, NULL past the end. */
const char *sc_command_brief(size_t i)
{
	return i < NCMDS ? cmds[i].help : NULL;
}

/* Prints the usage and the one-line help of one command; 0 when there is no such command. */
int sc_command_help(const char *name)
{
	const struct sc_cmd *cmd = find_cmd(name);

	if (!cmd)
		return 0;
	printf("%s\n    %s\n", cmd->usage, cmd->help);
	return 1;
}

void sc_print_commands(void)
{
	for (size_t i = 0; i < NCMDS; i++)
		printf("  %s\n      %s\n", cmds[i].usage, cmds[i].help);
	printf("  PROC SYSCALL [ARG...]   or   PROC syscall NR [ARG...]\n"
	       "      pm_syscall with up to 6 arguments; a \"string\" argument is copied in\n"
	       "      with pm_scratch and passed as its address\n");
}

/* ---- the table of names ---- */

sc_name *sc_find(sc_ctx *c, sc_kind kind, const char *name)
{
	for (size_t i = 0; i < c->nnames; i++)
		if (c->names[i].kind == kind && !strcmp(c->names[i].name, name))
			return &c->names[i];
	return NULL;
}

/* A new, zeroed entry; NULL (with a script error) when the name is bad or no memory. */
sc_name *sc_add(sc_ctx *c, sc_kind kind, const char *name)
{
	size_t n = strlen(name);
	int ok = n > 0 && n < sizeof(c->names[0].name) && !isdigit((unsigned char)name[0]);

	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)name[i]) || name[i] == '_';
	if (!ok) {
		sc_bad(c, "bad name '%.64s' (letters, digits and _, not starting with a digit)", name);
		return NULL;
	}
	if (c->nnames == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		sc_name *nn = realloc(c->names, ncap * sizeof(*nn));
		if (!nn) {
			sc_bad(c, "out of memory");
			return NULL;
		}
		c->names = nn;
		c->cap = ncap;
	}
	sc_name *e = &c->names[c->nnames++];
	*e = (sc_name){ .kind = kind };
	memcpy(e->name, name, n + 1);
	return e;
}

int sc_var_set(sc_ctx *c, const char *name, long v)
{
	sc_name *e = sc_find(c, SC_VAR, name);

	if (!e && !(e = sc_add(c, SC_VAR, name)))
		return SC_BAD;
	e->u.value = v;
	return SC_OK;
}

int sc_proc_arg(sc_ctx *c, const sc_tok *t, pm_thread **out)
{
	sc_name *e = t->quoted ? NULL : sc_find(c, SC_PROC, t->s);

	if (!e)
		return sc_bad(c, "unknown process '%.64s' (create it with spawn or bind)", t->s);
	*out = e->u.thread;
	return SC_OK;
}

/* Creates the default system on first use: pm_config_default with seed 1. */
int sc_need_system(sc_ctx *c)
{
	pm_config cfg;

	if (c->sys)
		return SC_OK;
	pm_config_default(&cfg);
	cfg.seed = 1;
	c->sys = pm_system_create(&cfg);
	if (!c->sys) {
		sc_fail(c, "pm_system_create refused the default configuration");
		return SC_ABORT;
	}
	return SC_OK;
}

void sc_result_clear(sc_result *r)
{
	free(r->bytes);
	*r = (sc_result){ .kind = SC_RES_NONE };
}

void sc_set_num(sc_ctx *c, long v)
{
	sc_result_clear(&c->last);
	c->last.kind = SC_RES_NUM;
	c->last.num = v;
}

/* Tokens first (they may refer to the system), then the system with its processes. */
void sc_ctx_free(sc_ctx *c)
{
	for (size_t i = 0; i < c->nnames; i++)
		if (c->names[i].kind == SC_TOKEN)
			pm_token_put(c->names[i].u.token);
	free(c->names);
	c->names = NULL;
	c->nnames = c->cap = 0;
	if (c->sys)
		pm_system_destroy(c->sys);
	c->sys = NULL;
	sc_result_clear(&c->last);
	free(c->root);
	free(c->swap_path);
	c->root = c->swap_path = NULL;
}

/* ---- syscalls ---- */

/* One syscall argument: a "string" is copied into the process, anything else evaluated. */
static int syscall_arg(sc_ctx *c, pm_thread *t, const sc_tok *tok, long *out)
{
	if (!tok->quoted)
		return sc_eval(c, tok, out);
	uint64_t addr = pm_scratch(t, tok->s, tok->len + 1);
	if ((long)addr < 0 && (long)addr >= -4095) {
		char b[40];
		sc_fail(c, "pm_scratch could not copy \"%.40s\": %s", tok->s,
			sc_fmt_num((long)addr, b));
		return SC_ABORT;
	}
	*out = (long)addr;
	return SC_OK;
}

/* PROC NAME ARGS... or PROC syscall NR ARGS...: up to six arguments, the rest 0. */
static int cmd_syscall(sc_ctx *c, const sc_line *l, pm_thread *t)
{
	long nr, a[6] = { 0 };
	size_t first = 2;

	if (l->n < 2)
		return sc_bad(c, "missing syscall name after process '%s'", l->tok[0].s);
	if (!strcmp(l->tok[1].s, "syscall") && !l->tok[1].quoted) {
		if (l->n < 3)
			return sc_bad(c, "missing syscall number");
		if (sc_eval(c, &l->tok[2], &nr) != SC_OK)
			return SC_BAD;
		first = 3;
	} else if (l->tok[1].quoted || !sc_syscall_nr(l->tok[1].s, &nr)) {
		return sc_bad(c, "unknown syscall '%.64s' (see 'peimm run --help'; or use "
			      "'%s syscall NR ...')", l->tok[1].s, l->tok[0].s);
	}
	if (l->n - first > 6)
		return sc_bad(c, "too many arguments: a syscall takes at most 6");
	for (size_t i = first; i < l->n; i++) {
		int rc = syscall_arg(c, t, &l->tok[i], &a[i - first]);
		if (rc != SC_OK)
			return rc;
	}
	sc_set_num(c, pm_syscall(t, nr, a[0], a[1], a[2], a[3], a[4], a[5]));
	return SC_OK;
}

/* ---- small commands ---- */

static int cmd_expect(sc_ctx *c, const sc_line *l)
{
	return sc_expect(c, l->tok + 1, l->n - 1);
}

static int cmd_echo(sc_ctx *c, const sc_line *l)
{
	for (size_t i = 1; i < l->n; i++) {
		const sc_tok *t = &l->tok[i];
		sc_name *v = !t->quoted && t->s[0] == '$' ? sc_find(c, SC_VAR, t->s + 1) : NULL;
		char b[40];
		printf("%s%s", i > 1 ? " " : "", v ? sc_fmt_num(v->u.value, b) : t->s);
	}
	printf("\n");
	return SC_OK;
}

static int cmd_tick(sc_ctx *c, const sc_line *l)
{
	long n;

	if (l->n != 2)
		return sc_bad(c, "usage: tick N");
	if (sc_eval(c, &l->tok[1], &n) != SC_OK)
		return SC_BAD;
	if (n < 0 || n > 100000000)
		return sc_bad(c, "tick count %ld out of range 0..100000000", n);
	int rc = sc_need_system(c);
	if (rc == SC_OK)
		pm_system_tick(c->sys, (unsigned)n);
	return rc;
}

static int cmd_check(sc_ctx *c, const sc_line *l)
{
	if (l->n != 1)
		return sc_bad(c, "usage: check");
	int rc = sc_need_system(c);
	if (rc == SC_OK)
		sc_set_num(c, pm_check_invariants(c->sys));
	return rc;
}

static int cmd_pid(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;

	if (l->n != 2)
		return sc_bad(c, "usage: pid PROC");
	if (sc_proc_arg(c, &l->tok[1], &t) != SC_OK)
		return SC_BAD;
	sc_set_num(c, pm_pid(t));
	return SC_OK;
}

static int cmd_sysinfo(sc_ctx *c, const sc_line *l)
{
	pm_sysinfo si;
	const char *f = l->n == 2 ? l->tok[1].s : "";
	int rc;

	if ((rc = sc_need_system(c)) != SC_OK)
		return rc;
	pm_system_info(c->sys, &si);
	const struct { const char *name; uint64_t v; } fields[] = {
		{ "total_frames", si.total_frames }, { "free_frames", si.free_frames },
		{ "live_objects", si.live_objects }, { "nr_processes", si.nr_processes },
		{ "seed", si.seed },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].name, f)) {
			sc_set_num(c, (long)fields[i].v);
			return SC_OK;
		}
	return sc_bad(c, "usage: sysinfo total_frames|free_frames|live_objects|nr_processes|seed");
}

/* ---- dispatch ---- */

/* Runs the command part, then its expectation: "=>", or the implicit one of the command. */
static int run_command(sc_ctx *c, const sc_line *l)
{
	const struct sc_cmd *cmd = l->tok[0].quoted ? NULL : find_cmd(l->tok[0].s);
	sc_name *p = cmd || l->tok[0].quoted ? NULL : sc_find(c, SC_PROC, l->tok[0].s);
	long ignored;
	int rc;

	if (!cmd && !p) {
		if (!l->tok[0].quoted && sc_syscall_nr(l->tok[0].s, &ignored))
			return sc_bad(c, "'%s' needs a process first: PROC %s ...", l->tok[0].s,
				      l->tok[0].s);
		return sc_bad(c, "unknown command or process '%.64s'", l->tok[0].s);
	}
	if (!cmd || !(cmd->flags & F_KEEP)) {
		sc_result_clear(&c->last);
		c->fresh = 1;
	}
	rc = cmd ? cmd->fn(c, l) : cmd_syscall(c, l, p->u.thread);
	if (rc != SC_OK)
		return rc;
	if (l->has_expect)
		return sc_expect(c, l->tok + l->n, l->total - l->n);
	if (cmd && (cmd->flags & F_OK) && c->last.kind != SC_RES_NONE)
		return sc_expect_ok(c);
	if (cmd && (cmd->flags & F_ZERO))
		return sc_expect(c, &(sc_tok){ .s = "0", .len = 1 }, 1);
	return SC_OK;
}

/* $NAME = EXPR, or $NAME = COMMAND...: the variable takes the number of the result. */
static int assign(sc_ctx *c, const sc_line *l)
{
	const char *name = l->tok[0].s + 1;
	sc_line rhs = { .tok = l->tok + 2, .n = l->n - 2, .total = l->total - 2,
			.has_expect = l->has_expect };
	long v;

	if (rhs.n == 0)
		return sc_bad(c, "missing value after '='");
	if (rhs.n == 1 && !rhs.tok[0].quoted && !sc_is_command(rhs.tok[0].s) &&
	    !sc_find(c, SC_PROC, rhs.tok[0].s)) {
		if (sc_eval(c, &rhs.tok[0], &v) != SC_OK)
			return SC_BAD;
		sc_set_num(c, v);
		c->fresh = 1;
		return sc_var_set(c, name, v) != SC_OK ? SC_BAD :
		       l->has_expect ? sc_expect(c, l->tok + l->n, l->total - l->n) : SC_OK;
	}
	unsigned failures = c->failures;
	int rc = run_command(c, &rhs);
	if (rc != SC_OK)
		return rc;
	if (c->last.kind != SC_RES_NONE)
		return sc_var_set(c, name, c->last.num);
	/* The command failed and said so: bind 0 so later lines still run. */
	if (c->failures != failures)
		return sc_var_set(c, name, 0);
	return sc_bad(c, "'%s' gives no value to assign", rhs.tok[0].s);
}

int sc_exec_line(sc_ctx *c, const sc_line *l)
{
	if (l->total == 0)
		return SC_OK;
	if (l->n == 0)
		return sc_bad(c, "'=>' with no command before it");
	if (!l->tok[0].quoted && l->tok[0].s[0] == '$') {
		if (l->n < 2 || l->tok[1].quoted || strcmp(l->tok[1].s, "="))
			return sc_bad(c, "expected '$name = ...' (with spaces around '=')");
		return assign(c, l);
	}
	return run_command(c, l);
}
