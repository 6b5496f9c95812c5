/*
 * The pressure stress test (SPEC §6, §8): a 64 MiB machine with swap and ksmd on runs
 * several processes (beside a 32 MiB ballast that pushes the machine into reclaim)
 * through random mmap, munmap, mprotect, touch, read-back, pageout, DONTNEED, one-page
 * mremap, fork and exit from a fixed seed, with daemon ticks in between and pm_check_invariants
 * after every step. A shadow model holds the bytes each page must have, so every read
 * checks swap-in, KSM merging and COW together. Then an OOM phase fills what RAM and swap
 * can hold: the process killed is one whose oom_score was the highest just before the
 * fault that killed it. At the end every frame and every swap slot is back.
 */
#include "pm_test.h"

#include <stdio.h>
#include <string.h>

#define NPROC	6		/* live processes at most (plus the SYSTEM admin) */
#define NSLOT	4		/* mapping slots per process */
#define SLOT_PAGES 2048		/* 8 MiB per slot: 6 * 4 * 8 MiB can pass RAM + swap */
#define SLOT_VA(i) (0x100000000000L + (long)(i) * 0x10000000L)
#define MERGE_TAGS 8		/* tags 1..8 repeat across pages: KSM has work */

enum { P_NONE = 0, P_R = 1, P_RW = 2 };

struct sproc {
	pm_thread *t;
	int pid;
	uint8_t prot[NSLOT][SLOT_PAGES];	/* P_NONE = not mapped */
	uint32_t tag[NSLOT][SLOT_PAGES];	/* 0 = never written (reads zero) */
};

struct stress {
	struct env e;
	pm_thread *admin;
	struct sproc *p[NPROC + 1];	/* [NPROC]: the ballast, never picked */
	uint64_t rng;
	uint32_t next_tag;
	long steps, kills, max_sharing, reads, moves;
	long snap_pid[NPROC + 2], snap_score[NPROC + 2];
	struct sproc *dead[256];	/* killed ones, freed at the end (callers may hold them) */
	int ndead;
	int nsnap;
};

static uint64_t rnd(struct stress *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static long below(struct stress *s, long n)
{
	return (long)(rnd(s) % (uint64_t)n);
}

static void pattern(uint32_t tag, uint64_t *w)
{
	for (int i = 0; i < (int)(PG / 8); i++)
		w[i] = tag ? tag * 0x9e3779b97f4a7c15ULL + (uint64_t)i : 0;
}

static long sys_num(pm_thread *r, const char *view, const char *name)
{
	const char *s = strstr(proc_text(r, -1, view), name);
	return s ? strtol(s + strlen(name), NULL, 10) : -1;
}

static long ksm_num(pm_thread *r, const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "sys/kernel/mm/ksm/%s", name);
	return strtol(proc_text(r, -1, path), NULL, 10);
}

/* Every oom_score just before an allocating step. */
static void snapshot(struct stress *s)
{
	s->nsnap = 0;
	for (int i = 0; i <= NPROC; i++)
		if (s->p[i]) {
			s->snap_pid[s->nsnap] = s->p[i]->pid;
			s->snap_score[s->nsnap++] =
				strtol(proc_text(s->admin, s->p[i]->pid, "oom_score"), NULL, 10);
		}
	s->snap_pid[s->nsnap] = pm_pid(s->admin);
	s->snap_score[s->nsnap++] = strtol(proc_text(s->admin, 0, "oom_score"), NULL, 10);
}

/* Processes the OOM killer took since the snapshot leave the model; each must have had
 * the highest score of the snapshot. Returns how many were taken. */
static int reap_killed(struct stress *s)
{
	int n = 0;
	for (int i = 0; i <= NPROC; i++) {
		struct sproc *p = s->p[i];
		if (!p || SC(p->t, SYS_getpid, 0, 0, 0, 0, 0, 0) != -ESRCH)
			continue;
		long best = -1, mine = -1;
		for (int j = 0; j < s->nsnap; j++) {
			best = s->snap_score[j] > best ? s->snap_score[j] : best;
			if (s->snap_pid[j] == p->pid)
				mine = s->snap_score[j];
		}
		if (mine != best)
			check_failed(__FILE__, __LINE__, "step %ld: OOM killed pid %d with oom_score "
				     "%ld, but the highest just before was %ld", s->steps, p->pid,
				     mine, best);
		if (getenv("STRESS_TRACE"))
			fprintf(stderr, "step %ld: pid %d killed; SwapFree %ld kB, MemFree %ld kB, "
				"AnonPages %ld kB, pages_sharing %ld\n", s->steps, p->pid,
				sys_num(s->admin, "meminfo", "SwapFree:"),
				sys_num(s->admin, "meminfo", "MemFree:"),
				sys_num(s->admin, "meminfo", "AnonPages:"),
				ksm_num(s->admin, "pages_sharing"));
		if (s->ndead < 256)
			s->dead[s->ndead++] = p;
		s->p[i] = NULL;
		s->kills++;
		n++;
	}
	if (n)
		pm_system_tick(s->e.sys, 1);	/* the reaper frees a killed faulting process */
	return n;
}

