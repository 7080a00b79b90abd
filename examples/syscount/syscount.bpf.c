// SPDX-License-Identifier: MIT
/* syscount: per-syscall counts and total latency of a command, from
 * raw_syscalls/sys_enter and raw_syscalls/sys_exit (as libbpf-tools'
 * syscount does). At the end `bpfx run` prints
 *   @counts[NR]: calls      @latency_ns[NR]: total nanoseconds
 * keyed by syscall number (`ausyscall NR` names it).
 *
 *   bpfx run syscount.bpf.o -- CMD ARGS...
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "syscall_tp.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);	/* tid */
	__type(value, __u64);	/* sys_enter time */
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);	/* syscall number */
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} latency_ns SEC(".maps");

static __always_inline void add(void *map, __u32 key, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(map, &key);

	if (p)
		__sync_fetch_and_add(p, v);
	else
		bpf_map_update_elem(map, &key, &v, BPF_NOEXIST) &&
			(p = bpf_map_lookup_elem(map, &key)) &&
			__sync_fetch_and_add(p, v);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 nr = (__u32)ctx->id;
	__u64 *ts = bpf_map_lookup_elem(&start, &tid);

	if (ctx->id < 0)
		return 0;
	add(&counts, nr, 1);
	if (ts) {
		add(&latency_ns, nr, bpf_ktime_get_ns() - *ts);
		bpf_map_delete_elem(&start, &tid);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
