/*
 * Builds the [vdso] ELF image (SPEC §10) with explicit <elf.h> struct writes, and reads it
 * back as a dynamic loader would. The layout is a pure function of the static tables below:
 * headers, then .hash .dynsym .dynstr .gnu.version .gnu.version_d .note .text .dynamic
 * .shstrtab, then the section header table, all inside the first of VDSO_IMAGE_PAGES pages;
 * vaddr equals file offset. The builder never writes outside its VDSO_IMAGE_SIZE bytes and
 * the reader never reads outside the length it was given.
 */
#include "sys/vdso_image.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "lib/common.h"

/* ---------------------------------------------------------------- contents */

/* Names are arrays, not pointers, so the tables hold no relocations and stay in read-only
 * data even in PIC builds (STYLE rule 18: nm shows no writable data symbols). */
struct vdso_func {
	char name[24];		/* exported symbol name */
	uint32_t nr;		/* x86-64 syscall number the body falls back to */
};

static const struct vdso_func vdso_funcs[VDSO_NR_SYMBOLS] = {
	{ "__vdso_clock_gettime", 228 },
	{ "__vdso_gettimeofday", 96 },
	{ "__vdso_time", 201 },
	{ "__vdso_getcpu", 309 },
};

#define VDSO_SONAME	"linux-vdso.so.1"
#define VDSO_VERSION	"LINUX_2.6"
#define VDSO_NSYMS	(VDSO_NR_SYMBOLS + 1)	/* .dynsym entries: the null symbol, then the funcs */
#define VDSO_NBUCKET	3			/* SysV hash buckets */
#define VDSO_NVERDEF	2			/* the base (soname) definition, then LINUX_2.6 */
#define VDSO_VERNDX	2			/* version index every exported function carries */
#define VDSO_NPHDR	3			/* PT_LOAD, PT_DYNAMIC, PT_NOTE */
#define VDSO_NDYN	10			/* .dynamic entries, DT_NULL included */
#define VDSO_FUNC_SLOT	16			/* bytes per function in .text, int3-padded */
#define VDSO_FUNC_LEN	8			/* mov eax, imm32 (5) + syscall (2) + ret (1) */
#define NOTE_NAME	"Linux"
#define NOTE_NAME_SLOT	8			/* "Linux\0" padded to 4-byte alignment */
#define NOTE_KVERSION	((6u << 16) | (6u << 8))	/* kernel version code of 6.6.0 */

/* x86-64 opcodes of the syscall fallback bodies. */
enum { X86_MOV_EAX_IMM32 = 0xb8, X86_RET = 0xc3, X86_INT3 = 0xcc };
static const uint8_t x86_syscall[2] = { 0x0f, 0x05 };

enum vdso_sec {
	SEC_NULL, SEC_HASH, SEC_DYNSYM, SEC_DYNSTR, SEC_VERSYM, SEC_VERDEF,
	SEC_NOTE, SEC_TEXT, SEC_DYNAMIC, SEC_SHSTRTAB, SEC_COUNT
};

struct sec_desc {
	char name[16];
	uint32_t type;		/* SHT_* */
	uint64_t flags;		/* SHF_* */
	uint64_t align;		/* bytes; the section's offset is a multiple of it */
	uint64_t entsize;	/* bytes per entry, 0 when not a table */
	uint32_t link;		/* index of the related section (enum vdso_sec) */
	uint32_t info;		/* SHT-specific, as the gABI defines it */
};

static const struct sec_desc vdso_secs[SEC_COUNT] = {
	[SEC_NULL]     = { "", SHT_NULL, 0, 0, 0, SEC_NULL, 0 },
	[SEC_HASH]     = { ".hash", SHT_HASH, SHF_ALLOC, 8, sizeof(Elf64_Word), SEC_DYNSYM, 0 },
	/* info of a symbol table: index of the first non-local symbol */
	[SEC_DYNSYM]   = { ".dynsym", SHT_DYNSYM, SHF_ALLOC, 8, sizeof(Elf64_Sym), SEC_DYNSTR, 1 },
	[SEC_DYNSTR]   = { ".dynstr", SHT_STRTAB, SHF_ALLOC, 1, 0, SEC_NULL, 0 },
	[SEC_VERSYM]   = { ".gnu.version", SHT_GNU_versym, SHF_ALLOC, 2, sizeof(Elf64_Half),
			   SEC_DYNSYM, 0 },
	[SEC_VERDEF]   = { ".gnu.version_d", SHT_GNU_verdef, SHF_ALLOC, 8, 0, SEC_DYNSTR,
			   VDSO_NVERDEF },
	[SEC_NOTE]     = { ".note", SHT_NOTE, SHF_ALLOC, 4, 0, SEC_NULL, 0 },
	[SEC_TEXT]     = { ".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, VDSO_FUNC_SLOT, 0,
			   SEC_NULL, 0 },
	[SEC_DYNAMIC]  = { ".dynamic", SHT_DYNAMIC, SHF_ALLOC, 8, sizeof(Elf64_Dyn), SEC_DYNSTR, 0 },
	[SEC_SHSTRTAB] = { ".shstrtab", SHT_STRTAB, 0, 1, 0, SEC_NULL, 0 },
};