static int alive(struct stress *s, struct sproc *p)
{
	for (int i = 0; i <= NPROC; i++)
		if (s->p[i] == p)
			return 1;
	return 0;
}

static struct sproc *pick(struct stress *s)
{
	int live[NPROC], n = 0;
	for (int i = 0; i < NPROC; i++)
		if (s->p[i])
			live[n++] = i;
	return n ? s->p[live[below(s, n)]] : NULL;
}

/* One page write, checked against the model; returns 0 when the process died. */
static int write_page(struct stress *s, struct sproc *p, int slot, long pg, uint32_t tag)
{
	static uint64_t w[PG / 8];
	pattern(tag, w);
	snapshot(s);
	long r = pm_access(p->t, (uint64_t)(SLOT_VA(slot) + pg * PG), w, PG, PM_WRITE, NULL);
	reap_killed(s);	/* the fault may have killed this process or another one */
	if (!alive(s, p))
		return 0;
	if (r == PG)
		p->tag[slot][pg] = tag;
	else
		check_failed(__FILE__, __LINE__, "step %ld: write to pid %d slot %d page %ld = %ld",
			     s->steps, p->pid, slot, pg, r);
	return r == PG;
}

static void check_page(struct stress *s, struct sproc *p, int slot, long pg)
{
	static uint64_t want[PG / 8], got[PG / 8];
	pattern(p->tag[slot][pg], want);
	snapshot(s);
	long r = pm_access(p->t, (uint64_t)(SLOT_VA(slot) + pg * PG), got, PG, PM_READ, NULL);
	reap_killed(s);	/* a swap-in may need a frame, and so the OOM killer */
	if (!alive(s, p))
		return;
	s->reads++;
	if (r != PG || memcmp(want, got, PG))
		check_failed(__FILE__, __LINE__, "step %ld: pid %d slot %d page %ld: read %ld, "
			     "word 0 %#llx, want tag %u", s->steps, p->pid, slot, pg, r,
			     (unsigned long long)got[0], p->tag[slot][pg]);
}

static void op_touch(struct stress *s, struct sproc *p)
{
	int slot = (int)below(s, NSLOT);
	long start = below(s, SLOT_PAGES / 2), n = 1 + below(s, 1024);
	int merge = below(s, 4) == 0;
	for (long i = start; i < start + n && i < SLOT_PAGES; i++) {
		if (p->prot[slot][i] != P_RW)
			continue;
		uint32_t tag = merge ? 1 + (uint32_t)below(s, MERGE_TAGS) : s->next_tag++;
		if (!write_page(s, p, slot, i, tag))
			return;
	}
}

static void op_read(struct stress *s, struct sproc *p)
{
	int slot = (int)below(s, NSLOT);
	for (int k = 0; k < 16 && alive(s, p); k++) {
		long i = below(s, SLOT_PAGES);
		if (p->prot[slot][i] != P_NONE)
			check_page(s, p, slot, i);
	}
}

/* A new mapping over a slot; mostly only when the slot is nearly empty, so memory
 * builds up instead of being thrown away. */
static void op_mmap(struct stress *s, struct sproc *p)
{
	int slot = (int)below(s, NSLOT);
	long n = 512 + below(s, SLOT_PAGES - 512), used = 0;
	for (long i = 0; i < SLOT_PAGES; i++)
		used += p->prot[slot][i] != P_NONE;
	if (used > SLOT_PAGES / 4 && below(s, 4)) {
		op_touch(s, p);
		return;
	}
	EXPECT_EQ(do_mmap(p->t, SLOT_VA(slot), n * PG, RW, ANON | MAP_FIXED), SLOT_VA(slot));
	for (long i = 0; i < SLOT_PAGES; i++) {
		if (i < n) {
			p->prot[slot][i] = P_RW;
			p->tag[slot][i] = 0;
		}
	}
	if (below(s, 4))
		EXPECT_EQ(SC(p->t, SYS_madvise, SLOT_VA(slot), n * PG, MADV_MERGEABLE, 0, 0, 0), 0);
}

