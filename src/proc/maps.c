/*
 * /proc/<pid>/maps, byte for byte as Linux's show_map_vma prints it: hex ranges of at
 * least 8 digits, rwxp/s permissions, the file offset, device and inode, then the name
 * padded to column 73. Names come from the mm's bounds ([heap], [stack]) and the VMA kind
 * ([vdso], [vvar]); [vsyscall] closes the list as Linux's gate VMA. Rendering is a hot
 * path (maps of 20k VMAs is a benchmark), so it uses strbuf's printf-free appenders.
 */
#include "proc/proc.h"

#include "obj/object.h"

#define NAME_COLUMN 72	/* 25 + 6 * sizeof(void *) - 1: where seq_pad puts the name */

static const char *vma_name(struct mm_struct *mm, const struct vma *v, char *buf, size_t size)
{
	switch (v->kind) {
	case VMA_VDSO: return "[vdso]";
	case VMA_VVAR: return "[vvar]";
	case VMA_VVAR_VCLOCK: return "[vvar_vclock]";
	}
	if (v->vm_obj && v->vm_obj->name)
		return obj_map_name(v->vm_obj, buf, size);	/* adds " (deleted)" once unlinked */
	if (!v->vm_obj && v->vm_start <= mm->brk && v->vm_end >= mm->start_brk)
		return "[heap]";
	if (v->vm_start <= mm->start_stack && v->vm_end >= mm->start_stack)
		return "[stack]";
	return NULL;
}

static void line(struct strbuf *sb, uint64_t start, uint64_t end, const char perms[5],
		 uint64_t off, unsigned maj, unsigned min, uint64_t ino, const char *name)
{
	size_t begin = sb->len;
	sb_hex(sb, start, 8);
	sb_putc(sb, '-');
	sb_hex(sb, end, 8);
	sb_putc(sb, ' ');
	sb_putn(sb, perms, 4);
	sb_putc(sb, ' ');
	sb_hex(sb, off, 8);
	sb_putc(sb, ' ');
	sb_hex(sb, maj, 2);
	sb_putc(sb, ':');
	sb_hex(sb, min, 2);
	sb_putc(sb, ' ');
	sb_dec(sb, ino, 0);
	if (name) {
		size_t used = sb->len - begin;
		for (; used < NAME_COLUMN; used++)
			sb_putc(sb, ' ');
		sb_putc(sb, ' ');
		sb_puts(sb, name);
	} else {
		sb_putc(sb, ' ');
	}
	sb_putc(sb, '\n');
}

void proc_map_line(struct mm_struct *mm, const struct vma *v, struct strbuf *sb)
{
	char perms[5] = {
		v->vm_flags & VM_READ ? 'r' : '-', v->vm_flags & VM_WRITE ? 'w' : '-',
		v->vm_flags & VM_EXEC ? 'x' : '-', v->vm_flags & VM_MAYSHARE ? 's' : 'p', 0,
	};
	const struct vm_object *o = v->vm_obj;
	int file = o && o->kind != OBJ_SPECIAL;
	char name[4200];
	line(sb, v->vm_start, v->vm_end, perms, file ? v->vm_pgoff << PAGE_SHIFT : 0,
	     file ? o->dev_major : 0, file ? o->dev_minor : 0, file ? o->ino : 0,
	     vma_name(mm, v, name, sizeof(name)));
}

void proc_gate_line(struct strbuf *sb)
{
	/* vsyscall=xonly: the emulated page is execute-only (SPEC §2). */
	line(sb, 0xffffffffff600000ULL, 0xffffffffff601000ULL, "--xp", 0, 0, 0, 0, "[vsyscall]");
}

void proc_span_line(struct strbuf *sb, uint64_t start, uint64_t end, const char *name)
{
	line(sb, start, end, "---p", 0, 0, 0, 0, name);
}

void proc_render_maps(struct mm_struct *mm, struct strbuf *sb)
{
	pthread_rwlock_rdlock(&mm->lock);
	for (struct vma *v = vma_first(&mm->mt); v; v = vma_next(&mm->mt, v))
		proc_map_line(mm, v, sb);
	pthread_rwlock_unlock(&mm->lock);
	proc_gate_line(sb);
}
