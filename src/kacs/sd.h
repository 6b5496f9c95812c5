/*
 * Security descriptors: owner, group, a DACL and a SACL of ACEs, parsed from and printed
 * as SDDL. ACE kinds: access allowed and denied, the mandatory label (integrity level with
 * NO_WRITE_UP/NO_READ_UP/NO_EXECUTE_UP) and the PIP trust label (S-1-19-<type>-<trust>).
 * An SD is immutable once built; changing one means building a new one. Allocation goes
 * through the caller's kmem.
 */
#ifndef PM_KACS_SD_H
#define PM_KACS_SD_H

#include <stddef.h>
#include <stdint.h>

#include "kacs/sid.h"

struct kmem;
struct token;

/* ACE types (digest Appendix B). */
#define ACE_ACCESS_ALLOWED		0x00
#define ACE_ACCESS_DENIED		0x01
#define ACE_SYSTEM_MANDATORY_LABEL	0x11
#define ACE_SYSTEM_PROCESS_TRUST_LABEL	0x14

/* ACE flags. */
#define ACE_OBJECT_INHERIT	0x01
#define ACE_CONTAINER_INHERIT	0x02
#define ACE_NO_PROPAGATE	0x04
#define ACE_INHERIT_ONLY	0x08
#define ACE_INHERITED		0x10

/* Mandatory-label policy bits (in the label ACE's mask). */
#define MAND_NO_WRITE_UP	0x1
#define MAND_NO_READ_UP		0x2
#define MAND_NO_EXECUTE_UP	0x4

/* Standard, special and generic rights. */
#define DELETE			0x00010000u
#define READ_CONTROL		0x00020000u
#define WRITE_DAC		0x00040000u
#define WRITE_OWNER		0x00080000u
#define SYNCHRONIZE		0x00100000u
#define ACCESS_SYSTEM_SECURITY	0x01000000u
#define MAXIMUM_ALLOWED		0x02000000u
#define GENERIC_ALL		0x10000000u
#define GENERIC_EXECUTE		0x20000000u
#define GENERIC_WRITE		0x40000000u
#define GENERIC_READ		0x80000000u

/* Registry and file rights used by the memory gates. */
#define KEY_QUERY_VALUE		0x0001u
#define KEY_SET_VALUE		0x0002u
#define KEY_READ		0x00020019u
#define KEY_ALL_ACCESS		0x000F003Fu
#define FILE_READ_DATA		0x0001u
#define FILE_WRITE_DATA		0x0002u
#define FILE_APPEND_DATA	0x0004u
#define FILE_EXECUTE		0x0020u

struct ace {
	uint8_t type;		/* ACE_* */
	uint8_t flags;		/* ACE_*_INHERIT, ACE_INHERIT_ONLY, ... */
	uint32_t mask;		/* access mask; for labels, the policy bits */
	struct sid sid;		/* trustee, S-1-16-<IL> for labels, S-1-19-t-t for trust */
};

#define SD_MAX_ACES 64

struct acl {
	unsigned count;
	struct ace aces[SD_MAX_ACES];
};

struct sd {
	int has_owner, has_group;
	struct sid owner, group;
	int dacl_present;	/* 0 = no DACL: everything is granted (a NULL DACL) */
	struct acl dacl;
	int sacl_present;
	struct acl sacl;	/* labels (mandatory, trust) and audit ACEs */
};

/* Generic mapping of an object class. */
struct generic_mapping { uint32_t read, write, execute, all; };
extern const struct generic_mapping kacs_process_mapping;	/* digest §4.2, SPEC §7 */
extern const struct generic_mapping kacs_registry_mapping;
extern const struct generic_mapping kacs_file_mapping;

/* Parses SDDL ("O:...G:...D:(A;;GA;;;SY)(...)S:(ML;;NW;;;ME)(TL;;0x1000;;;S-1-19-512-8192)").
 * Sections O: G: D: S: in any order, each at most once; an absent D: is a NULL DACL, as is
 * "D:NO_ACCESS_CONTROL"; "D:" alone is an empty DACL. Control flags P, AI, AR are accepted
 * and dropped. SIDs: "S-1-..." or the aliases SY BA BU WD AU AN OW(S-1-3-4) PS CO LS NS and
 * the label aliases UN LW ME MP HI SI (S-1-16-<rid>). ACE types A and D (DACL only), ML and
 * TL (SACL only; ML's SID must be S-1-16-x, TL's S-1-19-<type>-<trust>). Flags: OI CI NP IO
 * ID SA FA or 0x-hex. Rights: 0x-hex, or concatenated codes GA GR GW GX RC SD WD WO (and the
 * whole-mask codes FA FR FW FX KA KR KW KX); for ML the policy codes NW NR NX.
 * 0 with *out = a new SD; -ENOMEM (checked before parsing); or -EINVAL with *err_off = the
 * byte offset of the first thing wrong (a bad field's or code's first byte, where a ';' or
 * ')' was expected, or strlen(sddl) when the text stops early). *out is NULL on failure and
 * nothing is allocated. err_off may be NULL. */
int sd_from_sddl(struct kmem *km, const char *sddl, struct sd **out, size_t *err_off);
/* Prints SDDL into buf (NUL-terminated, truncated to len; buf may be NULL when len is 0).
 * Returns the length the whole text needs, without the NUL. For an SD sd_validate accepts,
 * sd_from_sddl of the text gives an SD that sd_equal calls equal. */
size_t sd_to_sddl(const struct sd *sd, char *buf, size_t len);
/* Frees an SD from any sd_ constructor. NULL is a no-op. */
void sd_free(struct kmem *km, struct sd *sd);
/* A copy of sd in km, or NULL on -ENOMEM. */
struct sd *sd_dup(struct kmem *km, const struct sd *sd);
/* The default process SD of SPEC §7 for a process created by `primary`. NULL on -ENOMEM. */
struct sd *sd_default_process(struct kmem *km, const struct token *primary);

/* 0 when sd is well formed, else -EINVAL: at most SD_MAX_ACES per ACL; the DACL holds only
 * allow and deny ACEs and the SACL only labels; a mandatory label names S-1-16-<IL> and a
 * trust label S-1-19-<type>-<trust>. A missing owner is not checked here (AccessCheck
 * refuses it). Every SD sd_from_sddl returns passes. */
int sd_validate(const struct sd *sd);
/* 1 when a and b describe the same SD (absent parts compare equal whatever they hold). */
int sd_equal(const struct sd *a, const struct sd *b);
/* The first non-inherit-only ACE of `type` in the SACL (ACE_SYSTEM_MANDATORY_LABEL or
 * ACE_SYSTEM_PROCESS_TRUST_LABEL): the one that counts (digest §4.6, §4.7). NULL if none. */
const struct ace *sd_find_label(const struct sd *sd, uint8_t type);
/* mask with each generic bit replaced by what map gives it; other bits unchanged. */
uint32_t sd_map_generic(uint32_t mask, const struct generic_mapping *map);

#endif
