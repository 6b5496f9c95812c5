/*
 * /proc/<pid>/smaps and smaps_rollup, as Linux 6.x's show_smap and show_smaps_rollup
 * print them. Every figure comes from the page tables: present leaves give Rss, the A and
 * D bits give Referenced and the dirty split, and each frame's mapcount decides shared
 * versus private and divides Pss (in PSS_SHIFT fixed point, as smaps_account does).
 * Reads under mm->lock for reading and mm->ptl; changes nothing.
 */
#include "proc/proc.h"

#include "obj/object.h"
#include "reclaim/swap.h"

#define PSS_SHIFT 12	/* Linux's fixed-point fraction for Pss: bytes << 12 */

/* Linux's struct mem_size_stats: byte counts (pss_* in PSS_SHIFT fixed point). */
struct smaps_stats {
	uint64_t resident, shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, lazyfree, anonymous_thp, shmem_thp, file_thp;
	uint64_t swap, shared_hugetlb, private_hugetlb, ksm;
	uint64_t pss, pss_anon, pss_file, pss_shmem, pss_dirty, pss_locked, swap_pss;
};

struct smaps_walk {
	struct phys *ph;
	const struct vma *v;
	struct smaps_stats *st;
	struct swap_area *swap;		/* for the slot counts of swap entries */
};

/* smaps_page_accumulate: one mapping of `size` bytes worth `pss` (fixed point). */
static void accumulate(struct smaps_stats *st, const struct page *pg, uint64_t size,
		       uint64_t pss, int dirty, int locked, int private)
{
	st->pss += pss;
	if (pg->flags & PG_anon)
		st->pss_anon += pss;
	else if (pg->flags & PG_shmem)
		st->pss_shmem += pss;
	else
		st->pss_file += pss;
	if (locked)
		st->pss_locked += pss;
	if (dirty) {
		st->pss_dirty += pss;
		if (private)
			st->private_dirty += size;
		else
			st->shared_dirty += size;
	} else if (private) {
		st->private_clean += size;
	} else {
		st->shared_clean += size;
	}
}

/* smaps_hugetlb_range: hugetlb memory is reported apart from Rss, split by sharing. */
static void account_hugetlb(struct smaps_stats *st, const struct page *pg, uint64_t size)
{
	if (atomic_load(&pg->mapcount) >= 2)
		st->shared_hugetlb += size;
	else
		st->private_hugetlb += size;
}

static int smaps_leaf(void *ctx, uint64_t va, pte_t *ep, int level)
{
	(void)va;
	struct smaps_walk *w = ctx;
	struct smaps_stats *st = w->st;
	pte_t e = *ep;
	/* PROT_NONE entries still hold their frame, and x86 Linux counts them as present.
	 * Swap entries count as Swap, and SwapPss divides each by the PTEs naming its slot
	 * (swp_swapcount); guard markers count nothing. */
	if (pte_is_swap(e)) {
		unsigned n = w->swap ? swap_count(w->swap, pte_swap_offset(e)) : 1;
		st->swap += PAGE_SIZE;
		st->swap_pss += ((uint64_t)PAGE_SIZE << PSS_SHIFT) / (n >= 2 ? n : 1);
		return 0;
	}
	if (!(e & (PTE_P | PTE_PROTNONE)))
		return 0;
	/* Special entries (zero page, vdso image) have no struct page to account, as
	 * vm_normal_page returns NULL for them. */
	if (e & PTE_SPECIAL)
		return 0;
	const struct page *pg = pfn_to_page(w->ph, pte_pfn(e));
	uint64_t size = pgt_level_size(level);
	if (w->v->vm_flags & VM_HUGETLB) {
		account_hugetlb(st, pg, size);
		return 0;
	}
	int dirty = (e & PTE_D) || (pg->flags & PG_dirty);
	int anon = (pg->flags & PG_anon) != 0;
	if (anon) {
		st->anonymous += size;
		/* LazyFree counts MADV_FREE pages not redirtied since; peimm marks none yet
		 * (MADV_FREE keeps pages swap-backed until its lazy machinery lands). */
	}
	if (pg->flags & PG_ksm)
		st->ksm += size;	/* smaps_account: every mapping of a KSM page */
	if (level > 1) {
		if (anon)
			st->anonymous_thp += size;
		else if (pg->flags & PG_shmem)
			st->shmem_thp += size;
		else
			st->file_thp += size;
	}
	st->resident += size;
	if (e & PTE_A)
		st->referenced += size;
	int locked = (w->v->vm_flags & VM_LOCKED) != 0;
	int mapcount = atomic_load(&pg->mapcount);
	uint64_t pss = size << PSS_SHIFT;
	if (mapcount >= 2)
		pss /= (uint64_t)mapcount;
	accumulate(st, pg, size, pss, dirty, locked, mapcount < 2);
	return 0;
}

