/*
 * Host files as objects: finding or creating the one object of a host (dev, ino), the
 * object's own host descriptor, reading a page in from the host (Linux's readpage), and
 * the names maps shows. The host file is touched only with pread, pwrite, ftruncate,
 * fstat and fdatasync on the object's descriptor; never with the caller's offsets or
 * O_APPEND, which live in the open file above this layer.
 */
#include "obj/obj_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"

/* A descriptor of the same host file for the object, reopened through /proc/self/fd so the
 * caller's O_APPEND and offset do not follow: read-only unless a writer asked for write
 * (then read-write, since page-in reads), else a duplicate of hostfd. Never read-write
 * for a reader: an executable held open for writing makes the host refuse to run it
 * (ETXTBSY), and a bug could then write into it. -1 on failure. */
static int own_host_fd(int hostfd, int mode, int *own_mode)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", hostfd);
	int want = (mode & OBJ_FMODE_WRITE) ? OBJ_FMODE_READ | OBJ_FMODE_WRITE : OBJ_FMODE_READ;
	int fd = open(p, ((mode & OBJ_FMODE_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd >= 0) {
		*own_mode = want;
		return fd;
	}
	fd = fcntl(hostfd, F_DUPFD_CLOEXEC, 0);
	*own_mode = mode;
	return fd;
}

/* A second open may bring rights the object's descriptor lacks (the first open was
 * read-only): swap in a better descriptor so writeback and read-in keep working. */
static void upgrade_host_fd(struct vm_object *o, int hostfd, int mode)
{
	pthread_mutex_lock(&o->lock);
	if (mode & ~o->host_mode) {
		int nmode, fd = own_host_fd(hostfd, mode | o->host_mode, &nmode);
		if (fd >= 0 && (nmode & o->host_mode) == o->host_mode) {
			close(o->host_fd);
			o->host_fd = fd;
			o->host_mode = nmode;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	pthread_mutex_unlock(&o->lock);
}

static struct vm_object *cache_find_locked(struct obj_filecache *c, const struct stat *st)
{
	for (struct list_head *l = c->objs.next; l != &c->objs; l = l->next) {
		struct vm_object *o = list_entry(l, struct vm_object, cache_node);
		if (o->host_dev == (uint64_t)st->st_dev && o->host_ino == (uint64_t)st->st_ino)
			return o;
	}
	return NULL;
}

static struct vm_object *file_create(struct obj_filecache *c, int hostfd, int mode,
				     const char *path, const struct stat *st, int *err)
{
	*err = -ENOMEM;
	struct vm_object *o = obj_alloc(c->km, c->ph, OBJ_FILE, (uint64_t)st->st_size);
	if (!o)
		return NULL;
	o->name_size = strlen(path) + 1;
	o->name_buf = kmem_zalloc(c->km, o->name_size);
	if (!o->name_buf)
		goto out_free;
	memcpy(o->name_buf, path, o->name_size);
	o->name = o->name_buf;
	o->host_fd = own_host_fd(hostfd, mode, &o->host_mode);
	if (o->host_fd < 0) {
		*err = -EIO;
		goto out_free;
	}
	o->host_dev = (uint64_t)st->st_dev;
	o->host_ino = (uint64_t)st->st_ino;
	o->dev_major = major(st->st_dev);
	o->dev_minor = minor(st->st_dev);
	o->ino = (uint64_t)st->st_ino;
	o->mode = st->st_mode & 07777;
	o->cache = c;
	return o;
out_free:
	obj_put(o);	/* not yet cached: frees the name and the object */
	return NULL;
}

struct vm_object *obj_file_open(struct obj_filecache *c, int hostfd, int mode, const char *path,
				int *err)
{
	struct stat st;
	if (fstat(hostfd, &st)) {
		*err = -EIO;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = -EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	struct vm_object *o = cache_find_locked(c, &st);
	if (o) {
		obj_get(o);
		pthread_mutex_unlock(&c->lock);
		upgrade_host_fd(o, hostfd, mode);
		return o;
	}
	o = file_create(c, hostfd, mode, path, &st, err);
	if (o) {
		list_add_tail(&o->cache_node, &c->objs);
		c->nr_objs++;
	}
	pthread_mutex_unlock(&c->lock);
	return o;
}

int obj_file_read_page_locked(struct vm_object *o, uint64_t index, struct page **out)
{
	struct page *pg = phys_alloc(o->ph, 0, PHYS_ZERO);
	if (!pg)
		return -ENOMEM;
	uint8_t *dst = page_address(o->ph, pg);
	uint64_t off = index * PAGE_SIZE;
	size_t want = (size_t)min_u64(PAGE_SIZE, o->size - off), got = 0;
	/* A short read means the host file ends earlier (we extended it in the cache);
	 * the rest of the frame stays zero, as past EOF inside the last page. */
	while (got < want) {
		ssize_t n = pread(o->host_fd, dst + got, want - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			phys_put(o->ph, pg);
			return -EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (obj_insert_page_locked(o, index, pg)) {
		phys_put(o->ph, pg);
		return -ENOMEM;
	}
	page_get(pg);
	*out = pg;
	return 0;
}

int obj_is_deleted(struct vm_object *o)
{
	if (o->kind != OBJ_FILE)
		return 0;
	struct stat st;
	pthread_mutex_lock(&o->lock);
	int r = fstat(o->host_fd, &st);
	pthread_mutex_unlock(&o->lock);
	return r == 0 && st.st_nlink == 0;
}

const char *obj_map_name(struct vm_object *o, char *buf, size_t size)
{
	if (!o->name || !size)
		return NULL;
	snprintf(buf, size, "%s%s", o->name, obj_is_deleted(o) ? " (deleted)" : "");
	return buf;
}
