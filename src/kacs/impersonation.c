/*
 * Impersonation levels (digest §4.9): the level a server really gets when it asks to act
 * as a client. Two caps, each down to Identification: the integrity ceiling (a client above
 * the server's primary IL, never bypassable) and the identity gate (same user, or
 * SeImpersonatePrivilege). A level is never raised. Changes nothing but a used bit.
 */
#include "kacs/access.h"

#include <errno.h>

#include "kacs/token.h"

enum { LUID_IMPERSONATE = 29 };

/* The ceiling runs first so that SeImpersonate is not marked used for an impersonation the
 * ceiling refuses anyway. A client that is itself an impersonation token cannot be
 * impersonated above its own level. Returns the level, or -EINVAL for an unknown one. */
int impersonation_level(struct token *server, const struct token *client, int requested)
{
	if (requested < IMP_ANONYMOUS || requested > IMP_DELEGATION)
		return -EINVAL;
	int level = requested;
	if (client->type == TOKEN_IMPERSONATION && client->imp_level < level)
		level = client->imp_level;
	if (level <= IMP_IDENTIFICATION)
		return level;
	if (client->integrity > server->integrity)
		return IMP_IDENTIFICATION;
	if (sid_equal(&server->user, &client->user))
		return level;
	uint64_t bit = 1ULL << LUID_IMPERSONATE;
	if ((atomic_load(&server->privs_present) & bit) && (atomic_load(&server->privs_enabled) & bit)) {
		atomic_fetch_or(&server->privs_used, bit);
		return level;
	}
	return IMP_IDENTIFICATION;
}
