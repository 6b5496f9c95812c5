/*
 * Core dumps (private to sys): the note section of an ELF core (coredump_notes.c) and
 * the segment writer (coredump.c). The notes are built in memory, the segments are
 * streamed page by page; nothing here changes the dumped process.
 */
#ifndef PM_SYS_COREDUMP_H
#define PM_SYS_COREDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "sys/sys.h"

/* A growable byte buffer for the notes. */
struct core_buf {
	uint8_t *p;
	size_t len, cap;
	int err;			/* -ENOMEM once an append failed; sticky */
	struct kmem *km;
};

/* Builds NT_PRSTATUS, NT_PRPSINFO, NT_AUXV and NT_FILE for p into b (b->err says whether
 * it worked). The caller holds mm->lock for reading. */
void core_notes_build(struct pm_process *p, struct core_buf *b);
void core_buf_free(struct core_buf *b);

#endif
