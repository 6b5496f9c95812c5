/*
 * Token creation from the spec language of peimm.h and the privilege catalogue (LUID bit
 * numbers as in the digest §6.1, the Windows values). A malformed word is -EINVAL; a token
 * is freed when its last reference goes. No global state: tables are static const.
 */
#include "kacs/token.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"

static const char *const priv_names[] = {
	[2] = "SeCreateTokenPrivilege", [3] = "SeAssignPrimaryTokenPrivilege",
	[4] = "SeLockMemoryPrivilege", [5] = "SeIncreaseQuotaPrivilege",
	[6] = "SeMachineAccountPrivilege", [7] = "SeTcbPrivilege", [8] = "SeSecurityPrivilege",
	[9] = "SeTakeOwnershipPrivilege", [10] = "SeLoadDriverPrivilege",
	[11] = "SeSystemProfilePrivilege", [12] = "SeSystemtimePrivilege",
	[13] = "SeProfileSingleProcessPrivilege", [14] = "SeIncreaseBasePriorityPrivilege",
	[15] = "SeCreatePagefilePrivilege", [16] = "SeCreatePermanentPrivilege",
	[17] = "SeBackupPrivilege", [18] = "SeRestorePrivilege", [19] = "SeShutdownPrivilege",
	[20] = "SeDebugPrivilege", [21] = "SeAuditPrivilege", [22] = "SeSystemEnvironmentPrivilege",
	[23] = "SeChangeNotifyPrivilege", [24] = "SeRemoteShutdownPrivilege",
	[25] = "SeUndockPrivilege", [26] = "SeSyncAgentPrivilege",
	[27] = "SeEnableDelegationPrivilege", [28] = "SeManageVolumePrivilege",
	[29] = "SeImpersonatePrivilege", [30] = "SeCreateGlobalPrivilege",
	[31] = "SeTrustedCredManAccessPrivilege", [32] = "SeRelabelPrivilege",
	[33] = "SeIncreaseWorkingSetPrivilege", [34] = "SeTimeZonePrivilege",
	[35] = "SeCreateSymbolicLinkPrivilege", [36] = "SeDelegateSessionUserImpersonatePrivilege",
};

int priv_lookup(const char *name)
{
	for (int i = 0; i < (int)(sizeof(priv_names) / sizeof(priv_names[0])); i++)
		if (priv_names[i] && !strcasecmp(priv_names[i], name))
			return i;
	return -1;
}

const char *priv_name(int luid)
{
	if (luid < 0 || luid >= (int)(sizeof(priv_names) / sizeof(priv_names[0])))
		return NULL;
	return priv_names[luid];
}

static const struct { const char *name; uint32_t rid; } il_names[] = {
	{ "untrusted", 0x0000 }, { "low", 0x1000 }, { "medium", 0x2000 },
	{ "high", 0x3000 }, { "system", 0x4000 },
};

