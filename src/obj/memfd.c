/*
 * memfd: in-memory files (shmem objects that grow and shrink, or hugetlb ones with
 * MFD_HUGETLB) and their seals, with Linux's rules (memfd_add_seals): seals only
 * accumulate, F_SEAL_SEAL freezes the set,
 * and F_SEAL_WRITE is refused while writable shared mappings exist. The mm layer asks
 * obj_map_writable_get before it creates such a mapping, so the seal and the count
 * change under one lock and neither can slip past the other.
 */
#include "obj/obj_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/kmem.h"

/* The memfd half of both kinds: the name, the mode and the seals memfd_create starts with. */
static int memfd_init(struct vm_object *o, const char *name, unsigned mfd_flags)
{
	/* Linux names the file "memfd:NAME" on the internal mount; maps shows it as
	 * "/memfd:NAME (deleted)". */
	o->name_size = strlen(name) + sizeof("/memfd: (deleted)");
	o->name_buf = kmem_zalloc(o->km, o->name_size);
	if (!o->name_buf)
		return -ENOMEM;
	snprintf(o->name_buf, o->name_size, "/memfd:%s (deleted)", name);
	o->name = o->name_buf;
	o->mode = 0777;
	if (mfd_flags & OBJ_MFD_NOEXEC_SEAL) {
		/* NOEXEC_SEAL implies ALLOW_SEALING and drops the execute bits for good. */
		o->mode = 0666;
		o->seals = OBJ_SEAL_EXEC;
	} else if (!(mfd_flags & OBJ_MFD_ALLOW_SEALING)) {
		o->seals = OBJ_SEAL_SEAL;
	}
	return 0;
}

struct vm_object *obj_memfd_create(struct kmem *km, struct phys *ph, const char *name,
				   unsigned mfd_flags, uint64_t ino, int *err)
{
	struct vm_object *o = obj_alloc(km, ph, OBJ_MEMFD, 0);
	*err = -ENOMEM;
	if (!o)
		return NULL;
	if (memfd_init(o, name, mfd_flags)) {
		obj_put(o);
		return NULL;
	}
	o->dev_major = 0;
	o->dev_minor = 1;	/* the internal shm mount */
	o->ino = ino;
	*err = 0;
	return o;
}

struct vm_object *obj_hugetlb_memfd_create(struct kmem *km, struct phys *ph, int h,
					   const char *name, unsigned mfd_flags, uint64_t ino,
					   int *err)
{
	/* Empty, so nothing to reserve: mmap reserves what it maps (hugetlbfs_file_mmap). */
	struct vm_object *o = obj_hugetlb_create(km, ph, h, 0, 1, 1, ino, err);
	if (!o)
		return NULL;
	o->huge_memfd = 1;
	if (memfd_init(o, name, mfd_flags)) {
		obj_put(o);
		*err = -ENOMEM;
		return NULL;
	}
	return o;
}

int obj_is_memfd(const struct vm_object *o)
{
	return o->kind == OBJ_MEMFD || (o->kind == OBJ_HUGETLB && o->huge_memfd);
}

int obj_add_seals(struct vm_object *o, unsigned seals)
{
	if (seals & ~OBJ_SEAL_ALL)
		return -EINVAL;
	if (!obj_is_memfd(o))
		return -EINVAL;
	int err = 0;
	pthread_mutex_lock(&o->lock);
	if (o->seals & OBJ_SEAL_SEAL) {
		err = -EPERM;
		goto out;
	}
	/* An EXEC seal on an executable memfd also seals writing (W^X from then on); it is
	 * applied before the busy check, as Linux does (EBUSY with a writable mapping). */
	if ((seals & OBJ_SEAL_EXEC) && (o->mode & 0111))
		seals |= OBJ_SEAL_SHRINK | OBJ_SEAL_GROW | OBJ_SEAL_WRITE | OBJ_SEAL_FUTURE_WRITE;
	if ((seals & OBJ_SEAL_WRITE) && !(o->seals & OBJ_SEAL_WRITE) &&
	    atomic_load(&o->nr_shared_writable) > 0) {
		err = -EBUSY;
		goto out;
	}
	o->seals |= seals;
out:
	pthread_mutex_unlock(&o->lock);
	return err;
}

int obj_get_seals(struct vm_object *o)
{
	if (!obj_is_memfd(o))
		return -EINVAL;
	pthread_mutex_lock(&o->lock);
	int s = (int)o->seals;
	pthread_mutex_unlock(&o->lock);
	return s;
}

int obj_map_writable_get(struct vm_object *o)
{
	int err = 0;
	pthread_mutex_lock(&o->lock);
	if (o->seals & (OBJ_SEAL_WRITE | OBJ_SEAL_FUTURE_WRITE))
		err = -EPERM;
	else
		atomic_fetch_add(&o->nr_shared_writable, 1);
	pthread_mutex_unlock(&o->lock);
	return err;
}

void obj_map_writable_put(struct vm_object *o)
{
	atomic_fetch_sub(&o->nr_shared_writable, 1);
}

