/*
 * AccessCheck outside the labels (digest §4.6, SPEC §7 and §12): generic mapping, the
 * DACL walk with first-writer-wins, deny-only groups, owner implicit rights and OWNER
 * RIGHTS, NULL and empty DACLs, MAXIMUM_ALLOWED, privilege grants and their used bits,
 * invalid SDs, and the default process SD.
 */
#include "kacs_test.h"

#define ALL_PROCESS 0x000E1FFFu

/* The class mappings: process (SPEC §7 with abi.h names), registry and file. */
TEST(generic_mappings_have_the_spec_values)
{
	EXPECT_EQ(kacs_process_mapping.read, 0x00020410);
	EXPECT_EQ(kacs_process_mapping.write, 0x00040220);
	EXPECT_EQ(kacs_process_mapping.execute, 0x00001801);
	EXPECT_EQ(kacs_process_mapping.all, ALL_PROCESS);
	EXPECT_EQ(kacs_process_mapping.all & (PROCESS_SET_QUOTA | DELETE | SYNCHRONIZE),
		  PROCESS_SET_QUOTA);
	EXPECT_EQ(kacs_process_mapping.write & PROCESS_SET_QUOTA, 0);
	EXPECT_EQ(kacs_registry_mapping.read, 0x00020019);
	EXPECT_EQ(kacs_registry_mapping.write, 0x00020006);
	EXPECT_EQ(kacs_registry_mapping.execute, 0x00020019);
	EXPECT_EQ(kacs_registry_mapping.all, 0x000F003F);
	EXPECT_EQ(kacs_file_mapping.read, 0x00120089);
	EXPECT_EQ(kacs_file_mapping.write, 0x00120116);
	EXPECT_EQ(kacs_file_mapping.execute, 0x001200A0);
	EXPECT_EQ(kacs_file_mapping.all, 0x001F01FF);
}

/* Generic bits in an ACE are mapped through the object class before the walk. */
TEST(generic_rights_in_aces_are_mapped_through_the_class)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER);
	struct sd *sd = sddl(&km, "O:SYD:(A;;GR;;;" USER ")");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, PROCESS_VM_READ, &res), 0);
	EXPECT_EQ(res.granted, 0x10);
	EXPECT_ERRNO(ac(t, sd, PROCESS_VM_WRITE, &res), -EACCES);
	EXPECT_EQ(res.granted, 0);
	EXPECT_EQ(max_allowed(t, sd), 0x00020410);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* Generic bits in the request are mapped too: GENERIC_EXECUTE asks for 0x1801. */
TEST(generic_rights_in_the_request_are_mapped)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER);
	struct sd *ok = sddl(&km, "O:SYD:(A;;0x1801;;;" USER ")");
	struct sd *short_by_one = sddl(&km, "O:SYD:(A;;0x1001;;;" USER ")");
	REQUIRE_EQ(t && ok && short_by_one, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, ok, GENERIC_EXECUTE, &res), 0);
	EXPECT_EQ(res.granted, 0x1801);
	EXPECT_ERRNO(ac(t, short_by_one, GENERIC_EXECUTE, &res), -EACCES);
	sd_free(&km, ok);
	sd_free(&km, short_by_one);
	token_put(t);
	KM_DONE(&km);
}

/* First writer wins: a deny after an allow of the same bit does not revoke it. */
TEST(deny_after_allow_does_not_revoke)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-1-0");
	struct sd *sd = sddl(&km, "O:SYD:(A;;0x10;;;" USER ")(D;;0x10;;;WD)");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, PROCESS_VM_READ, &res), 0);
	EXPECT_EQ(res.granted, 0x10);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* First writer wins: an allow after a deny of the same bit does not grant it, but grants
 * the bits the deny did not name. */
TEST(allow_after_deny_does_not_grant)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-1-0");
	struct sd *sd = sddl(&km, "O:SYD:(D;;0x20;;;WD)(A;;GA;;;" USER ")");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(t, sd, PROCESS_VM_WRITE, &res), -EACCES);
	EXPECT_EQ(res.granted, 0);
	EXPECT_ERRNO(ac(t, sd, PROCESS_VM_READ | PROCESS_VM_WRITE, &res), -EACCES);
	EXPECT_EQ(max_allowed(t, sd), ALL_PROCESS & ~0x20u);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* A deny-only group matches deny ACEs but never allow ACEs. */
