/*
 * exec (SPEC §3): pm_spawn with elf_path and the execve syscall load real ELF64 images
 * (the host's /bin/ls, static binaries built here with cc, hand-made images for the
 * errors), map their segments like Linux's loader, build the initial stack, and replace
 * the address space only once the new one is complete.
 */
#include <elf.h>
#include <stdint.h>

#include "file_env.h"

#define RVA_KEY "Machine\\System\\Memory\\RandomizeVaSpace"

static char work_dir[64];

/* A scratch host directory for built and hand-made images (the system root stays "/"). */
static const char *work(void)
{
	if (!work_dir[0]) {
		snprintf(work_dir, sizeof(work_dir), "/tmp/peimm-execXXXXXX");
		if (!mkdtemp(work_dir))
			check_failed(__FILE__, __LINE__, "mkdtemp");
	}
	return work_dir;
}

static void work_clean(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work_dir);
	if (work_dir[0] && system(cmd))
		check_failed(__FILE__, __LINE__, "rm");
	work_dir[0] = '\0';
}

static struct env env_root(uint64_t seed)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = seed;
	return env_open_cfg(&cfg);
}

/* Builds a static program with cc (flags: "-static -no-pie" or "-static-pie") into the
 * work directory; returns its path, or NULL when there is no compiler. */
static const char *build_static(const char *flags, const char *name)
{
	static char out[2][128];
	char *path = out[flags[8] == 'p'];
	char src[128], cmd[512];
	if (system("command -v cc >/dev/null 2>&1"))
		return NULL;
	snprintf(src, sizeof(src), "%s/prog.c", work());
	FILE *f = fopen(src, "w");
	fputs("int counter = 5; char big[100000];\nint main(void) { return counter + big[0]; }\n", f);
	fclose(f);
	snprintf(path, 128, "%s/%s", work(), name);
	snprintf(cmd, sizeof(cmd), "cc %s -O1 -o %s %s 2>/dev/null", flags, path, src);
	return system(cmd) ? NULL : path;
}

/* A hand-made ELF: one PT_LOAD of filesz/memsz at vaddr, file mode `mode`. */
static const char *write_elf(const char *name, int type, uint64_t filesz, uint64_t memsz, int mode)
{
	static char path[128];
	uint8_t img[8192] = { 0 };
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = (Elf64_Half)type;
	eh->e_machine = EM_X86_64;
	eh->e_entry = 0x401000;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
			    .p_vaddr = 0x400000, .p_filesz = filesz, .p_memsz = memsz, .p_align = PG };
	snprintf(path, sizeof(path), "%s/%s", work(), name);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, mode);
	if (write(fd, img, sizeof(img)) != (ssize_t)sizeof(img))
		check_failed(__FILE__, __LINE__, "write");
	close(fd);
	chmod(path, (mode_t)mode);
	return path;
}

static long u64_at(pm_thread *t, uint64_t va)
{
	uint64_t v = 0;
	EXPECT_EQ(pm_access(t, va, &v, 8, PM_READ, NULL), 8);
	return (long)v;
}

static const char *str_at(pm_thread *t, uint64_t va)
{
	static char s[256];
	for (size_t i = 0; i < sizeof(s) - 1; i++)
		if (pm_access(t, va + i, &s[i], 1, PM_READ, NULL) != 1 || !s[i]) {
			s[i] = '\0';
			return s;
		}
	s[sizeof(s) - 1] = '\0';
	return s;
}

/* Start address of the first maps line containing needle, or 0. */
static uint64_t line_start(pm_thread *t, const char *needle)
{
	const char *m = proc_text(t, 0, "maps"), *hit = strstr(m, needle);
	if (!hit)
		return 0;
	while (hit > m && hit[-1] != '\n')
		hit--;
	return strtoull(hit, NULL, 16);
}

static pm_thread *spawn_image(struct env *e, const char *path)
{
	pm_spawn_opts o = { .elf_path = path };
	return pm_spawn(e->sys, e->tok, &o);
}

/* Each PT_LOAD of /bin/ls shows in maps at base + its page, with the file's page offset
 * and Linux's r--p / r-xp / rw-p, like the host kernel's loader (SPEC §3). */
