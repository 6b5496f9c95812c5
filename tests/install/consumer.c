/*
 * A program built the way a user of an installed peimm builds one: only <peimm.h> and the
 * flags `pkg-config --cflags --libs peimm` prints (tests/install/install.sh). It creates a
 * system and a process, maps three pages, touches the middle one and checks through
 * /proc/self/maps and smaps that the mapping is there and exactly one page is resident.
 * Prints each failed check with what it expected and got; exits 1 if any failed.
 */
#include <peimm.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static int failures;

static void check(int ok, const char *what, const char *want, const char *got)
{
	if (!ok) {
		printf("FAIL %s: want %s, got %s\n", what, want, got);
		failures++;
	}
}

/* The block of view (maps or smaps) that starts with the line for [a, a + len). */
static const char *find_vma(const char *view, long a, long len)
{
	char head[64];
	snprintf(head, sizeof(head), "%lx-%lx rw-p ", (unsigned long)a, (unsigned long)(a + len));
	for (const char *l = view; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, head, strlen(head)))
			return l;
	return NULL;
}

int main(void)
{
	static char view[1 << 16];
	char got[64];
	pm_config cfg;
	pm_config_default(&cfg);
	cfg.ram_bytes = 64 << 20;
	cfg.seed = 7;
	pm_system *sys = pm_system_create(&cfg);
	if (!sys) {
		printf("FAIL pm_system_create(64 MiB): want a system, got NULL\n");
		return 1;
	}
	int err = 0;
	pm_token *tok = pm_token_parse(sys, "user=S-1-5-21-1-1001 il=medium", &err);
	pm_thread *t = tok ? pm_spawn(sys, tok, NULL) : NULL;
	snprintf(got, sizeof(got), "%p (err %d)", (void *)t, err);
	check(t != NULL, "pm_spawn(medium user)", "a thread", got);
	if (!t)
		goto out;

	long a = pm_syscall(t, SYS_mmap, 0, 3 * 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(got, sizeof(got), "%ld", a);
	check(a > 0 && !(a & 4095), "mmap(NULL, 12288, RW, PRIVATE|ANON)", "a page address", got);
	if (a <= 0)
		goto out;
	char in[] = "installed", back[sizeof(in)] = "";
	long w = pm_access(t, (uint64_t)a + 4096, in, sizeof(in), PM_WRITE, NULL);
	long r = pm_access(t, (uint64_t)a + 4096, back, sizeof(back), PM_READ, NULL);
	snprintf(got, sizeof(got), "write %ld, read %ld \"%.10s\"", w, r, back);
	check(w == (long)sizeof(in) && r == (long)sizeof(in) && !strcmp(back, in),
	      "pm_access write then read at a+4096", "10, 10 \"installed\"", got);

	long n = pm_proc_read(t, 0, "maps", view, sizeof(view) - 1, 0);
	view[n > 0 ? n : 0] = '\0';
	snprintf(got, sizeof(got), "%ld bytes, no such line", n);
	check(find_vma(view, a, 3 * 4096) != NULL, "/proc/self/maps", "a line a-(a+12288) rw-p", got);

	n = pm_proc_read(t, 0, "smaps", view, sizeof(view) - 1, 0);
	view[n > 0 ? n : 0] = '\0';
	const char *vma = find_vma(view, a, 3 * 4096);
	const char *rss = vma ? strstr(vma, "\nRss:") : NULL;
	long kb = -1;
	if (rss)
		sscanf(rss + 5, "%ld", &kb);
	snprintf(got, sizeof(got), "%ld kB", kb);
	check(kb == 4, "smaps Rss of the mapping after one touch", "4 kB", got);

	int problems = pm_check_invariants(sys);
	snprintf(got, sizeof(got), "%d", problems);
	check(problems == 0, "pm_check_invariants", "0", got);
out:
	pm_token_put(tok);
	pm_system_destroy(sys);
	if (failures) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("consumer: mapped, touched and read back through the installed peimm\n");
	return 0;
}
