/*
 * Tests of the [vdso] image builder (SPEC §10): the image is a well-formed x86-64 ELF shared
 * object of exactly two pages, its four functions resolve through its own dynamic symbol
 * table, the reader survives truncated and corrupt images, and the host's readelf accepts it
 * without a warning.
 */
#include "check.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/vdso_image.h"

static const char *const vdso_names[VDSO_NR_SYMBOLS] = {
	"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu",
};

/* Finds the section called name by walking the section headers; 0 when absent. */
static int find_section(const uint8_t *img, const char *name, Elf64_Shdr *out)
{
	Elf64_Ehdr eh;
	Elf64_Shdr strtab;
	memcpy(&eh, img, sizeof(eh));
	memcpy(&strtab, img + eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(strtab), sizeof(strtab));
	for (int i = 0; i < eh.e_shnum; i++) {
		memcpy(out, img + eh.e_shoff + (uint64_t)i * sizeof(*out), sizeof(*out));
		if (strcmp((const char *)img + strtab.sh_offset + out->sh_name, name) == 0)
			return 1;
	}
	return 0;
}

static void read_phdr(const uint8_t *img, int i, Elf64_Phdr *ph)
{
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	memcpy(ph, img + eh.e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* The image starts with the ELF magic and says ELF64, little-endian, SysV, ET_DYN, x86-64. */
TEST(image_is_an_elf64_x86_64_shared_object)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	EXPECT_EQ(memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
	EXPECT_EQ(eh.e_ident[EI_CLASS], ELFCLASS64);
	EXPECT_EQ(eh.e_ident[EI_DATA], ELFDATA2LSB);
	EXPECT_EQ(eh.e_ident[EI_OSABI], ELFOSABI_SYSV);
	EXPECT_EQ(eh.e_type, ET_DYN);
	EXPECT_EQ(eh.e_machine, EM_X86_64);
	EXPECT_EQ(eh.e_version, EV_CURRENT);
}

/* [vdso] is two pages (SPEC §10): one R+X PT_LOAD at vaddr 0 covers them and every section
 * lies inside them; PT_DYNAMIC and PT_NOTE cover exactly .dynamic and .note. */
TEST(image_fills_two_pages_under_one_read_exec_load_segment)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	REQUIRE_EQ(eh.e_phnum, 3);
	EXPECT_TRUE(eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize <= VDSO_IMAGE_SIZE);
	Elf64_Phdr load, dyn, note;
	read_phdr(img, 0, &load);
	read_phdr(img, 1, &dyn);
	read_phdr(img, 2, &note);
	EXPECT_EQ(load.p_type, PT_LOAD);
	EXPECT_EQ(load.p_flags, PF_R | PF_X);
	EXPECT_EQ(load.p_vaddr, 0);
	EXPECT_EQ(load.p_offset, 0);
	EXPECT_EQ(load.p_filesz, VDSO_IMAGE_PAGES * 4096);
	EXPECT_EQ(load.p_memsz, VDSO_IMAGE_PAGES * 4096);
	EXPECT_EQ(dyn.p_type, PT_DYNAMIC);
	EXPECT_EQ(note.p_type, PT_NOTE);
	Elf64_Shdr dynamic, notesec;
	REQUIRE_EQ(find_section(img, ".dynamic", &dynamic), 1);
	REQUIRE_EQ(find_section(img, ".note", &notesec), 1);
	EXPECT_EQ(dyn.p_vaddr, dynamic.sh_addr);
	EXPECT_EQ(dyn.p_filesz, dynamic.sh_size);
	EXPECT_EQ(note.p_vaddr, notesec.sh_addr);
	EXPECT_EQ(note.p_filesz, notesec.sh_size);
	for (int i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, img + eh.e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		EXPECT_TRUE(sh.sh_offset + sh.sh_size <= VDSO_IMAGE_SIZE);
	}
}

/* A buffer shorter than the image is refused with EINVAL and left untouched. */
TEST(build_refuses_a_buffer_shorter_than_two_pages)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	memset(img, 0x5a, sizeof(img));
	EXPECT_ERRNO(vdso_image_build(img, sizeof(img) - 1), -EINVAL);
	EXPECT_ERRNO(vdso_image_build(NULL, sizeof(img)), -EINVAL);
	EXPECT_EQ(img[0], 0x5a);
	EXPECT_EQ(img[sizeof(img) - 2], 0x5a);
}

