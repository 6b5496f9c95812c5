/*
 * 'peimm maps': a process's address space drawn as a map. It reads /proc/<pid>/smaps through
 * the public API and draws each VMA as a band, high addresses first, coloured by permission,
 * with a bar for the share that is resident (Rss) and the VMA's name. The address space is
 * sparse, so the empty stretches between VMAs become thin labelled gap bands and a band's
 * height grows only with the logarithm of its size. Input: a built-in demo process, or a
 * scenario file run first and one of its processes. Text by default, --svg FILE for SVG. It
 * only reads the process; it never changes it after the setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "picture.h"
#include "scenario.h"

#define MAPS_USAGE "usage: peimm maps [--svg FILE] [SCENARIO.pmm PROC]"
#define PG 4096L

struct vma { uint64_t start, end, rss; char perms[5], name[96]; };

struct mapset { struct vma *v; int n, cap, pid; };

/* Parses smaps text into regions (header lines and their Rss). */
static int parse_smaps(struct mapset *m, char *text)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long s, e, kb;
		char perms[5];
		int off = 0;
		if (sscanf(line, "%llx-%llx %4s %*x %*s %*u%n", &s, &e, perms, &off) == 3 && off) {
			if (m->n == m->cap) {
				int ncap = m->cap ? m->cap * 2 : 32;
				struct vma *nv = realloc(m->v, (size_t)ncap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				m->v = nv;
				m->cap = ncap;
			}
			struct vma *v = &m->v[m->n++];
			*v = (struct vma){ .start = s, .end = e };
			memcpy(v->perms, perms, sizeof(perms));
			const char *name = line + off;
			while (*name == ' ')
				name++;
			const char *slash = strrchr(name, '/');
			snprintf(v->name, sizeof(v->name), "%s", slash ? slash + 1 : name);
		} else if (m->n && sscanf(line, "Rss: %llu kB", &kb) == 1) {
			m->v[m->n - 1].rss = kb << 10;
		}
	}
	return 0;
}

static int read_maps(struct mapset *m, pm_thread *reader, int pid)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	long n = pm_proc_read(reader, pid, "smaps", buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	int rc = n < 0 ? (int)n : parse_smaps(m, buf);
	free(buf);
	return rc;
}

/* The demo: a heap, a file mapping, a 4M anonymous region a quarter touched with its top
 * made read-only, and what every process has (stack, vdso, vvar). */
