/*
 * The replay loop: one peimm system (fixed seed, so a report is reproducible), one peimm
 * process per recorded process, each recorded tid mapped to its process. Events run in the
 * order their calls were entered; each call goes to replay_mem.c or replay_proc.c, and its
 * outcome is judged here against the record: the same success or the same errno, else a
 * finding, classified as a Peios policy effect when it is one. It uses only <peimm.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "replay.h"

#define RP_USER_TOKEN "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 il=medium"
#define RP_PROT_WRITE 2
#define RP_PROT_EXEC 4
#define RP_MAP_FIXED 0x10
#define RP_MAP_ANONYMOUS 0x20
#define RP_MAP_LOCKED 0x2000
#define RP_MAP_UNINITIALIZED 0x4000000

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	size_t c = *cap ? *cap * 2 : 16;
	void *q = realloc(p, c * size);
	if (q)
		*cap = c;
	return q;
}

rp_proc *rp_new_proc(rp_run *r, int pid, int pm_pid)
{
	rp_proc **v = grow(r->procs, &r->capprocs, r->nprocs, sizeof(*v));
	rp_proc *p = calloc(1, sizeof(*p));
	if (!v || !p) {
		free(p);
		if (v)
			r->procs = v;
		return NULL;
	}
	r->procs = v;
	p->pid = pid;
	p->pm_pid = pm_pid;
	p->alive = 1;
	r->procs[r->nprocs++] = p;
	return p;
}

void rp_add_task(rp_run *r, int tid, rp_proc *p)
{
	for (size_t i = 0; i < r->ntasks; i++)
		if (r->tasks[i].tid == tid) {
			r->tasks[i].proc = p;	/* a recycled tid */
			return;
		}
	rp_task *v = grow(r->tasks, &r->captasks, r->ntasks, sizeof(*v));
	if (!v)
		return;
	r->tasks = v;
	r->tasks[r->ntasks].tid = tid;
	r->tasks[r->ntasks++].proc = p;
}

rp_proc *rp_task_proc(rp_run *r, int tid)
{
	for (size_t i = 0; i < r->ntasks; i++)
		if (r->tasks[i].tid == tid)
			return r->tasks[i].proc;
	return NULL;
}

pm_thread *rp_thread(rp_run *r, rp_proc *p)
{
	return p->alive ? pm_thread_of(r->sys, p->pm_pid) : NULL;
}