/* shmem_swap_usage / smaps_pte_hole: a shmem or memfd mapping's Swap also counts the
 * object's swapped-out pages in its range (their PTEs are none). A shared or read-only
 * mapping counts them all; a private writable one only where no PTE stands (a COW copy
 * replaced the object's page there). SwapPss is the PTEs' share alone, as on Linux. */
static uint64_t shmem_swap(struct mm_struct *mm, const struct vma *v)
{
	struct vm_object *o = v->vm_obj;
	if (!o || (o->kind != OBJ_SHMEM && o->kind != OBJ_MEMFD))
		return 0;
	uint64_t npages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
	if ((v->vm_flags & VM_SHARED) || !(v->vm_flags & VM_WRITE))
		return obj_swapped_pages(o, v->vm_pgoff, v->vm_pgoff + npages - 1) * PAGE_SIZE;
	uint64_t n = 0;
	for (uint64_t i = 0; i < npages && obj_swapped_pages(o, v->vm_pgoff + i, UINT64_MAX); i++) {
		int level;
		pte_t *ep = pgt_lookup(&mm->pgt, v->vm_start + (i << PAGE_SHIFT), &level);
		if ((!ep || !*ep) && obj_swapped_pages(o, v->vm_pgoff + i, v->vm_pgoff + i))
			n += PAGE_SIZE;
	}
	return n;
}

static void smaps_vma(struct mm_struct *mm, const struct vma *v, struct smaps_stats *st)
{
	struct smaps_walk w = { mm->sys->ph, v, st, mm->sys->swap };
	pgt_walk_range(&mm->pgt, v->vm_start, v->vm_end, smaps_leaf, &w);
	st->swap += shmem_swap(mm, v);
}

/* SEQ_PUT_DEC: the name padded to 16 columns, the value in kB right-aligned in 8. */
static void kb(struct strbuf *sb, const char *name, uint64_t bytes)
{
	sb_puts(sb, name);
	sb_puts(sb, ":");
	sb_pad_to(sb, 16);
	sb_dec(sb, bytes >> 10, 8);
	sb_puts(sb, " kB\n");
}

/* __show_smap: the fields shared by smaps and smaps_rollup; the rollup adds the Pss split. */
static void show_stats(struct strbuf *sb, const struct smaps_stats *st, int rollup)
{
	kb(sb, "Rss", st->resident);
	kb(sb, "Pss", st->pss >> PSS_SHIFT);
	kb(sb, "Pss_Dirty", st->pss_dirty >> PSS_SHIFT);
	if (rollup) {
		kb(sb, "Pss_Anon", st->pss_anon >> PSS_SHIFT);
		kb(sb, "Pss_File", st->pss_file >> PSS_SHIFT);
		kb(sb, "Pss_Shmem", st->pss_shmem >> PSS_SHIFT);
	}
	kb(sb, "Shared_Clean", st->shared_clean);
	kb(sb, "Shared_Dirty", st->shared_dirty);
	kb(sb, "Private_Clean", st->private_clean);
	kb(sb, "Private_Dirty", st->private_dirty);
	kb(sb, "Referenced", st->referenced);
	kb(sb, "Anonymous", st->anonymous);
	kb(sb, "KSM", st->ksm);
	kb(sb, "LazyFree", st->lazyfree);
	kb(sb, "AnonHugePages", st->anonymous_thp);
	kb(sb, "ShmemPmdMapped", st->shmem_thp);
	kb(sb, "FilePmdMapped", st->file_thp);
	kb(sb, "Shared_Hugetlb", st->shared_hugetlb);
	kb(sb, "Private_Hugetlb", st->private_hugetlb);
	kb(sb, "Swap", st->swap);
	kb(sb, "SwapPss", st->swap_pss >> PSS_SHIFT);
	kb(sb, "Locked", st->pss_locked >> PSS_SHIFT);
}

/* show_smap_vma_flags: two letters per set bit, in bit order. Bits Linux does not print
 * (the pkey bits, which ProtectionKey shows) and peimm's private bits have no entry. */
