/*
 * Opening and checking ELF64 x86-64 images for exec: the host lookup inside the root, the
 * execute-permission and file-type rules, and the header checks of Linux's
 * load_elf_binary (magic, class, machine, type, program-header table, PT_INTERP, PT_LOAD
 * sanity). Headers are read through the file's page-cache object, so the image exec maps
 * is the one the page cache holds. Mapping the segments lives in elf_load_map.c.
 */
#include "sys/elf_load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "sys/sys.h"

#define ELF_PATH_MAX	SYS_PATH_MAX
#define ELF_PH_MAX	65536		/* Linux refuses program-header tables above 64 KiB */

/* The page-cache object of an executable regular file at path. */
static int exec_open_object(struct pm_system *sys, const char *path, struct vm_object **out)
{
	if (!path[0])
		return -ENOENT;
	if (strlen(path) >= ELF_PATH_MAX)
		return -ENAMETOOLONG;
	int hfd = sys_host_open(sys->cfg.root, path, O_RDONLY, 0);
	if (hfd < 0)
		return hfd;
	struct stat st;
	int err = 0;
	/* do_open_execat: only regular files run, and only with an execute bit. */
	if (fstat(hfd, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		err = -EACCES;
	char *name = err ? NULL : kmem_zalloc(&sys->km, ELF_PATH_MAX);
	if (!err && !name)
		err = -ENOMEM;
	if (!err) {
		sys_host_name(sys->cfg.root, hfd, path, name);
		*out = obj_file_open(&sys->fcache, hfd, OBJ_FMODE_READ, name, &err);
		if (*out)
			err = 0;	/* *err is written only on failure */
		kmem_free(&sys->km, name, ELF_PATH_MAX);
	}
	close(hfd);
	return err;
}

/* Exactly len bytes at off, else -ENOEXEC (a short or unreadable image). */
static int read_exact(struct vm_object *o, uint64_t off, void *buf, size_t len)
{
	long n = obj_pread(o, off, buf, len);
	return n == (long)len ? 0 : -ENOEXEC;
}

static int check_ehdr(const Elf64_Ehdr *eh)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	if ((eh->e_type != ET_EXEC && eh->e_type != ET_DYN) || eh->e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum < 1 ||
	    (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > ELF_PH_MAX)
		return -ENOEXEC;
	return 0;
}

/* PT_LOAD sanity (load_elf_binary's -EINVAL cases) and PT_INTERP's path. */
static int check_phdrs(struct elf_image *img)
{
	int loads = 0;
	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_type == PT_LOAD) {
			loads++;
			if (p->p_filesz > p->p_memsz || p->p_memsz > (1ULL << 47) ||
			    p->p_vaddr > (1ULL << 47) - p->p_memsz ||
			    ((p->p_vaddr ^ p->p_offset) & (PAGE_SIZE - 1)))
				return -EINVAL;
		}
		if (p->p_type != PT_INTERP || img->interp)
			continue;
		if (p->p_filesz < 2 || p->p_filesz > ELF_PATH_MAX)
			return -ENOEXEC;
		img->interp_size = p->p_filesz;
		img->interp = kmem_zalloc(img->km, p->p_filesz);
		if (!img->interp)
			return -ENOMEM;
		int err = read_exact(img->obj, p->p_offset, img->interp, p->p_filesz);
		if (err || img->interp[p->p_filesz - 1] != '\0')
			return -ENOEXEC;
	}
	return loads ? 0 : -ENOEXEC;
}

int elf_image_open(struct pm_system *sys, const char *path, struct elf_image *img)
{
	memset(img, 0, sizeof(*img));
	img->km = &sys->km;
	return exec_open_object(sys, path, &img->obj);
}

int elf_image_read(struct elf_image *img)
{
	int err = read_exact(img->obj, 0, &img->eh, sizeof(img->eh));
	if (!err)
		err = check_ehdr(&img->eh);
	if (err)
		return err;
	size_t phsz = (size_t)img->eh.e_phnum * sizeof(Elf64_Phdr);
	img->ph = kmem_zalloc(img->km, phsz);
	if (!img->ph)
		return -ENOMEM;
	err = read_exact(img->obj, img->eh.e_phoff, img->ph, phsz);
	return err ? err : check_phdrs(img);
}

void elf_image_release(struct elf_image *img)
{
	if (img->ph)
		kmem_free(img->km, img->ph, (size_t)img->eh.e_phnum * sizeof(Elf64_Phdr));
	if (img->interp)
		kmem_free(img->km, img->interp, img->interp_size);
	if (img->obj)
		obj_put(img->obj);
	img->ph = NULL;
	img->interp = NULL;
	img->obj = NULL;
}
