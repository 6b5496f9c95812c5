/*
 * The swap area on a host file: a header page, a reference count per slot allocated
 * next-fit, page-sized pread/pwrite at slot * 4096, and the swap cache (one frame pointer
 * per slot). Everything here is about slots and bytes; which PTE names which slot is mm's
 * business. Counting references instead of owners keeps fork cheap (swap_dup) and makes
 * the leak check exact: at destroy every slot must be back to zero.
 */
#include "reclaim/swap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/kmem.h"
#include "lib/pm_assert.h"

/* Linux's swap header: bootbits, then version, last_page, nr_badpages at offset 1024, and
 * the magic in the page's last ten bytes. Written so the file is recognisably a swap area
 * (file(1) says "Linux swap file"), not because anything reads it back. */
static int write_header(int fd, uint64_t nslots)
{
	uint8_t page[PAGE_SIZE] = { 0 };
	uint32_t info[3] = { 1, (uint32_t)nslots, 0 };
	memcpy(page + 1024, info, sizeof(info));
	memcpy(page + PAGE_SIZE - 10, "SWAPSPACE2", 10);
	return pwrite(fd, page, PAGE_SIZE, 0) == PAGE_SIZE ? 0 : -EIO;
}

static int open_file(const char *path)
{
	if (path)
		return open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char tmpl[] = "/tmp/peimm-swapXXXXXX";	/* no O_TMPFILE on this filesystem */
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	return fd;
}

int swap_init(struct swap_area *sa, struct kmem *km, struct phys *ph, const char *path,
	      uint64_t bytes)
{
	memset(sa, 0, sizeof(*sa));
	sa->km = km;
	sa->ph = ph;
	sa->fd = -1;
	pthread_mutex_init(&sa->lock, NULL);
	uint64_t pages = bytes >> PAGE_SHIFT;
	if (pages < 2)
		return bytes ? -EINVAL : 0;	/* a header and at least one slot, or no swap */
	if (pages - 1 > UINT32_MAX)
		return -EINVAL;	/* the header's last_page, and page.swap_slot, are 32 bits */
	sa->nslots = pages - 1;
	sa->count = kmem_zalloc(km, (sa->nslots + 1) * sizeof(*sa->count));
	sa->cache = kmem_zalloc(km, (sa->nslots + 1) * sizeof(*sa->cache));
	int err = -ENOMEM;
	if (!sa->count || !sa->cache)
		goto fail;
	sa->fd = open_file(path);
	err = -errno;
	if (sa->fd < 0)
		goto fail;
	err = -EIO;
	if (ftruncate(sa->fd, (off_t)(pages << PAGE_SHIFT)) || write_header(sa->fd, sa->nslots))
		goto fail;
	sa->nr_free = sa->nslots;
	sa->cursor = 1;
	return 0;
fail:
	swap_destroy(sa);
	return err;
}

uint64_t swap_destroy(struct swap_area *sa)
{
	uint64_t used = 0;
	for (uint64_t s = 1; sa->count && s <= sa->nslots; s++) {
		used += sa->count[s] != 0;
		if (sa->cache && sa->cache[s]) {
			atomic_store(&sa->cache[s]->swap_slot, 0);
			phys_put(sa->ph, sa->cache[s]);
		}
	}
	if (sa->count)
		kmem_free(sa->km, sa->count, (sa->nslots + 1) * sizeof(*sa->count));
	if (sa->cache)
		kmem_free(sa->km, sa->cache, (sa->nslots + 1) * sizeof(*sa->cache));
	if (sa->fd >= 0)
		close(sa->fd);
	sa->count = NULL;
	sa->cache = NULL;
	sa->fd = -1;
	pthread_mutex_destroy(&sa->lock);
	return used;
}

int64_t swap_alloc(struct swap_area *sa)
{
	pthread_mutex_lock(&sa->lock);
	int64_t slot = -ENOSPC;
	for (uint64_t i = 0; sa->nr_free && i < sa->nslots; i++) {
		uint64_t s = sa->cursor;
		sa->cursor = s == sa->nslots ? 1 : s + 1;
		if (!sa->count[s]) {
			sa->count[s] = 1;
			sa->nr_free--;
			slot = (int64_t)s;
			break;
		}
	}
	pthread_mutex_unlock(&sa->lock);
	return slot;
}

void swap_dup(struct swap_area *sa, uint64_t slot)
{
	pthread_mutex_lock(&sa->lock);
	PM_ENFORCE(slot >= 1 && slot <= sa->nslots && sa->count[slot] && sa->count[slot] < UINT16_MAX);
	sa->count[slot]++;
	pthread_mutex_unlock(&sa->lock);
}

int swap_put(struct swap_area *sa, uint64_t slot)
{
	struct page *drop = NULL;
	pthread_mutex_lock(&sa->lock);
	PM_ENFORCE(slot >= 1 && slot <= sa->nslots && sa->count[slot]);
	int freed = --sa->count[slot] == 0;
	if (freed) {
		sa->nr_free++;
		drop = sa->cache[slot];
		sa->cache[slot] = NULL;
		sa->nr_cached -= drop != NULL;
		if (drop)
			atomic_store(&drop->swap_slot, 0);
	}
	pthread_mutex_unlock(&sa->lock);
	if (drop)
		phys_put(sa->ph, drop);	/* outside the leaf lock: phys has its own */
	return freed;
}

unsigned swap_count(struct swap_area *sa, uint64_t slot)
{
	pthread_mutex_lock(&sa->lock);
	unsigned n = slot >= 1 && slot <= sa->nslots ? sa->count[slot] : 0;
	pthread_mutex_unlock(&sa->lock);
	return n;
}

