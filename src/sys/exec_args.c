/*
 * execve's argument and environment vectors, copied out of the caller's memory before
 * anything changes (Linux's count, bprm_stack_limits and copy_strings): the pointer
 * arrays are read until their NULL, each string must end within MAX_ARG_STRLEN, and the
 * whole set must fit a quarter of RLIMIT_STACK (at least ARG_MAX, at most 6 MiB).
 */
#include "sys/exec.h"

#include <errno.h>
#include <string.h>

#include "sys/fd.h"

#define MAX_ARG_STRLEN	(32 * PAGE_SIZE)	/* one string, NUL included */
#define ARG_MAX_MIN	(32 * PAGE_SIZE)	/* ARG_MAX: the limit never goes below it */
#define ARG_STK_MAX	(6ULL << 20)		/* 3/4 of _STK_LIM */

void exec_args_init(struct exec_args *a, struct kmem *km)
{
	memset(a, 0, sizeof(*a));
	a->km = km;
}

void exec_args_free(struct exec_args *a)
{
	if (a->strs)
		kmem_free(a->km, a->strs, a->cap);
	a->strs = NULL;
	a->len = a->cap = 0;
}

int exec_args_push(struct exec_args *a, const char *s, size_t len)
{
	if (a->len + len + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		while (cap < a->len + len + 1)
			cap *= 2;
		char *n = a->strs ? kmem_realloc(a->km, a->strs, a->cap, cap) : kmem_zalloc(a->km, cap);
		if (!n)
			return -ENOMEM;
		a->strs = n;
		a->cap = cap;
	}
	memcpy(a->strs + a->len, s, len);
	a->strs[a->len + len] = '\0';
	a->len += len + 1;
	return 0;
}

/* Copies one vector's strings, counting them into *count; limit is what strings and
 * pointers may take together. */
static int copy_vector(struct pm_thread *t, uint64_t uvec, struct exec_args *a, int *count,
		       char *tmp, uint64_t limit)
{
	for (uint64_t i = 0; uvec; i++) {
		uint64_t up;
		if (fd_copy_in(t, uvec + 8 * i, &up, sizeof(up)))
			return -EFAULT;
		if (!up)
			break;
		long n = fd_copy_string(t, up, tmp, MAX_ARG_STRLEN);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : (int)n;
		if (a->len + (uint64_t)n + 1 + 8ULL * (uint64_t)(a->argc + a->envc + 1) > limit)
			return -E2BIG;
		int err = exec_args_push(a, tmp, (size_t)n);
		if (err)
			return err;
		(*count)++;
	}
	return 0;
}

int exec_args_copy(struct pm_thread *t, uint64_t argv, uint64_t envp, uint64_t stack_limit,
		   struct exec_args *a)
{
	uint64_t limit = min_u64(ARG_STK_MAX, stack_limit / 4);
	limit = max_u64(limit, ARG_MAX_MIN);
	char *tmp = kmem_zalloc(a->km, MAX_ARG_STRLEN);
	if (!tmp)
		return -ENOMEM;
	int err = copy_vector(t, argv, a, &a->argc, tmp, limit);
	if (!err && !a->argc) {
		err = exec_args_push(a, "", 0);	/* Linux 5.18+: argv[0] is never missing */
		a->argc = err ? 0 : 1;
	}
	if (!err)
		err = copy_vector(t, envp, a, &a->envc, tmp, limit);
	kmem_free(a->km, tmp, MAX_ARG_STRLEN);
	return err;
}