TEST(bin_ls_segments_map_with_their_file_offsets_and_protections)
{
	struct env e = env_root(42);
	pm_thread *t = spawn_image(&e, "/bin/ls");
	REQUIRE_EQ(t != NULL, 1);
	int fd = open("/bin/ls", O_RDONLY);
	Elf64_Ehdr eh;
	Elf64_Phdr ph[32];
	EXPECT_EQ(pread(fd, &eh, sizeof(eh), 0), (long)sizeof(eh));
	EXPECT_EQ(pread(fd, ph, sizeof(ph), (off_t)eh.e_phoff) > 0, 1);
	close(fd);
	uint64_t base = line_start(t, "bin/ls"), entry, sp;
	EXPECT_EQ(base >= 0x555555554000UL && base < 0x555555554000UL + (1UL << 30), 1);
	for (int i = 0; i < eh.e_phnum && i < 32; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		char want[64];
		snprintf(want, sizeof(want), "%c%c%cp %08lx", ph[i].p_flags & PF_R ? 'r' : '-',
			 ph[i].p_flags & PF_W ? 'w' : '-', ph[i].p_flags & PF_X ? 'x' : '-',
			 (unsigned long)(ph[i].p_offset & ~(PG - 1)));
		const char *line = maps_line_at(t, base + (ph[i].p_vaddr & ~(PG - 1)));
		EXPECT_TRUE(strstr(line, want) != NULL);
		EXPECT_TRUE(strstr(line, "bin/ls") != NULL);
	}
	EXPECT_EQ(maps_count(t, "[stack]"), 1);
	EXPECT_EQ(maps_count(t, "[vdso]"), 1);
	EXPECT_EQ(maps_count(t, "ld-linux-x86-64.so.2") >= 3, 1);
	long brk0 = SC(t, SYS_brk, 0, 0, 0, 0, 0, 0);
	EXPECT_EQ(SC(t, SYS_brk, brk0 + PG, 0, 0, 0, 0, 0), brk0 + PG);
	EXPECT_TRUE(strstr(maps_line_at(t, (uint64_t)brk0), "[heap]") != NULL);
	EXPECT_TRUE(strstr(proc_text(t, 0, "status"), "Name:\tls\n") != NULL);
	EXPECT_EQ(pm_exec_info(t, &entry, &sp), 0);
	EXPECT_EQ(entry >= line_start(t, "ld-linux"), 1);
	env_close(&e);
}

/* The initial stack holds argc, argv, envp and an auxv whose entries point where Linux's
 * would: AT_PHDR in the first segment, AT_ENTRY = e_entry + base, AT_RANDOM's 16 bytes,
 * AT_SYSINFO_EHDR at [vdso], AT_EXECFN the path as given (SPEC §3). */
TEST(execve_builds_argc_argv_envp_and_auxv_on_the_new_stack)
{
	struct env e = env_root(42);
	pm_thread *t = e.t;
	uint64_t args[3] = { (uint64_t)str(t, "/bin/ls"), (uint64_t)str(t, "-l"), 0 };
	uint64_t envs[2] = { (uint64_t)str(t, "A=1"), 0 };
	long av = (long)pm_scratch(t, args, sizeof(args)), ev = (long)pm_scratch(t, envs, sizeof(envs));
	REQUIRE_EQ(SC(t, SYS_execve, args[0], av, ev, 0, 0, 0), 0);
	uint64_t entry, sp;
	EXPECT_EQ(pm_exec_info(t, &entry, &sp), 0);
	EXPECT_EQ(sp % 16, 0);
	EXPECT_EQ(u64_at(t, sp), 2);
	EXPECT_STREQ(str_at(t, (uint64_t)u64_at(t, sp + 8)), "/bin/ls");
	EXPECT_STREQ(str_at(t, (uint64_t)u64_at(t, sp + 16)), "-l");
	EXPECT_EQ(u64_at(t, sp + 24), 0);
	EXPECT_STREQ(str_at(t, (uint64_t)u64_at(t, sp + 32)), "A=1");
	EXPECT_EQ(u64_at(t, sp + 40), 0);
	uint64_t base = line_start(t, "bin/ls"), aux[64] = { 0 };
	int fd = open("/bin/ls", O_RDONLY);
	Elf64_Ehdr eh;
	EXPECT_EQ(pread(fd, &eh, sizeof(eh), 0), (long)sizeof(eh));
	close(fd);
	for (int i = 0; i < 64; i += 2) {
		long k = u64_at(t, sp + 48 + 8 * (uint64_t)i);
		if (k == AT_NULL)
			break;
		if (k < 64)
			aux[k] = (uint64_t)u64_at(t, sp + 56 + 8 * (uint64_t)i);
	}
	EXPECT_EQ(aux[AT_PHDR], base + eh.e_phoff);
	EXPECT_EQ(aux[AT_PHENT], sizeof(Elf64_Phdr));
	EXPECT_EQ(aux[AT_PHNUM], eh.e_phnum);
	EXPECT_EQ(aux[AT_PAGESZ], PG);
	EXPECT_EQ(aux[AT_ENTRY], base + eh.e_entry);
	EXPECT_EQ(aux[AT_BASE], line_start(t, "ld-linux"));
	EXPECT_EQ(aux[AT_BASE] != 0, 1);
	EXPECT_EQ(aux[AT_SECURE], 0);
	EXPECT_EQ(aux[AT_SYSINFO_EHDR], line_start(t, "[vdso]"));
	EXPECT_STREQ(str_at(t, aux[AT_EXECFN]), "/bin/ls");
	uint8_t rnd[16];
	EXPECT_EQ(pm_access(t, aux[AT_RANDOM], rnd, 16, PM_READ, NULL), 16);
	env_close(&e);
}

