/*
 * /proc dispatch: resolves "self", a pid or the system views, renders the view into a
 * buffer and copies the part the reader asked for. The renderers live in src/proc; the
 * access gates of SPEC §7 arrive with the security layer and are decided here, before
 * any rendering.
 */
#include "sys/sys.h"

#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "kacs/gate.h"
#include "lib/strbuf.h"
#include "proc/proc.h"

/* The system figures proc's meminfo and vmstat need beyond the lower layers' counters. */
static void sys_view(struct pm_system *sys, struct proc_sys_view *sv)
{
	sv->ph = &sys->ph;
	sv->ms = &sys->ms;
	sv->mlocked_pages = 0;
	sv->swap = sys->ms.swap;
	sv->oom_kills = atomic_load(&sys->oom_kills);
	pthread_mutex_lock(&sys->lock);
	/* An mm seen through p->mm under sys->lock is not torn down before the lock drops.
	 * locked_vm stands for resident mlocked pages: mlock populates its range (ONFAULT
	 * ranges are the exception until frames carry an mlocked flag). */
	for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next) {
		struct pm_process *p = list_entry(l, struct pm_process, node);
		if (p->mm)
			sv->mlocked_pages += __atomic_load_n(&p->mm->locked_vm, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&sys->lock);
}

static int render_system(struct pm_thread *reader, const char *name, struct strbuf *sb)
{
	struct pm_system *sys = reader->proc->sys;
	if (!strcmp(name, "peios/audit")) {
		/* The audit log is for SYSTEM and Administrators. */
		if (!token_is_admin(thread_token(reader)))
			return -EACCES;
		audit_copy(sys, sb);
		return 0;
	}
	static const char ksm_dir[] = "sys/kernel/mm/ksm/";
	if (!strncmp(name, ksm_dir, sizeof(ksm_dir) - 1))
		return sys_ksm_render(sys, name + sizeof(ksm_dir) - 1, sb);
	static const char thp_dir[] = "sys/kernel/mm/transparent_hugepage/";
	if (!strncmp(name, thp_dir, sizeof(thp_dir) - 1))
		return sys_thp_render(sys, name + sizeof(thp_dir) - 1, sb);
	if (!strcmp(name, "meminfo") || !strcmp(name, "vmstat")) {
		struct proc_sys_view sv;
		sys_view(sys, &sv);
		if (name[0] == 'm')
			proc_render_meminfo(&sv, sb);
		else
			proc_render_vmstat(&sv, sb);
		return 0;
	}
	return -ENOENT;
}

/* The right each per-process view needs (SPEC §7's table; statm and oom_score as the
 * digest's limited-query set). 0 = no such view. */
static uint32_t view_right(const char *name)
{
	static const struct { const char *name; uint32_t right; } views[] = {
		{ "maps", PROCESS_QUERY_LIMITED_INFORMATION },
		{ "statm", PROCESS_QUERY_LIMITED_INFORMATION },
		{ "oom_score", PROCESS_QUERY_LIMITED_INFORMATION },
		{ "status", PROCESS_QUERY_INFORMATION },
		{ "smaps", PROCESS_QUERY_INFORMATION },
		{ "smaps_rollup", PROCESS_QUERY_INFORMATION },
		{ "pagemap", PROCESS_QUERY_INFORMATION },
		{ "oom_score_adj", PROCESS_QUERY_INFORMATION },
		{ "damon_regions", PROCESS_QUERY_INFORMATION },
		{ "ksm_stat", PROCESS_QUERY_INFORMATION },
		{ "ksm_merging_pages", PROCESS_QUERY_INFORMATION },
		{ "mem", PROCESS_VM_READ },
	};
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		if (!strcmp(name, views[i].name))
			return views[i].right;
	return 0;
}

static int render_process(struct pm_process *p, const char *name, struct strbuf *sb)
{
	if (!strcmp(name, "oom_score_adj")) {
		sb_printf(sb, "%d\n", p->oom_score_adj);
		return 0;
	}
	if (!strcmp(name, "oom_score")) {
		sb_printf(sb, "%llu\n", (unsigned long long)sys_oom_score(p));
		return 0;
	}
	if (!strcmp(name, "maps")) {
		proc_render_maps(p->mm, sb);
		return 0;
	}
	if (!strcmp(name, "status")) {
		struct proc_task_info ti = { p->comm, p->pid, p->ppid, p->nthreads, 'R' };
		proc_render_status(&ti, p->mm, sb);
		return 0;
	}
	if (!strcmp(name, "statm")) {
		proc_render_statm(p->mm, sb);
		return 0;
	}
	if (!strcmp(name, "smaps")) {
		proc_render_smaps(p->mm, sb);
		return 0;
	}
	if (!strcmp(name, "smaps_rollup")) {
		proc_render_smaps_rollup(p->mm, sb);
		return 0;
	}
	if (!strcmp(name, "damon_regions"))
		return sys_damon_render(p, sb);
	if (!strcmp(name, "ksm_stat") || !strcmp(name, "ksm_merging_pages"))
		return sys_ksm_render_proc(p, name, sb);
	return -ENOENT;
}