/* ---------------------------------------------------------------- string tables */

/* .dynstr holds the soname, the version name, then the function names, in that order. */
enum { STR_SONAME, STR_VERSION, STR_FUNC0, STR_COUNT = STR_FUNC0 + VDSO_NR_SYMBOLS };

static const char *dynstr_entry(size_t k)
{
	if (k == STR_SONAME)
		return VDSO_SONAME;
	if (k == STR_VERSION)
		return VDSO_VERSION;
	return vdso_funcs[k - STR_FUNC0].name;
}

/* .shstrtab holds the names of sections 1.. (the null section has the empty name at 0). */
static const char *shstr_entry(size_t k)
{
	return vdso_secs[k + 1].name;
}

/* Offset of entry k in a string table laid out as "\0" e0 "\0" e1 "\0" ...; k == n gives
 * the table's size. */
static uint32_t strtab_offset(const char *(*entry)(size_t), size_t k)
{
	uint32_t off = 1;
	for (size_t j = 0; j < k; j++)
		off += (uint32_t)strlen(entry(j)) + 1;
	return off;
}

static void write_strtab(uint8_t *buf, uint64_t off, const char *(*entry)(size_t), size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const char *s = entry(k);
		memcpy(buf + off + strtab_offset(entry, k), s, strlen(s) + 1);
	}
}

