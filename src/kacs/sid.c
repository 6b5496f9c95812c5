/*
 * SID parsing and formatting. The string form follows the Windows rules: revision 1, the
 * authority in decimal (or 0x-hex when it exceeds 32 bits), then up to 15 decimal
 * sub-authorities that each fit 32 bits. Anything else is -EINVAL, never a crash.
 */
#include "kacs/sid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	int i = 0;
	uint64_t v = 0;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	if (hex)
		i = 2;
	int start = i;
	for (;; i++) {
		int d;
		char ch = s[i];
		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (hex && ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (hex && ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			break;
		uint64_t base = hex ? 16 : 10;
		if (v > (max - (uint64_t)d) / base)
			return -EINVAL;
		v = v * base + (uint64_t)d;
	}
	if (i == start)
		return -EINVAL;
	*out = v;
	return i;
}

int sid_parse(const char *s, struct sid *out)
{
	memset(out, 0, sizeof(*out));
	if ((s[0] != 'S' && s[0] != 's') || s[1] != '-' || s[2] != '1' || s[3] != '-')
		return -EINVAL;
	int pos = 4;
	uint64_t v;
	int n = parse_u64(s + pos, 0xffffffffffffULL, &v);
	if (n < 0)
		return -EINVAL;
	out->revision = 1;
	out->authority = v;
	pos += n;
	while (s[pos] == '-' && s[pos + 1] >= '0' && s[pos + 1] <= '9') {
		if (out->nsub == SID_MAX_SUB)
			return -EINVAL;
		n = parse_u64(s + pos + 1, 0xffffffffULL, &v);
		if (n < 0)
			return -EINVAL;
		out->sub[out->nsub++] = (uint32_t)v;
		pos += 1 + n;
	}
	return pos;
}

char *sid_format(const struct sid *sid, char *buf, size_t len)
{
	int n = sid->authority > 0xffffffffULL
		? snprintf(buf, len, "S-1-0x%llx", (unsigned long long)sid->authority)
		: snprintf(buf, len, "S-1-%llu", (unsigned long long)sid->authority);
	for (unsigned i = 0; i < sid->nsub && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "-%u", sid->sub[i]);
	return buf;
}

int sid_equal(const struct sid *a, const struct sid *b)
{
	if (a->nsub != b->nsub || a->authority != b->authority)
		return 0;
	return memcmp(a->sub, b->sub, a->nsub * sizeof(a->sub[0])) == 0;
}
