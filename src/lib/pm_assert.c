/*
 * The failure path shared by PM_ASSERT and PM_ENFORCE: print the broken rule with its place
 * and abort. It must never return, and never try to recover: state past a broken invariant
 * cannot be trusted.
 */
#include "lib/pm_assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void pm_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "peimm: invariant broken in %s (%s:%d): %s\n", func, file, line, expr);
	abort();
}
