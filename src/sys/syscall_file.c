/*
 * The file syscalls. Transitional: the host-file layer (fd table, page cache, memfd) is
 * being written; until it lands no file syscall is claimed, so they answer -ENOSYS.
 */
#include "sys/sys.h"

int sys_file_dispatch(struct pm_thread *t, long nr, const long a[6], long *ret)
{
	(void)t;
	(void)nr;
	(void)a;
	(void)ret;
	return 0;
}
