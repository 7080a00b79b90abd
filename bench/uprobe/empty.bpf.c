// SPDX-License-Identifier: MIT
/* The empty programs bench/uprobe attaches (the cost of the machinery),
 * and one calling a helper (what most tracing programs do: the hook then
 * saves the vector registers). */
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

char LICENSE[] SEC("license") = "GPL";
