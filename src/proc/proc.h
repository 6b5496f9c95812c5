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
struct swap_area;

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
/* One maps line for v (shared with smaps). */
void proc_map_line(struct mm_struct *mm, const struct vma *v, struct strbuf *sb);
/* The [vsyscall] gate line that closes maps and smaps. */
void proc_gate_line(struct strbuf *sb);
/* A maps-style line for [start, end) with "---p" and no file, padded before name
 * (smaps_rollup's header). */
void proc_span_line(struct strbuf *sb, uint64_t start, uint64_t end, const char *name);

/* /proc/<pid>/smaps (show_smap) and smaps_rollup (show_smaps_rollup). */
void proc_render_smaps(struct mm_struct *mm, struct strbuf *sb);
void proc_render_smaps_rollup(struct mm_struct *mm, struct strbuf *sb);

/* /proc/<pid>/pagemap (pagemap_read): copies the entries for the pages from virtual page
 * off/8 on into buf; PFN bits stay zero unless show_pfn. Returns bytes copied (0 past the
 * user range), or -EINVAL when off or len is not a multiple of 8. Changes nothing. */
long proc_read_pagemap(struct mm_struct *mm, void *buf, size_t len, uint64_t off, int show_pfn);

/* /proc/<pid>/clear_refs types (Linux's enum clear_refs_types). */
enum {
	PROC_CLEAR_REFS_ALL = 1,		/* clear A on every page */
	PROC_CLEAR_REFS_ANON = 2,		/* ... of anonymous VMAs only */
	PROC_CLEAR_REFS_MAPPED = 3,		/* ... of file-backed VMAs only */
	PROC_CLEAR_REFS_SOFT_DIRTY = 4,		/* clear soft-dirty on PTEs and VMAs */
	PROC_CLEAR_REFS_MM_HIWATER_RSS = 5,	/* reset VmHWM to the current RSS */
};
/* clear_refs_write for one type. 0, or -EINVAL for an unknown type (nothing changed).
 * Afterwards every TLB is stale, so the next access sets A (and a write soft-dirty). */
int proc_clear_refs(struct mm_struct *mm, int type);

/* What the system views need beyond the lower layers' own counters; sys fills it. */
struct proc_sys_view {
	struct phys *ph;
	struct mm_sys *ms;
	uint64_t mlocked_pages;		/* resident pages of VM_LOCKED VMAs, all processes */
	struct swap_area *swap;		/* the system's swap area, or NULL while it has none */
	uint64_t oom_kills;		/* processes the OOM killer chose */
};
/* /proc/meminfo (meminfo_proc_show) and /proc/vmstat (vmstat_show), all fields. */
void proc_render_meminfo(const struct proc_sys_view *sv, struct strbuf *sb);
void proc_render_vmstat(const struct proc_sys_view *sv, struct strbuf *sb);

#endif
