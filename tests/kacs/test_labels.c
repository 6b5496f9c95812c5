/*
 * The two labels AccessCheck reads from the SACL: the mandatory label (MIC, digest §4.7)
 * and the PIP trust label (digest §4.6, §4.8), and PIP dominance itself with the digest's
 * worked examples.
 */
#include "kacs_test.h"

/* A process SD everyone may fully open, labelled `label` (SDDL of the SACL). */
static struct sd *open_sd(struct kmem *km, const char *sacl)
{
	char text[256];
	snprintf(text, sizeof(text), "O:SYD:(A;;GA;;;WD)%s", sacl);
	return sddl(km, text);
}

/* Digest §4.7 worked result: a lower-IL caller on a NO_WRITE_UP process still gets
 * TERMINATE, SUSPEND_RESUME, QUERY_LIMITED, QUERY_INFORMATION and VM_READ. */
TEST(lower_il_caller_on_no_write_up_process_keeps_read_and_execute_rights)
{
	static const uint32_t ok[] = {
		PROCESS_TERMINATE, PROCESS_SUSPEND_RESUME, PROCESS_QUERY_LIMITED_INFORMATION,
		PROCESS_QUERY_INFORMATION, PROCESS_VM_READ, READ_CONTROL,
	};
	struct kmem km;
	kmem_init(&km);
	struct token *low = tk(&km, "user=" USER " groups=S-1-1-0 il=low");
	struct sd *sd = open_sd(&km, "S:(ML;;NW;;;ME)");
	REQUIRE_EQ(low && sd, 1);
	struct access_result res;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		EXPECT_EQ(ac(low, sd, ok[i], &res), 0);
		EXPECT_EQ(res.mic_denied, 0);
	}
	EXPECT_EQ(max_allowed(low, sd), 0x00021C11);
	sd_free(&km, sd);
	token_put(low);
	KM_DONE(&km);
}

/* ... and cannot get VM_WRITE, SET_INFORMATION, WRITE_DAC, WRITE_OWNER (nor the signal
 * and dup-handle bits); mic_denied says why. */
TEST(lower_il_caller_on_no_write_up_process_loses_write_rights)
{
	static const uint32_t no[] = {
		PROCESS_VM_WRITE, PROCESS_SET_INFORMATION, WRITE_DAC, WRITE_OWNER,
		0x0002 /* PROCESS_SIGNAL */, PROCESS_DUP_HANDLE, PROCESS_SET_QUOTA,
	};
	struct kmem km;
	kmem_init(&km);
	struct token *low = tk(&km, "user=" USER " groups=S-1-1-0 il=low");
	struct sd *sd = open_sd(&km, "S:(ML;;NW;;;ME)");
	REQUIRE_EQ(low && sd, 1);
	struct access_result res;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		EXPECT_ERRNO(ac(low, sd, no[i], &res), -EACCES);
		EXPECT_EQ(res.mic_denied, 1);
		EXPECT_EQ(res.pip_denied, 0);
	}
	sd_free(&km, sd);
	token_put(low);
	KM_DONE(&km);
}

/* A caller at or above the label is not touched by MIC. */
TEST(caller_at_or_above_the_label_is_not_limited)
{
	struct kmem km;
	kmem_init(&km);
	struct token *med = tk(&km, "user=" USER " groups=S-1-1-0");
	struct token *high = tk(&km, "user=" USER " groups=S-1-1-0 il=high");
	struct sd *sd = open_sd(&km, "S:(ML;;NWNRNX;;;ME)");
	REQUIRE_EQ(med && high && sd, 1);
	EXPECT_EQ(max_allowed(med, sd), 0x000E1FFF);
	EXPECT_EQ(max_allowed(high, sd), 0x000E1FFF);
	sd_free(&km, sd);
	token_put(med);
	token_put(high);
	KM_DONE(&km);
}

/* An object with no label is Medium with NO_WRITE_UP. */
TEST(unlabelled_object_is_medium_no_write_up)
{
	struct kmem km;
	kmem_init(&km);
	struct token *low = tk(&km, "user=" USER " groups=S-1-1-0 il=low");
	struct token *med = tk(&km, "user=" USER " groups=S-1-1-0");
	struct sd *none = open_sd(&km, "");
	struct sd *empty_sacl = open_sd(&km, "S:");
	REQUIRE_EQ(low && med && none && empty_sacl, 1);
	EXPECT_EQ(max_allowed(low, none), 0x00021C11);
	EXPECT_EQ(max_allowed(low, empty_sacl), 0x00021C11);
	EXPECT_EQ(max_allowed(med, none), 0x000E1FFF);
	sd_free(&km, none);
	sd_free(&km, empty_sacl);
	token_put(low);
	token_put(med);
	KM_DONE(&km);
}

/* NO_READ_UP takes map(GENERIC_READ) out of the allowed set, NO_EXECUTE_UP takes
 * map(GENERIC_EXECUTE); READ_CONTROL and SYNCHRONIZE stay. */
