/*
 * SDDL to SD. Grammar: sections "O:sid", "G:sid", "D:flags(ace)...", "S:flags(ace)..." in
 * any order, each at most once; an ACE is "(type;flags;rights;;;sid)". A malformed string
 * is -EINVAL with the byte offset of the first thing that is wrong: the start of a bad
 * field, name or code, the place a ';' or ')' was expected, or the end of the string when
 * it stops early. Never reads past the NUL; never returns a half-built SD.
 */
#include "kacs/sd.h"

#include <errno.h>
#include <string.h>

#include "kacs/sddl.h"
#include "lib/kmem.h"

struct cursor {
	const char *s;
	size_t pos;	/* next byte to read */
	size_t err;	/* offset of the error once a parser returned -EINVAL */
};

static int fail(struct cursor *c, size_t at)
{
	c->err = at;
	return -EINVAL;
}

/* An alias ("SY") or a string SID ("S-1-5-18"). */
static int parse_sid(struct cursor *c, struct sid *out)
{
	const char *p = c->s + c->pos;
	if ((p[0] == 'S' || p[0] == 's') && p[1] == '-') {
		int n = sid_parse(p, out);
		if (n < 0)
			return fail(c, c->pos);
		c->pos += (size_t)n;
		return 0;
	}
	if (sddl_alias_parse(p, out))
		return fail(c, c->pos);
	c->pos += 2;
	return 0;
}

