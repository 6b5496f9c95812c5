/*
 * File rights (SPEC §3, digest §3): opening a host file grants the rights its SD gives the
 * effective token. The SD is the file's user.peios.sd attribute in SDDL; without one it is
 * derived from the mode bits (owner triplet to the token's user for the host user's own
 * files, "other" triplet to Everyone). open checks what the flags need; mmap and mprotect
 * check the rights granted at open: read for any mapping, write for a shared writable one,
 * execute for PROT_EXEC. Every refusal is EACCES.
 */
#include <sys/xattr.h>

#include "check.h"
#include "file_env.h"

#define W 0x200000000000L

static void set_sd(struct fenv *f, const char *name, const char *sddl)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	if (setxattr(p, "user.peios.sd", sddl, strlen(sddl), 0))
		check_failed(__FILE__, __LINE__, "setxattr user.peios.sd (filesystem without user xattrs?)");
}

static void chmod_host(struct fenv *f, const char *name, mode_t mode)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	if (chmod(p, mode))
		check_failed(__FILE__, __LINE__, "chmod");
}

static long map_fd(pm_thread *t, long prot, long flags, long fd)
{
	return SC(t, SYS_mmap, W, PG, prot, flags | MAP_FIXED, fd, 0);
}

TEST(sd_xattr_granting_read_refuses_write_opens)
{
	struct fenv f = fenv_open();
	put_host(&f, "ro.bin", "data");
	set_sd(&f, "ro.bin", "O:SYG:SYD:(A;;FR;;;WD)");
	pm_thread *t = f.e.t;
	EXPECT_ERRNO(op(t, "/ro.bin", O_RDWR), -EACCES);
	EXPECT_ERRNO(op(t, "/ro.bin", O_WRONLY), -EACCES);
	long fd = op(t, "/ro.bin", O_RDONLY);
	EXPECT_TRUE(fd >= 0);
	EXPECT_EQ(map_fd(t, PROT_READ, MAP_SHARED, fd), W);
	fenv_close(&f);
}

TEST(sd_without_execute_refuses_prot_exec_and_mprotect_to_exec)
{
	struct fenv f = fenv_open();
	put_host(&f, "noexec.bin", "code");
	set_sd(&f, "noexec.bin", "O:SYG:SYD:(A;;FR;;;WD)");
	pm_thread *t = f.e.t;
	long fd = op(t, "/noexec.bin", O_RDONLY);
	EXPECT_ERRNO(map_fd(t, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd), -EACCES);
	EXPECT_EQ(map_fd(t, PROT_READ, MAP_PRIVATE, fd), W);
	EXPECT_ERRNO(SC(t, SYS_mprotect, W, PG, PROT_READ | PROT_EXEC, 0, 0, 0), -EACCES);
	fenv_close(&f);
}

TEST(sd_granting_execute_lets_a_private_mapping_be_rx)
{
	struct fenv f = fenv_open();
	put_host(&f, "lib.so", "code");
	set_sd(&f, "lib.so", "O:SYG:SYD:(A;;FRFX;;;WD)");
	pm_thread *t = f.e.t;
	long fd = op(t, "/lib.so", O_RDONLY);
	EXPECT_EQ(map_fd(t, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd), W);
	uint8_t b;
	EXPECT_EQ(pm_access(t, W, &b, 1, PM_EXEC, NULL), 1);
	EXPECT_EQ(b, 'c');
	fenv_close(&f);
}

TEST(sd_naming_another_user_grants_this_user_nothing)
{
	struct fenv f = fenv_open();
	put_host(&f, "theirs.txt", "private");
	set_sd(&f, "theirs.txt", "O:SYG:SYD:(A;;FA;;;S-1-5-21-1-2002)");
	EXPECT_ERRNO(op(f.e.t, "/theirs.txt", O_RDONLY), -EACCES);
	fenv_close(&f);
}

TEST(malformed_sd_xattr_grants_nothing)
{
	struct fenv f = fenv_open();
	put_host(&f, "bad.txt", "x");
	set_sd(&f, "bad.txt", "O:SYD:(A;;FR;;;NOT-A-SID)");
	EXPECT_ERRNO(op(f.e.t, "/bad.txt", O_RDONLY), -EACCES);
	fenv_close(&f);
}

TEST(mode_bits_give_the_owner_triplet_to_the_token_user)
{
	struct fenv f = fenv_open();
	put_host(&f, "mine.txt", "mine");
	chmod_host(&f, "mine.txt", 0600);
	long fd = op(f.e.t, "/mine.txt", O_RDWR);
	EXPECT_TRUE(fd >= 0);
	EXPECT_EQ(map_fd(f.e.t, RW, MAP_SHARED, fd), W);
	chmod_host(&f, "mine.txt", 0400);
	EXPECT_ERRNO(op(f.e.t, "/mine.txt", O_RDWR), -EACCES);
	EXPECT_TRUE(op(f.e.t, "/mine.txt", O_RDONLY) >= 0);
	fenv_close(&f);
}

TEST(mode_without_execute_bits_refuses_prot_exec)
{
	struct fenv f = fenv_open();
	put_host(&f, "data.bin", "data");
	chmod_host(&f, "data.bin", 0644);
	long fd = op(f.e.t, "/data.bin", O_RDONLY);
	EXPECT_ERRNO(map_fd(f.e.t, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd), -EACCES);
	chmod_host(&f, "data.bin", 0755);
	fd = op(f.e.t, "/data.bin", O_RDONLY);
	EXPECT_EQ(map_fd(f.e.t, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd), W);
	fenv_close(&f);
}
