/*
 * The kernel shell: the system object, the process and thread tables, syscall dispatch,
 * the registry and its applier, and /proc dispatch. sys is the only layer that knows
 * processes; it turns a thread into an mm_caller and hands memory work to mm.
 * Lock order: sys->lock (process table, PRNG, registry) is taken before any mm lock.
 */
#ifndef PM_SYS_H
#define PM_SYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "kacs/token.h"
#include "lib/kmem.h"
#include "lib/list.h"
#include "lib/prng.h"
#include "lib/strbuf.h"
#include "mm/mm.h"
#include "peimm.h"
#include "phys/phys.h"
#include "reclaim/lru.h"
#include "reclaim/swap.h"
#include "sys/damon_ctl.h"
#include "sys/ksm_ctl.h"
#include "sys/thp_ctl.h"

/* Registry values (SPEC §11), in the order of the table in registry.c. */
enum reg_id {
	REG_MMAP_MIN_ADDR, REG_MAX_MAP_COUNT, REG_RANDOMIZE_VA_SPACE, REG_OVERCOMMIT_MEMORY,
	REG_OVERCOMMIT_RATIO, REG_PANIC_ON_OOM, REG_SWAPPINESS, REG_KSM_RUN,
	REG_KSM_PAGES_TO_SCAN, REG_KSM_SLEEP_MILLISECS, REG_THP_ENABLED, REG_THP_DEFRAG,
	REG_NR_HUGEPAGES_2M, REG_NR_HUGEPAGES_1G, REG_DYNAMIC_CODE_OPT_IN,
	REG_DIRTY_EXPIRE_CENTISECS, REG_THP_KHUGEPAGED_PAGES_TO_SCAN,
	REG_THP_KHUGEPAGED_SLEEP_MILLISECS, NR_REG
};

struct fd_table;

enum proc_state { PROC_RUNNING, PROC_DYING, PROC_DEAD };

#define PM_AUXV_WORDS	48	/* room for the auxv exec builds (pairs, AT_NULL included) */

struct pm_system {
	struct kmem km;			/* every host allocation of this system */
	struct phys ph;			/* simulated RAM */
	struct mm_sys ms;		/* memory knobs and shared frames */
	pthread_mutex_t lock;		/* process table, rng, registry */
	struct prng rng;		/* under lock */
	uint64_t seed;			/* immutable */
	pm_config cfg;			/* immutable copy (strings not owned) */
	long reg[NR_REG];		/* registry values; under lock */
	struct list_head procs;		/* every process ever spawned, by pid; under lock */
	struct list_head threads;	/* every thread handle; freed at destroy; under lock */
	int next_pid;			/* under lock */
	uint64_t nr_live;		/* processes not dead; under lock */
	uint64_t ticks;			/* simulated milliseconds */
	uint64_t kernel_frames;		/* frames held by the kernel (zero page, vdso, vvar) */
	struct mm_layout_objs vdso;	/* vvar, vvar_vclock, vdso objects; one reference each */
	pthread_mutex_t audit_lock;	/* guards audit and audit_seq; a leaf lock */
	struct strbuf audit;		/* the audit log, newest last (audit.c) */
	uint64_t audit_seq;		/* lines ever logged */
	struct sd *reg_sd, *reg_sd_tcb;	/* the registry key SDs (registry.c); immutable */
	struct obj_filecache fcache;	/* the page cache directory: host (dev, ino) -> object */
	atomic_ulong oom_kills;		/* processes the OOM killer chose (vmstat oom_kill) */
	atomic_uint_fast64_t next_mmap_id;	/* open files' mmap ids (fd_mmap_id) */
	_Atomic int panicked;		/* PanicOnOom fired: the machine has halted (oom.c) */
	struct sys_damon damon;		/* DAMON contexts (damon_ctl.c); its own lock */
	struct sys_ksmd ksmd;		/* ksmd's knobs and timer (ksm_ctl.c); under lock */
	struct sys_khugepaged khugepaged;	/* khugepaged's knobs and cursor (thp_ctl.c) */
	struct swap_area swap;		/* from cfg.swap_bytes/swap_path; its own lock */
	struct lru lru;			/* the LRU lists (reclaim/lru.c); its own lock */
	struct watermarks wmark;	/* kswapd's watermarks in frames; immutable */
};