TEST(no_read_up_and_no_execute_up_remove_their_mappings)
{
	struct kmem km;
	kmem_init(&km);
	struct token *med = tk(&km, "user=" USER " groups=S-1-1-0");
	struct sd *nr = open_sd(&km, "S:(ML;;NWNR;;;HI)");
	struct sd *nx = open_sd(&km, "S:(ML;;NWNX;;;HI)");
	REQUIRE_EQ(med && nr && nx, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(med, nr, PROCESS_VM_READ, &res), -EACCES);
	EXPECT_EQ(res.mic_denied, 1);
	EXPECT_EQ(max_allowed(med, nr), 0x00021801);
	EXPECT_ERRNO(ac(med, nx, PROCESS_TERMINATE, &res), -EACCES);
	EXPECT_EQ(max_allowed(med, nx), 0x00020410);
	sd_free(&km, nr);
	sd_free(&km, nx);
	token_put(med);
	KM_DONE(&km);
}

/* Decision: a label without NO_WRITE_UP does not block the write mapping (the policy bits
 * name what is blocked); WRITE_OWNER stays blocked, being in no category. */
TEST(label_without_no_write_up_lets_the_write_mapping_through)
{
	struct kmem km;
	kmem_init(&km);
	struct token *low = tk(&km, "user=" USER " groups=S-1-1-0 il=low");
	struct sd *sd = open_sd(&km, "S:(ML;;0x0;;;HI)");
	REQUIRE_EQ(low && sd, 1);
	EXPECT_EQ(max_allowed(low, sd), 0x00061E31);
	sd_free(&km, sd);
	token_put(low);
	KM_DONE(&km);
}

/* Only the first label that is not inherit-only counts. */
TEST(only_the_first_effective_label_counts)
{
	struct kmem km;
	kmem_init(&km);
	struct token *med = tk(&km, "user=" USER " groups=S-1-1-0");
	struct sd *sd = open_sd(&km, "S:(ML;IO;NW;;;SI)(ML;;NW;;;LW)(ML;;NW;;;SI)");
	REQUIRE_EQ(med && sd, 1);
	EXPECT_EQ(max_allowed(med, sd), 0x000E1FFF);
	sd_free(&km, sd);
	token_put(med);
	KM_DONE(&km);
}

/* MIC never revokes a privilege-granted bit (here a class whose GENERIC_ALL holds
 * ACCESS_SYSTEM_SECURITY, so MIC would otherwise deny it). */
TEST(mic_never_revokes_privilege_granted_bits)
{
	static const struct generic_mapping wide = {
		.read = 0x1, .write = 0x2, .execute = 0x4, .all = 0x010F0007,
	};
	struct kmem km;
	kmem_init(&km);
	struct token *low = tk(&km, "user=" USER " groups=S-1-1-0 il=low"
			       " privs=SeSecurityPrivilege:enabled");
	struct sd *sd = open_sd(&km, "S:(ML;;NW;;;HI)");
	REQUIRE_EQ(low && sd, 1);
	struct access_result res;
	struct access_request rq = { .tok = low, .sd = sd, .map = &wide,
				     .desired = ACCESS_SYSTEM_SECURITY | 0x1 };
	EXPECT_EQ(access_check(&rq, &res), 0);
	EXPECT_EQ(res.granted, 0x01000001);
	EXPECT_EQ(res.mic_denied, 0);
	rq.desired = 0x2;
	EXPECT_ERRNO(access_check(&rq, &res), -EACCES);
	EXPECT_EQ(res.mic_denied, 1);
	sd_free(&km, sd);
	token_put(low);
	KM_DONE(&km);
}

/* SeRelabel lets a lower caller have WRITE_OWNER (and is then marked used); SeTakeOwnership
 * cannot override MIC's denial. */
TEST(se_relabel_lets_a_lower_caller_take_write_owner)
{
	struct kmem km;
	kmem_init(&km);
	struct token *relabel = tk(&km, "user=" USER " groups=S-1-1-0 il=low"
				   " privs=SeRelabelPrivilege:enabled");
	struct token *take = tk(&km, "user=" USER " groups=S-1-1-0 il=low"
				" privs=SeTakeOwnershipPrivilege:enabled");
	struct sd *sd = open_sd(&km, "S:(ML;;NW;;;ME)");
	REQUIRE_EQ(relabel && take && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(relabel, sd, WRITE_OWNER, &res), 0);
	EXPECT_EQ(used_bit(relabel, 32), 1);
	EXPECT_ERRNO(ac(take, sd, WRITE_OWNER, &res), -EACCES);
	EXPECT_EQ(res.mic_denied, 1);
	EXPECT_EQ(used_bit(take, 9), 0);
	sd_free(&km, sd);
	token_put(relabel);
	token_put(take);
	KM_DONE(&km);
}

