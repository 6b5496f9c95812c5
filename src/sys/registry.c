/*
 * The registry's memory knobs, Machine\System\Memory\<Value> (SPEC §11), with their
 * defaults and ranges, and the applier (the ksyncd role) that pushes a value into the live
 * system the moment it changes. Writers need write access to the key: SYSTEM or an
 * enabled Administrators group (the key SD's grant); KsmRun is SYSTEM-only; lowering
 * MmapMinAddr also needs SeTcbPrivilege.
 */
#include "sys/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kacs/gate.h"
#include "kacs/sd.h"

static const struct {
	const char *name;
	long def, min, max;
} reg_table[NR_REG] = {
	[REG_MMAP_MIN_ADDR] = { "MmapMinAddr", 65536, 0, 1L << 30 },
	[REG_MAX_MAP_COUNT] = { "MaxMapCount", 65530, 0, 0x7fffffff },
	[REG_RANDOMIZE_VA_SPACE] = { "RandomizeVaSpace", 2, 0, 2 },
	[REG_OVERCOMMIT_MEMORY] = { "OvercommitMemory", 0, 0, 2 },
	[REG_OVERCOMMIT_RATIO] = { "OvercommitRatio", 50, 0, 100000 },
	[REG_PANIC_ON_OOM] = { "PanicOnOom", 0, 0, 2 },
	[REG_SWAPPINESS] = { "Swappiness", 60, 0, 200 },
	[REG_KSM_RUN] = { "KsmRun", 0, 0, 2 },
	[REG_KSM_PAGES_TO_SCAN] = { "KsmPagesToScan", 100, 0, 1L << 20 },
	[REG_KSM_SLEEP_MILLISECS] = { "KsmSleepMillisecs", 20, 0, 1L << 20 },
	/* THP modes: 0 always, 1 madvise, 2 never. Defrag: 0 always, 1 defer,
	 * 2 defer+madvise, 3 madvise, 4 never. */
	[REG_THP_ENABLED] = { "ThpEnabled", 1, 0, 2 },
	[REG_THP_DEFRAG] = { "ThpDefrag", 3, 0, 4 },	/* Linux's default: madvise */
	[REG_NR_HUGEPAGES_2M] = { "NrHugepages2M", 0, 0, 1L << 20 },
	[REG_NR_HUGEPAGES_1G] = { "NrHugepages1G", 0, 0, 1L << 10 },
	[REG_DYNAMIC_CODE_OPT_IN] = { "DynamicCodeOptIn", 1, 0, 1 },
	[REG_DIRTY_EXPIRE_CENTISECS] = { "DirtyExpireCentisecs", 3000, 0, 1L << 24 },
	/* khugepaged/pages_to_scan (at least 1) and scan_sleep_millisecs, Linux's defaults. */
	[REG_THP_KHUGEPAGED_PAGES_TO_SCAN] = { "ThpKhugepagedPagesToScan", 4096, 1, 1L << 24 },
	[REG_THP_KHUGEPAGED_SLEEP_MILLISECS] = { "ThpKhugepagedScanSleepMillisecs", 10000, 0, 1L << 24 },
};

void reg_init(struct pm_system *sys)
{
	for (int i = 0; i < NR_REG; i++)
		sys->reg[i] = reg_table[i].def;
}

/* Accepts "Machine\System\Memory\Name", the same with '/', or the bare name. */
int reg_lookup(const char *path)
{
	if (!path)
		return -ENOENT;
	static const char prefix[] = "Machine\\System\\Memory\\";
	size_t n = sizeof(prefix) - 1;
	const char *name = path;
	if (strlen(path) > n) {
		int match = 1;
		for (size_t i = 0; i < n && match; i++) {
			char c = path[i] == '/' ? '\\' : path[i];
			match = (c | 0x20) == (prefix[i] | 0x20);
		}
		if (match)
			name = path + n;
	}
	for (int i = 0; i < NR_REG; i++)
		if (!strcasecmp(name, reg_table[i].name))
			return i;
	return -ENOENT;
}

const char *reg_name(int id) { return id >= 0 && id < NR_REG ? reg_table[id].name : NULL; }

long pm_registry_get(pm_system *sys, const char *path)
{
	int id = reg_lookup(path);
	if (id < 0)
		return id;
	pthread_mutex_lock(&sys->lock);
	long v = sys->reg[id];
	pthread_mutex_unlock(&sys->lock);
	return v;
}