struct pm_process {
	int pid;			/* immutable */
	int ppid;			/* immutable */
	_Atomic int state;		/* enum proc_state */
	atomic_int users;		/* syscalls in flight; the last one out of a dying process tears down */
	struct pm_system *sys;		/* immutable */
	struct mm_struct *mm;		/* NULL once dead */
	struct token *primary;		/* one reference */
	struct sd *sd;			/* the process security descriptor (SPEC §7); under sys->lock */
	int killed;			/* SIGKILLed: dying until the reaper or process_mrelease */
	int oom_score_adj;		/* -1000 (immune) .. 1000 */
	struct fd_table *files;		/* the fd table (sys/fd.h); NULL once dead */
	struct mm_rlimit rlim[RLIM_NLIMITS];	/* under sys->lock for writes */
	uint32_t pip_type, pip_trust;	/* PSB */
	int dynamic_code;		/* PSB: 1 = opted in to W+X memory (W^X off), SPEC §4 */
	int dumpable;			/* PR_SET_DUMPABLE; 1 by default */
	int nthreads;
	uint64_t scratch_next, scratch_end;	/* bump region of pm_scratch */
	char comm[16];			/* process name */
	struct list_head node;		/* in sys->procs */
	/* Set by exec (exec.c), under sys->lock; 0 until the first exec. */
	uint64_t exec_entry;		/* address the main thread starts at */
	uint64_t exec_sp;		/* its initial stack pointer (points at argc) */
	uint64_t saved_auxv[PM_AUXV_WORDS];	/* the auxv exec built (NT_AUXV, /proc auxv) */
	int nr_auxv;			/* words used in saved_auxv */
};

struct pm_thread {
	struct pm_process *proc;	/* immutable */
	int tid;			/* immutable */
	struct token *imp;		/* impersonation token, or NULL */
	uint32_t pkru;			/* protection-key rights of this thread */
	struct tlb tlb;			/* software TLB */
	_Atomic int exited;		/* the thread called exit while others went on */
	struct list_head node;		/* in sys->threads */
	/* The last maps or smaps view this thread read (procfs.c): a read at a later offset
	 * of the same view of the same, unchanged address space continues it instead of
	 * rendering it again, as a seq_file continues from its position. */
	struct {
		int pid;
		const struct mm_struct *mm;
		uint64_t gen;			/* mm->vma_gen it was rendered at; 0 = empty */
		int smaps;			/* 1 = the smaps view, 0 = maps */
		struct strbuf sb;
	} view_cache;
};

/* Host files under the system's root (file_open.c). sys_host_open opens a normalised path
 * with the root as "/" (never escaping it): a host descriptor or -errno. sys_host_name
 * writes the name maps shows for hfd (the host path less the root's prefix, or `asked`
 * when the host cannot say) into out, SYS_PATH_MAX bytes. */
#define SYS_PATH_MAX 4096	/* Linux's PATH_MAX, NUL included */
int  sys_host_open(const char *root, const char *path, int flags, unsigned mode);
void sys_host_name(const char *root, int hfd, const char *asked, char *out);

/* The OOM killer (oom.c): makes room after a failed allocation by killing the process
 * with the highest badness and reaping it now if it is idle. 0 = retry the allocation;
 * -ENOMEM = nothing to kill, the faulting process itself was chosen, or PanicOnOom halted
 * the machine. */
int sys_oom_kill(struct pm_system *sys, struct pm_process *faulting);
/* /proc/<pid>/oom_score of p (0..2000). */
uint64_t sys_oom_score(struct pm_process *p);

/* The token the thread acts with: its impersonation token, else the primary. */
static inline struct token *thread_token(struct pm_thread *t)
{
	return t->imp ? t->imp : t->proc->primary;
}
void thread_caller(struct pm_thread *t, struct mm_caller *c);