int swap_write(struct swap_area *sa, uint64_t slot, const void *src)
{
	PM_ENFORCE(slot >= 1 && slot <= sa->nslots);
	if (pwrite(sa->fd, src, PAGE_SIZE, (off_t)(slot << PAGE_SHIFT)) != PAGE_SIZE)
		return -EIO;
	pthread_mutex_lock(&sa->lock);
	sa->pswpout++;
	pthread_mutex_unlock(&sa->lock);
	return 0;
}

int swap_read(struct swap_area *sa, uint64_t slot, void *dst)
{
	PM_ENFORCE(slot >= 1 && slot <= sa->nslots);
	if (pread(sa->fd, dst, PAGE_SIZE, (off_t)(slot << PAGE_SHIFT)) != PAGE_SIZE)
		return -EIO;
	pthread_mutex_lock(&sa->lock);
	sa->pswpin++;
	pthread_mutex_unlock(&sa->lock);
	return 0;
}

struct page *swap_cache_get(struct swap_area *sa, uint64_t slot)
{
	pthread_mutex_lock(&sa->lock);
	struct page *pg = slot >= 1 && slot <= sa->nslots ? sa->cache[slot] : NULL;
	if (pg)
		page_get(pg);
	pthread_mutex_unlock(&sa->lock);
	return pg;
}

void swap_cache_add(struct swap_area *sa, uint64_t slot, struct page *pg)
{
	pthread_mutex_lock(&sa->lock);
	PM_ENFORCE(slot >= 1 && slot <= sa->nslots && sa->count[slot] && !sa->cache[slot]);
	PM_ENFORCE(!atomic_load(&pg->swap_slot));
	page_get(pg);
	sa->cache[slot] = pg;
	atomic_store(&pg->swap_slot, (unsigned)slot);
	sa->nr_cached++;
	pthread_mutex_unlock(&sa->lock);
}

int swap_cache_install(struct swap_area *sa, uint64_t slot, struct page *pg)
{
	pthread_mutex_lock(&sa->lock);
	PM_ENFORCE(slot >= 1 && slot <= sa->nslots && sa->count[slot]);
	int installed = !sa->cache[slot];
	if (installed) {
		PM_ENFORCE(!atomic_load(&pg->swap_slot));
		page_get(pg);
		sa->cache[slot] = pg;
		atomic_store(&pg->swap_slot, (unsigned)slot);
		sa->nr_cached++;
	}
	pthread_mutex_unlock(&sa->lock);
	return installed;
}

uint64_t swap_cache_hold(struct swap_area *sa, struct page *pg)
{
	pthread_mutex_lock(&sa->lock);
	uint64_t slot = atomic_load(&pg->swap_slot);
	if (slot && sa->cache[slot] == pg && sa->count[slot] && sa->count[slot] < UINT16_MAX)
		sa->count[slot]++;
	else
		slot = 0;
	pthread_mutex_unlock(&sa->lock);
	return slot;
}

int swap_cache_reclaim(struct swap_area *sa, struct page *pg, int refs)
{
	pthread_mutex_lock(&sa->lock);
	uint64_t slot = atomic_load(&pg->swap_slot);
	/* __remove_mapping's folio_ref_freeze: lookups take their reference under this lock,
	 * so a frame nobody else holds now stays unheld once it has left the cache. */
	int ok = slot && sa->cache[slot] == pg && atomic_load(&pg->mapcount) == 0 &&
		 atomic_load(&pg->refcount) == refs + 1;
	if (ok) {
		sa->cache[slot] = NULL;
		sa->nr_cached--;
		atomic_store(&pg->swap_slot, 0);
		atomic_fetch_sub(&pg->refcount, 1);	/* the cache's; the caller's remain */
	}
	pthread_mutex_unlock(&sa->lock);
	return ok;
}

void swap_stat(struct swap_area *sa, uint64_t *total, uint64_t *free, uint64_t *cached)
{
	pthread_mutex_lock(&sa->lock);
	*total = sa->nslots;
	*free = sa->nr_free;
	*cached = sa->nr_cached;
	pthread_mutex_unlock(&sa->lock);
}

void swap_cache_for_each(struct swap_area *sa, void (*fn)(void *ctx, struct page *pg), void *ctx)
{
	pthread_mutex_lock(&sa->lock);
	for (uint64_t s = 1; s <= sa->nslots; s++)
		if (sa->cache[s])
			fn(ctx, sa->cache[s]);
	pthread_mutex_unlock(&sa->lock);
}

int swap_check(struct swap_area *sa)
{
	int bad = 0;
	pthread_mutex_lock(&sa->lock);
	uint64_t nfree = 0, ncached = 0;
	for (uint64_t s = 1; s <= sa->nslots; s++) {
		nfree += sa->count[s] == 0;
		ncached += sa->cache[s] != NULL;
		if (!sa->count[s] && sa->cache[s]) {
			fprintf(stderr, "swap: free slot %llu still has a cached frame\n",
				(unsigned long long)s);
			bad++;
		}
		if (sa->cache[s] && atomic_load(&sa->cache[s]->swap_slot) != s) {
			fprintf(stderr, "swap: the frame cached for slot %llu records slot %u\n",
				(unsigned long long)s, atomic_load(&sa->cache[s]->swap_slot));
			bad++;
		}
	}
	if (nfree != sa->nr_free || ncached != sa->nr_cached) {
		fprintf(stderr, "swap: counted %llu free and %llu cached slots, cached %llu and %llu\n",
			(unsigned long long)nfree, (unsigned long long)ncached,
			(unsigned long long)sa->nr_free, (unsigned long long)sa->nr_cached);
		bad++;
	}
	pthread_mutex_unlock(&sa->lock);
	return bad;
}
