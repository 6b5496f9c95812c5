/*
 * The system views /proc/meminfo and /proc/vmstat, with Linux 6.x's field names, order
 * and column widths. Figures come from one pass over the frame descriptors (what each
 * handed-out frame is: anon, page cache, shmem, page table, dirty, mapped), the buddy and
 * hugetlb pool counters, and the fault counters in mm_sys. Machinery not built yet
 * (KSM, THP) reads 0 or its nearest real figure, each
 * marked below with what will fill it. Reads only; takes phys->lock for the counters.
 */
#include "proc/proc.h"

#include "obj/object.h"
#include "reclaim/commit.h"
#include "reclaim/lru.h"
#include "reclaim/swap.h"

/* What a scan of the frame descriptors finds, in pages. */
struct frame_census {
	uint64_t anon, file, shmem, dirty, mapped, pgtable;
};

/* One unlocked pass over the descriptors: flags of live frames change only under their
 * owners' locks, and a statistics view may be a moment stale, as Linux's are. */
static void census(struct phys *ph, struct frame_census *c)
{
	for (uint64_t pfn = 1; pfn < ph->nr_frames; pfn++) {
		const struct page *pg = &ph->pages[pfn];
		uint32_t f = pg->flags;
		if ((f & (PG_buddy | PG_reserved | PG_hugetlb)) || atomic_load(&pg->refcount) <= 0)
			continue;
		if (f & PG_pgtable) {
			c->pgtable++;
		} else if (f & PG_anon) {
			c->anon++;
		} else if (pg->owner_kind == OWNER_OBJECT &&
			   ((const struct vm_object *)pg->owner)->kind != OBJ_SPECIAL) {
			/* vdso and vvar frames are kernel pages, not cache. Linux counts shmem
			 * in Cached and Mapped, but not in Dirty. */
			c->file++;
			if (f & PG_shmem)
				c->shmem++;
			else if (f & PG_dirty)
				c->dirty++;
			if (atomic_load(&pg->mapcount) > 0)
				c->mapped++;
		}
	}
}

static void kb_line(struct strbuf *sb, const char *name, uint64_t kb)
{
	sb_puts(sb, name);
	sb_putc(sb, ':');
	sb_pad_to(sb, 16);
	sb_dec(sb, kb, 8);
	sb_puts(sb, " kB\n");
}

static void pages_line(struct strbuf *sb, const char *name, uint64_t pages)
{
	kb_line(sb, name, pages << (PAGE_SHIFT - 10));
}

/* Swap totals in pages (0 without a swap area). */
struct swap_figures {
	uint64_t total, free, cached, pswpin, pswpout;
};

static void swap_figures(struct swap_area *sa, struct swap_figures *sf)
{
	*sf = (struct swap_figures){ 0 };
	if (!sa)
		return;
	swap_stat(sa, &sf->total, &sf->free, &sf->cached);
	pthread_mutex_lock(&sa->lock);
	sf->pswpin = sa->pswpin;
	sf->pswpout = sa->pswpout;
	pthread_mutex_unlock(&sa->lock);
}

/* hugetlb_report_meminfo: the default (2 MiB) pool's counts, then both pools' bytes. */
static void show_hugetlb(struct phys *ph, struct strbuf *sb)
{
	struct hstate h2, h1;
	phys_huge_stat(ph, 0, &h2);
	phys_huge_stat(ph, 1, &h1);
	sb_printf(sb, "HugePages_Total:   %5lu\nHugePages_Free:    %5lu\nHugePages_Rsvd:    %5lu\n"
		      "HugePages_Surp:    %5lu\n", (unsigned long)h2.nr_total, (unsigned long)h2.nr_free,
		  (unsigned long)h2.nr_resv, 0UL);	/* no surplus pages: overcommit_hugepages is 0 */
	kb_line(sb, "Hugepagesize", 2048);
	kb_line(sb, "Hugetlb", h2.nr_total * 2048 + h1.nr_total * 1048576);
}

