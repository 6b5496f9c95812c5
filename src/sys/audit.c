/*
 * The audit log (SPEC §12): one line per security-relevant event (a gate's denial, a
 * privilege used at a gate, an OOM kill, a KsmRun change), each with a sequence number and
 * the simulated time. It is a bounded buffer: past AUDIT_MAX bytes the oldest lines go, so
 * a noisy workload cannot grow it without bound. Read as the system view "peios/audit".
 */
#include "sys/sys.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AUDIT_MAX (256 * 1024)

void audit_init(struct pm_system *sys)
{
	sb_init(&sys->audit, &sys->km);
	sys->audit_seq = 0;
}

void audit_release(struct pm_system *sys)
{
	sb_release(&sys->audit);
}

/* Drops whole lines from the front until the log fits. */
static void audit_trim_locked(struct pm_system *sys)
{
	struct strbuf *sb = &sys->audit;
	if (sb->len <= AUDIT_MAX)
		return;
	size_t cut = sb->len - AUDIT_MAX / 2;
	while (cut < sb->len && sb->buf[cut - 1] != '\n')
		cut++;
	memmove(sb->buf, sb->buf + cut, sb->len - cut + 1);
	sb->len -= cut;
}

void audit_log(struct pm_system *sys, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&sys->audit_lock);
	sb_printf(&sys->audit, "seq=%lu tick=%lu %s\n", (unsigned long)++sys->audit_seq,
		  (unsigned long)sys->ticks, line);
	audit_trim_locked(sys);
	pthread_mutex_unlock(&sys->audit_lock);
}

/* A copy of the log into out (for the /proc-style view). */
void audit_copy(struct pm_system *sys, struct strbuf *out)
{
	pthread_mutex_lock(&sys->audit_lock);
	if (sys->audit.len)
		sb_putn(out, sys->audit.buf, sys->audit.len);
	pthread_mutex_unlock(&sys->audit_lock);
}
