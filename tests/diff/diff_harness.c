/*
 * The differential harness: generator, host runner (forked child, raw syscalls, records
 * sent through a pipe), peimm runner (a fresh system per sequence), comparator, the table
 * of deliberate differences, and the delta-debugging shrinker. Everything a call touches
 * lies in a 64-page window at a fixed high address that is free on both sides, so the
 * layouts of the two address spaces never matter.
 */
#include "diff_harness.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pm_test.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif

#define WIN_BASE	DIFF_WIN_BASE
#define WIN_BYTES	((uint64_t)DIFF_WIN_PAGES * PG)
#define TWO_GIB		0x80000000UL

/* ---- names, for reports ---- */

struct bitname { long bit; const char *name; };

static const struct bitname prot_names[] = {
	{ PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" }, { PROT_EXEC, "PROT_EXEC" },
	{ PROT_SEM, "PROT_SEM" }, { PROT_GROWSDOWN, "PROT_GROWSDOWN" },
	{ PROT_GROWSUP, "PROT_GROWSUP" }, { 0, NULL },
};
static const struct bitname flag_names[] = {
	{ MAP_SHARED, "MAP_SHARED" }, { MAP_PRIVATE, "MAP_PRIVATE" }, { 0x08, "MAP_DROPPABLE" },
	{ MAP_FIXED, "MAP_FIXED" }, { MAP_ANONYMOUS, "MAP_ANONYMOUS" },
	{ MAP_32BIT, "MAP_32BIT" }, { MAP_GROWSDOWN, "MAP_GROWSDOWN" },
	{ MAP_DENYWRITE, "MAP_DENYWRITE" }, { MAP_EXECUTABLE, "MAP_EXECUTABLE" },
	{ MAP_LOCKED, "MAP_LOCKED" }, { MAP_NORESERVE, "MAP_NORESERVE" },
	{ MAP_POPULATE, "MAP_POPULATE" }, { MAP_NONBLOCK, "MAP_NONBLOCK" },
	{ MAP_STACK, "MAP_STACK" }, { MAP_SYNC, "MAP_SYNC" },
	{ MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
	{ MAP_UNINITIALIZED, "MAP_UNINITIALIZED" }, { 0, NULL },
};
static const char *const advice_names[] = {
	[MADV_NORMAL] = "MADV_NORMAL", [MADV_RANDOM] = "MADV_RANDOM",
	[MADV_SEQUENTIAL] = "MADV_SEQUENTIAL", [MADV_WILLNEED] = "MADV_WILLNEED",
	[MADV_DONTNEED] = "MADV_DONTNEED", [MADV_FREE] = "MADV_FREE",
	[MADV_REMOVE] = "MADV_REMOVE", [MADV_DONTFORK] = "MADV_DONTFORK",
	[MADV_DOFORK] = "MADV_DOFORK", [MADV_MERGEABLE] = "MADV_MERGEABLE",
	[MADV_UNMERGEABLE] = "MADV_UNMERGEABLE", [MADV_HUGEPAGE] = "MADV_HUGEPAGE",
	[MADV_NOHUGEPAGE] = "MADV_NOHUGEPAGE", [MADV_DONTDUMP] = "MADV_DONTDUMP",
	[MADV_DODUMP] = "MADV_DODUMP", [MADV_WIPEONFORK] = "MADV_WIPEONFORK",
	[MADV_KEEPONFORK] = "MADV_KEEPONFORK", [MADV_COLD] = "MADV_COLD",
	[MADV_PAGEOUT] = "MADV_PAGEOUT", [MADV_POPULATE_READ] = "MADV_POPULATE_READ",
	[MADV_POPULATE_WRITE] = "MADV_POPULATE_WRITE",
	[MADV_DONTNEED_LOCKED] = "MADV_DONTNEED_LOCKED", [MADV_COLLAPSE] = "MADV_COLLAPSE",
};

static void bits_str(long v, const struct bitname *t, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; t[i].name; i++) {
		if ((v & t[i].bit) == t[i].bit && t[i].bit) {
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "",
					      t[i].name);
			v &= ~t[i].bit;
		}
	}
	if (v || n == 0)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%#lx", n ? "|" : "", v);
}

static const char *advice_str(long a, char *buf, size_t len)
{
	if (a >= 0 && a < (long)(sizeof(advice_names) / sizeof(advice_names[0])) &&
	    advice_names[a])
		return advice_names[a];
	const char *n = a == MADV_HWPOISON ? "MADV_HWPOISON" : a == MADV_SOFT_OFFLINE ?
			"MADV_SOFT_OFFLINE" : a == MADV_GUARD_INSTALL ? "MADV_GUARD_INSTALL" :
			a == MADV_GUARD_REMOVE ? "MADV_GUARD_REMOVE" : NULL;
	if (n)
		return n;
	snprintf(buf, len, "%#lx", a);
	return buf;
}

/* snprintf for a report line that may be cut short on purpose (long flag lists): going
 * through vsnprintf keeps GCC's -Wformat-truncation, on in Release builds, quiet about
 * the intended cut while the format attribute still checks the arguments. */
