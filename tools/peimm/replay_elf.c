/*
 * The shape of a host ELF image as replay needs it: its type (fixed or placed at a random
 * base), the span of its PT_LOAD segments, its entry, its interpreter and the RELRO range
 * ld.so turns read-only. That is what lets replay find where the recorded kernel put an
 * image (the trace never says) from the first mprotect ld.so made on it. It reads headers
 * only and never maps or runs anything.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"

#define RP_PAGE 4096ULL

static uint64_t down(uint64_t v) { return v & ~(RP_PAGE - 1); }
static uint64_t up(uint64_t v) { return (v + RP_PAGE - 1) & ~(RP_PAGE - 1); }

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);
	return n == (ssize_t)len ? 0 : -ENOEXEC;
}

static int read_phdrs(int fd, const Elf64_Ehdr *eh, rp_image *img)
{
	int seen = 0;
	img->lo = UINT64_MAX;
	for (int i = 0; i < eh->e_phnum && i < 64; i++) {
		Elf64_Phdr ph;
		if (read_at(fd, &ph, sizeof(ph), (off_t)(eh->e_phoff + (uint64_t)i * eh->e_phentsize)))
			return -ENOEXEC;
		if (ph.p_type == PT_LOAD) {
			if (down(ph.p_vaddr) < img->lo)
				img->lo = down(ph.p_vaddr);
			if (up(ph.p_vaddr + ph.p_memsz) > img->hi)
				img->hi = up(ph.p_vaddr + ph.p_memsz);
			seen = 1;
		} else if (ph.p_type == PT_GNU_RELRO) {
			/* _dl_protect_relro: both ends rounded down to a page. */
			img->relro = down(ph.p_vaddr);
			img->relro_len = down(ph.p_vaddr + ph.p_memsz) - img->relro;
		} else if (ph.p_type == PT_INTERP && ph.p_filesz < sizeof(img->interp)) {
			if (read_at(fd, img->interp, ph.p_filesz, (off_t)ph.p_offset))
				return -ENOEXEC;
			img->interp[ph.p_filesz] = '\0';
		}
	}
	return seen ? 0 : -ENOEXEC;
}

int rp_elf_read(const char *path, rp_image *img)
{
	memset(img, 0, sizeof(*img));
	snprintf(img->path, sizeof(img->path), "%s", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	Elf64_Ehdr eh;
	int err = read_at(fd, &eh, sizeof(eh), 0);
	if (!err && (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
		     (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
		     eh.e_phentsize != sizeof(Elf64_Phdr)))
		err = -ENOEXEC;
	if (!err)
		err = read_phdrs(fd, &eh, img);
	close(fd);
	if (err)
		return err;
	img->dyn = eh.e_type == ET_DYN;
	img->entry = eh.e_entry;
	if (!img->dyn) {	/* a fixed image sits where its headers say, in both worlds */
		img->rec_known = img->pm_known = 1;
		img->rec_base = img->pm_base = 0;
	}
	return 0;
}
