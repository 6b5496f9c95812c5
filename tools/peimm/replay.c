/*
 * 'peimm replay [--dynamic-code] [--token SPEC] [--json] [--maps] TRACE': the command.
 * It owns the options, the help, reading the trace and the exit status: 0 when nothing
 * diverged beyond Peios policy findings, 1 when something did, 2 on a usage error or a
 * malformed trace (one line on stderr, with FILE:LINE for the trace).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "replay.h"

#define REPLAY_USAGE "usage: peimm replay [--dynamic-code] [--token SPEC] [--json] [--maps] TRACE"

static void help(void)
{
	printf("%s\n\n"
	       "Replays a program recorded with\n"
	       "  strace -f -o TRACE -e trace=%%memory,%%process,openat,open,close,dup,dup2,dup3 PROGRAM\n"
	       "against the Peios memory model: each recorded process runs in its own peimm\n"
	       "process, every memory call with its addresses translated to peimm's mappings,\n"
	       "and each outcome is compared with the recorded one. Full reference: docs/replay.md.\n\n"
	       "options:\n"
	       "  --dynamic-code  every process opts in to dynamic code (W+X allowed), as a JIT\n"
	       "                  would on Peios with PR_SET_DYNAMIC_CODE_POLICY\n"
	       "  --token SPEC    the processes' token (default a standard user:\n"
	       "                  user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium)\n"
	       "  --json          one JSON object: calls, divergences, wx_denials,\n"
	       "                  policy_denials, processes, findings\n"
	       "  --maps          also print each process's maps at its end\n\n"
	       "exit status: 0 nothing diverged beyond Peios policy findings, 1 something\n"
	       "diverged, 2 usage error or malformed trace.\n", REPLAY_USAGE);
}

int cmd_replay(int argc, char **argv)
{
	rp_opts o = { 0 };
	const char *file = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help();
			return 0;
		} else if (!strcmp(argv[i], "--dynamic-code")) {
			o.dynamic_code = 1;
		} else if (!strcmp(argv[i], "--json")) {
			o.json = 1;
		} else if (!strcmp(argv[i], "--maps")) {
			o.maps = 1;
		} else if (!strcmp(argv[i], "--token")) {
			if (++i == argc) {
				fprintf(stderr, "peimm replay: --token needs a SPEC (%s)\n", REPLAY_USAGE);
				return 2;
			}
			o.token = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "peimm replay: unknown option '%s' (%s)\n", argv[i], REPLAY_USAGE);
			return 2;
		} else if (file) {
			fprintf(stderr, "peimm replay: one trace at a time ('%s' and '%s')\n", file, argv[i]);
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		fprintf(stderr, "peimm replay: no trace file given (%s)\n", REPLAY_USAGE);
		return 2;
	}
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f) {
		fprintf(stderr, "peimm replay: cannot open '%s': %s\n", file, strerror(errno));
		return 2;
	}
	rp_trace tr = { .file = file };
	int rc = rp_parse_file(&tr, f);
	if (f != stdin)
		fclose(f);
	if (rc) {
		fprintf(stderr, "%s\n", tr.err);
		rp_trace_free(&tr);
		return 2;
	}
	rp_run r;
	if (rp_run_trace(&r, &tr, &o)) {
		fprintf(stderr, "peimm replay: %s\n", r.err);
		rp_run_free(&r);
		rp_trace_free(&tr);
		return 2;
	}
	if (o.json)
		rp_report_json(&r, stdout);
	else
		rp_report_text(&r, stdout);
	rc = rp_total(&r, RP_F_DIVERGE) ? 1 : 0;
	rp_run_free(&r);
	rp_trace_free(&tr);
	return rc;
}
