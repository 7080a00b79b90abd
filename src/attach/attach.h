/* SPDX-License-Identifier: MIT */
/* attach.h - the session's links made true in this process (uprobes,
 * return probes; syscall tracepoints later). See uprobe.c. */
#ifndef BPFX_ATTACH_H
#define BPFX_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/shm.h"

struct attach_stats {
	uint32_t attached; /* links active in this process */
	uint32_t pending;  /* links whose binary is not mapped here (yet) */
	uint32_t failed;   /* hooks refused (reason logged) */
};

/* Attach every applicable link not attached yet; detach links that are
 * gone or detached. Idempotent; cheap when nothing changed. */
int attach_sync(struct shm_session *s);
/* Restore every patched function. */
void attach_detach_all(void);
void attach_get_stats(struct attach_stats *out);
/* Attach only links that name this process's pid, never pid -1 ones (a
 * routed tool probing itself, as bpftrace's BEGIN/END; see emu/shim.c). */
void attach_set_own_only(bool on);

/* syscall.c: the calling thread's syscalls are bpfx's own, not traced:
 * from now on (the agent's watcher thread), or between quiet_begin and
 * quiet_end (attach_sync does that). */
void attach_thread_quiet(void);
void attach_quiet_begin(void);
void attach_quiet_end(void);

/* debugdata.c: the file offset of FUNC symbol @func that only the
 * MiniDebugInfo (.gnu_debugdata, xz) of ELF file @path names. -ENOENT
 * when .symtab or .dynsym has it (libbpf finds it) or nothing does;
 * -EINVAL for a malformed file. */
int attach_minidebug_func(const char *path, const char *func, uint64_t *off);

#endif
