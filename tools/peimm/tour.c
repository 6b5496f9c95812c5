/*
 * peimm tour: the main job. A narrated walk through what peimm does, each step showing the
 * call, what came back and the /proc view that proves it, ending with a table of every
 * feature and whether it was shown working. Colour on a terminal unless NO_COLOR is set;
 * --step pauses between sections. Exits non-zero if anything shown did not hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tour.h"

static const char *c_on(const struct tour *t, const char *code) { return t->colour ? code : ""; }

void tour_section(struct tour *t, const char *title, const char *story)
{
	if (t->step && t->nfeatures > 0 && isatty(STDIN_FILENO)) {	/* between sections */
		printf("%s[press Enter]%s", c_on(t, "\033[2m"), c_on(t, "\033[0m"));
		fflush(stdout);
		int ch;
		while ((ch = getchar()) != '\n' && ch != EOF)
			;
	}
	printf("\n%s== %s ==%s\n%s\n\n", c_on(t, "\033[1;36m"), title, c_on(t, "\033[0m"), story);
}

void tour_say(struct tour *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("  %s", c_on(t, "\033[2m"));
	vprintf(fmt, ap);
	printf("%s\n", c_on(t, "\033[0m"));
	va_end(ap);
}

long tour_call(struct tour *t, const char *call, long result)
{
	const char *name = result < 0 ? pm_errno_name(result) : NULL;
	if (name)
		printf("  %s%s%s = %s-%s%s\n", c_on(t, "\033[1m"), call, c_on(t, "\033[0m"),
		       c_on(t, "\033[33m"), name, c_on(t, "\033[0m"));
	else if (result >= 65536)
		printf("  %s%s%s = 0x%lx\n", c_on(t, "\033[1m"), call, c_on(t, "\033[0m"), result);
	else
		printf("  %s%s%s = %ld\n", c_on(t, "\033[1m"), call, c_on(t, "\033[0m"), result);
	return result;
}

int tour_check(struct tour *t, int ok, const char *what)
{
	printf("    %s%s%s %s\n", c_on(t, ok ? "\033[32m" : "\033[31m"), ok ? "ok  " : "FAIL",
	       c_on(t, "\033[0m"), what);
	if (!ok)
		t->failed_checks++;
	return ok;
}

void tour_show(struct tour *t, pm_thread *th, int pid, const char *view, const char *filter)
{
	static const size_t cap = 1 << 16;
	char *buf = malloc(cap);
	if (!buf)
		return;
	long n = pm_proc_read(th, pid, view, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	/* System views named by their Linux path: sys/... lives under /sys, the rest under /proc. */
	const char *root = pid == -1 && !strncmp(view, "sys/", 4) ? "" : "/proc";
	printf("    %s%s/%s%s%s:%s\n", c_on(t, "\033[2m"), root, pid == -1 ? "" : pid ? "<pid>" : "self",
	       pid == -1 ? "" : "/", view, c_on(t, "\033[0m"));
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (!filter || strstr(line, filter))
			printf("      %s\n", line);
	free(buf);
}

void tour_feature(struct tour *t, const char *name, int ok)
{
	if (t->nfeatures < TOUR_MAX_FEATURES) {
		t->features[t->nfeatures].name = name;
		t->features[t->nfeatures].ok = ok;
		t->nfeatures++;
	}
}

pm_system *tour_system(uint64_t seed)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.seed = seed;
	pm_system *sys = pm_system_create(&cfg);
	if (!sys) {
		fprintf(stderr, "peimm tour: cannot create a system (out of host memory?)\n");
		exit(1);
	}
	return sys;
}

pm_thread *tour_spawn(pm_system *sys, const char *token_spec, const pm_spawn_opts *opts)
{
	int err;
	pm_token *tok = pm_token_parse(sys, token_spec, &err);
	pm_thread *t = tok ? pm_spawn(sys, tok, opts) : NULL;
	pm_token_put(tok);
	if (!t) {
		fprintf(stderr, "peimm tour: cannot spawn a process as '%s'\n", token_spec);
		exit(1);
	}
	return t;
}

