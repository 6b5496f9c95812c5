/*
 * The tour's security steps. W^X: a JIT writes code and asks for RX, is refused (also by
 * the two-step RW -> R -> RX), opts in with the dynamic-code prctl and is allowed, and
 * cannot re-arm W^X while W+X memory exists. The gates: another user's process_vm_readv is
 * refused and SeDebugPrivilege rescues it; a PIP-protected process stays untouchable even
 * with SeDebug; and an impersonating thread cannot read its own /proc/self/mem, because
 * reading yourself runs the same AccessCheck with the thread's effective token.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "tour.h"
#include <peimm/abi.h>

#define PG 4096L
#define W 0x200000000000L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)
#define RX (PROT_READ | PROT_EXEC)
#define ALICE "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"
#define BOB "user=S-1-5-21-1-1002 groups=S-1-5-32-545,S-1-1-0 il=medium"
#define BOB_DEBUG "user=S-1-5-21-1-1002 groups=S-1-5-32-545,S-1-1-0 il=high " \
		  "privs=SeDebugPrivilege:enabled"

static long sc(pm_thread *t, long nr, long a1, long a2, long a3)
{
	return pm_syscall(t, nr, a1, a2, a3, 0, 0, 0);
}

static long map_rw(pm_thread *t, long addr, long len)
{
	return pm_syscall(t, SYS_mmap, addr, len, RW, ANON | MAP_FIXED, -1, 0);
}

int tour_wx(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "W^X and the dynamic-code opt-in",
		     "Every process starts with W^X on: memory is never writable and executable at\n"
		     "once, and a mapping that was ever writable never becomes executable. A JIT opts\n"
		     "in with prctl(PR_SET_DYNAMIC_CODE_POLICY, 1); re-arming is refused while W+X exists.");
	pm_system *sys = tour_system(21);
	pm_thread *jit = tour_spawn(sys, ALICE, NULL);
	static const uint8_t code[] = { 0x48, 0x31, 0xc0, 0xc3 };	/* xor rax,rax; ret */
	map_rw(jit, W, PG);
	pm_access(jit, W, (void *)code, sizeof(code), PM_WRITE, NULL);
	tour_say(t, "the JIT mapped one RW page at 0x%lx and wrote 4 bytes of machine code", W);
	long a = tour_call(t, "mprotect(code, 1 page, PROT_READ|PROT_EXEC)", sc(jit, SYS_mprotect, W, PG, RX));
	tour_call(t, "mprotect(code, 1 page, PROT_READ)", sc(jit, SYS_mprotect, W, PG, PROT_READ));
	long b = tour_call(t, "mprotect(code, 1 page, PROT_READ|PROT_EXEC)", sc(jit, SYS_mprotect, W, PG, RX));
	tour_check(t, a == -EACCES && b == -EACCES, "RW -> RX and RW -> R -> RX are both refused");
	long c = tour_call(t, "prctl(PR_SET_DYNAMIC_CODE_POLICY, 1)",
			   sc(jit, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 1, 0));
	long d = tour_call(t, "mprotect(code, 1 page, PROT_READ|PROT_EXEC)", sc(jit, SYS_mprotect, W, PG, RX));
	uint8_t fetched[4] = { 0 };
	long e = pm_access(jit, W, fetched, sizeof(fetched), PM_EXEC, NULL);
	tour_check(t, c == 0 && d == 0 && e == 4 && !memcmp(fetched, code, 4),
		   "after the opt-in the page is RX and the MMU fetches the code from it");
	tour_call(t, "mprotect(code, 1 page, PROT_READ|PROT_WRITE|PROT_EXEC)",
		  sc(jit, SYS_mprotect, W, PG, RW | PROT_EXEC));
	long f = tour_call(t, "prctl(PR_SET_DYNAMIC_CODE_POLICY, 0)",
			   sc(jit, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 0, 0));
	tour_call(t, "munmap(code, 1 page)", sc(jit, SYS_munmap, W, PG, 0));
	long g = tour_call(t, "prctl(PR_SET_DYNAMIC_CODE_POLICY, 0)",
			   sc(jit, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 0, 0));
	tour_check(t, f == -EACCES && g == 0, "W^X re-arms only once no W+X memory is left");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}

