/*
 * W^X (SPEC §4), on by default: W+X is refused at mmap and mprotect; a mapping that is or
 * ever was writable never becomes executable and the reverse, through any sequence of
 * steps; the history survives split, merge and mremap; two views of one object may not be
 * writable and executable at once; the dynamic-code opt-in, its re-arming and its registry
 * switch; fork inherits the policy.
 */
#include "pm_test.h"

#define W 0x200000000000L
#define RX (PROT_READ | PROT_EXEC)
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

static long mprot(pm_thread *t, long addr, long len, long prot)
{
	return SC(t, SYS_mprotect, addr, len, prot, 0, 0, 0);
}

static long opt_in(pm_thread *t, long on)
{
	return SC(t, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, on, 0, 0, 0, 0);
}

/* The direct transitions of SPEC §4's table. */
TEST(wx_refuses_direct_write_exec_transitions)
{
	struct env e = env_open();
	EXPECT_ERRNO(do_mmap(e.t, 0, PG, RWX, ANON), -EACCES);
	EXPECT_ERRNO(do_mmap(e.t, 0, 0, RWX, ANON), -EACCES);	/* before the length is checked */
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_ERRNO(mprot(e.t, W, PG, RWX), -EACCES);
	EXPECT_ERRNO(mprot(e.t, W, PG, RX), -EACCES);		/* RW -> RX */
	EXPECT_EQ(mprot(e.t, W, PG, PROT_READ), 0);		/* RW -> R: removing is fine */
	EXPECT_EQ(do_mmap(e.t, W + 2 * PG, PG, RX, ANON | MAP_FIXED), W + 2 * PG);	/* fresh RX */
	EXPECT_ERRNO(mprot(e.t, W + 2 * PG, PG, RW), -EACCES);	/* RX -> RW */
	EXPECT_EQ(SC(e.t, SYS_prctl, PR_GET_DYNAMIC_CODE_POLICY, 0, 0, 0, 0, 0), 0);
	env_close(&e);
}

/* The two-step paths are refused too: the history is the mapping's (SPEC §4). */
TEST(wx_history_refuses_two_step_paths)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(mprot(e.t, W, PG, PROT_READ), 0);
	EXPECT_ERRNO(mprot(e.t, W, PG, RX), -EACCES);		/* RW -> R -> RX */
	EXPECT_EQ(mprot(e.t, W, PG, PROT_NONE), 0);
	EXPECT_ERRNO(mprot(e.t, W, PG, RX), -EACCES);		/* RW -> NONE -> RX */
	EXPECT_EQ(do_mmap(e.t, W + 2 * PG, PG, RX, ANON | MAP_FIXED), W + 2 * PG);
	EXPECT_EQ(mprot(e.t, W + 2 * PG, PG, PROT_READ), 0);
	EXPECT_ERRNO(mprot(e.t, W + 2 * PG, PG, RW), -EACCES);	/* RX -> R -> RW */
	/* mremap of a once-writable range, then RX. */
	EXPECT_EQ(do_mmap(e.t, W + 8 * PG, 2 * PG, RW, ANON | MAP_FIXED), W + 8 * PG);
	EXPECT_EQ(mprot(e.t, W + 8 * PG, 2 * PG, PROT_READ), 0);
	EXPECT_EQ(SC(e.t, SYS_mremap, W + 8 * PG, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, W + 16 * PG, 0),
		  W + 16 * PG);
	EXPECT_ERRNO(mprot(e.t, W + 16 * PG, 2 * PG, RX), -EACCES);
	env_close(&e);
}

/* History survives a split and a merge: the merged VMA carries both pasts.
 *   rR (r was RW) -> merge -> RR -> no part may become executable */