static int demo(struct mapset *m)
{
	char root[] = "/tmp/peimm-mapsXXXXXX", path[64];
	pm_config cfg;
	int err = 0, rc = -ENOMEM;

	if (!mkdtemp(root))
		return -errno;
	snprintf(path, sizeof(path), "%s/data.bin", root);
	FILE *f = fopen(path, "w");
	for (int i = 0; f && i < 64 * 1024; i++)
		fputc(i & 0xff, f);
	if (f)
		fclose(f);
	pm_config_default(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.seed = 1;
	cfg.root = root;
	pm_system *sys = pm_system_create(&cfg);
	pm_token *tok = sys ? pm_token_parse(sys, "user=S-1-5-21-1-1001 groups=S-1-5-32-545,S-1-1-0 "
					     "il=medium", &err) : NULL;
	pm_thread *t = tok ? pm_spawn(sys, tok, NULL) : NULL;
	if (t) {
		uint8_t b = 1;
		long brk0 = pm_syscall(t, SYS_brk, 0, 0, 0, 0, 0, 0);
		pm_syscall(t, SYS_brk, brk0 + 256 * 1024, 0, 0, 0, 0, 0);
		for (long i = 0; i < 10; i++)
			pm_access(t, (uint64_t)(brk0 + i * PG), &b, 1, PM_WRITE, NULL);
		long name = (long)pm_scratch(t, "data.bin", 9);
		long fd = pm_syscall(t, SYS_openat, AT_FDCWD, name, O_RDONLY, 0, 0, 0);
		long fa = pm_syscall(t, SYS_mmap, 0, 64 * 1024, PROT_READ, MAP_PRIVATE, fd, 0);
		for (long i = 0; fa > 0 && i < 4; i++)
			pm_access(t, (uint64_t)(fa + i * PG), &b, 1, PM_READ, NULL);
		long a = pm_syscall(t, SYS_mmap, 0, 4L << 20, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (long i = 0; a > 0 && i < 256; i++)
			pm_access(t, (uint64_t)(a + i * PG), &b, 1, PM_WRITE, NULL);
		if (a > 0)
			pm_syscall(t, SYS_mprotect, a + (3L << 20), 1L << 20, PROT_READ, 0, 0, 0);
		m->pid = pm_pid(t);
		rc = read_maps(m, t, 0);
		/* The file name went in through pm_scratch: say what that anonymous area is. */
		for (int i = 0; !rc && i < m->n; i++)
			if (m->v[i].start <= (uint64_t)name && (uint64_t)name < m->v[i].end &&
			    !m->v[i].name[0])
				snprintf(m->v[i].name, sizeof(m->v[i].name), "[anon] (pm_scratch area)");
	}
	pm_token_put(tok);
	if (sys)
		pm_system_destroy(sys);
	unlink(path);
	rmdir(root);
	return rc;
}

/* Runs a scenario file, then reads the smaps of its process `proc`. 0, or an exit status
 * with the message printed. */
static int from_scenario(struct mapset *m, const char *file, const char *proc)
{
	sc_ctx c = { .file = file };
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "peimm maps: cannot open '%s': %s\n", file, strerror(errno));
		return 2;
	}
	while (!rc && getline(&line, &cap, f) >= 0) {
		sc_line l;
		c.lineno++;
		c.text = sc_trim(line);
		rc = sc_split(&c, c.text, &l);
		if (rc == SC_OK) {
			rc = sc_exec_line(&c, &l);
			sc_line_free(&l);
		}
	}
	if (rc == SC_BAD)
		fprintf(stderr, "%s:%u: %s\n", file, c.lineno, c.msg);
	sc_name *p = rc ? NULL : sc_find(&c, SC_PROC, proc);
	if (!rc && !p)
		fprintf(stderr, "peimm maps: %s has no process '%s'\n", file, proc);
	if (p) {
		m->pid = pm_pid(p->u.thread);
		int r = read_maps(m, p->u.thread, 0);
		if (r)
			fprintf(stderr, "peimm maps: cannot read the maps of '%s': %s\n", proc,
				pm_errno_name(r));
		rc = r ? 1 : 0;
	} else {
		rc = rc == SC_ABORT ? 1 : 2;
	}
	free(line);
	fclose(f);
	sc_ctx_free(&c);
	return rc;
}

static const char *perm_colour(const char *p)
{
	if (p[2] == 'x')
		return p[1] == 'w' ? "#e06060" : "#f0a860";
	if (p[1] == 'w')
		return "#8fd19e";
	if (p[0] == 'r')
		return "#8fb3d9";
	return "#c8c8c8";
}

/* A gap from the user half to the top of the address space (vsyscall's page). */
static int crosses_hole(uint64_t lo, uint64_t hi)
{
	return lo <= 0x800000000000ULL && hi >= 0xffff800000000000ULL;
}

static const char *label(const struct vma *v)
{
	return v->name[0] ? v->name : "[anon]";
}

