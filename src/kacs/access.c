/*
 * AccessCheck (digest §4.6, SPEC §12) as a walk over one bit state: every right is either
 * undecided, granted or denied, and the first step to decide a bit wins (privileges, then
 * MIC, then the PIP trust label, then owner rights, then the DACL in stored order). Only
 * the PIP label may take back a bit already granted. Reads its inputs; the only thing it
 * changes is the used bit of a privilege that granted something. Never reorders a DACL.
 */
#include "kacs/access.h"

#include <errno.h>
#include <string.h>

#include "kacs/token.h"

/* Privileges AccessCheck itself consults (LUID bit numbers, digest §6.1). */
enum { LUID_SECURITY = 8, LUID_TAKE_OWNERSHIP = 9, LUID_RELABEL = 32 };

/* The unlabelled-object default (digest §4.7). */
#define DEFAULT_LABEL_IL 0x2000u

struct walk {
	struct token *tok;
	const struct sd *sd;
	const struct generic_mapping *map;
	int max;		/* MAXIMUM_ALLOWED was asked for */
	uint32_t desired;	/* the explicit rights, generic-mapped, without MAXIMUM_ALLOWED */
	uint32_t wanted;	/* desired, plus map->all under MAXIMUM_ALLOWED */
	uint32_t granted;	/* bits granted so far */
	uint32_t decided;	/* bits granted or denied so far: no later step changes them */
	uint32_t by_label;	/* bits MIC or PIP decided (SeTakeOwnership may not override) */
};

/* A privilege counts when present and enabled; using it sets its sticky used bit. */
static int priv_use(struct token *tok, int luid)
{
	uint64_t bit = 1ULL << luid;
	if (!(atomic_load(&tok->privs_present) & bit) || !(atomic_load(&tok->privs_enabled) & bit))
		return 0;
	atomic_fetch_or(&tok->privs_used, bit);
	return 1;
}

static void grant(struct walk *w, uint32_t bits)
{
	bits &= ~w->decided;
	w->granted |= bits;
	w->decided |= bits;
}

static void deny(struct walk *w, uint32_t bits) { w->decided |= bits; }

/* Does the token hold sid? Allow ACEs see the user and enabled groups that are not
 * deny-only; deny ACEs also see deny-only groups (digest §4.6). */
static int token_has_sid(const struct token *tok, const struct sid *sid, int for_deny)
{
	if (sid_equal(&tok->user, sid))
		return 1;
	for (unsigned i = 0; i < tok->ngroups && i < TOKEN_MAX_GROUPS; i++) {
		const struct token_group *g = &tok->groups[i];
		if (!sid_equal(&g->sid, sid))
			continue;
		if (g->attrs & SE_GROUP_USE_FOR_DENY_ONLY) {
			if (for_deny)
				return 1;
		} else if (g->attrs & SE_GROUP_ENABLED) {
			return 1;
		}
	}
	return 0;
}

static int is_owner_rights(const struct sid *sid)
{
	return sid->authority == 3 && sid->nsub == 1 && sid->sub[0] == 4;	/* S-1-3-4 */
}

/* An ACE trustee matches the caller. OWNER RIGHTS matches whoever the owner matches. */
static int ace_matches(const struct walk *w, const struct sid *sid, int for_deny)
{
	if (is_owner_rights(sid))
		return token_has_sid(w->tok, &w->sd->owner, for_deny);
	return token_has_sid(w->tok, sid, for_deny);
}

/* Step 5: ACCESS_SYSTEM_SECURITY is decided here and only here, by SeSecurityPrivilege
 * when it is asked for explicitly; no DACL grants it. SeBackup and SeRestore need an intent flag, which no caller passes, so they are dropped
 * (step 4). */
static void privilege_grants(struct walk *w)
{
	if ((w->desired & ACCESS_SYSTEM_SECURITY) && priv_use(w->tok, LUID_SECURITY))
		grant(w, ACCESS_SYSTEM_SECURITY);
	else
		deny(w, ACCESS_SYSTEM_SECURITY);
}

/* Step 6, MIC (digest §4.7). A caller below the object's label may have only the rights
 * of the categories the label's policy does not forbid, plus READ_CONTROL and SYNCHRONIZE
 * (and WRITE_OWNER with SeRelabel); every other bit of map(GENERIC_ALL) is denied unless a
 * privilege already granted it. */
static void mic(struct walk *w, struct access_result *res)
{
	const struct ace *l = sd_find_label(w->sd, ACE_SYSTEM_MANDATORY_LABEL);
	uint32_t il = l ? l->sid.sub[0] : DEFAULT_LABEL_IL;
	uint32_t policy = l ? l->mask : MAND_NO_WRITE_UP;
	if (w->tok->integrity >= il)
		return;
	uint32_t allowed = READ_CONTROL | SYNCHRONIZE;
	if (!(policy & MAND_NO_READ_UP))
		allowed |= w->map->read;
	if (!(policy & MAND_NO_WRITE_UP))
		allowed |= w->map->write;
	if (!(policy & MAND_NO_EXECUTE_UP))
		allowed |= w->map->execute;
	if (!(allowed & WRITE_OWNER) && (w->wanted & WRITE_OWNER & ~w->decided) &&
	    priv_use(w->tok, LUID_RELABEL))
		allowed |= WRITE_OWNER;
	uint32_t denied = w->map->all & ~allowed & ~w->decided;
	deny(w, denied);
	w->by_label |= denied;
	if (denied & w->desired)
		res->mic_denied = 1;
}