/* The SysV ELF hash of the gABI's "Hash Table" section. */
static uint32_t elf_hash(const char *name)
{
	uint32_t h = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h = (h << 4) + *p;
		uint32_t g = h & 0xf0000000u;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* ---------------------------------------------------------------- layout */

struct vdso_layout {
	uint64_t off[SEC_COUNT];	/* byte offset (and vaddr) of each section */
	uint64_t size[SEC_COUNT];	/* bytes */
	uint64_t shoff;			/* byte offset of the section header table */
	uint64_t end;			/* first byte after the section header table */
};

static uint64_t sec_size(enum vdso_sec s)
{
	switch (s) {
	case SEC_HASH:
		return (2 + VDSO_NBUCKET + VDSO_NSYMS) * sizeof(Elf64_Word);
	case SEC_DYNSYM:
		return VDSO_NSYMS * sizeof(Elf64_Sym);
	case SEC_DYNSTR:
		return strtab_offset(dynstr_entry, STR_COUNT);
	case SEC_VERSYM:
		return VDSO_NSYMS * sizeof(Elf64_Half);
	case SEC_VERDEF:
		return VDSO_NVERDEF * (sizeof(Elf64_Verdef) + sizeof(Elf64_Verdaux));
	case SEC_NOTE:
		return sizeof(Elf64_Nhdr) + NOTE_NAME_SLOT + sizeof(uint32_t);
	case SEC_TEXT:
		return VDSO_NR_SYMBOLS * VDSO_FUNC_SLOT;
	case SEC_DYNAMIC:
		return VDSO_NDYN * sizeof(Elf64_Dyn);
	case SEC_SHSTRTAB:
		return strtab_offset(shstr_entry, SEC_COUNT - 1);
	default:
		return 0;
	}
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return a > 1 ? (x + a - 1) / a * a : x;
}

static void vdso_layout(struct vdso_layout *l)
{
	uint64_t pos = sizeof(Elf64_Ehdr) + VDSO_NPHDR * sizeof(Elf64_Phdr);
	memset(l, 0, sizeof(*l));
	for (int s = SEC_NULL + 1; s < SEC_COUNT; s++) {
		pos = align_up(pos, vdso_secs[s].align);
		l->off[s] = pos;
		l->size[s] = sec_size((enum vdso_sec)s);
		pos += l->size[s];
	}
	l->shoff = align_up(pos, 8);
	l->end = l->shoff + SEC_COUNT * sizeof(Elf64_Shdr);
}

static uint64_t func_offset(const struct vdso_layout *l, size_t i)
{
	return l->off[SEC_TEXT] + i * VDSO_FUNC_SLOT;
}

/* ---------------------------------------------------------------- writers */

static void put(uint8_t *buf, uint64_t off, const void *src, size_t n)
{
	memcpy(buf + off, src, n);
}

static void write_ehdr(uint8_t *buf, const struct vdso_layout *l)
{
	Elf64_Ehdr eh = {
		.e_type = ET_DYN,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = 0,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_shoff = l->shoff,
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = VDSO_NPHDR,
		.e_shentsize = sizeof(Elf64_Shdr),
		.e_shnum = SEC_COUNT,
		.e_shstrndx = SEC_SHSTRTAB,
	};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
	put(buf, 0, &eh, sizeof(eh));
}

static void write_phdrs(uint8_t *buf, const struct vdso_layout *l)
{
	const Elf64_Phdr ph[VDSO_NPHDR] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_vaddr = 0,
		  .p_paddr = 0, .p_filesz = VDSO_IMAGE_SIZE, .p_memsz = VDSO_IMAGE_SIZE,
		  .p_align = PAGE_SIZE },
		{ .p_type = PT_DYNAMIC, .p_flags = PF_R, .p_offset = l->off[SEC_DYNAMIC],
		  .p_vaddr = l->off[SEC_DYNAMIC], .p_paddr = l->off[SEC_DYNAMIC],
		  .p_filesz = l->size[SEC_DYNAMIC], .p_memsz = l->size[SEC_DYNAMIC],
		  .p_align = vdso_secs[SEC_DYNAMIC].align },
		{ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = l->off[SEC_NOTE],
		  .p_vaddr = l->off[SEC_NOTE], .p_paddr = l->off[SEC_NOTE],
		  .p_filesz = l->size[SEC_NOTE], .p_memsz = l->size[SEC_NOTE],
		  .p_align = vdso_secs[SEC_NOTE].align },
	};
	put(buf, sizeof(Elf64_Ehdr), ph, sizeof(ph));
}

/* Symbol i + 1 is function i; each chain links symbols whose hashes share a bucket. */
static void write_hash(uint8_t *buf, const struct vdso_layout *l)
{
	Elf64_Word words[2 + VDSO_NBUCKET + VDSO_NSYMS] = { VDSO_NBUCKET, VDSO_NSYMS };
	Elf64_Word *bucket = &words[2], *chain = &words[2 + VDSO_NBUCKET];
	for (Elf64_Word idx = 1; idx < VDSO_NSYMS; idx++) {
		uint32_t b = elf_hash(vdso_funcs[idx - 1].name) % VDSO_NBUCKET;
		chain[idx] = bucket[b];
		bucket[b] = idx;
	}
	put(buf, l->off[SEC_HASH], words, sizeof(words));
}

static void write_dynsym(uint8_t *buf, const struct vdso_layout *l)
{
	for (size_t i = 0; i < VDSO_NR_SYMBOLS; i++) {
		const Elf64_Sym sym = {
			.st_name = strtab_offset(dynstr_entry, STR_FUNC0 + i),
			.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
			.st_other = STV_DEFAULT,
			.st_shndx = SEC_TEXT,
			.st_value = func_offset(l, i),
			.st_size = VDSO_FUNC_LEN,
		};
		put(buf, l->off[SEC_DYNSYM] + (i + 1) * sizeof(sym), &sym, sizeof(sym));
	}
}