static void draw_text(const struct mapset *m)
{
	char sz[16], rss[16], gap[16];

	printf("address map of pid %d, high addresses first (gaps compressed)\n\n", m->pid);
	int w = 12;	/* hex digits of the widest address */

	for (int i = 0; i < m->n; i++)
		w = m->v[i].end > 0xffffffffffffULL ? 16 : w;
	printf("  %-*s  %-4s %7s  %-12s %7s  %s\n", 2 * w + 1, "range", "perm", "size",
	       "resident", "rss", "name");
	for (int i = m->n - 1; i >= 0; i--) {
		const struct vma *v = &m->v[i];
		uint64_t size = v->end - v->start;
		int fill = (int)((double)v->rss / (double)size * 10 + 0.5);
		char bar[11];
		for (int k = 0; k < 10; k++)
			bar[k] = k < fill ? '#' : '.';
		bar[10] = '\0';
		pic_size(sz, sizeof(sz), size);
		pic_size(rss, sizeof(rss), v->rss);
		printf("  %0*llx-%0*llx  %-4s %7s  [%s] %7s  %s\n", w, (unsigned long long)v->start,
		       w, (unsigned long long)v->end, v->perms, sz, bar, rss, label(v));
		if (i > 0 && m->v[i - 1].end < v->start) {
			pic_size(gap, sizeof(gap), v->start - m->v[i - 1].end);
			printf("  %*s  ~~~ gap of %s%s ~~~\n", 2 * w + 1, "", gap,
			       crosses_hole(m->v[i - 1].end, v->start) ?
			       ": the non-canonical hole and the kernel half" : "");
		}
	}
}

enum { SVG_W = 860, BAND_X = 250, BAND_W = 240, GAP_H = 20 };

static int band_height(uint64_t size)
{
	int bits = 0;	/* log2 of the size in pages */

	while (bits < 40 && (4096ULL << bits) < size)
		bits++;
	int h = 20 + 5 * bits;
	return h > 80 ? 80 : h;
}

static int draw_svg(const struct mapset *m, const char *path)
{
	static const struct { const char *perms, *what; } legend[] = {
		{ "r-x", "code (r-x)" }, { "rw-", "data (rw-)" }, { "r--", "read-only (r--)" },
		{ "---", "no access (---)" }, { "rwx", "writable code (rwx)" },
	};
	int height = 70 + 60;
	char sz[16], rss[16], gap[16];

	for (int i = 0; i < m->n; i++)
		height += band_height(m->v[i].end - m->v[i].start) +
			  (i > 0 && m->v[i - 1].end < m->v[i].start ? GAP_H : 0);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"monospace\" font-size=\"12\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
		"<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Address space of pid %d"
		"</text>\n<text x=\"10\" y=\"44\">high addresses at the top; gaps compressed; dark bar"
		" = resident share (Rss)</text>\n", SVG_W, height, SVG_W, height, m->pid);
	int y = 60;
	for (int i = m->n - 1; i >= 0; i--) {
		const struct vma *v = &m->v[i];
		uint64_t size = v->end - v->start;
		int h = band_height(size), rw = (int)((double)v->rss / (double)size * BAND_W + 0.5);
		pic_size(sz, sizeof(sz), size);
		pic_size(rss, sizeof(rss), v->rss);
		fprintf(f, "<g class=\"vma\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			"fill=\"%s\" stroke=\"#333\"/>\n", BAND_X, y, BAND_W, h, perm_colour(v->perms));
		if (rw > 0)
			fprintf(f, "<rect class=\"rss\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"6\" "
				"fill=\"#333\" fill-opacity=\"0.6\"/>\n", BAND_X + 1, y + h - 7,
				rw > BAND_W - 2 ? BAND_W - 2 : rw);
		/* The end address at the top; the start at the bottom only when no band
		 * follows right below (else it is that band's end, printed next). */
		int below = i > 0 && m->v[i - 1].end == v->start;
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%llx</text>\n",
			BAND_X - 8, y + 11, (unsigned long long)v->end);
		if (!below && h >= 30)
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#666\">%llx</text>\n",
				BAND_X - 8, y + h - 3, (unsigned long long)v->start);
		fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", BAND_X + 8, y + h / 2 + 5, v->perms);
		if (h >= 36) {
			fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">", BAND_X + BAND_W + 12,
				y + h / 2 - 2);
			pic_svg_text(f, label(v));
			fprintf(f, "</text>\n<text x=\"%d\" y=\"%d\" fill=\"#444\">%s, rss %s</text></g>\n",
				BAND_X + BAND_W + 12, y + h / 2 + 12, sz, rss);
		} else {	/* a thin band: name and sizes on one line */
			fprintf(f, "<text x=\"%d\" y=\"%d\"><tspan font-weight=\"bold\">",
				BAND_X + BAND_W + 12, y + h / 2 + 5);
			pic_svg_text(f, label(v));
			fprintf(f, "</tspan><tspan dx=\"10\" fill=\"#444\">%s, rss %s</tspan></text></g>\n",
				sz, rss);
		}
		y += h;
		if (i > 0 && m->v[i - 1].end < v->start) {
			pic_size(gap, sizeof(gap), v->start - m->v[i - 1].end);
			fprintf(f, "<g class=\"gap\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
				"fill=\"#f4f4f4\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n"
				"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#777\">"
				"gap of %s</text>\n", BAND_X, y, BAND_W, GAP_H,
				BAND_X + BAND_W / 2, y + 14, gap);
			if (crosses_hole(m->v[i - 1].end, v->start))
				fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#777\">the non-canonical "
					"hole and the kernel half</text>\n", BAND_X + BAND_W + 12, y + 14);
			fprintf(f, "</g>\n");
			y += GAP_H;
		}
	}
	y += 20;
	for (size_t k = 0; k < sizeof(legend) / sizeof(legend[0]); k++) {
		int x = 10 + (int)k * 168;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\" "
			"stroke=\"#333\"/>\n<text x=\"%d\" y=\"%d\">%s</text>\n", x, y,
			perm_colour(legend[k].perms), x + 20, y + 12, legend[k].what);
	}
	fprintf(f, "</svg>\n");
	return fclose(f) ? -EIO : 0;
}

