/*
 * prctl: the dynamic-code policy of SPEC §4 (PR_SET/GET_DYNAMIC_CODE_POLICY, values in
 * peimm/abi.h) and PR_SET/GET_DUMPABLE. Opting in to dynamic code lets the process hold
 * W+X memory; the registry value DynamicCodeOptIn can forbid that (EPERM). Turning W^X
 * back on is refused (EACCES) while any W+X mapping or alias exists. The policy is a PSB
 * field: fork copies it, exec resets it. PR_SET/GET_THP_DISABLE (Linux 6.18's form, with
 * PR_THP_DISABLE_EXCEPT_ADVISED) live in the mm: fork and exec keep them. Options Linux
 * has but peimm does not are EINVAL.
 */
#include "sys/sys.h"

#include <errno.h>
#include <sys/prctl.h>

static long dynamic_code(struct pm_thread *t, long on)
{
	struct pm_process *p = t->proc;
	if (on != 0 && on != 1)
		return -EINVAL;
	if (on) {
		pthread_mutex_lock(&p->sys->lock);
		long allowed = p->sys->reg[REG_DYNAMIC_CODE_OPT_IN];
		pthread_mutex_unlock(&p->sys->lock);
		if (!allowed)
			return -EPERM;
		p->dynamic_code = 1;
		return 0;
	}
	if (p->dynamic_code && mm_has_wx(p->mm))
		return -EACCES;	/* re-arming needs every W+X mapping and alias gone first */
	p->dynamic_code = 0;
	return 0;
}

#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)
#endif

/* prctl_set_thp_disable / prctl_get_thp_disable as Linux 6.18 checks them (probed). */
static long thp_disable(struct pm_thread *t, const long a[6])
{
	struct mm_struct *mm = t->proc->mm;
	if (a[0] == PR_GET_THP_DISABLE) {
		if (a[1] || a[2] || a[3] || a[4])
			return -EINVAL;
		pthread_rwlock_rdlock(&mm->lock);
		int d = mm->thp_disable;
		pthread_rwlock_unlock(&mm->lock);
		return d == THP_DISABLE_COMPLETELY ? 1 : d ? 1 | PR_THP_DISABLE_EXCEPT_ADVISED : 0;
	}
	if ((a[2] & ~(long)PR_THP_DISABLE_EXCEPT_ADVISED) || a[3] || a[4] || (!a[1] && a[2]))
		return -EINVAL;
	pthread_rwlock_wrlock(&mm->lock);
	mm->thp_disable = !a[1] ? 0 : a[2] ? THP_DISABLE_EXCEPT_ADVISED : THP_DISABLE_COMPLETELY;
	pthread_rwlock_unlock(&mm->lock);
	return 0;
}

long sys_prctl(struct pm_thread *t, const long a[6])
{
	switch (a[0]) {
	case PR_SET_DYNAMIC_CODE_POLICY:
		return dynamic_code(t, a[1]);
	case PR_GET_DYNAMIC_CODE_POLICY:
		return t->proc->dynamic_code;
	case PR_GET_DUMPABLE:
		return t->proc->dumpable;
	case PR_SET_DUMPABLE:
		if (a[1] != 0 && a[1] != 1)
			return -EINVAL;
		/* A protected process must never become dumpable again (PIP, digest §4.8). */
		if (a[1] && t->proc->pip_type)
			return -EPERM;
		t->proc->dumpable = (int)a[1];
		return 0;
	case 67:	/* PR_SET_MEMORY_MERGE (Linux 6.4) */
	case 68:	/* PR_GET_MEMORY_MERGE */
		return sys_ksm_prctl(t, a);
	case PR_SET_THP_DISABLE:
	case PR_GET_THP_DISABLE:
		return thp_disable(t, a);
	default:
		return -EINVAL;
	}
}
