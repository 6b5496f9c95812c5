/*
 * A test environment with a host root directory: each test gets its own mkdtemp folder as
 * cfg.root, helpers to put and read host files, and to pass strings and buffers to
 * syscalls. Shared by the tests of files, file mappings and exec.
 */
#ifndef PM_TESTS_FILE_ENV_H
#define PM_TESTS_FILE_ENV_H

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pm_test.h"

/* The root outlives fenv_open's frame: the system keeps the cfg.root pointer. */
static char root_dir[64];

struct fenv {
	struct env e;
	const char *root;
};

static inline void put_host(struct fenv *f, const char *name, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (write(fd, text, strlen(text)) < 0)
		check_failed(__FILE__, __LINE__, "host write");
	close(fd);
}

/* The host file's bytes as a string (up to 255). */
static inline const char *host_text(struct fenv *f, const char *name)
{
	static char buf[256];
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", f->root, name);
	int fd = open(p, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static inline struct fenv fenv_open(void)
{
	struct fenv f;
	snprintf(root_dir, sizeof(root_dir), "/tmp/peimm-filesXXXXXX");
	f.root = root_dir;
	if (!mkdtemp(root_dir))
		check_failed(__FILE__, __LINE__, "mkdtemp");
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.seed = 42;
	cfg.root = f.root;
	f.e = env_open_cfg(&cfg);
	put_host(&f, "hello.txt", "hello, world\n");
	return f;
}

static inline void fenv_close(struct fenv *f)
{
	env_close(&f->e);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	if (system(cmd))
		check_failed(__FILE__, __LINE__, "rm");
}

static inline long str(pm_thread *t, const char *s) { return (long)pm_scratch(t, s, strlen(s) + 1); }
static inline long buf(pm_thread *t, size_t n)
{
	static const char zeros[4096];
	return (long)pm_scratch(t, zeros, n);
}
static inline long op(pm_thread *t, const char *path, long flags)
{
	return SC(t, SYS_openat, AT_FDCWD, str(t, path), flags, 0644, 0, 0);
}

#endif
