/*
 * The fd table: slot allocation (lowest free first, as POSIX requires), close, dup and
 * the close-on-exec flags, and open-file reference counting. Slots grow on demand up to
 * RLIMIT_NOFILE. Objects are put only after the table lock is dropped, because the last
 * put of a file object writes dirty pages back to the host.
 */
#include "sys/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"
#include "sys/sys.h"

struct fd_table *fd_table_create(struct kmem *km)
{
	struct fd_table *ft = kmem_new(km, struct fd_table);
	if (!ft)
		return NULL;
	pthread_mutex_init(&ft->lock, NULL);
	atomic_init(&ft->users, 1);
	ft->km = km;
	return ft;
}

void fd_table_get(struct fd_table *ft) { atomic_fetch_add(&ft->users, 1); }

static int grow_locked(struct fd_table *ft, int need);

struct fd_table *fd_table_dup(struct fd_table *ft)
{
	struct fd_table *n = fd_table_create(ft->km);
	if (!n)
		return NULL;
	pthread_mutex_lock(&ft->lock);
	if (grow_locked(n, ft->cap)) {
		pthread_mutex_unlock(&ft->lock);
		fd_table_destroy(n);
		return NULL;
	}
	for (int fd = 0; fd < ft->cap; fd++) {
		if (!ft->fds[fd])
			continue;
		fd_file_get(ft->fds[fd]);
		n->fds[fd] = ft->fds[fd];
		n->cloexec[fd] = ft->cloexec[fd];
	}
	pthread_mutex_unlock(&ft->lock);
	return n;
}

void fd_table_destroy(struct fd_table *ft)
{
	if (!ft || atomic_fetch_sub(&ft->users, 1) != 1)
		return;	/* another process still shares it (CLONE_FILES) */
	for (int fd = 0; fd < ft->cap; fd++)
		if (ft->fds[fd])
			fd_file_put(ft->fds[fd]);
	kmem_free(ft->km, ft->fds, (size_t)ft->cap * sizeof(*ft->fds));
	kmem_free(ft->km, ft->cloexec, (size_t)ft->cap);
	pthread_mutex_destroy(&ft->lock);
	kmem_delete(ft->km, ft);
}

int fd_for_each_object(struct fd_table *ft, int (*fn)(void *ctx, struct vm_object *o), void *ctx)
{
	int r = 0;
	pthread_mutex_lock(&ft->lock);
	for (int fd = 0; fd < ft->cap && !r; fd++)
		if (ft->fds[fd] && ft->fds[fd]->obj)
			r = fn(ctx, ft->fds[fd]->obj);
	pthread_mutex_unlock(&ft->lock);
	return r;
}

struct open_file *fd_file_alloc(struct kmem *km, struct vm_object *obj, int flags, int dir_fd,
				const char *path)
{
	struct open_file *f = kmem_new(km, struct open_file);
	if (!f)
		return NULL;
	if (path) {
		f->path_size = strlen(path) + 1;
		f->path = kmem_zalloc(km, f->path_size);
		if (!f->path) {
			kmem_delete(km, f);
			return NULL;
		}
		memcpy(f->path, path, f->path_size);
	}
	atomic_init(&f->refcount, 1);
	pthread_mutex_init(&f->pos_lock, NULL);
	f->flags = flags;
	f->granted = ~0u;	/* memfds and directories: the opener owns them outright */
	f->obj = obj;
	f->dir_fd = dir_fd;
	f->km = km;
	return f;
}

void fd_file_get(struct open_file *f) { atomic_fetch_add(&f->refcount, 1); }

void fd_file_put(struct open_file *f)
{
	int old = atomic_fetch_sub(&f->refcount, 1);
	PM_ENFORCE(old > 0);
	if (old != 1)
		return;
	if (f->obj)
		obj_put(f->obj);
	if (f->dir_fd >= 0)
		close(f->dir_fd);
	kmem_free(f->km, f->path, f->path_size);
	pthread_mutex_destroy(&f->pos_lock);
	kmem_delete(f->km, f);
}

/* Grows the table to at least `need` slots. 0 or -ENOMEM (table unchanged). */
static int grow_locked(struct fd_table *ft, int need)
{
	if (need <= ft->cap)
		return 0;
	int cap = ft->cap ? ft->cap : 16;
	while (cap < need)
		cap *= 2;
	struct open_file **fds = kmem_zalloc(ft->km, (size_t)cap * sizeof(*fds));
	uint8_t *cx = kmem_zalloc(ft->km, (size_t)cap);
	if (!fds || !cx) {
		kmem_free(ft->km, fds, (size_t)cap * sizeof(*fds));
		kmem_free(ft->km, cx, (size_t)cap);
		return -ENOMEM;
	}
	if (ft->cap) {
		memcpy(fds, ft->fds, (size_t)ft->cap * sizeof(*fds));
		memcpy(cx, ft->cloexec, (size_t)ft->cap);
	}
	kmem_free(ft->km, ft->fds, (size_t)ft->cap * sizeof(*fds));
	kmem_free(ft->km, ft->cloexec, (size_t)ft->cap);
	ft->fds = fds;
	ft->cloexec = cx;
	ft->cap = cap;
	return 0;
}

