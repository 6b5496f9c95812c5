/*
 * exec's private pieces (sys only): the argument and environment strings copied out of
 * the caller, and a new program image built in a fresh address space but not yet
 * installed. exec builds everything first and installs it in one step that cannot fail,
 * so a failed exec leaves the process exactly as it was (SPEC §3).
 */
#ifndef PM_SYS_EXEC_H
#define PM_SYS_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "sys/elf_load.h"
#include "sys/sys.h"

/* argv then envp strings, each NUL-terminated, packed in order. */
struct exec_args {
	char *strs;			/* kmem, cap bytes */
	size_t len, cap;		/* bytes used / allocated */
	int argc, envc;
	struct kmem *km;		/* immutable */
};

/* A built image waiting to be installed. */
struct exec_new {
	struct mm_struct *mm;		/* one user; fully set up */
	struct fd_table *files;		/* an unshared copy of the fd table, or NULL */
	uint64_t entry;			/* first instruction: the interpreter's entry, else the image's */
	uint64_t sp;			/* initial stack pointer (points at argc) */
	uint64_t auxv[PM_AUXV_WORDS];	/* the auxiliary vector, AT_NULL pair included */
	int nauxv;			/* words used in auxv */
	char comm[16];			/* the file's basename, 15 characters at most */
	uint32_t pip_type, pip_trust;	/* the image's PSB values (no signatures yet: None/0) */
};

/* What the stack builder needs besides the strings. */
struct exec_stack_in {
	const struct exec_args *args;
	const char *execfn;		/* the path as given (AT_EXECFN) */
	const struct elf_placed *prog;	/* the program image */
	uint64_t phnum;			/* its e_phnum */
	uint64_t interp_base;		/* AT_BASE: the interpreter's bias, or 0 */
	uint64_t vdso;			/* AT_SYSINFO_EHDR: start of [vdso] */
	uint8_t random[16];		/* AT_RANDOM's bytes, from the system PRNG */
	uint64_t align_rnd;		/* bytes arch_align_stack takes off (randomised), < 8192 */
};

/* exec_args.c */
void exec_args_init(struct exec_args *a, struct kmem *km);
void exec_args_free(struct exec_args *a);
/* Appends one string (len bytes plus its NUL). 0 or -ENOMEM (a unchanged). */
int exec_args_push(struct exec_args *a, const char *s, size_t len);
/* Copies the NULL-terminated vectors argv and envp (addresses in t's memory; 0 = empty)
 * into *a, within Linux's limits for stack_limit = RLIMIT_STACK. 0, -EFAULT, -E2BIG or
 * -ENOMEM; on failure *a may hold some strings (exec_args_free them). An empty argv gets
 * one empty string, as Linux 5.18+ does. */
int exec_args_copy(struct pm_thread *t, uint64_t argv, uint64_t envp, uint64_t stack_limit,
		   struct exec_args *a);

/* exec_stack.c: writes strings, the random bytes, argc, the pointer vectors and the auxv
 * at the top of mm's [stack] (growing it within rlim) and fills out->sp and out->auxv.
 * 0 or -EFAULT/-ENOMEM (stack growth refused). */
int exec_stack_build(struct mm_struct *mm, const struct mm_rlimit *rlim,
		     const struct exec_stack_in *in, struct exec_new *out);

/* exec.c: builds the image at path in a new mm. 0 or -errno (see sys_execve); nothing
 * outside *out changes, and on failure *out holds nothing. */
int exec_build(struct pm_system *sys, const struct mm_rlimit *rlim, const char *path,
	       const struct exec_args *args, struct exec_new *out);
/* Installs n in t's process: other threads end, the mm and (if unshared) the fd table are
 * replaced, the old ones released; PKRU and the TLB reset; close-on-exec fds close; comm
 * and the exec info change. Cannot fail. */
void exec_install(struct pm_thread *t, struct exec_new *n);

#endif
