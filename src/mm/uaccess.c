/*
 * The software MMU: every load, store and instruction fetch of a simulated process goes
 * through here. A per-thread TLB caches translations with the rights the PTE grants
 * (write only once D is set, so dirty tracking stays exact); a miss walks the page tables,
 * checks P/RW/US/NX and PKRU, sets A and D, and calls the fault handler. One chunked
 * walker serves reads, writes and fetches (STYLE §3.6). Runs under mm->lock for reading,
 * except a small read that hits the TLB (mm_access_hit), which validates a generation
 * after its copy instead (the shootdown rule in mm.h).
 */
#include "mm/mm_internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#define VSYSCALL_ADDR	0xffffffffff600000ULL

/* Brings the TLB up to mm's generations; a TLB last used for another space (exec) moves
 * its reference over. mm->lock held. */
static void tlb_sync(struct mm_struct *mm, struct tlb *tlb)
{
	if (tlb->mm != mm) {
		mm_grab(mm);
		tlb_release(tlb);
		tlb->mm = mm;
	}
	uint64_t gen = atomic_load(&mm->tlb_gen);
	uint64_t sys_gen = atomic_load(&mm->sys->shootdown_gen);
	if (tlb->gen != gen || tlb->sys_gen != sys_gen) {
		for (int i = 0; i < TLB_ENTRIES; i++)
			tlb->e[i].vpn = UINT64_MAX;
		tlb->gen = gen;
		tlb->sys_gen = sys_gen;
	}
}

/* Rights a present PTE grants without another walk. */
static uint8_t pte_perm(pte_t e)
{
	uint8_t p = PM_READ_;
	/* Write hits only once D and soft-dirty are set (so clear_refs 4 sees the next write),
	 * and never for MAP_SYNC pages, whose every store must reach the file. */
	pte_t wbits = PTE_RW | PTE_D | PTE_SOFTDIRTY;
	if ((e & wbits) == wbits && !(e & PTE_SYNC))
		p |= PM_WRITE_;
	if (!(e & PTE_NX))
		p |= PM_EXEC_;
	return p;
}

/* Does the PTE allow the access (the hardware check)? */
static int pte_allows(pte_t e, int how)
{
	if (!(e & PTE_P) || !(e & PTE_US))
		return 0;
	if ((how & PM_WRITE_) && !(e & PTE_RW))
		return 0;
	return !((how & PM_EXEC_) && (e & PTE_NX));
}

static void fill_fault(struct mm_fault_info *fi, enum fault_ret r, uint64_t addr, int pkey)
{
	if (!fi)
		return;
	fi->addr = addr;
	fi->pkey = 0;
	fi->signo = SIGSEGV;
	switch (r) {
	case FAULT_SEGV_ACCERR: fi->code = SEGV_ACCERR; break;
	case FAULT_SEGV_PKUERR: fi->code = SEGV_PKUERR; fi->pkey = pkey; break;
	case FAULT_SIGBUS: fi->signo = SIGBUS; fi->code = BUS_ADRERR; break;
	case FAULT_HWPOISON: fi->signo = SIGBUS; fi->code = BUS_MCEERR_AR; break;
	case FAULT_OOM: fi->signo = SIGKILL; fi->code = 0; break;
	default: fi->code = SEGV_MAPERR; break;
	}
}

/* The retry loop of one page: walk, fault, and (for the stack) grow with the write lock. */
static enum fault_ret translate_slow(struct mm_struct *mm, struct tlb *tlb, uint32_t pkru,
				     uint64_t a, int how, uint8_t **host, int *pkey,
				     const struct mm_rlimit *rlim, struct page **sync_page)
{
	for (int tries = 0; tries < 4; tries++) {
		int level;
		pte_t *ep = pgt_lookup(&mm->pgt, a, &level);
		pte_t e = ep ? *ep : 0;
		if (pte_allows(e, how) && !mm_pte_poisoned_at(mm, e, level, a)) {
			*pkey = (int)pte_pkey(e);
			if (pkru_denies(pkru, (unsigned)*pkey, how))
				return FAULT_SEGV_PKUERR;
			pte_t set = PTE_A | ((how & PM_WRITE_) ? PTE_D | PTE_SOFTDIRTY : 0);
			if ((e & set) != set)
				__atomic_fetch_or(ep, set, __ATOMIC_RELAXED);
			if ((e & PTE_SYNC) && (how & PM_WRITE_))
				*sync_page = pfn_to_page(mm->sys->ph, pte_pfn(e));
			uint64_t off = a & (pgt_level_size(level) - 1) & ~(PAGE_SIZE - 1);
			*host = (uint8_t *)pfn_to_virt(mm->sys->ph, pte_pfn(e)) + off;
			if (tlb) {
				struct tlb_entry *t = &tlb->e[(a >> PAGE_SHIFT) % TLB_ENTRIES];
				t->vpn = a >> PAGE_SHIFT;
				t->host = *host;
				t->perm = pte_perm(e | set);
				t->pkey = (uint8_t)*pkey;
			}
			return FAULT_OK;
		}
		enum fault_ret r = mm_handle_fault(mm, a, how, pkru);
		if (r == FAULT_SEGV_PKUERR) {
			struct vma *v = vma_lookup(&mm->mt, a);	/* si_pkey is the VMA's key */
			*pkey = v ? v->pkey : 0;
		}
		if (r == FAULT_EXPAND_STACK) {
			pthread_rwlock_unlock(&mm->lock);
			pthread_rwlock_wrlock(&mm->lock);
			int err = mm_expand_stack(mm, a, rlim);
			pthread_rwlock_unlock(&mm->lock);
			pthread_rwlock_rdlock(&mm->lock);
			if (err)
				return FAULT_SEGV_MAPERR;
			continue;
		}
		if (r != FAULT_OK)
			return r;
		if (tlb)
			tlb_sync(mm, tlb);
	}
	return FAULT_SEGV_ACCERR;
}

