/*
 * SD to SDDL. The output always parses back to an equal SD (sd_equal) for every SD that
 * sd_validate accepts: SIDs print as their alias when they have one, flags and rights as
 * codes when the codes say exactly the mask, else as 0x-hex. A NULL DACL prints as
 * "D:NO_ACCESS_CONTROL"; an absent SACL prints nothing. Writes into the caller's buffer
 * only; never allocates.
 */
#include "kacs/sd.h"

#include <stdarg.h>
#include <stdio.h>

#include "kacs/sddl.h"

struct out {
	char *buf;
	size_t len;	/* bytes available in buf, NUL included */
	size_t n;	/* bytes the whole text needs, NUL excluded */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *at = o->n < o->len ? o->buf + o->n : NULL;
	int k = vsnprintf(at, at ? o->len - o->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k;
}

static void put_sid(struct out *o, const struct sid *sid)
{
	const char *alias = sddl_alias_name(sid);
	char s[192];
	put(o, "%s", alias ? alias : sid_format(sid, s, sizeof(s)));
}

/* Writes mask as codes of table t when they cover it exactly, else returns 0. */
static int put_codes(struct out *o, enum sddl_table t, uint32_t mask)
{
	uint32_t v, covered = 0;
	for (size_t i = 0; sddl_code_at(t, i, &v); i++)
		if ((mask & v) == v)
			covered |= v;
	if (!mask || covered != mask)
		return 0;
	const char *name;
	for (size_t i = 0; (name = sddl_code_at(t, i, &v)); i++)
		if ((mask & v) == v)
			put(o, "%s", name);
	return 1;
}

static void put_ace(struct out *o, const struct ace *a)
{
	const char *type = sddl_type_name(a->type);
	put(o, "(%s;", type ? type : "?");
	if (a->flags && !put_codes(o, SDDL_FLAGS, a->flags))
		put(o, "0x%x", a->flags);
	put(o, ";");
	enum sddl_table t = a->type == ACE_SYSTEM_MANDATORY_LABEL ? SDDL_LABEL_POLICY : SDDL_RIGHTS;
	if (!put_codes(o, t, a->mask))
		put(o, "0x%x", a->mask);
	put(o, ";;;");
	put_sid(o, &a->sid);
	put(o, ")");
}

static void put_acl(struct out *o, const char *tag, int present, const struct acl *acl)
{
	put(o, "%s", tag);
	if (!present) {
		put(o, "NO_ACCESS_CONTROL");
		return;
	}
	for (unsigned i = 0; i < acl->count && i < SD_MAX_ACES; i++)
		put_ace(o, &acl->aces[i]);
}

size_t sd_to_sddl(const struct sd *sd, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	if (buf && len)
		buf[0] = '\0';
	if (sd->has_owner) {
		put(&o, "O:");
		put_sid(&o, &sd->owner);
	}
	if (sd->has_group) {
		put(&o, "G:");
		put_sid(&o, &sd->group);
	}
	put_acl(&o, "D:", sd->dacl_present, &sd->dacl);
	if (sd->sacl_present)
		put_acl(&o, "S:", 1, &sd->sacl);
	return o.n;
}
