/*
 * /proc dispatch: resolves "self", a pid or the system views, renders the view into a
 * buffer and copies the part the reader asked for. The renderers live in src/proc; the
 * access gates of SPEC §7 arrive with the security layer and are decided here, before
 * any rendering.
 */
#include "sys/sys.h"

#include <errno.h>
#include <string.h>

#include "lib/strbuf.h"
#include "proc/proc.h"

/* hugetlb_report_meminfo: the default (2 MiB) pool's counts, then both pools' bytes. */
static void render_hugetlb(struct pm_system *sys, struct strbuf *sb)
{
	struct hstate h2, h1;
	phys_huge_stat(&sys->ph, 0, &h2);
	phys_huge_stat(&sys->ph, 1, &h1);
	uint64_t kb = h2.nr_total * 2048 + h1.nr_total * 1048576;
	sb_printf(sb, "HugePages_Total:   %5lu\nHugePages_Free:    %5lu\nHugePages_Rsvd:    %5lu\n"
		      "HugePages_Surp:    %5lu\nHugepagesize:       2048 kB\nHugetlb:        %8lu kB\n",
		  (unsigned long)h2.nr_total, (unsigned long)h2.nr_free, (unsigned long)h2.nr_resv,
		  0UL, (unsigned long)kb);
}

static int render_system(struct pm_system *sys, const char *name, struct strbuf *sb)
{
	if (!strcmp(name, "meminfo")) {
		uint64_t total = (sys->ph.nr_frames - 1) << (PAGE_SHIFT - 10);
		uint64_t free_kb = phys_free_frames(&sys->ph) << (PAGE_SHIFT - 10);
		uint64_t anon = (uint64_t)atomic_load(&sys->ms.nr_anon) << (PAGE_SHIFT - 10);
		sb_printf(sb, "MemTotal:       %8lu kB\nMemFree:        %8lu kB\n"
			      "AnonPages:      %8lu kB\n", (unsigned long)total,
			  (unsigned long)free_kb, (unsigned long)anon);
		render_hugetlb(sys, sb);
		return 0;
	}
	return -ENOENT;
}

static int render_process(struct pm_process *p, const char *name, struct strbuf *sb)
{
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

long pm_proc_read(pm_thread *reader, int pid, const char *name, void *buf, size_t len,
		  uint64_t off)
{
	if (!reader || !name || (!buf && len))
		return -EINVAL;
	if (process_enter(reader->proc))
		return -ESRCH;
	struct pm_system *sys = reader->proc->sys;
	struct strbuf sb;
	sb_init(&sb, &sys->km);
	int r;
	if (pid == -1) {
		r = render_system(sys, name, &sb);
	} else {
		struct pm_process *p = target(reader, pid);
		r = p ? render_process(p, name, &sb) : -ENOENT;
		if (p)
			process_leave(p);
	}
	long n = r;
	if (!r && sb.err)
		n = sb.err;
	else if (!r) {
		n = off >= sb.len ? 0 : (long)min_u64(len, sb.len - off);
		if (n)
			memcpy(buf, sb.buf + off, (size_t)n);
	}
	sb_release(&sb);
	process_leave(reader->proc);
	return n;
}

long pm_proc_write(pm_thread *writer, int pid, const char *name, const void *buf, size_t len)
{
	(void)pid;
	(void)buf;
	(void)len;
	if (!writer || !name)
		return -EINVAL;
	return -ENOENT;	/* no writable view exists yet (oom_score_adj and mem come later) */
}
