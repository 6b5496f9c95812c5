/* Transitional: 'peimm bench' is being written in this session. */
#include <stdio.h>
#include "cli.h"
int cmd_bench(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "peimm bench: not built yet\n"); return 1; }
