/*
 * The system object: creation from a pm_config, teardown that proves nothing leaked, the
 * tick that drives simulated time, and the counters tools read. It owns every process;
 * destroying it frees all of them and every frame.
 */
#include "sys/sys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "lib/pm_assert.h"
#include "mm/mm_file.h"
#include "mm/swap_mm.h"
#include "sys/vdso_image.h"

void pm_config_default(pm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_bytes = 1ULL << 30;
	cfg->paging_levels = 4;
}

static uint64_t host_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = (uint64_t)time(NULL);
	return s ? s : 1;
}

/* The kernel's own pages: vvar (the clock), vvar_vclock and the vDSO image. */
static int make_vdso_objects(struct pm_system *sys)
{
	uint8_t image[VDSO_IMAGE_PAGES * PAGE_SIZE];
	vdso_image_build(image, sizeof(image));
	sys->vdso.vdso = obj_special_create(&sys->km, &sys->ph, NULL, image, VDSO_IMAGE_PAGES);
	sys->vdso.vvar = obj_special_create(&sys->km, &sys->ph, NULL, NULL, 4);
	sys->vdso.vvar_vclock = obj_special_create(&sys->km, &sys->ph, NULL, NULL, 2);
	if (!sys->vdso.vdso || !sys->vdso.vvar || !sys->vdso.vvar_vclock)
		return -ENOMEM;
	sys->kernel_frames = 1 + VDSO_IMAGE_PAGES + 4 + 2;
	return 0;
}

static void put_vdso_objects(struct pm_system *sys)
{
	struct vm_object *o[3] = { sys->vdso.vdso, sys->vdso.vvar, sys->vdso.vvar_vclock };
	for (int i = 0; i < 3; i++)
		if (o[i])
			obj_put(o[i]);
}

pm_system *pm_system_create(const pm_config *cfg)
{
	pm_config c;
	pm_config_default(&c);
	if (cfg)
		c = *cfg;
	if (!c.ram_bytes)
		c.ram_bytes = 1ULL << 30;
	if (!c.paging_levels)
		c.paging_levels = 4;
	if ((c.paging_levels != 4 && c.paging_levels != 5) || c.ram_bytes < (16ULL << 20) ||
	    (c.ram_bytes & (PAGE_SIZE - 1)))
		return NULL;
	pm_system *sys = calloc(1, sizeof(*sys));
	if (!sys)
		return NULL;
	kmem_init(&sys->km);
	if (phys_init(&sys->ph, &sys->km, c.ram_bytes)) {
		free(sys);
		return NULL;
	}
	sys->cfg = c;
	sys->seed = c.seed ? c.seed : host_seed();
	prng_seed(&sys->rng, sys->seed);
	pthread_mutex_init(&sys->lock, NULL);
	pthread_mutex_init(&sys->audit_lock, NULL);
	audit_init(sys);
	list_init(&sys->procs);
	list_init(&sys->threads);
	sys->next_pid = 1;
	mm_sys_init(&sys->ms, &sys->km, &sys->ph, c.paging_levels, c.embedded);
	sys->ms.no_zero_page = c.no_zero_page != 0;
	obj_filecache_init(&sys->fcache, &sys->km, &sys->ph);
	reg_init(sys);
	sys_damon_init(sys);
	sys_ksm_init(sys);
	sys_thp_init(sys);
	/* Reclaim: the LRU lists learn of every freed frame through phys' release hook; the
	 * swap area is a host file (SPEC §6). */
	lru_init(&sys->lru);
	lru_watermarks(sys->ph.nr_frames - 1, &sys->wmark);
	sys->ph.release_hook = lru_release_hook;
	sys->ph.release_ctx = &sys->lru;
	sys->ms.lru = &sys->lru;
	sys->ms.fcache = &sys->fcache;
	sys->ms.swap = &sys->swap;
	obj_filecache_set_swap(&sys->fcache, &mm_shmem_swap_ops, &sys->ms);	/* shmem swaps */
	atomic_store(&sys->ms.swappiness, (int)sys->reg[REG_SWAPPINESS]);
	commit_set_policy(&sys->ms.commit, (int)sys->reg[REG_OVERCOMMIT_MEMORY],
			  sys->reg[REG_OVERCOMMIT_RATIO]);
	if (swap_init(&sys->swap, &sys->km, &sys->ph, c.swap_path, c.swap_bytes)) {
		sys->ms.swap = NULL;	/* destroy must not close it twice */
		pm_system_destroy(sys);
		return NULL;
	}
	if (mm_sys_start(&sys->ms) || make_vdso_objects(sys) || reg_init_sds(sys)) {
		pm_system_destroy(sys);
		return NULL;
	}
	return sys;
}

