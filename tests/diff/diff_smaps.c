/*
 * The smaps part of a differential record: for every smaps entry that meets the window,
 * one window-relative line of the fields both kernels must agree on: Size, Anonymous and
 * VmFlags always; Rss, Pss, Private_Dirty and Locked for private anonymous VMAs; Rss, Pss
 * and Locked for the others (file, shmem), which fault-around fills as Linux's does
 * (src/mm/fault_around.c). Their clean/dirty and private/shared split is not compared
 * (yet).
 */
#include "diff_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG 4096UL
#define WIN_BYTES ((uint64_t)DIFF_WIN_PAGES * PG)

/* The value of "name:" inside [p, end), or -1. */
static long entry_field(const char *p, const char *end, const char *name)
{
	size_t nl = strlen(name);
	for (const char *l = p; l && l < end; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, name, nl) && l[nl] == ':')
			return strtol(l + nl + 1, NULL, 10);
	return -1;
}

void diff_window_smaps(const char *text, uint64_t base, char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = text; p && *p;) {
		unsigned long s, e, off, ino;
		char perms[8], dev[16];
		int name_at = 0;
		const char *vmf = strstr(p, "\nVmFlags:");
		if (!vmf)
			break;
		const char *end = strchr(vmf + 1, '\n');
		end = end ? end + 1 : vmf + strlen(vmf);
		int got = sscanf(p, "%lx-%lx %7s %lx %15s %lu %n", &s, &e, perms, &off, dev, &ino,
				 &name_at);
		const char *entry = p;
		p = end;
		if (got < 6 || e <= base || s >= base + WIN_BYTES)
			continue;
		/* The format's last space skips a newline too: a name is what lies before it. */
		const char *eol = strchr(entry, '\n');
		int named = eol && entry + name_at < eol;
		int anon_private = !ino && !named && perms[3] == 'p';
		char flags[128];
		const char *f = vmf + strlen("\nVmFlags:");
		size_t fl = strcspn(f, "\n");
		snprintf(flags, sizeof(flags), "%.*s", (int)fl, f);
		if (n >= outlen)
			break;
		n += (size_t)snprintf(out + n, outlen - n, "%02lx-%02lx Size=%ld Anon=%ld",
				      (long)(s - base) / (long)PG, (long)(e - base) / (long)PG,
				      entry_field(entry, end, "Size"),
				      entry_field(entry, end, "Anonymous"));
		if (anon_private && n < outlen)
			n += (size_t)snprintf(out + n, outlen - n, " Rss=%ld Pss=%ld PD=%ld Lck=%ld",
					      entry_field(entry, end, "Rss"),
					      entry_field(entry, end, "Pss"),
					      entry_field(entry, end, "Private_Dirty"),
					      entry_field(entry, end, "Locked"));
		else if (n < outlen)
			n += (size_t)snprintf(out + n, outlen - n, " Rss=%ld Pss=%ld Lck=%ld",
					      entry_field(entry, end, "Rss"),
					      entry_field(entry, end, "Pss"),
					      entry_field(entry, end, "Locked"));
		if (n < outlen)
			n += (size_t)snprintf(out + n, outlen - n, " VmFlags:%s\n", flags);
	}
}