/* A random page range of a slot: [*a, *b), at most max pages. */
static void range_max(struct stress *s, long *a, long *b, long max)
{
	*a = below(s, SLOT_PAGES);
	*b = *a + 1 + below(s, SLOT_PAGES - *a < max ? SLOT_PAGES - *a : max);
}

static void range(struct stress *s, long *a, long *b)
{
	range_max(s, a, b, SLOT_PAGES);
}

static void op_munmap(struct stress *s, struct sproc *p)
{
	int slot = (int)below(s, NSLOT);
	long a, b;
	range_max(s, &a, &b, 256);	/* small cuts: memory builds up toward reclaim */
	EXPECT_EQ(SC(p->t, SYS_munmap, SLOT_VA(slot) + a * PG, (b - a) * PG, 0, 0, 0, 0), 0);
	for (long i = a; i < b; i++)
		p->prot[slot][i] = P_NONE;
}

static void op_mprotect(struct stress *s, struct sproc *p)
{
	int slot = (int)below(s, NSLOT);
	long a, b;
	range(s, &a, &b);
	int ro = below(s, 2) == 0;
	long r = SC(p->t, SYS_mprotect, SLOT_VA(slot) + a * PG, (b - a) * PG,
		    ro ? PROT_READ : RW, 0, 0, 0);
	int holes = 0;
	for (long i = a; i < b; i++)
		holes |= p->prot[slot][i] == P_NONE;
	if (holes) {
		EXPECT_ERRNO(r, -ENOMEM);	/* Linux changes the part before the hole */
		for (long i = a; i < b && p->prot[slot][i] != P_NONE; i++)
			p->prot[slot][i] = ro ? P_R : P_RW;
		return;
	}
	EXPECT_EQ(r, 0);
	for (long i = a; i < b; i++)
		p->prot[slot][i] = ro ? P_R : P_RW;
}

static void op_pageout(struct stress *s, struct sproc *p)
{
	int slot = (int)below(s, NSLOT);
	long a, b;
	range(s, &a, &b);
	long r = SC(p->t, SYS_madvise, SLOT_VA(slot) + a * PG, (b - a) * PG, MADV_PAGEOUT, 0, 0, 0);
	EXPECT_TRUE(r == 0 || r == -ENOMEM);	/* ENOMEM: the range has holes */
}

/* MADV_DONTNEED: mapped pages of the range read zero afterwards; Linux applies the
 * advice to every VMA in the range and reports a hole with ENOMEM. */
static void op_dontneed(struct stress *s, struct sproc *p)
{
	int slot = (int)below(s, NSLOT);
	long a, b;
	range_max(s, &a, &b, 256);
	long r = SC(p->t, SYS_madvise, SLOT_VA(slot) + a * PG, (b - a) * PG, MADV_DONTNEED, 0, 0, 0);
	int holes = 0;
	for (long i = a; i < b; i++) {
		holes |= p->prot[slot][i] == P_NONE;
		p->tag[slot][i] = 0;
	}
	EXPECT_EQ(r, holes ? -ENOMEM : 0);
}

/* mremap of one page (always inside one VMA) to a page of another slot where nothing
 * is mapped: the page keeps its bytes (merged, swapped or not). */
static void op_mremap(struct stress *s, struct sproc *p)
{
	int from = (int)below(s, NSLOT), to = (int)below(s, NSLOT);
	long i = below(s, SLOT_PAGES), j = below(s, SLOT_PAGES);
	while (j < SLOT_PAGES && p->prot[to][j] != P_NONE)
		j++;
	if (from == to || p->prot[from][i] == P_NONE || j == SLOT_PAGES)
		return;
	snapshot(s);
	long r = SC(p->t, SYS_mremap, SLOT_VA(from) + i * PG, PG, PG,
		    MREMAP_MAYMOVE | MREMAP_FIXED, SLOT_VA(to) + j * PG, 0);
	reap_killed(s);
	if (!alive(s, p))
		return;
	EXPECT_EQ(r, SLOT_VA(to) + j * PG);
	s->moves++;
	p->prot[to][j] = p->prot[from][i];
	p->tag[to][j] = p->tag[from][i];
	p->prot[from][i] = P_NONE;
	check_page(s, p, to, j);
}

static void op_fork(struct stress *s, struct sproc *p)
{
	int free_i = -1;
	for (int i = 0; i < NPROC && free_i < 0; i++)
		if (!s->p[i])
			free_i = i;
	if (free_i < 0)
		return;
	snapshot(s);
	long pid = SC(p->t, SYS_fork, 0, 0, 0, 0, 0, 0);
	reap_killed(s);
	if (pid < 0) {
		EXPECT_TRUE(!alive(s, p) || pid == -ENOMEM);
		return;
	}
	struct sproc *c = malloc(sizeof(*c));
	memcpy(c, p, sizeof(*c));
	c->t = pm_thread_of(s->e.sys, (int)pid);
	c->pid = (int)pid;
	EXPECT_TRUE(c->t != NULL);
	s->p[free_i] = c;
}

