/*
 * peimm bench: the peimm process every peimm side works in. Each side builds its own
 * pm_system (fixed seed 1, the RAM the workload needs, optionally a host root directory for
 * openat) with one process spawned under a plain user token, and destroys it at the end.
 * Uses only <peimm.h>; keeps no state outside the caller's pm_env.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bench.h"

static const char user_spec[] = "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0";

long bench_env_err(pm_env *e, long rc, const char *call)
{
	const char *name = pm_errno_name(rc);

	if (rc >= 0)
		rc = -EPROTO;
	snprintf(e->note, sizeof(e->note), "peimm %s = -%s", call, name ? name : "?");
	return rc;
}

int bench_env_open(const bench_ctx *b, pm_env *e, bench_result *r, uint64_t ram,
		   const char *root)
{
	pm_config cfg;
	int err = 0;

	memset(e, 0, sizeof(*e));
	pm_config_default(&cfg);
	cfg.ram_bytes = ram ? ram : b->ram_bytes;
	cfg.seed = 1;
	cfg.root = root;
	e->sys = pm_system_create(&cfg);
	if (!e->sys)
		return (int)bench_fail(r, -ENOMEM, "pm_system_create refused %lu MiB of RAM",
				       (unsigned long)(cfg.ram_bytes / BENCH_MIB));
	e->user = pm_token_parse(e->sys, user_spec, &err);
	if (!e->user)
		goto out_sys;
	e->t = pm_spawn(e->sys, e->user, NULL);
	if (!e->t)
		goto out_token;
	return 0;
out_token:
	pm_token_put(e->user);
out_sys:
	pm_system_destroy(e->sys);
	memset(e, 0, sizeof(*e));
	return (int)bench_fail(r, err ? err : -ENOMEM, "peimm: cannot create the process");
}

void bench_env_close(pm_env *e)
{
	if (!e->sys)
		return;
	pm_token_put(e->user);
	pm_system_destroy(e->sys);
	memset(e, 0, sizeof(*e));
}

long bench_env_mmap(pm_env *e, uint64_t len, int prot)
{
	return pm_syscall(e->t, SYS_mmap, 0, (long)len, prot, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
}

long bench_env_munmap(pm_env *e, uint64_t va, uint64_t len)
{
	return pm_syscall(e->t, SYS_munmap, (long)va, (long)len, 0, 0, 0, 0);
}
