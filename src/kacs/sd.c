/*
 * Security descriptors as values: the generic mappings of the object classes, the default
 * process SD (SPEC §7), validation, comparison, copying and freeing. An SD never changes
 * after it is built; every SD lives in its caller's kmem. SDDL text is in sddl_parse.c and
 * sddl_print.c. Never grants or denies anything itself: that is access.c.
 */
#include "kacs/sd.h"

#include <errno.h>
#include <string.h>

#include <peimm/abi.h>

#include "kacs/token.h"
#include "lib/kmem.h"

/* SPEC §7 and digest §4.2 with the seed names of abi.h. GENERIC_ALL is every process right
 * abi.h defines, PROCESS_SET_QUOTA included (SPEC §7), plus READ_CONTROL, WRITE_DAC and
 * WRITE_OWNER; never DELETE or SYNCHRONIZE (digest §4.2 follows the spec and pkm). */
const struct generic_mapping kacs_process_mapping = {
	.read = PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | READ_CONTROL,
	.write = PROCESS_SET_INFORMATION | PROCESS_VM_WRITE | WRITE_DAC,
	.execute = PROCESS_TERMINATE | PROCESS_SUSPEND_RESUME | PROCESS_QUERY_LIMITED_INFORMATION,
	.all = 0x1FFFu | READ_CONTROL | WRITE_DAC | WRITE_OWNER,
};

const struct generic_mapping kacs_registry_mapping = {
	.read = KEY_READ, .write = 0x00020006u, .execute = KEY_READ, .all = KEY_ALL_ACCESS,
};

const struct generic_mapping kacs_file_mapping = {
	.read = 0x00120089u, .write = 0x00120116u, .execute = 0x001200A0u, .all = 0x001F01FFu,
};

uint32_t sd_map_generic(uint32_t mask, const struct generic_mapping *map)
{
	uint32_t out = mask & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
	if (mask & GENERIC_READ)
		out |= map->read;
	if (mask & GENERIC_WRITE)
		out |= map->write;
	if (mask & GENERIC_EXECUTE)
		out |= map->execute;
	if (mask & GENERIC_ALL)
		out |= map->all;
	return out;
}

static void acl_add(struct acl *acl, uint8_t type, uint32_t mask, const struct sid *sid)
{
	struct ace *a = &acl->aces[acl->count++];
	a->type = type;
	a->flags = 0;
	a->mask = mask;
	a->sid = *sid;
}

static void well_known(const char *s, struct sid *out) { sid_parse(s, out); }

/* Owner is the user, group the first group (the user when there is none). The DACL order
 * is the one pkm builds (digest §4.3). The SACL label is stamped, unlike pkm, because
 * SPEC §7 says the SACL carries it; without it a High process would be open to Medium. */
struct sd *sd_default_process(struct kmem *km, const struct token *primary)
{
	struct sd *sd = kmem_new(km, struct sd);
	if (!sd)
		return NULL;
	struct sid s;
	sd->has_owner = sd->has_group = 1;
	sd->owner = primary->user;
	sd->group = primary->ngroups ? primary->groups[0].sid : primary->user;
	sd->dacl_present = 1;
	acl_add(&sd->dacl, ACE_ACCESS_ALLOWED, GENERIC_ALL, &primary->user);
	well_known("S-1-5-32-544", &s);
	acl_add(&sd->dacl, ACE_ACCESS_ALLOWED, GENERIC_ALL, &s);
	well_known("S-1-5-18", &s);
	acl_add(&sd->dacl, ACE_ACCESS_ALLOWED, GENERIC_ALL, &s);
	well_known("S-1-1-0", &s);
	acl_add(&sd->dacl, ACE_ACCESS_ALLOWED, PROCESS_QUERY_LIMITED_INFORMATION, &s);
	sd->sacl_present = 1;
	well_known("S-1-16-0", &s);
	s.sub[0] = primary->integrity;
	acl_add(&sd->sacl, ACE_SYSTEM_MANDATORY_LABEL, MAND_NO_WRITE_UP, &s);
	return sd;
}

void sd_free(struct kmem *km, struct sd *sd) { kmem_delete(km, sd); }

struct sd *sd_dup(struct kmem *km, const struct sd *sd)
{
	struct sd *n = kmem_new(km, struct sd);
	if (n)
		*n = *sd;
	return n;
}

static int label_sid_ok(const struct ace *a)
{
	if (a->type == ACE_SYSTEM_MANDATORY_LABEL)
		return a->sid.authority == 16 && a->sid.nsub == 1;
	return a->sid.authority == 19 && a->sid.nsub == 2;
}

int sd_validate(const struct sd *sd)
{
	if (!sd || sd->dacl.count > SD_MAX_ACES || sd->sacl.count > SD_MAX_ACES)
		return -EINVAL;
	for (unsigned i = 0; sd->dacl_present && i < sd->dacl.count; i++) {
		uint8_t t = sd->dacl.aces[i].type;
		if (t != ACE_ACCESS_ALLOWED && t != ACE_ACCESS_DENIED)
			return -EINVAL;
	}
	for (unsigned i = 0; sd->sacl_present && i < sd->sacl.count; i++) {
		const struct ace *a = &sd->sacl.aces[i];
		if (a->type != ACE_SYSTEM_MANDATORY_LABEL &&
		    a->type != ACE_SYSTEM_PROCESS_TRUST_LABEL)
			return -EINVAL;
		if (!label_sid_ok(a))
			return -EINVAL;
	}
	return 0;
}

static int acl_equal(const struct acl *a, const struct acl *b)
{
	if (a->count != b->count)
		return 0;
	for (unsigned i = 0; i < a->count; i++) {
		const struct ace *x = &a->aces[i], *y = &b->aces[i];
		if (x->type != y->type || x->flags != y->flags || x->mask != y->mask ||
		    !sid_equal(&x->sid, &y->sid))
			return 0;
	}
	return 1;
}

int sd_equal(const struct sd *a, const struct sd *b)
{
	if (a->has_owner != b->has_owner || (a->has_owner && !sid_equal(&a->owner, &b->owner)))
		return 0;
	if (a->has_group != b->has_group || (a->has_group && !sid_equal(&a->group, &b->group)))
		return 0;
	if (!a->dacl_present != !b->dacl_present ||
	    (a->dacl_present && !acl_equal(&a->dacl, &b->dacl)))
		return 0;
	if (!a->sacl_present != !b->sacl_present ||
	    (a->sacl_present && !acl_equal(&a->sacl, &b->sacl)))
		return 0;
	return 1;
}

const struct ace *sd_find_label(const struct sd *sd, uint8_t type)
{
	if (!sd->sacl_present)
		return NULL;
	for (unsigned i = 0; i < sd->sacl.count && i < SD_MAX_ACES; i++) {
		const struct ace *a = &sd->sacl.aces[i];
		if (a->type == type && !(a->flags & ACE_INHERIT_ONLY))
			return a;
	}
	return NULL;
}
