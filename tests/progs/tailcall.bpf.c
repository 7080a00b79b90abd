// SPDX-License-Identifier: MIT
/* Tail calls through a PROG_ARRAY initialized by libbpf: dispatch by
 * PARM1, a missing slot falls through, and a self tail call stops at the
 * kernel's limit of 33. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 runs;

SEC("uprobe")
int target_a(struct pt_regs *ctx)
{
	return 100 + (int)PT_REGS_PARM2(ctx);
}

SEC("uprobe")
int target_b(struct pt_regs *ctx)
{
	return 200 + (int)PT_REGS_PARM2(ctx);
}

SEC("uprobe")
int self_loop(struct pt_regs *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(struct pt_regs *));
} jmp SEC(".maps") = {
	.values = { [0] = (void *)&target_a, [1] = (void *)&target_b,
		    [3] = (void *)&self_loop },
};

SEC("uprobe")
int dispatch(struct pt_regs *ctx)
{
	bpf_tail_call(ctx, &jmp, (__u32)PT_REGS_PARM1(ctx));
	return -1; /* empty slot */
}

SEC("uprobe")
int self_loop(struct pt_regs *ctx)
{
	runs++;
	bpf_tail_call(ctx, &jmp, 3);
	return (int)runs;
}

char LICENSE[] SEC("license") = "GPL";