/* The ksyncd role: project a value into the live system. */
static void apply(struct pm_system *sys, int id, long v)
{
	switch (id) {
	case REG_MMAP_MIN_ADDR: sys->ms.mmap_min_addr = (uint64_t)v; break;
	case REG_MAX_MAP_COUNT: sys->ms.max_map_count = (uint64_t)v; break;
	case REG_RANDOMIZE_VA_SPACE: sys->ms.randomize_va_space = (int)v; break;
	case REG_SWAPPINESS: atomic_store(&sys->ms.swappiness, (int)v); break;
	case REG_OVERCOMMIT_MEMORY: case REG_OVERCOMMIT_RATIO:
		/* The next promise is judged by the new policy; address spaces change how
		 * they are charged in commit_sync, once sys->lock is dropped. */
		commit_set_policy(&sys->ms.commit, (int)sys->reg[REG_OVERCOMMIT_MEMORY],
				  sys->reg[REG_OVERCOMMIT_RATIO]);
		break;
	/* The pools grow as far as memory allows; the value reads back what was reached,
	 * as /proc/sys/vm/nr_hugepages does. */
	case REG_NR_HUGEPAGES_2M: sys->reg[id] = (long)phys_huge_set_pool(&sys->ph, 0, (uint64_t)v); break;
	case REG_NR_HUGEPAGES_1G: sys->reg[id] = (long)phys_huge_set_pool(&sys->ph, 1, (uint64_t)v); break;
	case REG_KSM_RUN: case REG_KSM_PAGES_TO_SCAN: case REG_KSM_SLEEP_MILLISECS:
		sys_ksm_apply(sys, id, v);	/* run=2 unmerges everything now */
		break;
	case REG_THP_ENABLED: case REG_THP_DEFRAG: case REG_THP_KHUGEPAGED_PAGES_TO_SCAN:
	case REG_THP_KHUGEPAGED_SLEEP_MILLISECS:
		sys_thp_apply(sys, id, v);
		break;
	default: break;	/* read by their consumers from sys->reg when they act */
	}
}

/* The key SDs of SPEC §11: SYSTEM and Administrators get KEY_ALL_ACCESS, Authenticated
 * Users KEY_READ; KsmRun is SYSTEM-only (TCB-tier). */
static const char KEY_SDDL[] = "O:SYG:SYD:(A;;0xf003f;;;SY)(A;;0xf003f;;;BA)(A;;0x20019;;;AU)";
static const char KEY_SDDL_TCB[] = "O:SYG:SYD:(A;;0xf003f;;;SY)(A;;0x20019;;;AU)";

int reg_init_sds(struct pm_system *sys)
{
	size_t off;
	if (sd_from_sddl(&sys->km, KEY_SDDL, &sys->reg_sd, &off) ||
	    sd_from_sddl(&sys->km, KEY_SDDL_TCB, &sys->reg_sd_tcb, &off))
		return -ENOMEM;
	return 0;
}

void reg_release_sds(struct pm_system *sys)
{
	sd_free(&sys->km, sys->reg_sd);
	sd_free(&sys->km, sys->reg_sd_tcb);
}

/* A new OvercommitMemory: every address space converts its charge to the new style now
 * (SPEC §8), so Committed_AS is the new mode's figure at once. mm locks are taken outside
 * sys->lock; a space that exits meanwhile is skipped (mm_acct_sync_style sees it dead). */
static void commit_sync(struct pm_system *sys)
{
	pthread_mutex_lock(&sys->lock);
	size_t n = 0, cap = 0;
	for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next)
		cap++;
	struct mm_struct **mms = calloc(cap + 1, sizeof(*mms));
	for (struct list_head *l = sys->procs.next; mms && l != &sys->procs; l = l->next) {
		struct pm_process *p = list_entry(l, struct pm_process, node);
		if (p->mm) {
			mm_grab(p->mm);
			mms[n++] = p->mm;
		}
	}
	pthread_mutex_unlock(&sys->lock);
	for (size_t i = 0; i < n; i++) {
		mm_acct_sync_style(mms[i]);
		mm_drop(mms[i]);
	}
	free(mms);	/* no memory for the list: each space converts at its next call */
}

int pm_registry_set(pm_thread *t, const char *path, long value)
{
	if (!t)
		return -EINVAL;
	int id = reg_lookup(path);
	if (id < 0)
		return id;
	if (process_enter(t->proc))
		return -ESRCH;
	struct pm_system *sys = t->proc->sys;
	struct token *tok = thread_token(t);
	int r = 0;
	const struct sd *key = id == REG_KSM_RUN ? sys->reg_sd_tcb : sys->reg_sd;
	pthread_mutex_lock(&sys->lock);
	if (gate_object(tok, key, GATE_CLASS_REGISTRY, KEY_SET_VALUE, NULL))
		r = -EACCES;	/* the key's SD does not grant KEY_SET_VALUE (SPEC §11) */
	else if (value < reg_table[id].min || value > reg_table[id].max)
		r = -EINVAL;
	else if (id == REG_MMAP_MIN_ADDR && value < sys->reg[id] &&
		 !gate_privilege(tok, PM_SE_TCB_PRIVILEGE))
		r = -EPERM;
	if (!r) {
		sys->reg[id] = value;
		apply(sys, id, value);
	}
	pthread_mutex_unlock(&sys->lock);
	if (!r && id == REG_OVERCOMMIT_MEMORY)
		commit_sync(sys);
	if (!r && id == REG_KSM_RUN)
		audit_log(sys, "registry KsmRun=%ld by pid=%d", value, t->proc->pid);	/* SPEC §6 */
	else if (r == -EACCES)
		audit_log(sys, "registry denied value=%s pid=%d", reg_table[id].name, t->proc->pid);
	process_leave(t->proc);
	return r;
}