static void summary(struct tour *t)
{
	int w = 44;	/* the column fits the longest feature name */
	for (int i = 0; i < t->nfeatures; i++)
		if ((int)strlen(t->features[i].name) > w)
			w = (int)strlen(t->features[i].name);
	printf("\n%s== Summary ==%s\n\n  %-*s %s\n  %-*s %s\n", c_on(t, "\033[1;36m"),
	       c_on(t, "\033[0m"), w, "feature", "shown working", w, "-------", "-------------");
	for (int i = 0; i < t->nfeatures; i++)
		printf("  %-*s %s%s%s\n", w, t->features[i].name,
		       c_on(t, t->features[i].ok ? "\033[32m" : "\033[31m"),
		       t->features[i].ok ? "yes" : "NO", c_on(t, "\033[0m"));
	printf("\n");
}

static int usage(FILE *f)
{
	fprintf(f, "usage: peimm tour [--step] [--no-color]\n\n"
		   "A narrated walk through peimm: the address-space layout and ASLR, demand\n"
		   "paging, mmap/munmap/mprotect with Linux's rules, the Peios rules (mmap_min_addr,\n"
		   "MAP_UNINITIALIZED), brk and the stack guard gap, the registry and its gates,\n"
		   "fork and copy-on-write, file mappings, mremap and mseal, protection keys and\n"
		   "hugetlb, transparent huge pages, W^X and the dynamic-code opt-in, the\n"
		   "cross-process gates with PIP and impersonation, swap, KSM, commit accounting,\n"
		   "the OOM killer, process_mrelease, pagemap's PFN hiding, DAMON, and the\n"
		   "integrity checks. Each step shows the call, the result and the /proc view.\n\n"
		   "  --step      pause between sections\n"
		   "  --no-color  plain output (also when NO_COLOR is set or stdout is not a terminal)\n");
	return f == stdout ? 0 : 2;
}

int cmd_tour(int argc, char **argv)
{
	struct tour t = { 0 };
	t.colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout);
		else if (!strcmp(argv[i], "--step"))
			t.step = 1;
		else if (!strcmp(argv[i], "--no-color"))
			t.colour = 0;
		else {
			fprintf(stderr, "peimm tour: unknown option '%s' (try --help)\n", argv[i]);
			return 2;
		}
	}
	printf("%speimm tour%s: the Peios memory manager, running as a library in this process.\n"
	       "Every process below has real x86-64 page tables over simulated RAM; every call is\n"
	       "the Linux syscall a Peios program would make.\n", c_on(&t, "\033[1m"), c_on(&t, "\033[0m"));
	tour_feature(&t, "address-space layout and ASLR modes", tour_layout(&t));
	tour_feature(&t, "demand paging and the software MMU", tour_demand_paging(&t));
	tour_feature(&t, "mmap/munmap/mprotect rules (split, merge)", tour_mapping_rules(&t));
	tour_feature(&t, "mmap_min_addr, MAP_UNINITIALIZED, NOREPLACE", tour_peios_rules(&t));
	tour_feature(&t, "brk heap, stack growth and guard gap", tour_heap_and_stack(&t));
	tour_feature(&t, "registry knobs and their gates", tour_registry(&t));
	tour_feature(&t, "fork and copy-on-write", tour_fork(&t));
	tour_feature(&t, "file mappings reaching the host file", tour_files(&t));
	tour_feature(&t, "mremap without copying; mseal refusing", tour_mremap_mseal(&t));
	tour_feature(&t, "protection keys and hugetlb pages", tour_pkeys_hugetlb(&t));
	tour_feature(&t, "transparent huge pages (fault, split, collapse)", tour_thp(&t));
	tour_feature(&t, "W^X and the dynamic-code opt-in", tour_wx(&t));
	tour_feature(&t, "cross-process gates, PIP, impersonation", tour_gates(&t));
	tour_feature(&t, "swap-out and swap-in on a host file", tour_swap(&t));
	tour_feature(&t, "KSM merging and the COW break", tour_ksm(&t));
	tour_feature(&t, "commit accounting modes (0, 1, 2)", tour_commit(&t));
	tour_feature(&t, "the OOM killer and oom_score", tour_oom(&t));
	tour_feature(&t, "process_mrelease freeing a dying process", tour_mrelease(&t));
	tour_feature(&t, "pagemap hiding PFNs without SeTcb", tour_pagemap(&t));
	tour_feature(&t, "DAMON telling hot from cold", tour_damon(&t));
	tour_feature(&t, "integrity checks and frame accounting", tour_integrity(&t));
	summary(&t);
	return t.failed_checks ? 1 : 0;
}
