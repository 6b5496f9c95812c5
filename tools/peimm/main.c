/* Placeholder CLI until the subcommands land. */
#include <stdio.h>
int main(void) { puts("peimm"); return 0; }