TEST(wx_history_survives_split_and_merge)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RW, ANON | MAP_FIXED), W);
	EXPECT_EQ(mprot(e.t, W, PG, PROT_READ), 0);
	EXPECT_EQ(do_mmap(e.t, W + PG, PG, PROT_READ, ANON | MAP_FIXED), W + PG);
	EXPECT_EQ(maps_count(e.t, "2000000"), 1);		/* merged with the fresh R page */
	EXPECT_ERRNO(mprot(e.t, W + PG, PG, RX), -EACCES);	/* the merged history covers it */
	EXPECT_EQ(do_mmap(e.t, W + 4 * PG, 3 * PG, RW, ANON | MAP_FIXED), W + 4 * PG);
	EXPECT_EQ(mprot(e.t, W + 5 * PG, PG, PROT_READ), 0);	/* split */
	EXPECT_ERRNO(mprot(e.t, W + 5 * PG, PG, RX), -EACCES);
	env_close(&e);
}

/* A file mapped R-X straight away is fine: it was never writable (SPEC §4). */
TEST(wx_allows_code_that_was_never_writable)
{
	struct env e = env_open();
	EXPECT_EQ(do_mmap(e.t, W, PG, RX, ANON | MAP_FIXED), W);
	EXPECT_EQ(mprot(e.t, W, PG, PROT_READ), 0);
	EXPECT_EQ(mprot(e.t, W, PG, RX), 0);
	env_close(&e);
}

/* Two views of one memfd: writable through one and executable through another is the
 * double-mapping JIT trick, refused on the call that makes the second view (SPEC §4). */
TEST(wx_refuses_write_exec_aliases_of_one_object)
{
	struct env e = env_open();
	long fd = SC(e.t, SYS_memfd_create, (long)pm_scratch(e.t, "jit", 4), 0, 0, 0, 0, 0);
	EXPECT_EQ(SC(e.t, SYS_ftruncate, fd, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(SC(e.t, SYS_mmap, W, 2 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), W);
	EXPECT_ERRNO(SC(e.t, SYS_mmap, W + 8 * PG, 2 * PG, RX, MAP_SHARED | MAP_FIXED, fd, 0), -EACCES);
	EXPECT_ERRNO(SC(e.t, SYS_mmap, W + 8 * PG, PG, RX, MAP_PRIVATE | MAP_FIXED, fd, PG), -EACCES);
	EXPECT_EQ(SC(e.t, SYS_mmap, W + 8 * PG, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), W + 8 * PG);
	EXPECT_ERRNO(mprot(e.t, W + 8 * PG, PG, RX), -EACCES);
	EXPECT_EQ(SC(e.t, SYS_munmap, W, 2 * PG, 0, 0, 0, 0), 0);
	EXPECT_EQ(mprot(e.t, W + 8 * PG, PG, RX), 0);		/* no writable view left */
	EXPECT_ERRNO(SC(e.t, SYS_mmap, W, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), -EACCES);
	env_close(&e);
}

/* The opt-in allows W+X; re-arming is refused while W+X exists; the registry may forbid
 * the opt-in; fork inherits the policy (SPEC §4). */
TEST(dynamic_code_opt_in_and_rearming)
{
	struct env e = env_open();
	EXPECT_ERRNO(opt_in(e.t, 2), -EINVAL);
	EXPECT_EQ(opt_in(e.t, 1), 0);
	EXPECT_EQ(SC(e.t, SYS_prctl, PR_GET_DYNAMIC_CODE_POLICY, 0, 0, 0, 0, 0), 1);
	EXPECT_EQ(do_mmap(e.t, W, PG, RWX, ANON | MAP_FIXED), W);
	pm_thread *c = pm_thread_of(e.sys, (int)SC(e.t, SYS_fork, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(SC(c, SYS_prctl, PR_GET_DYNAMIC_CODE_POLICY, 0, 0, 0, 0, 0), 1);
	EXPECT_ERRNO(opt_in(e.t, 0), -EACCES);
	EXPECT_EQ(mprot(e.t, W, PG, RX), 0);
	EXPECT_EQ(opt_in(e.t, 0), 0);
	EXPECT_ERRNO(mprot(e.t, W, PG, RW), -EACCES);		/* armed again, with history */
	int err;
	pm_token *st = pm_token_parse(e.sys, "system", &err);
	pm_thread *admin = pm_spawn(e.sys, st, NULL);
	pm_token_put(st);
	EXPECT_EQ(pm_registry_set(admin, "DynamicCodeOptIn", 0), 0);
	EXPECT_ERRNO(opt_in(e.t, 1), -EPERM);
	env_close(&e);
}
