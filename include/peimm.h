/*
 * peimm: the Peios memory manager as a C library. This is the whole public API: systems,
 * tokens, processes and threads, the syscall entry, the software MMU, /proc views and the
 * registry. Names and meanings here are a contract (DESIGN.md): tests outside this
 * repository compile against them. Everything returns 0/a value or -errno like the kernel,
 * unless a comment says otherwise. Link with -lpeimm -lpthread.
 */
#ifndef PEIMM_H
#define PEIMM_H

#include <stddef.h>
#include <stdint.h>

#include <peimm/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_system pm_system;
typedef struct pm_token pm_token;
typedef struct pm_thread pm_thread;

typedef struct pm_config {
	uint64_t    ram_bytes;		/* simulated RAM; default 1 GiB */
	uint64_t    swap_bytes;		/* default 0 = no swap */
	const char *swap_path;		/* host file backing swap; NULL = an unlinked temporary file */
	int         paging_levels;	/* 4 (default) or 5 */
	uint64_t    seed;		/* PRNG seed for ASLR and sampling; 0 = from the host */
	int         embedded;		/* 1 = embedded image: MAP_UNINITIALIZED is honoured */
	const char *root;		/* host directory that openat resolves against; NULL = "/" */
	int         no_zero_page;	/* 1 = a read fault on private anonymous memory gets its own
					   zeroed frame, not the shared zero page (as on a kernel
					   where mm_forbids_zeropage holds); default 0 */
} pm_config;

void pm_config_default(pm_config *cfg);

typedef struct pm_spawn_opts {
	const char *elf_path;	/* program image to load; NULL = none (stack, vdso, vvar, brk only) */
	uint32_t    pip_type;	/* PIP of the new process: 0 None, 512 Protected, 1024 Isolated */
	uint32_t    pip_trust;	/* 0 ... 8192 */
} pm_spawn_opts;		/* zero-initialised = defaults; more fields may follow */

typedef struct pm_siginfo { int signo, code; uint64_t addr; int pkey; } pm_siginfo;
			/* field names avoid glibc's si_* macros from <signal.h> */

enum { PM_READ = 1, PM_WRITE = 2, PM_EXEC = 4 };

/* A system: physical memory, the registry, processes and daemons. NULL cfg = defaults
 * (1 GiB RAM, no swap, 4-level paging, seed from the host). NULL when the host refuses
 * the arena or cfg is invalid. */
pm_system *pm_system_create(const pm_config *cfg);
/* Tears down every process and frees everything the system holds. */
void       pm_system_destroy(pm_system *sys);

/* Tokens. spec: "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0
 *               privs=SeLockMemoryPrivilege:enabled,SeDebugPrivilege il=medium"
 * Words in any order, only user= required; a privilege without :enabled is present but
 * disabled; il = untrusted|low|medium|high|system or a number (default medium). "system"
 * alone is the SYSTEM token (S-1-5-18, all privileges enabled, il=system). NULL on a
 * malformed spec, with *err = -EINVAL. The caller owns one reference. */
pm_token  *pm_token_parse(pm_system *sys, const char *spec, int *err);
void       pm_token_put(pm_token *tok);

/* A new process with one thread and the standard layout: stack, vdso, vvar, brk. opts may
 * name an ELF file to load and the PIP type/trust; NULL = defaults. The process takes its
 * own reference on primary. NULL on failure. */
pm_thread *pm_spawn(pm_system *sys, pm_token *primary, const pm_spawn_opts *opts);
int        pm_pid(const pm_thread *t);
pm_thread *pm_thread_of(pm_system *sys, int pid);	/* main thread of a pid (or, once it has
							   exited, another live one), or NULL */

/* Linux x86-64 syscall numbers (mmap 9, mprotect 10, ..., mseal 462) plus the Peios ones of
 * peimm/abi.h. Returns the result or -errno, exactly like the raw syscall. Pointer arguments
 * are addresses in t's address space. Calls through a thread of a dying or dead process
 * return -ESRCH. */