/* process_vm_readv of 8 bytes at `remote` in pid into the reader's page at W; returns the
 * result and leaves what arrived in *got. The iovecs live in the reader's own memory. */
static long vm_read(pm_thread *reader, int pid, uint64_t remote, uint64_t *got)
{
	struct iovec iov[2] = { { (void *)(W + 256), 8 }, { (void *)remote, 8 } };
	pm_access(reader, W, iov, sizeof(iov), PM_WRITE, NULL);
	long r = pm_syscall(reader, SYS_process_vm_readv, pid, W, 1, W + sizeof(iov[0]), 1, 0);
	*got = 0;
	pm_access(reader, W + 256, got, sizeof(*got), PM_READ, NULL);
	return r;
}

int tour_gates(struct tour *t)
{
	int before = t->failed_checks;
	tour_section(t, "Cross-process gates",
		     "Touching another process's memory runs two checks: AccessCheck of the caller's\n"
		     "token against the target's security descriptor, then PIP dominance. There is no\n"
		     "parent fast path and no self bypass. SeDebugPrivilege rescues only the first check.");
	pm_system *sys = tour_system(22);
	pm_thread *alice = tour_spawn(sys, ALICE, NULL);
	pm_spawn_opts prot = { .pip_type = PM_PIP_PROTECTED, .pip_trust = 4096 };
	pm_thread *guarded = tour_spawn(sys, ALICE, &prot);
	pm_thread *bob = tour_spawn(sys, BOB, NULL);
	pm_thread *debugger = tour_spawn(sys, BOB_DEBUG, NULL);
	uint64_t secret = 0x5ec2e75ec2e7ULL, got;
	for (pm_thread **p = (pm_thread *[]){ alice, guarded, bob, debugger, NULL }; *p; p++) {
		map_rw(*p, W, PG);
		pm_access(*p, W + 512, &secret, sizeof(secret), PM_WRITE, NULL);
	}
	tour_say(t, "alice (pid %d) and a PIP-protected process of hers (pid %d) hold a secret at 0x%lx",
		 pm_pid(alice), pm_pid(guarded), W + 512);
	long a = tour_call(t, "bob:      process_vm_readv(alice, 8 bytes)", vm_read(bob, pm_pid(alice), W + 512, &got));
	tour_check(t, a == -EPERM && got == 0, "another user's memory is refused (EPERM, as Linux)");
	long b = tour_call(t, "debugger: process_vm_readv(alice, 8 bytes)",
			   vm_read(debugger, pm_pid(alice), W + 512, &got));
	tour_check(t, b == 8 && got == secret, "SeDebugPrivilege, enabled, rescues the SD check");
	long c = tour_call(t, "debugger: process_vm_readv(protected, 8 bytes)",
			   vm_read(debugger, pm_pid(guarded), W + 512, &got));
	long d = tour_call(t, "alice:    process_vm_readv(protected, 8 bytes)",
			   vm_read(alice, pm_pid(guarded), W + 512, &got));
	long e = tour_call(t, "debugger: kill(protected, SIGKILL)", sc(debugger, SYS_kill, pm_pid(guarded), 9, 0));
	tour_check(t, c == -EPERM && d == -EPERM && e == -EACCES,
		   "a protected process is untouchable, even with SeDebug, even by its own user");
	tour_say(t, "each denial and each privilege-rescued grant is one line of the audit log:");
	tour_show(t, tour_spawn(sys, "system", NULL), -1, "peios/audit", "process_vm_readv");

	int err;
	pm_token *client = pm_token_parse(sys, "user=S-1-5-21-1-1003 groups=S-1-1-0 il=medium", &err);
	uint64_t mine;
	long f = tour_call(t, "alice: pread(/proc/self/mem, 8 bytes)",
			   pm_proc_read(alice, 0, "mem", &mine, sizeof(mine), W + 512));
	pm_impersonate(alice, client);
	long g = tour_call(t, "alice, impersonating a client: pread(/proc/self/mem, 8 bytes)",
			   pm_proc_read(alice, 0, "mem", &mine, sizeof(mine), W + 512));
	pm_revert(alice);
	pm_token_put(client);
	tour_check(t, f == 8 && g == -EACCES,
		   "reading yourself uses the effective token: the client may not read alice's memory");
	pm_system_destroy(sys);
	return t->failed_checks == before;
}
