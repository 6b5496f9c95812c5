/*
 * Impersonation (digest §4.9): the identity gate, the integrity ceiling, levels never
 * raised, and what AccessCheck does with each level (Identification denied, Anonymous
 * runs the full pipeline, MIC uses the effective token's IL).
 */
#include "kacs_test.h"

static struct token *as_impersonation(struct token *t, int level)
{
	if (t) {
		t->type = TOKEN_IMPERSONATION;
		t->imp_level = level;
	}
	return t;
}

/* Same user: the identity gate lets the requested level through. */
TEST(identity_gate_allows_a_server_to_impersonate_its_own_user)
{
	struct kmem km;
	kmem_init(&km);
	struct token *server = tk(&km, "user=" USER);
	struct token *client = tk(&km, "user=" USER);
	REQUIRE_EQ(server && client, 1);
	EXPECT_EQ(impersonation_level(server, client, IMP_IMPERSONATION), IMP_IMPERSONATION);
	EXPECT_EQ(impersonation_level(server, client, IMP_DELEGATION), IMP_DELEGATION);
	token_put(server);
	token_put(client);
	KM_DONE(&km);
}

/* Another user without SeImpersonate (or with it disabled): silently Identification. */
TEST(identity_gate_caps_another_user_to_identification)
{
	struct kmem km;
	kmem_init(&km);
	struct token *server = tk(&km, "user=" USER " privs=SeImpersonatePrivilege");
	struct token *client = tk(&km, "user=" OTHER);
	REQUIRE_EQ(server && client, 1);
	EXPECT_EQ(impersonation_level(server, client, IMP_IMPERSONATION), IMP_IDENTIFICATION);
	EXPECT_EQ(used_bit(server, 29), 0);
	token_put(server);
	token_put(client);
	KM_DONE(&km);
}

/* An enabled SeImpersonatePrivilege opens the gate and is marked used. */
TEST(se_impersonate_lets_a_server_impersonate_another_user)
{
	struct kmem km;
	kmem_init(&km);
	struct token *server = tk(&km, "user=" USER " privs=SeImpersonatePrivilege:enabled");
	struct token *client = tk(&km, "user=" OTHER);
	REQUIRE_EQ(server && client, 1);
	EXPECT_EQ(impersonation_level(server, client, IMP_IMPERSONATION), IMP_IMPERSONATION);
	EXPECT_EQ(used_bit(server, 29), 1);
	token_put(server);
	token_put(client);
	KM_DONE(&km);
}

/* The integrity ceiling: a client above the server's IL is Identification only, even for
 * the same user and even with SeImpersonate. */
TEST(integrity_ceiling_caps_a_higher_il_client_even_with_se_impersonate)
{
	struct kmem km;
	kmem_init(&km);
	struct token *server = tk(&km, "user=" USER " privs=SeImpersonatePrivilege:enabled");
	struct token *same = tk(&km, "user=" USER " il=high");
	struct token *other = tk(&km, "user=" OTHER " il=system");
	struct token *lower = tk(&km, "user=" OTHER " il=low");
	REQUIRE_EQ(server && same && other && lower, 1);
	EXPECT_EQ(impersonation_level(server, same, IMP_IMPERSONATION), IMP_IDENTIFICATION);
	EXPECT_EQ(impersonation_level(server, other, IMP_DELEGATION), IMP_IDENTIFICATION);
	EXPECT_EQ(used_bit(server, 29), 0);
	EXPECT_EQ(impersonation_level(server, lower, IMP_IMPERSONATION), IMP_IMPERSONATION);
	token_put(server);
	token_put(same);
	token_put(other);
	token_put(lower);
	KM_DONE(&km);
}

/* A level is never raised: low requests pass unchanged, and an impersonation-token client
 * caps the level at its own; unknown levels are -EINVAL. */
TEST(impersonation_level_is_never_raised)
{
	struct kmem km;
	kmem_init(&km);
	struct token *server = tk(&km, "user=" OTHER);
	struct token *client = tk(&km, "user=" USER);
	struct token *imp = as_impersonation(tk(&km, "user=" OTHER), IMP_IMPERSONATION);
	REQUIRE_EQ(server && client && imp, 1);
	EXPECT_EQ(impersonation_level(server, client, IMP_ANONYMOUS), IMP_ANONYMOUS);
	EXPECT_EQ(impersonation_level(server, client, IMP_IDENTIFICATION), IMP_IDENTIFICATION);
	EXPECT_EQ(impersonation_level(server, imp, IMP_DELEGATION), IMP_IMPERSONATION);
	EXPECT_ERRNO(impersonation_level(server, client, 4), -EINVAL);
	EXPECT_ERRNO(impersonation_level(server, client, -1), -EINVAL);
	token_put(server);
	token_put(client);
	token_put(imp);
	KM_DONE(&km);
}

/* Any AccessCheck with an Identification-level token is denied, even on a NULL DACL. */
TEST(identification_level_token_is_denied_everything)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = as_impersonation(tk(&km, "system"), IMP_IDENTIFICATION);
	struct sd *sd = sddl(&km, "O:SYD:NO_ACCESS_CONTROL");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(t, sd, PROCESS_QUERY_LIMITED_INFORMATION, &res), -EACCES);
	EXPECT_EQ(res.granted, 0);
	EXPECT_ERRNO(ac(t, sd, MAXIMUM_ALLOWED, &res), -EACCES);
	t->imp_level = IMP_IMPERSONATION;
	EXPECT_EQ(ac(t, sd, PROCESS_QUERY_LIMITED_INFORMATION, &res), 0);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* Anonymous-level tokens run the full pipeline (only Identification is refused). */
TEST(anonymous_level_token_runs_the_full_pipeline)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = as_impersonation(tk(&km, "user=S-1-5-7 il=untrusted"), IMP_ANONYMOUS);
	struct sd *sd = sddl(&km, "O:SYD:(A;;0x1000;;;AN)");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, PROCESS_QUERY_LIMITED_INFORMATION, &res), 0);
	EXPECT_ERRNO(ac(t, sd, PROCESS_VM_READ, &res), -EACCES);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* MIC reads the effective token: a Low impersonation token of the process's own user
 * cannot write the Medium process, though the DACL grants that user everything. */
TEST(mic_uses_the_effective_token_integrity)
{
	struct kmem km;
	kmem_init(&km);
	struct token *primary = tk(&km, "user=" USER " groups=S-1-1-0");
	struct token *imp = as_impersonation(tk(&km, "user=" USER " groups=S-1-1-0 il=low"),
					     IMP_IMPERSONATION);
	REQUIRE_EQ(primary && imp, 1);
	struct sd *sd = sd_default_process(&km, primary);
	REQUIRE_EQ(sd != NULL, 1);
	struct access_result res;
	EXPECT_EQ(ac(primary, sd, PROCESS_VM_WRITE, &res), 0);
	EXPECT_ERRNO(ac(imp, sd, PROCESS_VM_WRITE, &res), -EACCES);
	EXPECT_EQ(res.mic_denied, 1);
	EXPECT_EQ(ac(imp, sd, PROCESS_VM_READ, &res), 0);
	sd_free(&km, sd);
	token_put(primary);
	token_put(imp);
	KM_DONE(&km);
}