void proc_render_meminfo(const struct proc_sys_view *sv, struct strbuf *sb)
{
	struct phys *ph = sv->ph;
	struct frame_census c = { 0 };
	census(ph, &c);
	uint64_t total = ph->nr_frames - 1;	/* PFN 0 is reserved, as firmware ranges are */
	uint64_t free = phys_free_frames(ph);
	struct swap_figures sf;
	swap_figures(sv->swap, &sf);
	/* Linux subtracts the swap cache from its file pages; peimm's swap-cached frames stay
	 * anonymous, so the census never counted them as cache. No buffers either. */
	uint64_t cache = c.file;
	pages_line(sb, "MemTotal", total);
	pages_line(sb, "MemFree", free);
	/* si_mem_available: free memory plus the page cache the kernel could drop; peimm's
	 * cache is all reclaimable (dirty pages after writeback), shmem excepted. */
	pages_line(sb, "MemAvailable", free + c.file - c.shmem);
	pages_line(sb, "Buffers", 0);
	pages_line(sb, "Cached", cache);
	pages_line(sb, "SwapCached", sf.cached);
	/* The LRU lists' lengths (reclaim/lru.c). Frames join them when first mapped; shmem
	 * and memfd frames when they enter their object, on the anon lists (swap-backed). */
	uint64_t nr[NR_LRU_LISTS] = { 0 };
	if (sv->ms->lru)
		lru_count(sv->ms->lru, nr);
	pages_line(sb, "Active", nr[LRU_ACTIVE_ANON] + nr[LRU_ACTIVE_FILE]);
	pages_line(sb, "Inactive", nr[LRU_INACTIVE_ANON] + nr[LRU_INACTIVE_FILE]);
	pages_line(sb, "Active(anon)", nr[LRU_ACTIVE_ANON]);
	pages_line(sb, "Inactive(anon)", nr[LRU_INACTIVE_ANON]);
	pages_line(sb, "Active(file)", nr[LRU_ACTIVE_FILE]);
	pages_line(sb, "Inactive(file)", nr[LRU_INACTIVE_FILE]);
	pages_line(sb, "Unevictable", nr[LRU_UNEVICTABLE]);
	pages_line(sb, "Mlocked", sv->mlocked_pages);
	pages_line(sb, "SwapTotal", sf.total);
	pages_line(sb, "SwapFree", sf.free);
	pages_line(sb, "Zswap", 0);
	pages_line(sb, "Zswapped", 0);
	pages_line(sb, "Dirty", c.dirty);
	pages_line(sb, "Writeback", 0);		/* writeback is synchronous: never in flight */
	pages_line(sb, "AnonPages", c.anon);
	pages_line(sb, "Mapped", c.mapped);
	pages_line(sb, "Shmem", c.shmem);
	/* Kernel memory lives in host allocations, not in simulated frames. */
	pages_line(sb, "KReclaimable", 0);
	pages_line(sb, "Slab", 0);
	pages_line(sb, "SReclaimable", 0);
	pages_line(sb, "SUnreclaim", 0);
	pages_line(sb, "KernelStack", 0);
	pages_line(sb, "PageTables", c.pgtable);
	pages_line(sb, "SecPageTables", 0);
	pages_line(sb, "NFS_Unstable", 0);
	pages_line(sb, "Bounce", 0);
	pages_line(sb, "WritebackTmp", 0);
	/* SPEC §8: CommitLimit = swap + (RAM - hugetlb pool) * OvercommitRatio / 100, and
	 * Committed_AS = vm_committed_as (mm/acct.c's charges) + shmem and memfd pages. */
	pages_line(sb, "CommitLimit", commit_limit(&sv->ms->commit, ph, sv->swap));
	pages_line(sb, "Committed_AS", commit_total(&sv->ms->commit, ph));
	kb_line(sb, "VmallocTotal", 34359738367ULL);	/* x86-64 4-level vmalloc space */
	kb_line(sb, "VmallocUsed", 0);
	kb_line(sb, "VmallocChunk", 0);
	kb_line(sb, "Percpu", 0);
	/* Anonymous THPs some PMD maps (NR_ANON_THPS); THP for shmem and files is not built. */
	kb_line(sb, "AnonHugePages", (uint64_t)atomic_load(&sv->ms->thp.nr_anon_thps) * (PMD_SIZE >> 10));
	kb_line(sb, "ShmemHugePages", 0);
	kb_line(sb, "ShmemPmdMapped", 0);
	kb_line(sb, "FileHugePages", 0);
	kb_line(sb, "FilePmdMapped", 0);
	kb_line(sb, "Balloon", 0);
	show_hugetlb(ph, sb);
	/* The direct map: the simulated RAM is mapped with 2 MiB pages where it can be. */
	uint64_t ram_kb = ph->nr_frames << (PAGE_SHIFT - 10);
	kb_line(sb, "DirectMap4k", ram_kb % 2048);
	kb_line(sb, "DirectMap2M", ram_kb - ram_kb % 2048);
	kb_line(sb, "DirectMap1G", 0);
}

