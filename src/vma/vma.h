/*
 * The VMA: one virtual memory area of a process, and the index of all of them, a B-tree
 * keyed by address whose nodes carry the largest free gap below them (Linux's maple tree
 * with MT_FLAGS_ALLOC_RANGE plays this role), so find, insert, remove and get_unmapped_area
 * are O(log n). VMAs are also linked in address order for O(1) next/prev. This layer knows
 * ranges, flags and identities only: it never follows vm_obj or anon, and never allocates
 * a struct vma (its owner, mm, does). Callers hold the mm lock for writing to change it.
 */
#ifndef PM_VMA_H
#define PM_VMA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/list.h"

struct kmem;
struct vm_object;	/* backing object (obj layer); opaque here */
struct anon_vma;	/* anonymous-memory identity (mm layer); opaque here */
struct mm_struct;

/* VM_* flags: Linux's values (include/linux/mm.h) where Linux has the flag. */
#define VM_NONE		0x00000000ULL
#define VM_READ		0x00000001ULL
#define VM_WRITE	0x00000002ULL
#define VM_EXEC		0x00000004ULL
#define VM_SHARED	0x00000008ULL
#define VM_MAYREAD	0x00000010ULL
#define VM_MAYWRITE	0x00000020ULL
#define VM_MAYEXEC	0x00000040ULL
#define VM_MAYSHARE	0x00000080ULL
#define VM_GROWSDOWN	0x00000100ULL
#define VM_PFNMAP	0x00000400ULL
#define VM_MAYBE_GUARD	0x00000800ULL	/* guard markers were installed ("gu"); sticky */
#define VM_LOCKED	0x00002000ULL
#define VM_IO		0x00004000ULL
#define VM_SEQ_READ	0x00008000ULL
#define VM_RAND_READ	0x00010000ULL
#define VM_DONTCOPY	0x00020000ULL
#define VM_DONTEXPAND	0x00040000ULL
#define VM_LOCKONFAULT	0x00080000ULL
#define VM_ACCOUNT	0x00100000ULL
#define VM_NORESERVE	0x00200000ULL
#define VM_HUGETLB	0x00400000ULL
#define VM_SYNC		0x00800000ULL
#define VM_WIPEONFORK	0x02000000ULL
#define VM_DONTDUMP	0x04000000ULL
#define VM_SOFTDIRTY	0x08000000ULL
#define VM_MIXEDMAP	0x10000000ULL
#define VM_HUGEPAGE	0x20000000ULL
#define VM_NOHUGEPAGE	0x40000000ULL
#define VM_MERGEABLE	0x80000000ULL
/* MAP_DROPPABLE (Linux 6.11+, "dp"): reclaim discards its pages, even dirty ones, instead
 * of swapping them; never mlocked, wiped on fork, not dumped, not committed. */
#define VM_DROPPABLE	(1ULL << 40)
#define VM_SEALED	(1ULL << 42)
/* Peios W^X history (SPEC §4): set once the mapping has been writable / executable in this
 * process; never cleared while the VMA lives; carried through split, merge and mremap. */
#define VM_WAS_WRITE	(1ULL << 48)
#define VM_WAS_EXEC	(1ULL << 49)
/* Peios embedded images: anonymous frames of this mapping are handed out unzeroed
 * (MAP_UNINITIALIZED, SPEC §5). */
#define VM_UNINITIALIZED (1ULL << 50)
/* A private hugetlb VMA that owns no pool reservation (a fork child's, as on Linux). */
#define VM_HUGE_NORESV	(1ULL << 51)
/* An anonymous VMA a fork child inherited with its pages (Linux: its anon_vma chain has
 * a parent). It never merges with a neighbour lacking anon memory (vma_had_uncowed_parents);
 * as a flag it keeps such pairs apart, and splits of one VMA still merge back. */
#define VM_ANON_FORKED	(1ULL << 52)
/* Kernel-made mappings that must not merge with user ones. */
#define VM_SPECIAL	(VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP)

/* What a VMA is, for /proc names and special handling. */
enum vma_kind {
	VMA_NORMAL = 0,
	VMA_HEAP,	/* [heap]: the brk area */
	VMA_STACK,	/* [stack]: the initial process stack */
	VMA_VDSO,	/* [vdso] */
	VMA_VVAR,	/* [vvar] */
	VMA_VVAR_VCLOCK,/* [vvar_vclock] */
	VMA_VSYSCALL,	/* [vsyscall] (never in the tree: it lies above the user range) */
};

