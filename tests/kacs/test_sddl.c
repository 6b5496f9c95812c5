/*
 * SDDL and the SD model: aliases, ACE fields, control flags, NULL and empty DACLs, round
 * trips through sd_to_sddl, exact error offsets for malformed text, validation, and the
 * default process SD of SPEC §7.
 */
#include "kacs_test.h"

#include <stdlib.h>
#include <string.h>

static void expect_sid(const struct sid *got, const char *want, int line)
{
	char s[192];
	sid_format(got, s, sizeof(s));
	if (strcmp(s, want))
		check_failed(__FILE__, line, "sid = %s, want %s", s, want);
}

/* Every alias of the brief names its well-known SID (digest Appendix B). */
TEST(sddl_aliases_parse_to_their_well_known_sids)
{
	static const char *const pairs[][2] = {
		{ "SY", "S-1-5-18" }, { "BA", "S-1-5-32-544" }, { "BU", "S-1-5-32-545" },
		{ "WD", "S-1-1-0" }, { "AU", "S-1-5-11" }, { "AN", "S-1-5-7" },
		{ "OW", "S-1-3-4" }, { "PS", "S-1-5-10" }, { "CO", "S-1-3-0" },
		{ "LS", "S-1-5-19" }, { "NS", "S-1-5-20" },
		{ "UN", "S-1-16-0" }, { "LW", "S-1-16-4096" }, { "ME", "S-1-16-8192" },
		{ "MP", "S-1-16-8448" }, { "HI", "S-1-16-12288" }, { "SI", "S-1-16-16384" },
	};
	struct kmem km;
	kmem_init(&km);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char text[16];
		snprintf(text, sizeof(text), "O:%s", pairs[i][0]);
		struct sd *sd = sddl(&km, text);
		if (!sd)
			continue;
		EXPECT_EQ(sd->has_owner, 1);
		expect_sid(&sd->owner, pairs[i][1], __LINE__);
		sd_free(&km, sd);
	}
	KM_DONE(&km);
}

/* An ACE is (type;flags;rights;;;sid); flags and rights concatenate two-letter codes. */
TEST(sddl_ace_fields_parse_type_flags_rights_and_sid)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *sd = sddl(&km, "O:" USER "G:BUD:(D;OICINPIOID;0x1f;;;" OTHER ")"
				  "(A;;GAGRGWGX;;;BA)(A;;RCSDWDWO;;;WD)");
	REQUIRE_EQ(sd != NULL, 1);
	expect_sid(&sd->owner, USER, __LINE__);
	expect_sid(&sd->group, "S-1-5-32-545", __LINE__);
	EXPECT_EQ(sd->dacl_present, 1);
	REQUIRE_EQ(sd->dacl.count, 3);
	EXPECT_EQ(sd->dacl.aces[0].type, ACE_ACCESS_DENIED);
	EXPECT_EQ(sd->dacl.aces[0].flags, 0x1f);
	EXPECT_EQ(sd->dacl.aces[0].mask, 0x1f);
	expect_sid(&sd->dacl.aces[0].sid, OTHER, __LINE__);
	EXPECT_EQ(sd->dacl.aces[1].type, ACE_ACCESS_ALLOWED);
	EXPECT_EQ(sd->dacl.aces[1].mask, 0xf0000000);
	EXPECT_EQ(sd->dacl.aces[2].mask, 0x000f0000);
	EXPECT_EQ(sd->sacl_present, 0);
	sd_free(&km, sd);
	KM_DONE(&km);
}

/* Label ACEs: ML takes NW NR NX, TL names S-1-19-<type>-<trust>; composite codes map. */
TEST(sddl_label_and_trust_aces_parse_into_the_sacl)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *sd = sddl(&km, "O:SYD:(A;;KA;;;SY)(A;;KR;;;AU)(A;;FA;;;BA)"
				  "S:(ML;;NWNRNX;;;HI)(TL;;0x1000;;;S-1-19-512-8192)");
	REQUIRE_EQ(sd != NULL, 1);
	EXPECT_EQ(sd->dacl.aces[0].mask, 0x000f003f);
	EXPECT_EQ(sd->dacl.aces[1].mask, 0x00020019);
	EXPECT_EQ(sd->dacl.aces[2].mask, 0x001f01ff);
	REQUIRE_EQ(sd->sacl.count, 2);
	EXPECT_EQ(sd->sacl.aces[0].type, ACE_SYSTEM_MANDATORY_LABEL);
	EXPECT_EQ(sd->sacl.aces[0].mask, 0x7);
	expect_sid(&sd->sacl.aces[0].sid, "S-1-16-12288", __LINE__);
	EXPECT_EQ(sd->sacl.aces[1].type, ACE_SYSTEM_PROCESS_TRUST_LABEL);
	EXPECT_EQ(sd->sacl.aces[1].mask, 0x1000);
	expect_sid(&sd->sacl.aces[1].sid, "S-1-19-512-8192", __LINE__);
	sd_free(&km, sd);
	KM_DONE(&km);
}

