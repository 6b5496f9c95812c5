/*
 * Splitting, merging and modifying VMAs, and removing ranges of them, with Linux's
 * outcomes (mm/vma.c: __split_vma, vma_merge_existing_range, vma_modify, do_vmi_munmap).
 * Everything that can fail (VMA structs, tree nodes) is acquired before the first visible
 * change, so each operation either completes or leaves the address space as it was.
 */
#include "mm/mm_internal.h"

#include <errno.h>

#include "lib/pm_assert.h"

static uint64_t pages_between(uint64_t a, uint64_t b) { return (b - a) >> PAGE_SHIFT; }

/* Splits v at addr with a preallocated `nv` and a tree reserve; cannot fail. */
static struct vma *split_prepared(struct mm_struct *mm, struct vma *v, uint64_t addr,
				  struct vma *nv)
{
	PM_ASSERT(addr > v->vm_start && addr < v->vm_end && page_aligned(addr));
	vma_copy(nv, v);
	nv->vm_start = addr;
	nv->vm_pgoff = v->vm_pgoff + pages_between(v->vm_start, addr);
	/* Shrink first so the two never overlap in the tree. */
	mm_resize_vma(mm, v, v->vm_start, addr);
	mm_link_vma(mm, nv);
	return nv;
}

/* Cuts [start, end) out of the middle of v with two preallocated structs: v keeps the
 * head, nv[0] becomes the middle and nv[1] the tail. The same outcome as splitting at start
 * and then at end, with one resize of v instead of two resizes. Returns the middle. */
static struct vma *split3_prepared(struct mm_struct *mm, struct vma *v, uint64_t start,
				   uint64_t end, struct vma *nv[2])
{
	PM_ASSERT(start > v->vm_start && end < v->vm_end && start < end);
	PM_ASSERT(page_aligned(start) && page_aligned(end));
	struct vma *mid = nv[0], *tail = nv[1];
	vma_copy(mid, v);
	mid->vm_start = start;
	mid->vm_end = end;
	mid->vm_pgoff = v->vm_pgoff + pages_between(v->vm_start, start);
	vma_copy(tail, v);
	tail->vm_start = end;
	tail->vm_pgoff = v->vm_pgoff + pages_between(v->vm_start, end);
	mm_resize_vma(mm, v, v->vm_start, start);	/* first, so none overlaps in the tree */
	mm_link_vma(mm, mid);
	mm_link_vma(mm, tail);
	return mid;
}

/* Allocates n VMA structs and reserves n tree inserts; 0 or -ENOMEM with nothing held. */
static int prepare_vmas(struct mm_struct *mm, struct vma **out, int n)
{
	for (int i = 0; i < n; i++) {
		out[i] = vma_alloc(mm);
		if (!out[i]) {
			while (i--)
				vma_free(mm, out[i]);
			return -ENOMEM;
		}
	}
	if (vma_tree_reserve(&mm->mt, (unsigned)n)) {
		for (int i = 0; i < n; i++)
			vma_free(mm, out[i]);
		return -ENOMEM;
	}
	return 0;
}

struct vma *mm_split_vma(struct mm_struct *mm, struct vma *v, uint64_t addr, int check, int *err)
{
	struct vma *nv;
	if (check && mm->mt.count >= mm->sys->max_map_count) {
		*err = -ENOMEM;
		return NULL;
	}
	/* vma_adjust_trans_huge: no huge PMD may straddle the new boundary. */
	if ((addr & (PMD_SIZE - 1)) && (*err = mm_thp_split_pmd(mm, addr)))
		return NULL;
	if ((*err = prepare_vmas(mm, &nv, 1)))
		return NULL;
	return split_prepared(mm, v, addr, nv);
}

/* Folds `next` into `v` (adjacent and mergeable); frees next. */
static void absorb_next(struct mm_struct *mm, struct vma *v, struct vma *next)
{
	uint64_t end = next->vm_end;
	/* history survives merges */
	v->vm_flags |= next->vm_flags & (VM_WAS_WRITE | VM_WAS_EXEC | VM_MAYBE_GUARD);
	if (!v->anon && next->anon) {
		v->anon = next->anon;
		next->anon = NULL;
	}
	mm_unlink_vma(mm, next);
	vma_free(mm, next);
	mm_resize_vma(mm, v, v->vm_start, end);
}

/* Folds v and next into prev (the three adjacent; prev absorbing v, then next, would
 * merge both) with one resize instead of two; frees v and next. */
static void absorb_both(struct mm_struct *mm, struct vma *prev, struct vma *v, struct vma *next)
{
	uint64_t end = next->vm_end;
	prev->vm_flags |= (v->vm_flags | next->vm_flags) & (VM_WAS_WRITE | VM_WAS_EXEC | VM_MAYBE_GUARD);
	struct vma *from[2] = { v, next };
	for (int i = 0; i < 2; i++) {
		if (!prev->anon && from[i]->anon) {
			prev->anon = from[i]->anon;
			from[i]->anon = NULL;
		}
	}
	mm_unlink_vma(mm, v);
	vma_free(mm, v);
	mm_unlink_vma(mm, next);
	vma_free(mm, next);
	mm_resize_vma(mm, prev, prev->vm_start, end);
}

struct vma *mm_merge_around(struct mm_struct *mm, struct vma *v)
{
	struct vma *prev = vma_prev(&mm->mt, v);
	struct vma *next = vma_next(&mm->mt, v);
	if (prev && vma_mergeable(prev, v)) {
		/* prev grown over v merges with next exactly when v does and the identity
		 * prev ends up with (its own, else v's) agrees with next's. */
		struct anon_vma *a = prev->anon ? prev->anon : v->anon;
		if (next && vma_mergeable(v, next) && (!a || !next->anon || a == next->anon)) {
			absorb_both(mm, prev, v, next);
			return prev;
		}
		absorb_next(mm, prev, v);
		v = prev;
	}
	if (next && vma_mergeable(v, next))
		absorb_next(mm, v, next);
	return v;
}