__attribute__((format(printf, 3, 4)))
static void report_line(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void diff_format_call(const struct diff_call *c, char *buf, size_t len)
{
	char p[160], f[320], a[32];
	const char *pre = c->pm_only ? "[peimm only] " : "";
	switch (c->op) {
	case D_MMAP:
		bits_str(c->prot, prot_names, p, sizeof(p));
		bits_str(c->flags, flag_names, f, sizeof(f));
		report_line(buf, len, "%smmap(W+%#lx, %#lx, %s, %s, %s%s, %#lx)", pre,
			    (unsigned long)c->off, (unsigned long)c->len, p, f,
			    c->fd ? diff_file_name(diff_fd_file(c->fd)) : "-1",
			    !c->fd ? "" : diff_fd_rw(c->fd) ? " (rw)" : " (ro)", c->pgoff);
		break;
	case D_MUNMAP:
		snprintf(buf, len, "%smunmap(W+%#lx, %#lx)", pre, (unsigned long)c->off,
			 (unsigned long)c->len);
		break;
	case D_MPROTECT:
		bits_str(c->prot, prot_names, p, sizeof(p));
		snprintf(buf, len, "%smprotect(W+%#lx, %#lx, %s)", pre, (unsigned long)c->off,
			 (unsigned long)c->len, c->prot ? p : "PROT_NONE");
		break;
	case D_MADVISE:
		snprintf(buf, len, "%smadvise(W+%#lx, %#lx, %s)", pre, (unsigned long)c->off,
			 (unsigned long)c->len, advice_str(c->advice, a, sizeof(a)));
		break;
	case D_WRITE:
		snprintf(buf, len, "%swrite 8 bytes %#x.. at W+%#lx", pre, c->val,
			 (unsigned long)c->off);
		break;
	case D_READ:
		snprintf(buf, len, "%sread page at W+%#lx", pre, (unsigned long)c->off);
		break;
	default:
		if (!diff_format_ext(c, buf, len))
			snprintf(buf, len, "?op %d", c->op);
	}
}

static const char *rec_result_str(const struct diff_rec *r, char *buf, size_t len)
{
	char v[64];
	switch (r->rkind) {
	case R_VAL: snprintf(buf, len, "%s", val_str(r->rval, v)); break;
	case R_ERR: snprintf(buf, len, "%s", val_str(r->rval, v)); break;
	case R_WIN: snprintf(buf, len, "W+%#lx", r->rval); break;
	case R_ELSEWHERE: snprintf(buf, len, "an address outside the window"); break;
	case R_ELSEWHERE32: snprintf(buf, len, "an address below 2 GiB"); break;
	case R_SIG:
		snprintf(buf, len, "%s code %d at W+%#lx", r->signo == SIGSEGV ? "SIGSEGV" :
			 r->signo == SIGBUS ? "SIGBUS" : "signal", r->code, r->fault_off);
		break;
	case R_DECLARED: snprintf(buf, len, "not run (declared difference %ld)", r->rval); break;
	default: snprintf(buf, len, "?"); break;
	}
	return buf;
}

/* ---- the table of deliberate differences ---- */

static int is_mmap_with(const struct diff_call *c, long flag)
{
	return c->op == D_MMAP && (c->flags & flag);
}

static int dd_min_addr(const struct diff_call *c, const struct diff_caps *caps,
			const struct diff_state *st)
{
	return (c->op == D_MMAP || c->op == D_MPROTECT) && WIN_BASE + c->off < 65536;
}

static int dd_uninit(const struct diff_call *c, const struct diff_caps *caps,
			const struct diff_state *st)
{
	return is_mmap_with(c, MAP_UNINITIALIZED);
}

static int dd_wx(const struct diff_call *c, const struct diff_caps *caps,
			const struct diff_state *st)
{
	return caps->avoid_exec && (c->op == D_MMAP || c->op == D_MPROTECT) &&
	       (c->prot & PROT_EXEC);
}

static int dd_poison(const struct diff_call *c, const struct diff_caps *caps,
			const struct diff_state *st)
{
	return c->op == D_MADVISE && ((int)c->advice == MADV_HWPOISON ||
				      (int)c->advice == MADV_SOFT_OFFLINE);
}

static int dd_never(const struct diff_call *c, const struct diff_caps *caps,
			const struct diff_state *st)
{
	return 0;
}

/* c's page range lies in the window, has no hole and meets a page sealed by an earlier
 * call, as st (NULL: the generator, which cannot know) says. */
static int meets_sealed(const struct diff_call *c, const struct diff_state *st)
{
	int sealed = 0;
	if (!st || c->off % PG || !c->len || c->len > WIN_BYTES || c->off + c->len > WIN_BYTES)
		return 0;
	/* Holes do not matter: peimm refuses a discard that meets a seal anywhere in its
	 * range, before the walk that would report the hole (SPEC §9). */
	for (uint64_t p = c->off / PG; p < (c->off + c->len + PG - 1) / PG; p++)
		sealed |= st->sealed[p];
	return sealed;
}

static int dd_seal_discard(const struct diff_call *c, const struct diff_caps *caps,
			   const struct diff_state *st)
{
	return c->op == D_MADVISE && (c->advice == MADV_DONTNEED ||
				      c->advice == MADV_DONTNEED_LOCKED ||
				      c->advice == MADV_WIPEONFORK || c->advice == MADV_FREE ||
				      c->advice == MADV_REMOVE) && meets_sealed(c, st);
}

static int one_vma(const struct diff_state *st, uint64_t first, uint64_t end);

static int dd_seal_mprotect(const struct diff_call *c, const struct diff_caps *caps,
			    const struct diff_state *st)
{
	/* Only an otherwise valid mprotect (bad prot bits are EINVAL first on both sides),
	 * whose walk reaches a sealed page before any hole (a hole ends it with ENOMEM). */
	if (!st || c->op != D_MPROTECT ||
	    (c->prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN)))
		return 0;
	if (c->off % PG || !c->len || c->off + c->len > WIN_BYTES)
		return 0;
	uint64_t first = c->off / PG, end = (c->off + c->len + PG - 1) / PG;
	if (c->prot & PROT_GROWSDOWN) {
		/* The walk starts at the first VMA meeting the range, from that VMA's start,
		 * which must grow down (else EINVAL on both sides). */
		while (first < end && st->mincore[first] == '.')
			first++;
		if (first == end || !st->growsdown[first])
			return 0;
		while (first > 0 && st->growsdown[first - 1] && one_vma(st, first - 1, first + 1))
			first--;
	}
	for (uint64_t p = first; p < end; p++) {
		if (st->mincore[p] == '.')
			return 0;
		if (st->sealed[p])
			return 1;
	}
	return 0;
}

/* An otherwise valid shrink in place whose cut-off tail meets a sealed page: peimm refuses
 * before any change (SPEC §9), Linux unmaps VMA by VMA and may split first. Every other
 * mremap meeting a seal answers alike: EPERM when the VMA at the source is sealed, EFAULT
 * when a move or growth would cross into another VMA (check_prep_vma). */

/* Is page p of the window in a MAP_SHARED VMA (maps permissions "...s")? */
static int shared_vma_at(const struct diff_state *st, uint64_t p)
{
	for (const char *l = st->maps; *l;) {
		unsigned long s, e;
		char perms[5];
		if (sscanf(l, "%lx-%lx %4s", &s, &e, perms) == 3 && s <= p && p < e)
			return perms[3] == 's';
		l = strchr(l, '\n');
		if (!l)
			break;
		l++;
	}
	return 0;
}

/* A valid MREMAP_FIXED move whose target meets a sealed page: both sides refuse with
 * EPERM, but Linux's unmap of the target may split a VMA before it reaches the seal. */
