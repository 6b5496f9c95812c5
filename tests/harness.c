/*
 * Test runner shared by every tests/<dir> binary. With a name it runs that one test; with
 * none it runs them all; `--list` prints the names. Exit status is non-zero when a check
 * failed. It owns no library state: each test creates and destroys its own system.
 */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#define MAX_TESTS 1024

static struct { const char *name; test_fn fn; } tests[MAX_TESTS];
static int ntests;
int test_failures;
static const char *current;

void test_register(const char *name, test_fn fn)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void check_failed(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL %s (%s:%d): ", current ? current : "?", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures++;
}

static const char *const errnames[] = {
	[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR",
	[EIO] = "EIO", [ENXIO] = "ENXIO", [E2BIG] = "E2BIG", [EBADF] = "EBADF",
	[ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM", [EACCES] = "EACCES",
	[EFAULT] = "EFAULT", [EBUSY] = "EBUSY", [EEXIST] = "EEXIST", [ENODEV] = "ENODEV",
	[EINVAL] = "EINVAL", [ENFILE] = "ENFILE", [EMFILE] = "EMFILE", [EFBIG] = "EFBIG",
	[ENOSPC] = "ENOSPC", [ESPIPE] = "ESPIPE", [ERANGE] = "ERANGE", [ENOSYS] = "ENOSYS",
	[EOVERFLOW] = "EOVERFLOW", [EOPNOTSUPP] = "EOPNOTSUPP", [ETXTBSY] = "ETXTBSY",
};

const char *errno_name(long v)
{
	if (v < 0 && -v < (long)(sizeof(errnames) / sizeof(errnames[0])) && errnames[-v])
		return errnames[-v];
	return NULL;
}

const char *val_str(long v, char buf[64])
{
	const char *n = errno_name(v);
	if (n)
		snprintf(buf, 64, "-%s", n);
	else if (v >= 0 && v < 4096)
		snprintf(buf, 64, "%ld", v);
	else
		snprintf(buf, 64, "%ld (0x%lx)", v, (unsigned long)v);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < ntests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	int ran = 0, failed = 0;
	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
			continue;
		current = tests[i].name;
		int before = test_failures;
		tests[i].fn();
		ran++;
		if (test_failures != before) {
			failed++;
			fprintf(stderr, "FAILED: %s\n", tests[i].name);
		}
	}
	if (ran == 0) {
		fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");
		return 2;
	}
	printf("%d passed, %d failed\n", ran - failed, failed);
	return failed ? 1 : 0;
}
