/*
 * The report of a replay: per process and in total, the calls traced, replayed and
 * skipped, then every finding with its trace line and both outcomes: divergences, Peios
 * policy denials (W^X, MAP_UNINITIALIZED, mmap_min_addr, mlock quota, max_map_count),
 * follow-ons of a refused mapping, and notes. As text, or as one JSON object. It only
 * reads the finished run.
 */
#include <string.h>

#include "replay.h"

static const char *const kinds[RP_F_NKINDS] = {
	[RP_F_DIVERGE] = "divergence", [RP_F_WX] = "wx_denial",
	[RP_F_EXECRIGHT] = "exec_right",	[RP_F_UNINIT] = "map_uninitialized", [RP_F_MINADDR] = "mmap_min_addr",
	[RP_F_MLOCK] = "mlock_quota", [RP_F_MAPCOUNT] = "max_map_count",
	[RP_F_FOLLOW] = "follow_on", [RP_F_NOTE] = "note",
};

const char *rp_kind_name(int kind)
{
	return kind >= 0 && kind < RP_F_NKINDS ? kinds[kind] : "?";
}

static int is_policy(int kind)
{
	return kind == RP_F_WX || kind == RP_F_EXECRIGHT || kind == RP_F_UNINIT || kind == RP_F_MINADDR ||
	       kind == RP_F_MLOCK || kind == RP_F_MAPCOUNT;
}

unsigned rp_total(const rp_run *r, int kind)
{
	unsigned n = 0;
	for (size_t i = 0; i < r->nf; i++)
		n += kind < 0 ? is_policy(r->f[i].kind) : r->f[i].kind == kind;
	return n;
}

static unsigned policy_of(const rp_proc *p)
{
	unsigned n = 0;
	for (int k = 0; k < RP_F_NKINDS; k++)
		n += is_policy(k) ? p->count[k] : 0;
	return n;
}

static void result(long v, int has, char *buf, size_t len)
{
	if (!has)
		snprintf(buf, len, "?");
	else if (v < 0 && v >= -4095)
		snprintf(buf, len, "-1 %s", rp_errno_name(v));
	else if (v > 0xffff || v < 0)
		snprintf(buf, len, "%#lx", (unsigned long)v);
	else
		snprintf(buf, len, "%ld", v);
}

static void sums(const rp_run *r, unsigned *calls, unsigned *replayed, unsigned *skipped)
{
	*calls = *replayed = *skipped = 0;
	for (size_t i = 0; i < r->nprocs; i++) {
		*calls += r->procs[i]->calls;
		*replayed += r->procs[i]->replayed;
		*skipped += r->procs[i]->skipped;
	}
}

static void text_finding(const rp_run *r, const rp_finding *f, FILE *out)
{
	static const char *const label[RP_F_NKINDS] = {
		[RP_F_DIVERGE] = "DIVERGED", [RP_F_WX] = "W^X denial",
		[RP_F_EXECRIGHT] = "exec right", [RP_F_UNINIT] = "uninit", [RP_F_MINADDR] = "min addr",
		[RP_F_MLOCK] = "mlock", [RP_F_MAPCOUNT] = "map count", [RP_F_FOLLOW] = "follow-on",
		[RP_F_NOTE] = "note",
	};
	char rec[40], pm[40];
	fprintf(out, "  %-10s %s:%u: %s\n", label[f->kind], r->tr->file, f->line, f->call);
	if (f->kind == RP_F_NOTE || f->kind == RP_F_FOLLOW) {
		fprintf(out, "             %s\n", f->why);
		return;
	}
	result(f->rec, f->rec_has, rec, sizeof(rec));
	result(f->pm, f->pm_has, pm, sizeof(pm));
	fprintf(out, "             recorded %s, peimm %s: %s\n", rec, pm, f->why);
}

