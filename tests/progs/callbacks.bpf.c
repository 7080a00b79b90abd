// SPDX-License-Identifier: MIT
/* Callbacks: bpf_loop and bpf_for_each_map_elem call back into
 * subprograms of the program. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

struct sum_ctx {
	__u64 sum;
	__u64 stop_at;
};

static int add_i(__u32 i, struct sum_ctx *c)
{
	if (i == c->stop_at)
		return 1; /* break */
	c->sum += i;
	return 0;
}

/* sum of 0..PARM1-1, or up to PARM2 (exclusive) when smaller;
 * returns sum * 1000 + iterations */
SEC("uprobe")
int loop_sum(struct pt_regs *ctx)
{
	struct sum_ctx c = { .sum = 0, .stop_at = PT_REGS_PARM2(ctx) };
	long n = bpf_loop((__u32)PT_REGS_PARM1(ctx), add_i, &c, 0);

	return (int)(c.sum * 1000 + n);
}

static long add_value(void *map, __u32 *key, __u64 *val, struct sum_ctx *c)
{
	c->sum += *val;
	*val += 1; /* values are writable from the callback */
	return 0;
}

/* sum of every value in vals (each then incremented) */
SEC("uprobe")
int map_sum(struct pt_regs *ctx)
{
	struct sum_ctx c = {};
	long n = bpf_for_each_map_elem(&vals, add_value, &c, 0);

	return (int)(c.sum * 100 + n);
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr4 SEC(".maps");

/* an array lookup (inlined by the loader) before a callback reference and
 * branches that cross it: arr4[PARM1] += sum(0..4); returns value * 100 +
 * iterations, or -1 out of range */
SEC("uprobe")
int lookup_then_loop(struct pt_regs *ctx)
{
	__u32 k = (__u32)PT_REGS_PARM1(ctx);
	__u64 *v = bpf_map_lookup_elem(&arr4, &k);
	struct sum_ctx c = { .sum = 0, .stop_at = 100 };
	long n = bpf_loop(5, add_i, &c, 0);

	if (!v)
		return -1;
	*v += c.sum;
	return (int)(*v * 100 + n);
}

char LICENSE[] SEC("license") = "GPL";
