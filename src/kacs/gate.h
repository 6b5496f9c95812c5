/*
 * The one narrow door from mm and sys into security (DESIGN.md): "may this caller use
 * privilege P?", and later "may this thread do OPERATION to that process?". It names no
 * mm type and mm names nothing else of kacs. Every privilege use is recorded on the token.
 */
#ifndef PM_KACS_GATE_H
#define PM_KACS_GATE_H

#include <peimm/abi.h>

struct token;

/* Privileges count only when present and enabled (SPEC §12); a privilege that answers
 * yes gets its used bit. tok NULL means the kernel itself: always yes. */
int gate_privilege(struct token *tok, int luid);

#endif
