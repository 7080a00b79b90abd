/* SPDX-License-Identifier: MIT */
/* syscall.c - syscall tracepoints in userspace (being written). */
#include <errno.h>

#include "attach/attach_internal.h"

int attach_syscall_add(uint32_t link_id, const char *tp, struct emu_prog *prog,
		       uint64_t cookie)
{
	(void)link_id;
	(void)tp;
	(void)prog;
	(void)cookie;
	return -EOPNOTSUPP;
}

void attach_syscall_remove(uint32_t link_id)
{
	(void)link_id;
}