/* Would [start, end) of v, given `flags`, merge with the VMA on `side`? */
static int would_merge(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
		       uint64_t flags, uint8_t pkey, int side)
{
	struct vma tmp = *v;
	tmp.vm_start = start;
	tmp.vm_end = end;
	tmp.vm_flags = flags;
	tmp.pkey = pkey;
	tmp.vm_pgoff = v->vm_pgoff + pages_between(v->vm_start, start);
	if (side < 0) {
		struct vma *p = vma_prev(&mm->mt, v);
		return start == v->vm_start && p && vma_mergeable(p, &tmp);
	}
	struct vma *n = vma_next(&mm->mt, v);
	return end == v->vm_end && n && vma_mergeable(&tmp, n);
}

int mm_modify_range(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
		    uint64_t flags, struct vma **out)
{
	return mm_modify_range_pkey(mm, v, start, end, flags, -1, out);
}

int mm_modify_range_pkey(struct mm_struct *mm, struct vma *v, uint64_t start, uint64_t end,
			 uint64_t flags, long pkey, struct vma **out)
{
	*out = v;
	uint8_t key = pkey < 0 ? v->pkey : (uint8_t)pkey;
	if (flags == v->vm_flags && key == v->pkey)
		return 0;
	if ((start > v->vm_start && !mm_hugetlb_split_ok(v, start)) ||
	    (end < v->vm_end && !mm_hugetlb_split_ok(v, end)))
		return -EINVAL;
	int nsplit = (start > v->vm_start) + (end < v->vm_end);
	int merges = would_merge(mm, v, start, end, flags, key, -1) +
		     would_merge(mm, v, start, end, flags, key, 1);
	/* Each split Linux keeps needs a free map_count slot (split_vma). */
	if (nsplit - merges > 0 && mm->mt.count + (uint64_t)(nsplit - merges) > mm->sys->max_map_count)
		return -ENOMEM;
	struct vma *nv[2] = { NULL, NULL };
	int err = 0;
	if (start > v->vm_start && (start & (PMD_SIZE - 1)))
		err = mm_thp_split_pmd(mm, start);	/* vma_adjust_trans_huge */
	if (!err && end < v->vm_end && (end & (PMD_SIZE - 1)))
		err = mm_thp_split_pmd(mm, end);
	if (err || (err = prepare_vmas(mm, nv, nsplit)))
		return err;
	if (nsplit == 2)
		v = split3_prepared(mm, v, start, end, nv);
	else if (start > v->vm_start)
		v = split_prepared(mm, v, start, nv[0]);
	else if (end < v->vm_end)
		split_prepared(mm, v, end, nv[0]);
	uint64_t old = v->vm_flags;
	uint8_t old_key = v->pkey;
	mm_set_vma_flags(mm, v, flags);
	v->pkey = key;
	if (((old ^ flags) & (VM_READ | VM_WRITE | VM_EXEC)) || old_key != key)
		mm_change_protection(mm, v, v->vm_start, v->vm_end);
	*out = mm_merge_around(mm, v);
	return 0;
}

int mm_unmap_range_locked(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;	/* nothing to remove (mremap with old_len 0 keeps the source) */
	struct vma *v = vma_find(&mm->mt, start);
	if (!v || v->vm_start >= end)
		return 0;
	/* The VMA holding end - 1 is v itself when v reaches end (the one-VMA munmap). */
	struct vma *last = v->vm_end >= end ? v : vma_find(&mm->mt, end - 1);
	int split_start = v->vm_start < start;
	int split_end = last && last->vm_start < end && last->vm_end > end;
	if ((split_start && !mm_hugetlb_split_ok(v, start)) || (split_end && !mm_hugetlb_split_ok(last, end)))
		return -EINVAL;	/* hugetlb_vm_op_split: only at huge boundaries */
	/* do_vmi_align_munmap: only the split that leaves three pieces needs a free slot. */
	if (split_start && v->vm_end > end && mm->mt.count >= mm->sys->max_map_count)
		return -ENOMEM;
	struct vma *nv[2] = { NULL, NULL };
	int err = 0;
	if (split_start && (start & (PMD_SIZE - 1)))
		err = mm_thp_split_pmd(mm, start);	/* vma_adjust_trans_huge */
	if (!err && split_end && (end & (PMD_SIZE - 1)))
		err = mm_thp_split_pmd(mm, end);
	if (err || (err = prepare_vmas(mm, nv, split_start + split_end)))
		return err;
	int used = 0;
	if (split_start)
		v = split_prepared(mm, v, start, nv[used++]);
	if (split_end) {
		last = vma_find(&mm->mt, end - 1);
		split_prepared(mm, last, end, nv[used++]);
	}
	for (struct vma *u = v; u && u->vm_start < end; u = vma_next(&mm->mt, u))
		mm_hugetlb_unreserve(mm, u, u->vm_start, u->vm_end);
	struct vma *before = vma_prev(&mm->mt, v), *after = vma_find(&mm->mt, end);
	mm_zap_unmap(mm, start, end, before ? before->vm_end : 0,
		     after ? after->vm_start : UINT64_MAX);
	while (v && v->vm_start < end) {
		struct vma *next = vma_next(&mm->mt, v);
		mm_writeback_vma(v, v->vm_start, v->vm_end);	/* munmap writes shared files back */
		mm_unlink_vma(mm, v);
		vma_free(mm, v);
		v = next;
	}
	return 0;
}
