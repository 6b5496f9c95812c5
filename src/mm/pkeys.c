/*
 * Memory protection keys (SPEC §10): pkey_alloc hands out keys 1-15 (0 is the default key
 * every mapping starts with), pkey_free returns them, and pkey_mprotect is mprotect that
 * also stamps the key on the VMAs and their PTEs (bits 59-62). The rights live in each
 * thread's PKRU, which the software MMU checks on every data access (SEGV_PKUERR).
 */
#include "mm/mm_internal.h"

#include <errno.h>

#define PKEY_DISABLE_ACCESS_	1
#define PKEY_DISABLE_WRITE_	2

long mm_pkey_alloc(struct mm_struct *mm, uint64_t flags, uint64_t rights, uint32_t *pkru)
{
	if (flags || (rights & ~(uint64_t)(PKEY_DISABLE_ACCESS_ | PKEY_DISABLE_WRITE_)))
		return -EINVAL;
	pthread_rwlock_wrlock(&mm->lock);
	long key = -ENOSPC;
	for (int k = 1; k < 16; k++) {
		if (!(mm->pkey_map & (1u << k))) {
			mm->pkey_map |= (uint16_t)(1u << k);
			key = k;
			break;
		}
	}
	pthread_rwlock_unlock(&mm->lock);
	if (key > 0) {
		/* arch_set_user_pkey_access: the new key's rights start as init_rights. */
		*pkru &= ~(3u << (2 * key));
		*pkru |= (uint32_t)rights << (2 * key);
	}
	return key;
}

long mm_pkey_free(struct mm_struct *mm, long key)
{
	pthread_rwlock_wrlock(&mm->lock);
	long r = -EINVAL;
	if (key > 0 && key < 16 && (mm->pkey_map & (1u << key))) {
		mm->pkey_map &= (uint16_t)~(1u << key);
		r = 0;
	}
	pthread_rwlock_unlock(&mm->lock);
	return r;
}

int mm_pkey_allocated(struct mm_struct *mm, long key)
{
	return key == 0 || (key > 0 && key < 16 && (mm->pkey_map & (1u << key)));
}
