/*
 * The differential harness's files: for each sequence, two fresh mkdtemp directories (the
 * host child's, and peimm's cfg.root) holding the same DIFF_NFILES files, bytes drawn from
 * the sequence's seed. fd k of either side is one of them opened read-write or read-only
 * (the table below). Never writes outside the two directories; removes them at the end.
 */
#include "diff_harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "a" is six whole pages; "b" ends 100 bytes into its third page, so a mapping of it has
 * a partial page (zero past EOF) and pages past EOF (SIGBUS). */
static const struct { const char *name; uint64_t size; } files[DIFF_NFILES] = {
	{ "a", 6 * 4096 }, { "b", 2 * 4096 + 100 },
};
/* fd k (1..DIFF_NFDS): which file, and whether it is open for writing. */
static const struct { int file, rw; } fdtab[DIFF_NFDS + 1] = {
	{ -1, 0 }, { 0, 1 }, { 1, 1 }, { 0, 0 },
};

uint64_t diff_file_size(int file) { return files[file].size; }
const char *diff_file_name(int file) { return files[file].name; }
int diff_fd_file(int fd) { return fdtab[fd].file; }
int diff_fd_rw(int fd) { return fdtab[fd].rw; }

static int write_file(const char *dir, int file, uint64_t seed)
{
	static uint8_t buf[DIFF_FILE_MAX];
	char path[128];
	uint64_t st = seed * 31 + (uint64_t)file;
	for (uint64_t i = 0; i < files[file].size; i++)
		buf[i] = (uint8_t)diff_rnd(&st, 256);
	snprintf(path, sizeof(path), "%s/%s", dir, files[file].name);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0755);
	if (fd < 0)
		return -1;
	ssize_t k = write(fd, buf, files[file].size);
	/* Start with a cold page cache, as peimm's is: mincore reports cached file pages. */
	if (fdatasync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		k = -1;
	close(fd);
	return k == (ssize_t)files[file].size ? 0 : -1;
}

int diff_files_create(struct diff_files *f, uint64_t seed)
{
	snprintf(f->host_dir, sizeof(f->host_dir), "/tmp/peimm-diffhXXXXXX");
	snprintf(f->pm_dir, sizeof(f->pm_dir), "/tmp/peimm-diffpXXXXXX");
	if (!mkdtemp(f->host_dir) || !mkdtemp(f->pm_dir))
		return -1;
	for (int i = 0; i < DIFF_NFILES; i++)
		if (write_file(f->host_dir, i, seed) || write_file(f->pm_dir, i, seed))
			return -1;
	return 0;
}

void diff_files_remove(struct diff_files *f)
{
	char path[128];
	for (int i = 0; i < DIFF_NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->host_dir, files[i].name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", f->pm_dir, files[i].name);
		unlink(path);
	}
	rmdir(f->host_dir);
	rmdir(f->pm_dir);
}

int diff_files_open_host(const char *dir, int fds[DIFF_NFDS + 1])
{
	char path[128];
	fds[0] = -1;
	for (int k = 1; k <= DIFF_NFDS; k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[fdtab[k].file].name);
		fds[k] = open(path, fdtab[k].rw ? O_RDWR : O_RDONLY);
		if (fds[k] < 0)
			return -1;
	}
	return 0;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		diff_fnv(&h, p[i]);
	return h;
}

void diff_files_hash_host(const int fds[DIFF_NFDS + 1], struct diff_rec *r)
{
	static uint8_t buf[DIFF_FILE_MAX];
	for (int k = 1; k <= DIFF_NFDS; k++) {
		if (!fdtab[k].rw)
			continue;
		ssize_t n = pread(fds[k], buf, sizeof(buf), 0);
		r->fhash[fdtab[k].file] = n < 0 ? 0 : hash_bytes(buf, (size_t)n);
	}
}

/* Reads dir/name into buf; returns the length or -1. */
static long read_file(const char *dir, const char *name, uint8_t *buf, size_t len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len);
	close(fd);
	return n;
}

int diff_files_disk_equal(const struct diff_files *f, char *why, size_t n)
{
	static uint8_t h[DIFF_FILE_MAX + 1], p[DIFF_FILE_MAX + 1];
	for (int i = 0; i < DIFF_NFILES; i++) {
		long hn = read_file(f->host_dir, files[i].name, h, sizeof(h));
		long pn = read_file(f->pm_dir, files[i].name, p, sizeof(p));
		if (hn != pn || hn < 0 || memcmp(h, p, (size_t)hn) != 0) {
			long at = 0;
			while (hn > 0 && at < hn && at < pn && h[at] == p[at])
				at++;
			snprintf(why, n, "file %s on disk after the sequence: host %ld bytes, peimm "
				 "%ld bytes, first difference at byte %#lx", files[i].name, hn, pn,
				 at);
			return 0;
		}
	}
	return 1;
}
