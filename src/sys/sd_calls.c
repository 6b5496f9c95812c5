/*
 * kacs_get_sd and kacs_set_sd (syscalls 1021, 1022) on a pidfd: reading and replacing a
 * process's security descriptor (SPEC §7), as SDDL strings (peimm/abi.h). Reading needs
 * READ_CONTROL; writing needs WRITE_DAC for the DACL, WRITE_OWNER for owner and group,
 * ACCESS_SYSTEM_SECURITY for the SACL. The process's own default DACL grants it all of
 * them, through the same checks as anyone else (no self bypass).
 */
#include "sys/sys.h"

#include <errno.h>
#include <string.h>

#include "kacs/sd.h"
#include "sys/fd.h"

#define SDDL_MAX 8192

/* The process a pidfd in the dirfd slot names (path "" and AT_EMPTY_PATH required). */
static struct pm_process *sd_target(struct pm_thread *t, const long a[6], long *err)
{
	char c = 1;
	struct mm_fault_info fi;
	*err = -EFAULT;
	if (!a[1] || mm_access(t->proc->mm, NULL, t->pkru, (uint64_t)a[1], &c, 1, PM_READ, &fi) < 0)
		return NULL;
	*err = -EINVAL;
	if (c != '\0' || !(a[2] & PM_AT_EMPTY_PATH))
		return NULL;	/* only processes, named by pidfd, are objects here */
	struct open_file *f = fd_lookup(t->proc->files, (int)a[0]);
	int pid = f ? f->pid : 0;
	if (f)
		fd_file_put(f);
	*err = -EBADF;
	if (!pid)
		return NULL;
	struct pm_process *p = sys_target_pid(t, pid);
	*err = p ? 0 : -ESRCH;
	return p;
}

long sys_kacs_get_sd(struct pm_thread *t, const long a[6])
{
	long err;
	struct pm_process *p = sd_target(t, a, &err);
	if (!p)
		return err;
	if ((err = sys_gate(t, p, READ_CONTROL, "kacs_get_sd")))
		return err;
	char text[SDDL_MAX];
	pthread_mutex_lock(&p->sys->lock);
	size_t n = p->sd ? sd_to_sddl(p->sd, text, sizeof(text)) : 0;
	pthread_mutex_unlock(&p->sys->lock);
	if (!n || n >= sizeof(text))
		return -ESRCH;
	if ((uint64_t)a[4] < n + 1)
		return -ERANGE;
	struct mm_fault_info fi;
	if (mm_access(t->proc->mm, NULL, t->pkru, (uint64_t)a[3], text, n + 1, PM_WRITE, &fi) < 0)
		return -EFAULT;
	return (long)n + 1;
}

/* Reads the NUL-terminated SDDL argument from t's memory. 0 or -EFAULT/-EINVAL. */
static long copy_sddl(struct pm_thread *t, uint64_t va, char *out)
{
	struct mm_fault_info fi;
	for (size_t i = 0; i < SDDL_MAX; i++) {
		if (mm_access(t->proc->mm, NULL, t->pkru, va + i, &out[i], 1, PM_READ, &fi) < 0)
			return -EFAULT;
		if (!out[i])
			return 0;
	}
	return -EINVAL;
}

/* Which parts an SDDL string names ("O:", "G:", "D:", "S:" at a part boundary). */
static int names_part(const char *s, char part)
{
	for (const char *p = s; (p = strchr(p, part)) != NULL; p++)
		if (p[1] == ':' && (p == s || p[-1] == ')' || p[-1] != '('))
			return 1;
	return 0;
}

long sys_kacs_set_sd(struct pm_thread *t, const long a[6])
{
	long err;
	struct pm_process *p = sd_target(t, a, &err);
	if (!p)
		return err;
	char text[SDDL_MAX];
	if ((err = copy_sddl(t, (uint64_t)a[3], text)))
		return err;
	struct pm_system *sys = p->sys;
	struct sd *given;
	size_t off;
	if ((err = sd_from_sddl(&sys->km, text, &given, &off)))
		return err;
	uint32_t need = (names_part(text, 'D') ? WRITE_DAC : 0) |
			((names_part(text, 'O') || names_part(text, 'G')) ? WRITE_OWNER : 0) |
			(names_part(text, 'S') ? ACCESS_SYSTEM_SECURITY : 0);
	if (need && (err = sys_gate(t, p, need, "kacs_set_sd"))) {
		sd_free(&sys->km, given);
		return err;
	}
	pthread_mutex_lock(&sys->lock);
	struct sd *merged = p->sd ? sd_dup(&sys->km, p->sd) : NULL;
	if (merged) {
		if (names_part(text, 'O'))
			merged->has_owner = given->has_owner, merged->owner = given->owner;
		if (names_part(text, 'G'))
			merged->has_group = given->has_group, merged->group = given->group;
		if (names_part(text, 'D'))
			merged->dacl_present = given->dacl_present, merged->dacl = given->dacl;
		if (names_part(text, 'S'))
			merged->sacl_present = given->sacl_present, merged->sacl = given->sacl;
		sd_free(&sys->km, p->sd);
		p->sd = merged;
	}
	pthread_mutex_unlock(&sys->lock);
	sd_free(&sys->km, given);
	return merged ? 0 : -ENOMEM;
}
