/*
 * The PT_NOTE of a core file, in the layout readelf and gdb expect for x86-64 Linux:
 * NT_PRSTATUS (struct elf_prstatus: 336 bytes, the general registers at byte 112 in
 * user_regs_struct order), NT_PRPSINFO (struct elf_prpsinfo: 136 bytes), NT_AUXV (the
 * vector exec built) and NT_FILE (count, page size, then start/end/page offset triples
 * and the NUL-terminated names). Every note is named "CORE" and padded to 4 bytes.
 */
#include "sys/coredump.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "obj/object.h"

#define PRSTATUS_SIZE	336
#define PRSTATUS_PID	32
#define PRSTATUS_REGS	112		/* 27 registers of 8 bytes */
#define REG_RIP_	16
#define REG_CS_		17
#define REG_EFLAGS_	18
#define REG_RSP_	19
#define REG_SS_		20
#define PRPSINFO_SIZE	136
#define NAME_MAX_	4096

static void buf_put(struct core_buf *b, const void *src, size_t len)
{
	if (b->err)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *n = b->p ? kmem_realloc(b->km, b->p, b->cap, cap) : kmem_zalloc(b->km, cap);
		if (!n) {
			b->err = -ENOMEM;
			return;
		}
		b->p = n;
		b->cap = cap;
	}
	if (src)
		memcpy(b->p + b->len, src, len);
	else
		memset(b->p + b->len, 0, len);
	b->len += len;
}

void core_buf_free(struct core_buf *b)
{
	if (b->p)
		kmem_free(b->km, b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

static void pad4(struct core_buf *b)
{
	buf_put(b, NULL, (4 - (b->len & 3)) & 3);
}

/* A note header and name; the caller appends descsz bytes of descriptor, then pad4. */
static void note_head(struct core_buf *b, uint32_t type, size_t descsz)
{
	Elf64_Nhdr nh = { .n_namesz = 5, .n_descsz = (Elf64_Word)descsz, .n_type = type };
	buf_put(b, &nh, sizeof(nh));
	buf_put(b, "CORE\0\0\0", 8);
}

static void put_u32(uint8_t *d, size_t off, uint32_t v) { memcpy(d + off, &v, 4); }
static void put_u64(uint8_t *d, size_t off, uint64_t v) { memcpy(d + off, &v, 8); }

static void note_prstatus(struct pm_process *p, struct core_buf *b)
{
	uint8_t d[PRSTATUS_SIZE] = { 0 };
	put_u32(d, PRSTATUS_PID, (uint32_t)p->pid);
	put_u32(d, PRSTATUS_PID + 4, (uint32_t)p->ppid);
	put_u32(d, PRSTATUS_PID + 8, (uint32_t)p->pid);		/* pgrp */
	put_u32(d, PRSTATUS_PID + 12, (uint32_t)p->pid);	/* sid */
	put_u64(d, PRSTATUS_REGS + 8 * REG_RIP_, p->exec_entry);
	put_u64(d, PRSTATUS_REGS + 8 * REG_CS_, 0x33);		/* __USER_CS */
	put_u64(d, PRSTATUS_REGS + 8 * REG_EFLAGS_, 0x202);	/* IF */
	put_u64(d, PRSTATUS_REGS + 8 * REG_RSP_, p->exec_sp);
	put_u64(d, PRSTATUS_REGS + 8 * REG_SS_, 0x2b);		/* __USER_DS */
	note_head(b, NT_PRSTATUS, sizeof(d));
	buf_put(b, d, sizeof(d));
	pad4(b);
}

static void note_prpsinfo(struct pm_process *p, struct core_buf *b)
{
	uint8_t d[PRPSINFO_SIZE] = { 0 };
	d[1] = 'R';					/* pr_sname */
	put_u32(d, 24, (uint32_t)p->pid);
	put_u32(d, 28, (uint32_t)p->ppid);
	put_u32(d, 32, (uint32_t)p->pid);
	put_u32(d, 36, (uint32_t)p->pid);
	memcpy(d + 40, p->comm, 16);			/* pr_fname */
	memcpy(d + 56, p->comm, 16);			/* pr_psargs: the name, argv is gone */
	note_head(b, NT_PRPSINFO, sizeof(d));
	buf_put(b, d, sizeof(d));
	pad4(b);
}

static void note_auxv(struct pm_process *p, struct core_buf *b)
{
	if (!p->nr_auxv)
		return;
	note_head(b, NT_AUXV, (size_t)p->nr_auxv * 8);
	buf_put(b, p->saved_auxv, (size_t)p->nr_auxv * 8);
	pad4(b);
}

/* Linux lists every VMA with a vm_file; special mappings (vdso, vvar) have none. */
static int has_file(const struct vma *v)
{
	return v->vm_obj && v->vm_obj->kind != OBJ_SPECIAL;
}

static void note_file(struct mm_struct *mm, struct core_buf *b)
{
	uint64_t count = 0;
	size_t names = 0;
	char *name = kmem_zalloc(b->km, NAME_MAX_);
	if (!name) {
		b->err = -ENOMEM;
		return;
	}
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
		if (has_file(v) && obj_map_name(v->vm_obj, name, NAME_MAX_)) {
			count++;
			names += strlen(name) + 1;
		}
	note_head(b, NT_FILE, 16 + count * 24 + names);
	uint64_t hdr[2] = { count, PAGE_SIZE };
	buf_put(b, hdr, sizeof(hdr));
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
		if (has_file(v) && obj_map_name(v->vm_obj, name, NAME_MAX_)) {
			uint64_t e[3] = { v->vm_start, v->vm_end, v->vm_pgoff };
			buf_put(b, e, sizeof(e));
		}
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
		if (has_file(v) && obj_map_name(v->vm_obj, name, NAME_MAX_))
			buf_put(b, name, strlen(name) + 1);
	pad4(b);
	kmem_free(b->km, name, NAME_MAX_);
}

void core_notes_build(struct pm_process *p, struct core_buf *b)
{
	note_prstatus(p, b);
	note_prpsinfo(p, b);
	note_auxv(p, b);
	note_file(p->mm, b);
}