/* MAP_SYNC (SPEC §5): the store reaches the host file before the access returns. */
static void write_through(struct page *pg)
{
	struct vm_object *o = pg->owner;
	if (pg->owner_kind != OWNER_OBJECT || !o)
		return;
	obj_page_dirty(o, pg);
	obj_writeback(o, pg->index, pg->index, 1);
}

static const struct mm_rlimit *default_rlim(void)
{
	static const struct mm_rlimit unlimited[RLIM_NLIMITS] = {
		[RLIMIT_STACK] = { 8ULL << 20, UINT64_MAX },
		[RLIMIT_AS] = { UINT64_MAX, UINT64_MAX },
	};
	return unlimited;
}

/* memcpy of at most TLB_HIT_MAX bytes; the load and store sizes get one move each instead
 * of a call (the call was a fifth of a hit). */
static inline void copy_small(void *dst, const void *src, size_t len)
{
	switch (len) {
	case 8: memcpy(dst, src, 8); break;
	case 4: memcpy(dst, src, 4); break;
	case 2: memcpy(dst, src, 2); break;
	case 1: memcpy(dst, src, 1); break;
	default: memcpy(dst, src, len); break;
	}
}

int mm_access_hit(struct tlb *tlb, uint32_t pkru, uint64_t va, void *buf, size_t len, int how)
{
	struct mm_struct *mm = tlb->mm;
	if (!mm || (how & PM_WRITE_) || !len || len > TLB_HIT_MAX ||
	    (va & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		return 0;
	/* Stores stay on the locked path: a store through a stale entry cannot be undone
	 * by a check made after it, a copied-out read can be thrown away. */
	uint64_t gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
	uint64_t sys_gen = atomic_load_explicit(&mm->sys->shootdown_gen, memory_order_acquire);
	if (gen != tlb->gen || sys_gen != tlb->sys_gen)
		return 0;
	const struct tlb_entry *t = &tlb->e[(va >> PAGE_SHIFT) % TLB_ENTRIES];
	if (t->vpn != va >> PAGE_SHIFT || (t->perm & how) != how || pkru_denies(pkru, t->pkey, how))
		return 0;
	const uint8_t *src = t->host + (va & (PAGE_SIZE - 1));
	uint8_t tmp[TLB_HIT_MAX];
	copy_small(tmp, src, len);
	/* The seqcount check: the copy is ordered before the re-reads (an x86 load is not
	 * passed by a later load; the fence keeps the compiler from moving it). If either
	 * generation moved, the frame may have been freed and reused: throw the copy away. */
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&mm->tlb_gen, memory_order_relaxed) != gen ||
	    atomic_load_explicit(&mm->sys->shootdown_gen, memory_order_relaxed) != sys_gen)
		return 0;
	copy_small(buf, tmp, len);
	return 1;
}

long mm_access_rlim(struct mm_struct *mm, struct tlb *tlb, uint32_t pkru, uint64_t va, void *buf,
		    size_t len, int how, struct mm_fault_info *fi, const struct mm_rlimit *rlim)
{
	uint8_t *p = buf;
	size_t done = 0;
	pthread_rwlock_rdlock(&mm->lock);
	if (tlb)
		tlb_sync(mm, tlb);
	while (done < len) {
		uint64_t a = va + done;
		size_t chunk = PAGE_SIZE - (a & (PAGE_SIZE - 1));
		if (chunk > len - done)
			chunk = len - done;
		uint8_t *host = NULL;
		struct page *sync_page = NULL;
		int pkey = 0;
		struct tlb_entry *t = tlb ? &tlb->e[(a >> PAGE_SHIFT) % TLB_ENTRIES] : NULL;
		if (t && t->vpn == a >> PAGE_SHIFT && (t->perm & how) == how &&
		    !pkru_denies(pkru, t->pkey, how)) {
			host = t->host + (a & (PAGE_SIZE - 1));
		} else {
			enum fault_ret r = (a < va || a >= mm->task_size) ? FAULT_SEGV_MAPERR
				: translate_slow(mm, tlb, pkru, a, how, &host, &pkey, rlim, &sync_page);
			if (r == FAULT_SEGV_MAPERR && (a & PAGE_MASK) == VSYSCALL_ADDR && how == PM_EXEC_) {
				memset(p + done, 0xcc, chunk);	/* emulated, execute-only */
				done += chunk;
				continue;
			}
			if (r != FAULT_OK) {
				pthread_rwlock_unlock(&mm->lock);
				fill_fault(fi, r, a, pkey);
				return -EFAULT;
			}
			host += a & (PAGE_SIZE - 1) & (pgt_level_size(1) - 1);
		}
		if (how & PM_WRITE_)
			memcpy(host, p + done, chunk);
		else
			memcpy(p + done, host, chunk);
		if (sync_page)
			write_through(sync_page);
		done += chunk;
	}
	pthread_rwlock_unlock(&mm->lock);
	return (long)len;
}

long mm_access(struct mm_struct *mm, struct tlb *tlb, uint32_t pkru, uint64_t va, void *buf,
	       size_t len, int how, struct mm_fault_info *fi)
{
	return mm_access_rlim(mm, tlb, pkru, va, buf, len, how, fi, default_rlim());
}