/* The null symbol is VER_NDX_LOCAL; every function is LINUX_2.6. */
static void write_versions(uint8_t *buf, const struct vdso_layout *l)
{
	Elf64_Half versym[VDSO_NSYMS] = { VER_NDX_LOCAL };
	for (size_t idx = 1; idx < VDSO_NSYMS; idx++)
		versym[idx] = VDSO_VERNDX;
	put(buf, l->off[SEC_VERSYM], versym, sizeof(versym));

	const size_t step = sizeof(Elf64_Verdef) + sizeof(Elf64_Verdaux);
	for (size_t k = 0; k < VDSO_NVERDEF; k++) {
		const char *name = dynstr_entry(k == 0 ? STR_SONAME : STR_VERSION);
		const Elf64_Verdef vd = {
			.vd_version = VER_DEF_CURRENT,
			.vd_flags = k == 0 ? VER_FLG_BASE : 0,
			.vd_ndx = (Elf64_Half)(k + 1),
			.vd_cnt = 1,
			.vd_hash = elf_hash(name),
			.vd_aux = sizeof(Elf64_Verdef),
			.vd_next = k + 1 < VDSO_NVERDEF ? (Elf64_Word)step : 0,
		};
		const Elf64_Verdaux vda = {
			.vda_name = strtab_offset(dynstr_entry, k == 0 ? STR_SONAME : STR_VERSION),
			.vda_next = 0,
		};
		put(buf, l->off[SEC_VERDEF] + k * step, &vd, sizeof(vd));
		put(buf, l->off[SEC_VERDEF] + k * step + sizeof(vd), &vda, sizeof(vda));
	}
}

/* A "Linux" note of type 0 whose descriptor is the kernel version code. */
static void write_note(uint8_t *buf, const struct vdso_layout *l)
{
	const Elf64_Nhdr nh = { .n_namesz = sizeof(NOTE_NAME), .n_descsz = sizeof(uint32_t),
				.n_type = 0 };
	const uint32_t version = NOTE_KVERSION;
	put(buf, l->off[SEC_NOTE], &nh, sizeof(nh));
	put(buf, l->off[SEC_NOTE] + sizeof(nh), NOTE_NAME, sizeof(NOTE_NAME));
	put(buf, l->off[SEC_NOTE] + sizeof(nh) + NOTE_NAME_SLOT, &version, sizeof(version));
}

/* Each body is "mov eax, nr; syscall; ret": the arguments are already in rdi/rsi/rdx. */
static void write_text(uint8_t *buf, const struct vdso_layout *l)
{
	for (size_t i = 0; i < VDSO_NR_SYMBOLS; i++) {
		uint8_t *p = buf + func_offset(l, i);
		const uint32_t nr = vdso_funcs[i].nr;
		memset(p, X86_INT3, VDSO_FUNC_SLOT);
		p[0] = X86_MOV_EAX_IMM32;
		for (int b = 0; b < 4; b++)
			p[1 + b] = (uint8_t)(nr >> (8 * b));	/* imm32, little-endian */
		memcpy(p + 5, x86_syscall, sizeof(x86_syscall));
		p[7] = X86_RET;
	}
}

static void write_dynamic(uint8_t *buf, const struct vdso_layout *l)
{
	const Elf64_Dyn dyn[VDSO_NDYN] = {
		{ .d_tag = DT_SONAME, .d_un.d_val = strtab_offset(dynstr_entry, STR_SONAME) },
		{ .d_tag = DT_HASH, .d_un.d_ptr = l->off[SEC_HASH] },
		{ .d_tag = DT_STRTAB, .d_un.d_ptr = l->off[SEC_DYNSTR] },
		{ .d_tag = DT_SYMTAB, .d_un.d_ptr = l->off[SEC_DYNSYM] },
		{ .d_tag = DT_STRSZ, .d_un.d_val = l->size[SEC_DYNSTR] },
		{ .d_tag = DT_SYMENT, .d_un.d_val = sizeof(Elf64_Sym) },
		{ .d_tag = DT_VERSYM, .d_un.d_ptr = l->off[SEC_VERSYM] },
		{ .d_tag = DT_VERDEF, .d_un.d_ptr = l->off[SEC_VERDEF] },
		{ .d_tag = DT_VERDEFNUM, .d_un.d_val = VDSO_NVERDEF },
		{ .d_tag = DT_NULL, .d_un.d_val = 0 },
	};
	put(buf, l->off[SEC_DYNAMIC], dyn, sizeof(dyn));
}

static void write_shdrs(uint8_t *buf, const struct vdso_layout *l)
{
	for (int s = SEC_NULL + 1; s < SEC_COUNT; s++) {
		const struct sec_desc *d = &vdso_secs[s];
		const Elf64_Shdr sh = {
			.sh_name = strtab_offset(shstr_entry, (size_t)s - 1),
			.sh_type = d->type,
			.sh_flags = d->flags,
			.sh_addr = (d->flags & SHF_ALLOC) ? l->off[s] : 0,
			.sh_offset = l->off[s],
			.sh_size = l->size[s],
			.sh_link = d->link,
			.sh_info = d->info,
			.sh_addralign = d->align,
			.sh_entsize = d->entsize,
		};
		put(buf, l->shoff + (uint64_t)s * sizeof(sh), &sh, sizeof(sh));
	}
}

