// SPDX-License-Identifier: MIT
/* Counts nginx's requests per worker process (ngx_http_process_request,
 * exported by Debian's nginx for its dynamic modules): the e2e test
 * attaches it to a running worker. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} ngx_requests SEC(".maps");

SEC("uprobe//usr/sbin/nginx:ngx_http_process_request")
int ngx_request(struct pt_regs *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *v = bpf_map_lookup_elem(&ngx_requests, &pid);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&ngx_requests, &pid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