/* Step 6, the PIP trust label (digest §4.6): a caller that does not dominate the label is
 * limited to the ACE's mask, and even privilege-granted bits outside it are revoked. */
static void pip_label(struct walk *w, const struct access_request *rq, struct access_result *res)
{
	const struct ace *t = sd_find_label(w->sd, ACE_SYSTEM_PROCESS_TRUST_LABEL);
	if (!t || pip_dominates(rq->pip_type, rq->pip_trust, t->sid.sub[0], t->sid.sub[1]))
		return;
	uint32_t limit = sd_map_generic(t->mask, w->map);
	w->granted &= limit;
	w->decided |= ~limit;
	w->by_label |= ~limit;
	if (w->desired & ~limit)
		res->pip_denied = 1;
}

/* Step 9a: the owner gets READ_CONTROL|WRITE_DAC before the walk, so no deny ACE can take
 * them away, unless an effective ACE names OWNER RIGHTS. */
static void owner_rights(struct walk *w)
{
	const struct acl *d = &w->sd->dacl;
	for (unsigned i = 0; w->sd->dacl_present && i < d->count; i++)
		if (!(d->aces[i].flags & ACE_INHERIT_ONLY) && is_owner_rights(&d->aces[i].sid))
			return;
	if (token_has_sid(w->tok, &w->sd->owner, 0))
		grant(w, READ_CONTROL | WRITE_DAC);
}

/* Step 9b: the DACL in stored order, first writer wins per bit. A NULL DACL grants every
 * wanted bit still open; an empty one grants nothing. */
static void dacl_walk(struct walk *w)
{
	if (!w->sd->dacl_present) {
		grant(w, w->wanted);
		return;
	}
	const struct acl *d = &w->sd->dacl;
	for (unsigned i = 0; i < d->count; i++) {
		const struct ace *a = &d->aces[i];
		if (a->flags & ACE_INHERIT_ONLY)
			continue;
		uint32_t mask = sd_map_generic(a->mask, w->map) & ~MAXIMUM_ALLOWED;
		if (a->type == ACE_ACCESS_ALLOWED && ace_matches(w, &a->sid, 0))
			grant(w, mask);
		else if (a->type == ACE_ACCESS_DENIED && ace_matches(w, &a->sid, 1))
			deny(w, mask);
		if (!w->max && (w->decided & w->desired) == w->desired)
			break;	/* everything asked for is decided */
	}
}

/* Step 10: SeTakeOwnership grants WRITE_OWNER that the DACL did not, unless MIC or PIP
 * decided it. */
static void take_ownership(struct walk *w)
{
	uint32_t wo = WRITE_OWNER & w->wanted & ~w->granted & ~w->by_label;
	if (wo && priv_use(w->tok, LUID_TAKE_OWNERSHIP)) {
		w->granted |= wo;
		w->decided |= wo;
	}
}

/* Step 2: a usable SD has an owner and valid labels (a malformed label SID makes the whole
 * SD invalid, digest §4.6). */
static int sd_usable(const struct sd *sd)
{
	return sd && sd->has_owner && sd_validate(sd) == 0;
}

static int identification_only(const struct token *tok)
{
	return tok->type == TOKEN_IMPERSONATION && tok->imp_level == IMP_IDENTIFICATION;
}

int access_check(const struct access_request *rq, struct access_result *res)
{
	memset(res, 0, sizeof(*res));
	if (!rq->tok || !rq->map || identification_only(rq->tok) || !sd_usable(rq->sd))
		return -EACCES;
	struct walk w = { .tok = rq->tok, .sd = rq->sd, .map = rq->map };
	w.max = (rq->desired & MAXIMUM_ALLOWED) != 0;
	w.desired = sd_map_generic(rq->desired & ~MAXIMUM_ALLOWED, rq->map);
	w.wanted = w.desired | (w.max ? rq->map->all : 0);
	privilege_grants(&w);
	mic(&w, res);
	pip_label(&w, rq, res);
	owner_rights(&w);
	dacl_walk(&w);
	take_ownership(&w);
	int ok = (w.granted & w.desired) == w.desired && (!w.max || w.granted);
	if (ok)
		res->granted = w.max ? w.granted : w.desired;
	return ok ? 0 : -EACCES;
}

int pip_dominates(uint32_t caller_type, uint32_t caller_trust, uint32_t target_type,
		  uint32_t target_trust)
{
	if (target_type == 0)
		return 1;
	return caller_type >= target_type && caller_trust >= target_trust;
}