static int seal_meets_mremap_target(const struct diff_call *c, const struct diff_state *st)
{
	uint64_t keep = c->len < c->new_len ? c->len : c->new_len;
	if (c->op != D_MREMAP || !(c->flags & MREMAP_FIXED) || !(c->flags & MREMAP_MAYMOVE) ||
	    (c->flags & ~(long)(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) ||
	    c->off % PG || c->new_off % PG || !c->new_len || c->off + c->len > WIN_BYTES ||
	    c->new_off + c->new_len > WIN_BYTES ||
	    (c->off < c->new_off + c->new_len && c->new_off < c->off + c->len))
		return 0;
	if ((c->flags & MREMAP_DONTUNMAP) && (c->len + PG - 1) / PG != (c->new_len + PG - 1) / PG)
		return 0;
	if (!c->len) {
		/* old_len 0 duplicates a shared mapping: the source need only be an unsealed
		 * VM_SHARED VMA (a private one is EINVAL first on both sides). */
		if (st->sealed[c->off / PG] || !shared_vma_at(st, c->off / PG))
			return 0;
	} else if (!keep || st->sealed[c->off / PG] ||
		   !one_vma(st, c->off / PG, (c->off + keep + PG - 1) / PG)) {
		return 0;	/* the source is refused first (EFAULT or EPERM) on both sides */
	}
	for (uint64_t p = c->new_off / PG; p < (c->new_off + c->new_len + PG - 1) / PG; p++)
		if (st->sealed[p])
			return 1;
	/* A shrinking move whose cut-off tail meets a seal: Linux unmaps the target first. */
	for (uint64_t p = (c->off + c->new_len + PG - 1) / PG; p < (c->off + c->len + PG - 1) / PG; p++)
		if (c->new_len < c->len && st->sealed[p])
			return 1;
	return 0;
}

static int seal_meets_mremap(const struct diff_call *c, const struct diff_state *st)
{
	if (seal_meets_mremap_target(c, st))
		return 1;
	if (c->op != D_MREMAP || (c->flags & ~(long)MREMAP_MAYMOVE) || c->off % PG ||
	    !c->new_len || c->new_len >= c->len || c->off + c->len > WIN_BYTES)
		return 0;
	if (st->mincore[c->off / PG] == '.' || st->sealed[c->off / PG])
		return 0;	/* EFAULT, or EPERM, first on both sides */
	uint64_t tail = (c->off + c->new_len + PG - 1) / PG;
	for (uint64_t p = tail; p < (c->off + c->len + PG - 1) / PG; p++)
		if (st->sealed[p])
			return 1;
	return 0;
}

static int dd_seal_unmap(const struct diff_call *c, const struct diff_caps *caps,
			 const struct diff_state *st)
{
	if (st && seal_meets_mremap(c, st))
		return 1;
	if (!st || !(c->op == D_MUNMAP || (c->op == D_MMAP && (c->flags & MAP_FIXED))))
		return 0;
	/* Only calls that are otherwise valid, so the seal is what refuses them. */
	if (c->off % PG || !c->len || c->off + c->len > WIN_BYTES)
		return 0;
	uint64_t type = c->flags & MAP_TYPE;
	/* A file mapping may be MAP_SHARED_VALIDATE (the other flags the generator adds are
	 * legacy ones); an anonymous one may not (EINVAL first). */
	if (type == MAP_SHARED_VALIDATE && c->fd && !(c->flags & (MAP_ANONYMOUS | MAP_SYNC)))
		type = MAP_SHARED;
	if (c->op == D_MMAP && ((type != MAP_SHARED && type != MAP_PRIVATE && type != 0x08) ||
				(c->flags & (MAP_UNINITIALIZED | MAP_FIXED_NOREPLACE)) ||
				(type == MAP_SHARED && (c->flags & MAP_GROWSDOWN)) ||
				(type == 0x08 && (c->fd || (c->flags & (MAP_GROWSDOWN | MAP_LOCKED))))))
		return 0;	/* EINVAL first on both sides (shared GROWSDOWN is refused, and a
			 * droppable file, stack or locked mapping) */
	if (c->op == D_MMAP && c->pgoff % PG)
		return 0;	/* a misaligned offset is EINVAL first, anonymous or not */
	if (c->op == D_MMAP && c->fd && type == MAP_SHARED && (c->prot & PROT_WRITE) &&
	    !diff_fd_rw(c->fd))
		return 0;	/* EACCES first on both sides: a shared write needs an O_RDWR fd */
	uint64_t end = c->off + c->len;
	for (uint64_t p = c->off / PG; p < (end + PG - 1) / PG; p++)
		if (st->sealed[p])
			return 1;	/* holes do not matter: any sealed page refuses the call */
	return 0;
}

/* Whether one maps line of st covers window pages [first, end). */
static int one_vma(const struct diff_state *st, uint64_t first, uint64_t end)
{
	for (const char *p = st->maps; *p;) {
		unsigned long s, e;
		if (sscanf(p, "%lx-%lx", &s, &e) == 2 && s <= first && end <= e)
			return 1;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return 0;
}

/* Linux 6.17+ moves every VMA of [old, old + len) with MREMAP_FIXED when the size stays
 * (gaps allowed); the source must start in a VMA and the ranges must not overlap. */
static int dd_mremap_multi(const struct diff_call *c, const struct diff_caps *caps,
			   const struct diff_state *st)
{
	uint64_t len = (c->len + PG - 1) & ~(uint64_t)(PG - 1);
	uint64_t nlen = (c->new_len + PG - 1) & ~(uint64_t)(PG - 1);
	if (!st || c->op != D_MREMAP || !(c->flags & MREMAP_FIXED) || !(c->flags & MREMAP_MAYMOVE) ||
	    (c->flags & ~(long)(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) || !len ||
	    len != nlen || c->off % PG || c->new_off % PG || c->off + len > WIN_BYTES ||
	    c->new_off + len > WIN_BYTES)
		return 0;
	if (c->off < c->new_off + len && c->new_off < c->off + len)
		return 0;
	if (st->sealed[c->off / PG])
		return 0;	/* a sealed first VMA is EPERM on both sides */
	return st->mincore[c->off / PG] != '.' && !one_vma(st, c->off / PG, (c->off + len) / PG);
}

const struct diff_difference diff_differences[] = {
	{ "mmap_min_addr is 65536 in peimm, 4096 on the host: MAP_FIXED below 64 KiB is EPERM",
	  "SPEC §13, §5 (MAP_FIXED)", DD_UNREACHED, -EPERM, dd_min_addr },
	{ "MAP_UNINITIALIZED is EINVAL on a default (non-embedded) system; Linux ignores it",
	  "SPEC §5, §13", DD_ACCEPT, -EINVAL, dd_uninit },
	{ "W^X: PROT_WRITE|PROT_EXEC, and adding X to ever-writable (or W to ever-executable) "
	  "memory, is EACCES in peimm. The peimm side opts in with prctl(PR_SET_DYNAMIC_CODE_"
	  "POLICY, 1); only if that fails while W^X is enforced does the generator drop PROT_EXEC",
	  "SPEC §4, §13", DD_AVOID, -EACCES, dd_wx },
	{ "MADV_HWPOISON / MADV_SOFT_OFFLINE need SeTcbPrivilege in peimm (CAP_SYS_ADMIN on "
	  "Linux): EPERM for the unprivileged peimm process, while the host child is root. Never "
	  "run on the host: it would poison real RAM",
	  "SPEC §6, §13 (privileges)", DD_AVOID, -EPERM, dd_poison },
	{ "Privileges replace capabilities: the host child runs as root (CAP_IPC_LOCK, "
	  "CAP_SYS_RAWIO); peimm's process holds SeLockMemoryPrivilege (enabled), so neither side "
	  "has a locked-memory quota, and nothing maps below mmap_min_addr",
	  "SPEC §13", DD_UNREACHED, 0, dd_never },
	{ "ASLR modes and entropy differ; every placement here is MAP_FIXED(_NOREPLACE) or a "
	  "hint in the window, and a hint that is refused is only compared as 'elsewhere'",
	  "SPEC §2, §13", DD_UNREACHED, 0, dd_never },
	{ "mode-0 overcommit charges at first touch; not observable with window-sized mappings",
	  "SPEC §8, §13", DD_UNREACHED, 0, dd_never },
	{ "mseal: discarding advice (MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_WIPEONFORK, "
	  "MADV_FREE, MADV_REMOVE) on a "
	  "sealed VMA is EPERM in peimm for every VMA; Linux refuses it only for read-only "
	  "private anonymous memory (can_madvise_modify) and discards writable anon, file and "
	  "shared memory. The host does not run such a call; peimm must answer EPERM",
	  "SPEC §9", DD_HOST_SKIP, -EPERM, dd_seal_discard },
	{ "mseal: an mprotect whose range meets a sealed VMA changes nothing in peimm; Linux "
	  "applies it to the VMAs before the first sealed one, then fails. The host does not run "
	  "such a call; peimm must answer EPERM",
	  "SPEC §9", DD_HOST_SKIP, -EPERM, dd_seal_mprotect },
	{ "mseal: a munmap, a MAP_FIXED mmap or an mremap whose range meets a sealed VMA changes "
	  "nothing in peimm; Linux may split the VMAs at the range's edges (or shrink) before it "
	  "finds the seal and leaves that behind. The host does not run such a call; peimm must "
	  "answer EPERM",
	  "SPEC §9", DD_HOST_SKIP, -EPERM, dd_seal_unmap },
	{ "mremap with MREMAP_FIXED and an unchanged size may span several VMAs and gaps on "
	  "Linux 6.17+ (each VMA moves to its offset); peimm follows the earlier rule, one VMA "
	  "only: EFAULT. The host does not run such a call; peimm must answer EFAULT",
	  "SPEC §3 (newer Linux)", DD_HOST_SKIP, -EFAULT, dd_mremap_multi },
	{ "A file's pages may be mapped executable only with the file's execute right, which "
	  "peimm takes from its SD (here from the mode bits); Linux checks only noexec mounts. "
	  "The harness's files are 0755, so both sides allow PROT_EXEC",
	  "SPEC §3 (file rights)", DD_UNREACHED, 0, dd_never },
	{ "mlockall/munlockall are never generated: on the host they would lock the harness "
	  "child's whole address space (with ASan, terabytes of shadow), not just the window. "
	  "The mincore vectors are compared whenever peimm answers mincore (diff_probe_caps)",
	  "harness limit", DD_UNREACHED, 0, dd_never },
};
const int diff_ndifferences = (int)(sizeof(diff_differences) / sizeof(diff_differences[0]));

int diff_declared_at(const struct diff_call *c, const struct diff_caps *caps,
		     const struct diff_state *st)
{
	for (int i = 0; i < diff_ndifferences; i++)
		if (diff_differences[i].applies(c, caps, st))
			return i;
	return -1;
}

const struct diff_difference *diff_declared(const struct diff_call *c,
					    const struct diff_caps *caps)
{
	int i = diff_declared_at(c, caps, NULL);
	return i < 0 ? NULL : &diff_differences[i];
}

/* ---- the generator ---- */

static uint64_t sm_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s, uint64_t n)
{
	return sm_next(s) % n;
}

uint64_t diff_rnd(uint64_t *s, uint64_t n)
{
	return rnd(s, n);
}

static const long prots[] = {
	PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
	PROT_READ | PROT_WRITE, PROT_WRITE, PROT_READ | PROT_EXEC, PROT_EXEC,
	PROT_READ | PROT_WRITE | PROT_EXEC, PROT_READ,
};
static const long flag_advice[] = {
	MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTFORK, MADV_DOFORK,
	MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_DONTDUMP, MADV_DODUMP, MADV_HUGEPAGE,
	MADV_NOHUGEPAGE, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_DONTNEED_LOCKED,
	MADV_FREE, MADV_REMOVE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE,
};
static const long bad_advice[] = { 5, 6, 7, 26, 27, 99, 104, 255, -1 };

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static long pick_prot(uint64_t *s)
{
	return prots[rnd(s, NELEM(prots))];
}

long diff_pick_prot(uint64_t *s)
{
	return pick_prot(s);
}

/* A page range [start, start+pages) inside the window. */
static void pick_range(uint64_t *s, int maxpages, uint64_t *off, uint64_t *len)
{
	uint64_t pages = 1 + rnd(s, (uint64_t)maxpages);
	uint64_t start = rnd(s, DIFF_WIN_PAGES - pages + 1);
	*off = start * PG;
	*len = pages * PG;
}

void diff_pick_range(uint64_t *s, int maxpages, uint64_t *off, uint64_t *len)
{
	pick_range(s, maxpages, off, len);
}

static void gen_mmap(uint64_t *s, struct diff_call *c)
{
	c->op = D_MMAP;
	pick_range(s, 16, &c->off, &c->len);
	if (rnd(s, 8) == 0)
		c->len -= 1 + rnd(s, PG - 1);	/* lengths round up to pages */
	long type = rnd(s, 4) == 0 ? MAP_SHARED : MAP_PRIVATE;
	if (type == MAP_PRIVATE && rnd(s, 12) == 0)
		type = 0x08;	/* MAP_DROPPABLE (Linux 6.11+) */
	uint64_t r = rnd(s, 20);
	long place = r < 9 ? MAP_FIXED : r < 14 ? MAP_FIXED_NOREPLACE : r < 19 ? 0 :
		     MAP_FIXED | MAP_FIXED_NOREPLACE;
	c->flags = type | MAP_ANONYMOUS | place;
	if (rnd(s, 6) == 0)
		c->flags |= MAP_POPULATE;
	if (rnd(s, 6) == 0)
		c->flags |= MAP_NORESERVE;
	if (rnd(s, 10) == 0)
		c->flags |= MAP_STACK;
	if (rnd(s, 10) == 0)
		c->flags |= MAP_GROWSDOWN;
	if (rnd(s, 25) == 0)
		c->flags |= MAP_LOCKED;
	if (rnd(s, 30) == 0)
		c->flags |= MAP_32BIT;
	if (rnd(s, 30) == 0)
		c->flags |= MAP_DENYWRITE | MAP_EXECUTABLE;
	if (rnd(s, 20) == 0)
		c->pgoff = (long)(rnd(s, 16) * PG);	/* ignored for anonymous memory */
	c->prot = pick_prot(s);
}

static void gen_invalid(uint64_t *s, struct diff_call *c)
{
	pick_range(s, 8, &c->off, &c->len);
	c->prot = PROT_READ | PROT_WRITE;
	c->flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	c->op = D_MMAP;
	switch (rnd(s, 21)) {
	case 0: c->len = 0; break;
	case 1: c->off += 1 + rnd(s, PG - 1); break;
	case 2: c->off += 1 + rnd(s, PG - 1);
		c->flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE; break;
	case 3: c->flags = MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED; break;
	case 4: c->flags = MAP_ANONYMOUS | MAP_FIXED; break;
	case 5: c->pgoff = 1 + (long)rnd(s, PG - 1); break;
	case 6: c->flags = MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED | MAP_SYNC; break;
	case 7: c->flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_UNINITIALIZED; break;
	case 8: c->len = (uint64_t)-PG; c->flags = MAP_PRIVATE | MAP_ANONYMOUS; break;
	case 9: c->len = (uint64_t)-1; c->flags = MAP_PRIVATE | MAP_ANONYMOUS; break;
	case 10: c->op = D_MUNMAP; c->len = 0; break;
	case 11: c->op = D_MUNMAP; c->off += 1 + rnd(s, PG - 1); break;
	case 12: c->op = D_MUNMAP; c->len = 1UL << 47; break;
	case 13: c->op = D_MPROTECT; c->off += 1 + rnd(s, PG - 1); break;
	case 14: c->op = D_MPROTECT; c->prot = rnd(s, 2) ? 0x10 : 0x100; break;
	case 15: c->op = D_MPROTECT; c->len = (uint64_t)-16 * PG; break;
	case 16: c->op = D_MPROTECT; c->len = 0; break;
	case 17: c->op = D_MADVISE; c->advice = bad_advice[rnd(s, NELEM(bad_advice))]; break;
	case 18: c->op = D_MADVISE; c->advice = MADV_DONTNEED; c->off += 1 + rnd(s, PG - 1);
		break;
	case 19: c->op = D_MADVISE; c->advice = MADV_DONTNEED; c->len = (uint64_t)-16 * PG;
		break;
	case 20: c->op = D_MADVISE; c->advice = MADV_NORMAL; c->len = 0; break;
	}
}

/* Pages that recent mmaps covered: reads and writes go there more often than not
 * (struct diff_gen). A fifth of the calls are diff_ext.c's. */
static void gen_one(uint64_t *s, const struct diff_caps *caps, struct diff_gen *g,
		    struct diff_call *c)
{
	memset(c, 0, sizeof(*c));
	uint64_t r = rnd(s, 100);
	if (rnd(s, 5) == 0) {
		diff_gen_ext(s, g, c);
	} else if (r < 28) {
		gen_mmap(s, c);
		if (c->len && c->len < WIN_BYTES) {
			g->lo = c->off / PG;
			g->hi = (c->off + c->len + PG - 1) / PG;
		}
	} else if (r < 38) {
		c->op = D_MUNMAP;
		pick_range(s, 20, &c->off, &c->len);
	} else if (r < 52) {
		c->op = D_MPROTECT;
		pick_range(s, 20, &c->off, &c->len);
		c->prot = pick_prot(s);
		if (rnd(s, 20) == 0)
			c->prot |= PROT_GROWSDOWN;
	} else if (r < 64) {
		c->op = D_MADVISE;
		pick_range(s, 20, &c->off, &c->len);
		c->advice = rnd(s, 100) < 45 ? MADV_DONTNEED :
			    flag_advice[rnd(s, NELEM(flag_advice))];
	} else if (r < 95) {
		uint64_t page = (g->hi > g->lo && rnd(s, 10) < 6) ? g->lo + rnd(s, g->hi - g->lo) :
				rnd(s, DIFF_WIN_PAGES);
		if (r < 80) {
			c->op = D_WRITE;
			c->val = (uint8_t)(1 + rnd(s, 255));
			c->off = page * PG + rnd(s, PG - 8);
			g->written[g->nwritten++ % 8] = page;
		} else {
			if (g->nwritten && rnd(s, 10) < 6)
				page = g->written[rnd(s, g->nwritten < 8 ? (uint64_t)g->nwritten : 8)];
			c->op = D_READ;
			c->off = page * PG;
			c->len = PG;
		}
	} else {
		gen_invalid(s, c);
	}
	if (caps->avoid_exec && (c->op == D_MMAP || c->op == D_MPROTECT))
		c->prot &= ~(long)PROT_EXEC;
}

void diff_generate(uint64_t seed, int ncalls, const struct diff_caps *caps, struct diff_seq *s)
{
	uint64_t st = seed * 0x2545f4914f6cdd1dULL + 1;
	struct diff_gen g;
	memset(&g, 0, sizeof(g));
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	if (ncalls > DIFF_MAX_CALLS)
		ncalls = DIFF_MAX_CALLS;
	for (int i = 0; i < ncalls; i++) {
		struct diff_call *c = &s->c[i];
		do {
			gen_one(&st, caps, &g, c);
		} while (diff_declared(c, caps) && diff_declared(c, caps)->how == DD_AVOID);
	}
	s->n = ncalls;
}

/* ---- maps lines, made window-relative ---- */

/* Appends the lines of `text` that meet [base, base + window) to out, relative to base. */
void diff_window_maps(const char *text, uint64_t base, char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = nl ? nl + 1 : p + ll;
		unsigned long s, e, off, ino;
		char perms[8], dev[16];
		int name_at = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &s, &e, perms, &off, dev, &ino,
			   &name_at) < 6)
			continue;
		if (e <= base || s >= base + WIN_BYTES)
			continue;
		int partial = s < base || e > base + WIN_BYTES;
		long rs = (long)(s - base) / PG, re = (long)(e - base) / PG;
		/* Files live in a different directory on each side: keep the last component. */
		const char *name = line + name_at, *slash = strrchr(name, '/');
		if (name[0] == '/' && slash)
			name = slash + 1;
		if (n < outlen)
			n += (size_t)snprintf(out + n, outlen - n, "%s%02lx-%02lx %s %lx %s %s %s\n",
					      partial ? "!" : "", rs, re, perms, off, dev,
					      ino ? "I" : "0", name);
	}
}

