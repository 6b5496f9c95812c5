/*
 * /proc renderers: each turns an address space (and what the caller says about the
 * process) into exactly the text Linux 6.x prints. They read under mm->lock for reading
 * and never change anything. Gates are not decided here: sys asks kacs first.
 */
#ifndef PM_PROC_H
#define PM_PROC_H

#include <stdint.h>

#include "lib/strbuf.h"
#include "mm/mm.h"

/* What status shows about the process beyond its mm. */
struct proc_task_info {
	const char *name;	/* comm */
	int pid, ppid, threads;
	char state;		/* 'R', 'S', 'Z', 'X' */
};

/* /proc/<pid>/maps (show_map_vma), including the [vsyscall] gate line. */
void proc_render_maps(struct mm_struct *mm, struct strbuf *sb);
/* /proc/<pid>/status: the identity lines and task_mem's Vm and Rss lines. */
void proc_render_status(const struct proc_task_info *ti, struct mm_struct *mm, struct strbuf *sb);
/* /proc/<pid>/statm: size resident shared text lib data dt, in pages. */
void proc_render_statm(struct mm_struct *mm, struct strbuf *sb);
/* One maps line for v (shared with smaps later). */
void proc_map_line(struct mm_struct *mm, const struct vma *v, struct strbuf *sb);

#endif
