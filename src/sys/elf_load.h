/*
 * ELF64 x86-64 program images for exec (private to sys): opening the file inside the
 * system's root, reading and checking its headers through the page cache, and mapping its
 * PT_LOAD segments into an address space the way Linux's load_elf_binary and elf_load do.
 * Nothing here touches a process: the caller owns the mm it maps into and decides when
 * (whether) that mm becomes visible.
 */
#ifndef PM_SYS_ELF_LOAD_H
#define PM_SYS_ELF_LOAD_H

#include <elf.h>
#include <stdint.h>

#include "mm/mm.h"

struct pm_system;

/* One opened image. */
struct elf_image {
	struct vm_object *obj;		/* the file's page-cache object; one reference */
	Elf64_Ehdr eh;			/* the ELF header as read */
	Elf64_Phdr *ph;			/* eh.e_phnum program headers (kmem) */
	char *interp;			/* PT_INTERP path (NUL-terminated, kmem), or NULL */
	size_t interp_size;		/* bytes allocated for interp */
	struct kmem *km;		/* immutable */
};

/* Where an image landed (addresses include the load bias). */
struct elf_placed {
	uint64_t bias;			/* load bias: 0 for ET_EXEC */
	uint64_t entry;			/* e_entry + bias */
	uint64_t phdr;			/* address of the program headers in memory (AT_PHDR) */
	uint64_t start_code, end_code;	/* lowest PF_X segment start, highest PF_X file end */
	uint64_t start_data, end_data;	/* highest segment start, highest file end */
	uint64_t elf_brk;		/* highest p_vaddr + p_memsz (unaligned) */
};

/* Opens path (absolute or relative to the root, resolved inside cfg.root like openat)
 * for execution: *img gets the file's page-cache object. 0 or -errno: -ENOENT, -ENOTDIR,
 * -ELOOP from the lookup, -ENAMETOOLONG, -EACCES (not a regular file, no execute bit),
 * -ENOMEM. On failure *img holds nothing. */
int elf_image_open(struct pm_system *sys, const char *path, struct elf_image *img);
/* Reads and checks the headers of an opened image. 0, -ENOEXEC (not an ELF64 x86-64
 * ET_EXEC/ET_DYN, a short file, bad program headers or PT_INTERP), -EINVAL (a PT_LOAD
 * whose file size exceeds its memory size, or whose offset and address disagree modulo
 * the page size) or -ENOMEM. Either way elf_image_release frees what it read. */
int elf_image_read(struct elf_image *img);
/* Drops the object reference and frees the headers. */
void elf_image_release(struct elf_image *img);

/* Maps every PT_LOAD of img into mm with MAP_PRIVATE file mappings (protections from
 * p_flags, offsets page-aligned), zeroes the tail of a writable segment's last file page
 * and maps anonymous memory for the rest of p_memsz. ET_EXEC goes at its own addresses;
 * ET_DYN at `base` (aligned down to the largest p_align), or where mmap chooses when base
 * is 0 (an interpreter). 0 or -errno (-ENOMEM, -EEXIST, -EPERM from mmap); on failure
 * mm may hold some of the mappings (the caller destroys it). */
int elf_image_map(struct mm_struct *mm, const struct mm_caller *c, const struct elf_image *img,
		  uint64_t base, struct elf_placed *out);

#endif