void rp_report_text(const rp_run *r, FILE *out)
{
	unsigned calls, replayed, skipped;
	sums(r, &calls, &replayed, &skipped);
	fprintf(out, "peimm replay %s: %zu process%s, %u calls\n", r->tr->file, r->nprocs,
		r->nprocs == 1 ? "" : "es", calls);
	for (size_t i = 0; i < r->nprocs; i++) {
		const rp_proc *p = r->procs[i];
		fprintf(out, "process %d (%s): %u calls, %u replayed, %u skipped, %u divergences, "
			"%u W^X denials, %u policy denials\n", p->pid, p->program[0] ? p->program : "?",
			p->calls, p->replayed, p->skipped, p->count[RP_F_DIVERGE], p->count[RP_F_WX],
			policy_of(p));
		for (size_t k = 0; k < r->nf; k++)
			if (r->f[k].pid == p->pid)
				text_finding(r, &r->f[k], out);
		if (p->maps)
			fprintf(out, "  maps at the end:\n%s", p->maps);
	}
	if (r->nskips) {
		fprintf(out, "not replayed:");
		for (size_t i = 0; i < r->nskips; i++)
			fprintf(out, "%s %s x%u", i ? "," : "", r->skips[i].name, r->skips[i].n);
		fprintf(out, "\n");
	}
	fprintf(out, "total: %u calls, %u replayed, %u skipped, %u divergences, %u W^X denials, "
		"%u policy denials, %u follow-ons, %u notes\n", calls, replayed, skipped,
		rp_total(r, RP_F_DIVERGE), rp_total(r, RP_F_WX), rp_total(r, -1),
		rp_total(r, RP_F_FOLLOW), rp_total(r, RP_F_NOTE));
}

static void jstr(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_proc(const rp_proc *p, FILE *out)
{
	fprintf(out, "{\"pid\": %d, \"program\": ", p->pid);
	jstr(out, p->program);
	fprintf(out, ", \"calls\": %u, \"replayed\": %u, \"skipped\": %u, \"divergences\": %u, "
		"\"wx_denials\": %u, \"policy_denials\": %u, \"follow_ons\": %u", p->calls,
		p->replayed, p->skipped, p->count[RP_F_DIVERGE], p->count[RP_F_WX], policy_of(p),
		p->count[RP_F_FOLLOW]);
	if (p->maps) {
		fprintf(out, ", \"maps\": ");
		jstr(out, p->maps);
	}
	fprintf(out, "}");
}

void rp_report_json(const rp_run *r, FILE *out)
{
	unsigned calls, replayed, skipped;
	char rec[40], pm[40];
	sums(r, &calls, &replayed, &skipped);
	fprintf(out, "{\"trace\": ");
	jstr(out, r->tr->file);
	fprintf(out, ", \"calls\": %u, \"replayed\": %u, \"skipped\": %u, \"divergences\": %u, "
		"\"wx_denials\": %u, \"policy_denials\": %u, \"follow_ons\": %u, \"notes\": %u,\n",
		calls, replayed, skipped, rp_total(r, RP_F_DIVERGE), rp_total(r, RP_F_WX),
		rp_total(r, -1), rp_total(r, RP_F_FOLLOW), rp_total(r, RP_F_NOTE));
	fprintf(out, " \"processes\": [");
	for (size_t i = 0; i < r->nprocs; i++) {
		fprintf(out, "%s\n  ", i ? "," : "");
		json_proc(r->procs[i], out);
	}
	fprintf(out, "],\n \"findings\": [");
	for (size_t i = 0; i < r->nf; i++) {
		const rp_finding *f = &r->f[i];
		fprintf(out, "%s\n  {\"kind\": \"%s\", \"pid\": %d, \"line\": %u, \"call\": ",
			i ? "," : "", rp_kind_name(f->kind), f->pid, f->line);
		jstr(out, f->call);
		result(f->rec, f->rec_has, rec, sizeof(rec));
		result(f->pm, f->pm_has, pm, sizeof(pm));
		fprintf(out, ", \"recorded\": ");
		jstr(out, rec);
		fprintf(out, ", \"peimm\": ");
		jstr(out, f->kind == RP_F_NOTE || f->kind == RP_F_FOLLOW ? "" : pm);
		fprintf(out, ", \"why\": ");
		jstr(out, f->why);
		fprintf(out, "}");
	}
	fprintf(out, "],\n \"not_replayed\": {");
	for (size_t i = 0; i < r->nskips; i++) {
		fprintf(out, "%s", i ? ", " : "");
		jstr(out, r->skips[i].name);
		fprintf(out, ": %u", r->skips[i].n);
	}
	fprintf(out, "}}\n");
}
