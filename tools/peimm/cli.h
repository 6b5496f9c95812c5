/*
 * The peimm command-line tool: one entry per subcommand. Each takes the arguments after
 * its own name, prints its own --help, and returns the process exit status. Errors are one
 * clear line on stderr (what, where, why), never a trace of internals.
 */
#ifndef PEIMM_CLI_H
#define PEIMM_CLI_H

int cmd_tour(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_damon(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif
