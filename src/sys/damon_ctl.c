/*
 * DAMON control (SPEC §10): the public pm_damon_* calls, the daemon step that
 * pm_system_tick runs, and the exit and /proc hooks. Monitoring is off by default; only a
 * SYSTEM or Administrators caller may start, stop or configure it, and every call on a
 * target also passes the two checks of SPEC §7 for PROCESS_QUERY_INFORMATION. A context
 * samples through a user reference on the target's mm (Linux's damon_get_mm), never
 * through a stale p->mm, and it dies with its process. No host threads: all work happens
 * inside pm_system_tick, so runs replay exactly from the seed.
 */
#include "sys/sys.h"

#include <errno.h>

#include "kacs/token.h"
#include "mm/damon_mm.h"
#include "proc/damon.h"

struct sys_damon_target {
	struct list_head node;		/* in damon->targets, by pid; under damon->lock */
	struct pm_process *p;		/* immutable; process structs live until system destroy */
	uint64_t next_sample_us;	/* simulated time of the next sampling step */
	struct damon_ctx ctx;		/* under damon->lock */
};

void sys_damon_init(struct pm_system *sys)
{
	pthread_mutex_init(&sys->damon.lock, NULL);
	list_init(&sys->damon.targets);
}

static void target_free(struct pm_system *sys, struct sys_damon_target *t)
{
	list_del(&t->node);
	damon_ctx_release(&t->ctx);
	kmem_delete(&sys->km, t);
}

void sys_damon_release(struct pm_system *sys)
{
	while (!list_empty(&sys->damon.targets))
		target_free(sys, list_entry(sys->damon.targets.next, struct sys_damon_target, node));
	pthread_mutex_destroy(&sys->damon.lock);
}

static struct sys_damon_target *find_locked(struct pm_system *sys, int pid)
{
	for (struct list_head *l = sys->damon.targets.next; l != &sys->damon.targets; l = l->next) {
		struct sys_damon_target *t = list_entry(l, struct sys_damon_target, node);
		if (t->p->pid == pid)
			return t;
	}
	return NULL;
}

/* A user reference on p's current mm (exec may swap it at any time), or NULL when p is
 * not running. The caller drops it with mm_destroy. */
static struct mm_struct *target_mm(struct pm_process *p)
{
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->lock);
	struct mm_struct *mm = atomic_load(&p->state) == PROC_RUNNING ? p->mm : NULL;
	if (mm)
		mm_use(mm);
	pthread_mutex_unlock(&sys->lock);
	return mm;
}

/* ---- the gates ---- */

/* The checks every call makes: the caller's process is running (it is entered on
 * success), admin when asked (SPEC §10), the target is live (entered), and the two checks
 * for PROCESS_QUERY_INFORMATION. On failure nothing stays entered. */
static int enter_gated(struct pm_thread *t, int pid, int admin, const char *op,
		       struct pm_process **out)
{
	*out = NULL;
	if (!t)
		return -EINVAL;
	if (process_enter(t->proc))
		return -ESRCH;
	struct pm_system *sys = t->proc->sys;
	int err = 0;
	if (admin && !token_is_admin(thread_token(t))) {
		audit_log(sys, "damon op=%s caller=%d target=%d result=denied why=not-admin", op,
			  t->proc->pid, pid);
		err = -EPERM;
		goto out_leave;
	}
	pthread_mutex_lock(&sys->lock);
	struct pm_process *p = process_lookup_locked(sys, pid ? pid : t->proc->pid);
	if (p && process_enter(p))
		p = NULL;
	pthread_mutex_unlock(&sys->lock);
	if (!p) {
		err = -ESRCH;
		goto out_leave;
	}
	if (sys_gate(t, p, PROCESS_QUERY_INFORMATION, op)) {
		process_leave(p);
		err = -EACCES;
		goto out_leave;
	}
	*out = p;
	return 0;
out_leave:
	process_leave(t->proc);
	return err;
}

static void leave_gated(struct pm_thread *t, struct pm_process *p)
{
	process_leave(p);
	process_leave(t->proc);
}

/* ---- control ---- */

/* Linux's defaults (damon_new_ctx), but the update interval of the sysfs interface
 * (1 s; the core's own is 60 s), since this is the user-facing control. */
static void attrs_from(const pm_damon_attrs *in, struct damon_attrs *a)
{
	a->sample_us = in && in->sample_us ? in->sample_us : 5000;
	a->aggr_us = in && in->aggr_us ? in->aggr_us : 100000;
	a->update_us = in && in->update_us ? in->update_us : 1000000;
	a->min_nr_regions = in && in->min_nr_regions ? in->min_nr_regions : 10;
	a->max_nr_regions = in && in->max_nr_regions ? in->max_nr_regions : 1000;
}

static int start_locked(struct pm_system *sys, struct pm_process *p, struct sys_damon_target *t,
			const pm_damon_attrs *in)
{
	struct damon_attrs a;
	struct damon_range rg[DAMON_MAX_RANGES];
	uint32_t n = in ? in->nr_ranges : 0;
	attrs_from(in, &a);
	if (n > DAMON_MAX_RANGES)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		rg[i] = (struct damon_range){ in->ranges[i].start, in->ranges[i].end };
	if (find_locked(sys, p->pid))
		return -EBUSY;
	if (damon_attrs_check(&a))
		return -EINVAL;
	pthread_mutex_lock(&sys->lock);
	uint64_t seed = prng_next(&sys->rng);	/* sampling draws from its own stream */
	uint64_t now_us = sys->ticks * 1000;
	pthread_mutex_unlock(&sys->lock);
	int err = damon_ctx_init(&t->ctx, &sys->km, &a, seed, rg, n);
	if (err)
		return err;
	struct mm_struct *mm = target_mm(p);
	err = mm ? mm_damon_start(mm, &t->ctx) : -ESRCH;
	if (mm)
		mm_destroy(mm);
	if (err) {
		damon_ctx_release(&t->ctx);
		return err;
	}
	t->p = p;
	t->next_sample_us = now_us + a.sample_us;
	struct list_head *pos = &sys->damon.targets;
	for (struct list_head *l = pos->next; l != &sys->damon.targets; l = l->next)
		if (list_entry(l, struct sys_damon_target, node)->p->pid > p->pid) {
			pos = l;
			break;
		}
	list_add_tail(&t->node, pos);	/* before pos: keeps the list sorted by pid */
	return 0;
}

int pm_damon_start(pm_thread *caller, int pid, const pm_damon_attrs *attrs)
{
	struct pm_process *p;
	int err = enter_gated(caller, pid, 1, "damon_start", &p);
	if (err)
		return err;
	struct pm_system *sys = p->sys;
	struct sys_damon_target *t = kmem_new(&sys->km, struct sys_damon_target);
	if (!t) {
		err = -ENOMEM;
	} else {
		pthread_mutex_lock(&sys->damon.lock);
		err = start_locked(sys, p, t, attrs);
		pthread_mutex_unlock(&sys->damon.lock);
		if (err)
			kmem_delete(&sys->km, t);
	}
	leave_gated(caller, p);
	return err;
}

int pm_damon_stop(pm_thread *caller, int pid)
{
	struct pm_process *p;
	int err = enter_gated(caller, pid, 1, "damon_stop", &p);
	if (err)
		return err;
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->damon.lock);
	struct sys_damon_target *t = find_locked(sys, p->pid);
	if (t)
		target_free(sys, t);
	pthread_mutex_unlock(&sys->damon.lock);
	leave_gated(caller, p);
	return t ? 0 : -ENOENT;
}

int pm_damon_add_scheme(pm_thread *caller, int pid, const pm_damos *s)
{
	if (!s)
		return -EINVAL;
	struct pm_process *p;
	int err = enter_gated(caller, pid, 1, "damon_scheme", &p);
	if (err)
		return err;
	struct pm_system *sys = p->sys;
	struct damos_pattern pat = { s->min_sz, s->max_sz, s->min_nr_accesses, s->max_nr_accesses,
				     s->min_age, s->max_age };
	struct damos_quota q = { .sz = s->quota_sz, .ms = s->quota_ms, .reset_ms = s->quota_reset_ms };
	pthread_mutex_lock(&sys->damon.lock);
	struct sys_damon_target *t = find_locked(sys, p->pid);
	err = t ? damos_add(&t->ctx, &pat, s->action, &q) : -ENOENT;
	pthread_mutex_unlock(&sys->damon.lock);
	leave_gated(caller, p);
	return err;
}

/* ---- results ---- */

int pm_damon_regions(pm_thread *reader, int pid, pm_damon_region *out, int max)
{
	if (max < 0 || (max && !out))
		return -EINVAL;
	struct pm_process *p;
	int err = enter_gated(reader, pid, 0, "damon_regions", &p);
	if (err)
		return err;
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->damon.lock);
	struct sys_damon_target *t = find_locked(sys, p->pid);
	int n = t ? (int)t->ctx.nr_snap : -ENOENT;
	for (int i = 0; t && i < n && i < max; i++) {
		const struct damon_region *r = &t->ctx.snap[i];
		out[i] = (pm_damon_region){ r->start, r->end, r->nr_accesses, r->age };
	}
	pthread_mutex_unlock(&sys->damon.lock);
	leave_gated(reader, p);
	return n;
}

int pm_damos_stats_read(pm_thread *reader, int pid, int scheme, pm_damos_stats *out)
{
	if (!out)
		return -EINVAL;
	struct pm_process *p;
	int err = enter_gated(reader, pid, 0, "damon_regions", &p);
	if (err)
		return err;
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->damon.lock);
	struct sys_damon_target *t = find_locked(sys, p->pid);
	err = -ENOENT;
	if (t && scheme >= 0 && (uint32_t)scheme < t->ctx.nr_schemes) {
		const struct damos_stat *st = &t->ctx.schemes[scheme].stat;
		*out = (pm_damos_stats){ st->nr_tried, st->sz_tried, st->nr_applied,
					 st->sz_applied, st->qt_exceeds };
		err = 0;
	}
	pthread_mutex_unlock(&sys->damon.lock);
	leave_gated(reader, p);
	return err;
}

int sys_damon_render(struct pm_process *p, struct strbuf *sb)
{
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->damon.lock);
	struct sys_damon_target *t = find_locked(sys, p->pid);
	if (t)
		proc_render_damon(&t->ctx, sb);
	pthread_mutex_unlock(&sys->damon.lock);
	return 0;
}

/* ---- the daemon ---- */

/* Runs one target's elapsed sampling intervals. A target that is not running (killed and
 * waiting for the reaper) is skipped; its exit frees it. */
static void run_target_locked(struct sys_damon_target *t, uint64_t now_us)
{
	if (t->next_sample_us > now_us)
		return;
	struct mm_struct *mm = target_mm(t->p);
	if (!mm)
		return;
	while (t->next_sample_us <= now_us) {
		mm_damon_step(mm, &t->ctx, t->next_sample_us);
		t->next_sample_us += t->ctx.attrs.sample_us;
	}
	mm_destroy(mm);	/* drops our use; the last user (after an exec) tears it down */
}

void sys_damon_tick(struct pm_system *sys, uint64_t now)
{
	pthread_mutex_lock(&sys->damon.lock);
	for (struct list_head *l = sys->damon.targets.next; l != &sys->damon.targets; l = l->next)
		run_target_locked(list_entry(l, struct sys_damon_target, node), now * 1000);
	pthread_mutex_unlock(&sys->damon.lock);
}

void sys_damon_exit(struct pm_process *p)
{
	struct pm_system *sys = p->sys;
	pthread_mutex_lock(&sys->damon.lock);
	struct sys_damon_target *t = find_locked(sys, p->pid);
	if (t && t->p == p)
		target_free(sys, t);
	pthread_mutex_unlock(&sys->damon.lock);
}