static void op_exit(struct stress *s, struct sproc *p)
{
	int live = 0;
	for (int i = 0; i < NPROC; i++)
		live += s->p[i] != NULL;
	if (live < NPROC)
		return;		/* exits only make room for forks: memory builds up */
	EXPECT_EQ(SC(p->t, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
	for (int i = 0; i < NPROC; i++)
		if (s->p[i] == p)
			s->p[i] = NULL;
	free(p);
}

static void step(struct stress *s)
{
	struct sproc *p = pick(s);
	long r = below(s, 100);
	snapshot(s);	/* ops that fault page by page take their own snapshots */
	if (r < 45)
		op_touch(s, p);
	else if (r < 53)
		op_read(s, p);
	else if (r < 57)
		op_mremap(s, p);
	else if (r < 65)
		op_mmap(s, p);
	else if (r < 69)
		op_munmap(s, p);
	else if (r < 77)
		op_mprotect(s, p);
	else if (r < 79)
		op_pageout(s, p);
	else if (r < 81)
		op_dontneed(s, p);
	else if (r < 97)
		op_fork(s, p);
	else
		op_exit(s, p);
	reap_killed(s);
	pm_system_tick(s->e.sys, below(s, 10) ? 1 : 25);
	if (pm_check_invariants(s->e.sys))
		check_failed(__FILE__, __LINE__, "invariants broken after step %ld (op %ld)",
			     s->steps, r);
	if (getenv("STRESS_TRACE") && s->steps % 50 == 0) {
		pm_sysinfo info;
		pm_system_info(s->e.sys, &info);
		int live = 0;
		for (int i = 0; i < NPROC; i++) live += s->p[i] != NULL;
		fprintf(stderr, "step %ld live %d free %lu swapfree %ld sharing %ld\n", s->steps, live, (unsigned long)info.free_frames, sys_num(s->admin, "meminfo", "SwapFree:"), ksm_num(s->admin, "pages_sharing"));
	}
	long sharing = ksm_num(s->admin, "pages_sharing");
	s->max_sharing = sharing > s->max_sharing ? sharing : s->max_sharing;
	s->steps++;
}

/* The OOM phase: the first live process maps far more than is left and touches unique
 * pages, with oom_score snapshots before each, until the killer has taken someone. */
static void oom_phase(struct stress *s)
{
	struct sproc *p = pick(s);
	const long va = 0x600000000000L, pages = 120 * MiB / PG;	/* < RAM + swap (mode 0) */
	long kills0 = s->kills;
	REQUIRE_EQ(do_mmap(p->t, va, pages * PG, RW, ANON | MAP_FIXED), va);
	static uint64_t w[PG / 8];
	for (long i = 0; i < pages && s->kills == kills0; i++) {
		pattern(s->next_tag++, w);
		snapshot(s);
		long r = pm_access(p->t, (uint64_t)(va + i * PG), w, PG, PM_WRITE, NULL);
		if (reap_killed(s) == 0 && r != PG)
			check_failed(__FILE__, __LINE__, "OOM phase write %ld = %ld", i, r);
	}
	EXPECT_EQ(s->kills, kills0 + 1);
	EXPECT_TRUE(sys_num(s->admin, "vmstat", "oom_kill ") >= 1);
}

static void run_stress(uint64_t seed, long nsteps, int thp_always)
{
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 * MiB;
	cfg.swap_bytes = 64 * MiB;
	cfg.seed = seed;
	struct stress *s = calloc(1, sizeof(*s));
	s->e = env_open_cfg(&cfg);
	s->rng = seed * 0x2545f4914f6cdd1dULL + 1;
	s->next_tag = MERGE_TAGS + 1;
	int err = 0;
	pm_token *st = pm_token_parse(s->e.sys, "system", &err);
	s->admin = pm_spawn(s->e.sys, st, NULL);
	pm_token_put(st);
	EXPECT_EQ(pm_registry_set(s->admin, "KsmPagesToScan", 400), 0);
	EXPECT_EQ(pm_registry_set(s->admin, "KsmSleepMillisecs", 2), 0);
	EXPECT_EQ(pm_registry_set(s->admin, "KsmRun", 1), 0);
	if (thp_always)	/* every 2 MiB block of the 8 MiB slots faults huge (docs/thp.md) */
		EXPECT_EQ(pm_registry_set(s->admin, "ThpEnabled", 0), 0);
	/* The ballast: 32 MiB of distinct pages written first, so they are the coldest and
	 * the random phase runs into LRU reclaim; checked at the end like the rest. */
	struct sproc *b = calloc(1, sizeof(*b));
	b->t = pm_spawn(s->e.sys, s->e.tok, NULL);
	b->pid = pm_pid(b->t);
	s->p[NPROC] = b;
	for (int slot = 0; slot < NSLOT; slot++) {
		EXPECT_EQ(do_mmap(b->t, SLOT_VA(slot), SLOT_PAGES * PG, RW, ANON | MAP_FIXED),
			  SLOT_VA(slot));
		memset(b->prot[slot], P_RW, SLOT_PAGES);
		for (long i = 0; i < SLOT_PAGES && s->p[NPROC]; i++)
			write_page(s, b, slot, i, s->next_tag++);
	}
	for (int i = 0; i < 3; i++) {
		s->p[i] = calloc(1, sizeof(struct sproc));
		s->p[i]->t = i ? pm_spawn(s->e.sys, s->e.tok, NULL) : s->e.t;
		s->p[i]->pid = pm_pid(s->p[i]->t);
		for (int slot = 0; slot < NSLOT; slot++)
			op_mmap(s, s->p[i]);
		for (int k = 0; k < 12 && s->p[i]; k++)	/* a head start toward the watermarks */
			op_touch(s, s->p[i]);
	}
	while (s->steps < nsteps)
		step(s);
	for (int i = 0; i <= NPROC; i++)		/* everything still reads back */
		for (int slot = 0; s->p[i] && slot < NSLOT; slot++)
			for (long pg = 0; s->p[i] && pg < SLOT_PAGES; pg += 7)
				if (s->p[i]->prot[slot][pg] != P_NONE)
					check_page(s, s->p[i], slot, pg);
	EXPECT_TRUE(sys_num(s->admin, "vmstat", "pswpout ") > 0);
	EXPECT_TRUE(sys_num(s->admin, "vmstat", "pswpin ") > 0);
	EXPECT_TRUE(s->max_sharing > 0);
	long lru_steal = sys_num(s->admin, "vmstat", "pgsteal_kswapd ") +
			 sys_num(s->admin, "vmstat", "pgsteal_direct ");
	EXPECT_TRUE(lru_steal > 0);	/* the random phase itself ran into reclaim */
	if (thp_always)
		EXPECT_TRUE(sys_num(s->admin, "vmstat", "thp_fault_alloc ") > 0 &&
			    sys_num(s->admin, "vmstat", "thp_split_pmd ") > 0);
	long random_kills = s->kills;
	oom_phase(s);
	EXPECT_EQ(pm_check_invariants(s->e.sys), 0);
	printf("stress seed %lu: %ld steps, %ld reads, %ld page moves, %ld OOM kills in the "
	       "random phase, %ld frames reclaimed by the LRU before the OOM phase, pswpout %ld, "
	       "max pages_sharing %ld\n", (unsigned long)seed, s->steps, s->reads, s->moves,
	       random_kills, lru_steal, sys_num(s->admin, "vmstat", "pswpout "), s->max_sharing);
	for (int i = 0; i <= NPROC; i++)
		if (s->p[i]) {
			EXPECT_EQ(SC(s->p[i]->t, SYS_exit_group, 0, 0, 0, 0, 0, 0), 0);
			free(s->p[i]);
		}
	for (int i = 0; i < s->ndead; i++)
		free(s->dead[i]);
	pm_system_tick(s->e.sys, 30);
	EXPECT_EQ(sys_num(s->admin, "meminfo", "SwapFree:"), sys_num(s->admin, "meminfo", "SwapTotal:"));
	EXPECT_EQ(ksm_num(s->admin, "pages_shared"), 0);
	EXPECT_EQ(ksm_num(s->admin, "pages_sharing"), 0);
	env_close(&s->e);	/* invariants, and every frame back */
	free(s);
}

TEST(stress_64mib_swap_ksm_random_ops_and_oom_victim)
{
	run_stress(1, 600, 0);
}

/* The same with ThpEnabled=always: huge pages fault in, split under every partial
 * operation, KSM and reclaim, and khugepaged collapses them back between steps. */
TEST(stress_64mib_swap_ksm_random_ops_with_thp_always)
{
	run_stress(7, 600, 1);
}

SLOW_TEST(stress_64mib_swap_ksm_long_run)
{
	for (uint64_t seed = 2; seed < 6; seed++)
		run_stress(seed, 3000, seed & 1);
}
