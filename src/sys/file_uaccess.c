/*
 * Copying between the calling process's memory and host buffers for the file syscalls,
 * through the software MMU (mm_access), like copy_from_user, copy_to_user and
 * strncpy_from_user. Never called with an mm lock or an object lock held: the copy may
 * fault pages in, and a file page fault takes the object's lock.
 */
#include "sys/fd.h"

#include <errno.h>
#include <string.h>

#include "sys/sys.h"

static int copy(struct pm_thread *t, uint64_t va, void *buf, size_t len, int how)
{
	struct mm_fault_info fi;
	if (!len)
		return 0;
	return mm_access(t->proc->mm, NULL, 0, va, buf, len, how, &fi) < 0 ? -EFAULT : 0;
}

int fd_copy_in(struct pm_thread *t, uint64_t va, void *buf, size_t len)
{
	return copy(t, va, buf, len, PM_READ);
}

int fd_copy_out(struct pm_thread *t, uint64_t va, const void *buf, size_t len)
{
	return copy(t, va, (void *)buf, len, PM_WRITE);
}

long fd_copy_string(struct pm_thread *t, uint64_t va, char *buf, size_t size)
{
	size_t done = 0;
	/* Page by page, so a string that ends just before an unmapped page still copies. */
	while (done < size) {
		uint64_t at = va + done;
		size_t n = (size_t)min_u64(PAGE_SIZE - (at & (PAGE_SIZE - 1)), size - done);
		if (fd_copy_in(t, at, buf + done, n))
			return -EFAULT;
		char *nul = memchr(buf + done, '\0', n);
		if (nul)
			return (long)(nul - buf);
		done += n;
	}
	return -ENAMETOOLONG;
}
