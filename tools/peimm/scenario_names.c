/*
 * The symbol tables of the scenario language: Linux x86-64 syscall numbers (plus the Peios
 * ones of peimm/abi.h), the symbolic constants scripts may OR together, errno names, and
 * signal and si_code names. Values are the Linux x86-64 UAPI numbers, written out so that a
 * script means the same on any host whatever its headers define. Tables are read-only;
 * nothing here talks to the library.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scenario.h"

typedef struct sc_sym { const char *name; long value; } sc_sym;

#define MAP_HUGE(shift) ((long)(shift) << 26)

static const sc_sym syscalls[] = {
	{ "read", 0 }, { "write", 1 }, { "open", 2 }, { "close", 3 }, { "stat", 4 },
	{ "fstat", 5 }, { "lstat", 6 }, { "lseek", 8 }, { "mmap", 9 }, { "mprotect", 10 },
	{ "munmap", 11 }, { "brk", 12 }, { "rt_sigaction", 13 }, { "ioctl", 16 },
	{ "pread64", 17 }, { "pwrite64", 18 }, { "readv", 19 }, { "writev", 20 },
	{ "sched_yield", 24 }, { "mremap", 25 }, { "msync", 26 }, { "mincore", 27 },
	{ "madvise", 28 }, { "shmget", 29 }, { "shmat", 30 }, { "shmctl", 31 }, { "dup", 32 },
	{ "dup2", 33 }, { "getpid", 39 }, { "clone", 56 }, { "fork", 57 }, { "vfork", 58 },
	{ "execve", 59 }, { "exit", 60 }, { "wait4", 61 }, { "kill", 62 }, { "shmdt", 67 },
	{ "fcntl", 72 }, { "fsync", 74 }, { "fdatasync", 75 }, { "truncate", 76 },
	{ "ftruncate", 77 }, { "getrlimit", 97 }, { "getrusage", 98 }, { "sysinfo", 99 },
	{ "getuid", 102 }, { "getppid", 110 }, { "mlock", 149 }, { "munlock", 150 },
	{ "mlockall", 151 }, { "munlockall", 152 }, { "prctl", 157 }, { "arch_prctl", 158 },
	{ "setrlimit", 160 }, { "gettid", 186 }, { "tkill", 200 }, { "futex", 202 },
	{ "remap_file_pages", 216 }, { "exit_group", 231 }, { "tgkill", 234 },
	{ "mbind", 237 }, { "set_mempolicy", 238 }, { "get_mempolicy", 239 },
	{ "waitid", 247 }, { "migrate_pages", 256 }, { "openat", 257 }, { "move_pages", 279 },
	{ "fallocate", 285 }, { "dup3", 292 }, { "prlimit64", 302 },
	{ "process_vm_readv", 310 }, { "process_vm_writev", 311 }, { "memfd_create", 319 },
	{ "userfaultfd", 323 }, { "mlock2", 325 }, { "pkey_mprotect", 329 },
	{ "pkey_alloc", 330 }, { "pkey_free", 331 }, { "pidfd_send_signal", 424 },
	{ "pidfd_open", 434 }, { "clone3", 435 }, { "process_madvise", 440 },
	{ "memfd_secret", 447 }, { "process_mrelease", 448 }, { "map_shadow_stack", 453 },
	{ "mseal", 462 },
	{ "kacs_open_self_token", PM_SYS_kacs_open_self_token },
	{ "kacs_open_process_token", PM_SYS_kacs_open_process_token },
	{ "kacs_open_thread_token", PM_SYS_kacs_open_thread_token },
	{ "kacs_set_psb", PM_SYS_kacs_set_psb },
	{ "kacs_impersonate_peer", PM_SYS_kacs_impersonate_peer },
	{ "kacs_revert", PM_SYS_kacs_revert }, { "kacs_get_sd", PM_SYS_kacs_get_sd },
	{ "kacs_set_sd", PM_SYS_kacs_set_sd }, { "kacs_access_check", PM_SYS_kacs_access_check },
};

static const sc_sym consts[] = {
	{ "PROT_NONE", 0 }, { "PROT_READ", 1 }, { "PROT_WRITE", 2 }, { "PROT_EXEC", 4 },
	{ "PROT_SEM", 8 }, { "PROT_GROWSDOWN", 0x01000000 }, { "PROT_GROWSUP", 0x02000000 },
	{ "MAP_SHARED", 1 }, { "MAP_PRIVATE", 2 }, { "MAP_SHARED_VALIDATE", 3 },
	{ "MAP_DROPPABLE", 8 }, { "MAP_TYPE", 0xf }, { "MAP_FIXED", 0x10 },
	{ "MAP_ANONYMOUS", 0x20 }, { "MAP_ANON", 0x20 }, { "MAP_32BIT", 0x40 },
	{ "MAP_GROWSDOWN", 0x100 }, { "MAP_DENYWRITE", 0x800 }, { "MAP_EXECUTABLE", 0x1000 },
	{ "MAP_LOCKED", 0x2000 }, { "MAP_NORESERVE", 0x4000 }, { "MAP_POPULATE", 0x8000 },
	{ "MAP_NONBLOCK", 0x10000 }, { "MAP_STACK", 0x20000 }, { "MAP_HUGETLB", 0x40000 },
	{ "MAP_SYNC", 0x80000 }, { "MAP_FIXED_NOREPLACE", 0x100000 },
	{ "MAP_UNINITIALIZED", 0x4000000 }, { "MAP_HUGE_SHIFT", 26 }, { "MAP_HUGE_MASK", 0x3f },
	{ "MAP_HUGE_2MB", MAP_HUGE(21) }, { "MAP_HUGE_1GB", MAP_HUGE(30) },
	{ "MAP_FAILED", -1 },
	{ "MREMAP_MAYMOVE", 1 }, { "MREMAP_FIXED", 2 }, { "MREMAP_DONTUNMAP", 4 },
	{ "MADV_NORMAL", 0 }, { "MADV_RANDOM", 1 }, { "MADV_SEQUENTIAL", 2 },
	{ "MADV_WILLNEED", 3 }, { "MADV_DONTNEED", 4 }, { "MADV_FREE", 8 }, { "MADV_REMOVE", 9 },
	{ "MADV_DONTFORK", 10 }, { "MADV_DOFORK", 11 }, { "MADV_MERGEABLE", 12 },
	{ "MADV_UNMERGEABLE", 13 }, { "MADV_HUGEPAGE", 14 }, { "MADV_NOHUGEPAGE", 15 },
	{ "MADV_DONTDUMP", 16 }, { "MADV_DODUMP", 17 }, { "MADV_WIPEONFORK", 18 },
	{ "MADV_KEEPONFORK", 19 }, { "MADV_COLD", 20 }, { "MADV_PAGEOUT", 21 },
	{ "MADV_POPULATE_READ", 22 }, { "MADV_POPULATE_WRITE", 23 },
	{ "MADV_DONTNEED_LOCKED", 24 }, { "MADV_COLLAPSE", 25 }, { "MADV_HWPOISON", 100 },
	{ "MADV_SOFT_OFFLINE", 101 }, { "MADV_GUARD_INSTALL", 102 },
	{ "MADV_GUARD_REMOVE", 103 },
	{ "MLOCK_ONFAULT", 1 }, { "MCL_CURRENT", 1 }, { "MCL_FUTURE", 2 }, { "MCL_ONFAULT", 4 },
	{ "MS_ASYNC", 1 }, { "MS_INVALIDATE", 2 }, { "MS_SYNC", 4 },
	{ "O_RDONLY", 0 }, { "O_WRONLY", 1 }, { "O_RDWR", 2 }, { "O_CREAT", 0x40 },
	{ "O_EXCL", 0x80 }, { "O_NOCTTY", 0x100 }, { "O_TRUNC", 0x200 }, { "O_APPEND", 0x400 },
	{ "O_NONBLOCK", 0x800 }, { "O_DSYNC", 0x1000 }, { "O_DIRECT", 0x4000 },
	{ "O_LARGEFILE", 0x8000 }, { "O_DIRECTORY", 0x10000 }, { "O_NOFOLLOW", 0x20000 },
	{ "O_NOATIME", 0x40000 }, { "O_CLOEXEC", 0x80000 }, { "O_SYNC", 0x101000 },
	{ "O_PATH", 0x200000 }, { "O_TMPFILE", 0x410000 }, { "AT_FDCWD", -100 },
	{ "F_DUPFD", 0 }, { "F_GETFD", 1 }, { "F_SETFD", 2 }, { "F_GETFL", 3 }, { "F_SETFL", 4 },
	{ "F_DUPFD_CLOEXEC", 1030 }, { "F_ADD_SEALS", 1033 }, { "F_GET_SEALS", 1034 },
	{ "F_SEAL_SEAL", 1 }, { "F_SEAL_SHRINK", 2 }, { "F_SEAL_GROW", 4 },
	{ "F_SEAL_WRITE", 8 }, { "F_SEAL_FUTURE_WRITE", 0x10 }, { "F_SEAL_EXEC", 0x20 },
	{ "FD_CLOEXEC", 1 },
	{ "MFD_CLOEXEC", 1 }, { "MFD_ALLOW_SEALING", 2 }, { "MFD_HUGETLB", 4 },
	{ "MFD_NOEXEC_SEAL", 8 }, { "MFD_EXEC", 0x10 }, { "MFD_HUGE_2MB", MAP_HUGE(21) },
	{ "MFD_HUGE_1GB", MAP_HUGE(30) },
	{ "PR_SET_PDEATHSIG", 1 }, { "PR_GET_DUMPABLE", 3 }, { "PR_SET_DUMPABLE", 4 },
	{ "PR_SET_NAME", 15 }, { "PR_GET_NAME", 16 }, { "PR_SET_MM", 35 },
	{ "PR_SET_THP_DISABLE", 41 }, { "PR_GET_THP_DISABLE", 42 }, { "PR_SET_MDWE", 65 },
	{ "PR_GET_MDWE", 66 }, { "PR_MDWE_REFUSE_EXEC_GAIN", 1 }, { "PR_SET_MEMORY_MERGE", 67 },
	{ "PR_GET_MEMORY_MERGE", 68 }, { "PR_SET_VMA", 0x53564d41 }, { "PR_SET_VMA_ANON_NAME", 0 },
	{ "PR_SET_DYNAMIC_CODE_POLICY", PR_SET_DYNAMIC_CODE_POLICY },
	{ "PR_GET_DYNAMIC_CODE_POLICY", PR_GET_DYNAMIC_CODE_POLICY },
	{ "PKEY_DISABLE_ACCESS", 1 }, { "PKEY_DISABLE_WRITE", 2 },
	{ "RLIMIT_CPU", 0 }, { "RLIMIT_FSIZE", 1 }, { "RLIMIT_DATA", 2 }, { "RLIMIT_STACK", 3 },
	{ "RLIMIT_CORE", 4 }, { "RLIMIT_RSS", 5 }, { "RLIMIT_NPROC", 6 }, { "RLIMIT_NOFILE", 7 },
	{ "RLIMIT_MEMLOCK", 8 }, { "RLIMIT_AS", 9 }, { "RLIM_INFINITY", -1 },
	{ "CLONE_VM", 0x100 }, { "CLONE_FS", 0x200 }, { "CLONE_FILES", 0x400 },
	{ "CLONE_SIGHAND", 0x800 }, { "CLONE_VFORK", 0x4000 }, { "CLONE_THREAD", 0x10000 },
	{ "PIDFD_NONBLOCK", 0x800 },
	{ "PM_READ", PM_READ }, { "PM_WRITE", PM_WRITE }, { "PM_EXEC", PM_EXEC },
	{ "PROCESS_TERMINATE", PROCESS_TERMINATE },
	{ "PROCESS_CREATE_THREAD", PROCESS_CREATE_THREAD },
	{ "PROCESS_VM_OPERATION", PROCESS_VM_OPERATION }, { "PROCESS_VM_READ", PROCESS_VM_READ },
	{ "PROCESS_VM_WRITE", PROCESS_VM_WRITE }, { "PROCESS_DUP_HANDLE", PROCESS_DUP_HANDLE },
	{ "PROCESS_CREATE_PROCESS", PROCESS_CREATE_PROCESS },
	{ "PROCESS_SET_QUOTA", PROCESS_SET_QUOTA },
	{ "PROCESS_SET_INFORMATION", PROCESS_SET_INFORMATION },
	{ "PROCESS_QUERY_INFORMATION", PROCESS_QUERY_INFORMATION },
	{ "PROCESS_SUSPEND_RESUME", PROCESS_SUSPEND_RESUME },
	{ "PROCESS_QUERY_LIMITED_INFORMATION", PROCESS_QUERY_LIMITED_INFORMATION },
	{ "PM_PIP_NONE", PM_PIP_NONE }, { "PM_PIP_PROTECTED", PM_PIP_PROTECTED },
	{ "PM_PIP_ISOLATED", PM_PIP_ISOLATED }, { "PM_PIP_TRUST_MAX", PM_PIP_TRUST_MAX },
	{ "PM_IL_UNTRUSTED", PM_IL_UNTRUSTED }, { "PM_IL_LOW", PM_IL_LOW },
	{ "PM_IL_MEDIUM", PM_IL_MEDIUM }, { "PM_IL_HIGH", PM_IL_HIGH },
	{ "PM_IL_SYSTEM", PM_IL_SYSTEM },
	{ "PAGE_SIZE", 4096 }, { "HPAGE_SIZE", 2L << 20 }, { "GPAGE_SIZE", 1L << 30 },
};

/* Errnos; the first name of a value is the one results print. */
static const sc_sym errnos[] = {
	{ "EPERM", 1 }, { "ENOENT", 2 }, { "ESRCH", 3 }, { "EINTR", 4 }, { "EIO", 5 },
	{ "ENXIO", 6 }, { "E2BIG", 7 }, { "ENOEXEC", 8 }, { "EBADF", 9 }, { "ECHILD", 10 },
	{ "EAGAIN", 11 }, { "EWOULDBLOCK", 11 }, { "ENOMEM", 12 }, { "EACCES", 13 },
	{ "EFAULT", 14 }, { "ENOTBLK", 15 }, { "EBUSY", 16 }, { "EEXIST", 17 }, { "EXDEV", 18 },
	{ "ENODEV", 19 }, { "ENOTDIR", 20 }, { "EISDIR", 21 }, { "EINVAL", 22 },
	{ "ENFILE", 23 }, { "EMFILE", 24 }, { "ENOTTY", 25 }, { "ETXTBSY", 26 }, { "EFBIG", 27 },
	{ "ENOSPC", 28 }, { "ESPIPE", 29 }, { "EROFS", 30 }, { "EMLINK", 31 }, { "EPIPE", 32 },
	{ "EDOM", 33 }, { "ERANGE", 34 }, { "EDEADLK", 35 }, { "ENAMETOOLONG", 36 },
	{ "ENOLCK", 37 }, { "ENOSYS", 38 }, { "ENOTEMPTY", 39 }, { "ELOOP", 40 },
	{ "ENODATA", 61 }, { "EOVERFLOW", 75 }, { "EBADFD", 77 }, { "EOPNOTSUPP", 95 },
	{ "ENOTSUP", 95 }, { "ETIMEDOUT", 110 }, { "ECANCELED", 125 }, { "EOWNERDEAD", 130 },
	{ "EHWPOISON", 133 },
};

