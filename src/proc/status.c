/*
 * /proc/<pid>/status and statm. The Vm and Rss lines follow Linux's task_mem exactly:
 * values in kB, right-aligned in 8 columns after a tab; VmPeak and VmHWM are the larger of
 * the recorded peak and the current value; VmExe is the program text bounded by exec_vm,
 * and VmLib the rest of exec_vm.
 */
#include "proc/proc.h"

static void kb_line(struct strbuf *sb, const char *name, uint64_t pages)
{
	sb_puts(sb, name);
	sb_puts(sb, ":\t");
	sb_dec(sb, pages << (PAGE_SHIFT - 10), 8);
	sb_puts(sb, " kB\n");
}

static void bytes_kb_line(struct strbuf *sb, const char *name, uint64_t bytes)
{
	sb_puts(sb, name);
	sb_puts(sb, ":\t");
	sb_dec(sb, bytes >> 10, 8);
	sb_puts(sb, " kB\n");
}

void proc_render_status(const struct proc_task_info *ti, struct mm_struct *mm, struct strbuf *sb)
{
	static const char *const states[] = { ['R'] = "R (running)", ['S'] = "S (sleeping)",
		['Z'] = "Z (zombie)", ['X'] = "X (dead)" };
	sb_printf(sb, "Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n"
		      "PPid:\t%d\nTracerPid:\t0\n", ti->name, states[(unsigned char)ti->state]
		      ? states[(unsigned char)ti->state] : "R (running)", ti->pid, ti->pid, ti->ppid);
	if (mm) {
		pthread_rwlock_rdlock(&mm->lock);
		uint64_t anon = (uint64_t)atomic_load(&mm->rss[MM_ANONPAGES]);
		uint64_t file = (uint64_t)atomic_load(&mm->rss[MM_FILEPAGES]);
		uint64_t shmem = (uint64_t)atomic_load(&mm->rss[MM_SHMEMPAGES]);
		uint64_t rss = anon + file + shmem;
		uint64_t text = page_align_up(mm->end_code) - page_align_down(mm->start_code);
		text = min_u64(text, mm->exec_vm << PAGE_SHIFT);
		uint64_t lib = (mm->exec_vm << PAGE_SHIFT) - text;
		kb_line(sb, "VmPeak", max_u64(mm->hiwater_vm, mm->total_vm));
		kb_line(sb, "VmSize", mm->total_vm);
		kb_line(sb, "VmLck", mm->locked_vm + mm->locked_vm_stale);
		kb_line(sb, "VmPin", 0);
		kb_line(sb, "VmHWM", max_u64(mm->hiwater_rss, rss));
		kb_line(sb, "VmRSS", rss);
		kb_line(sb, "RssAnon", anon);
		kb_line(sb, "RssFile", file);
		kb_line(sb, "RssShmem", shmem);
		kb_line(sb, "VmData", mm->data_vm);
		kb_line(sb, "VmStk", mm->stack_vm);
		bytes_kb_line(sb, "VmExe", text);
		bytes_kb_line(sb, "VmLib", lib);
		kb_line(sb, "VmPTE", pgt_nr_tables(&mm->pgt));
		kb_line(sb, "VmSwap", (uint64_t)atomic_load(&mm->swapents));
		bytes_kb_line(sb, "HugetlbPages", (uint64_t)atomic_load(&mm->hugetlb_bytes));
		/* task_thp_status (6.18): 0 only when PR_SET_THP_DISABLE disabled THP completely. */
		sb_printf(sb, "THP_enabled:\t%d\n", mm->thp_disable != THP_DISABLE_COMPLETELY);
		pthread_rwlock_unlock(&mm->lock);
	}
	sb_printf(sb, "Threads:\t%d\n", ti->threads);
}

void proc_render_statm(struct mm_struct *mm, struct strbuf *sb)
{
	pthread_rwlock_rdlock(&mm->lock);
	uint64_t file = (uint64_t)atomic_load(&mm->rss[MM_FILEPAGES]);
	uint64_t shmem = (uint64_t)atomic_load(&mm->rss[MM_SHMEMPAGES]);
	uint64_t anon = (uint64_t)atomic_load(&mm->rss[MM_ANONPAGES]);
	uint64_t text = (page_align_up(mm->end_code) - page_align_down(mm->start_code)) >> PAGE_SHIFT;
	sb_printf(sb, "%lu %lu %lu %lu 0 %lu 0\n", (unsigned long)mm->total_vm,
		  (unsigned long)(file + shmem + anon), (unsigned long)(file + shmem),
		  (unsigned long)text, (unsigned long)(mm->data_vm + mm->stack_vm));
	pthread_rwlock_unlock(&mm->lock);
}
