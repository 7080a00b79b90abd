// SPDX-License-Identifier: MIT
/* error-inject: make openat of one path fail with -EACCES, without the
 * syscall being made (bpf_override_return on sys_enter). Other opens are
 * untouched. The path is DENY_PATH below (change it and rebuild, or
 * compile with -DDENY_PATH='"/your/path"').
 *
 *   bpfx run error_inject.bpf.o -- CMD ARGS...
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "syscall_tp.h"

#ifndef DENY_PATH
#define DENY_PATH "/tmp/bpfx-denied"
#endif
#define EACCES 13

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} denied SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int deny_openat(struct trace_event_raw_sys_enter *ctx)
{
	static const char want[] = DENY_PATH;
	char path[sizeof(want)];
	__u32 zero = 0;
	__u64 *n;
	long len;
	int i;

	len = bpf_probe_read_user_str(path, sizeof(path), (const char *)ctx->args[1]);
	if (len != sizeof(want))
		return 0;
	for (i = 0; i < (int)sizeof(want); i++)
		if (path[i] != want[i])
			return 0;
	n = bpf_map_lookup_elem(&denied, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	bpf_override_return((void *)ctx, -EACCES);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
