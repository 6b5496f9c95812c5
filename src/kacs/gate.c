/*
 * Privilege gates. A present-but-disabled privilege is worth nothing (SPEC §12), and a
 * privilege that decides a gate gets its sticky used bit.
 */
#include "kacs/gate.h"

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