static void show_vmflags(struct strbuf *sb, uint64_t flags)
{
	static const char codes[64][3] = {
		[0] = "rd", [1] = "wr", [2] = "ex", [3] = "sh", [4] = "mr", [5] = "mw",
		[6] = "me", [7] = "ms", [8] = "gd", [9] = "um", [10] = "pf", [11] = "gu", [12] = "uw",
		[13] = "lo", [14] = "io", [15] = "sr", [16] = "rr", [17] = "dc", [18] = "de",
		[19] = "lf", [20] = "ac", [21] = "nr", [22] = "ht", [23] = "sf", [24] = "ar",
		[25] = "wf", [26] = "dd", [27] = "sd", [28] = "mm", [29] = "hg", [30] = "nh",
		[31] = "mg", [40] = "dp", [42] = "sl",
	};
	sb_puts(sb, "VmFlags: ");
	for (int bit = 0; bit < 64; bit++) {
		if (!(flags & (1ULL << bit)) || !codes[bit][0])
			continue;
		sb_putn(sb, codes[bit], 2);
		sb_putc(sb, ' ');
	}
	sb_putc(sb, '\n');
}

/* vma_kernel_pagesize: the hugetlb pool's page size, else 4 KiB. */
static uint64_t vma_page_size(const struct vma *v)
{
	if ((v->vm_flags & VM_HUGETLB) && v->vm_obj && v->vm_obj->kind == OBJ_HUGETLB)
		return pgt_level_size(v->vm_obj->hstate ? 3 : 2);
	return PAGE_SIZE;
}

/* One smaps entry after its header line; v is NULL for the [vsyscall] gate page. */
static void show_entry(struct strbuf *sb, struct mm_struct *mm, const struct vma *v, uint64_t size,
		       const struct smaps_stats *st)
{
	uint64_t psize = v ? vma_page_size(v) : PAGE_SIZE;
	kb(sb, "Size", size);
	kb(sb, "KernelPageSize", psize);
	kb(sb, "MMUPageSize", psize);
	show_stats(sb, st, 0);
	/* THPeligible: thp_vma_allowable_order's answer for smaps (mm_thp_eligible). */
	sb_puts(sb, "THPeligible:    ");
	sb_dec(sb, v && mm ? mm_thp_eligible(mm, v) : 0, 8);
	sb_putc(sb, '\n');
	/* ProtectionKey is printed because the simulated CPU has pkeys (SPEC §10); the gate
	 * page, like every VMA without a key, carries key 0. */
	sb_puts(sb, "ProtectionKey:  ");
	sb_dec(sb, v ? v->pkey : 0, 8);
	sb_putc(sb, '\n');
	show_vmflags(sb, v ? v->vm_flags : VM_EXEC);
}

void proc_render_smaps(struct mm_struct *mm, struct strbuf *sb)
{
	pthread_rwlock_rdlock(&mm->lock);
	pthread_mutex_lock(&mm->ptl);
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v)) {
		struct smaps_stats st = { 0 };
		smaps_vma(mm, v, &st);
		proc_map_line(mm, v, sb);
		show_entry(sb, mm, v, v->vm_end - v->vm_start, &st);
	}
	pthread_mutex_unlock(&mm->ptl);
	pthread_rwlock_unlock(&mm->lock);
	/* The gate VMA closes the list, as in maps; it maps nothing a walk could count. */
	struct smaps_stats none = { 0 };
	proc_gate_line(sb);
	show_entry(sb, NULL, NULL, PAGE_SIZE, &none);
}

void proc_render_smaps_rollup(struct mm_struct *mm, struct strbuf *sb)
{
	struct smaps_stats st = { 0 };
	uint64_t start = 0, end = 0;
	pthread_rwlock_rdlock(&mm->lock);
	pthread_mutex_lock(&mm->ptl);
	struct vma *first = vma_first(&mm->mt), *last = vma_last(&mm->mt);
	if (first) {
		start = first->vm_start;
		end = last->vm_end;
	}
	for (struct vma *v = first; v; v = vma_next(&mm->mt, v))
		smaps_vma(mm, v, &st);
	pthread_mutex_unlock(&mm->ptl);
	pthread_rwlock_unlock(&mm->lock);
	/* show_smaps_rollup: the span of all VMAs (the gate page is not among them), with
	 * no permissions, padded like a named maps line. */
	proc_span_line(sb, start, end, "[rollup]");
	show_stats(sb, &st, 1);
}
