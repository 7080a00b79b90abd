/* SPDX-License-Identifier: MIT */
/* attach_internal.h - what crosses files inside src/attach. */
#ifndef BPFX_ATTACH_INTERNAL_H
#define BPFX_ATTACH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/emu.h"

/*
 * syscall.c: programs on syscall tracepoints in this process.
 * @tp is "syscalls/sys_enter_<name>", "syscalls/sys_exit_<name>",
 * "raw_syscalls/sys_enter" or "raw_syscalls/sys_exit"; @prog is
 * instantiated (JIT where it compiled). Called with attach's lock held,
 * from attach_sync. -errno on failure (the link stays unattached).
 */
int attach_syscall_add(uint32_t link_id, const char *tp, struct emu_prog *prog,
		       uint64_t cookie);
void attach_syscall_remove(uint32_t link_id);

/* Built with a sanitizer? Its runtime is ordinary C, which may touch
 * vector registers: hit paths then keep the vector saves (uprobe.c,
 * syscall.c). */
#if defined(__SANITIZE_ADDRESS__)
#define ATTACH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTACH_SANITIZED 1
#endif
#endif
#ifndef ATTACH_SANITIZED
#define ATTACH_SANITIZED 0
#endif

#endif