/* D:NO_ACCESS_CONTROL and an absent D: are a NULL DACL; "D:" alone is an empty DACL. */
TEST(sddl_no_access_control_is_a_null_dacl_and_bare_d_is_empty)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *nul = sddl(&km, "O:SYD:NO_ACCESS_CONTROL");
	struct sd *absent = sddl(&km, "O:SY");
	struct sd *empty = sddl(&km, "O:SYD:");
	REQUIRE_EQ(nul && absent && empty, 1);
	EXPECT_EQ(nul->dacl_present, 0);
	EXPECT_EQ(absent->dacl_present, 0);
	EXPECT_EQ(empty->dacl_present, 1);
	EXPECT_EQ(empty->dacl.count, 0);
	EXPECT_EQ(sd_equal(nul, absent), 1);
	EXPECT_EQ(sd_equal(nul, empty), 0);
	sd_free(&km, nul);
	sd_free(&km, absent);
	sd_free(&km, empty);
	KM_DONE(&km);
}

/* Control flags (P, AI, AR) are accepted and dropped. */
TEST(sddl_control_flags_are_accepted_and_ignored)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *a = sddl(&km, "O:SYD:PAI(A;;GA;;;SY)S:AR(ML;;NW;;;ME)");
	struct sd *b = sddl(&km, "O:SYD:(A;;GA;;;SY)S:(ML;;NW;;;ME)");
	REQUIRE_EQ(a && b, 1);
	EXPECT_EQ(sd_equal(a, b), 1);
	sd_free(&km, a);
	sd_free(&km, b);
	KM_DONE(&km);
}

/* parse(print(sd)) equals sd for every form the parser accepts. */
TEST(sddl_round_trip_reproduces_the_descriptor)
{
	static const char *const texts[] = {
		"",
		"O:SY",
		"G:S-1-5-21-7-8-9",
		"O:" USER "G:BUD:(A;;GA;;;" USER ")(A;;GA;;;BA)(A;;GA;;;SY)(A;;0x1000;;;WD)"
		"S:(ML;;NW;;;ME)",
		"O:BAD:(D;OICI;0x20;;;WD)(A;IO;GR;;;OW)(A;ID;0x1801;;;PS)(A;0x20;0x0;;;CO)",
		"O:BAD:S:(TL;;GX;;;S-1-19-512-4096)(ML;IO;0x0;;;S-1-16-1234)(ML;;0x9;;;SI)",
		"O:BAD:NO_ACCESS_CONTROLS:",
		"O:BAD:(A;SAFA;0xffffffff;;;S-1-0x1000000000-5)",
		"O:SYD:(A;;KA;;;SY)(A;;KR;;;AU)(A;;FRFX;;;BU)",
	};
	struct kmem km;
	kmem_init(&km);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct sd *a = sddl(&km, texts[i]);
		if (!a)
			continue;
		char buf[2048];
		size_t n = sd_to_sddl(a, buf, sizeof(buf));
		EXPECT_EQ(n, strlen(buf));
		struct sd *b = sddl(&km, buf);
		if (b && !sd_equal(a, b))
			check_failed(__FILE__, __LINE__, "round trip of \"%s\" printed \"%s\"",
				     texts[i], buf);
		sd_free(&km, a);
		if (b)
			sd_free(&km, b);
	}
	KM_DONE(&km);
}

/* The printer uses aliases and codes where they say exactly the value. */
TEST(sddl_printer_writes_aliases_codes_and_hex)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *sd = sddl(&km, "D:P(A;CIOI;GRGA;;;S-1-5-32-544)(A;;KR;;;S-1-5-11)"
				  "S:(ML;;0x1;;;S-1-16-8448)");
	REQUIRE_EQ(sd != NULL, 1);
	char buf[512];
	sd_to_sddl(sd, buf, sizeof(buf));
	EXPECT_STREQ(buf, "D:(A;OICI;GAGR;;;BA)(A;;0x20019;;;AU)S:(ML;;NW;;;MP)");
	sd_free(&km, sd);
	KM_DONE(&km);
}

