/*
 * Tab completion for 'peimm shell'. It works on the text before the cursor only: which word
 * is being typed, what the first words are, and which names could follow. It reads the
 * scenario tables (commands, syscalls, constants) and the shell's own names (processes,
 * variables); it never runs anything and never changes the context.
 */
#include <string.h>

#include "shell.h"

/* Characters that end an expression's fragment: spaces and the operators of sc_eval. */
#define BREAKS " \t|&+-*/~()=,"

static const char *const shell_words[] = { "help", "exit", "quit" };
static const char *const views[] = {
	"maps", "smaps", "smaps_rollup", "status", "statm", "pagemap", "numa_maps",
	"damon_regions", "oom_score", "oom_score_adj", "meminfo", "vmstat", "zoneinfo",
	"buddyinfo", "pagetypeinfo", "swaps",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct want {
	const char *frag;
	size_t      n;
	shell_emit_fn emit;
	void       *arg;
};

static void offer(const struct want *w, const char *name)
{
	if (!strncmp(name, w->frag, w->n))
		w->emit(w->arg, name);
}

static void offer_names(const struct want *w, const sc_ctx *c, sc_kind kind)
{
	char buf[80];

	for (size_t i = 0; i < c->nnames; i++) {
		if (c->names[i].kind != kind)
			continue;
		if (kind == SC_VAR) {
			buf[0] = '$';
			strcpy(buf + 1, c->names[i].name);
			offer(w, buf);
		} else {
			offer(w, c->names[i].name);
		}
	}
}

static void offer_commands(const struct want *w)
{
	const char *name;

	for (size_t i = 0; (name = sc_command_name(i)); i++)
		offer(w, name);
}

/* Copies word k (0-based, space-separated) of line[0..len) into out; 0 when there is none. */
static int word_at(const char *line, size_t len, int k, char *out, size_t size)
{
	size_t i = 0;

	for (int w = 0; ; w++) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		size_t s = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (s == i)
			return 0;
		if (w == k) {
			size_t n = i - s < size - 1 ? i - s : size - 1;
			memcpy(out, line + s, n);
			out[n] = '\0';
			return 1;
		}
	}
}

size_t shell_complete(const sc_ctx *c, const char *line, size_t len, shell_emit_fn emit,
		      void *arg)
{
	size_t start = len, wstart = len;
	int word = 0;
	char w0[80] = "", w1[80] = "";

	while (start > 0 && !strchr(BREAKS, line[start - 1]))
		start--;
	while (wstart > 0 && line[wstart - 1] != ' ' && line[wstart - 1] != '\t')
		wstart--;
	for (size_t i = 0, in = 0; i < wstart; i++) {
		int space = line[i] == ' ' || line[i] == '\t';
		word += !space && !in;
		in = !space;
	}
	word_at(line, wstart, 0, w0, sizeof(w0));
	word_at(line, wstart, 1, w1, sizeof(w1));

	struct want w = { line + start, len - start, emit, arg };
	/* "$x = COMMAND ...": the command part starts at word 2. */
	int base = w0[0] == '$' && !strcmp(w1, "=") ? 2 : 0;
	char cmd[80] = "";
	if (base)
		word_at(line, wstart, 2, cmd, sizeof(cmd));
	else
		strcpy(cmd, w0);

	if (start != wstart) {			/* inside an expression */
		for (size_t i = 0; sc_const_name(i); i++)
			offer(&w, sc_const_name(i));
		offer_names(&w, c, SC_VAR);
		return start;
	}
	if (word == 0 || (base && word == 2)) {
		for (size_t i = 0; !base && i < NELEM(shell_words); i++)
			offer(&w, shell_words[i]);
		offer_commands(&w);
		offer_names(&w, c, SC_PROC);
		return start;
	}
	if (word == 1 && w0[0] == '$') {
		offer(&w, "=");
		return start;
	}
	if (word == 1 && !strcmp(w0, "help")) {
		for (size_t i = 0; i < NELEM(shell_words); i++)
			offer(&w, shell_words[i]);
		offer_commands(&w);
		offer(&w, "syscalls");
		for (size_t i = 0; sc_syscall_name(i); i++)
			offer(&w, sc_syscall_name(i));
		return start;
	}
	int is_cmd = sc_is_command(cmd);
	if (word == base + 1 && !is_cmd) {	/* PROC SYSCALL */
		for (size_t i = 0; sc_syscall_name(i); i++)
			offer(&w, sc_syscall_name(i));
		offer(&w, "syscall");
		return start;
	}
	if (word == base + 2 && (!strcmp(cmd, "show") || !strcmp(cmd, "proc")))
		for (size_t i = 0; i < NELEM(views); i++)
			offer(&w, views[i]);
	if (w.n && w.frag[0] == '$') {
		offer_names(&w, c, SC_VAR);
		return start;
	}
	offer_names(&w, c, SC_PROC);
	offer_names(&w, c, SC_TOKEN);
	for (size_t i = 0; sc_const_name(i); i++)
		offer(&w, sc_const_name(i));
	return start;
}