static void fnv(uint64_t *h, uint8_t b)
{
	*h = (*h ^ b) * 0x100000001b3ULL;
}

void diff_fnv(uint64_t *h, uint8_t b)
{
	fnv(h, b);
}

/* ---- the host side: a forked child runs the real syscalls ---- */

static sigjmp_buf host_jb;
static volatile sig_atomic_t host_signo, host_code;
static volatile uintptr_t host_addr;

static void host_sig(int sig, siginfo_t *si, void *uc)
{
	host_signo = sig;
	host_code = si->si_code;
	host_addr = (uintptr_t)si->si_addr;
	siglongjmp(host_jb, 1);
}

__attribute__((noinline, no_sanitize("address", "undefined")))
static void host_poke(volatile uint8_t *p, uint8_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v + i);
}

__attribute__((noinline, no_sanitize("address", "undefined")))
static uint64_t host_hash(const volatile uint8_t *p)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < PG; i++)
		fnv(&h, p[i]);
	return h;
}

static long raw(long r)
{
	return r == -1 ? -errno : r;
}

/* VmLck of the status text, in kB, or -1. */
long diff_status_vmlck(const char *text)
{
	const char *p = strstr(text, "VmLck:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

static long host_vmlck(void)
{
	char text[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	return diff_status_vmlck(text);
}

char diff_pagemap_char(uint64_t e, const struct diff_caps *caps)
{
	const uint64_t present = 1ULL << 63, swapped = 1ULL << 62, file = 1ULL << 61,
		       guard = 1ULL << 58, excl = 1ULL << 56, sd = 1ULL << 55;
	e &= ~((1ULL << 55) - 1);		/* the PFN or swap entry */
	if (!caps->host_soft_dirty)
		e &= ~sd;
	int up = (e & sd) != 0;
	e &= ~sd;
	if (e == (swapped | guard))
		return up ? 'G' : 'g';
	if (e == swapped)
		return up ? 'S' : 's';
	if (e & ~(present | file | excl))
		return '?';
	return "0123456789abcdef"[((e & present) ? 1 : 0) | ((e & file) ? 2 : 0) |
				  ((e & excl) ? 4 : 0) | (up ? 8 : 0)];
}

static void host_record_state(uint64_t base, const struct diff_caps *caps, struct diff_rec *r)
{
	static char text[1 << 18];
	size_t n = 0;
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd >= 0) {
		ssize_t k;
		while (n < sizeof(text) - 1 && (k = read(fd, text + n, sizeof(text) - 1 - n)) > 0)
			n += (size_t)k;
		close(fd);
	}
	text[n] = '\0';
	diff_window_maps(text, base, r->maps, sizeof(r->maps));
	n = 0;
	fd = open("/proc/self/smaps", O_RDONLY);
	if (fd >= 0) {
		ssize_t k;
		while (n < sizeof(text) - 1 && (k = read(fd, text + n, sizeof(text) - 1 - n)) > 0)
			n += (size_t)k;
		close(fd);
	}
	text[n] = '\0';
	diff_window_smaps(text, base, r->smaps, sizeof(r->smaps));
	for (int i = 0; i < DIFF_WIN_PAGES; i++) {
		unsigned char v = 0;
		long k = raw(syscall(SYS_mincore, base + (uint64_t)i * PG, PG, &v));
		r->mincore[i] = k == -ENOMEM ? '.' : k < 0 ? '?' : (v & 1) ? '1' : '0';
	}
	r->mincore[DIFF_WIN_PAGES] = '\0';
	/* Last, so the reads of maps, smaps and mincore above cannot fault anything in. */
	uint64_t pme[DIFF_WIN_PAGES];
	fd = open("/proc/self/pagemap", O_RDONLY);
	int ok = fd >= 0 && pread(fd, pme, sizeof(pme), (off_t)(base / PG * 8)) == sizeof(pme);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < DIFF_WIN_PAGES; i++)
		r->pagemap[i] = ok ? diff_pagemap_char(pme[i], caps) : '-';
	r->pagemap[DIFF_WIN_PAGES] = '\0';
	r->vmlck_kb = host_vmlck();
}

static void host_mmap_result(uint64_t base, const struct diff_call *c, long ret,
			     const struct diff_caps *caps, struct diff_rec *r)
{
	if (ret < 0 && ret > -4096) {
		r->rkind = R_ERR;
		r->rval = ret;
		return;
	}
	uint64_t a = (uint64_t)ret, len = c->op == D_MREMAP ? c->new_len : c->len;
	const struct diff_difference *d = diff_declared(c, caps);
	if (a >= base && a < base + WIN_BYTES) {
		r->rkind = R_WIN;
		r->rval = (long)(a - base);
	} else {
		r->rkind = a + len <= TWO_GIB ? R_ELSEWHERE32 : R_ELSEWHERE;
		r->rval = 0;
	}
	/* Outside the window, or a declared difference: undo so both sides stay equal. */
	if (r->rkind != R_WIN || (d && d->how == DD_ACCEPT))
		syscall(SYS_munmap, a, len);
}

static void host_call(uint64_t base, const struct diff_call *c, const struct diff_caps *caps,
		      const int *fds, struct diff_rec *r)
{
	uint64_t a = base + c->off;
	long ret = 0;
	r->rkind = R_VAL;
	switch (c->op) {
	case D_MMAP:
		ret = syscall(SYS_mmap, a, c->len, c->prot, c->flags, c->fd ? fds[c->fd] : -1,
			      c->pgoff);
		host_mmap_result(base, c, ret == -1 ? -errno : ret, caps, r);
		return;
	case D_MREMAP:
		host_mmap_result(base, c, diff_host_ext(base, c), caps, r);
		return;
	case D_MUNMAP: ret = raw(syscall(SYS_munmap, a, c->len)); break;
	case D_MPROTECT: ret = raw(syscall(SYS_mprotect, a, c->len, c->prot)); break;
	case D_MADVISE: ret = raw(syscall(SYS_madvise, a, c->len, c->advice)); break;
	case D_WRITE:
	case D_READ:
		if (sigsetjmp(host_jb, 1)) {
			r->rkind = R_SIG;
			r->signo = host_signo;
			r->code = host_code;
			r->fault_off = (long)(host_addr - base);
			return;
		}
		if (c->op == D_WRITE)
			host_poke((volatile uint8_t *)a, c->val);
		else
			r->hash = host_hash((const volatile uint8_t *)a);
		r->rval = c->op == D_WRITE ? 8 : PG;
		return;
	default:
		ret = diff_host_ext(base, c);
		break;
	}
	r->rkind = ret < 0 ? R_ERR : R_VAL;
	r->rval = ret;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t k = write(fd, p, len);
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* fork: the parent waits and passes on the child's status; the sequence goes on in the
 * child, which inherits the pipe. */
static void host_fork(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid <= 0)
		return;			/* the child (or a failed fork, which the record shows) */
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 6);
}

