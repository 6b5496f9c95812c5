/*
 * The one narrow door from mm and sys into security (DESIGN.md): "may this caller use
 * privilege P?", and later "may this thread do OPERATION to that process?". It names no
 * mm type and mm names nothing else of kacs. Every privilege use is recorded on the token.
 */
#ifndef PM_KACS_GATE_H
#define PM_KACS_GATE_H

#include <stdint.h>

#include <peimm/abi.h>

struct token;

/* Privileges count only when present and enabled (SPEC §12); a privilege that answers
 * yes gets its used bit. tok NULL means the kernel itself: always yes. */
int gate_privilege(struct token *tok, int luid);

struct sd;

/* What a gate decided, for the audit log. */
struct gate_result {
	int allowed;		/* 1 = both checks passed */
	const char *why;	/* "sd", "pip", "sd+sedebug" (allowed through the rescue), ... */
	uint32_t granted;	/* rights the SD check granted */
};

/* The two checks of SPEC §7 for one cross-process operation, with no parent fast path
 * and no self bypass: (a) AccessCheck of the caller's effective token against the target's
 * process SD for `right` (an enabled SeDebugPrivilege rescues an SD denial, never a PIP
 * one); (b) PIP dominance of the caller's PSB over the target's. 0 or -EACCES. */
int gate_process(struct token *caller, uint32_t caller_type, uint32_t caller_trust,
		 const struct sd *target_sd, uint32_t target_type, uint32_t target_trust,
		 uint32_t right, struct gate_result *res);

/* AccessCheck of tok against an object's SD of a class ("registry", "file") for `desired`:
 * 0 or -EACCES; *granted = what MAXIMUM_ALLOWED would give when desired has it. */
int gate_object(struct token *tok, const struct sd *sd, int object_class, uint32_t desired,
		uint32_t *granted);
enum { GATE_CLASS_REGISTRY = 1, GATE_CLASS_FILE = 2 };

#endif
