/*
 * Tab completion of 'peimm shell' (tools/peimm/shell_complete.c), called directly: which
 * words it offers at each place of a line, and where the completed fragment starts.
 */
#include <string.h>

#include "check.h"
#include "shell.h"

struct got { char list[4096]; int n; };

static void collect(void *arg, const char *cand)
{
	struct got *g = arg;
	size_t used = strlen(g->list);
	snprintf(g->list + used, sizeof(g->list) - used, "%s%s", g->n++ ? " " : "", cand);
}

/* The candidates for line (cursor at its end), space-separated; *start = fragment start. */
static const char *complete(sc_ctx *c, const char *line, struct got *g, size_t *start)
{
	memset(g, 0, sizeof(*g));
	*start = shell_complete(c, line, strlen(line), collect, g);
	return g->list;
}

static int has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static void ctx_with_names(sc_ctx *c)
{
	*c = (sc_ctx){ .file = "test" };
	sc_add(c, SC_PROC, "p1");
	sc_var_set(c, "addr", 4096);
}

TEST(the_first_word_completes_commands_shell_words_and_processes)
{
	sc_ctx c;
	struct got g;
	size_t start;
	ctx_with_names(&c);
	const char *l = complete(&c, "", &g, &start);
	EXPECT_TRUE(has(l, "spawn") && has(l, "help") && has(l, "exit") && has(l, "p1"));
	EXPECT_TRUE(!has(l, "mmap"));
	EXPECT_STREQ(complete(&c, "sp", &g, &start), "spawn");
	EXPECT_EQ(start, 0);
	EXPECT_STREQ(complete(&c, "  p", &g, &start), "peek proc pid p1");
	EXPECT_EQ(start, 2);
	sc_ctx_free(&c);
}

TEST(after_a_process_come_syscall_names)
{
	sc_ctx c;
	struct got g;
	size_t start;
	ctx_with_names(&c);
	EXPECT_STREQ(complete(&c, "p1 mpr", &g, &start), "mprotect");
	EXPECT_EQ(start, 3);
	EXPECT_STREQ(complete(&c, "p1 process_m", &g, &start), "process_madvise process_mrelease");
	EXPECT_STREQ(complete(&c, "$a = p1 mpr", &g, &start), "mprotect");
	EXPECT_STREQ(complete(&c, "$a ", &g, &start), "=");
	sc_ctx_free(&c);
}

TEST(arguments_complete_flag_names_inside_expressions)
{
	sc_ctx c;
	struct got g;
	size_t start;
	ctx_with_names(&c);
	const char *line = "p1 mmap 0 4096 PROT_READ|PROT_W";
	EXPECT_STREQ(complete(&c, line, &g, &start), "PROT_WRITE");
	EXPECT_EQ(start, strlen("p1 mmap 0 4096 PROT_READ|"));
	const char *l = complete(&c, "p1 madvise $addr 4096 MADV_DONT", &g, &start);
	EXPECT_TRUE(has(l, "MADV_DONTNEED") && has(l, "MADV_DONTFORK") && has(l, "MADV_DONTDUMP"));
	EXPECT_TRUE(!has(l, "MADV_FREE"));
	EXPECT_STREQ(complete(&c, "p1 mmap $ad", &g, &start), "$addr");
	EXPECT_STREQ(complete(&c, "p1 mmap $addr+$a", &g, &start), "$addr");
	EXPECT_STREQ(complete(&c, "p1 kill 1 SIGK", &g, &start), "SIGKILL");
	sc_ctx_free(&c);
}

TEST(help_and_views_complete_their_own_words)
{
	sc_ctx c;
	struct got g;
	size_t start;
	ctx_with_names(&c);
	EXPECT_STREQ(complete(&c, "help sp", &g, &start), "spawn");
	EXPECT_STREQ(complete(&c, "help mpr", &g, &start), "mprotect");
	EXPECT_STREQ(complete(&c, "show p1 smaps", &g, &start), "smaps smaps_rollup");
	EXPECT_STREQ(complete(&c, "nosuchword xyzzy", &g, &start), "");
	sc_ctx_free(&c);
}
