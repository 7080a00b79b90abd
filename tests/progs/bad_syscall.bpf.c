// SPDX-License-Identifier: MIT
/* A sys_enter program that writes its context (the syscall's arguments):
 * the verifier must refuse it, as the kernel's does, before anything is
 * attached (tests/e2e/syscall_bad_program.sh). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "syscall_tp.h"

SEC("tracepoint/syscalls/sys_enter_getppid")
int writes_ctx(struct trace_event_raw_sys_enter *ctx)
{
	ctx->args[0] = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
