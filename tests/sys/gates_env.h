/*
 * The world the gate tests of SPEC §7 run in: one small system per case, with a target
 * process (two pages of a known pattern), a caller of a given kind (same user, another
 * user, SeDebug on or off, impersonating, SYSTEM, with or without PIP), and an auditor
 * (SYSTEM, PIP Isolated at full trust, so it dominates every target) that reads the audit
 * view. Closing reaps killed processes and proves every frame came back.
 */
#ifndef PM_TESTS_SYS_GATES_ENV_H
#define PM_TESTS_SYS_GATES_ENV_H

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include "pm_test.h"

#define TARGET_SID "S-1-5-21-1-1001"
#define TOK_SAME "user=" TARGET_SID " groups=S-1-5-32-545,S-1-1-0 il=medium"
#define TOK_OTHER "user=S-1-5-21-1-1002 groups=S-1-5-32-545,S-1-1-0 il=medium"
#define TOK_DBG_ON "user=S-1-5-21-1-1003 groups=S-1-5-32-545,S-1-1-0 privs=SeDebugPrivilege:enabled"
#define TOK_DBG_OFF "user=S-1-5-21-1-1003 groups=S-1-5-32-545,S-1-1-0 privs=SeDebugPrivilege"
#define TOK_SYSTEM "system"
#define TOK_LOW "user=" TARGET_SID " groups=S-1-5-32-545,S-1-1-0 il=low"

#define TPAT 0xA5	/* the byte the target's two pages hold */
#define PIP_TRUST_TARGET 4096
#define PIDFD_SLOT 100	/* where a pidfd carried across execve lives */

/* Who calls, and against what. */
enum kind {
	K_SAME,		/* same user as the target */
	K_OTHER,	/* another user, in Everyone */
	K_DBG_ON,	/* another user with SeDebugPrivilege enabled */
	K_DBG_OFF,	/* the same, SeDebugPrivilege present but disabled */
	K_IMP,		/* a SYSTEM thread impersonating the other user */
	K_SYSTEM,	/* a SYSTEM process */
	K_PIP,		/* same user, target PIP Protected, caller unprotected */
	K_PIP_DBG,	/* SeDebug enabled, target PIP Protected */
	K_PIP_SYS,	/* SYSTEM, target PIP Protected */
	K_PIP_DOM,	/* same user, caller PIP Protected at a higher trust */
	K_IMP_SELF,	/* a SYSTEM thread impersonating the other user, aimed at itself */
	K_LOW_IL,	/* the same user at low integrity */
	NKINDS
};

struct kind_desc {
	const char *name;
	const char *tok;	/* the caller's primary token */
	const char *imp;	/* the token it impersonates, or NULL */
	int target_pip;		/* the target is PIP Protected at PIP_TRUST_TARGET */
	int caller_pip;		/* the caller is PIP Protected at full trust */
	int self;		/* the caller is the target */
};

static const struct kind_desc kinds[NKINDS] = {
	[K_SAME] = { "same-user", TOK_SAME, NULL, 0, 0, 0 },
	[K_OTHER] = { "other-user", TOK_OTHER, NULL, 0, 0, 0 },
	[K_DBG_ON] = { "sedebug-enabled", TOK_DBG_ON, NULL, 0, 0, 0 },
	[K_DBG_OFF] = { "sedebug-disabled", TOK_DBG_OFF, NULL, 0, 0, 0 },
	[K_IMP] = { "system-impersonating-other", TOK_SYSTEM, TOK_OTHER, 0, 0, 0 },
	[K_SYSTEM] = { "system", TOK_SYSTEM, NULL, 0, 0, 0 },
	[K_PIP] = { "same-user-vs-pip", TOK_SAME, NULL, 1, 0, 0 },
	[K_PIP_DBG] = { "sedebug-vs-pip", TOK_DBG_ON, NULL, 1, 0, 0 },
	[K_PIP_SYS] = { "system-vs-pip", TOK_SYSTEM, NULL, 1, 0, 0 },
	[K_PIP_DOM] = { "pip-dominant-same-user", TOK_SAME, NULL, 1, 1, 0 },
	[K_IMP_SELF] = { "system-impersonating-other-on-self", TOK_SYSTEM, TOK_OTHER, 0, 0, 1 },
	[K_LOW_IL] = { "same-user-low-integrity", TOK_LOW, NULL, 0, 0, 0 },
};

