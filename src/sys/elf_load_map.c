/*
 * Mapping an ELF image's PT_LOAD segments into an address space, as Linux's
 * load_elf_binary/elf_load do: one MAP_PRIVATE file mapping per segment (so maps shows the
 * file and its page-aligned offset), the tail of a writable segment's last file page
 * zeroed (padzero, which copies that page), and anonymous read-write memory for the rest
 * of p_memsz (vm_brk_flags). It also computes the image bounds Linux records in the mm.
 * It never changes an mm anyone else can see: exec maps into a fresh one.
 */
#include "sys/elf_load.h"

#include <errno.h>
#include <sys/mman.h>

#include "peimm.h"

static uint64_t seg_prot(const Elf64_Phdr *p)
{
	return (p->p_flags & PF_R ? PROT_READ : 0) | (p->p_flags & PF_W ? PROT_WRITE : 0) |
	       (p->p_flags & PF_X ? PROT_EXEC : 0);
}

/* The span [*lo, *hi) of all PT_LOAD pages and the largest p_align above a page. */
static uint64_t load_span(const struct elf_image *img, uint64_t *lo, uint64_t *hi)
{
	uint64_t align = PAGE_SIZE;
	*lo = UINT64_MAX;
	*hi = 0;
	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		*lo = min_u64(*lo, page_align_down(p->p_vaddr));
		*hi = max_u64(*hi, page_align_up(p->p_vaddr + p->p_memsz));
		if (p->p_align > align && !(p->p_align & (p->p_align - 1)))
			align = p->p_align;
	}
	return align;
}

/* Linux's bounds: start_code is the lowest executable segment, start_data the highest
 * segment start, end_* the highest file-backed ends, elf_brk the highest memory end. */
static void note_bounds(const struct elf_image *img, struct elf_placed *o)
{
	uint64_t sc = UINT64_MAX, ec = 0, sd = 0, ed = 0, brk = 0;
	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		if ((p->p_flags & PF_X) && p->p_vaddr < sc)
			sc = p->p_vaddr;
		sd = max_u64(sd, p->p_vaddr);
		if (p->p_flags & PF_X)
			ec = max_u64(ec, p->p_vaddr + p->p_filesz);
		ed = max_u64(ed, p->p_vaddr + p->p_filesz);
		brk = max_u64(brk, p->p_vaddr + p->p_memsz);
	}
	if (sc == UINT64_MAX)
		sc = ec = 0;	/* no code segment: VmExe 0 */
	o->start_code = sc + o->bias;
	o->end_code = ec + o->bias;
	o->start_data = sd + o->bias;
	o->end_data = ed + o->bias;
	o->elf_brk = brk + o->bias;
	o->entry = img->eh.e_entry + o->bias;
	o->phdr = 0;
	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_type == PT_LOAD && p->p_offset <= img->eh.e_phoff &&
		    img->eh.e_phoff < p->p_offset + p->p_filesz) {
			o->phdr = p->p_vaddr + (img->eh.e_phoff - p->p_offset) + o->bias;
			break;
		}
	}
}

/* The file part of one segment at its biased address; `len` overrides the mapping length
 * (the interpreter's first mapping reserves its whole span). Returns the address or -errno. */
static long map_file_part(struct mm_struct *mm, const struct mm_caller *c,
			  const struct elf_image *img, const Elf64_Phdr *p, uint64_t addr,
			  uint64_t len, uint64_t flags)
{
	uint64_t off = p->p_offset - (p->p_vaddr & (PAGE_SIZE - 1));
	return mm_mmap_file(mm, c, addr, len, seg_prot(p), MAP_PRIVATE | flags, img->obj, off,
			    MM_F_READ | MM_F_EXEC);	/* exec checked the execute right */
}

/* padzero and the anonymous rest of p_memsz for the segment at vstart (biased). */
static int map_bss(struct mm_struct *mm, const struct mm_caller *c, const Elf64_Phdr *p,
		   uint64_t vstart)
{
	static const uint8_t zeros[PAGE_SIZE];
	uint64_t zstart = vstart + p->p_filesz, zend = vstart + p->p_memsz;
	if (p->p_memsz <= p->p_filesz)
		return 0;
	if (p->p_filesz && (p->p_flags & PF_W) && (zstart & (PAGE_SIZE - 1))) {
		struct mm_fault_info fi;
		size_t n = (size_t)(page_align_up(zstart) - zstart);
		if (mm_access_rlim(mm, NULL, 0, zstart, (void *)zeros, n, PM_WRITE, &fi, c->rlim) < 0)
			return -EFAULT;
	}
	zstart = p->p_filesz ? page_align_up(zstart) : page_align_down(zstart);
	zend = page_align_up(zend);
	if (zend <= zstart)
		return 0;
	/* vm_brk_flags: read-write whatever the segment says, executable if it is. */
	uint64_t prot = PROT_READ | PROT_WRITE | (seg_prot(p) & PROT_EXEC);
	long r = mm_mmap(mm, c, zstart, zend - zstart, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	return r < 0 ? (int)r : 0;
}

/* The bias: ET_EXEC 0; ET_DYN at base (aligned); base 0: reserve the whole span where
 * mmap chooses with the first segment's file mapping, then trim it (Linux's
 * total_mapping_size path for interpreters). */
static long pick_bias(struct mm_struct *mm, const struct mm_caller *c,
		      const struct elf_image *img, uint64_t base, const Elf64_Phdr *first)
{
	uint64_t lo, hi, align = load_span(img, &lo, &hi);
	if (img->eh.e_type == ET_EXEC)
		return 0;
	if (base)
		return (long)((base - lo) & ~(align - 1));
	long a = map_file_part(mm, c, img, first, 0, hi - lo, 0);
	if (a < 0)
		return a;
	uint64_t bias = (uint64_t)a - page_align_down(first->p_vaddr);
	uint64_t first_end = page_align_up(first->p_vaddr + first->p_filesz) + bias;
	if (first_end < hi + bias) {
		long r = mm_munmap(mm, first_end, hi + bias - first_end);
		if (r < 0)
			return r;
	}
	return (long)bias;
}

int elf_image_map(struct mm_struct *mm, const struct mm_caller *c, const struct elf_image *img,
		  uint64_t base, struct elf_placed *out)
{
	const Elf64_Phdr *first = NULL;
	for (unsigned i = 0; i < img->eh.e_phnum && !first; i++)
		if (img->ph[i].p_type == PT_LOAD)
			first = &img->ph[i];
	long bias = pick_bias(mm, c, img, base, first);
	if (bias < 0)
		return (int)bias;
	int chosen = img->eh.e_type == ET_DYN && !base;
	uint64_t flags = MAP_FIXED_NOREPLACE;	/* the first segment must not clobber anything */
	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		uint64_t vstart = p->p_vaddr + (uint64_t)bias;
		uint64_t addr = page_align_down(vstart);
		if (p->p_filesz && !(chosen && p == first)) {
			uint64_t len = page_align_up(vstart + p->p_filesz) - addr;
			long r = map_file_part(mm, c, img, p, addr, len, flags);
			if (r < 0)
				return (int)r;
		}
		flags = MAP_FIXED;	/* later segments may share a page with earlier ones */
		int err = map_bss(mm, c, p, vstart);
		if (err)
			return err;
	}
	out->bias = (uint64_t)bias;
	note_bounds(img, out);
	return 0;
}
