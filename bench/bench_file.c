/*
 * peimm bench: the temporary file of the file-mapping workloads (mmap2, page_fault2,
 * page_fault3). Each side makes its own mkdtemp directory with one sparse file in it; the
 * peimm side uses the directory as cfg.root and opens the file by name through openat, the
 * host side opens the same path. Removes both at the end; never touches anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

int bench_tmpfile_create(bench_tmpfile *f, uint64_t len, bench_result *r)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/peimm-benchXXXXXX");
	f->path[0] = '\0';
	if (!mkdtemp(f->dir))
		return (int)bench_fail(r, -errno, "mkdtemp: %s", strerror(errno));
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, BENCH_FILE_NAME);
	int fd = open(f->path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		bench_tmpfile_remove(f);
		return (int)bench_fail(r, -e, "creating %s: %s", BENCH_FILE_NAME, strerror(e));
	}
	close(fd);
	return 0;
}

void bench_tmpfile_remove(bench_tmpfile *f)
{
	if (f->path[0])
		unlink(f->path);
	if (f->dir[0])
		rmdir(f->dir);
	f->path[0] = f->dir[0] = '\0';
}
