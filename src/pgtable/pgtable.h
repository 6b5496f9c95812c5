/*
 * x86-64 paging structures stored in frames of simulated physical memory: 4-level
 * (PML4/PDPT/PD/PT) or 5-level (PML5 on top), with the architectural bit layout of SPEC §1.
 * This layer knows entries and tables only: never VMAs, objects or what a frame holds.
 * Invariant: each table page's pt_used equals the number of its non-zero entries, and
 * nr_tables[] equals the tables reachable from the root. Callers hold the mm lock.
 */
#ifndef PM_PGTABLE_H
#define PM_PGTABLE_H

#include <stdint.h>
#include <stdio.h>

#include "phys/phys.h"

typedef uint64_t pte_t;

/* Architectural bits (Intel SDM vol. 3, 4.5). */
#define PTE_P		(1ULL << 0)	/* present */
#define PTE_RW		(1ULL << 1)	/* writable */
#define PTE_US		(1ULL << 2)	/* user */
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_A		(1ULL << 5)	/* accessed */
#define PTE_D		(1ULL << 6)	/* dirty (leaves only) */
#define PTE_PS		(1ULL << 7)	/* page size: a 2 MiB (PD) or 1 GiB (PDPT) leaf */
#define PTE_G		(1ULL << 8)	/* global */
#define PTE_SOFT1	(1ULL << 9)	/* software: "special" (zero page, vdso: no struct page refcount) */
#define PTE_SOFT2	(1ULL << 10)	/* software: soft-dirty */
#define PTE_SOFT3	(1ULL << 11)	/* software: reserved */
#define PTE_PFN_MASK	0x000ffffffffff000ULL	/* bits 12-51 */
#define PTE_PKEY_SHIFT	59		/* protection key, bits 59-62 */
#define PTE_PKEY_MASK	(0xfULL << PTE_PKEY_SHIFT)
#define PTE_NX		(1ULL << 63)	/* no execute */

#define PTE_SPECIAL	PTE_SOFT1
#define PTE_SOFTDIRTY	PTE_SOFT2

/* Markers (Linux's PTE markers and hwpoison entries): non-present leaves that hold no
 * frame. P and bit 8 (mm's PROT_NONE bit) are clear, PTE_MARKER is set, and the kind sits
 * in bits 12-15 where a PFN would be. Bits 52-58 are ignored by the MMU when P is clear. */
#define PTE_MARKER	(1ULL << 57)
#define PTE_MARKER_SHIFT 12
enum pte_marker_kind {
	PTE_MARKER_GUARD = 1,		/* MADV_GUARD_INSTALL: any access is SIGSEGV */
	PTE_MARKER_HWPOISON = 2,	/* the frame was poisoned: any access is SIGBUS */
};

/* Swap entries (Linux's swp_entry_t in a PTE): non-present leaves naming a slot of a swap
 * area. P, bit 8 and PTE_MARKER are clear and PTE_SWAP is set; the slot (offset) sits in
 * bits 12-51 where a PFN would be, the area (type, 0..31) in bits 1-5, and soft-dirty stays
 * in bit 10 (Linux's _PAGE_SWP_SOFT_DIRTY). Never zero, never a marker. */
#define PTE_SWAP	(1ULL << 56)
#define PTE_SWAP_TYPE_SHIFT 1
static inline int pte_is_swap(pte_t e) { return (e & (PTE_P | PTE_MARKER | PTE_SWAP)) == PTE_SWAP; }
static inline pte_t pte_mk_swap(unsigned type, uint64_t offset)
{
	return PTE_SWAP | ((offset << 12) & PTE_PFN_MASK) | ((pte_t)(type & 31) << PTE_SWAP_TYPE_SHIFT);
}
static inline uint64_t pte_swap_offset(pte_t e) { return (e & PTE_PFN_MASK) >> 12; }
static inline unsigned pte_swap_type(pte_t e) { return (unsigned)((e >> PTE_SWAP_TYPE_SHIFT) & 31); }

/* Levels, counted from the leaf: 1 = PT (4 KiB), 2 = PD (2 MiB), 3 = PDPT (1 GiB),
 * 4 = PML4, 5 = PML5. */
#define PGT_MAX_LEVELS	5

static inline uint64_t pte_pfn(pte_t e) { return (e & PTE_PFN_MASK) >> 12; }
static inline int pte_present(pte_t e) { return (e & PTE_P) != 0; }
static inline int pte_none(pte_t e) { return e == 0; }
static inline unsigned pte_pkey(pte_t e) { return (unsigned)((e & PTE_PKEY_MASK) >> PTE_PKEY_SHIFT); }
static inline pte_t pte_mk(uint64_t pfn, pte_t bits) { return (pfn << 12) | bits; }
static inline int pte_is_marker(pte_t e) { return (e & (PTE_P | PTE_MARKER)) == PTE_MARKER; }
static inline pte_t pte_mk_marker(enum pte_marker_kind k)
{
	return PTE_MARKER | ((pte_t)k << PTE_MARKER_SHIFT);
}
/* The kind of a marker entry, or 0 for anything else. */
static inline unsigned pte_marker(pte_t e)
{
	return pte_is_marker(e) ? (unsigned)((e >> PTE_MARKER_SHIFT) & 0xf) : 0;
}
/* Bytes covered by one entry at `level`. */
static inline uint64_t pgt_level_size(int level) { return 1ULL << (12 + 9 * (level - 1)); }