/* sd_to_sddl truncates to the buffer, keeps it NUL-terminated, and returns the full length. */
TEST(sddl_print_truncates_and_returns_the_length_needed)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *sd = sddl(&km, "O:SYD:(A;;GA;;;SY)");
	REQUIRE_EQ(sd != NULL, 1);
	char small[8];
	EXPECT_EQ(sd_to_sddl(sd, small, sizeof(small)), 18);
	EXPECT_STREQ(small, "O:SYD:(");
	EXPECT_EQ(sd_to_sddl(sd, NULL, 0), 18);
	sd_free(&km, sd);
	KM_DONE(&km);
}

/* A malformed string is -EINVAL with the byte offset of the first thing wrong. */
TEST(malformed_sddl_reports_exact_error_offsets)
{
	static const struct { const char *text; size_t off; } bad[] = {
		{ "X:SY", 0 },			/* unknown section */
		{ "O:XX", 2 },			/* unknown alias */
		{ "O:SYx", 4 },			/* junk after the owner */
		{ "O:SYO:BA", 4 },		/* duplicate section */
		{ "O:S-1-5-99999999999", 2 },	/* sub-authority overflow */
		{ "D:(A;;GA;;;SY", 13 },	/* missing ')' at the end */
		{ "D:(Q;;GA;;;SY)", 3 },	/* unknown ACE type */
		{ "D:(A;XX;GA;;;SY)", 5 },	/* unknown flag */
		{ "D:(A;OIX;GA;;;SY)", 7 },	/* half a flag */
		{ "D:(A;;GQ;;;SY)", 6 },	/* unknown right */
		{ "D:(A;;GAR;;;SY)", 8 },	/* half a right */
		{ "D:(A;;0x;;;SY)", 8 },	/* hex without digits */
		{ "D:(A;;0x1g;;;SY)", 9 },	/* bad hex digit */
		{ "D:(A;;0x100000000;;;SY)", 6 },	/* does not fit 32 bits */
		{ "D:(A;;GA;x;;SY)", 9 },	/* object GUID must be empty */
		{ "D:(A;;GA;;y;SY)", 10 },	/* inherited-object GUID must be empty */
		{ "D:(A;;GA;;;ZZ)", 11 },	/* unknown trustee */
		{ "D:(A;;GA;;;SY;)", 13 },	/* a seventh field */
		{ "D:(A;;GA)", 8 },		/* ACE stops early */
		{ "D:(A;;GA;;;S-1-5-18-)", 19 },	/* dangling '-' */
		{ "D:(ML;;NW;;;ME)", 3 },	/* label in a DACL */
		{ "S:(A;;GA;;;SY)", 3 },	/* allow in a SACL */
		{ "S:(ML;;NW;;;SY)", 12 },	/* label SID not S-1-16-x */
		{ "S:(ML;;GA;;;ME)", 7 },	/* GA is not a label policy */
		{ "S:(TL;;0x1000;;;S-1-19-512)", 16 },	/* trust SID needs type and trust */
		{ "D:NO_ACCESS_CONTROL(A;;GA;;;SY)", 19 },	/* ACEs in a NULL DACL */
		{ "D:(A;;GA;;;SY)x", 14 },	/* junk after an ACL */
		{ "D:(A;;GA;;;SY)D:", 14 },	/* second DACL */
		{ "O:", 2 },			/* owner missing */
	};
	struct kmem km;
	kmem_init(&km);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sd *sd = (struct sd *)1;
		size_t off = 999;
		int r = sd_from_sddl(&km, bad[i].text, &sd, &off);
		if (r != -EINVAL || off != bad[i].off || sd)
			check_failed(__FILE__, __LINE__,
				     "sd_from_sddl(\"%s\") = %d at offset %zu, want -EINVAL at %zu",
				     bad[i].text, r, off, bad[i].off);
	}
	KM_DONE(&km);
}

/* A DACL holds at most SD_MAX_ACES; the first ACE past that is the error. */
TEST(sddl_with_too_many_aces_fails_at_the_first_extra_ace)
{
	static const char ace[] = "(A;;GA;;;SY)";
	size_t len = 2 + (SD_MAX_ACES + 1) * (sizeof(ace) - 1) + 1;
	char *text = malloc(len);
	REQUIRE_EQ(text != NULL, 1);
	strcpy(text, "D:");
	for (int i = 0; i <= SD_MAX_ACES; i++)
		strcat(text, ace);
	struct kmem km;
	kmem_init(&km);
	struct sd *sd;
	size_t off = 0;
	EXPECT_ERRNO(sd_from_sddl(&km, text, &sd, &off), -EINVAL);
	EXPECT_EQ(off, 2 + SD_MAX_ACES * (sizeof(ace) - 1));
	text[off] = '\0';
	sd = sddl(&km, text);
	if (sd)
		EXPECT_EQ(sd->dacl.count, SD_MAX_ACES);
	sd_free(&km, sd);
	free(text);
	KM_DONE(&km);
}

