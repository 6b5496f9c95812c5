/*
 * The trace parser of 'peimm replay' (tools/peimm/replay_parse.c, replay_args.c) on
 * crafted snippets: unfinished/resumed pairs across pids, errno results, signals and
 * exits, symbolic flags, and malformed lines, which must give one message naming the line.
 */
#include <string.h>

#include "check.h"
#include "replay.h"

static int parse(rp_trace *tr, const char *text)
{
	memset(tr, 0, sizeof(*tr));
	tr->file = "t.trace";
	return rp_parse_string(tr, text);
}

TEST(unfinished_and_resumed_calls_join_across_pids_at_their_entry)
{
	rp_trace tr;
	REQUIRE_EQ(parse(&tr,
		"100 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>\n"
		"101 munmap(0x7f0000001000, 4096 <unfinished ...>\n"
		"100 <... mmap resumed>) = 0x7f0000000000\n"
		"101 <... munmap resumed>) = -1 EINVAL (Invalid argument)\n"), 0);
	REQUIRE_EQ(tr.n, 2);
	EXPECT_EQ(tr.ev[0].pid, 100);
	EXPECT_EQ(tr.ev[0].call, RP_MMAP);
	EXPECT_EQ(tr.ev[0].line, 1);
	EXPECT_EQ(tr.ev[0].val[1], 8192);
	EXPECT_EQ(tr.ev[0].val[2], 3);
	EXPECT_EQ(tr.ev[0].val[3], 0x22);
	EXPECT_EQ(tr.ev[0].val[4], -1);
	EXPECT_EQ(tr.ev[0].ret, 0x7f0000000000);
	EXPECT_EQ(tr.ev[1].pid, 101);
	EXPECT_EQ(tr.ev[1].call, RP_MUNMAP);
	EXPECT_EQ(tr.ev[1].ret, -22);
	EXPECT_STREQ(tr.ev[1].text, "munmap(0x7f0000001000, 4096) = -1 EINVAL (Invalid argument)");
	rp_trace_free(&tr);
}

TEST(errno_results_exits_kills_and_signals_become_events)
{
	rp_trace tr;
	REQUIRE_EQ(parse(&tr,
		"7 openat(AT_FDCWD, \"/no/such\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n"
		"7 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---\n"
		"7 exit_group(3) = ?\n"
		"7 +++ exited with 3 +++\n"
		"8 +++ killed by SIGSEGV (core dumped) +++\n"
		"9 exit(0 <unfinished ...>\n"), 0);
	REQUIRE_EQ(tr.n, 6);
	EXPECT_EQ(tr.ev[0].call, RP_OPENAT);
	EXPECT_EQ(tr.ev[0].val[0], -100);
	EXPECT_STREQ(tr.ev[0].str[1], "/no/such");
	EXPECT_EQ(tr.ev[0].val[2], 0x80000);
	EXPECT_EQ(tr.ev[0].ret, -2);
	EXPECT_EQ(tr.ev[1].kind, RP_EV_SIGNAL);
	EXPECT_EQ(tr.ev[1].status, 11);
	EXPECT_EQ(tr.ev[1].si_addr, 0x10);
	EXPECT_EQ(tr.ev[2].call, RP_EXIT_GROUP);
	EXPECT_EQ(tr.ev[2].has_ret, 0);
	EXPECT_EQ(tr.ev[3].kind, RP_EV_EXITED);
	EXPECT_EQ(tr.ev[3].status, 3);
	EXPECT_EQ(tr.ev[4].kind, RP_EV_KILLED);
	EXPECT_EQ(tr.ev[4].status, 11);
	EXPECT_EQ(tr.ev[5].call, RP_EXIT);	/* cut off by the end of the trace */
	EXPECT_EQ(tr.ev[5].has_ret, 0);
	rp_trace_free(&tr);
}