static const sc_sym signals[] = {
	{ "SIGHUP", 1 }, { "SIGINT", 2 }, { "SIGQUIT", 3 }, { "SIGILL", 4 }, { "SIGTRAP", 5 },
	{ "SIGABRT", 6 }, { "SIGBUS", 7 }, { "SIGFPE", 8 }, { "SIGKILL", 9 }, { "SIGUSR1", 10 },
	{ "SIGSEGV", 11 }, { "SIGUSR2", 12 }, { "SIGPIPE", 13 }, { "SIGALRM", 14 },
	{ "SIGTERM", 15 }, { "SIGCHLD", 17 }, { "SIGCONT", 18 }, { "SIGSTOP", 19 },
};

static const sc_sym segv_codes[] = {
	{ "SEGV_MAPERR", 1 }, { "SEGV_ACCERR", 2 }, { "SEGV_BNDERR", 3 }, { "SEGV_PKUERR", 4 },
};

static const sc_sym bus_codes[] = {
	{ "BUS_ADRALN", 1 }, { "BUS_ADRERR", 2 }, { "BUS_OBJERR", 3 }, { "BUS_MCEERR_AR", 4 },
	{ "BUS_MCEERR_AO", 5 },
};

#define NSYMS(a) (sizeof(a) / sizeof((a)[0]))