long pm_syscall(pm_thread *t, long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/* The software MMU: how = PM_READ | PM_WRITE | PM_EXEC. Returns len, or -EFAULT with *si
 * filled (signal, SEGV_* / BUS_* code, faulting address, pkey). si may be NULL. */
long pm_access(pm_thread *t, uint64_t va, void *buf, size_t len, int how, pm_siginfo *si);

/* /proc/<pid>/<name> as the reader thread would see it ("maps", "status", ...); pid 0 = the
 * reader's own process; pid -1 = system-wide views ("meminfo", "sys/kernel/mm/..."). Copies
 * at most len bytes from offset off and returns the count (0 at the end), or -errno. */
long pm_proc_read(pm_thread *reader, int pid, const char *name, void *buf, size_t len,
		  uint64_t off);
long pm_proc_write(pm_thread *writer, int pid, const char *name, const void *buf, size_t len);
/* The same at offset off: for "mem", off is the address in the target (-EIO unmapped). */
long pm_proc_pwrite(pm_thread *writer, int pid, const char *name, const void *buf, size_t len,
		    uint64_t off);

/* Impersonation: the thread acts with tok until pm_revert. */
int  pm_impersonate(pm_thread *t, pm_token *tok);
int  pm_revert(pm_thread *t);
/* The level the thread impersonates at: 2 Impersonation, 1 Identification (the identity
 * gate or the integrity ceiling capped it: every AccessCheck then denies), or -1 when the
 * thread is not impersonating. */
int  pm_impersonation_level(pm_thread *t);

/* Copies data into a scratch mapping of t's process and returns its address (or -errno),
 * so tests can pass strings, iovecs and structs to pm_syscall. */
uint64_t pm_scratch(pm_thread *t, const void *data, size_t len);

/* The registry: Machine\System\Memory\<Value>. Set returns 0 or -errno (-ENOENT unknown
 * value, -EINVAL out of range, -EACCES refused by the key SD); get returns the value or
 * -ENOENT. Paths may use '\' or '/' and are case-insensitive. */
int  pm_registry_set(pm_thread *t, const char *path, long value);
long pm_registry_get(pm_system *sys, const char *path);

/* Runs the daemons n ticks of 1 ms of simulated time. */
void pm_system_tick(pm_system *sys, unsigned n);

/* ---- Additions beyond the DESIGN.md contract ---- */

/* Counters for tests and tools. */
typedef struct pm_sysinfo {
	uint64_t total_frames;		/* frames of simulated RAM */
	uint64_t free_frames;		/* frames on the buddy free lists */
	uint64_t live_objects;		/* host allocations the system holds */
	uint64_t nr_processes;		/* processes not yet dead */
	uint64_t seed;			/* the PRNG seed in use */
	uint64_t kernel_frames;		/* frames the kernel holds for itself (zero page, vdso, vvar) */
	uint64_t pool_frames;		/* frames set aside in the hugetlb pools (free or in use) */
	uint64_t retired_frames;	/* frames taken out of service (MADV_HWPOISON, MADV_SOFT_OFFLINE) */
} pm_sysinfo;
void pm_system_info(pm_system *sys, pm_sysinfo *info);

/* Recomputes every cached quantity of every process and of physical memory from scratch
 * and compares (STYLE rule 10). Returns the number of problems, printing each to stderr. */
int pm_check_invariants(pm_system *sys);

/* Test hook: makes the system's nth host allocation from now fail (1 = the next one), so
 * tests can walk every failure path; 0 turns it off. */
void pm_debug_fail_alloc(pm_system *sys, uint64_t n);
/* Test hook standing in for memory pressure until the LRU exists: reclaims every
 * process's clean MADV_FREE pages. Returns the frames freed. */
uint64_t pm_debug_reclaim(pm_system *sys);
/* Test hook: one pass of LRU reclaim (as kswapd would) aiming to free nr frames: cold
 * anonymous pages are swapped out, file pages written back and dropped. Returns frames
 * freed. */
uint64_t pm_debug_shrink(pm_system *sys, uint64_t nr);

/* ---- exec and core dumps (SPEC §3, §10) ---- */

/* Where the process's program starts after its last exec (pm_spawn with elf_path, or
 * execve): *entry = the first instruction (the interpreter's entry when the image has a
 * PT_INTERP, else the image's), *sp = the initial stack pointer, which points at argc.
 * Either pointer may be NULL. 0; -ESRCH for a dying or dead process; -ENOEXEC (and both
 * set to 0) when the process never ran exec. Changes nothing. */
int pm_exec_info(pm_thread *t, uint64_t *entry, uint64_t *sp);

/* Writes an ELF64 ET_CORE image of t's process to the host file `path` (not under
 * cfg.root; created or truncated, mode 0600): a PT_NOTE with NT_PRSTATUS (pid, rip and
 * rsp from the exec info), NT_PRPSINFO (comm), NT_AUXV and NT_FILE, and one PT_LOAD per
 * VMA with its protection. Contents follow Linux's default coredump_filter (0x33):
 * anonymous private memory that was touched and shared anonymous memory in full, the
 * first page of a file mapping at offset 0 (the ELF header), no other file pages;
 * MADV_DONTDUMP ranges and [vvar] get a file size of 0. Pages are read through the page
 * tables without faulting anything in. 0, -ESRCH (dying or dead), or -errno from the host
 * (the file may then be partly written); the process never changes. */
int pm_coredump(pm_thread *t, const char *path);

/* "EINVAL" for -EINVAL or EINVAL, or NULL when unknown. */
const char *pm_errno_name(long err);

/* ---- DAMON, the data access monitor (SPEC §10; docs/damon.md) ---- */

/* Monitoring attributes; a zero field takes its default. Intervals are in microseconds of
 * simulated time (one tick = 1000 us). */
#define PM_DAMON_MAX_RANGES 4
typedef struct pm_damon_range { uint64_t start, end; } pm_damon_range;	/* end exclusive */
typedef struct pm_damon_attrs {
	uint64_t sample_us;		/* sampling interval; 0 = 5000 (at least 1000) */
	uint64_t aggr_us;		/* aggregation interval; 0 = 100000 */
	uint64_t update_us;		/* VMA re-read interval; 0 = 1000000 (the sysfs default) */
	uint32_t min_nr_regions;	/* 0 = 10 (at least 3) */
	uint32_t max_nr_regions;	/* 0 = 1000 */
	uint32_t nr_ranges;		/* 0 = "vaddr": the whole address space, from the VMAs;
					   1..4 = "fvaddr": only these sorted, disjoint ranges */
	pm_damon_range ranges[PM_DAMON_MAX_RANGES];
} pm_damon_attrs;

/* DAMOS actions. COLD and PAGEOUT act through madvise(MADV_COLD / MADV_PAGEOUT). */
enum { PM_DAMOS_STAT, PM_DAMOS_HUGEPAGE, PM_DAMOS_NOHUGEPAGE, PM_DAMOS_COLD, PM_DAMOS_PAGEOUT };

/* A scheme: regions whose size, nr_accesses (samples per aggregation) and age
 * (aggregations) all lie within the inclusive bounds get the action, at most quota_sz
 * bytes (and quota_ms of estimated time) per quota_reset_ms window; 0 = no quota. */
typedef struct pm_damos {
	uint64_t min_sz, max_sz;
	uint32_t min_nr_accesses, max_nr_accesses;
	uint32_t min_age, max_age;
	int      action;			/* PM_DAMOS_* */
	uint64_t quota_sz, quota_ms, quota_reset_ms;
} pm_damos;

typedef struct pm_damos_stats {
	uint64_t nr_tried, sz_tried;		/* regions (bytes) that matched, within quota */
	uint64_t nr_applied, sz_applied;	/* of those, where the action succeeded (0 for stat) */
	uint64_t qt_exceeds;			/* windows that ran out of quota */
} pm_damos_stats;

typedef struct pm_damon_region {
	uint64_t start, end;			/* end exclusive */
	uint32_t nr_accesses;			/* samples that saw an access, last aggregation */
	uint32_t age;				/* aggregations with about that rate */
} pm_damon_region;

/* Starts monitoring process pid (attrs NULL = all defaults), sampling it in pm_system_tick.
 * The caller's effective token must be SYSTEM or an enabled Administrators member (else
 * -EPERM) and pass the two checks of SPEC §7 for PROCESS_QUERY_INFORMATION (else -EACCES).
 * Also -ESRCH (no such live process, or the caller's is not running), -EBUSY (already
 * monitored), -EINVAL (bad attrs), -ENOMEM. On failure nothing changed. The context ends
 * with pm_damon_stop or when the target exits. */
int pm_damon_start(pm_thread *caller, int pid, const pm_damon_attrs *attrs);
/* Stops monitoring pid and frees its context. Same gates; -ENOENT when not monitored. */
int pm_damon_stop(pm_thread *caller, int pid);
/* Adds a scheme to pid's context: its index (0, 1, ...), or the gates' errors, -ENOENT,
 * -EINVAL (bad action, or a minimum above its maximum), -ENOSPC (8 schemes already). */
int pm_damon_add_scheme(pm_thread *caller, int pid, const pm_damos *scheme);
/* Reads pid's regions as of the last aggregation (at most max of them; returns how many
 * there are) or a scheme's stats. Gated like /proc/<pid>/damon_regions:
 * PROCESS_QUERY_INFORMATION and PIP, else -EACCES; -ENOENT when not monitored (or no
 * such scheme). */
int pm_damon_regions(pm_thread *reader, int pid, pm_damon_region *out, int max);
int pm_damos_stats_read(pm_thread *reader, int pid, int scheme, pm_damos_stats *out);

#ifdef __cplusplus
}
#endif

#endif
