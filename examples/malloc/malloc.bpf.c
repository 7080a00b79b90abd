// SPDX-License-Identifier: MIT
/* malloc: per-process call counts and a log2 histogram of requested sizes,
 * from a uprobe on libc's malloc.
 *
 *   bpfx run malloc.bpf.o -- CMD ARGS...
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);	/* pid */
	__type(value, __u64);	/* calls */
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);	/* log2 slot: 0 for 0, else bits of the size */
	__type(value, __u64);
} size_hist SEC(".maps");

static __always_inline __u32 slot_of(__u64 v)
{
	__u32 n = 0;

	if (v >> 32) { v >>= 32; n += 32; }
	if (v >> 16) { v >>= 16; n += 16; }
	if (v >> 8) { v >>= 8; n += 8; }
	if (v >> 4) { v >>= 4; n += 4; }
	if (v >> 2) { v >>= 2; n += 2; }
	if (v >> 1) { v >>= 1; n += 1; }
	return v ? n + 1 : 0;
}

SEC("uprobe/libc.so.6:malloc")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, slot = slot_of(size);
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&calls, &pid);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&calls, &pid, &one, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&size_hist, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
