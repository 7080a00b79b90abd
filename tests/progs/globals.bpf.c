// SPDX-License-Identifier: MIT
/* Global data (.data, .rodata, .bss), bpf-to-bpf subprograms, static
 * linking of a second function, and CO-RE field access against the
 * object's own BTF. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

const volatile __u64 scale = 3;	/* .rodata, set by the loader */
__u64 counter = 100;		/* .data */
__u64 hits;			/* .bss */
char last_name[16];		/* .bss */

struct point {
	int x;
	int pad;
	long long y;
} __attribute__((preserve_access_index));

static __noinline __u64 square(__u64 v)
{
	return v * v;
}

static __noinline __u64 twice_square(__u64 v)
{
	return 2 * square(v);
}

static __noinline __u64 chain3(__u64 v)
{
	return twice_square(v) + 1;
}

/* counter += PARM1 * scale; hits++; returns chain3(PARM1) */
SEC("uprobe")
int globals(struct pt_regs *ctx)
{
	__u64 v = PT_REGS_PARM1(ctx);

	counter += v * scale;
	hits++;
	__builtin_memcpy(last_name, "globals", 8);
	return (int)chain3(v);
}

/* reads point->y (CO-RE relocated) from the struct PARM1 points to */
SEC("uprobe")
int core_read(struct pt_regs *ctx)
{
	struct point *p = (struct point *)PT_REGS_PARM1(ctx);
	long long y = BPF_CORE_READ_USER(p, y);
	int x = BPF_CORE_READ_USER(p, x);

	return (int)(y * 10 + x);
}

char LICENSE[] SEC("license") = "GPL";