static void host_child(int fd, const struct diff_seq *s, const struct diff_caps *caps,
		       const char *dir)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = host_sig;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	uint64_t base = WIN_BASE;
	long r = raw(syscall(SYS_mmap, base, WIN_BYTES, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	if (r != (long)base)
		_exit(3);
	syscall(SYS_munmap, base, WIN_BYTES);
	int fds[DIFF_NFDS + 1];
	if (diff_files_open_host(dir, fds))
		_exit(5);
	static struct diff_rec rec;
	static struct diff_state st;
	memset(st.mincore, '.', DIFF_WIN_PAGES);
	for (int i = 0; i < s->n; i++) {
		memset(&rec, 0, sizeof(rec));
		int d = diff_declared_at(&s->c[i], caps, &st);
		if (s->c[i].pm_only)
			;
		else if (d >= 0 && diff_differences[d].how >= DD_HOST_SKIP)
			rec = (struct diff_rec){ .rkind = R_DECLARED, .rval = d };
		else if (s->c[i].op == D_FORK)
			host_fork();
		else
			host_call(base, &s->c[i], caps, fds, &rec);
		host_record_state(base, caps, &rec);
		diff_files_hash_host(fds, &rec);
		diff_state_update(&st, &s->c[i], &rec);
		if (write_all(fd, &rec, sizeof(rec)))
			_exit(4);
	}
	_exit(0);
}

/* Runs s in a forked child; fills out[0..n). Returns 0, or -1 when the child failed. */
static int host_run(const struct diff_seq *s, const struct diff_caps *caps, const char *dir,
		    struct diff_rec *out)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		host_child(fds[1], s, caps, dir);
	}
	close(fds[1]);
	size_t want = sizeof(struct diff_rec) * (size_t)s->n, got = 0;
	char *p = (char *)out;
	ssize_t k;
	while (got < want && (k = read(fds[0], p + got, want - got)) > 0)
		got += (size_t)k;
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (got != want || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "diff: host child failed (status %#x, %zu of %zu bytes)\n", st,
			got, want);
		return -1;
	}
	return 0;
}

