/*
 * The SDDL name tables: SID aliases, ACE types, ACE flags and right codes. Both the parser
 * and the printer read them, so the two can never disagree about a name. All tables are
 * static const; nothing here allocates or keeps state.
 */
#include "kacs/sddl.h"

#include <errno.h>
#include <string.h>

#include "kacs/sd.h"
#include "lib/common.h"

struct sddl_code { char name[3]; uint32_t value; };

static const struct sddl_code flag_codes[] = {
	{ "OI", ACE_OBJECT_INHERIT }, { "CI", ACE_CONTAINER_INHERIT },
	{ "NP", ACE_NO_PROPAGATE }, { "IO", ACE_INHERIT_ONLY }, { "ID", ACE_INHERITED },
	{ "SA", 0x40 }, { "FA", 0x80 },	/* audit success / failure (Windows values) */
};

static const struct sddl_code right_codes[] = {
	{ "GA", GENERIC_ALL }, { "GR", GENERIC_READ }, { "GW", GENERIC_WRITE },
	{ "GX", GENERIC_EXECUTE }, { "RC", READ_CONTROL }, { "SD", DELETE },
	{ "WD", WRITE_DAC }, { "WO", WRITE_OWNER },
};

/* Whole masks of the file and registry classes; the printer writes these as hex. */
static const struct sddl_code composite_codes[] = {
	{ "FA", 0x001F01FF }, { "FR", 0x00120089 }, { "FW", 0x00120116 }, { "FX", 0x001200A0 },
	{ "KA", KEY_ALL_ACCESS }, { "KR", KEY_READ }, { "KW", 0x00020006 }, { "KX", KEY_READ },
};

static const struct sddl_code label_codes[] = {
	{ "NW", MAND_NO_WRITE_UP }, { "NR", MAND_NO_READ_UP }, { "NX", MAND_NO_EXECUTE_UP },
};

static const struct { const char *name; const char *sid; } aliases[] = {
	{ "SY", "S-1-5-18" }, { "BA", "S-1-5-32-544" }, { "BU", "S-1-5-32-545" },
	{ "WD", "S-1-1-0" }, { "AU", "S-1-5-11" }, { "AN", "S-1-5-7" }, { "OW", "S-1-3-4" },
	{ "PS", "S-1-5-10" }, { "CO", "S-1-3-0" }, { "LS", "S-1-5-19" }, { "NS", "S-1-5-20" },
	{ "UN", "S-1-16-0" }, { "LW", "S-1-16-4096" }, { "ME", "S-1-16-8192" },
	{ "MP", "S-1-16-8448" }, { "HI", "S-1-16-12288" }, { "SI", "S-1-16-16384" },
};

static const struct { const char *name; uint8_t type; } types[] = {
	{ "A", ACE_ACCESS_ALLOWED }, { "D", ACE_ACCESS_DENIED },
	{ "ML", ACE_SYSTEM_MANDATORY_LABEL }, { "TL", ACE_SYSTEM_PROCESS_TRUST_LABEL },
};

static const struct sddl_code *table_of(enum sddl_table t, size_t *n)
{
	switch (t) {
	case SDDL_FLAGS: *n = ARRAY_SIZE(flag_codes); return flag_codes;
	case SDDL_RIGHTS: *n = ARRAY_SIZE(right_codes); return right_codes;
	case SDDL_RIGHTS_COMPOSITE: *n = ARRAY_SIZE(composite_codes); return composite_codes;
	case SDDL_LABEL_POLICY: *n = ARRAY_SIZE(label_codes); return label_codes;
	}
	*n = 0;
	return NULL;
}

int sddl_code_lookup(enum sddl_table t, const char *s, uint32_t *out)
{
	size_t n;
	const struct sddl_code *tab = table_of(t, &n);
	if (!s[0] || !s[1])
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (tab[i].name[0] == s[0] && tab[i].name[1] == s[1]) {
			*out = tab[i].value;
			return 0;
		}
	return -EINVAL;
}

const char *sddl_code_at(enum sddl_table t, size_t i, uint32_t *value)
{
	size_t n;
	const struct sddl_code *tab = table_of(t, &n);
	if (i >= n)
		return NULL;
	*value = tab[i].value;
	return tab[i].name;
}

int sddl_alias_parse(const char *s, struct sid *out)
{
	if (!s[0] || !s[1])
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (aliases[i].name[0] == s[0] && aliases[i].name[1] == s[1]) {
			sid_parse(aliases[i].sid, out);
			return 0;
		}
	return -EINVAL;
}

const char *sddl_alias_name(const struct sid *sid)
{
	struct sid a;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
		sid_parse(aliases[i].sid, &a);
		if (sid_equal(&a, sid))
			return aliases[i].name;
	}
	return NULL;
}

int sddl_type_parse(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strlen(types[i].name) == n && !memcmp(types[i].name, s, n)) {
			*out = types[i].type;
			return 0;
		}
	return -EINVAL;
}

const char *sddl_type_name(uint8_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
}