struct genv {
	pm_system *sys;
	pm_thread *auditor;	/* SYSTEM, PIP Isolated/8192: reads the audit view, verifies */
	pm_thread *target;
	pm_thread *caller;
	int tpid;		/* the target's pid */
	int self;		/* caller == target: /proc calls use pid 0 */
	uint64_t tva;		/* two pages of TPAT in the target */
	long pidfd;		/* the caller's pidfd to the target, or -errno */
	long apidfd;		/* the auditor's pidfd to the target */
	size_t audit_mark;	/* length of the audit log before the call under test */
	pm_token *toks[8];
	int ntoks;
};

static inline pm_token *genv_token(struct genv *g, const char *spec)
{
	int err = 0;
	pm_token *t = pm_token_parse(g->sys, spec, &err);
	if (!t) {
		check_failed(__FILE__, __LINE__, "pm_token_parse(\"%s\") failed, err %d", spec, err);
		exit(1);
	}
	g->toks[g->ntoks++] = t;
	return t;
}

static inline pm_thread *genv_spawn(struct genv *g, const char *spec, uint32_t pip, uint32_t trust)
{
	pm_spawn_opts o = { .pip_type = pip, .pip_trust = trust };
	pm_thread *t = pm_spawn(g->sys, genv_token(g, spec), &o);
	if (!t) {
		check_failed(__FILE__, __LINE__, "pm_spawn(%s, pip %u/%u) failed", spec, pip, trust);
		exit(1);
	}
	return t;
}

/* Writes a minimal static ELF (one R-X PT_LOAD, never run) to a host temp file, so exec
 * opens no host system binary. 0 or -1. */
static inline int tiny_elf(const char *path)
{
	uint8_t img[2 * 4096] = { 0 };
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x400000 + sizeof(*eh) + sizeof(*ph);
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = 0x400000,
			    .p_filesz = sizeof(img), .p_memsz = sizeof(img), .p_align = 4096 };
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0755);
	int ok = fd >= 0 && write(fd, img, sizeof(img)) == (ssize_t)sizeof(img);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* A caller that holds a pidfd to a PIP target it does not dominate: it starts dominant,
 * opens the pidfd, moves it to a non-CLOEXEC slot and execs an unsigned image, which runs
 * unprotected (digest §4.8), the way a handle is inherited in Peios. */
static inline long pidfd_across_exec(struct genv *g)
{
	long fd = SC(g->caller, SYS_pidfd_open, g->tpid, 0, 0, 0, 0, 0);
	if (fd < 0 || SC(g->caller, SYS_dup2, fd, PIDFD_SLOT, 0, 0, 0, 0) != PIDFD_SLOT)
		return fd < 0 ? fd : -EBADF;
	char host[64];
	snprintf(host, sizeof(host), "/tmp/peimm-gates-%d.elf", (int)getpid());
	if (tiny_elf(host))
		return -EIO;
	uint64_t path = pm_scratch(g->caller, host, strlen(host) + 1);
	uint64_t argv[2] = { path, 0 };
	uint64_t av = pm_scratch(g->caller, argv, sizeof(argv));
	long r = SC(g->caller, SYS_execve, (long)path, (long)av, 0, 0, 0, 0);
	unlink(host);
	return r ? r : PIDFD_SLOT;
}