/* Whether a read fault of fresh private anonymous memory gives this process a frame of its
 * own: pagemap marks the page exclusive (bit 56), which the shared zero page never is (it
 * is no normal page). 0 when pagemap cannot tell, so peimm keeps its default. Asked once. */
static int host_no_zero_page(void)
{
	static int known = -1;
	if (known >= 0)
		return known;
	known = 0;
	volatile uint8_t *p = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return known;
	(void)p[0];
	(void)p[PG];
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e[2] = { 0, 0 };
	if (fd >= 0 && pread(fd, e, sizeof(e), (off_t)((uintptr_t)p / PG * 8)) == sizeof(e))
		known = ((e[0] & e[1]) >> 63 & 1) && ((e[0] & e[1]) >> 56 & 1);
	if (fd >= 0)
		close(fd);
	munmap((void *)p, 2 * PG);
	return known;
}

/* Whether the host kernel keeps soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): a page written
 * since its VMA was made shows pagemap bit 55. Asked once. */
static int host_soft_dirty(void)
{
	static int known = -1;
	if (known >= 0)
		return known;
	known = 0;
	volatile uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				   -1, 0);
	if (p == MAP_FAILED)
		return known;
	p[0] = 1;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (fd >= 0 && pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / PG * 8)) == sizeof(e))
		known = (e >> 55) & 1;
	if (fd >= 0)
		close(fd);
	munmap((void *)p, PG);
	return known;
}

