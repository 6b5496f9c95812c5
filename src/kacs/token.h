/*
 * Tokens: who a thread acts as. A token carries its user SID, its groups with their
 * attributes, its privileges as present/enabled/used bit sets indexed by LUID, and its
 * integrity level. Tokens are immutable after creation except for the privilege bits,
 * which change atomically. The AccessCheck that consumes them lives in its own files.
 */
#ifndef PM_KACS_TOKEN_H
#define PM_KACS_TOKEN_H

#include <stdatomic.h>
#include <stdint.h>

#include "kacs/sid.h"

struct kmem;

/* Group attributes (SE_GROUP_*). */
#define SE_GROUP_MANDATORY		0x1
#define SE_GROUP_ENABLED_BY_DEFAULT	0x2
#define SE_GROUP_ENABLED		0x4
#define SE_GROUP_OWNER			0x8
#define SE_GROUP_USE_FOR_DENY_ONLY	0x10

#define TOKEN_MAX_GROUPS 64
#define PRIV_MAX 64

struct token_group {
	struct sid sid;
	uint32_t attrs;			/* SE_GROUP_* */
};

enum token_type { TOKEN_PRIMARY = 1, TOKEN_IMPERSONATION = 2 };

struct token {
	atomic_int refcount;		/* holders: processes, threads, callers */
	struct kmem *km;		/* immutable */
	struct sid user;		/* immutable */
	unsigned ngroups;		/* immutable */
	struct token_group groups[TOKEN_MAX_GROUPS];	/* immutable */
	atomic_uint_fast64_t privs_present;	/* bit n = LUID n */
	atomic_uint_fast64_t privs_enabled;
	atomic_uint_fast64_t privs_used;	/* sticky: set when a gate accepts the privilege */
	uint32_t integrity;		/* mandatory-label RID (0x2000 = medium) */
	enum token_type type;		/* immutable */
	int imp_level;			/* impersonation level for impersonation tokens */
};

/* Parses the spec language of peimm.h (pm_token_parse). NULL with *err = -EINVAL on a
 * malformed spec, or -ENOMEM. */
struct token *token_parse(struct kmem *km, const char *spec, int *err);
/* An impersonation copy of t at `level` (IMP_*), one reference; NULL on -ENOMEM. */
struct token *token_dup_impersonation(struct token *t, int level);
void token_get(struct token *t);
/* The SYSTEM token (S-1-5-18)? An administrator (SYSTEM, or Administrators enabled)? */
int token_is_system(const struct token *t);
int token_is_admin(const struct token *t);
void token_put(struct token *t);
/* LUID of a privilege name ("SeDebugPrivilege"), or -1. Case-insensitive. */
int priv_lookup(const char *name);
const char *priv_name(int luid);
/* AdjustPrivileges for one privilege: enable (1) or disable (0). -EPERM if not present. */
int token_adjust_privilege(struct token *t, int luid, int enable);
/* A short human form: user, IL, enabled privileges. */
void token_describe(const struct token *t, char *buf, unsigned len);

#endif
