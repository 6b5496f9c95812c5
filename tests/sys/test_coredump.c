/*
 * Core dumps (SPEC §10): pm_coredump writes an ELF core that readelf accepts, with one
 * PT_LOAD per VMA, the notes gdb needs, segment bytes equal to what the process sees, and
 * nothing for MADV_DONTDUMP ranges.
 */
#include <elf.h>

#include "file_env.h"

/* Runs readelf on the core; returns its exit status and keeps its output in out. */
static int readelf_core(const char *core, char *out, size_t len)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "readelf -h -l -n -W %s 2>&1", core);
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(out, 1, len - 1, f) : 0;
	out[n] = '\0';
	return f ? pclose(f) : -1;
}

static int count_of(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The core of a process with anonymous memory, a DONTDUMP range and a file mapping is a
 * valid ET_CORE with one PT_LOAD per VMA; its bytes match pm_access; DONTDUMP has no bytes. */
TEST(coredump_writes_every_vma_and_skips_dontdump)
{
	struct fenv f = fenv_open();
	pm_thread *t = f.e.t;
	long a = do_mmap(t, 0, 3 * PG, RW, ANON);
	EXPECT_EQ(pm_access(t, (uint64_t)a, "anon data", 10, PM_WRITE, NULL), 10);
	EXPECT_EQ(poke(t, (uint64_t)a + 2 * PG, 9), 1);
	EXPECT_EQ(SC(t, SYS_madvise, a + PG, PG, MADV_DONTDUMP, 0, 0, 0), 0);
	long fd = op(t, "/hello.txt", O_RDONLY);
	long m = SC(t, SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(peek(t, (uint64_t)m), 'h');
	char core[128], out[1 << 16];
	snprintf(core, sizeof(core), "%s/core", f.root);
	REQUIRE_EQ(pm_coredump(t, core), 0);
	int hfd = open(core, O_RDONLY);
	Elf64_Ehdr eh;
	EXPECT_EQ(pread(hfd, &eh, sizeof(eh), 0), (long)sizeof(eh));
	EXPECT_EQ(eh.e_type, ET_CORE);
	int nvma = maps_count(t, "-") - maps_count(t, "[vsyscall]");
	EXPECT_EQ(eh.e_phnum, nvma + 1);
	Elf64_Phdr ph[64];
	EXPECT_EQ(pread(hfd, ph, sizeof(Elf64_Phdr) * eh.e_phnum, (off_t)eh.e_phoff) > 0, 1);
	int seen = 0;
	for (int i = 1; i < eh.e_phnum && i < 64; i++) {
		uint64_t lo = ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
		if (lo == (uint64_t)a + PG) {
			EXPECT_EQ(ph[i].p_filesz, 0);	/* DONTDUMP */
			seen++;
		}
		for (uint64_t va = (uint64_t)a; va < (uint64_t)a + 3 * PG; va += 2 * PG) {
			if (va < lo || va >= hi)
				continue;
			char want[PG], got[PG];
			EXPECT_EQ(ph[i].p_filesz, ph[i].p_memsz);
			EXPECT_EQ(pm_access(t, va, want, PG, PM_READ, NULL), PG);
			EXPECT_EQ(pread(hfd, got, PG, (off_t)(ph[i].p_offset + va - lo)), PG);
			EXPECT_EQ(memcmp(want, got, PG), 0);
			seen++;
		}
		if (lo == (uint64_t)m)
			EXPECT_EQ(ph[i].p_filesz, 0);	/* a text file: no ELF header page */
	}
	EXPECT_EQ(seen, 3);
	close(hfd);
	if (system("command -v readelf >/dev/null 2>&1") == 0) {
		EXPECT_EQ(readelf_core(core, out, sizeof(out)), 0);
		EXPECT_TRUE(strstr(out, "CORE (Core file)") != NULL);
		EXPECT_TRUE(strstr(out, "Warning") == NULL && strstr(out, "Error") == NULL);
		EXPECT_EQ(count_of(out, "\n  LOAD"), nvma);
		EXPECT_TRUE(strstr(out, "NT_PRSTATUS") != NULL);
		EXPECT_TRUE(strstr(out, "NT_FILE") != NULL);
	} else {
		printf("SKIP readelf checks: readelf missing\n");
	}
	fenv_close(&f);
}

/* A process that has exited cannot be dumped. */
TEST(coredump_of_a_dead_process_is_esrch)
{
	struct env e = env_open();
	pm_thread *t = pm_spawn(e.sys, e.tok, NULL);
	SC(t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	EXPECT_ERRNO(pm_coredump(t, "/tmp/peimm-core-never"), -ESRCH);
	EXPECT_EQ(access("/tmp/peimm-core-never", F_OK), -1);
	env_close(&e);
}

/* Swapped-out pages are dumped with their real bytes (read from the swap area, nothing
 * is faulted back in), and a DONTDUMP range stays out even when it is swapped too. */
TEST(coredump_of_swapped_out_pages_dumps_their_bytes_and_skips_dontdump)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.swap_bytes = 16 * MiB;
	cfg.seed = 5;
	struct env e = env_open_cfg(&cfg);
	pm_thread *t = e.t;
	long a = do_mmap(t, 0, 6 * PG, RW, ANON);
	static uint8_t page[PG], got[PG];
	for (int i = 0; i < 6; i++) {
		memset(page, 0x30 + i, PG);
		EXPECT_EQ(pm_access(t, (uint64_t)a + (uint64_t)i * PG, page, PG, PM_WRITE, NULL), PG);
	}
	EXPECT_EQ(SC(t, SYS_madvise, a + 2 * PG, PG, MADV_DONTDUMP, 0, 0, 0), 0);
	EXPECT_EQ(SC(t, SYS_madvise, a, 6 * PG, MADV_PAGEOUT, 0, 0, 0), 0);
	const char *st = strstr(proc_text(t, 0, "status"), "VmSwap:");
	REQUIRE_EQ(st ? strtol(st + 7, NULL, 10) : -1, 24);
	char dir[] = "/tmp/peimm-coreXXXXXX", core[64];
	REQUIRE_EQ(mkdtemp(dir) != NULL, 1);
	snprintf(core, sizeof(core), "%s/core", dir);
	REQUIRE_EQ(pm_coredump(t, core), 0);
	st = strstr(proc_text(t, 0, "status"), "VmSwap:");
	EXPECT_EQ(st ? strtol(st + 7, NULL, 10) : -1, 24);	/* nothing swapped in */
	int hfd = open(core, O_RDONLY);
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	EXPECT_EQ(pread(hfd, &eh, sizeof(eh), 0), (long)sizeof(eh));
	REQUIRE_EQ(eh.e_phnum < 64, 1);
	EXPECT_EQ(pread(hfd, ph, sizeof(Elf64_Phdr) * eh.e_phnum, (off_t)eh.e_phoff) > 0, 1);
	int seen = 0;
	for (int i = 0; i < 6; i++) {
		uint64_t va = (uint64_t)a + (uint64_t)i * PG;
		for (int j = 1; j < eh.e_phnum; j++) {
			if (va < ph[j].p_vaddr || va >= ph[j].p_vaddr + ph[j].p_memsz)
				continue;
			seen++;
			if (i == 2) {
				EXPECT_EQ(ph[j].p_filesz, 0);
				continue;
			}
			memset(page, 0x30 + i, PG);
			EXPECT_EQ(pread(hfd, got, PG, (off_t)(ph[j].p_offset + va - ph[j].p_vaddr)), PG);
			if (memcmp(page, got, PG))
				check_failed(__FILE__, __LINE__, "page %d of the core: byte 0 is %#x, "
					     "want %#x", i, got[0], 0x30 + i);
		}
	}
	EXPECT_EQ(seen, 6);
	close(hfd);
	unlink(core);
	rmdir(dir);
	EXPECT_EQ(peek(t, (uint64_t)a + 5 * PG), 0x35);
	env_close(&e);
}
