/*
 * The per-process file table and open files (Linux's files_struct and struct file). An
 * fd slot points at an open_file, which dup shares (one offset, one set of status flags);
 * an open_file holds one reference on its vm_object (a host file through the page cache,
 * or a memfd), or a host directory descriptor. The table never touches page tables or
 * mm locks; users copy to and from process memory with no table lock held.
 */
#ifndef PM_SYS_FD_H
#define PM_SYS_FD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "obj/object.h"

struct kmem;
struct pm_process;
struct pm_thread;

/* Peios: O_DIRECT on open marks the open file as DAX, which MAP_SYNC requires (SPEC §5). */
struct open_file {
	atomic_int refcount;		/* fd slots (and in-flight calls) holding it */
	pthread_mutex_t pos_lock;	/* guards pos and flags */
	uint64_t pos;			/* file offset in bytes */
	int flags;			/* F_GETFL: O_ACCMODE, O_APPEND, O_DIRECT, O_NONBLOCK,
					   O_LARGEFILE, ... */
	struct vm_object *obj;		/* one reference; NULL for a directory; immutable */
	int dir_fd;			/* directory: host descriptor; -1 otherwise; immutable */
	char *path;			/* directory: its path inside the root; immutable */
	int pid;			/* pidfd: the process it names; 0 otherwise; immutable */
	uint32_t granted;		/* FILE_* rights the open granted (from the file's SD) */
	atomic_uint_fast64_t mmap_id;	/* identity its mappings carry; set at first mmap */
	size_t path_size;		/* bytes allocated for path */
	struct kmem *km;		/* immutable */
};

struct fd_table {
	pthread_mutex_t lock;		/* guards everything below */
	struct open_file **fds;		/* cap slots; NULL = free */
	uint8_t *cloexec;		/* cap flags: FD_CLOEXEC per slot */
	int cap;			/* slots allocated */
	atomic_int users;		/* processes sharing the table (CLONE_FILES) */
	struct kmem *km;		/* immutable */
};

/* An empty table. NULL on -ENOMEM. */
struct fd_table *fd_table_create(struct kmem *km);
/* fork's copy (no CLONE_FILES): a new table whose fds refer to the same open files (shared
 * offsets and status flags), with the same close-on-exec flags. NULL on -ENOMEM. */
struct fd_table *fd_table_dup(struct fd_table *ft);
/* clone(CLONE_FILES): one more process shares the table. */
void fd_table_get(struct fd_table *ft);
/* Drops one user; the last closes every fd and frees the table. */
void fd_table_destroy(struct fd_table *ft);
/* Calls fn on the object of every open file (fn must not close fds); stops at the first
 * non-zero, which it returns. */
int fd_for_each_object(struct fd_table *ft, int (*fn)(void *ctx, struct vm_object *o), void *ctx);

/* A new open file with one reference, taking over the caller's reference on obj (or the
 * host directory descriptor dir_fd and a copy of path). NULL on -ENOMEM, with nothing
 * taken over. */
struct open_file *fd_file_alloc(struct kmem *km, struct vm_object *obj, int flags, int dir_fd,
				const char *path);
void fd_file_get(struct open_file *f);
/* Drops a reference; the last one puts the object (or closes the directory). */
void fd_file_put(struct open_file *f);

/* Installs f in the lowest free slot >= min_fd below limit (RLIMIT_NOFILE); the table
 * takes over the caller's reference. Returns the fd, or -EMFILE / -ENOMEM with f
 * untouched. */
int fd_install(struct fd_table *ft, struct open_file *f, int min_fd, int cloexec, uint64_t limit);
/* The open file of fd with a new reference, or NULL (bad fd). */
struct open_file *fd_lookup(struct fd_table *ft, int fd);
/* close: 0 or -EBADF. */
int fd_close(struct fd_table *ft, int fd);
/* dup2/dup3's replacement step: makes newfd (< limit) refer to oldfd's file, closing
 * what newfd held. Returns newfd, or -EBADF (bad oldfd, newfd out of range) / -ENOMEM
 * with nothing changed. */
int fd_dup_to(struct fd_table *ft, int oldfd, int newfd, int cloexec, uint64_t limit);
/* FD_CLOEXEC of fd (0 or 1), or -EBADF; fd_set_cloexec: 0 or -EBADF. */
int fd_get_cloexec(struct fd_table *ft, int fd);
int fd_set_cloexec(struct fd_table *ft, int fd, int on);

/* For mmap of an fd: its object with a new reference and the open flags (O_ACCMODE for
 * the EACCES checks, O_DIRECT for MAP_SYNC's DAX test). 0, -EBADF (not open), or -ENODEV
 * (a directory, which cannot be mapped). On failure *o is untouched. */
int fd_get_object(struct pm_process *p, int fd, struct vm_object **o, int *open_flags);
/* The FILE_* rights fd's open file was granted (SPEC §3 mmap checks), or 0 for a bad fd. */
uint32_t fd_get_rights(struct pm_process *p, int fd);
/* The identity the mappings of fd's open file carry, taken from *next at its first mmap:
 * VMAs mapped through different opens of one file never merge (Linux compares vm_file).
 * 0 for a bad fd. */
uint64_t fd_mmap_id(struct pm_process *p, int fd, atomic_uint_fast64_t *next);

/* Copying to and from the calling process's memory (file_uaccess.c); no lock held.
 * 0 or -EFAULT. */
int fd_copy_in(struct pm_thread *t, uint64_t va, void *buf, size_t len);
int fd_copy_out(struct pm_thread *t, uint64_t va, const void *buf, size_t len);
/* Copies a NUL-terminated string of at most size - 1 bytes. Its length, -EFAULT, or
 * -ENAMETOOLONG when no NUL lies within size bytes. */
long fd_copy_string(struct pm_thread *t, uint64_t va, char *buf, size_t size);

/* Truncates (or extends) o to size bytes and zaps every mapping of the pages beyond the
 * new EOF (mm_unmap_object_range), then drops them from the cache. 0 or -errno from
 * obj_truncate (nothing changed on failure). */
int fd_truncate_object(struct vm_object *o, uint64_t size);

/* The file syscalls, one per Linux entry point (file_open.c: open, openat, memfd_create). */
long fd_sys_openat(struct pm_thread *t, int dirfd, uint64_t upath, int flags, unsigned mode);
long fd_sys_memfd_create(struct pm_thread *t, uint64_t uname, unsigned flags);

#endif