/* A -static -no-pie image maps at its own addresses; a -static-pie one at the program
 * base, randomised per seed in mode 2 and at 0x555555554000 in mode 0 (SPEC §2). */
TEST(static_exec_is_fixed_and_static_pie_moves_with_the_seed)
{
	const char *fixed = build_static("-static -no-pie", "fixed");
	const char *pie = build_static("-static-pie", "pie");
	if (!fixed || !pie) {
		printf("SKIP: no C compiler with static libraries\n");
		work_clean();
		return;
	}
	uint64_t bases[3];
	uint64_t seeds[3] = { 1, 2, 1 };
	for (int i = 0; i < 3; i++) {
		struct env e = env_root(seeds[i]);
		pm_thread *f = spawn_image(&e, fixed), *p = spawn_image(&e, pie);
		REQUIRE_EQ(f != NULL && p != NULL, 1);
		EXPECT_TRUE(strstr(maps_line_at(f, 0x400000), "r--p 00000000") != NULL);
		bases[i] = line_start(p, "/pie");
		EXPECT_TRUE(strstr(proc_text(f, 0, "status"), "VmExe:") != NULL);
		env_close(&e);
	}
	EXPECT_TRUE(bases[0] != bases[1]);
	EXPECT_EQ(bases[0], bases[2]);
	struct env e = env_root(3);
	int err;
	pm_token *st = pm_token_parse(e.sys, "system", &err);
	pm_thread *admin = pm_spawn(e.sys, st, NULL);
	pm_token_put(st);
	EXPECT_EQ(pm_registry_set(admin, RVA_KEY, 0), 0);
	pm_thread *p = spawn_image(&e, pie);
	REQUIRE_EQ(p != NULL, 1);
	EXPECT_EQ(line_start(p, "/pie"), 0x555555554000UL);
	env_close(&e);
	work_clean();
}

/* exec gives a fresh mm: locks, MCL_FUTURE and pkeys go, PKRU resets, close-on-exec fds
 * close and the others stay (SPEC §3, §10). */
TEST(execve_drops_locks_pkeys_and_close_on_exec_fds)
{
	struct env e = env_root(42);
	pm_thread *t = e.t;
	char file[128];
	snprintf(file, sizeof(file), "%s/data", work());
	close(open(file, O_CREAT | O_RDWR, 0644));
	long keep = op(t, file, O_RDONLY), gone = op(t, file, O_RDONLY | O_CLOEXEC);
	REQUIRE_EQ(keep >= 0 && gone >= 0, 1);
	EXPECT_EQ(SC(t, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0), 1);
	EXPECT_EQ(SC(t, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0), 2);
	EXPECT_EQ(SC(t, SYS_mlockall, MCL_CURRENT | MCL_FUTURE, 0, 0, 0, 0, 0), 0);
	REQUIRE_EQ(SC(t, SYS_execve, str(t, "/bin/ls"), 0, 0, 0, 0, 0), 0);
	EXPECT_TRUE(strstr(proc_text(t, 0, "status"), "VmLck:\t       0 kB") != NULL);
	EXPECT_EQ(SC(t, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0), 1);
	EXPECT_EQ(SC(t, SYS_fcntl, keep, F_GETFD, 0, 0, 0, 0), 0);
	EXPECT_ERRNO(SC(t, SYS_fcntl, gone, F_GETFD, 0, 0, 0, 0), -EBADF);
	long a = do_mmap(t, 0, PG, RW, ANON);
	EXPECT_EQ(poke(t, (uint64_t)a, 1), 1);	/* PKRU of key 0 allows access */
	env_close(&e);
	work_clean();
}

