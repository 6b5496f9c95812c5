/*
 * peimm: dispatches to the subcommands (tour, run, bench). It holds no logic of its own
 * beyond choosing the subcommand and printing the overview help.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} commands[] = {
	{ "tour", cmd_tour, "a narrated walk through what peimm does (the main job)" },
	{ "run", cmd_run, "run a scenario file (.pmm) and check its expectations" },
	{ "bench", cmd_bench, "time peimm against the host kernel on the same workloads" },
	{ "shell", cmd_shell, "an interactive prompt over the scenario language" },
	{ "damon", cmd_damon, "draw DAMON's access heatmap (terminal, SVG or PNG)" },
	{ "maps", cmd_maps, "draw a process's address-space map (text or SVG)" },
	{ "replay", cmd_replay, "replay an strace recording against the Peios memory model" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: peimm COMMAND [ARGS]\n\n"
		   "peimm is the Peios memory manager as a library; this tool drives it.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-6s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\n'peimm COMMAND --help' describes each one.\n");
}

/* No command: one line naming them all, as every CLI error is one line. */
static int no_command(void)
{
	fprintf(stderr, "peimm: no command given; one of:");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, " %s", commands[i].name);
	fprintf(stderr, " (try 'peimm --help')\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return no_command();
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "peimm: unknown command '%s' (try 'peimm --help')\n", argv[1]);
	return 2;
}