/* An allocation failure is -ENOMEM with nothing leaked and *out NULL. */
TEST(sd_from_sddl_fails_cleanly_when_allocation_fails)
{
	struct kmem km;
	kmem_init(&km);
	kmem_fail_nth(&km, 1);
	struct sd *sd = (struct sd *)1;
	EXPECT_ERRNO(sd_from_sddl(&km, "O:SY", &sd, NULL), -ENOMEM);
	EXPECT_TRUE(sd == NULL);
	struct token *t = tk(&km, "user=" USER);
	REQUIRE_EQ(t != NULL, 1);
	kmem_fail_nth(&km, 1);
	EXPECT_TRUE(sd_default_process(&km, t) == NULL);
	token_put(t);
	KM_DONE(&km);
}

/* sd_dup copies; sd_equal sees a one-bit difference. */
TEST(sd_dup_copies_and_sd_equal_sees_any_difference)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *a = sddl(&km, "O:SYG:BAD:(A;;0x10;;;WD)S:(ML;;NW;;;HI)");
	REQUIRE_EQ(a != NULL, 1);
	struct sd *b = sd_dup(&km, a);
	REQUIRE_EQ(b != NULL, 1);
	EXPECT_EQ(sd_equal(a, b), 1);
	b->dacl.aces[0].mask ^= 0x1;
	EXPECT_EQ(sd_equal(a, b), 0);
	b->dacl.aces[0].mask ^= 0x1;
	b->sacl.aces[0].flags = ACE_INHERIT_ONLY;
	EXPECT_EQ(sd_equal(a, b), 0);
	sd_free(&km, a);
	sd_free(&km, b);
	KM_DONE(&km);
}

/* sd_validate refuses label SIDs of the wrong shape and ACE kinds in the wrong ACL. */
TEST(sd_validate_rejects_malformed_labels_and_misplaced_aces)
{
	struct kmem km;
	kmem_init(&km);
	struct sd *sd = sddl(&km, "O:SYD:(A;;GA;;;SY)S:(ML;;NW;;;ME)(TL;;0x1000;;;S-1-19-512-8192)");
	REQUIRE_EQ(sd != NULL, 1);
	EXPECT_EQ(sd_validate(sd), 0);
	sid_parse("S-1-19-512", &sd->sacl.aces[1].sid);
	EXPECT_ERRNO(sd_validate(sd), -EINVAL);
	sid_parse("S-1-19-512-8192", &sd->sacl.aces[1].sid);
	sid_parse("S-1-5-18", &sd->sacl.aces[0].sid);
	EXPECT_ERRNO(sd_validate(sd), -EINVAL);
	sid_parse("S-1-16-8192", &sd->sacl.aces[0].sid);
	sd->dacl.aces[0].type = ACE_SYSTEM_MANDATORY_LABEL;
	EXPECT_ERRNO(sd_validate(sd), -EINVAL);
	sd_free(&km, sd);
	KM_DONE(&km);
}

/* SPEC §7: owner = primary user, group = first group, four allow ACEs in pkm's order, and
 * the SACL label at the token's IL with NO_WRITE_UP. */
TEST(default_process_sd_has_the_spec_layout)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-5-32-545,S-1-1-0 il=high");
	struct token *bare = tk(&km, "user=" OTHER " il=low");
	REQUIRE_EQ(t && bare, 1);
	struct sd *sd = sd_default_process(&km, t);
	struct sd *sd2 = sd_default_process(&km, bare);
	REQUIRE_EQ(sd && sd2, 1);
	char buf[512];
	sd_to_sddl(sd, buf, sizeof(buf));
	EXPECT_STREQ(buf, "O:" USER "G:BUD:(A;;GA;;;" USER ")(A;;GA;;;BA)(A;;GA;;;SY)"
			  "(A;;0x1000;;;WD)S:(ML;;NW;;;HI)");
	sd_to_sddl(sd2, buf, sizeof(buf));
	EXPECT_STREQ(buf, "O:" OTHER "G:" OTHER "D:(A;;GA;;;" OTHER ")(A;;GA;;;BA)(A;;GA;;;SY)"
			  "(A;;0x1000;;;WD)S:(ML;;NW;;;LW)");
	EXPECT_EQ(sd_validate(sd), 0);
	sd_free(&km, sd);
	sd_free(&km, sd2);
	token_put(t);
	token_put(bare);
	KM_DONE(&km);
}