TEST(deny_only_groups_match_deny_aces_only)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-5-32-544:deny,S-1-1-0");
	struct sd *allow = sddl(&km, "O:SYD:(A;;GA;;;BA)");
	struct sd *deny = sddl(&km, "O:SYD:(D;;0x10;;;BA)(A;;GA;;;WD)");
	REQUIRE_EQ(t && allow && deny, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(t, allow, PROCESS_VM_READ, &res), -EACCES);
	EXPECT_ERRNO(ac(t, deny, PROCESS_VM_READ, &res), -EACCES);
	EXPECT_EQ(ac(t, deny, PROCESS_TERMINATE, &res), 0);
	sd_free(&km, allow);
	sd_free(&km, deny);
	token_put(t);
	KM_DONE(&km);
}

/* A group that is neither enabled nor deny-only matches nothing. */
TEST(disabled_groups_match_no_ace)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-5-32-544,S-1-1-0");
	struct sd *sd = sddl(&km, "O:SYD:(D;;0x20;;;BA)(A;;GA;;;BA)(A;;0x10;;;WD)");
	REQUIRE_EQ(t && sd, 1);
	t->groups[0].attrs = SE_GROUP_MANDATORY;	/* present, not enabled */
	EXPECT_EQ(max_allowed(t, sd), 0x10);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* Inherit-only ACEs apply to children, not to this object. */
TEST(inherit_only_aces_are_skipped)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER);
	struct sd *sd = sddl(&km, "O:SYD:(D;OIIO;0x10;;;" USER ")(A;IO;0x20;;;" USER ")"
				  "(A;;0x10;;;" USER ")");
	REQUIRE_EQ(t && sd, 1);
	EXPECT_EQ(max_allowed(t, sd), 0x10);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* A NULL DACL grants every right asked for; MAXIMUM_ALLOWED gets map(GENERIC_ALL). */
TEST(null_dacl_grants_everything)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER);
	struct sd *sd = sddl(&km, "O:SYD:NO_ACCESS_CONTROL");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, PROCESS_VM_WRITE | WRITE_OWNER | DELETE, &res), 0);
	EXPECT_EQ(res.granted, 0x00090020);
	EXPECT_EQ(max_allowed(t, sd), ALL_PROCESS);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* An empty DACL grants nothing, except the owner's implicit rights. */
TEST(empty_dacl_grants_only_owner_rights)
{
	struct kmem km;
	kmem_init(&km);
	struct token *owner = tk(&km, "user=" USER);
	struct token *other = tk(&km, "user=" OTHER);
	struct sd *sd = sddl(&km, "O:" USER "D:");
	REQUIRE_EQ(owner && other && sd, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(other, sd, MAXIMUM_ALLOWED, &res), -EACCES);
	EXPECT_EQ(res.granted, 0);
	EXPECT_EQ(max_allowed(owner, sd), 0x00060000);
	EXPECT_ERRNO(ac(owner, sd, PROCESS_QUERY_LIMITED_INFORMATION, &res), -EACCES);
	sd_free(&km, sd);
	token_put(owner);
	token_put(other);
	KM_DONE(&km);
}

/* The owner's READ_CONTROL|WRITE_DAC come before the walk, so a deny cannot remove them;
 * an owner reached through an enabled group counts too. */
TEST(owner_rights_survive_a_deny_ace)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-5-32-544");
	struct sd *sd = sddl(&km, "O:BAD:(D;;GA;;;" USER ")");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, READ_CONTROL | WRITE_DAC, &res), 0);
	EXPECT_EQ(res.granted, 0x00060000);
	EXPECT_ERRNO(ac(t, sd, WRITE_OWNER, &res), -EACCES);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* An ACE naming OWNER RIGHTS (S-1-3-4) replaces the implicit grant and matches the owner. */