/* Finds and enters the target process (pid 0 = the reader's own). */
static struct pm_process *target(struct pm_thread *reader, int pid)
{
	struct pm_system *sys = reader->proc->sys;
	if (pid == 0)
		pid = reader->proc->pid;
	pthread_mutex_lock(&sys->lock);
	struct pm_process *p = process_lookup_locked(sys, pid);
	if (p && process_enter(p))
		p = NULL;
	pthread_mutex_unlock(&sys->lock);
	return p;
}

/* /proc/<pid>/mem: reads at address `off` of the target (Linux returns EIO for an
 * address that is not mapped). */
static long read_mem(struct pm_process *p, void *buf, size_t len, uint64_t off)
{
	struct mm_fault_info fi;
	return mm_access(p->mm, NULL, 0, off, buf, len, PM_READ, &fi) < 0 ? -EIO : (long)len;
}

static long copy_out(struct strbuf *sb, void *buf, size_t len, uint64_t off)
{
	if (sb->err)
		return sb->err;
	long n = off >= sb->len ? 0 : (long)min_u64(len, sb->len - off);
	if (n)
		memcpy(buf, sb->buf + off, (size_t)n);
	return n;
}

/* maps and smaps, continued from the reader's cache when this read follows an earlier one
 * of the same view of the same unchanged address space (offset > 0, the same vma_gen),
 * else rendered afresh; as a seq_file continues from its position. Rendering the whole view
 * for each chunk made reading a large maps or smaps file quadratic. A continued smaps read
 * shows the page counts of its first chunk's moment, as one read of the whole file would. */
static long read_cached(struct pm_thread *reader, struct pm_process *p, const char *name,
			void *buf, size_t len, uint64_t off)
{
	struct strbuf *sb = &reader->view_cache.sb;
	int smaps = name[0] == 's';
	uint64_t gen = atomic_load(&p->mm->vma_gen);
	if (!off || reader->view_cache.pid != p->pid || reader->view_cache.mm != p->mm ||
	    reader->view_cache.gen != gen || reader->view_cache.smaps != smaps || sb->err) {
		sb_release(sb);
		sb_init(sb, &p->sys->km);
		if (smaps)
			proc_render_smaps(p->mm, sb);
		else
			proc_render_maps(p->mm, sb);
		reader->view_cache.pid = p->pid;
		reader->view_cache.mm = p->mm;
		reader->view_cache.gen = gen;
		reader->view_cache.smaps = smaps;
	}
	long n = copy_out(sb, buf, len, off);
	if (n == 0 || sb->err) {	/* read to the end: let the memory go */
		sb_release(sb);
		sb_init(sb, &p->sys->km);
		reader->view_cache.gen = 0;
	}
	return n;
}

/* One per-process view, gated (the same check for /proc/self: no self bypass, SPEC §7). */
static long read_process_view(struct pm_thread *reader, int pid, const char *name, void *buf,
			      size_t len, uint64_t off)
{
	uint32_t right = view_right(name);
	struct pm_process *p = target(reader, pid);
	if (!p)
		return -ENOENT;
	long n;
	if (!right)
		n = -ENOENT;
	else if (sys_gate(reader, p, right, name))
		n = -EACCES;
	else if (!strcmp(name, "mem"))
		n = read_mem(p, buf, len, off);
	else if (!strcmp(name, "pagemap"))	/* PFNs only for SeTcbPrivilege (SPEC §7) */
		n = proc_read_pagemap(p->mm, buf, len, off,
				      gate_privilege(thread_token(reader), PM_SE_TCB_PRIVILEGE));
	else if (!strcmp(name, "maps") || !strcmp(name, "smaps"))
		n = read_cached(reader, p, name, buf, len, off);
	else {
		struct strbuf sb;
		sb_init(&sb, &p->sys->km);
		n = render_process(p, name, &sb);
		if (!n)
			n = copy_out(&sb, buf, len, off);
		sb_release(&sb);
	}
	process_leave(p);
	return n;
}