int cmd_maps(int argc, char **argv)
{
	const char *svg = NULL, *args[2];
	int nargs = 0;
	struct mapset m = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s\n\nDraws a process's address space from /proc/<pid>/smaps: each VMA a\n"
			       "band (high addresses first) coloured by permission, with a bar for its\n"
			       "resident share and its name; the gaps between VMAs are compressed and\n"
			       "labelled with their size. Without a scenario: a built-in demo process\n"
			       "(a heap, a file mapping, a partly touched anonymous region, the stack,\n"
			       "vdso and vvar). With SCENARIO.pmm PROC: the file runs first, then PROC\n"
			       "is drawn.\n\n"
			       "  --svg FILE  write an SVG picture instead of the text map\n", MAPS_USAGE);
			return 0;
		}
		if (!strcmp(argv[i], "--svg")) {
			if (!(svg = i + 1 < argc ? argv[++i] : NULL)) {
				fprintf(stderr, "peimm maps: --svg wants a file name (%s)\n", MAPS_USAGE);
				return 2;
			}
		} else if (argv[i][0] == '-' || nargs == 2) {
			fprintf(stderr, "peimm maps: unknown %s '%s' (%s)\n",
				argv[i][0] == '-' ? "option" : "argument", argv[i], MAPS_USAGE);
			return 2;
		} else {
			args[nargs++] = argv[i];
		}
	}
	if (nargs == 1) {
		fprintf(stderr, "peimm maps: '%s' needs a process name after it (%s)\n", args[0],
			MAPS_USAGE);
		return 2;
	}
	int rc = nargs ? from_scenario(&m, args[0], args[1]) : demo(&m);
	if (!nargs && rc) {
		fprintf(stderr, "peimm maps: cannot set up the demo process: %s\n", strerror(-rc));
		rc = 1;
	}
	if (!rc && !svg)
		draw_text(&m);
	if (!rc && svg) {
		int r = draw_svg(&m, svg);
		if (r)
			fprintf(stderr, "peimm maps: cannot write '%s': %s\n", svg, strerror(-r));
		else
			printf("wrote %s (%d regions)\n", svg, m.n);
		rc = r ? 1 : 0;
	}
	free(m.v);
	return rc;
}