TEST(owner_rights_ace_replaces_the_implicit_owner_grant)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER);
	struct sd *narrow = sddl(&km, "O:" USER "D:(A;;RC;;;OW)");
	struct sd *deny = sddl(&km, "O:" USER "D:(D;;WD;;;OW)(A;;GA;;;" USER ")");
	struct sd *io = sddl(&km, "O:" USER "D:(A;IO;RC;;;OW)");
	REQUIRE_EQ(t && narrow && deny && io, 1);
	EXPECT_EQ(max_allowed(t, narrow), READ_CONTROL);
	EXPECT_EQ(max_allowed(t, deny), ALL_PROCESS & ~WRITE_DAC);
	EXPECT_EQ(max_allowed(t, io), READ_CONTROL | WRITE_DAC);	/* IO ACE: no effect */
	sd_free(&km, narrow);
	sd_free(&km, deny);
	sd_free(&km, io);
	token_put(t);
	KM_DONE(&km);
}

/* MAXIMUM_ALLOWED returns the union of what would be granted; with explicit rights it also
 * needs all of them; alone it fails only when nothing is granted. */
TEST(maximum_allowed_returns_everything_grantable)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " groups=S-1-1-0");
	struct sd *sd = sddl(&km, "O:SYD:(A;;0x1010;;;WD)(A;;0x400;;;" USER ")(D;;0x20;;;WD)");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, MAXIMUM_ALLOWED, &res), 0);
	EXPECT_EQ(res.granted, 0x1410);
	EXPECT_EQ(ac(t, sd, MAXIMUM_ALLOWED | PROCESS_VM_READ, &res), 0);
	EXPECT_EQ(res.granted, 0x1410);
	EXPECT_ERRNO(ac(t, sd, MAXIMUM_ALLOWED | PROCESS_VM_WRITE, &res), -EACCES);
	EXPECT_EQ(res.granted, 0);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* An SD without an owner (or no SD at all) is invalid, and AccessCheck denies it. */
TEST(sd_without_owner_is_denied)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "system");
	struct sd *sd = sddl(&km, "D:NO_ACCESS_CONTROL");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(t, sd, PROCESS_QUERY_LIMITED_INFORMATION, &res), -EACCES);
	EXPECT_EQ(res.granted, 0);
	EXPECT_ERRNO(ac(t, NULL, PROCESS_QUERY_LIMITED_INFORMATION, &res), -EACCES);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* ACCESS_SYSTEM_SECURITY comes only from an enabled SeSecurityPrivilege, never from the
 * DACL, and its use is recorded. */
TEST(access_system_security_needs_enabled_se_security)
{
	struct kmem km;
	kmem_init(&km);
	struct token *off = tk(&km, "user=" USER " privs=SeSecurityPrivilege");
	struct token *on = tk(&km, "user=" USER " privs=SeSecurityPrivilege:enabled");
	struct sd *sd = sddl(&km, "O:SYD:(A;;0x01000000;;;" USER ")");
	REQUIRE_EQ(off && on && sd, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(off, sd, ACCESS_SYSTEM_SECURITY, &res), -EACCES);
	EXPECT_EQ(used_bit(off, 8), 0);
	EXPECT_EQ(max_allowed(on, sd), 0);	/* MAXIMUM_ALLOWED never includes it */
	EXPECT_EQ(used_bit(on, 8), 0);
	EXPECT_EQ(ac(on, sd, ACCESS_SYSTEM_SECURITY, &res), 0);
	EXPECT_EQ(res.granted, 0x01000000);
	EXPECT_EQ(used_bit(on, 8), 1);
	sd_free(&km, sd);
	token_put(off);
	token_put(on);
	KM_DONE(&km);
}

/* SeTakeOwnership grants WRITE_OWNER the DACL denied, and is marked used only then. */
TEST(se_take_ownership_grants_write_owner_and_is_marked_used)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER " privs=SeTakeOwnershipPrivilege:enabled");
	struct sd *denied = sddl(&km, "O:SYD:(D;;WO;;;" USER ")(A;;0x10;;;" USER ")");
	struct sd *granted = sddl(&km, "O:SYD:(A;;WO;;;" USER ")");
	REQUIRE_EQ(t && denied && granted, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, granted, WRITE_OWNER, &res), 0);
	EXPECT_EQ(used_bit(t, 9), 0);
	EXPECT_EQ(ac(t, denied, WRITE_OWNER | PROCESS_VM_READ, &res), 0);
	EXPECT_EQ(res.granted, 0x00080010);
	EXPECT_EQ(used_bit(t, 9), 1);
	sd_free(&km, denied);
	sd_free(&km, granted);
	token_put(t);
	KM_DONE(&km);
}