long pm_proc_read(pm_thread *reader, int pid, const char *name, void *buf, size_t len,
		  uint64_t off)
{
	if (!reader || !name || (!buf && len))
		return -EINVAL;
	if (process_enter(reader->proc))
		return -ESRCH;
	long n;
	if (pid == -1) {
		struct strbuf sb;
		sb_init(&sb, &reader->proc->sys->km);
		n = render_system(reader, name, &sb);
		if (!n)
			n = copy_out(&sb, buf, len, off);
		sb_release(&sb);
	} else {
		n = read_process_view(reader, pid, name, buf, len, off);
	}
	process_leave(reader->proc);
	return n;
}

/* oom_score_adj writes (SPEC §7): PROCESS_SET_QUOTA, and lowering below the current value
 * also needs SeTcbPrivilege. The value is -1000..1000. */
static long write_oom_score_adj(struct pm_thread *w, struct pm_process *p, const void *buf, size_t len)
{
	char text[16] = { 0 };
	memcpy(text, buf, len < sizeof(text) - 1 ? len : sizeof(text) - 1);
	char *end;
	long v = strtol(text, &end, 10);
	if (end == text || (*end && *end != '\n') || v < -1000 || v > 1000)
		return -EINVAL;
	if (sys_gate(w, p, PROCESS_SET_QUOTA, "oom_score_adj"))
		return -EACCES;
	if (v < p->oom_score_adj) {
		/* Lowering needs SeTcbPrivilege (SPEC §7); the refusal and the use are audited. */
		struct token *tok = thread_token(w);
		int ok = gate_privilege(tok, PM_SE_TCB_PRIVILEGE);
		char who[200];
		token_describe(tok, who, sizeof(who));
		audit_log(w->proc->sys, "gate op=oom_score_adj caller=%d target=%d lower=%d->%ld "
			  "result=%s why=%s %s", w->proc->pid, p->pid, p->oom_score_adj, v,
			  ok ? "allowed" : "denied", ok ? "setcb" : "no-setcb", who);
		if (!ok)
			return -EACCES;
	}
	p->oom_score_adj = (int)v;
	return (long)len;
}

/* clear_refs (clear_refs_write): "1".."5". Linux lets the owner write it; Peios asks for
 * PROCESS_VM_WRITE, as for /proc/<pid>/mem writes, since it rewrites the target's page
 * tables (A and soft-dirty bits) and what its smaps and pagemap will show. */
static long write_clear_refs(struct pm_thread *w, struct pm_process *p, const void *buf, size_t len)
{
	if (sys_gate(w, p, PROCESS_VM_WRITE, "clear_refs"))
		return -EACCES;
	char text[13] = { 0 };	/* PROC_NUMBUF: longer writes are cut, as Linux does */
	memcpy(text, buf, len < sizeof(text) - 1 ? len : sizeof(text) - 1);
	char *s = text, *end;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	long type = strtol(s, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (end == s || *end)
		return -EINVAL;
	int err = proc_clear_refs(p->mm, (int)(type < 0 || type > 100 ? 0 : type));
	return err ? err : (long)len;
}

long pm_proc_pwrite(pm_thread *writer, int pid, const char *name, const void *buf, size_t len,
		    uint64_t off)
{
	if (!writer || !name || (!buf && len))
		return -EINVAL;
	if (process_enter(writer->proc))
		return -ESRCH;
	struct pm_process *p = pid == -1 ? NULL : target(writer, pid);
	long n = -ENOENT;
	if (p && !strcmp(name, "oom_score_adj")) {
		n = write_oom_score_adj(writer, p, buf, len);
	} else if (p && !strcmp(name, "clear_refs")) {
		n = write_clear_refs(writer, p, buf, len);
	} else if (p && !strcmp(name, "mem")) {
		struct mm_fault_info fi;
		if (sys_gate(writer, p, PROCESS_VM_WRITE, "mem"))
			n = -EACCES;
		else
			n = mm_access(p->mm, NULL, 0, off, (void *)buf, len, PM_WRITE, &fi) < 0 ? -EIO : (long)len;
	}
	if (p)
		process_leave(p);
	process_leave(writer->proc);
	return n;
}

long pm_proc_write(pm_thread *writer, int pid, const char *name, const void *buf, size_t len)
{
	return pm_proc_pwrite(writer, pid, name, buf, len, 0);
}