static int by_name(const sc_sym *t, size_t n, const char *name, long *v)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name)) {
			*v = t[i].value;
			return 1;
		}
	return 0;
}

static const char *by_value(const sc_sym *t, size_t n, long v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return NULL;
}

/* Syscall names are case-insensitive; returns 1 and *nr when known. */
int sc_syscall_nr(const char *name, long *nr)
{
	for (size_t i = 0; i < NSYMS(syscalls); i++)
		if (!strcasecmp(syscalls[i].name, name)) {
			*nr = syscalls[i].value;
			return 1;
		}
	return 0;
}

/* Any constant a script may name: flags, errnos, signals and si_codes (case-sensitive). */
int sc_const_value(const char *name, long *v)
{
	return by_name(consts, NSYMS(consts), name, v) || by_name(errnos, NSYMS(errnos), name, v) ||
	       by_name(signals, NSYMS(signals), name, v) ||
	       by_name(segv_codes, NSYMS(segv_codes), name, v) ||
	       by_name(bus_codes, NSYMS(bus_codes), name, v);
}

/* "EINVAL" for -22 or 22; NULL when unknown. */
const char *sc_errno_name(long err)
{
	return by_value(errnos, NSYMS(errnos), err < 0 ? -err : err);
}

const char *sc_signal_name(int sig)
{
	return by_value(signals, NSYMS(signals), sig);
}