/* Each of the four functions SPEC §10 names resolves through the image's own DT_HASH and
 * DT_SYMTAB to an offset inside .text, the same one vdso_image_symbols reports. */
TEST(every_vdso_function_resolves_to_an_offset_inside_text)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	Elf64_Shdr text;
	REQUIRE_EQ(find_section(img, ".text", &text), 1);
	EXPECT_EQ(text.sh_flags, SHF_ALLOC | SHF_EXECINSTR);
	struct vdso_symbol syms[VDSO_NR_SYMBOLS];
	REQUIRE_EQ(vdso_image_symbols(syms), VDSO_NR_SYMBOLS);
	for (int i = 0; i < VDSO_NR_SYMBOLS; i++) {
		long off = vdso_image_lookup(img, sizeof(img), vdso_names[i]);
		EXPECT_TRUE(off >= (long)text.sh_offset);
		EXPECT_TRUE(off < (long)(text.sh_offset + text.sh_size));
		EXPECT_TRUE(off < VDSO_IMAGE_SIZE);
		EXPECT_STREQ(syms[i].name, vdso_names[i]);
		EXPECT_EQ(off, syms[i].offset);
	}
}

/* Each body is the syscall fallback: mov eax, nr; syscall; ret (x86-64 syscall numbers). */
TEST(every_vdso_function_body_falls_back_to_its_syscall)
{
	static const uint32_t nrs[VDSO_NR_SYMBOLS] = { 228, 96, 201, 309 };
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	for (int i = 0; i < VDSO_NR_SYMBOLS; i++) {
		long off = vdso_image_lookup(img, sizeof(img), vdso_names[i]);
		REQUIRE_EQ(off >= 0, 1);
		const uint8_t want[8] = { 0xb8, (uint8_t)nrs[i], (uint8_t)(nrs[i] >> 8), 0, 0,
					  0x0f, 0x05, 0xc3 };
		EXPECT_EQ(memcmp(img + off, want, sizeof(want)), 0);
	}
}

/* Names that are not exported functions give ENOENT, including near misses and strings
 * that sit in .dynstr but name no symbol (the soname and the version). */
TEST(unknown_names_are_not_found)
{
	static const char *const misses[] = {
		"", "__vdso_tim", "__vdso_time2", "__vdso_foo", "clock_gettime", "time",
		"linux-vdso.so.1", "LINUX_2.6", "__vdso_getcpu\n",
	};
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		EXPECT_ERRNO(vdso_image_lookup(img, sizeof(img), misses[i]), -ENOENT);
}

/* Lookup in a buffer that is not a well-formed image reports ENOEXEC instead of guessing. */
TEST(lookup_in_a_corrupt_image_fails_with_enoexec)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	EXPECT_ERRNO(vdso_image_lookup(NULL, 0, "__vdso_time"), -ENOEXEC);
	EXPECT_ERRNO(vdso_image_lookup(img, sizeof(Elf64_Ehdr), "__vdso_time"), -ENOEXEC);

	img[EI_MAG1] = 'X';				/* bad magic */
	EXPECT_ERRNO(vdso_image_lookup(img, sizeof(img), "__vdso_time"), -ENOEXEC);
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);

	Elf64_Phdr dyn;					/* no PT_DYNAMIC */
	read_phdr(img, 1, &dyn);
	dyn.p_type = PT_NULL;
	memcpy(img + sizeof(Elf64_Ehdr) + sizeof(dyn), &dyn, sizeof(dyn));
	EXPECT_ERRNO(vdso_image_lookup(img, sizeof(img), "__vdso_time"), -ENOEXEC);
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);

	Elf64_Shdr hash;				/* zero hash buckets */
	REQUIRE_EQ(find_section(img, ".hash", &hash), 1);
	memset(img + hash.sh_offset, 0, sizeof(Elf64_Word));
	EXPECT_ERRNO(vdso_image_lookup(img, sizeof(img), "__vdso_time"), -ENOEXEC);
}

/* A hash chain that loops back on itself is reported as ENOEXEC, not followed forever:
 * here every bucket leads to symbol 1 and symbol 1 chains to itself. */
