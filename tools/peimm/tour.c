/* Transitional: 'peimm tour' is being written in this session. */
#include <stdio.h>
#include "cli.h"
int cmd_tour(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "peimm tour: not built yet\n"); return 1; }