void rp_finding_add(rp_run *r, rp_proc *p, const rp_event *e, int kind, long pm, int pm_has,
		    const char *why)
{
	rp_finding *v = grow(r->f, &r->capf, r->nf, sizeof(*v));
	if (!v)
		return;
	r->f = v;
	rp_finding *f = &r->f[r->nf++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->pid = p ? p->pid : e->pid;
	f->line = e->line;
	f->call = strdup(e->text ? e->text : e->name);
	f->rec = e->ret;
	f->rec_has = e->kind == RP_EV_CALL && e->has_ret;
	f->pm = pm;
	f->pm_has = pm_has;
	snprintf(f->why, sizeof(f->why), "%s", why ? why : "");
	if (p)
		p->count[kind]++;
}

void rp_skip_count(rp_run *r, rp_proc *p, const char *name)
{
	if (p)
		p->skipped++;
	for (size_t i = 0; i < r->nskips; i++)
		if (!strcmp(r->skips[i].name, name)) {
			r->skips[i].n++;
			return;
		}
	rp_skip *v = grow(r->skips, &r->capskips, r->nskips, sizeof(*v));
	if (!v)
		return;
	r->skips = v;
	snprintf(r->skips[r->nskips].name, sizeof(r->skips[0].name), "%s", name);
	r->skips[r->nskips++].n = 1;
}

static long map_count(rp_run *r, rp_proc *p)
{
	char buf[4096];
	long lines = 0, n;
	uint64_t off = 0;
	pm_thread *t = rp_thread(r, p);
	while (t && (n = pm_proc_read(t, 0, "maps", buf, sizeof(buf), off)) > 0) {
		for (long i = 0; i < n; i++)
			lines += buf[i] == '\n';
		off += (uint64_t)n;
	}
	return lines;
}

/* Which Peios rule refused a call the recorded kernel allowed, or RP_F_DIVERGE. */
static int classify(rp_run *r, rp_proc *p, const rp_event *e, long pm, char *why, size_t len)
{
	long prot = e->call == RP_MMAP || e->call == RP_MPROTECT || e->call == RP_PKEY_MPROTECT ?
		    e->val[2] : 0;
	if (e->call == RP_MMAP && !(e->val[3] & RP_MAP_ANONYMOUS) && pm == -EACCES &&
	    (prot & RP_PROT_EXEC) && !(prot & RP_PROT_WRITE)) {
		snprintf(why, len, "mapping a file PROT_EXEC needs the execute right its security "
			 "descriptor grants (from the host mode bits: no x for this user)");
		return RP_F_EXECRIGHT;
	}
	if (pm == -EACCES && !r->o.dynamic_code && (prot & (RP_PROT_WRITE | RP_PROT_EXEC))) {
		snprintf(why, len, "W^X: %s", (prot & RP_PROT_WRITE) && (prot & RP_PROT_EXEC) ?
			 "writable and executable at once" :
			 "exec on memory that was writable, or write on code (or a W/X alias)");
		return RP_F_WX;
	}
	if (e->call == RP_MMAP && (e->val[3] & RP_MAP_UNINITIALIZED) && pm == -EINVAL) {
		snprintf(why, len, "MAP_UNINITIALIZED is refused outside an embedded image");
		return RP_F_UNINIT;
	}
	long min_addr = pm_registry_get(r->sys, "MmapMinAddr");
	if (e->call == RP_MMAP && (e->val[3] & RP_MAP_FIXED) && pm == -EPERM &&
	    (uint64_t)e->val[0] < (uint64_t)min_addr) {
		snprintf(why, len, "MAP_FIXED below mmap_min_addr (%ld) needs SeTcbPrivilege", min_addr);
		return RP_F_MINADDR;
	}
	int locks = e->call == RP_MLOCK || e->call == RP_MLOCK2 || e->call == RP_MLOCKALL ||
		    (e->call == RP_MMAP && (e->val[3] & RP_MAP_LOCKED));
	if (locks && (pm == -ENOMEM || pm == -EPERM || pm == -EAGAIN)) {
		snprintf(why, len, "locking memory beyond RLIMIT_MEMLOCK needs SeLockMemoryPrivilege");
		return RP_F_MLOCK;
	}
	if (pm == -ENOMEM && map_count(r, p) >= r->max_map_count - 1) {
		snprintf(why, len, "max_map_count (%ld) reached", r->max_map_count);
		return RP_F_MAPCOUNT;
	}
	snprintf(why, len, "peimm's outcome differs from the recorded kernel's");
	return RP_F_DIVERGE;
}

int rp_judge(rp_run *r, rp_proc *p, const rp_event *e, long pm, int rec_ok, int pm_ok)
{
	char why[200];

	p->replayed++;
	if (!e->has_ret)
		return -1;
	if (rec_ok == pm_ok && (rec_ok || e->ret == pm))
		return -1;
	int kind = rec_ok && !pm_ok ? classify(r, p, e, pm, why, sizeof(why)) : RP_F_DIVERGE;
	if (kind == RP_F_DIVERGE)
		snprintf(why, sizeof(why), "peimm's outcome differs from the recorded kernel's");
	rp_finding_add(r, p, e, kind, pm, 1, why);
	return kind;
}

uint64_t rp_scratch_str(pm_thread *t, const char *s)
{
	return pm_scratch(t, s, strlen(s) + 1);
}

/* /proc/PID/maps of p's process, malloc'd, or NULL. */
static char *read_maps(rp_run *r, rp_proc *p)
{
	char buf[4096], *maps = NULL;
	long n;
	uint64_t off = 0;
	size_t len = 0;
	pm_thread *t = rp_thread(r, p);
	while (t && (n = pm_proc_read(t, 0, "maps", buf, sizeof(buf), off)) > 0) {
		char *m = realloc(maps, len + (size_t)n + 1);
		if (!m)
			break;
		memcpy(m + len, buf, (size_t)n);
		len += (size_t)n;
		m[len] = '\0';
		maps = m;
		off += (uint64_t)n;
	}
	return maps;
}

void rp_snapshot_maps(rp_run *r, rp_proc *p)
{
	if (!r->o.maps || !p->alive)
		return;
	free(p->maps);
	p->maps = read_maps(r, p);
}

/* peimm's base for the program: its lowest mapping at file offset 0 (the inode matches). */
static int pm_program_base(rp_run *r, rp_proc *p, rp_image *im)
{
	char *maps = read_maps(r, p), *save = NULL;
	int found = 0;
	char real[PATH_MAX];
	if (!maps || !realpath(im->path, real))
		snprintf(real, sizeof(real), "%s", im->path);
	for (char *l = maps ? strtok_r(maps, "\n", &save) : NULL; l && !found; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long lo, hi, off;
		int pos = 0;
		char perms[8], rp[PATH_MAX];
		if (sscanf(l, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &pos) < 4 || !pos)
			continue;
		const char *path = l + pos;
		if (off || !*path || (strcmp(path, im->path) && (!realpath(path, rp) || strcmp(rp, real))))
			continue;
		im->pm_base = lo - im->lo;
		im->pm_known = found = 1;
	}
	free(maps);
	return found ? 0 : -1;
}

int rp_after_exec(rp_run *r, rp_proc *p, const char *path)
{
	pm_thread *t = rp_thread(r, p);
	rp_space *s = rp_space_new();
	if (!s || !t)
		return -1;
	rp_space_put(p->space);
	p->space = s;
	snprintf(p->program, sizeof(p->program), "%s", path);
	if (!rp_elf_read(path, &s->img[0])) {
		s->nimg = 1;
		uint64_t entry = 0;
		pm_exec_info(t, &entry, NULL);
		if (s->img[0].interp[0] && !rp_elf_read(s->img[0].interp, &s->img[1])) {
			s->nimg = 2;
			if (s->img[1].dyn) {
				s->img[1].pm_base = entry - s->img[1].entry;
				s->img[1].pm_known = 1;
			}
		} else if (!s->img[0].interp[0] && s->img[0].dyn) {
			s->img[0].pm_base = entry - s->img[0].entry;
			s->img[0].pm_known = 1;
		}
		if (s->img[0].dyn && !s->img[0].pm_known)
			pm_program_base(r, p, &s->img[0]);
	}
	/* exec unshares the fd table and closes the close-on-exec descriptors. */
	if (p->files && p->files->refs > 1) {
		rp_files *c = rp_files_copy(p->files);
		rp_files_put(p->files);
		p->files = c;
	}
	for (size_t i = 0; p->files && i < p->files->n; i++) {
		rp_fd *d = &p->files->f[i];
		if (d->pm >= 0 ? pm_syscall(t, SYS_fcntl, d->pm, F_GETFD, 0, 0, 0, 0) < 0 : d->cloexec) {
			rp_fd_drop(p->files, d->rec);
			i--;
		}
	}
	if (r->o.dynamic_code)
		return pm_syscall(t, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 1, 0, 0, 0, 0) ? -1 : 0;
	return 0;
}

/* A recorded pid seen for the first time without a traced fork: a fresh process. When
 * its first call is a successful execve of a host file, the spawn loads that file. */
static rp_proc *first_sight(rp_run *r, const rp_event *e, int *consumed)
{
	pm_spawn_opts so = { 0 };
	int load = e->call == RP_EXECVE && e->has_ret && e->ret == 0 && !access(e->str[0], R_OK);
	so.elf_path = load ? e->str[0] : NULL;
	pm_thread *t = pm_spawn(r->sys, r->tok, load ? &so : NULL);
	if (!t && load) {
		load = 0;
		t = pm_spawn(r->sys, r->tok, NULL);
	}
	rp_proc *p = t ? rp_new_proc(r, e->pid, pm_pid(t)) : NULL;
	*consumed = 0;
	if (!p)
		return NULL;
	rp_add_task(r, e->pid, p);
	p->files = rp_files_new();
	p->space = rp_space_new();
	if (e != r->tr->ev)
		rp_finding_add(r, p, e, RP_F_NOTE, 0, 0,
			       "this pid appears without a traced fork: replayed in a fresh process");
	if (load) {
		*consumed = 1;
		p->calls++;
		p->replayed++;
		rp_after_exec(r, p, e->str[0]);
	} else if (r->o.dynamic_code) {
		pm_syscall(t, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 1, 0, 0, 0, 0);
	}
	return p;
}

static void end_process(rp_run *r, rp_proc *p)
{
	pm_thread *t = rp_thread(r, p);
	rp_snapshot_maps(r, p);
	if (t)
		pm_syscall(t, SYS_exit_group, 0, 0, 0, 0, 0, 0);
	p->alive = 0;
}

static void call(rp_run *r, rp_proc *p, const rp_event *e)
{
	p->calls++;
	if (!p->alive || p->lost) {
		rp_skip_count(r, p, p->lost ? "(program not loadable here)" : "(after exit)");
		return;
	}
	switch (e->call) {
	case RP_OPENAT: case RP_OPEN: case RP_CLOSE: case RP_DUP: case RP_DUP2: case RP_DUP3:
		rp_do_fd(r, p, e);
		break;
	case RP_FORK: case RP_VFORK: case RP_CLONE: case RP_CLONE3: case RP_EXECVE: case RP_EXIT:
	case RP_EXIT_GROUP:
		rp_do_proc(r, p, e);
		if (e->call == RP_EXIT_GROUP || (e->call == RP_EXIT && !rp_thread(r, p)))
			p->alive = 0;
		break;
	case RP_OTHER:
		rp_skip_count(r, p, e->name);
		break;
	default:
		rp_do_mem(r, p, e);
	}
}

static void event(rp_run *r, const rp_event *e)
{
	rp_proc *p = rp_task_proc(r, e->pid);
	int consumed = 0;

	if (!p && e->kind != RP_EV_CALL)
		return;
	if (!p && !(p = first_sight(r, e, &consumed)))
		return;
	if (consumed)
		return;
	switch (e->kind) {
	case RP_EV_CALL:
		call(r, p, e);
		break;
	case RP_EV_EXITED:
	case RP_EV_KILLED:
		if (e->pid == p->pid && p->alive)
			end_process(r, p);
		break;
	case RP_EV_SIGNAL:
		if (e->status == 11 || e->status == 7) {
			char why[120];
			snprintf(why, sizeof(why), "the program received %s at %#llx",
				 e->status == 11 ? "SIGSEGV" : "SIGBUS", (unsigned long long)e->si_addr);
			rp_finding_add(r, p, e, RP_F_NOTE, 0, 0, why);
		}
		break;
	}
}

int rp_run_trace(rp_run *r, const rp_trace *tr, const rp_opts *o)
{
	pm_config cfg;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->tr = tr;
	r->o = *o;
	pm_config_default(&cfg);
	cfg.seed = 1;
	cfg.ram_bytes = 512ULL << 20;
	if (!(r->sys = pm_system_create(&cfg))) {
		snprintf(r->err, sizeof(r->err), "cannot create a peimm system");
		return -1;
	}
	r->tok = pm_token_parse(r->sys, o->token ? o->token : RP_USER_TOKEN, &err);
	if (!r->tok) {
		snprintf(r->err, sizeof(r->err), "--token '%s': not a token spec (%s)",
			 o->token ? o->token : RP_USER_TOKEN, rp_errno_name(err ? err : -EINVAL));
		return -1;
	}
	r->max_map_count = pm_registry_get(r->sys, "MaxMapCount");
	for (size_t i = 0; i < tr->n; i++)
		event(r, &tr->ev[i]);
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i]->alive)
			rp_snapshot_maps(r, r->procs[i]);
	return 0;
}

void rp_run_free(rp_run *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		rp_space_put(r->procs[i]->space);
		rp_files_put(r->procs[i]->files);
		free(r->procs[i]->maps);
		free(r->procs[i]);
	}
	for (size_t i = 0; i < r->nf; i++)
		free(r->f[i].call);
	free(r->procs);
	free(r->tasks);
	free(r->f);
	free(r->skips);
	if (r->tok)
		pm_token_put(r->tok);
	if (r->sys)
		pm_system_destroy(r->sys);
	memset(r, 0, sizeof(*r));
}