TEST(lookup_stops_on_a_looping_hash_chain)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	Elf64_Shdr hash;
	REQUIRE_EQ(find_section(img, ".hash", &hash), 1);
	Elf64_Word nbucket;
	const Elf64_Word one = 1;
	memcpy(&nbucket, img + hash.sh_offset, 4);
	for (Elf64_Word b = 0; b < nbucket; b++)
		memcpy(img + hash.sh_offset + 8 + 4 * b, &one, 4);
	memcpy(img + hash.sh_offset + 8 + 4 * (nbucket + 1), &one, 4);
	EXPECT_ERRNO(vdso_image_lookup(img, sizeof(img), "__vdso_time"), -ENOEXEC);
	EXPECT_EQ(vdso_image_lookup(img, sizeof(img), "__vdso_clock_gettime") > 0, 1);
}

/* Every truncation of the image is read only within its length (ASan checks the bytes):
 * lookup either finds the right offset or reports ENOEXEC. */
TEST(lookup_never_reads_past_a_truncated_image)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	REQUIRE_EQ(vdso_image_build(img, sizeof(img)), 0);
	long want = vdso_image_lookup(img, sizeof(img), "__vdso_getcpu");
	REQUIRE_EQ(want > 0, 1);
	for (size_t len = 0; len < sizeof(img); len += 7) {
		uint8_t *copy = malloc(len ? len : 1);
		REQUIRE_EQ(copy != NULL, 1);
		memcpy(copy, img, len);
		long got = vdso_image_lookup(copy, len, "__vdso_getcpu");
		free(copy);
		if (got != want)
			EXPECT_ERRNO(got, -ENOEXEC);
	}
}

/* Writes a fresh image to a temporary host file and runs readelf with args on it. Returns
 * readelf's exit status with its stdout and stderr in out, or -1 when readelf is missing. */
static int run_readelf(const char *args, char *out, size_t outsz)
{
	uint8_t img[VDSO_IMAGE_SIZE];
	char path[] = "/tmp/peimm-vdso-XXXXXX", cmd[256];
	if (system("command -v readelf >/dev/null 2>&1") != 0)
		return -1;
	if (vdso_image_build(img, sizeof(img)) != 0)
		return -2;
	int fd = mkstemp(path);
	if (fd < 0)
		return -2;
	ssize_t w = write(fd, img, sizeof(img));
	close(fd);
	snprintf(cmd, sizeof(cmd), "readelf %s %s 2>&1", args, path);
	FILE *p = w == (ssize_t)sizeof(img) ? popen(cmd, "r") : NULL;
	size_t n = p ? fread(out, 1, outsz - 1, p) : 0;
	out[n] = '\0';
	int status = p ? pclose(p) : -1;
	unlink(path);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

/* The host's readelf reads the headers, segments and dynamic symbols without complaint and
 * lists all four functions as global FUNCs. */
TEST(readelf_accepts_the_image_and_lists_every_function)
{
	char out[32768];
	int rc = run_readelf("-h -l --dyn-syms -W", out, sizeof(out));
	if (rc == -1) {
		printf("readelf not found on this host; skipping the readelf check\n");
		return;
	}
	EXPECT_EQ(rc, 0);
	EXPECT_TRUE(strstr(out, "Warning") == NULL);
	EXPECT_TRUE(strstr(out, "Error") == NULL);
	EXPECT_TRUE(strstr(out, "DYN (Shared object file)") != NULL);
	EXPECT_TRUE(strstr(out, "Advanced Micro Devices X86-64") != NULL);
	for (int i = 0; i < VDSO_NR_SYMBOLS; i++)
		EXPECT_TRUE(strstr(out, vdso_names[i]) != NULL);
	if (test_failures)
		fprintf(stderr, "%s", out);
}

/* readelf also finds the sections a loader and a debugger expect, the Linux note and the
 * LINUX_2.6 version definition, still without a warning. */
TEST(readelf_shows_the_sections_note_and_version_definitions)
{
	static const char *const want[] = {
		".hash", ".dynsym", ".dynstr", ".gnu.version", ".gnu.version_d", ".text",
		".dynamic", ".shstrtab", "linux-vdso.so.1", "LINUX_2.6", "Linux",
	};
	char out[32768];
	int rc = run_readelf("-S -d -n -V -W", out, sizeof(out));
	if (rc == -1) {
		printf("readelf not found on this host; skipping the readelf check\n");
		return;
	}
	EXPECT_EQ(rc, 0);
	EXPECT_TRUE(strstr(out, "Warning") == NULL);
	EXPECT_TRUE(strstr(out, "Error") == NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		EXPECT_TRUE(strstr(out, want[i]) != NULL);
	if (test_failures)
		fprintf(stderr, "%s", out);
}