int vdso_image_build(uint8_t *buf, size_t len)
{
	struct vdso_layout l;
	vdso_layout(&l);
	/* The layout is constant; a table edit that outgrew the image would fail here and in
	 * the test image_fills_two_pages_under_one_read_exec_load_segment. */
	if (!buf || len < VDSO_IMAGE_SIZE || l.end > VDSO_IMAGE_SIZE)
		return -EINVAL;
	memset(buf, 0, VDSO_IMAGE_SIZE);
	write_ehdr(buf, &l);
	write_phdrs(buf, &l);
	write_hash(buf, &l);
	write_dynsym(buf, &l);
	write_strtab(buf, l.off[SEC_DYNSTR], dynstr_entry, STR_COUNT);
	write_versions(buf, &l);
	write_note(buf, &l);
	write_text(buf, &l);
	write_dynamic(buf, &l);
	write_strtab(buf, l.off[SEC_SHSTRTAB], shstr_entry, SEC_COUNT - 1);
	write_shdrs(buf, &l);
	return 0;
}

int vdso_image_symbols(struct vdso_symbol out[VDSO_NR_SYMBOLS])
{
	struct vdso_layout l;
	vdso_layout(&l);
	for (size_t i = 0; i < VDSO_NR_SYMBOLS; i++) {
		out[i].name = vdso_funcs[i].name;
		out[i].offset = func_offset(&l, i);
	}
	return VDSO_NR_SYMBOLS;
}

/* ---------------------------------------------------------------- reader */

/* An image being read: the buffer and its PT_LOAD, which lies wholly inside the buffer. */
struct vdso_view {
	const uint8_t *buf;
	size_t len;		/* bytes readable at buf */
	Elf64_Phdr load;	/* the first PT_LOAD; p_offset + p_filesz <= len */
};

/* Copies n bytes at image offset off into dst, or fails with -ENOEXEC if out of range. */
static int view_read(const struct vdso_view *v, uint64_t off, void *dst, size_t n)
{
	if (off > v->len || n > v->len - off)
		return -ENOEXEC;
	memcpy(dst, v->buf + off, n);
	return 0;
}

/* Translates the n-byte range at vaddr through PT_LOAD to a buffer offset, as ld.so would. */
static int view_vaddr(const struct vdso_view *v, uint64_t vaddr, uint64_t n, uint64_t *off)
{
	if (vaddr < v->load.p_vaddr)
		return -ENOEXEC;
	uint64_t rel = vaddr - v->load.p_vaddr;
	if (rel > v->load.p_filesz || n > v->load.p_filesz - rel)
		return -ENOEXEC;
	*off = v->load.p_offset + rel;
	return 0;
}

/* Reads n bytes at vaddr. */
static int view_read_vaddr(const struct vdso_view *v, uint64_t vaddr, void *dst, size_t n)
{
	uint64_t off;
	int err = view_vaddr(v, vaddr, n, &off);
	return err ? err : view_read(v, off, dst, n);
}

static int ehdr_valid(const Elf64_Ehdr *eh)
{
	return memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh->e_ident[EI_DATA] == ELFDATA2LSB && eh->e_type == ET_DYN &&
	       eh->e_phentsize == sizeof(Elf64_Phdr);
}

/* Checks the ELF header and finds PT_LOAD and PT_DYNAMIC. */
static int view_open(struct vdso_view *v, const uint8_t *buf, size_t len, Elf64_Phdr *dynamic)
{
	Elf64_Ehdr eh;
	int have_load = 0, have_dyn = 0;
	v->buf = buf;
	v->len = buf ? len : 0;
	if (view_read(v, 0, &eh, sizeof(eh)) || !ehdr_valid(&eh))
		return -ENOEXEC;
	for (uint32_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (view_read(v, eh.e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph)))
			return -ENOEXEC;
		if (ph.p_type == PT_LOAD && !have_load) {
			v->load = ph;
			have_load = 1;
		} else if (ph.p_type == PT_DYNAMIC && !have_dyn) {
			*dynamic = ph;
			have_dyn = 1;
		}
	}
	if (!have_load || !have_dyn || v->load.p_offset > len ||
	    v->load.p_filesz > len - v->load.p_offset)
		return -ENOEXEC;
	return 0;
}

