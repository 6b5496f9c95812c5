/*
 * The initial address space (SPEC §2): where the stack, the mmap base, the heap and the
 * vvar/vdso pages go, under randomize_va_space 0, 1 or 2, with every random draw from the
 * system's seeded generator so one seed gives one layout. Mirrors Linux's
 * arch_pick_mmap_layout, randomize_stack_top and arch_randomize_brk, with the entropy
 * ranges of SPEC §2 (a deliberate difference from Linux, SPEC §13).
 */
#include "mm/mm_internal.h"

#include <errno.h>

#define STACK_TOP	0x00007ffffffff000ULL	/* TASK_SIZE_LOW */
#define STACK_RND	(8ULL << 20)		/* stack base entropy: 8 MiB */
#define MMAP_RND	(1ULL << 30)		/* mmap base entropy: 1 GiB */
#define BRK_RND		(32ULL << 20)		/* heap base entropy: 32 MiB */
#define PIE_RND		(1ULL << 30)		/* program base entropy: 1 GiB */
#define ET_DYN_BASE	0x0000555555554000ULL	/* ELF_ET_DYN_BASE: 2/3 of TASK_SIZE_LOW */
#define INITIAL_STACK	0x21000ULL		/* 132 KiB: what Linux's setup_arg_pages leaves */
#define MIN_GAP		(128ULL << 20)
#define STACK_FLAGS	(VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | \
			 VM_GROWSDOWN | VM_ACCOUNT)
#define VVAR_FLAGS	(VM_READ | VM_MAYREAD | VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_DONTDUMP)
#define VDSO_FLAGS	(VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTEXPAND)

/* A page-aligned random offset below `range` bytes, or 0 when not randomising. */
static uint64_t rnd_pages(struct prng *rng, int on, uint64_t range)
{
	return on ? prng_below(rng, range >> PAGE_SHIFT) << PAGE_SHIFT : 0;
}

/* mmap_base: below the stack, its rlimit-sized gap, the guard gap and the stack's own
 * random pad (mmap_base() in arch/x86/mm/mmap.c). */
static uint64_t pick_mmap_base(struct mm_struct *mm, struct prng *rng, int rnd,
			       const struct mm_rlimit *rlim)
{
	uint64_t gap = rlim[RLIMIT_STACK].cur, pad = STACK_RND + mm->sys->stack_guard_gap;
	if (gap + pad > gap)
		gap += pad;
	if (gap < MIN_GAP)
		gap = MIN_GAP;
	if (gap > STACK_TOP / 6 * 5)
		gap = STACK_TOP / 6 * 5;
	return page_align_down(STACK_TOP - gap - rnd_pages(rng, rnd, MMAP_RND));
}

static long map_special(struct mm_struct *mm, const struct mm_caller *c, uint64_t addr,
			uint64_t len, uint64_t vf, struct vm_object *obj, int kind)
{
	return mm_mmap_region(mm, c, addr, len, vf, obj, 0, kind, 0);
}

/* [vvar] (4 pages), [vvar_vclock] (2 pages) and [vdso] (2 pages), side by side at the top
 * of the mmap area, as Linux 6.x places them. */
static int map_vdso(struct mm_struct *mm, const struct mm_caller *c, const struct mm_layout_objs *o)
{
	uint64_t total = 8 * PAGE_SIZE, addr;
	if (vma_gap_topdown(&mm->mt, total, 0, max_u64(PAGE_SIZE, mm->sys->mmap_min_addr),
			    mm->mmap_base, &addr))
		return -ENOMEM;
	long r = map_special(mm, c, addr, 4 * PAGE_SIZE, VVAR_FLAGS, o->vvar, VMA_VVAR);
	if (r >= 0)
		r = map_special(mm, c, addr + 4 * PAGE_SIZE, 2 * PAGE_SIZE, VVAR_FLAGS, o->vvar_vclock,
				VMA_VVAR_VCLOCK);
	if (r >= 0)
		r = map_special(mm, c, addr + 6 * PAGE_SIZE, 2 * PAGE_SIZE, VDSO_FLAGS, o->vdso, VMA_VDSO);
	return r < 0 ? (int)r : 0;
}

int mm_setup_layout(struct mm_struct *mm, struct prng *rng, const struct mm_rlimit *rlim,
		    const struct mm_layout_objs *objs)
{
	int mode = mm->sys->randomize_va_space;
	struct mm_caller c = { .rlim = rlim, .token = NULL };
	uint64_t stack_top = STACK_TOP - rnd_pages(rng, mode >= 1, STACK_RND);

	pthread_rwlock_wrlock(&mm->lock);
	mm->mmap_base = pick_mmap_base(mm, rng, mode >= 1, rlim);
	mm->mmap_legacy_base = page_align_up(STACK_TOP / 3);
	/* Mode 1 keeps the program and heap where they are (SPEC §2, following the seed). */
	uint64_t base = ET_DYN_BASE + rnd_pages(rng, mode >= 2, PIE_RND);
	mm->start_code = mm->end_code = mm->start_data = mm->end_data = base;
	mm->start_brk = mm->brk = base + rnd_pages(rng, mode >= 2, BRK_RND);
	mm->start_stack = stack_top - 2 * sizeof(uint64_t);

	long r = mm_mmap_region(mm, &c, stack_top - INITIAL_STACK, INITIAL_STACK, STACK_FLAGS,
				NULL, (stack_top - INITIAL_STACK) >> PAGE_SHIFT, VMA_STACK, 0);
	if (r >= 0 && objs)
		r = map_vdso(mm, &c, objs);
	pthread_rwlock_unlock(&mm->lock);
	return r < 0 ? (int)r : 0;
}