static inline struct genv genv_open(enum kind k, int need_pidfd)
{
	const struct kind_desc *d = &kinds[k];
	struct genv g = { 0 };
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 32 * MiB;
	cfg.seed = 7;
	g.sys = pm_system_create(&cfg);
	if (!g.sys) {
		check_failed(__FILE__, __LINE__, "pm_system_create failed");
		exit(1);
	}
	g.auditor = genv_spawn(&g, TOK_SYSTEM, PM_PIP_ISOLATED, PM_PIP_TRUST_MAX);
	int carry = need_pidfd && d->target_pip && !d->caller_pip;	/* pidfd across exec */
	if (d->self) {
		g.target = g.caller = genv_spawn(&g, d->tok, 0, 0);
	} else {
		g.target = genv_spawn(&g, TOK_SAME, d->target_pip ? PM_PIP_PROTECTED : 0,
				      d->target_pip ? PIP_TRUST_TARGET : 0);
		g.caller = genv_spawn(&g, d->tok, d->caller_pip || carry ? PM_PIP_PROTECTED : 0,
				      d->caller_pip || carry ? PM_PIP_TRUST_MAX : 0);
	}
	g.self = d->self;
	g.tpid = pm_pid(g.target);
	g.tva = (uint64_t)do_mmap(g.target, 0, 2 * PG, RW, ANON);
	uint8_t pat[2 * PG];
	memset(pat, TPAT, sizeof(pat));
	if (pm_access(g.target, g.tva, pat, sizeof(pat), PM_WRITE, NULL) != (long)sizeof(pat))
		check_failed(__FILE__, __LINE__, "filling the target at %#lx failed", (unsigned long)g.tva);
	g.apidfd = SC(g.auditor, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0);
	g.pidfd = -EBADF;
	if (carry)
		g.pidfd = pidfd_across_exec(&g);
	else if (need_pidfd)
		g.pidfd = SC(g.caller, SYS_pidfd_open, g.tpid, 0, 0, 0, 0, 0);
	char v[64];
	if (need_pidfd && g.pidfd < 0)
		check_failed(__FILE__, __LINE__, "setup: %s caller's pidfd = %s", d->name,
			     val_str(g.pidfd, v));
	if (d->imp && pm_impersonate(g.caller, genv_token(&g, d->imp)))
		check_failed(__FILE__, __LINE__, "pm_impersonate(%s) failed", d->imp);
	return g;
}

/* The audit log as the auditor reads it (the system view "peios/audit", pid -1). */
static inline const char *audit_text(struct genv *g)
{
	static char buf[256 * 1024 + 1];
	long n = pm_proc_read(g->auditor, -1, "peios/audit", buf, sizeof(buf) - 1, 0);
	char v[64];
	if (n < 0)
		check_failed(__FILE__, __LINE__, "pm_proc_read(SYSTEM, -1, \"peios/audit\") = %s",
			     val_str(n, v));
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static inline void audit_mark(struct genv *g) { g->audit_mark = strlen(audit_text(g)); }

/* The lines written since audit_mark. */
static inline const char *audit_since_mark(struct genv *g)
{
	const char *s = audit_text(g);
	size_t n = strlen(s);
	return s + (g->audit_mark <= n ? g->audit_mark : n);
}

/* Does one line of `text` contain both a and b? */
static inline int audit_has(const char *text, const char *a, const char *b)
{
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		const char *pa = strstr(line, a), *pb = strstr(line, b);
		if (pa && pb && pa < line + len && pb < line + len)
			return 1;
		line += len + (line[len] == '\n');
	}
	return 0;
}

static inline void genv_close(struct genv *g)
{
	if (g->caller)
		pm_revert(g->caller);
	pm_system_tick(g->sys, 20);	/* the OOM reaper frees SIGKILLed targets */
	EXPECT_EQ(pm_check_invariants(g->sys), 0);
	for (int pid = 1; pid < 64; pid++) {
		pm_thread *t = pm_thread_of(g->sys, pid);
		if (t)
			SC(t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	}
	pm_system_tick(g->sys, 20);
	EXPECT_EQ(pm_check_invariants(g->sys), 0);
	pm_sysinfo info;
	pm_system_info(g->sys, &info);
	EXPECT_EQ(info.free_frames, info.total_frames - info.kernel_frames - info.pool_frames);
	for (int i = 0; i < g->ntoks; i++)
		pm_token_put(g->toks[i]);
	pm_system_destroy(g->sys);
}

#endif
