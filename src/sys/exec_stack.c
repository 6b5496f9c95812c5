/*
 * The initial process stack exec leaves behind (Linux's copy_strings, setup_arg_pages and
 * create_elf_tables), from the top of [stack] down:
 *
 *   top:  8 zero bytes | AT_EXECFN string | argv strings, envp strings
 *         (arch_align_stack: a random pad below 8 KiB, then 16-byte alignment)
 *         "x86_64" (AT_PLATFORM) | 16 random bytes (AT_RANDOM)
 *   sp:   argc | argv[] | NULL | envp[] | NULL | auxv pairs ... AT_NULL   (16-byte aligned)
 *
 * Writes go through the software MMU into the new mm, so the stack grows as needed.
 */
#include "sys/exec.h"

#include <errno.h>
#include <string.h>

#define AT_MINSIGSTKSZ_	51
#define X86_HWCAP	0x178bfbffULL	/* CPUID.1:EDX of a baseline x86-64 CPU */
#define X86_PLATFORM	"x86_64"

struct stk {
	struct mm_struct *mm;
	const struct mm_rlimit *rlim;
	int err;		/* first failure, sticky */
};

static void put(struct stk *s, uint64_t va, const void *buf, size_t len)
{
	struct mm_fault_info fi;
	if (!s->err && mm_access_rlim(s->mm, NULL, 0, va, (void *)buf, len, PM_WRITE, &fi,
				      s->rlim) < 0)
		s->err = -EFAULT;
}

static uint64_t stack_top(struct mm_struct *mm)
{
	uint64_t top = 0;
	pthread_rwlock_rdlock(&mm->lock);
	for (struct vma *v = vma_last(&mm->mt); v; v = vma_prev(&mm->mt, v))
		if (v->kind == VMA_STACK) {
			top = v->vm_end;
			break;
		}
	pthread_rwlock_unlock(&mm->lock);
	return top;
}

/* Fills the auxv in Linux's order (ARCH_DLINFO first). Returns the words used. UID and
 * GID values are 0: Peios identity lives in the token, not in Unix ids. */
static int fill_auxv(uint64_t *v, const struct exec_stack_in *in, uint64_t execfn,
		     uint64_t platform, uint64_t random)
{
	const uint64_t pairs[][2] = {
		{ AT_SYSINFO_EHDR, in->vdso }, { AT_MINSIGSTKSZ_, 3376 }, { AT_HWCAP, X86_HWCAP },
		{ AT_PAGESZ, PAGE_SIZE }, { AT_CLKTCK, 100 }, { AT_PHDR, in->prog->phdr },
		{ AT_PHENT, sizeof(Elf64_Phdr) }, { AT_PHNUM, in->phnum },
		{ AT_BASE, in->interp_base }, { AT_FLAGS, 0 }, { AT_ENTRY, in->prog->entry },
		{ AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 }, { AT_SECURE, 0 },
		{ AT_RANDOM, random }, { AT_EXECFN, execfn }, { AT_PLATFORM, platform },
		{ AT_NULL, 0 },
	};
	int n = 0;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]) && n + 2 <= PM_AUXV_WORDS; i++) {
		v[n++] = pairs[i][0];
		v[n++] = pairs[i][1];
	}
	return n;
}

/* argc, the argv and envp pointer arrays and the auxv, written at sp. */
static void put_tables(struct stk *s, uint64_t sp, const struct exec_args *a, uint64_t strs,
		       const uint64_t *auxv, int nauxv)
{
	uint64_t w = (uint64_t)a->argc, at = sp, p = strs;
	put(s, at, &w, 8);
	at += 8;
	for (int vec = 0; vec < 2; vec++) {
		int n = vec ? a->envc : a->argc;
		for (int i = 0; i < n; i++, at += 8) {
			put(s, at, &p, 8);
			p += strlen(a->strs + (p - strs)) + 1;
		}
		w = 0;
		put(s, at, &w, 8);
		at += 8;
	}
	put(s, at, auxv, (size_t)nauxv * 8);
}

int exec_stack_build(struct mm_struct *mm, const struct mm_rlimit *rlim,
		     const struct exec_stack_in *in, struct exec_new *out)
{
	struct stk s = { mm, rlim, 0 };
	const struct exec_args *a = in->args;
	uint64_t p = stack_top(mm) - 8, zero = 0;
	put(&s, p, &zero, 8);
	size_t fnlen = strlen(in->execfn) + 1;
	uint64_t execfn = p -= fnlen;
	put(&s, execfn, in->execfn, fnlen);
	uint64_t strs = p -= a->len;
	put(&s, strs, a->strs, a->len);
	p = (p - in->align_rnd) & ~15ULL;		/* arch_align_stack */
	uint64_t platform = p -= sizeof(X86_PLATFORM);
	put(&s, platform, X86_PLATFORM, sizeof(X86_PLATFORM));
	uint64_t random = p -= 16;
	put(&s, random, in->random, 16);
	out->nauxv = fill_auxv(out->auxv, in, execfn, platform, random);
	uint64_t items = (uint64_t)(a->argc + 1) + (uint64_t)(a->envc + 1) + 1;
	uint64_t sp = (p - (items + (uint64_t)out->nauxv) * 8) & ~15ULL;	/* STACK_ROUND */
	put_tables(&s, sp, a, strs, out->auxv, out->nauxv);
	out->sp = sp;
	return s.err;
}
