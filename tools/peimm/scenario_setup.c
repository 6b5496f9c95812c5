/*
 * The setup commands of the scenario language: system, token, spawn, bind, impersonate and
 * revert. They create the named objects the rest of a scenario refers to. A creation that
 * fails without a "=>" on its line stops the run (SC_ABORT), because every later line would
 * refer to something missing; with "=>" the failure becomes a result to check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

/* Splits "key=value" (or "key=" "quoted") at word *i; advances *i past what it used. */
static int option(sc_ctx *c, const sc_line *l, size_t *i, char key[32], const sc_tok **val,
		  sc_tok *tmp)
{
	const sc_tok *t = &l->tok[*i];
	const char *eq = t->quoted ? NULL : strchr(t->s, '=');

	if (!eq || eq == t->s || (size_t)(eq - t->s) >= 32)
		return sc_bad(c, "expected key=value, found '%.64s'", t->s);
	memcpy(key, t->s, (size_t)(eq - t->s));
	key[eq - t->s] = '\0';
	(*i)++;
	if (eq[1] == '\0' && *i < l->n && l->tok[*i].quoted) {
		*val = &l->tok[(*i)++];
		return SC_OK;
	}
	*tmp = (sc_tok){ .s = (char *)eq + 1, .len = strlen(eq + 1) };
	*val = tmp;
	return SC_OK;
}

static int system_string(sc_ctx *c, const sc_tok *v, char **dst, const char **cfg_field)
{
	free(*dst);
	*dst = strdup(v->s);
	if (!*dst)
		return sc_bad(c, "out of memory");
	*cfg_field = *dst;
	return SC_OK;
}

/* Applies one system option to cfg. */
static int system_option(sc_ctx *c, pm_config *cfg, const char *key, const sc_tok *v)
{
	long n;

	if (!strcmp(key, "root"))
		return system_string(c, v, &c->root, &cfg->root);
	if (!strcmp(key, "swap_path"))
		return system_string(c, v, &c->swap_path, &cfg->swap_path);
	if (sc_eval(c, v, &n) != SC_OK)
		return SC_BAD;
	if (!strcmp(key, "ram"))
		cfg->ram_bytes = (uint64_t)n;
	else if (!strcmp(key, "swap"))
		cfg->swap_bytes = (uint64_t)n;
	else if (!strcmp(key, "seed"))
		cfg->seed = (uint64_t)n;
	else if (!strcmp(key, "levels"))
		cfg->paging_levels = (int)n;
	else if (!strcmp(key, "embedded"))
		cfg->embedded = n != 0;
	else
		return sc_bad(c, "unknown system option '%s' (ram swap seed levels embedded root "
			      "swap_path)", key);
	return SC_OK;
}

int sc_cmd_system(sc_ctx *c, const sc_line *l)
{
	pm_config cfg;
	char key[32];
	const sc_tok *v = NULL;
	sc_tok tmp;

	if (c->sys)
		return sc_bad(c, "the system already exists ('system' must come before any "
			      "command that uses it, and only once)");
	if (l->has_expect)
		return sc_bad(c, "'system' takes no expectation");
	pm_config_default(&cfg);
	cfg.seed = 1;
	for (size_t i = 1; i < l->n;) {
		if (option(c, l, &i, key, &v, &tmp) != SC_OK ||
		    system_option(c, &cfg, key, v) != SC_OK)
			return SC_BAD;
	}
	c->sys = pm_system_create(&cfg);
	if (!c->sys) {
		sc_fail(c, "pm_system_create refused this configuration");
		return SC_ABORT;
	}
	return SC_OK;
}

/* Joins words from..n-1 with spaces into a malloc'd string. */
static char *join(const sc_line *l, size_t from)
{
	size_t len = 1;

	for (size_t i = from; i < l->n; i++)
		len += l->tok[i].len + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (size_t i = from; i < l->n; i++) {
		memcpy(p, l->tok[i].s, l->tok[i].len);
		p += l->tok[i].len;
		*p++ = i + 1 < l->n ? ' ' : '\0';
	}
	if (p == s)
		*p = '\0';
	return s;
}

/* A creation failed: a result to check with "=>", or the end of the run without. */
static int refused(sc_ctx *c, const sc_line *l, long result, const char *what)
{
	sc_set_num(c, result);
	if (l->has_expect)
		return SC_OK;
	if (result < 0 && pm_errno_name(result))
		sc_fail(c, "%s (-%s)", what, pm_errno_name(result));
	else
		sc_fail(c, "%s", what);
	return SC_ABORT;
}

int sc_cmd_token(sc_ctx *c, const sc_line *l)
{
	int err = 0, rc;

	if (l->n < 3)
		return sc_bad(c, "usage: token NAME SPEC... (e.g. user=S-1-5-21-1-1001 il=medium)");
	if (sc_find(c, SC_TOKEN, l->tok[1].s))
		return sc_bad(c, "token '%s' already defined", l->tok[1].s);
	if ((rc = sc_need_system(c)) != SC_OK)
		return rc;
	char *spec = join(l, 2);
	if (!spec)
		return sc_bad(c, "out of memory");
	pm_token *tok = pm_token_parse(c->sys, spec, &err);
	free(spec);
	if (!tok)
		return refused(c, l, err ? err : -22, "pm_token_parse refused the spec");
	sc_name *e = sc_add(c, SC_TOKEN, l->tok[1].s);
	if (!e) {
		pm_token_put(tok);
		return SC_BAD;
	}
	e->u.token = tok;
	sc_set_num(c, 0);
	return SC_OK;
}