/* /proc/vmstat: Linux 6.x's vmstat_text order. Entries without a source print 0. */
enum vmstat_src {
	VS_ZERO, VS_FREE, VS_ANON, VS_FILE, VS_SHMEM, VS_DIRTY, VS_MAPPED, VS_PGTABLE,
	VS_MLOCK, VS_ANON_LRU, VS_FILE_LRU, VS_HUGETLB, VS_PGALLOC, VS_PGFREE, VS_PGFAULT, VS_PGMAJFAULT,
	VS_SWAPCACHED, VS_PSWPIN, VS_PSWPOUT, VS_OOM_KILL,
	VS_ANON_THPS, VS_THP_FAULT_ALLOC, VS_THP_FAULT_FALLBACK, VS_THP_COLLAPSE_ALLOC,
	VS_THP_COLLAPSE_FAILED, VS_THP_SPLIT_PAGE, VS_THP_SPLIT_PMD, VS_THP_EXCEED_NONE,
	VS_THP_EXCEED_SWAP, VS_THP_EXCEED_SHARED, VS_THP_ZERO_ALLOC, VS_THP_ZERO_FAILED,
	VS_LRU,				/* + enum lru_list: the list lengths */
	VS_RECLAIM = VS_LRU + NR_LRU_LISTS,	/* + enum lru_stat: reclaim's event counters */
	NR_VS = VS_RECLAIM + NR_LRU_STATS,
};
#define LRU_(l) (VS_LRU + (l))
#define RS_(s) (VS_RECLAIM + (s))

