/*
 * The gates mm and sys ask: privileges (present and enabled, SPEC §12, marking the used
 * bit), the two checks of every cross-process operation (SPEC §7: the process SD, then PIP
 * dominance; SeDebugPrivilege rescues only the first), and object AccessChecks for the
 * registry and files. One function per question, so no call site re-implements a rule.
 */
#include "kacs/gate.h"

#include <errno.h>

#include "kacs/access.h"
#include "kacs/token.h"

int gate_privilege(struct token *tok, int luid)
{
	if (!tok)
		return 1;
	if (luid < 0 || luid >= PRIV_MAX)
		return 0;
	uint64_t bit = 1ULL << luid;
	if (!(atomic_load(&tok->privs_present) & bit) || !(atomic_load(&tok->privs_enabled) & bit))
		return 0;
	atomic_fetch_or(&tok->privs_used, bit);
	return 1;
}

int gate_process(struct token *caller, uint32_t caller_type, uint32_t caller_trust,
		 const struct sd *target_sd, uint32_t target_type, uint32_t target_trust,
		 uint32_t right, struct gate_result *res)
{
	struct access_request rq = { caller, caller_type, caller_trust, target_sd, right,
				     &kacs_process_mapping };
	struct access_result ar;
	int sd_ok = access_check(&rq, &ar) == 0;
	res->granted = ar.granted;
	res->why = "sd";
	/* SeDebugPrivilege, enabled, stands in for a DACL or MIC denial, never a trust-label
	 * one (digest §4.5); an Identification-level token gets no rescue either. */
	if (!sd_ok && !ar.pip_denied && caller && caller->imp_level != 1 &&
	    gate_privilege(caller, PM_SE_DEBUG_PRIVILEGE)) {
		sd_ok = 1;
		res->why = "sd+sedebug";
	}
	if (!sd_ok) {
		res->allowed = 0;
		return -EACCES;
	}
	if (!pip_dominates(caller_type, caller_trust, target_type, target_trust)) {
		res->allowed = 0;
		res->why = "pip";
		return -EACCES;
	}
	res->allowed = 1;
	return 0;
}

int gate_object(struct token *tok, const struct sd *sd, int object_class, uint32_t desired,
		uint32_t *granted)
{
	const struct generic_mapping *map = object_class == GATE_CLASS_REGISTRY
		? &kacs_registry_mapping : &kacs_file_mapping;
	struct access_request rq = { tok, 0, 0, sd, desired, map };
	struct access_result ar;
	int r = access_check(&rq, &ar);
	if (granted)
		*granted = ar.granted;
	return r;
}
