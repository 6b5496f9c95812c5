/*
 * Tests of vma_mergeable, Linux's test for whether two adjacent VMAs may become one
 * (anchors §2.3). Each test starts from a pair that does merge and breaks one rule.
 *   page  0123
 *         PPNN     P = prev [0x1000, 0x3000), N = next [0x3000, 0x5000), pgoff contiguous
 */
#include "check.h"

#include "vma_test.h"

/* Stand-ins for backing objects and anon identities: only their addresses matter here. */
struct fake { int x; };

static void pair(struct vma *p, struct vma *n)
{
	vma_set(p, 0x1000, 0x3000, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE);
	vma_set(n, 0x3000, 0x5000, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE);
}

/* Adjacent anonymous VMAs with equal flags and contiguous pgoff merge. */
TEST(adjacent_vmas_with_equal_attributes_merge)
{
	struct vma p, n;
	pair(&p, &n);
	EXPECT_TRUE(vma_mergeable(&p, &n));
}

/* VMAs that do not touch never merge.
 *   PP.NN
 */
TEST(vmas_with_a_hole_between_do_not_merge)
{
	struct vma p, n;
	pair(&p, &n);
	n.vm_start = 0x4000;
	n.vm_end = 0x6000;
	n.vm_pgoff = p.vm_pgoff + 2;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
}

/* Flags must be equal, except VM_SOFTDIRTY, which is ignored. */
TEST(flags_must_match_except_softdirty_and_wx_history)
{
	struct vma p, n;
	pair(&p, &n);
	n.vm_flags |= VM_SOFTDIRTY;
	EXPECT_TRUE(vma_mergeable(&p, &n));
	n.vm_flags |= VM_EXEC;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
	/* W^X history is sticky state the merge ORs together, not identity (SPEC §4). */
	pair(&p, &n);
	p.vm_flags |= VM_WAS_WRITE;
	n.vm_flags |= VM_WAS_EXEC;
	EXPECT_TRUE(vma_mergeable(&p, &n));
}

/* Neither side may be VM_SPECIAL, even when both carry the same special flag. */
TEST(special_vmas_never_merge)
{
	const uint64_t special[] = { VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP };
	for (unsigned i = 0; i < 4; i++) {
		struct vma p, n;
		pair(&p, &n);
		p.vm_flags |= special[i];
		n.vm_flags |= special[i];
		EXPECT_TRUE(!vma_mergeable(&p, &n));
	}
}

/* Both must map the same object at contiguous page offsets: next's pgoff must equal
 * prev's pgoff plus prev's length in pages. */
TEST(object_and_contiguous_pgoff_are_required)
{
	struct fake o1, o2;
	struct vma p, n;
	pair(&p, &n);
	p.vm_obj = (struct vm_object *)&o1;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
	n.vm_obj = (struct vm_object *)&o2;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
	n.vm_obj = (struct vm_object *)&o1;
	p.vm_pgoff = 10;
	n.vm_pgoff = 12;
	EXPECT_TRUE(vma_mergeable(&p, &n));
	n.vm_pgoff = 13;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
	n.vm_pgoff = 11;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
}

/* An anonymous VMA moved by mremap keeps its old pgoff, so it does not merge with a
 * neighbour whose pgoff follows its new address (anchors §2.3, LTP mremap06). */
TEST(moved_anon_vma_with_stale_pgoff_does_not_merge)
{
	struct vma p, n;
	pair(&p, &n);
	p.vm_pgoff = 0x7000;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
}

/* anon identities must be equal, or one side must have none yet. */
TEST(anon_identities_must_be_equal_or_absent)
{
	struct fake a1, a2;
	struct vma p, n;
	pair(&p, &n);
	p.anon = (struct anon_vma *)&a1;
	EXPECT_TRUE(vma_mergeable(&p, &n));
	n.anon = (struct anon_vma *)&a1;
	EXPECT_TRUE(vma_mergeable(&p, &n));
	n.anon = (struct anon_vma *)&a2;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
	p.anon = NULL;
	EXPECT_TRUE(vma_mergeable(&p, &n));
}

/* Protection keys and kinds must match: [heap] never merges with a plain mapping. */
TEST(pkey_and_kind_must_match)
{
	struct vma p, n;
	pair(&p, &n);
	n.pkey = 3;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
	pair(&p, &n);
	p.kind = VMA_HEAP;
	EXPECT_TRUE(!vma_mergeable(&p, &n));
	n.kind = VMA_HEAP;
	EXPECT_TRUE(vma_mergeable(&p, &n));
}