static const struct { const char *name; unsigned char src; } vmstat_items[] = {
	{ "nr_free_pages", VS_FREE }, { "nr_free_pages_blocks", VS_ZERO },
	{ "nr_zone_inactive_anon", LRU_(LRU_INACTIVE_ANON) }, { "nr_zone_active_anon", LRU_(LRU_ACTIVE_ANON) },
	{ "nr_zone_inactive_file", LRU_(LRU_INACTIVE_FILE) }, { "nr_zone_active_file", LRU_(LRU_ACTIVE_FILE) },
	{ "nr_zone_unevictable", LRU_(LRU_UNEVICTABLE) }, { "nr_zone_write_pending", VS_DIRTY },
	{ "nr_mlock", VS_MLOCK }, { "nr_zspages", VS_ZERO }, { "nr_free_cma", VS_ZERO },
	{ "numa_hit", VS_PGALLOC }, { "numa_miss", VS_ZERO }, { "numa_foreign", VS_ZERO },
	{ "numa_interleave", VS_ZERO }, { "numa_local", VS_PGALLOC }, { "numa_other", VS_ZERO },
	{ "nr_inactive_anon", LRU_(LRU_INACTIVE_ANON) }, { "nr_active_anon", LRU_(LRU_ACTIVE_ANON) },
	{ "nr_inactive_file", LRU_(LRU_INACTIVE_FILE) }, { "nr_active_file", LRU_(LRU_ACTIVE_FILE) },
	{ "nr_unevictable", LRU_(LRU_UNEVICTABLE) }, { "nr_slab_reclaimable", VS_ZERO },
	{ "nr_slab_unreclaimable", VS_ZERO }, { "nr_isolated_anon", VS_ZERO },
	{ "nr_isolated_file", VS_ZERO }, { "workingset_nodes", VS_ZERO },
	{ "workingset_refault_anon", VS_ZERO }, { "workingset_refault_file", VS_ZERO },
	{ "workingset_activate_anon", VS_ZERO }, { "workingset_activate_file", VS_ZERO },
	{ "workingset_restore_anon", VS_ZERO }, { "workingset_restore_file", VS_ZERO },
	{ "workingset_nodereclaim", VS_ZERO }, { "nr_anon_pages", VS_ANON },
	{ "nr_mapped", VS_MAPPED }, { "nr_file_pages", VS_FILE }, { "nr_dirty", VS_DIRTY },
	{ "nr_writeback", VS_ZERO }, { "nr_shmem", VS_SHMEM }, { "nr_shmem_hugepages", VS_ZERO },
	{ "nr_shmem_pmdmapped", VS_ZERO }, { "nr_file_hugepages", VS_ZERO },
	{ "nr_file_pmdmapped", VS_ZERO }, { "nr_anon_transparent_hugepages", VS_ANON_THPS },
	{ "nr_vmscan_write", VS_ZERO }, { "nr_vmscan_immediate_reclaim", VS_ZERO },
	{ "nr_dirtied", VS_ZERO }, { "nr_written", VS_ZERO }, { "nr_throttled_written", VS_ZERO },
	{ "nr_kernel_misc_reclaimable", VS_ZERO }, { "nr_foll_pin_acquired", VS_ZERO },
	{ "nr_foll_pin_released", VS_ZERO }, { "nr_kernel_stack", VS_ZERO },
	{ "nr_page_table_pages", VS_PGTABLE }, { "nr_sec_page_table_pages", VS_ZERO },
	{ "nr_iommu_pages", VS_ZERO }, { "nr_swapcached", VS_SWAPCACHED },
	{ "pgpromote_success", VS_ZERO }, { "pgpromote_candidate", VS_ZERO },
	{ "pgpromote_candidate_nrl", VS_ZERO }, { "pgdemote_kswapd", VS_ZERO },
	{ "pgdemote_direct", VS_ZERO }, { "pgdemote_khugepaged", VS_ZERO },
	{ "pgdemote_proactive", VS_ZERO }, { "nr_hugetlb", VS_HUGETLB },
	{ "nr_balloon_pages", VS_ZERO }, { "nr_kernel_file_pages", VS_ZERO },
	{ "nr_dirty_threshold", VS_ZERO }, { "nr_dirty_background_threshold", VS_ZERO },
	{ "nr_memmap_pages", VS_ZERO }, { "nr_memmap_boot_pages", VS_ZERO },
	/* Event counters. pgpgin/pgpgout wait for I/O accounting; pgmajfault counts faults
	 * that read from swap or a host file; the thp_* events for THP. pgalloc_normal
	 * and pgfree count buddy calls, not pages, until phys keeps page counts. */
	{ "pgpgin", VS_ZERO }, { "pgpgout", VS_ZERO }, { "pswpin", VS_PSWPIN },
	{ "pswpout", VS_PSWPOUT }, { "pgalloc_dma", VS_ZERO }, { "pgalloc_dma32", VS_ZERO },
	{ "pgalloc_normal", VS_PGALLOC }, { "pgalloc_movable", VS_ZERO },
	{ "pgalloc_device", VS_ZERO }, { "allocstall_dma", VS_ZERO },
	{ "allocstall_dma32", VS_ZERO }, { "allocstall_normal", RS_(LS_ALLOCSTALL) },
	{ "allocstall_movable", VS_ZERO }, { "allocstall_device", VS_ZERO },
	{ "pgskip_dma", VS_ZERO }, { "pgskip_dma32", VS_ZERO }, { "pgskip_normal", VS_ZERO },
	{ "pgskip_movable", VS_ZERO }, { "pgskip_device", VS_ZERO }, { "pgfree", VS_PGFREE },
	{ "pgactivate", RS_(LS_PGACTIVATE) }, { "pgdeactivate", RS_(LS_PGDEACTIVATE) }, { "pglazyfree", VS_ZERO },
	{ "pgfault", VS_PGFAULT }, { "pgmajfault", VS_PGMAJFAULT }, { "pglazyfreed", RS_(LS_PGLAZYFREED) },
	{ "pgrefill", RS_(LS_PGREFILL) }, { "pgreuse", VS_ZERO }, { "pgsteal_kswapd", RS_(LS_PGSTEAL_KSWAPD) },
	{ "pgsteal_direct", RS_(LS_PGSTEAL_DIRECT) }, { "pgsteal_khugepaged", VS_ZERO },
	{ "pgsteal_proactive", VS_ZERO }, { "pgscan_kswapd", RS_(LS_PGSCAN_KSWAPD) },
	{ "pgscan_direct", RS_(LS_PGSCAN_DIRECT) }, { "pgscan_khugepaged", VS_ZERO },
	{ "pgscan_proactive", VS_ZERO }, { "pgscan_direct_throttle", VS_ZERO },
	{ "pgscan_anon", RS_(LS_PGSCAN_ANON) }, { "pgscan_file", RS_(LS_PGSCAN_FILE) }, { "pgsteal_anon", RS_(LS_PGSTEAL_ANON) },
	{ "pgsteal_file", RS_(LS_PGSTEAL_FILE) }, { "zone_reclaim_success", VS_ZERO },
	{ "zone_reclaim_failed", VS_ZERO }, { "pginodesteal", VS_ZERO },
	{ "slabs_scanned", VS_ZERO }, { "kswapd_inodesteal", VS_ZERO },
	{ "kswapd_low_wmark_hit_quickly", VS_ZERO }, { "kswapd_high_wmark_hit_quickly", VS_ZERO },
	{ "pageoutrun", RS_(LS_PAGEOUTRUN) }, { "pgrotated", VS_ZERO }, { "drop_pagecache", VS_ZERO },
	{ "drop_slab", VS_ZERO }, { "oom_kill", VS_OOM_KILL }, { "numa_pte_updates", VS_ZERO },
	{ "numa_huge_pte_updates", VS_ZERO }, { "numa_hint_faults", VS_ZERO },
	{ "numa_hint_faults_local", VS_ZERO }, { "numa_pages_migrated", VS_ZERO },
	{ "pgmigrate_success", VS_ZERO }, { "pgmigrate_fail", VS_ZERO },
	{ "thp_migration_success", VS_ZERO }, { "thp_migration_fail", VS_ZERO },
	{ "thp_migration_split", VS_ZERO }, { "compact_migrate_scanned", VS_ZERO },
	{ "compact_free_scanned", VS_ZERO }, { "compact_isolated", VS_ZERO },
	{ "compact_stall", VS_ZERO }, { "compact_fail", VS_ZERO }, { "compact_success", VS_ZERO },
	{ "compact_daemon_wake", VS_ZERO }, { "compact_daemon_migrate_scanned", VS_ZERO },
	{ "compact_daemon_free_scanned", VS_ZERO }, { "htlb_buddy_alloc_success", VS_ZERO },
	{ "htlb_buddy_alloc_fail", VS_ZERO }, { "unevictable_pgs_culled", VS_ZERO },
	{ "unevictable_pgs_scanned", VS_ZERO }, { "unevictable_pgs_rescued", VS_ZERO },
	{ "unevictable_pgs_mlocked", VS_ZERO }, { "unevictable_pgs_munlocked", VS_ZERO },
	{ "unevictable_pgs_cleared", VS_ZERO }, { "unevictable_pgs_stranded", VS_ZERO },
	{ "thp_fault_alloc", VS_THP_FAULT_ALLOC }, { "thp_fault_fallback", VS_THP_FAULT_FALLBACK },
	{ "thp_fault_fallback_charge", VS_ZERO }, { "thp_collapse_alloc", VS_THP_COLLAPSE_ALLOC },
	{ "thp_collapse_alloc_failed", VS_THP_COLLAPSE_FAILED }, { "thp_file_alloc", VS_ZERO },
	{ "thp_file_fallback", VS_ZERO }, { "thp_file_fallback_charge", VS_ZERO },
	{ "thp_file_mapped", VS_ZERO }, { "thp_split_page", VS_THP_SPLIT_PAGE },
	{ "thp_split_page_failed", VS_ZERO }, { "thp_deferred_split_page", VS_ZERO },
	{ "thp_underused_split_page", VS_ZERO }, { "thp_split_pmd", VS_THP_SPLIT_PMD },
	{ "thp_scan_exceed_none_pte", VS_THP_EXCEED_NONE },
	{ "thp_scan_exceed_swap_pte", VS_THP_EXCEED_SWAP },
	{ "thp_scan_exceed_share_pte", VS_THP_EXCEED_SHARED }, { "thp_split_pud", VS_ZERO },
	{ "thp_zero_page_alloc", VS_THP_ZERO_ALLOC },
	{ "thp_zero_page_alloc_failed", VS_THP_ZERO_FAILED },
	{ "thp_swpout", VS_ZERO }, { "thp_swpout_fallback", VS_ZERO },
	{ "balloon_inflate", VS_ZERO }, { "balloon_deflate", VS_ZERO },
	{ "balloon_migrate", VS_ZERO }, { "swap_ra", VS_ZERO }, { "swap_ra_hit", VS_ZERO },
	{ "swpin_zero", VS_ZERO }, { "swpout_zero", VS_ZERO }, { "ksm_swpin_copy", VS_ZERO },
	{ "cow_ksm", VS_ZERO }, { "zswpin", VS_ZERO }, { "zswpout", VS_ZERO },
	{ "zswpwb", VS_ZERO }, { "direct_map_level2_splits", VS_ZERO },
	{ "direct_map_level3_splits", VS_ZERO }, { "direct_map_level2_collapses", VS_ZERO },
	{ "direct_map_level3_collapses", VS_ZERO }, { "nr_unstable", VS_ZERO },
};