/* Every failure returns Linux's errno and leaves the address space as it was. */
TEST(execve_errors_leave_the_process_unchanged)
{
	struct env e = env_root(42);
	pm_thread *t = e.t;
	const char *noexec = write_elf("noexec", ET_EXEC, 0x100, 0x100, 0644);
	long p_noexec = str(t, noexec);
	long p_bad = str(t, write_elf("badseg", ET_EXEC, 0x2000, 0x100, 0755));
	long p_core = str(t, write_elf("core", ET_CORE, 0x100, 0x100, 0755));
	char text[128];
	snprintf(text, sizeof(text), "%s/script", work());
	int fd = open(text, O_CREAT | O_WRONLY, 0755);
	EXPECT_EQ(write(fd, "echo hi\n", 8), 8);
	close(fd);
	long p_text = str(t, text), p_dir = str(t, work()), p_ls = str(t, "/bin/ls");
	static char huge[200000];
	memset(huge, 'x', sizeof(huge) - 1);
	uint64_t hv[2] = { (uint64_t)pm_scratch(t, huge, sizeof(huge)), 0 };
	uint64_t badv[2] = { 0x10, 0 };
	long p_hv = (long)pm_scratch(t, hv, sizeof(hv)), p_badv = (long)pm_scratch(t, badv, sizeof(badv));
	char *before = strdup(proc_text(t, 0, "maps"));
	EXPECT_ERRNO(SC(t, SYS_execve, str(t, "/no/such/file"), 0, 0, 0, 0, 0), -ENOENT);
	EXPECT_ERRNO(SC(t, SYS_execve, str(t, ""), 0, 0, 0, 0, 0), -ENOENT);
	EXPECT_ERRNO(SC(t, SYS_execve, p_noexec, 0, 0, 0, 0, 0), -EACCES);
	EXPECT_ERRNO(SC(t, SYS_execve, p_dir, 0, 0, 0, 0, 0), -EACCES);
	EXPECT_ERRNO(SC(t, SYS_execve, p_text, 0, 0, 0, 0, 0), -ENOEXEC);
	EXPECT_ERRNO(SC(t, SYS_execve, p_core, 0, 0, 0, 0, 0), -ENOEXEC);
	EXPECT_ERRNO(SC(t, SYS_execve, p_bad, 0, 0, 0, 0, 0), -EINVAL);
	EXPECT_ERRNO(SC(t, SYS_execve, 0x10, 0, 0, 0, 0, 0), -EFAULT);
	EXPECT_ERRNO(SC(t, SYS_execve, p_ls, 0x10, 0, 0, 0, 0), -EFAULT);
	EXPECT_ERRNO(SC(t, SYS_execve, p_ls, p_badv, 0, 0, 0, 0), -EFAULT);
	EXPECT_ERRNO(SC(t, SYS_execve, p_ls, p_hv, 0, 0, 0, 0), -E2BIG);
	EXPECT_STREQ(proc_text(t, 0, "maps"), before);
	EXPECT_TRUE(strstr(proc_text(t, 0, "status"), "Name:\tpeimm\n") != NULL);
	free(before);
	env_close(&e);
	work_clean();
}

/* A vfork child that execs gets its own mm; the parent keeps its own, intact. */
TEST(vfork_child_exec_leaves_the_parent_address_space)
{
	struct env e = env_root(42);
	long a = do_mmap(e.t, 0, PG, RW, ANON);
	EXPECT_EQ(poke(e.t, (uint64_t)a, 7), 1);
	long pid = SC(e.t, SYS_vfork, 0, 0, 0, 0, 0, 0);
	pm_thread *c = pm_thread_of(e.sys, (int)pid);
	REQUIRE_EQ(c != NULL, 1);
	EXPECT_EQ(SC(c, SYS_execve, str(c, "/bin/ls"), 0, 0, 0, 0, 0), 0);
	EXPECT_EQ(maps_count(c, "bin/ls") >= 4, 1);
	EXPECT_EQ(maps_count(e.t, "bin/ls"), 0);
	EXPECT_EQ(peek(e.t, (uint64_t)a), 7);
	uint64_t entry;
	EXPECT_ERRNO(pm_exec_info(e.t, &entry, NULL), -ENOEXEC);
	env_close(&e);
}
