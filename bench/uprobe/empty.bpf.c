// SPDX-License-Identifier: MIT
/* The empty programs bench/uprobe attaches (the cost of the machinery),
 * and two calling a helper, as most tracing programs do: a vector-free
 * one (the hook still saves no vector register) and one backed by libc
 * (the hook saves xmm0-15). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int empty_entry(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_return(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int helper_entry(struct pt_regs *ctx)
{
	return (int)bpf_get_current_pid_tgid();
}

SEC("uprobe")
int vec_helper_entry(struct pt_regs *ctx)
{
	char comm[16];

	return (int)bpf_get_current_comm(comm, sizeof(comm));
}

char LICENSE[] SEC("license") = "GPL";
