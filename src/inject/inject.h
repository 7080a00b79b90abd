/* SPDX-License-Identifier: MIT */
/* inject.h - load the agent into a running process (ptrace + dlopen). */
#ifndef BPFX_INJECT_H
#define BPFX_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Make process @pid dlopen @agent (an absolute path), telling it to use
 * @session. 0, or -errno with one sentence in @why: -ESRCH (no such
 * process / it died), -EPERM (ptrace not allowed), -ENOTSUP (another
 * libc), -ENOEXEC (dlopen failed in the target). The target keeps running
 * with its registers restored in every case. */
int inject_agent(pid_t pid, const char *agent, const char *session, char *why,
		 size_t whylen);
/* Is the agent mapped in @pid already? */
bool inject_has_agent(pid_t pid);

#endif