/* Process lifetime (process.c). */
/* A new process around mm and files (NULL = fresh ones), taking over the caller's
 * references on them, with its own reference on primary. NULL on -ENOMEM (mm and files
 * released). Not yet visible: process_register_locked gives it a pid. */
struct pm_process *process_new(struct pm_system *sys, struct token *primary,
			       const pm_spawn_opts *opts, struct mm_struct *mm,
			       struct fd_table *files);
struct pm_thread *thread_new(struct pm_system *sys, struct pm_process *p, int tid);
/* Frees a process that process_register_locked never saw (a failed spawn or fork). */
void process_discard(struct pm_process *p);
/* Gives p its pid (= t's tid) and puts both in the tables; sys->lock held. */
void process_register_locked(struct pm_system *sys, struct pm_process *p, struct pm_thread *t);
struct pm_process *process_lookup_locked(struct pm_system *sys, int pid);
void process_exit(struct pm_process *p);
/* SIGKILL: the process is dying at once (its calls answer ESRCH) but keeps its memory
 * until process_reap (the reaper's tick, or process_mrelease). */
void process_kill(struct pm_process *p);
/* Frees a dying process's memory now (once no call of it is in flight). */
void process_reap(struct pm_process *p);
int process_enter(struct pm_process *p);	/* 0, or -ESRCH when not running */
void process_leave(struct pm_process *p);

/* exec (exec.c): pm_spawn with opts->elf_path, and the execve syscall. */
pm_thread *exec_spawn(struct pm_system *sys, struct token *primary, const pm_spawn_opts *opts);
long sys_execve(struct pm_thread *t, const long a[6]);

/* Registry (registry.c). */
void reg_init(struct pm_system *sys);
int reg_init_sds(struct pm_system *sys);	/* 0 or -ENOMEM */
void reg_release_sds(struct pm_system *sys);
int reg_lookup(const char *path);
const char *reg_name(int id);	/* "MmapMinAddr", or NULL */

/* The rlimit calls (rlimit.c). */
long sys_getrlimit(struct pm_thread *t, const long a[6]);
long sys_setrlimit(struct pm_thread *t, const long a[6]);
long sys_prlimit64(struct pm_thread *t, const long a[6]);

/* fork, vfork, clone and thread exit (fork.c). */
long sys_fork(struct pm_thread *t, const long a[6]);
long sys_vfork(struct pm_thread *t, const long a[6]);
long sys_clone(struct pm_thread *t, const long a[6]);
long sys_exit(struct pm_thread *t, const long a[6]);

long sys_prctl(struct pm_thread *t, const long a[6]);

/* The audit log (audit.c). */
void audit_init(struct pm_system *sys);
void audit_release(struct pm_system *sys);
void audit_log(struct pm_system *sys, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void audit_copy(struct pm_system *sys, struct strbuf *out);

/* The cross-process gates (gates.c, process_vm.c, sd_calls.c). */
/* The two checks of SPEC §7 for t acting on target, audited: 0 or -EACCES. */
int sys_gate(struct pm_thread *t, struct pm_process *target, uint32_t right, const char *op);
/* The process with this pid unless dead, or NULL. */
struct pm_process *sys_target_pid(struct pm_thread *t, long pid);
long sys_pidfd_open(struct pm_thread *t, const long a[6]);
long sys_kill(struct pm_thread *t, const long a[6]);
long sys_process_mrelease(struct pm_thread *t, const long a[6]);
long sys_process_vm_readv(struct pm_thread *t, const long a[6]);
long sys_process_vm_writev(struct pm_thread *t, const long a[6]);
long sys_process_madvise(struct pm_thread *t, const long a[6]);
long sys_kacs_get_sd(struct pm_thread *t, const long a[6]);
long sys_kacs_set_sd(struct pm_thread *t, const long a[6]);

/* Dispatch (syscall.c). */
long sys_dispatch(struct pm_thread *t, long nr, const long a[6]);
/* The file syscalls (openat, close, read/write, pread/pwrite, ftruncate, fstat, dup,
 * fcntl, memfd_create, ...). Returns 1 and sets *ret when nr is one of them. */
int sys_file_dispatch(struct pm_thread *t, long nr, const long a[6], long *ret);

#endif