/* The end of the ACE field starting at c->pos: the next ';', ')' or NUL. */
static size_t field_end(const struct cursor *c)
{
	size_t e = c->pos;
	while (c->s[e] && c->s[e] != ';' && c->s[e] != ')')
		e++;
	return e;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "0x<hex>" in [a, b) no larger than max. */
static int parse_hex(struct cursor *c, size_t a, size_t b, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (b == a + 2)
		return fail(c, b);
	for (size_t i = a + 2; i < b; i++) {
		int d = hex_digit(c->s[i]);
		if (d < 0)
			return fail(c, i);
		v = v * 16 + (uint64_t)d;
		if (v > max)
			return fail(c, a);
	}
	*out = (uint32_t)v;
	return 0;
}

static int is_hex_prefix(const struct cursor *c, size_t a, size_t b)
{
	return b - a >= 2 && c->s[a] == '0' && (c->s[a + 1] == 'x' || c->s[a + 1] == 'X');
}

/* Concatenated two-letter codes in [a, b), each looked up in t1 and then t2 (t2 may equal
 * t1). An empty field is 0. */
static int parse_codes(struct cursor *c, size_t a, size_t b, enum sddl_table t1,
		       enum sddl_table t2, uint32_t *out)
{
	uint32_t v = 0, code;
	for (size_t i = a; i < b; i += 2) {
		if (i + 1 >= b)
			return fail(c, i);
		if (sddl_code_lookup(t1, c->s + i, &code) && sddl_code_lookup(t2, c->s + i, &code))
			return fail(c, i);
		v |= code;
	}
	*out = v;
	return 0;
}

/* Expects the ';' that ends a field at `end`, and moves past it. */
static int end_field(struct cursor *c, size_t end)
{
	if (c->s[end] != ';')
		return fail(c, end);
	c->pos = end + 1;
	return 0;
}

static int parse_ace_type(struct cursor *c, int in_sacl, uint8_t *type)
{
	size_t a = c->pos, b = field_end(c);
	if (sddl_type_parse(c->s + a, b - a, type))
		return fail(c, a);
	int label = *type == ACE_SYSTEM_MANDATORY_LABEL || *type == ACE_SYSTEM_PROCESS_TRUST_LABEL;
	if (label != in_sacl)
		return fail(c, a);	/* allow/deny in a SACL or a label in a DACL */
	return end_field(c, b);
}

static int parse_ace_flags(struct cursor *c, uint8_t *flags)
{
	size_t a = c->pos, b = field_end(c);
	uint32_t v;
	int r = is_hex_prefix(c, a, b) ? parse_hex(c, a, b, 0xff, &v)
				       : parse_codes(c, a, b, SDDL_FLAGS, SDDL_FLAGS, &v);
	if (r)
		return r;
	*flags = (uint8_t)v;
	return end_field(c, b);
}

static int parse_ace_rights(struct cursor *c, uint8_t type, uint32_t *mask)
{
	size_t a = c->pos, b = field_end(c);
	int r;
	if (is_hex_prefix(c, a, b))
		r = parse_hex(c, a, b, 0xffffffffu, mask);
	else if (type == ACE_SYSTEM_MANDATORY_LABEL)
		r = parse_codes(c, a, b, SDDL_LABEL_POLICY, SDDL_LABEL_POLICY, mask);
	else
		r = parse_codes(c, a, b, SDDL_RIGHTS, SDDL_RIGHTS_COMPOSITE, mask);
	return r ? r : end_field(c, b);
}

/* The trustee, the closing ')', and the shape a label's SID must have. */
static int parse_ace_sid(struct cursor *c, struct ace *ace)
{
	size_t start = c->pos;
	if (parse_sid(c, &ace->sid))
		return -EINVAL;
	if (ace->type == ACE_SYSTEM_MANDATORY_LABEL &&
	    (ace->sid.authority != 16 || ace->sid.nsub != 1))
		return fail(c, start);
	if (ace->type == ACE_SYSTEM_PROCESS_TRUST_LABEL &&
	    (ace->sid.authority != 19 || ace->sid.nsub != 2))
		return fail(c, start);
	if (c->s[c->pos] != ')')
		return fail(c, c->pos);
	c->pos++;
	return 0;
}

/* "(type;flags;rights;;;sid)" with c->pos at the '('. The two GUID fields must be empty. */
static int parse_ace(struct cursor *c, int in_sacl, struct ace *ace)
{
	c->pos++;
	memset(ace, 0, sizeof(*ace));
	if (parse_ace_type(c, in_sacl, &ace->type) || parse_ace_flags(c, &ace->flags) ||
	    parse_ace_rights(c, ace->type, &ace->mask))
		return -EINVAL;
	for (int guid = 0; guid < 2; guid++) {
		size_t b = field_end(c);
		if (b != c->pos)
			return fail(c, c->pos);
		if (end_field(c, b))
			return -EINVAL;
	}
	return parse_ace_sid(c, ace);
}

/* Control flags after "D:" or "S:": P, AI, AR are accepted and dropped; NO_ACCESS_CONTROL
 * makes the ACL absent (a NULL DACL) and forbids ACEs after it. */
static int parse_acl(struct cursor *c, int in_sacl, struct acl *acl, int *present)
{
	static const char nac[] = "NO_ACCESS_CONTROL";
	int null_acl = 0;
	for (;;) {
		const char *p = c->s + c->pos;
		if (!strncmp(p, nac, sizeof(nac) - 1)) {
			null_acl = 1;
			c->pos += sizeof(nac) - 1;
		} else if (p[0] == 'P') {
			c->pos++;
		} else if (p[0] == 'A' && (p[1] == 'I' || p[1] == 'R')) {
			c->pos += 2;
		} else {
			break;
		}
	}
	*present = !null_acl;
	acl->count = 0;
	while (c->s[c->pos] == '(') {
		if (null_acl || acl->count == SD_MAX_ACES)
			return fail(c, c->pos);
		if (parse_ace(c, in_sacl, &acl->aces[acl->count]))
			return -EINVAL;
		acl->count++;
	}
	return 0;
}

static int parse_section(struct cursor *c, struct sd *sd, char which)
{
	switch (which) {
	case 'O':
		sd->has_owner = 1;
		return parse_sid(c, &sd->owner);
	case 'G':
		sd->has_group = 1;
		return parse_sid(c, &sd->group);
	case 'D':
		return parse_acl(c, 0, &sd->dacl, &sd->dacl_present);
	default:
		return parse_acl(c, 1, &sd->sacl, &sd->sacl_present);
	}
}

static int parse_sd(struct cursor *c, struct sd *sd)
{
	static const char sections[] = "OGDS";
	int seen[4] = { 0 };
	while (c->s[c->pos]) {
		const char *p = c->s + c->pos;
		const char *which = p[0] ? strchr(sections, p[0]) : NULL;
		if (!which || p[1] != ':' || seen[which - sections])
			return fail(c, c->pos);
		seen[which - sections] = 1;
		c->pos += 2;
		if (parse_section(c, sd, p[0]))
			return -EINVAL;
	}
	return 0;
}

int sd_from_sddl(struct kmem *km, const char *sddl, struct sd **out, size_t *err_off)
{
	size_t dummy;
	if (!err_off)
		err_off = &dummy;
	*err_off = 0;
	*out = NULL;
	if (!sddl)
		return -EINVAL;
	struct sd *sd = kmem_new(km, struct sd);
	if (!sd)
		return -ENOMEM;
	struct cursor c = { .s = sddl };
	if (parse_sd(&c, sd)) {
		*err_off = c.err;
		sd_free(km, sd);
		return -EINVAL;
	}
	*out = sd;
	return 0;
}