static int token_arg(sc_ctx *c, const sc_tok *t, pm_token **out)
{
	sc_name *e = t->quoted ? NULL : sc_find(c, SC_TOKEN, t->s);

	if (!e)
		return sc_bad(c, "unknown token '%.64s' (define it with 'token')", t->s);
	*out = e->u.token;
	return SC_OK;
}

/* pip= takes a number or none/protected/isolated; trust= and elf= as written. */
static int spawn_option(sc_ctx *c, pm_spawn_opts *o, const char *key, const sc_tok *v)
{
	static const struct { const char *name; uint32_t type; } pips[] = {
		{ "none", PM_PIP_NONE }, { "protected", PM_PIP_PROTECTED },
		{ "isolated", PM_PIP_ISOLATED },
	};
	long n;

	if (!strcmp(key, "elf")) {
		o->elf_path = v->s;	/* the line outlives the call */
		return SC_OK;
	}
	for (size_t i = 0; !strcmp(key, "pip") && i < 3; i++)
		if (!strcmp(v->s, pips[i].name)) {
			o->pip_type = pips[i].type;
			return SC_OK;
		}
	if (strcmp(key, "pip") && strcmp(key, "trust"))
		return sc_bad(c, "unknown spawn option '%s' (pip trust elf)", key);
	if (sc_eval(c, v, &n) != SC_OK)
		return SC_BAD;
	if (n < 0 || n > 0xffffffffL)
		return sc_bad(c, "%s=%ld out of range", key, n);
	*(strcmp(key, "pip") ? &o->pip_trust : &o->pip_type) = (uint32_t)n;
	return SC_OK;
}

int sc_cmd_spawn(sc_ctx *c, const sc_line *l)
{
	pm_spawn_opts o = { 0 };
	pm_token *tok = NULL;
	char key[32];
	const sc_tok *v = NULL;
	sc_tok tmp;
	int rc;

	if (l->n < 3)
		return sc_bad(c, "usage: spawn NAME TOKEN [pip=N] [trust=N] [elf=\"PATH\"]");
	if (sc_find(c, SC_PROC, l->tok[1].s) || sc_is_command(l->tok[1].s))
		return sc_bad(c, "process name '%s' is taken", l->tok[1].s);
	if (token_arg(c, &l->tok[2], &tok) != SC_OK)
		return SC_BAD;
	for (size_t i = 3; i < l->n;)
		if (option(c, l, &i, key, &v, &tmp) != SC_OK || spawn_option(c, &o, key, v) != SC_OK)
			return SC_BAD;
	if ((rc = sc_need_system(c)) != SC_OK)
		return rc;
	sc_name *e = sc_add(c, SC_PROC, l->tok[1].s);
	if (!e)
		return SC_BAD;
	e->u.thread = pm_spawn(c->sys, tok, &o);
	if (!e->u.thread) {
		c->nnames--;
		return refused(c, l, 0, "pm_spawn refused to create the process");
	}
	sc_set_num(c, pm_pid(e->u.thread));
	return SC_OK;
}

int sc_cmd_bind(sc_ctx *c, const sc_line *l)
{
	long pid;
	int rc;

	if (l->n != 3)
		return sc_bad(c, "usage: bind NAME PID");
	if (sc_find(c, SC_PROC, l->tok[1].s) || sc_is_command(l->tok[1].s))
		return sc_bad(c, "process name '%s' is taken", l->tok[1].s);
	if (sc_eval(c, &l->tok[2], &pid) != SC_OK)
		return SC_BAD;
	if ((rc = sc_need_system(c)) != SC_OK)
		return rc;
	pm_thread *t = pid > 0 && pid <= 0x7fffffff ? pm_thread_of(c->sys, (int)pid) : NULL;
	if (!t)
		return refused(c, l, 0, "no process has that pid");
	sc_name *e = sc_add(c, SC_PROC, l->tok[1].s);
	if (!e)
		return SC_BAD;
	e->u.thread = t;
	sc_set_num(c, pid);
	return SC_OK;
}

int sc_cmd_impersonate(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;
	pm_token *tok = NULL;

	if (l->n != 3)
		return sc_bad(c, "usage: impersonate PROC TOKEN");
	if (sc_proc_arg(c, &l->tok[1], &t) != SC_OK || token_arg(c, &l->tok[2], &tok) != SC_OK)
		return SC_BAD;
	sc_set_num(c, pm_impersonate(t, tok));
	return SC_OK;
}

int sc_cmd_revert(sc_ctx *c, const sc_line *l)
{
	pm_thread *t = NULL;

	if (l->n != 2)
		return sc_bad(c, "usage: revert PROC");
	if (sc_proc_arg(c, &l->tok[1], &t) != SC_OK)
		return SC_BAD;
	sc_set_num(c, pm_revert(t));
	return SC_OK;
}
