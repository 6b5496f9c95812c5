/*
 * The vocabulary SDDL shares between its parser and its printer: SID aliases, ACE type
 * names, ACE flag codes and right codes. Each table exists once (in sddl_names.c) and is
 * read both ways, so a code the parser accepts is the code the printer writes. Internal to
 * kacs: nothing outside src/kacs includes this header.
 */
#ifndef PM_KACS_SDDL_H
#define PM_KACS_SDDL_H

#include <stddef.h>
#include <stdint.h>

#include "kacs/sid.h"

/* The two-letter code tables. */
enum sddl_table {
	SDDL_FLAGS,		/* ACE flags: OI CI NP IO ID SA FA */
	SDDL_RIGHTS,		/* single bits: GA GR GW GX RC SD WD WO */
	SDDL_RIGHTS_COMPOSITE,	/* whole masks: FA FR FW FX KA KR KW KX (parse only) */
	SDDL_LABEL_POLICY,	/* mandatory-label policy: NW NR NX */
};

/* The value of the two-letter code at s in table t: 0 with *out set, or -EINVAL. */
int sddl_code_lookup(enum sddl_table t, const char *s, uint32_t *out);
/* Entry i of table t (name and value), or NULL past the end. */
const char *sddl_code_at(enum sddl_table t, size_t i, uint32_t *value);

/* SID alias at s ("SY", "BA", "ME", ...): 0 with *out set, or -EINVAL. */
int sddl_alias_parse(const char *s, struct sid *out);
/* The alias naming sid, or NULL when it has none. */
const char *sddl_alias_name(const struct sid *sid);

/* ACE type from its name (the n bytes at s): 0 with *out set, or -EINVAL. */
int sddl_type_parse(const char *s, size_t n, uint8_t *out);
/* The name of an ACE type, or NULL for a type SDDL here cannot write. */
const char *sddl_type_name(uint8_t type);

#endif