struct pgt {
	struct phys *ph;			/* frames for tables; immutable */
	uint64_t root;				/* PFN of the top table; immutable */
	int levels;				/* 4 or 5; immutable */
	uint64_t nr_tables[PGT_MAX_LEVELS + 1];	/* tables per level, root included */
	struct list_head deposit;		/* PTE tables set aside for splits of huge
						   leaves (linked through page.lru) */
	uint64_t nr_deposited;			/* their number */
};

/* First byte above the range the tables can map: 2^47 (4-level) or 2^56 (5-level). */
static inline uint64_t pgt_user_end(const struct pgt *p) { return 1ULL << (12 + 9 * p->levels - 1); }

/* Allocates the root table. Returns 0 or -ENOMEM (nothing allocated). */
int pgt_init(struct pgt *p, struct phys *ph, int levels);
/* Frees every table page, deposited ones included. Leaf entries must already be gone
 * (PM_ENFORCE). */
void pgt_destroy(struct pgt *p);

/* The leaf entry that maps va, at whatever level the leaf is (*level = 1, 2 or 3), without
 * allocating. Returns NULL when a table on the path is missing; a returned entry may be
 * zero (nothing mapped) or non-present (a swap entry or marker). */
pte_t *pgt_lookup(struct pgt *p, uint64_t va, int *level);
/* The entry for va at `level` (1 = PTE, 2 = PMD, 3 = PUD), allocating missing tables above
 * it. -ENOMEM when a table cannot be allocated (tables allocated so far stay, empty ones
 * are freed by the next unmap of the range); -EEXIST when a huge leaf above covers va. */
int pgt_alloc_entry(struct pgt *p, uint64_t va, int level, pte_t **ep);
/* Stores val into *ep, keeping the containing table's pt_used in step. Use this for every
 * change that turns an entry zero or non-zero; A/D updates may store directly. */
void pgt_set(struct pgt *p, pte_t *ep, pte_t val);

/* Calls fn for each non-zero leaf entry in [start, end), in address order, skipping empty
 * tables. fn may change the entry with pgt_set. A non-zero return stops the walk and is
 * returned. A huge leaf is passed once, with the address of its first byte. */
typedef int (*pgt_leaf_fn)(void *ctx, uint64_t va, pte_t *ep, int level);
int pgt_walk_range(struct pgt *p, uint64_t start, uint64_t end, pgt_leaf_fn fn, void *ctx);
/* Calls zap for each non-zero leaf in [start, end) (which may release the frame), clears it
 * unless zap returned non-zero (the caller keeps that entry, e.g. a guard marker), then
 * frees every table page left empty. Huge leaves must lie wholly inside the range. */
void pgt_unmap_range(struct pgt *p, uint64_t start, uint64_t end, pgt_leaf_fn zap, void *ctx);
/* pgt_unmap_range that keeps every table page, empty or not, as Linux's zaps do (its page
 * tables go only at munmap, free_pgtables, or by pt_reclaim). */
void pgt_zap_range(struct pgt *p, uint64_t start, uint64_t end, pgt_leaf_fn zap, void *ctx);
/* Frees the table pages under [start, end) that hold no entry (never the root); a table
 * whose span reaches outside the range goes too when it is empty. Leaves are untouched. */
void pgt_free_tables(struct pgt *p, uint64_t start, uint64_t end);
/* For each present leaf in [start, end): entry = (entry & ~clear) | set. */
void pgt_protect_range(struct pgt *p, uint64_t start, uint64_t end, pte_t clear, pte_t set);
/* Replaces the huge leaf (level 2 or 3) that covers va with a table of next-level entries
 * mapping the same frames with the same bits. 0, or -ENOMEM with nothing changed. A
 * non-present leaf that keeps PS (mm's PROT_NONE) splits too. When no huge leaf covers va,
 * returns 0 and changes nothing. */
int pgt_split_huge(struct pgt *p, uint64_t va);

/* The reverse of a 2 MiB split: the PTE table under the PMD of va (2 MiB aligned) must
 * hold no entries; it becomes a deposited table and the PMD becomes `leaf` (a PS entry).
 * 0, -EINVAL when no table is there, -EBUSY when it still holds entries (nothing changed
 * then). */
int pgt_collapse_huge(struct pgt *p, uint64_t va, pte_t leaf);

/* Moves every entry of [old, old+len) to [new, new+len), which must hold no entries.
 * Whole tables move where both ends are aligned to a level (mremap's O(tables) path). On
 * -ENOMEM everything is back where it was. Page aligned; the ranges must not overlap. */
int pgt_move_range(struct pgt *p, uint64_t old, uint64_t new, uint64_t len);

/* Deposited tables (Linux's pgtable_trans_huge_deposit): a PTE table set aside when a
 * huge leaf that may be split is made, so that the split cannot fail; pgt_split_huge of a
 * 2 MiB leaf takes one when there is one, pgt_collapse_huge gives the table it frees back
 * as one. The caller serialises these calls (the mm lock held exclusively, or its ptl).
 * pgt_deposit: 0 or -ENOMEM. pgt_withdraw frees one (there must be one). */
int pgt_deposit(struct pgt *p);
void pgt_withdraw(struct pgt *p);

/* Page-table pages below the root, as Linux counts them for VmPTE (deposited ones too). */
uint64_t pgt_nr_tables(const struct pgt *p);
/* Recounts pt_used and nr_tables from the tables; returns the number of problems. */
int pgt_check(struct pgt *p);
/* Prints the non-zero entries in [start, end), one per line. */
void pgt_dump(struct pgt *p, FILE *f, uint64_t start, uint64_t end);

#endif