/* What a loader needs from .dynamic to resolve a symbol: vaddrs of the tables, and sizes. */
struct vdso_dyninfo {
	uint64_t hash, symtab, strtab;	/* vaddrs; 0 = absent */
	uint64_t strsz;			/* bytes */
	uint64_t syment;		/* bytes per symbol */
};

static int read_dynamic(const struct vdso_view *v, const Elf64_Phdr *dynamic,
			struct vdso_dyninfo *di)
{
	memset(di, 0, sizeof(*di));
	di->syment = sizeof(Elf64_Sym);
	for (uint64_t i = 0; i < dynamic->p_filesz / sizeof(Elf64_Dyn); i++) {
		Elf64_Dyn d;
		if (view_read_vaddr(v, dynamic->p_vaddr + i * sizeof(d), &d, sizeof(d)))
			return -ENOEXEC;
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_HASH)
			di->hash = d.d_un.d_ptr;
		else if (d.d_tag == DT_SYMTAB)
			di->symtab = d.d_un.d_ptr;
		else if (d.d_tag == DT_STRTAB)
			di->strtab = d.d_un.d_ptr;
		else if (d.d_tag == DT_STRSZ)
			di->strsz = d.d_un.d_val;
		else if (d.d_tag == DT_SYMENT)
			di->syment = d.d_un.d_val;
	}
	if (!di->hash || !di->symtab || !di->strtab || di->syment != sizeof(Elf64_Sym))
		return -ENOEXEC;
	return 0;
}

/* True when sym is a defined function called exactly name; the name is bounds-checked. */
static int sym_is(const struct vdso_view *v, const struct vdso_dyninfo *di,
		  const Elf64_Sym *sym, const char *name)
{
	size_t want = strlen(name) + 1;		/* compare the NUL too: an exact match */
	uint64_t off;
	if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_shndx == SHN_UNDEF)
		return 0;
	if (sym->st_name > di->strsz || want > di->strsz - sym->st_name)
		return 0;
	if (view_vaddr(v, di->strtab + sym->st_name, want, &off) || off > v->len ||
	    want > v->len - off)
		return 0;
	return memcmp(v->buf + off, name, want) == 0;
}

/* Follows name's SysV hash chain to the symbol's vaddr. Returns 0, -ENOENT or -ENOEXEC. */
static int hash_lookup(const struct vdso_view *v, const struct vdso_dyninfo *di,
		       const char *name, uint64_t *vaddr)
{
	Elf64_Word head[2], idx;
	if (view_read_vaddr(v, di->hash, head, sizeof(head)) || head[0] == 0)
		return -ENOEXEC;
	const uint64_t bucket = di->hash + sizeof(head), chain = bucket + 4ull * head[0];
	if (view_read_vaddr(v, bucket + 4ull * (elf_hash(name) % head[0]), &idx, sizeof(idx)))
		return -ENOEXEC;
	/* A well-formed chain visits each of the nchain symbols at most once. */
	for (Elf64_Word steps = 0; idx != STN_UNDEF; steps++) {
		Elf64_Sym sym;
		if (idx >= head[1] || steps >= head[1] ||
		    view_read_vaddr(v, di->symtab + (uint64_t)idx * sizeof(sym), &sym, sizeof(sym)))
			return -ENOEXEC;
		if (sym_is(v, di, &sym, name)) {
			*vaddr = sym.st_value;
			return 0;
		}
		if (view_read_vaddr(v, chain + 4ull * idx, &idx, sizeof(idx)))
			return -ENOEXEC;
	}
	return -ENOENT;
}

long vdso_image_lookup(const uint8_t *buf, size_t len, const char *name)
{
	struct vdso_view v = { 0 };
	struct vdso_dyninfo di;
	Elf64_Phdr dynamic = { 0 };
	if (view_open(&v, buf, len, &dynamic) || read_dynamic(&v, &dynamic, &di))
		return -ENOEXEC;
	uint64_t vaddr, off;
	int err = hash_lookup(&v, &di, name, &vaddr);
	if (err)
		return err;
	/* A function must lie inside the loaded image; its buffer offset is what we report. */
	if (view_vaddr(&v, vaddr, 1, &off))
		return -ENOEXEC;
	return (long)off;
}