int fd_install(struct fd_table *ft, struct open_file *f, int min_fd, int cloexec, uint64_t limit)
{
	pthread_mutex_lock(&ft->lock);
	int fd = min_fd;
	while (fd < ft->cap && ft->fds[fd])
		fd++;
	int err = (uint64_t)fd >= limit ? -EMFILE : grow_locked(ft, fd + 1);
	if (!err) {
		ft->fds[fd] = f;
		ft->cloexec[fd] = cloexec ? 1 : 0;
	}
	pthread_mutex_unlock(&ft->lock);
	return err ? err : fd;
}

struct open_file *fd_lookup(struct fd_table *ft, int fd)
{
	struct open_file *f = NULL;
	pthread_mutex_lock(&ft->lock);
	if (fd >= 0 && fd < ft->cap && ft->fds[fd]) {
		f = ft->fds[fd];
		fd_file_get(f);
	}
	pthread_mutex_unlock(&ft->lock);
	return f;
}

int fd_close(struct fd_table *ft, int fd)
{
	struct open_file *f = NULL;
	pthread_mutex_lock(&ft->lock);
	if (fd >= 0 && fd < ft->cap) {
		f = ft->fds[fd];
		ft->fds[fd] = NULL;
		ft->cloexec[fd] = 0;
	}
	pthread_mutex_unlock(&ft->lock);
	if (!f)
		return -EBADF;
	fd_file_put(f);
	return 0;
}

int fd_dup_to(struct fd_table *ft, int oldfd, int newfd, int cloexec, uint64_t limit)
{
	struct open_file *old = NULL;
	if (newfd < 0 || (uint64_t)newfd >= limit)
		return -EBADF;
	pthread_mutex_lock(&ft->lock);
	struct open_file *f = (oldfd >= 0 && oldfd < ft->cap) ? ft->fds[oldfd] : NULL;
	int err = !f ? -EBADF : grow_locked(ft, newfd + 1);
	if (!err) {
		old = ft->fds[newfd];
		fd_file_get(f);
		ft->fds[newfd] = f;
		ft->cloexec[newfd] = cloexec ? 1 : 0;
	}
	pthread_mutex_unlock(&ft->lock);
	if (old)
		fd_file_put(old);
	return err ? err : newfd;
}

int fd_get_cloexec(struct fd_table *ft, int fd)
{
	int r = -EBADF;
	pthread_mutex_lock(&ft->lock);
	if (fd >= 0 && fd < ft->cap && ft->fds[fd])
		r = ft->cloexec[fd];
	pthread_mutex_unlock(&ft->lock);
	return r;
}

int fd_set_cloexec(struct fd_table *ft, int fd, int on)
{
	int r = -EBADF;
	pthread_mutex_lock(&ft->lock);
	if (fd >= 0 && fd < ft->cap && ft->fds[fd]) {
		ft->cloexec[fd] = on ? 1 : 0;
		r = 0;
	}
	pthread_mutex_unlock(&ft->lock);
	return r;
}

uint32_t fd_get_rights(struct pm_process *p, int fd)
{
	struct open_file *f = p->files ? fd_lookup(p->files, fd) : NULL;
	uint32_t g = f ? f->granted : 0;
	if (f)
		fd_file_put(f);
	return g;
}

uint64_t fd_mmap_id(struct pm_process *p, int fd, atomic_uint_fast64_t *next)
{
	struct open_file *f = p->files ? fd_lookup(p->files, fd) : NULL;
	if (!f)
		return 0;
	uint_fast64_t id = atomic_load(&f->mmap_id);
	if (!id) {
		uint_fast64_t fresh = atomic_fetch_add(next, 1) + 1;
		id = atomic_compare_exchange_strong(&f->mmap_id, &id, fresh) ? fresh : id;
	}
	fd_file_put(f);
	return (uint64_t)id;
}

int fd_get_object(struct pm_process *p, int fd, struct vm_object **o, int *open_flags)
{
	if (!p->files)
		return -EBADF;
	struct open_file *f = fd_lookup(p->files, fd);
	if (!f)
		return -EBADF;
	int err = -ENODEV;
	if (f->obj) {
		obj_get(f->obj);
		*o = f->obj;
		pthread_mutex_lock(&f->pos_lock);
		if (open_flags)
			*open_flags = f->flags;
		pthread_mutex_unlock(&f->pos_lock);
		err = 0;
	}
	fd_file_put(f);
	return err;
}
