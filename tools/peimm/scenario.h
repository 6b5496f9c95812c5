/*
 * The scenario language of 'peimm run' (docs/scenarios.md): the state one run carries (the
 * system, named tokens, processes and variables, the last result) and the functions the
 * scenario_*.c files share. It uses only the public API of <peimm.h>; it never includes a
 * header from src/. Functions that can hit an error in the script itself return SC_BAD after
 * storing one message (sc_bad); failed expectations are counted, never returned.
 */
#ifndef PEIMM_SCENARIO_H
#define PEIMM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include <peimm.h>

/* Return codes of every sc_* function that runs part of a line. */
enum {
	SC_OK = 0,
	SC_BAD = -1,	/* an error in the script: message in ctx->msg, exit status 2 */
	SC_ABORT = -2,	/* setup failed (system, spawn, bind): already reported, exit 1 */
};

/* One word of a line. A quoted string keeps its decoded bytes (it may hold NULs). */
typedef struct sc_tok {
	char  *s;		/* NUL-terminated text, owned by the line */
	size_t len;		/* bytes in s, excluding the terminator */
	int    quoted;		/* 1 = was "..." */
} sc_tok;

/* A line split into words: the command part and the part after "=>". */
typedef struct sc_line {
	sc_tok *tok;		/* all words, the "=>" word removed */
	size_t  n;		/* words of the command part */
	size_t  total;		/* all words; tok[n .. total) is the expectation */
	int     has_expect;	/* 1 = the line had "=>" */
} sc_line;

/* What the last command produced, for "=>" and "expect". */
typedef enum { SC_RES_NONE, SC_RES_NUM, SC_RES_FAULT, SC_RES_BYTES } sc_res_kind;

typedef struct sc_result {
	sc_res_kind    kind;
	long           num;	/* NUM: the value; FAULT: -EFAULT; BYTES: the byte count */
	pm_siginfo     si;	/* FAULT: what the MMU reported */
	unsigned char *bytes;	/* BYTES: owned, NUL-terminated for convenience */
	size_t         len;
} sc_result;

typedef enum { SC_VAR, SC_PROC, SC_TOKEN } sc_kind;

/* A named thing of the scenario. Names are unique within their kind. */
typedef struct sc_name {
	sc_kind kind;
	char    name[64];
	union {
		long       value;	/* SC_VAR */
		pm_thread *thread;	/* SC_PROC: the main thread */
		pm_token  *token;	/* SC_TOKEN: one reference owned here */
	} u;
} sc_name;

typedef struct sc_ctx {
	const char *file;	/* the script's name, for messages */
	unsigned    lineno;	/* 1-based number of the current line */
	const char *text;	/* the current line as written, trimmed */
	int         verbose;	/* -v: echo each line and its result */
	int         stop_first;	/* -x: stop at the first failed expectation */
	pm_system  *sys;	/* NULL until 'system' or the first use */
	sc_name    *names;
	size_t      nnames, cap;
	sc_result   last;	/* result of the last command that produced one */
	int         fresh;	/* 1 = the current line produced last (for -v) */
	unsigned    checks, failures;
	char        msg[512];	/* the script error, set by sc_bad */
	char       *root;	/* 'system root=': kept alive for the system's lifetime */
	char       *swap_path;	/* 'system swap_path=': likewise */
} sc_ctx;

/* ---- run.c / scenario_report.c ---- */
int  sc_bad(sc_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_fail(sc_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_pass(sc_ctx *c);

/* ---- scenario_lex.c ---- */
int  sc_split(sc_ctx *c, const char *text, sc_line *out);
void sc_line_free(sc_line *l);
char *sc_trim(char *s);

/* ---- scenario_names.c ---- */
int         sc_syscall_nr(const char *name, long *nr);
int         sc_const_value(const char *name, long *v);
const char *sc_errno_name(long err);
const char *sc_signal_name(int sig);
const char *sc_code_name(int sig, int code);
void        sc_list_syscalls(void);
const char *sc_syscall_name(size_t i);
const char *sc_const_name(size_t i);

/* ---- scenario_eval.c ---- */
int  sc_eval(sc_ctx *c, const sc_tok *t, long *out);
int  sc_data(sc_ctx *c, const sc_tok *t, size_t n, unsigned char **buf, size_t *len);
const char *sc_fmt_num(long v, char buf[40]);
int  sc_var_set(sc_ctx *c, const char *name, long v);

/* ---- scenario_exec.c ---- */
int  sc_exec_line(sc_ctx *c, const sc_line *l);
sc_name *sc_find(sc_ctx *c, sc_kind kind, const char *name);
sc_name *sc_add(sc_ctx *c, sc_kind kind, const char *name);
int  sc_is_command(const char *word);
int  sc_need_system(sc_ctx *c);
int  sc_proc_arg(sc_ctx *c, const sc_tok *t, pm_thread **out);
void sc_ctx_free(sc_ctx *c);
void sc_set_num(sc_ctx *c, long v);
void sc_result_clear(sc_result *r);
void sc_print_commands(void);
const char *sc_command_name(size_t i);
const char *sc_command_brief(size_t i);
int  sc_command_help(const char *name);

/* ---- scenario_setup.c ---- */
int sc_cmd_system(sc_ctx *c, const sc_line *l);
int sc_cmd_token(sc_ctx *c, const sc_line *l);
int sc_cmd_spawn(sc_ctx *c, const sc_line *l);
int sc_cmd_bind(sc_ctx *c, const sc_line *l);
int sc_cmd_impersonate(sc_ctx *c, const sc_line *l);
int sc_cmd_revert(sc_ctx *c, const sc_line *l);

/* ---- scenario_mem.c ---- */
int sc_cmd_write(sc_ctx *c, const sc_line *l);
int sc_cmd_fill(sc_ctx *c, const sc_line *l);
int sc_cmd_read(sc_ctx *c, const sc_line *l);
int sc_cmd_access(sc_ctx *c, const sc_line *l);
int sc_cmd_peek(sc_ctx *c, const sc_line *l);
int sc_cmd_scratch(sc_ctx *c, const sc_line *l);

/* ---- scenario_proc.c ---- */
int sc_cmd_show(sc_ctx *c, const sc_line *l);
int sc_cmd_proc(sc_ctx *c, const sc_line *l);
int sc_cmd_maps(sc_ctx *c, const sc_line *l);
int sc_cmd_registry(sc_ctx *c, const sc_line *l);

/* ---- scenario_expect.c ---- */
int  sc_expect(sc_ctx *c, const sc_tok *t, size_t n);
int  sc_expect_ok(sc_ctx *c);
void sc_fmt_result(const sc_result *r, char *buf, size_t size);

#endif