TEST(flags_numbers_strings_and_clone_fields_evaluate)
{
	rp_trace tr;
	REQUIRE_EQ(parse(&tr,
		"[pid 5] 12:00:01.000001 mmap(0x7f0000000000, 2097152, PROT_READ|PROT_WRITE|PROT_EXEC, "
		"MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, -1, 0) = 0x7f0000000000 <0.000010>\n"
		"5 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
		"CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f1, parent_tid=0x7f1, "
		"exit_signal=0, stack=0x7f2, stack_size=0x7ffe80, tls=0x7f3} => {parent_tid=[6]}, 88) = 6\n"
		"5 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
		"child_tidptr=0x7f4) = 7\n"
		"5 execve(\"/bin/true\", [\"true\", \"a\\\"b\\n\"], 0x7ffc /* 3 vars */) = 0\n"
		"5 mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE) = 0x7f0000100000\n"
		"5 madvise(0x7f0000000000, 4096, MADV_DONTNEED) = 0\n"
		"5 mlockall(MCL_CURRENT|MCL_FUTURE) = 0\n"
		"5 openat(AT_FDCWD, \"/tmp/x\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3</tmp/x>\n"
		"5 arch_prctl(ARCH_SET_FS, 0x7f5) = 0\n"), 0);
	REQUIRE_EQ(tr.n, 9);
	EXPECT_EQ(tr.ev[0].pid, 5);
	EXPECT_EQ(tr.ev[0].val[2], 7);
	EXPECT_EQ(tr.ev[0].val[3], 0x22 | 0x10 | 0x40000 | (21L << 26));
	EXPECT_EQ(tr.ev[1].call, RP_CLONE3);
	EXPECT_EQ(tr.ev[1].val[0], 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000 |
				   0x100000 | 0x200000);
	EXPECT_EQ(tr.ev[1].ret, 6);
	EXPECT_EQ(tr.ev[2].val[0], 0x200000 | 0x1000000 | 17);
	REQUIRE_EQ(tr.ev[3].argv != NULL, 1);
	EXPECT_STREQ(tr.ev[3].argv[0], "true");
	EXPECT_STREQ(tr.ev[3].argv[1], "a\"b\n");
	EXPECT_TRUE(tr.ev[3].argv[2] == NULL);
	EXPECT_EQ(tr.ev[4].val[3], 1);
	EXPECT_EQ(tr.ev[5].val[2], 4);
	EXPECT_EQ(tr.ev[6].val[0], 3);
	EXPECT_EQ(tr.ev[7].val[2], 0x241);
	EXPECT_EQ(tr.ev[7].val[3], 0644);
	EXPECT_EQ(tr.ev[7].ret, 3);
	EXPECT_EQ(tr.ev[8].call, RP_OTHER);	/* unknown to replay: kept, never evaluated */
	EXPECT_STREQ(tr.ev[8].name, "arch_prctl");
	rp_trace_free(&tr);
}

/* Each bad snippet fails with "t.trace:LINE: ..." on one line. */
static void expect_bad(const char *text, const char *prefix, const char *what)
{
	rp_trace tr;
	int rc = parse(&tr, text);
	if (rc != -1 || strncmp(tr.err, prefix, strlen(prefix)) || !strstr(tr.err, what) ||
	    strchr(tr.err, '\n'))
		check_failed(__FILE__, __LINE__, "parse of %s gave %d '%s', want '%s...%s'", text, rc,
			     tr.err, prefix, what);
	rp_trace_free(&tr);
}

TEST(malformed_lines_give_one_error_naming_the_line)
{
	expect_bad("1 brk(NULL) = 0x1000\nthis is not strace\n", "t.trace:2: ", "not an strace line");
	expect_bad("1 mmap(NULL, 4096, PROT_REDA, MAP_PRIVATE, -1, 0) = 0x1000\n", "t.trace:1: ",
		   "unknown value 'PROT_REDA'");
	expect_bad("1 brk(NULL)\n", "t.trace:1: ", "no '= result'");
	expect_bad("1 <... mmap resumed>) = 0\n", "t.trace:1: ", "no unfinished call");
	expect_bad("1 munmap(0x1000, 4096 <unfinished ...>\n1 <... mmap resumed>) = 0\n",
		   "t.trace:2: ", "unfinished call is 'munmap");
	expect_bad("1 openat(AT_FDCWD, \"/x, O_RDONLY) = 3\n", "t.trace:1: ", "unbalanced");
	expect_bad("1 munmap(0x1000) = 0\n", "t.trace:1: ", "needs 2 arguments");
	expect_bad("1 close(3) = -1 EWHATEVER (Nope)\n", "t.trace:1: ", "unknown errno");
	expect_bad("1 +++ vanished +++\n", "t.trace:1: ", "unknown '+++' line");
}

TEST(interrupted_calls_and_blank_lines_carry_no_outcome)
{
	rp_trace tr;
	REQUIRE_EQ(parse(&tr, "\n3 munmap(0x1000, 4096) = ? ERESTARTSYS (To be restarted)\n"
			      "strace: Process 4 attached\n"), 0);
	REQUIRE_EQ(tr.n, 1);
	EXPECT_EQ(tr.ev[0].has_ret, 0);
	EXPECT_EQ(tr.ev[0].line, 2);
	rp_trace_free(&tr);
}

TEST(an_execve_by_a_thread_resumes_under_the_leader)
{
	rp_trace tr;
	REQUIRE_EQ(parse(&tr,
		"20 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0}, 88) = 21\n"
		"20 nanosleep({tv_sec=123, tv_nsec=0},  <unfinished ...>\n"
		"21 execve(\"/bin/true\", [\"true\", \"0\"], NULL <pid changed to 20 ...>\n"
		"20 <... nanosleep resumed> <unfinished ...>) = ?\n"
		"20 +++ superseded by execve in pid 21 +++\n"
		"20 <... execve resumed>) = 0\n"
		"20 +++ exited with 0 +++\n"), 0);
	REQUIRE_EQ(tr.n, 4);
	EXPECT_EQ(tr.ev[1].call, RP_OTHER);
	EXPECT_EQ(tr.ev[1].has_ret, 0);
	EXPECT_EQ(tr.ev[2].call, RP_EXECVE);
	EXPECT_EQ(tr.ev[2].pid, 20);
	EXPECT_EQ(tr.ev[2].ret, 0);
	EXPECT_EQ(tr.ev[2].line, 3);
	rp_trace_free(&tr);
}
