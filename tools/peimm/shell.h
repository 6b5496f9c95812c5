/*
 * 'peimm shell': the interactive prompt over the scenario language. The line runner and the
 * completion are apart from the terminal code so they can be tested without one: the
 * completion takes a line and a cursor and names the words that could finish it.
 */
#ifndef PEIMM_SHELL_H
#define PEIMM_SHELL_H

#include <stddef.h>

#include "scenario.h"

typedef void (*shell_emit_fn)(void *arg, const char *candidate);

/* Calls emit once for each word that completes the fragment ending at line[len] (commands
 * and process names first on a line, syscall names after a process, constants, $variables,
 * process names and /proc views after that). Returns where the fragment starts in line: a
 * fragment begins after a space or an operator, so "PROT_READ|PROT_W" completes "PROT_W". */
size_t shell_complete(const sc_ctx *c, const char *line, size_t len, shell_emit_fn emit,
		      void *arg);

/* Runs one line typed at the prompt: a shell word (help, exit) or a scenario line, printing
 * its result. Returns 1 when the shell should end (exit, quit), else 0. */
int shell_line(sc_ctx *c, char *text);

#endif
