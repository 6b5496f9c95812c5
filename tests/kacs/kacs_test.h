/*
 * Fixtures for the kacs tests: tokens and SDs from their text forms, and AccessCheck
 * against the process class with a chosen PSB. Every helper reports a failure through the
 * harness and allocates only from the test's own kmem, which the test checks is empty at
 * its end (KM_DONE).
 */
#ifndef PM_TESTS_KACS_TEST_H
#define PM_TESTS_KACS_TEST_H

#include "check.h"

#include <errno.h>
#include <peimm/abi.h>

#include "kacs/access.h"
#include "kacs/sd.h"
#include "kacs/token.h"
#include "lib/kmem.h"

#define USER "S-1-5-21-1-1001"
#define OTHER "S-1-5-21-1-1002"

/* Every object the test allocated has been freed. */
#define KM_DONE(km) EXPECT_EQ(atomic_load(&(km)->live_objs), 0)

static inline struct token *tk(struct kmem *km, const char *spec)
{
	int err = 0;
	struct token *t = token_parse(km, spec, &err);
	if (!t)
		check_failed(__FILE__, __LINE__, "token_parse(\"%s\") = %s", spec,
			     errno_name(err) ? errno_name(err) : "?");
	return t;
}

static inline struct sd *sddl(struct kmem *km, const char *text)
{
	struct sd *sd = NULL;
	size_t off = 0;
	int r = sd_from_sddl(km, text, &sd, &off);
	if (r)
		check_failed(__FILE__, __LINE__, "sd_from_sddl(\"%s\") = %s at offset %zu", text,
			     errno_name(r) ? errno_name(r) : "?", off);
	return sd;
}

/* AccessCheck for the process class with the caller's PSB. */
static inline int ac_pip(struct token *t, const struct sd *sd, uint32_t desired, uint32_t type,
			 uint32_t trust, struct access_result *res)
{
	struct access_request rq = { .tok = t, .pip_type = type, .pip_trust = trust, .sd = sd,
				     .desired = desired, .map = &kacs_process_mapping };
	return access_check(&rq, res);
}

static inline int ac(struct token *t, const struct sd *sd, uint32_t desired,
		     struct access_result *res)
{
	return ac_pip(t, sd, desired, 0, 0, res);
}

/* What MAXIMUM_ALLOWED gets (0 when the check fails). */
static inline uint32_t max_allowed(struct token *t, const struct sd *sd)
{
	struct access_result res;
	ac(t, sd, MAXIMUM_ALLOWED, &res);
	return res.granted;
}

static inline uint64_t used_bit(const struct token *t, int luid)
{
	return (atomic_load(&t->privs_used) >> luid) & 1;
}

#endif
