// SPDX-License-Identifier: MIT
/* A program the verifier must refuse: it uses a map value without the
 * NULL check (the kernel refuses it too). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("uprobe/libc.so.6:malloc")
int no_null_check(struct pt_regs *ctx)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	*v += 1; /* v may be NULL */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