/* Digest §4.8 dominance, with its worked examples. */
TEST(pip_dominance_follows_the_digest_matrix)
{
	EXPECT_EQ(pip_dominates(512, 1024, 512, 8192), 0);	/* Protected/1024 vs /8192 */
	EXPECT_EQ(pip_dominates(0, 8192, 512, 0), 0);		/* None/8192 vs Protected/0 */
	EXPECT_EQ(pip_dominates(512, 4096, 1024, 0), 0);	/* Protected/4096 vs Isolated/0 */
	EXPECT_EQ(pip_dominates(0, 0, 0, 0), 1);		/* unprotected target */
	EXPECT_EQ(pip_dominates(0, 0, 0, 8192), 1);		/* type 0: anyone dominates */
	EXPECT_EQ(pip_dominates(512, 8192, 512, 8192), 1);	/* equal PSBs */
	EXPECT_EQ(pip_dominates(512, 8192, 512, 4096), 1);
	EXPECT_EQ(pip_dominates(1024, 8192, 512, 8192), 1);
	EXPECT_EQ(pip_dominates(1024, 1024, 512, 2048), 0);	/* both axes must hold */
}

/* A caller that does not dominate the trust label gets at most the ACE's mask. */
TEST(trust_label_limits_a_non_dominating_caller_to_its_mask)
{
	struct kmem km;
	kmem_init(&km);
	struct token *sys = tk(&km, "system");
	struct sd *sd = open_sd(&km, "S:(TL;;0x1000;;;S-1-19-512-8192)");
	REQUIRE_EQ(sys && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac_pip(sys, sd, PROCESS_QUERY_LIMITED_INFORMATION, 0, 0, &res), 0);
	EXPECT_EQ(res.pip_denied, 0);
	EXPECT_ERRNO(ac_pip(sys, sd, PROCESS_VM_READ, 512, 4096, &res), -EACCES);
	EXPECT_EQ(res.pip_denied, 1);
	EXPECT_EQ(ac_pip(sys, sd, MAXIMUM_ALLOWED, 0, 0, &res), 0);
	EXPECT_EQ(res.granted, 0x1000);
	EXPECT_EQ(ac_pip(sys, sd, PROCESS_VM_READ, 512, 8192, &res), 0);	/* dominates */
	EXPECT_EQ(res.pip_denied, 0);
	sd_free(&km, sd);
	token_put(sys);
	KM_DONE(&km);
}

/* The trust label revokes even privilege-granted bits: SeSecurity's ACCESS_SYSTEM_SECURITY
 * and SeTakeOwnership's WRITE_OWNER. */
TEST(trust_label_revokes_privilege_granted_bits)
{
	struct kmem km;
	kmem_init(&km);
	struct token *sys = tk(&km, "system");
	struct sd *sd = sddl(&km, "O:SYD:S:(TL;;0x1000;;;S-1-19-512-8192)");
	REQUIRE_EQ(sys && sd, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(sys, sd, ACCESS_SYSTEM_SECURITY, &res), -EACCES);
	EXPECT_EQ(res.pip_denied, 1);
	EXPECT_ERRNO(ac(sys, sd, WRITE_OWNER, &res), -EACCES);
	EXPECT_EQ(res.pip_denied, 1);
	EXPECT_EQ(used_bit(sys, 9), 0);
	EXPECT_EQ(ac_pip(sys, sd, ACCESS_SYSTEM_SECURITY | WRITE_OWNER, 512, 8192, &res), 0);
	sd_free(&km, sd);
	token_put(sys);
	KM_DONE(&km);
}

/* The trust label's mask is generic-mapped; a type-0 label restricts nobody. */
TEST(trust_label_mask_is_mapped_and_type_zero_restricts_nobody)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-1-0");
	struct sd *gx = open_sd(&km, "S:(TL;;GX;;;S-1-19-512-2048)");
	struct sd *zero = open_sd(&km, "S:(TL;;0x0;;;S-1-19-0-8192)");
	REQUIRE_EQ(t && gx && zero, 1);
	EXPECT_EQ(max_allowed(t, gx), 0x1801);
	EXPECT_EQ(max_allowed(t, zero), 0x000E1FFF);
	sd_free(&km, gx);
	sd_free(&km, zero);
	token_put(t);
	KM_DONE(&km);
}

/* A malformed trust-label SID makes the whole SD invalid: even the owner is denied. */
TEST(malformed_trust_label_makes_the_sd_invalid)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER);
	struct sd *sd = sddl(&km, "O:" USER "D:NO_ACCESS_CONTROLS:(TL;;0x1000;;;S-1-19-512-8192)");
	REQUIRE_EQ(t && sd, 1);
	sid_parse("S-1-19-512", &sd->sacl.aces[0].sid);
	struct access_result res;
	EXPECT_ERRNO(ac_pip(t, sd, READ_CONTROL, 512, 8192, &res), -EACCES);
	EXPECT_EQ(res.granted, 0);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}
