/*
 * The tour's shared pieces: output with optional colour, the record of which features were
 * shown working, and small helpers that print a call with its result. Each step lives in
 * tour_steps*.c and returns whether what it showed held.
 */
#ifndef PEIMM_TOUR_H
#define PEIMM_TOUR_H

#include <stdarg.h>
#include <stdint.h>

#include <peimm.h>

#define TOUR_MAX_FEATURES 32

struct tour {
	int colour;			/* ANSI colour on (a terminal, and NO_COLOR unset) */
	int step;			/* pause after each section (--step) */
	int nfeatures;
	struct { const char *name; int ok; } features[TOUR_MAX_FEATURES];
	int failed_checks;		/* checks inside steps that did not hold */
};

void tour_section(struct tour *t, const char *title, const char *story);
void tour_say(struct tour *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "  call = result" with errnos by name and addresses in hex. */
long tour_call(struct tour *t, const char *call, long result);
/* A check the step relies on: prints a tick or a cross, counts failures. */
int tour_check(struct tour *t, int ok, const char *what);
/* Prints a /proc view, indented, keeping only lines that contain `filter` (NULL: all). */
void tour_show(struct tour *t, pm_thread *th, int pid, const char *view, const char *filter);
void tour_feature(struct tour *t, const char *name, int ok);
/* A 64 MiB system with the given seed, and a process running as token_spec (exit on failure:
 * the tour cannot go on without them). */
pm_system *tour_system(uint64_t seed);
pm_thread *tour_spawn(pm_system *sys, const char *token_spec, const pm_spawn_opts *opts);

/* The steps (tour_steps.c). Each returns 1 when everything it showed held. */
int tour_layout(struct tour *t);
int tour_demand_paging(struct tour *t);
int tour_mapping_rules(struct tour *t);
int tour_peios_rules(struct tour *t);
int tour_heap_and_stack(struct tour *t);
int tour_registry(struct tour *t);
int tour_integrity(struct tour *t);
int tour_fork(struct tour *t);
int tour_files(struct tour *t);
int tour_mremap_mseal(struct tour *t);
int tour_pkeys_hugetlb(struct tour *t);
/* tour_pressure.c */
int tour_oom(struct tour *t);
int tour_damon(struct tour *t);
int tour_swap(struct tour *t);
int tour_ksm(struct tour *t);
/* tour_thp.c */
int tour_thp(struct tour *t);
/* tour_commit.c */
int tour_commit(struct tour *t);
/* tour_security.c */
int tour_wx(struct tour *t);
int tour_gates(struct tour *t);
/* tour_reap.c */
int tour_mrelease(struct tour *t);
int tour_pagemap(struct tour *t);

#endif
