// SPDX-License-Identifier: MIT
/* funclatency: a log2 histogram of how long one function takes, from a
 * uprobe and a uretprobe on it (as libbpf-tools' funclatency, in user
 * space). The entry stores the time by thread id; the return takes the
 * difference and counts it in its log2 slot, in microseconds (or in
 * nanoseconds, built with -DFUNCLAT_NS).
 *
 *   bpfx run funclatency.bpf.o -- CMD ARGS...
 *
 * The function is fixed when this file is compiled: FUNCLAT_TARGET, as
 * "BINARY:FUNC" (a library soname such as libc.so.6, resolved by libbpf in
 * $LD_LIBRARY_PATH and the system library directories, an executable name
 * looked up in $PATH, or a path). The default is the bundled
 * libbpfxdemo.so:bpfxdemo_work. funclatency.sh recompiles for any other.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef FUNCLAT_TARGET
#define FUNCLAT_TARGET "libbpfxdemo.so:bpfxdemo_work"
#endif

#ifdef FUNCLAT_NS
#define HIST nsecs_hist
#define UNIT 1
#else
#define HIST usecs_hist
#define UNIT 1000
#endif

#define MAX_SLOTS 64

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);	/* thread id */
	__type(value, __u64);	/* entry time, ns */
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, __u32);	/* log2 slot: 0 for 0, else bits of the latency */
	__type(value, __u64);	/* calls */
} HIST SEC(".maps");

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

SEC("uprobe/" FUNCLAT_TARGET)
int BPF_KPROBE(func_entry)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
	return 0;
}

SEC("uretprobe/" FUNCLAT_TARGET)
int BPF_KRETPROBE(func_return)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), slot;
	__u64 *t0, *count, delta;

	t0 = bpf_map_lookup_elem(&start, &tid);
	if (!t0)
		return 0;	/* entered before the probe was attached */
	delta = (bpf_ktime_get_ns() - *t0) / UNIT;
	bpf_map_delete_elem(&start, &tid);
	slot = slot_of(delta);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	count = bpf_map_lookup_elem(&HIST, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
