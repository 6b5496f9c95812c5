/*
 * Security identifiers: the binary form and its string form "S-1-<authority>-<sub>...".
 * Pure values: no allocation, no global state.
 */
#ifndef PM_KACS_SID_H
#define PM_KACS_SID_H

#include <stddef.h>
#include <stdint.h>

#define SID_MAX_SUB 15

struct sid {
	uint8_t revision;		/* always 1 */
	uint8_t nsub;			/* sub-authorities used, 0..SID_MAX_SUB */
	uint64_t authority;		/* identifier authority (48 bits) */
	uint32_t sub[SID_MAX_SUB];	/* sub-authorities; the last is the RID */
};

/* Parses "S-1-..." (case-insensitive S), up to the first character that cannot continue it.
 * Returns the number of characters used, or -EINVAL. */
int sid_parse(const char *s, struct sid *out);
/* Writes the string form into buf (at least 192 bytes). Returns buf. */
char *sid_format(const struct sid *sid, char *buf, size_t len);
int sid_equal(const struct sid *a, const struct sid *b);

#endif
