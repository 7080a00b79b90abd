// SPDX-License-Identifier: MIT
/* A uprobe on a symbol that does not exist: attaching must fail clearly. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

SEC("uprobe/libc.so.6:no_such_function")
int probe(struct pt_regs *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
