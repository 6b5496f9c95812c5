/*
 * pm_coredump: an ELF64 ET_CORE file of a live process (SPEC §10), laid out as Linux's
 * elf_core_dump writes it: the ELF header, a PT_NOTE and one PT_LOAD per VMA, the notes,
 * then each segment's bytes from the next page boundary. What a segment holds follows
 * vma_dump_size under the default coredump_filter 0x33. Pages are read through the page
 * tables under mm->lock (read) and mm->ptl, never faulted in: a swapped-out page is read
 * from the swap cache or its slot, a missing anonymous page is zeros, a missing file page
 * is read through its object. The process never changes.
 */
#include "sys/coredump.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mm/swap_mm.h"
#include "obj/object.h"

/* vma_dump_size with coredump_filter 0x33: ANON_PRIVATE, ANON_SHARED, ELF_HEADERS,
 * HUGETLB_PRIVATE. Special mappings: [vdso] always, [vvar] never. */
static uint64_t dump_size(struct mm_struct *mm, struct vma *v, uint8_t *page);

/* One page of v at va into buf. */
static void read_page(struct mm_struct *mm, struct vma *v, uint64_t va, uint8_t *buf)
{
	int level;
	pthread_mutex_lock(&mm->ptl);
	pte_t *ep = pgt_lookup(&mm->pgt, va, &level);
	pte_t e = ep ? *ep : 0;
	if (e && (pte_present(e) || (e & PTE_PROTNONE))) {
		uint64_t pfn = pte_pfn(e) + ((va & (pgt_level_size(level) - 1)) >> PAGE_SHIFT);
		memcpy(buf, pfn_to_virt(mm->sys->ph, pfn), PAGE_SIZE);
		pthread_mutex_unlock(&mm->ptl);
		return;
	}
	/* A swapped-out page dumps its real bytes (Linux's get_dump_page faults it in;
	 * reading the slot gives the same bytes and leaves the process unchanged). */
	if (pte_is_swap(e) && !mm_swap_peek(mm, e, buf)) {
		pthread_mutex_unlock(&mm->ptl);
		return;
	}
	pthread_mutex_unlock(&mm->ptl);
	memset(buf, 0, PAGE_SIZE);
	struct vm_object *o = v->vm_obj;
	uint64_t idx = v->vm_pgoff + ((va - v->vm_start) >> PAGE_SHIFT);
	if (o && o->kind == OBJ_FILE) {
		obj_pread(o, idx * PAGE_SIZE, buf, PAGE_SIZE);	/* zeros past EOF */
	} else if (o) {
		obj_peek_copy(o, idx, buf);	/* shmem: never allocate; swapped: the slot */
	}
}

static uint64_t dump_size(struct mm_struct *mm, struct vma *v, uint8_t *page)
{
	uint64_t whole = v->vm_end - v->vm_start;
	if (v->kind == VMA_VDSO)
		return whole;			/* always_dump_vma */
	if (v->kind == VMA_VVAR || v->kind == VMA_VVAR_VCLOCK || (v->vm_flags & VM_DONTDUMP) ||
	    (v->vm_flags & VM_IO))
		return 0;
	if (v->vm_flags & VM_SHARED)
		return v->vm_obj && v->vm_obj->kind != OBJ_FILE ? whole : 0;	/* anon shared */
	if (v->anon)
		return whole;			/* private memory that was written */
	if (!v->vm_obj || v->vm_pgoff || !(v->vm_flags & VM_READ))
		return 0;
	read_page(mm, v, v->vm_start, page);	/* ELF_HEADERS: only if it is one */
	return memcmp(page, ELFMAG, SELFMAG) ? 0 : PAGE_SIZE;
}

static uint32_t seg_flags(uint64_t vf)
{
	return (vf & VM_READ ? PF_R : 0) | (vf & VM_WRITE ? PF_W : 0) | (vf & VM_EXEC ? PF_X : 0);
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0)
			return -errno;
		buf = (const uint8_t *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* The ELF header, the program headers and the notes. *data_off = where segments start. */
static int write_headers(int fd, struct mm_struct *mm, const struct core_buf *notes,
			 uint8_t *page, uint64_t *data_off)
{
	uint64_t n = mm->mt.count + 1;
	Elf64_Ehdr eh = { .e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (Elf64_Half)n };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	int err = write_all(fd, &eh, sizeof(eh), 0);
	uint64_t off = sizeof(eh), notes_off = sizeof(eh) + n * sizeof(Elf64_Phdr);
	Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes->len };
	if (!err)
		err = write_all(fd, &ph, sizeof(ph), off);
	off += sizeof(ph);
	uint64_t data = page_align_up(notes_off + notes->len);
	for (struct vma *v = vma_first(&mm->mt); v && !err; v = vma_next(&mm->mt, v)) {
		uint64_t size = dump_size(mm, v, page);
		Elf64_Phdr lp = { .p_type = PT_LOAD, .p_flags = seg_flags(v->vm_flags),
				  .p_offset = data, .p_vaddr = v->vm_start, .p_filesz = size,
				  .p_memsz = v->vm_end - v->vm_start, .p_align = PAGE_SIZE };
		err = write_all(fd, &lp, sizeof(lp), off);
		off += sizeof(lp);
		data += size;
	}
	if (!err)
		err = write_all(fd, notes->p, notes->len, notes_off);
	*data_off = page_align_up(notes_off + notes->len);
	return err;
}

static int write_segments(int fd, struct mm_struct *mm, uint8_t *page, uint64_t off)
{
	int err = 0;
	for (struct vma *v = vma_first(&mm->mt); v && !err; v = vma_next(&mm->mt, v)) {
		uint64_t size = dump_size(mm, v, page);
		for (uint64_t va = v->vm_start; va < v->vm_start + size && !err; va += PAGE_SIZE) {
			read_page(mm, v, va, page);
			err = write_all(fd, page, PAGE_SIZE, off);
			off += PAGE_SIZE;
		}
	}
	/* A file that ends in a hole still has its full length. */
	if (!err && ftruncate(fd, (off_t)off))
		err = -errno;
	return err;
}

static int dump_locked(int fd, struct pm_process *p, uint8_t *page)
{
	struct mm_struct *mm = p->mm;
	struct core_buf notes = { .km = &p->sys->km };
	core_notes_build(p, &notes);
	int err = notes.err;
	uint64_t data = 0;
	if (!err)
		err = write_headers(fd, mm, &notes, page, &data);
	if (!err)
		err = write_segments(fd, mm, page, data);
	core_buf_free(&notes);
	return err;
}

/* The contract is in peimm.h. The dump holds mm->lock for reading throughout, so the
 * VMAs it lists are the ones it writes. */
int pm_coredump(pm_thread *t, const char *path)
{
	if (!t || !path)
		return -EINVAL;
	struct pm_process *p = t->proc;
	if (process_enter(p))
		return -ESRCH;
	int err = 0;
	uint8_t *page = kmem_zalloc(&p->sys->km, PAGE_SIZE);
	int fd = page ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	if (!page)
		err = -ENOMEM;
	else if (fd < 0)
		err = -errno;
	if (!err) {
		pthread_rwlock_rdlock(&p->mm->lock);
		err = dump_locked(fd, p, page);
		pthread_rwlock_unlock(&p->mm->lock);
	}
	if (fd >= 0)
		close(fd);
	if (page)
		kmem_free(&p->sys->km, page, PAGE_SIZE);
	process_leave(p);
	return err;
}