/* SeBackup and SeRestore need an intent flag that no caller passes: they grant nothing. */
TEST(backup_and_restore_grant_nothing_without_intent)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER
			     " privs=SeBackupPrivilege:enabled,SeRestorePrivilege:enabled");
	struct sd *sd = sddl(&km, "O:SYD:");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_ERRNO(ac(t, sd, PROCESS_VM_READ, &res), -EACCES);
	EXPECT_ERRNO(ac(t, sd, PROCESS_VM_WRITE, &res), -EACCES);
	EXPECT_EQ(atomic_load(&t->privs_used), 0);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* SPEC §7: the default SD gives the user, SYSTEM and Administrators GENERIC_ALL and
 * Everyone only PROCESS_QUERY_LIMITED_INFORMATION. */
TEST(default_process_sd_grants_user_and_system_all_and_everyone_query_limited)
{
	struct kmem km;
	kmem_init(&km);
	struct token *user = tk(&km, "user=" USER " groups=S-1-5-32-545,S-1-1-0");
	struct token *sys = tk(&km, "system");
	struct token *admin = tk(&km, "user=" OTHER " groups=S-1-5-32-544,S-1-1-0 il=high");
	struct token *other = tk(&km, "user=" OTHER " groups=S-1-5-32-545,S-1-1-0");
	struct token *nobody = tk(&km, "user=" OTHER);
	REQUIRE_EQ(user && sys && admin && other && nobody, 1);
	struct sd *sd = sd_default_process(&km, user);
	REQUIRE_EQ(sd != NULL, 1);
	EXPECT_EQ(max_allowed(user, sd), ALL_PROCESS);
	EXPECT_EQ(max_allowed(sys, sd), ALL_PROCESS);
	EXPECT_EQ(max_allowed(admin, sd), ALL_PROCESS);
	EXPECT_EQ(max_allowed(other, sd), PROCESS_QUERY_LIMITED_INFORMATION);
	EXPECT_EQ(max_allowed(nobody, sd), 0);	/* Everyone matches only tokens that hold it */
	struct access_result res;
	EXPECT_ERRNO(ac(other, sd, PROCESS_VM_READ, &res), -EACCES);
	EXPECT_EQ(ac(user, sd, READ_CONTROL | WRITE_DAC | PROCESS_SET_QUOTA, &res), 0);
	EXPECT_ERRNO(ac(user, sd, DELETE, &res), -EACCES);	/* not in GENERIC_ALL */
	sd_free(&km, sd);
	token_put(user);
	token_put(sys);
	token_put(admin);
	token_put(other);
	token_put(nobody);
	KM_DONE(&km);
}

/* Privileges that grant nothing are not marked used, even when enabled. */
TEST(privileges_not_needed_are_not_marked_used)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "system");
	REQUIRE_EQ(t != NULL, 1);
	struct sd *sd = sd_default_process(&km, t);
	REQUIRE_EQ(sd != NULL, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, PROCESS_VM_READ | WRITE_OWNER, &res), 0);
	EXPECT_EQ(atomic_load(&t->privs_used), 0);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}

/* Asking for nothing is granted nothing, successfully. */
TEST(empty_request_succeeds_with_nothing_granted)
{
	struct kmem km;
	kmem_init(&km);
	struct token *t = tk(&km, "user=" USER);
	struct sd *sd = sddl(&km, "O:SYD:");
	REQUIRE_EQ(t && sd, 1);
	struct access_result res;
	EXPECT_EQ(ac(t, sd, 0, &res), 0);
	EXPECT_EQ(res.granted, 0);
	sd_free(&km, sd);
	token_put(t);
	KM_DONE(&km);
}