void pm_system_destroy(pm_system *sys)
{
	if (!sys)
		return;
	struct list_head *l, *n;
	for (l = sys->procs.next; l != &sys->procs; l = n) {
		n = l->next;
		struct pm_process *p = list_entry(l, struct pm_process, node);
		process_exit(p);
		list_del(&p->node);
		kmem_delete(&sys->km, p);
	}
	for (l = sys->threads.next; l != &sys->threads; l = n) {
		n = l->next;
		struct pm_thread *t = list_entry(l, struct pm_thread, node);
		token_put(t->imp);
		tlb_release(&t->tlb);
		sb_release(&t->view_cache.sb);
		list_del(&t->node);
		kmem_delete(&sys->km, t);
	}
	sys_damon_release(sys);	/* exits freed theirs; this is for the rest */
	put_vdso_objects(sys);
	uint64_t cached = obj_filecache_destroy(&sys->fcache);
	uint64_t slots = sys->ms.swap ? swap_destroy(&sys->swap) : 0;	/* its cache's frames too */
	mm_sys_stop(&sys->ms);
	audit_release(sys);
	reg_release_sds(sys);
	uint64_t leaked = phys_destroy(&sys->ph);
	uint64_t on_lru = lru_destroy(&sys->lru);
	uint64_t objs = atomic_load(&sys->km.live_objs);
	if (leaked || objs || cached || slots || on_lru)
		fprintf(stderr, "peimm: system destroyed with %lu frames, %lu objects, %lu "
			"cached files, %lu swap slots and %lu LRU frames leaked\n",
			(unsigned long)leaked, (unsigned long)objs, (unsigned long)cached,
			(unsigned long)slots, (unsigned long)on_lru);
	PM_ASSERT(leaked == 0 && objs == 0 && cached == 0 && slots == 0 && on_lru == 0);
	pthread_mutex_destroy(&sys->lock);
	pthread_mutex_destroy(&sys->audit_lock);
	free(sys);
}

void pm_system_info(pm_system *sys, pm_sysinfo *info)
{
	memset(info, 0, sizeof(*info));
	info->total_frames = sys->ph.nr_frames - 1;
	info->free_frames = phys_free_frames(&sys->ph);
	info->live_objects = atomic_load(&sys->km.live_objs);
	pthread_mutex_lock(&sys->lock);
	info->nr_processes = sys->nr_live;
	pthread_mutex_unlock(&sys->lock);
	info->seed = sys->seed;
	info->kernel_frames = sys->kernel_frames + (atomic_load(&sys->ms.thp.huge_zero) ? 512 : 0);
	info->retired_frames = phys_retired_frames(&sys->ph);
	for (int h = 0; h < PHYS_NR_HSTATES; h++) {
		struct hstate hs;
		phys_huge_stat(&sys->ph, h, &hs);
		info->pool_frames += hs.nr_total << phys_huge_order(h);
	}
}

/* The OOM reaper's step: frees the memory of SIGKILLed processes, a few per tick (STYLE
 * rule 19: bounded work per step). */
static void reap_dying(pm_system *sys)
{
	for (int budget = 4; budget > 0; budget--) {
		struct pm_process *victim = NULL;
		pthread_mutex_lock(&sys->lock);
		for (struct list_head *l = sys->procs.next; l != &sys->procs && !victim; l = l->next) {
			struct pm_process *p = list_entry(l, struct pm_process, node);
			if (p->killed && atomic_load(&p->state) == PROC_DYING && atomic_load(&p->users) == 0)
				victim = p;
		}
		pthread_mutex_unlock(&sys->lock);
		if (!victim)
			return;
		process_reap(victim);
	}
}

void pm_system_tick(pm_system *sys, unsigned n)
{
	reap_dying(sys);
	pthread_mutex_lock(&sys->lock);
	sys->ticks += n;
	/* The vvar page carries the clock, as the kernel's vDSO data page does. */
	struct page *pg = obj_peek_page(sys->vdso.vvar, 0);
	uint64_t ns = sys->ticks * 1000000ULL;
	memcpy(page_address(&sys->ph, pg), &ns, sizeof(ns));
	uint64_t now = sys->ticks;
	uint64_t expire_ms = (uint64_t)sys->reg[REG_DIRTY_EXPIRE_CENTISECS] * 10;
	pthread_mutex_unlock(&sys->lock);
	/* Background writeback (SPEC §3): dirty file data older than DirtyExpireCentisecs
	 * reaches the host. Outside sys->lock: it does host I/O. */
	mm_writeback_expired(&sys->fcache, now, expire_ms);
	/* DAMON samples at its own intervals (SPEC §10, DESIGN.md "Core objects"). */
	sys_damon_tick(sys, now);
	/* ksmd: a batch every KsmSleepMillisecs ticks while KsmRun is 1 (SPEC §6). */
	sys_ksm_tick(sys, now);
	/* khugepaged: a pass every ThpKhugepagedScanSleepMillisecs ticks unless THP is off. */
	sys_thp_tick(sys, now);
	/* kswapd: below the low watermark, reclaim toward the high one (bounded per tick). */
	mm_kswapd_step(&sys->ms, sys->wmark.low, sys->wmark.high);
}

uint64_t pm_debug_shrink(pm_system *sys, uint64_t nr)
{
	return mm_shrink_lru(&sys->ms, nr, NULL, RECLAIM_KSWAPD);
}

uint64_t pm_debug_reclaim(pm_system *sys)
{
	uint64_t freed = 0;
	for (int last = 0;;) {
		struct mm_struct *mm = NULL;
		pthread_mutex_lock(&sys->lock);
		for (struct list_head *l = sys->procs.next; l != &sys->procs; l = l->next) {
			struct pm_process *p = list_entry(l, struct pm_process, node);
			if (p->pid > last && p->mm) {	/* procs is in pid order */
				mm = p->mm;
				last = p->pid;
				break;
			}
		}
		if (mm)
			mm_grab(mm);
		pthread_mutex_unlock(&sys->lock);
		if (!mm)
			return freed;
		freed += mm_reclaim_lazyfree(mm);	/* outside sys->lock: takes mm->lock */
		mm_drop(mm);
	}
}

void pm_debug_fail_alloc(pm_system *sys, uint64_t n)
{
	kmem_fail_nth(&sys->km, n);
}
