/*
 * AccessCheck (digest §4.6-§4.8, SPEC §12): the decision whether a token may have the
 * desired rights on an object with a security descriptor. In order: Identification-level
 * impersonation denied; generic mapping; privilege grants; mandatory integrity (MIC);
 * the PIP trust label; owner implicit rights; the DACL walk (first ACE to decide a bit
 * wins); MAXIMUM_ALLOWED. Pure: reads its inputs, records privilege use on the token.
 */
#ifndef PM_KACS_ACCESS_H
#define PM_KACS_ACCESS_H

#include <stdint.h>

#include "kacs/sd.h"

struct token;

struct access_request {
	struct token *tok;			/* the effective token */
	uint32_t pip_type, pip_trust;		/* the caller's PSB (trust-label ACEs) */
	const struct sd *sd;			/* the object's descriptor */
	uint32_t desired;			/* rights asked for; may include MAXIMUM_ALLOWED */
	const struct generic_mapping *map;	/* the object class */
};

struct access_result {
	uint32_t granted;	/* rights granted (all of `desired`, or what MAXIMUM_ALLOWED got) */
	int pip_denied;		/* a trust label limited the result (no SeDebug rescue then) */
	int mic_denied;		/* the integrity check removed a desired right */
};

/* 0 when every desired right is granted (MAXIMUM_ALLOWED alone: when anything is), else
 * -EACCES; *res is filled either way, with granted = 0 on -EACCES. Uses the token's enabled
 * privileges and sets the used bit of each privilege that granted something (SeSecurity,
 * SeTakeOwnership, SeRelabel). Fails closed (-EACCES, nothing granted) for a NULL token or
 * map, an Identification-level impersonation token, and an SD that is NULL, has no owner
 * or fails sd_validate. ACCESS_SYSTEM_SECURITY is granted only when asked for explicitly,
 * only by SeSecurityPrivilege, never by MAXIMUM_ALLOWED or a DACL. The SeDebugPrivilege
 * rescue is not done here: the gate applies it when !pip_denied. */
int access_check(const struct access_request *rq, struct access_result *res);

/* PIP dominance (digest §4.8): an unprotected target (type 0) is dominated by anyone;
 * otherwise both type and trust must be >=. */
int pip_dominates(uint32_t caller_type, uint32_t caller_trust, uint32_t target_type,
		  uint32_t target_trust);

/* Impersonation levels (digest §4.9). */
enum { IMP_ANONYMOUS = 0, IMP_IDENTIFICATION = 1, IMP_IMPERSONATION = 2, IMP_DELEGATION = 3 };
/* The level a server whose primary token is `server` actually gets when it impersonates
 * `client` at `requested`: capped to Identification by the identity gate (same user, or
 * SeImpersonatePrivilege enabled, which then gets its used bit) and by the integrity
 * ceiling (client IL above the server's, checked first, no privilege bypasses it); capped
 * to the client's own level when the client is an impersonation token; never raised.
 * -EINVAL for a requested level outside IMP_ANONYMOUS..IMP_DELEGATION. */
int impersonation_level(struct token *server, const struct token *client, int requested);

#endif
