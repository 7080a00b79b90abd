// SPDX-License-Identifier: MIT
/* A uprobe on a static function that only the target's .gnu_debugdata
 * names (tests/targets/minidebug_target, built by minidebug.sh). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hidden SEC(".maps");

SEC("uprobe/./tests/targets/minidebug_target:hidden_work")
int BPF_KPROBE(hidden_entry, long x)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&hidden, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	k = 1;
	v = bpf_map_lookup_elem(&hidden, &k);
	if (v)
		__sync_fetch_and_add(v, x);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