void diff_probe_caps(struct diff_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->host_no_zero_page = host_no_zero_page();
	caps->host_soft_dirty = host_soft_dirty();
	struct env e = env_open();
	pm_syscall(e.t, SYS_prctl, PR_SET_DYNAMIC_CODE_POLICY, 1, 0, 0, 0, 0);
	long r = do_mmap(e.t, 0, PG, PROT_READ | PROT_WRITE | PROT_EXEC, ANON);
	caps->avoid_exec = r == -EACCES;
	long m = do_mmap(e.t, 0, PG, RW, ANON);
	uint8_t zero = 0;
	uint64_t vec = pm_scratch(e.t, &zero, 1);
	caps->pm_mincore = m > 0 && pm_syscall(e.t, SYS_mincore, m, PG, (long)vec, 0, 0, 0) !=
					    -ENOSYS;
	env_close(&e);
}

/* ---- comparing ---- */

struct diff_stats diff_stats;

/* PEIMM_DIFF_LAX_MERGE=1 (a debugging aid while a merge bug is open): adjacent lines with the
 * same perms, offset 0 and no name are joined before comparing, so other bugs show. */
static void coalesce_maps(const char *in, char *out, size_t outlen)
{
	long ps = -1, pe = -1;
	char prest[512] = "", line[512];
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = in;; ) {
		const char *nl = strchr(p, '\n');
		long s = -1, e = -1;
		int at = 0;
		line[0] = '\0';
		if (nl) {
			size_t ll = (size_t)(nl - p) < sizeof(line) - 1 ? (size_t)(nl - p) : sizeof(line) - 1;
			memcpy(line, p, ll);
			line[ll] = '\0';
			if (sscanf(line, "%lx-%lx %n", &s, &e, &at) < 2)
				s = -1;
		}
		int joins = s >= 0 && s == pe && strcmp(line + at, prest) == 0 &&
			    strstr(prest, " 0 00:00 0 ") != NULL;
		if (joins) {
			pe = e;
		} else {
			if (ps >= 0 && n < outlen)
				n += (size_t)snprintf(out + n, outlen - n, "%02lx-%02lx %s\n", ps, pe, prest);
			if (s < 0 && !nl)
				break;
			ps = s;
			pe = e;
			snprintf(prest, sizeof(prest), "%s", s >= 0 ? line + at : line);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

static int maps_equal(const char *h, const char *p)
{
	static char hc[DIFF_MAPS_MAX], pc[DIFF_MAPS_MAX];
	const char *lax = getenv("PEIMM_DIFF_LAX_MERGE");
	if (!lax || !*lax || *lax == '0')
		return strcmp(h, p) == 0;
	coalesce_maps(h, hc, sizeof(hc));
	coalesce_maps(p, pc, sizeof(pc));
	return strcmp(hc, pc) == 0;
}

/* The pagemap vectors, compared exactly on every page, inode-backed ones included: peimm
 * models Linux's fault-around (src/mm/fault_around.c), so a read fault of a file or shmem
 * VMA maps the same cached neighbours on both sides (do_fault_around, filemap_map_pages:
 * 64 KiB aligned, clamped to the VMA, its page table and EOF, even when the fault itself
 * then fails with SIGBUS), with the same mapcounts behind the exclusive bit. */
static int pagemap_equal(const struct diff_rec *h, const struct diff_rec *p)
{
	return strcmp(h->pagemap, p->pagemap) == 0;
}

static int rec_match(const struct diff_call *c, const struct diff_rec *h,
		     const struct diff_rec *p, const struct diff_caps *caps, char *why, size_t n)
{
	char hb[96], pb[96];
	if (p->invariants) {
		snprintf(why, n, "peimm breaks %d invariant(s) after the call", p->invariants);
		return 0;
	}
	if (h->rkind == R_DECLARED) {
		const struct diff_difference *d = &diff_differences[h->rval];
		int ok = d->how == DD_SKIP ? p->rkind == R_DECLARED :
			 p->rkind == R_ERR && p->rval == d->pm_ret;
		if (!ok) {
			snprintf(why, n, "declared difference \"%.60s...\": peimm %s", d->what,
				 rec_result_str(p, pb, sizeof(pb)));
			return 0;
		}
	} else if (h->rkind != p->rkind || h->rval != p->rval || (h->rkind == R_SIG &&
	    (h->signo != p->signo || h->code != p->code || h->fault_off != p->fault_off))) {
		const struct diff_difference *d = diff_declared(c, caps);
		if (!(d && d->how == DD_ACCEPT && p->rkind == R_ERR && p->rval == d->pm_ret)) {
			snprintf(why, n, "result: host %s, peimm %s",
				 rec_result_str(h, hb, sizeof(hb)), rec_result_str(p, pb, sizeof(pb)));
			return 0;
		}
	}
	if (c->op == D_READ && h->rkind == R_VAL && p->rkind == R_VAL && h->hash != p->hash) {
		snprintf(why, n, "page contents differ (hash host %#lx, peimm %#lx)",
			 (unsigned long)h->hash, (unsigned long)p->hash);
		return 0;
	}
	if (!maps_equal(h->maps, p->maps)) {
		snprintf(why, n, "maps lines in the window differ");
		return 0;
	}
	if (strcmp(h->smaps, p->smaps) != 0) {
		snprintf(why, n, "smaps fields in the window differ");
		return 0;
	}
	if (caps->pm_mincore && strcmp(h->mincore, p->mincore) != 0) {
		snprintf(why, n, "mincore differs: host %s peimm %s", h->mincore, p->mincore);
		return 0;
	}
	if (!pagemap_equal(h, p)) {
		snprintf(why, n, "pagemap differs: host %s peimm %s", h->pagemap, p->pagemap);
		return 0;
	}
	if (h->vmlck_kb != p->vmlck_kb) {
		snprintf(why, n, "VmLck differs: host %ld kB, peimm %ld kB", h->vmlck_kb,
			 p->vmlck_kb);
		return 0;
	}
	for (int i = 0; i < DIFF_NFILES; i++) {
		if (h->fhash[i] != p->fhash[i]) {
			snprintf(why, n, "file %s as read() sees it differs (hash host %#lx, peimm "
				 "%#lx)", diff_file_name(i), (unsigned long)h->fhash[i],
				 (unsigned long)p->fhash[i]);
			return 0;
		}
	}
	return 1;
}

int diff_run_compare(const struct diff_seq *s, const struct diff_caps *caps, char *why,
		     size_t whylen, struct diff_rec *host, struct diff_rec *pm)
{
	static struct diff_rec hbuf[DIFF_MAX_CALLS], pbuf[DIFF_MAX_CALLS];
	char dummy[256];
	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	why[0] = '\0';
	struct diff_files files;
	if (diff_files_create(&files, s->seed) || host_run(s, caps, files.host_dir, hbuf) ||
	    diff_pm_run(s, caps, files.pm_dir, pbuf)) {
		diff_files_remove(&files);
		snprintf(why, whylen, "harness failure");
		return -2;
	}
	int bad = -1;
	for (int i = 0; i < s->n; i++) {
		const struct diff_rec *h = &hbuf[i];
		diff_stats.calls++;
		diff_stats.errors += h->rkind == R_ERR;
		diff_stats.signals += h->rkind == R_SIG;
		diff_stats.in_window += h->rkind == R_WIN;
		diff_stats.elsewhere += h->rkind == R_ELSEWHERE || h->rkind == R_ELSEWHERE32;
		diff_stats.reads += s->c[i].op == D_READ && h->rkind == R_VAL;
		diff_stats.grows += s->c[i].op >= D_WRITE && h->rkind == R_VAL &&
				    s->c[i].off / PG < (uint64_t)DIFF_WIN_PAGES &&
				    i > 0 && hbuf[i - 1].mincore[s->c[i].off / PG] == '.';
		if (s->c[i].op == D_READ && h->rkind == R_VAL) {
			static const uint8_t zeros[PG];
			uint64_t zh = 0xcbf29ce484222325ULL;
			for (int k = 0; k < PG; k++)
				fnv(&zh, zeros[k]);
			diff_stats.nonzero_reads += h->hash != zh;
		}
	}
	for (int i = 0; i < s->n && bad < 0; i++)
		if (!rec_match(&s->c[i], &hbuf[i], &pbuf[i], caps, why, whylen))
			bad = i;
	/* Both sides have ended: what MAP_SHARED writes left in the files on disk. */
	if (bad < 0 && s->n > 0 && !diff_files_disk_equal(&files, why, whylen))
		bad = s->n - 1;
	diff_files_remove(&files);
	if (host)
		memcpy(host, hbuf, sizeof(hbuf[0]) * (size_t)s->n);
	if (pm)
		memcpy(pm, pbuf, sizeof(pbuf[0]) * (size_t)s->n);
	return bad;
}

/* ---- shrinking ---- */

static void seq_remove(struct diff_seq *dst, const struct diff_seq *src, int from, int count)
{
	dst->seed = src->seed;
	dst->n = 0;
	for (int i = 0; i < src->n; i++)
		if (i < from || i >= from + count)
			dst->c[dst->n++] = src->c[i];
}

int diff_shrink(struct diff_seq *s, const struct diff_caps *caps, int max_runs)
{
	static struct diff_seq trial;
	int runs = 0;
	int bad = diff_run_compare(s, caps, NULL, 0, NULL, NULL);
	runs++;
	if (bad < 0)
		return runs;
	s->n = bad + 1;
	for (int chunk = s->n / 2 > 0 ? s->n / 2 : 1; chunk >= 1 && runs < max_runs;) {
		int progress = 0;
		for (int from = 0; from < s->n && runs < max_runs;) {
			seq_remove(&trial, s, from, chunk);
			if (trial.n == 0) {
				from += chunk;
				continue;
			}
			int b = diff_run_compare(&trial, caps, NULL, 0, NULL, NULL);
			runs++;
			if (b >= 0) {
				*s = trial;
				s->n = b + 1;
				progress = 1;
			} else {
				from += chunk;
			}
		}
		if (!progress) {
			if (chunk == 1)
				break;
			chunk /= 2;
		}
	}
	return runs;
}

/* ---- reporting ---- */

static void print_call_list(const struct diff_seq *s)
{
	char buf[512];
	for (int i = 0; i < s->n; i++) {
		diff_format_call(&s->c[i], buf, sizeof(buf));
		fprintf(stderr, "  %2d: %s\n", i, buf);
	}
}

static void print_mismatch(const struct diff_seq *s, int bad, const char *why,
			   const struct diff_rec *h, const struct diff_rec *p)
{
	char buf[512], hb[96], pb[96];
	diff_format_call(&s->c[bad], buf, sizeof(buf));
	fprintf(stderr, "diff: seed %llu, call %d of %d: %s\n  %s\n",
		(unsigned long long)s->seed, bad, s->n, buf, why);
	fprintf(stderr, "  host  result: %s\n  peimm result: %s\n",
		rec_result_str(&h[bad], hb, sizeof(hb)), rec_result_str(&p[bad], pb, sizeof(pb)));
	fprintf(stderr, "  host maps (pages from W = %#lx):\n%s", WIN_BASE, h[bad].maps);
	fprintf(stderr, "  peimm maps:\n%s", p[bad].maps);
	fprintf(stderr, "  host smaps:\n%s  peimm smaps:\n%s", h[bad].smaps, p[bad].smaps);
	fprintf(stderr, "  host  mincore %s\n  peimm mincore %s\n", h[bad].mincore,
		p[bad].mincore);
	fprintf(stderr, "  host  pagemap %s\n  peimm pagemap %s\n  (pagemap: %s)\n",
		h[bad].pagemap, p[bad].pagemap, DIFF_PAGEMAP_LEGEND);
}

int diff_check_and_report(const struct diff_seq *s, const struct diff_caps *caps)
{
	static struct diff_rec h[DIFF_MAX_CALLS], p[DIFF_MAX_CALLS];
	static struct diff_seq small;
	char why[512];
	int bad = diff_run_compare(s, caps, why, sizeof(why), h, p);
	if (bad == -1)
		return 1;
	if (bad == -2) {
		check_failed(__FILE__, __LINE__, "seed %llu: %s", (unsigned long long)s->seed,
			     why);
		return 0;
	}
	print_mismatch(s, bad, why, h, p);
	/* The host's page cache is the one thing a sequence does not decide: under memory
	 * pressure from elsewhere it may drop a cached file page that peimm keeps. A mincore
	 * mismatch that two reruns of the same sequence do not show again is that, not
	 * peimm (which is deterministic): reported, counted, not failed. */
	if (strncmp(why, "mincore differs", 15) == 0 &&
	    diff_run_compare(s, caps, NULL, 0, NULL, NULL) == -1 &&
	    diff_run_compare(s, caps, NULL, 0, NULL, NULL) == -1) {
		diff_stats.host_flukes++;
		fprintf(stderr, "diff: seed %llu: the mincore mismatch did not come back in two "
			"reruns (host page cache); not counted as a failure\n",
			(unsigned long long)s->seed);
		return 1;
	}
	small = *s;
	int runs = diff_shrink(&small, caps, 400);
	bad = diff_run_compare(&small, caps, why, sizeof(why), h, p);
	fprintf(stderr, "diff: shrunk to %d calls in %d runs; minimal reproducer (W = %#lx):\n",
		small.n, runs, WIN_BASE);
	print_call_list(&small);
	if (bad >= 0)
		print_mismatch(&small, bad, why, h, p);
	check_failed(__FILE__, __LINE__, "seed %llu: peimm differs from the host kernel "
		     "(minimal reproducer above, %d calls)", (unsigned long long)s->seed, small.n);
	return 0;
}
