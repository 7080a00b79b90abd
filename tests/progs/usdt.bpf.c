// SPDX-License-Identifier: MIT
/* USDT probes through libbpf's usdt support (spec maps, attach cookies,
 * bpf_usdt_arg) on tests/targets/usdt_target, attached by `bpfx run` from
 * the build directory. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} usdt_sums SEC(".maps");

static void add(__u32 key, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&usdt_sums, &key), zero = 0;

	if (!p) {
		bpf_map_update_elem(&usdt_sums, &key, &zero, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&usdt_sums, &key);
	}
	if (p)
		__sync_fetch_and_add(p, v);
}

/* key 0: hits, 1: sum of arg0, 2: sum of arg1 */
SEC("usdt/./tests/targets/usdt_target:bpfx:tick")
int BPF_USDT(tick, long i, long j)
{
	add(0, 1);
	add(1, i);
	add(2, j);
	return 0;
}

/* key 3: gated hits (the semaphore is raised while attached) */
SEC("usdt/./tests/targets/usdt_target:bpfx:gated")
int BPF_USDT(gated, long i)
{
	add(3, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
