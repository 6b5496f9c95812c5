/*
 * process_vm_readv, process_vm_writev and process_madvise (SPEC §7): the cross-process
 * memory calls. Each runs the two checks through sys_gate (VM_READ or VM_WRITE on the
 * target's SD, plus PIP) and maps a denial to EPERM as Linux's call sites do. Transfers go
 * through a bounce buffer with no lock held across both address spaces, and stop at the
 * first fault, reporting the bytes moved so far (page-granular partial transfers, as
 * Linux's process_vm_rw_core).
 */
#include "sys/sys.h"

#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "sys/fd.h"

#define BOUNCE 4096

struct uiov { uint64_t base, len; };

/* Reads an iovec array from t's memory into a kmem buffer. 0 or -EFAULT/-EINVAL/-ENOMEM. */
static long read_iovs(struct pm_thread *t, uint64_t va, unsigned long n, struct uiov **out)
{
	if (n > IOV_MAX)
		return -EINVAL;
	struct uiov *v = kmem_zalloc(&t->proc->sys->km, (n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	struct mm_fault_info fi;
	if (n && mm_access(t->proc->mm, NULL, t->pkru, va, v, n * sizeof(*v), PM_READ, &fi) < 0) {
		kmem_free(&t->proc->sys->km, v, n * sizeof(*v));
		return -EFAULT;
	}
	*out = v;
	return 0;
}

/* Bytes from va to the end of its page. */
static uint64_t page_left(uint64_t va) { return PAGE_SIZE - (va & (PAGE_SIZE - 1)); }

/* Moves bytes between the local and remote iovecs, in order, until one side ends or a
 * fault. Chunks never cross a page on either side, so a fault stops the count at the
 * first unmapped page, as Linux's page-by-page process_vm_rw_core does. Returns the bytes
 * moved, or -EFAULT when nothing moved. */
static long transfer(struct pm_thread *t, struct pm_process *p, const struct uiov *lv,
		     unsigned long ln, const struct uiov *rv, unsigned long rn, int write)
{
	uint8_t buf[BOUNCE];
	unsigned long li = 0, ri = 0;
	uint64_t lo = 0, ro = 0;
	long total = 0;
	struct mm_fault_info fi;
	while (li < ln && ri < rn) {
		uint64_t n = min_u64(min_u64(lv[li].len - lo, rv[ri].len - ro), BOUNCE);
		if (n) {
			struct mm_struct *src = write ? t->proc->mm : p->mm, *dst = write ? p->mm : t->proc->mm;
			uint64_t sva = write ? lv[li].base + lo : rv[ri].base + ro;
			uint64_t dva = write ? rv[ri].base + ro : lv[li].base + lo;
			n = min_u64(n, min_u64(page_left(sva), page_left(dva)));
			if (mm_access(src, NULL, 0, sva, buf, n, PM_READ, &fi) < 0 ||
			    mm_access(dst, NULL, 0, dva, buf, n, PM_WRITE, &fi) < 0)
				return total ? total : -EFAULT;
			total += (long)n;
		}
		lo += n;
		ro += n;
		if (lo == lv[li].len) { li++; lo = 0; }
		if (ro == rv[ri].len) { ri++; ro = 0; }
	}
	return total;
}

static long process_vm(struct pm_thread *t, const long a[6], int write)
{
	if (a[5])
		return -EINVAL;
	if ((unsigned long)a[2] > IOV_MAX || (unsigned long)a[4] > IOV_MAX)
		return -EINVAL;
	struct uiov *lv = NULL, *rv = NULL;
	long r = read_iovs(t, (uint64_t)a[1], (unsigned long)a[2], &lv);
	if (!r && (r = read_iovs(t, (uint64_t)a[3], (unsigned long)a[4], &rv)))
		kmem_free(&t->proc->sys->km, lv, ((unsigned long)a[2] ? (unsigned long)a[2] : 1) * sizeof(*lv));
	if (r)
		return r;
	struct pm_process *p = sys_target_pid(t, a[0]);
	if (!p || process_enter(p))
		r = -ESRCH;
	else {
		/* Linux's process_vm call sites turn the permission failure into EPERM. */
		if (sys_gate(t, p, write ? PROCESS_VM_WRITE : PROCESS_VM_READ,
			     write ? "process_vm_writev" : "process_vm_readv"))
			r = -EPERM;
		else
			r = transfer(t, p, lv, (unsigned long)a[2], rv, (unsigned long)a[4], write);
		process_leave(p);
	}
	kmem_free(&t->proc->sys->km, lv, ((unsigned long)a[2] ? (unsigned long)a[2] : 1) * sizeof(*lv));
	kmem_free(&t->proc->sys->km, rv, ((unsigned long)a[4] ? (unsigned long)a[4] : 1) * sizeof(*rv));
	return r;
}

long sys_process_vm_readv(struct pm_thread *t, const long a[6]) { return process_vm(t, a, 0); }
long sys_process_vm_writev(struct pm_thread *t, const long a[6]) { return process_vm(t, a, 1); }

/* process_madvise(pidfd, iovec, vlen, advice, flags): only the advice SPEC §7 allows
 * remotely; returns the bytes advised. */
long sys_process_madvise(struct pm_thread *t, const long a[6])
{
	long advice = a[3];
	if (a[4])
		return -EINVAL;
	if (advice != MADV_COLD && advice != MADV_PAGEOUT && advice != MADV_WILLNEED && advice != 25)
		return -EINVAL;
	struct open_file *f = fd_lookup(t->proc->files, (int)a[0]);
	int pid = f ? f->pid : 0;
	if (f)
		fd_file_put(f);
	if (!pid)
		return -EBADF;
	struct uiov *v = NULL;
	unsigned long n = (unsigned long)a[2];
	long r = read_iovs(t, (uint64_t)a[1], n, &v);
	if (r)
		return r;
	struct pm_process *p = sys_target_pid(t, pid);
	if (!p || process_enter(p)) {
		r = -ESRCH;
	} else {
		r = sys_gate(t, p, PROCESS_VM_WRITE, "process_madvise") ? -EPERM : 0;
		struct mm_caller c = { .rlim = p->rlim, .token = NULL, .wx = !p->dynamic_code };
		long done = 0;
		for (unsigned long i = 0; !r && i < n; i++) {
			long e = mm_madvise(p->mm, &c, v[i].base, v[i].len, advice);
			if (e)
				r = done ? done : e;
			else
				done += (long)v[i].len;
		}
		if (!r)
			r = done;
		process_leave(p);
	}
	kmem_free(&t->proc->sys->km, v, (n ? n : 1) * sizeof(*v));
	return r;
}