/* The si_code name in the family of sig (SEGV_* for SIGSEGV, BUS_* for SIGBUS). */
const char *sc_code_name(int sig, int code)
{
	if (sig == 11)
		return by_value(segv_codes, NSYMS(segv_codes), code);
	if (sig == 7)
		return by_value(bus_codes, NSYMS(bus_codes), code);
	return NULL;
}

/* Entry i of the syscall table and of the constants (flags, errnos, signals), NULL past
 * the end: the names the shell completes. */
const char *sc_syscall_name(size_t i)
{
	return i < NSYMS(syscalls) ? syscalls[i].name : NULL;
}

const char *sc_const_name(size_t i)
{
	const struct { const sc_sym *t; size_t n; } all[] = {
		{ consts, NSYMS(consts) }, { errnos, NSYMS(errnos) }, { signals, NSYMS(signals) },
		{ segv_codes, NSYMS(segv_codes) }, { bus_codes, NSYMS(bus_codes) },
	};
	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
		if (i < all[k].n)
			return all[k].t[i].name;
		i -= all[k].n;
	}
	return NULL;
}

void sc_list_syscalls(void)
{
	for (size_t i = 0; i < NSYMS(syscalls); i++)
		printf("%s%s", i ? (i % 6 ? " " : "\n  ") : "  ", syscalls[i].name);
	printf("\n");
}
