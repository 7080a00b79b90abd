// SPDX-License-Identifier: MIT
/* A uprobe and a uretprobe on a library the target loads with dlopen
 * after start (tests/targets/dlopen_loop), attached by `bpfx run` from the
 * build directory: the links wait until the library is mapped. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} dlopen_hits SEC(".maps");

static void count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&dlopen_hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("uprobe/./tests/targets/libbpfxdemo.so:bpfxdemo_work")
int BPF_KPROBE(dl_entry, unsigned int usec)
{
	count(0);
	return 0;
}

SEC("uretprobe/./tests/targets/libbpfxdemo.so:bpfxdemo_work")
int BPF_KRETPROBE(dl_return, unsigned int ret)
{
	count(1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