void proc_render_vmstat(const struct proc_sys_view *sv, struct strbuf *sb)
{
	struct phys *ph = sv->ph;
	struct frame_census c = { 0 };
	census(ph, &c);
	pthread_mutex_lock(&ph->lock);
	uint64_t allocs = ph->allocs, frees = ph->frees;
	pthread_mutex_unlock(&ph->lock);
	struct swap_figures sf;
	swap_figures(sv->swap, &sf);
	uint64_t v[NR_VS] = {
		[VS_ZERO] = 0, [VS_FREE] = phys_free_frames(ph), [VS_ANON] = c.anon,
		[VS_FILE] = c.file, [VS_SHMEM] = c.shmem, [VS_DIRTY] = c.dirty,
		[VS_MAPPED] = c.mapped, [VS_PGTABLE] = c.pgtable, [VS_MLOCK] = sv->mlocked_pages,
		[VS_ANON_LRU] = c.anon + c.shmem, [VS_FILE_LRU] = c.file - c.shmem,
		[VS_HUGETLB] = phys_huge_pool_pages(ph), [VS_PGALLOC] = allocs, [VS_PGFREE] = frees,
		[VS_PGFAULT] = (uint64_t)atomic_load(&sv->ms->pgfault),
		[VS_PGMAJFAULT] = (uint64_t)atomic_load(&sv->ms->pgmajfault),
		[VS_SWAPCACHED] = sf.cached, [VS_PSWPIN] = sf.pswpin, [VS_PSWPOUT] = sf.pswpout,
		[VS_OOM_KILL] = sv->oom_kills,
		[VS_ANON_THPS] = (uint64_t)atomic_load(&sv->ms->thp.nr_anon_thps),	/* in THPs */
		[VS_THP_FAULT_ALLOC] = atomic_load(&sv->ms->thp.fault_alloc),
		[VS_THP_FAULT_FALLBACK] = atomic_load(&sv->ms->thp.fault_fallback),
		[VS_THP_COLLAPSE_ALLOC] = atomic_load(&sv->ms->thp.collapse_alloc),
		[VS_THP_COLLAPSE_FAILED] = atomic_load(&sv->ms->thp.collapse_alloc_failed),
		[VS_THP_SPLIT_PAGE] = atomic_load(&sv->ms->thp.split_page),
		[VS_THP_SPLIT_PMD] = atomic_load(&sv->ms->thp.split_pmd),
		[VS_THP_EXCEED_NONE] = atomic_load(&sv->ms->thp.scan_exceed_none),
		[VS_THP_EXCEED_SWAP] = atomic_load(&sv->ms->thp.scan_exceed_swap),
		[VS_THP_EXCEED_SHARED] = atomic_load(&sv->ms->thp.scan_exceed_shared),
		[VS_THP_ZERO_ALLOC] = atomic_load(&sv->ms->thp.zero_page_alloc),
		[VS_THP_ZERO_FAILED] = atomic_load(&sv->ms->thp.zero_page_alloc_failed),
	};
	if (sv->ms->lru) {
		lru_count(sv->ms->lru, &v[VS_LRU]);
		for (int i = 0; i < NR_LRU_STATS; i++)
			v[VS_RECLAIM + i] = lru_stat_get(sv->ms->lru, (enum lru_stat)i);
	}
	for (size_t i = 0; i < sizeof(vmstat_items) / sizeof(vmstat_items[0]); i++) {
		sb_puts(sb, vmstat_items[i].name);
		sb_putc(sb, ' ');
		sb_dec(sb, v[vmstat_items[i].src], 0);
		sb_putc(sb, '\n');
	}
}