struct vma {
	uint64_t vm_start;		/* first byte; page aligned */
	uint64_t vm_end;		/* first byte after the area (exclusive); page aligned */
	uint64_t vm_flags;		/* VM_* */
	uint64_t vm_pgoff;		/* offset in the object, in pages (anon: vm_start >> 12 at birth) */
	struct vm_object *vm_obj;	/* backing object, one reference held; NULL = anonymous */
	uint64_t vm_file_id;		/* the open file it was mapped through (Linux's vm_file:
					   two opens of one file never merge); 0 = none */
	struct anon_vma *anon;		/* anon identity, one reference held; NULL until first COW/anon fault */
	struct mm_struct *vm_mm;	/* owning address space; immutable */
	uint8_t pkey;			/* protection key 0..15 */
	uint8_t kind;			/* enum vma_kind */
	struct list_head vm_list;	/* address-ordered list of the tree's VMAs */
	struct list_head vm_obj_node;	/* in vm_obj's i_mmap list (under its i_mmap_lock) */
};

/* B-tree node (private to vma_tree.c). */
struct vma_node;

struct vma_tree {
	struct vma_node *root;		/* NULL when empty */
	struct list_head vmas;		/* all VMAs in address order */
	uint64_t count;			/* number of VMAs (map_count) */
	uint64_t guard_gap;		/* bytes kept free below VM_GROWSDOWN VMAs; immutable */
	struct kmem *km;		/* node allocator; immutable */
	struct vma_node *spare;		/* preallocated nodes (vma_tree_reserve) */
	uint64_t nr_spare;		/* how many are in `spare` */
	uint64_t nr_nodes;		/* nodes in the tree */
};

void vma_tree_init(struct vma_tree *t, struct kmem *km, uint64_t guard_gap);
/* Frees the nodes (not the VMAs, which belong to the caller). */
void vma_tree_destroy(struct vma_tree *t);

/* The start of the gap a VMA needs below it: vm_start, less guard_gap for VM_GROWSDOWN. */
uint64_t vma_start_gap(const struct vma_tree *t, const struct vma *v);

/* The VMA containing addr, or NULL. */
struct vma *vma_lookup(struct vma_tree *t, uint64_t addr);
/* The first VMA with vm_end > addr (Linux's find_vma), or NULL. */
struct vma *vma_find(struct vma_tree *t, uint64_t addr);
struct vma *vma_first(struct vma_tree *t);
struct vma *vma_last(struct vma_tree *t);
struct vma *vma_next(struct vma_tree *t, struct vma *v);	/* NULL after the last */
struct vma *vma_prev(struct vma_tree *t, struct vma *v);	/* NULL before the first */

/* Ensures the next n inserts cannot fail. 0 or -ENOMEM (reserve unchanged on failure). */
int vma_tree_reserve(struct vma_tree *t, unsigned n);
/* Inserts v (which must not overlap any VMA). 0, or -ENOMEM with the tree unchanged. */
int vma_insert(struct vma_tree *t, struct vma *v);
/* Removes v from the tree; never fails. */
void vma_remove(struct vma_tree *t, struct vma *v);
/* Moves v's bounds to [start, end) in place. The new range must not overlap another VMA,
 * so v keeps its position in address order. Never fails. */
void vma_adjust(struct vma_tree *t, struct vma *v, uint64_t start, uint64_t end);

/* get_unmapped_area: the highest (topdown) or lowest (bottomup) addr with
 * addr & align_mask == 0, low <= addr, addr + len <= high, and [addr, addr + len) clear of
 * every VMA and of every VMA's guard gap. 0 with *out set, or -ENOMEM. */
int vma_gap_topdown(struct vma_tree *t, uint64_t len, uint64_t align_mask, uint64_t low,
		    uint64_t high, uint64_t *out);
int vma_gap_bottomup(struct vma_tree *t, uint64_t len, uint64_t align_mask, uint64_t low,
		     uint64_t high, uint64_t *out);

/* Linux's merge test for two adjacent VMAs (prev->vm_end == next->vm_start): same flags
 * (ignoring VM_SOFTDIRTY), same object with contiguous pgoff, compatible anon identity
 * (equal, or either NULL), same pkey and kind, and neither VM_SPECIAL. */
bool vma_mergeable(const struct vma *prev, const struct vma *next);

/* Recomputes order, overlap, count and every node's max gap; returns the number of problems. */
int vma_tree_check(struct vma_tree *t);
void vma_tree_dump(struct vma_tree *t, FILE *f);

#endif