static int parse_il(const char *v, uint32_t *out)
{
	for (size_t i = 0; i < sizeof(il_names) / sizeof(il_names[0]); i++)
		if (!strcasecmp(v, il_names[i].name)) {
			*out = il_names[i].rid;
			return 0;
		}
	char *end;
	unsigned long n = strtoul(v, &end, 0);
	if (!*v || *end || n > 0xffffffffUL)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

static int parse_sid_exact(const char *v, struct sid *out)
{
	int n = sid_parse(v, out);
	return (n < 0 || v[n] != '\0') ? -EINVAL : 0;
}

static int parse_groups(struct token *t, char *v)
{
	for (char *save = NULL, *g = strtok_r(v, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		if (t->ngroups == TOKEN_MAX_GROUPS)
			return -EINVAL;
		struct token_group *tg = &t->groups[t->ngroups];
		uint32_t attrs = SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED;
		char *colon = strchr(g, ':');
		if (colon) {
			*colon = '\0';
			if (strcasecmp(colon + 1, "deny") && strcasecmp(colon + 1, "denyonly"))
				return -EINVAL;
			attrs = SE_GROUP_USE_FOR_DENY_ONLY;
		}
		if (parse_sid_exact(g, &tg->sid))
			return -EINVAL;
		tg->attrs = attrs;
		t->ngroups++;
	}
	return 0;
}

static int parse_privs(struct token *t, char *v)
{
	for (char *save = NULL, *p = strtok_r(v, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(p, ':');
		int enabled = 0;
		if (colon) {
			*colon = '\0';
			if (strcasecmp(colon + 1, "enabled"))
				return -EINVAL;
			enabled = 1;
		}
		int luid = priv_lookup(p);
		if (luid < 0)
			return -EINVAL;
		atomic_fetch_or(&t->privs_present, 1ULL << luid);
		if (enabled)
			atomic_fetch_or(&t->privs_enabled, 1ULL << luid);
	}
	return 0;
}

/* The SYSTEM token: S-1-5-18, Administrators and Everyone, every privilege enabled. */
static void make_system(struct token *t)
{
	sid_parse("S-1-5-18", &t->user);
	sid_parse("S-1-5-32-544", &t->groups[0].sid);
	sid_parse("S-1-1-0", &t->groups[1].sid);
	sid_parse("S-1-5-11", &t->groups[2].sid);
	for (int i = 0; i < 3; i++)
		t->groups[i].attrs = SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT |
				     SE_GROUP_ENABLED | (i == 0 ? SE_GROUP_OWNER : 0);
	t->ngroups = 3;
	uint64_t all = 0;
	for (int i = 0; i < (int)(sizeof(priv_names) / sizeof(priv_names[0])); i++)
		if (priv_names[i])
			all |= 1ULL << i;
	atomic_store(&t->privs_present, all);
	atomic_store(&t->privs_enabled, all);
	t->integrity = 0x4000;
}

static int parse_word(struct token *t, char *w, int *have_user)
{
	char *eq = strchr(w, '=');
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	char *v = eq + 1;
	if (!strcasecmp(w, "user")) {
		*have_user = 1;
		return parse_sid_exact(v, &t->user);
	}
	if (!strcasecmp(w, "groups"))
		return parse_groups(t, v);
	if (!strcasecmp(w, "privs"))
		return parse_privs(t, v);
	if (!strcasecmp(w, "il"))
		return parse_il(v, &t->integrity);
	return -EINVAL;
}

struct token *token_parse(struct kmem *km, const char *spec, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	*err = -EINVAL;
	if (!spec || strlen(spec) > 8192)
		return NULL;
	struct token *t = kmem_new(km, struct token);
	char *copy = kmem_zalloc(km, strlen(spec) + 1);
	if (!t || !copy) {
		kmem_delete(km, t);
		kmem_free(km, copy, copy ? strlen(spec) + 1 : 0);
		*err = -ENOMEM;
		return NULL;
	}
	size_t clen = strlen(spec) + 1;
	memcpy(copy, spec, clen);
	atomic_init(&t->refcount, 1);
	t->km = km;
	t->type = TOKEN_PRIMARY;
	t->integrity = 0x2000;
	int have_user = 0, r = 0, words = 0;
	for (char *save = NULL, *w = strtok_r(copy, " \t\n", &save); w && !r;
	     w = strtok_r(NULL, " \t\n", &save), words++) {
		if (!strcasecmp(w, "system") && words == 0) {
			make_system(t);
			have_user = 1;
			continue;
		}
		r = parse_word(t, w, &have_user);
	}
	kmem_free(km, copy, clen);
	if (r || !have_user) {
		kmem_delete(km, t);
		return NULL;
	}
	*err = 0;
	return t;
}

struct token *token_dup_impersonation(struct token *t, int level)
{
	struct token *n = kmem_new(t->km, struct token);
	if (!n)
		return NULL;
	atomic_init(&n->refcount, 1);
	n->km = t->km;
	n->user = t->user;
	n->ngroups = t->ngroups;
	memcpy(n->groups, t->groups, sizeof(n->groups));
	atomic_init(&n->privs_present, atomic_load(&t->privs_present));
	atomic_init(&n->privs_enabled, atomic_load(&t->privs_enabled));
	atomic_init(&n->privs_used, 0);
	n->integrity = t->integrity;
	n->type = TOKEN_IMPERSONATION;
	n->imp_level = level;
	return n;
}

int token_is_system(const struct token *t)
{
	struct sid s;
	sid_parse("S-1-5-18", &s);
	return t && sid_equal(&t->user, &s);
}

int token_is_admin(const struct token *t)
{
	struct sid admins;
	sid_parse("S-1-5-32-544", &admins);
	if (!t || token_is_system(t))
		return t != NULL;
	for (unsigned i = 0; i < t->ngroups; i++)
		if (sid_equal(&t->groups[i].sid, &admins) && (t->groups[i].attrs & SE_GROUP_ENABLED) &&
		    !(t->groups[i].attrs & SE_GROUP_USE_FOR_DENY_ONLY))
			return 1;
	return 0;
}

void token_get(struct token *t) { atomic_fetch_add(&t->refcount, 1); }

void token_put(struct token *t)
{
	if (!t)
		return;
	int old = atomic_fetch_sub(&t->refcount, 1);
	PM_ENFORCE(old > 0);
	if (old == 1)
		kmem_delete(t->km, t);
}

int token_adjust_privilege(struct token *t, int luid, int enable)
{
	if (luid < 0 || luid >= PRIV_MAX || !(atomic_load(&t->privs_present) & (1ULL << luid)))
		return -EPERM;
	if (enable)
		atomic_fetch_or(&t->privs_enabled, 1ULL << luid);
	else
		atomic_fetch_and(&t->privs_enabled, ~(1ULL << luid));
	return 0;
}

void token_describe(const struct token *t, char *buf, unsigned len)
{
	char s[192];
	int n = snprintf(buf, len, "user=%s il=0x%x", sid_format(&t->user, s, sizeof(s)), t->integrity);
	uint64_t en = atomic_load(&t->privs_enabled);
	for (int i = 0; i < PRIV_MAX && n > 0 && (unsigned)n < len; i++)
		if ((en & (1ULL << i)) && priv_name(i))
			n += snprintf(buf + n, len - (unsigned)n, " %s", priv_name(i));
}
