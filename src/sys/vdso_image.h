/*
 * The [vdso] image every simulated process maps (SPEC §10): a real, minimal ELF64 shared
 * object for x86-64 exporting __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time and
 * __vdso_getcpu (version LINUX_2.6). The builder is pure: it writes into a caller's buffer,
 * keeps no state and never allocates. The image is position independent, linked at vaddr 0,
 * and fills exactly VDSO_IMAGE_PAGES pages.
 */
#ifndef PM_SYS_VDSO_IMAGE_H
#define PM_SYS_VDSO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define VDSO_IMAGE_PAGES 2			/* the image fills exactly 2 pages, like Linux's [vdso] */
#define VDSO_IMAGE_SIZE  (VDSO_IMAGE_PAGES * 4096)	/* bytes */
#define VDSO_NR_SYMBOLS  4			/* exported functions */

struct vdso_symbol {
	const char *name;	/* e.g. "__vdso_time"; points at a static string, immutable */
	uint64_t offset;	/* bytes from the image start to the function's first instruction */
};

/*
 * Writes the vDSO ELF image into buf. Preconditions: len >= VDSO_IMAGE_SIZE. The first
 * VDSO_IMAGE_SIZE bytes are zeroed first, then filled; bytes past them are not touched.
 * Returns 0, or -EINVAL (nothing written) when buf is NULL or len is too small.
 */
int vdso_image_build(uint8_t *buf, size_t len);

/*
 * Looks name up in an image the way a dynamic loader would: PT_DYNAMIC, then DT_HASH,
 * DT_SYMTAB and DT_STRTAB, then the SysV hash chain. Only defined STT_FUNC symbols count.
 * Every read is bounds-checked against len, so any buffer is safe to pass.
 * Returns the symbol's offset from the image start, -ENOENT when no such function is
 * exported, or -ENOEXEC when buf does not hold a well-formed ELF64 image. Never writes.
 */
long vdso_image_lookup(const uint8_t *buf, size_t len, const char *name);

/*
 * Fills out[] with the exported functions and their offsets, in a fixed order, exactly as
 * vdso_image_build lays them out (no image needed). Returns VDSO_NR_SYMBOLS.
 */
int vdso_image_symbols(struct vdso_symbol out[VDSO_NR_SYMBOLS]);

#endif
