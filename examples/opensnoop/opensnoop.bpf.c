// SPDX-License-Identifier: MIT
/* opensnoop: every openat of a command, with its pid, comm, fd or error
 * and path, one line per call through a ring buffer. The tracepoint code
 * is the shape of libbpf-tools' opensnoop (sys_enter remembers the
 * arguments per thread, sys_exit reports), on the kernel's context
 * layouts.
 *
 *   bpfx run opensnoop.bpf.o -- CMD ARGS...
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "syscall_tp.h"

struct args_t {
	const char *fname;
	__u64 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);	/* tid */
	__type(value, struct args_t);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* per-CPU scratch: the line and the strings it is built from */
struct line {
	char comm[16];
	char path[256];
	char text[320];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct line);
} scratch SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint__syscalls__sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args_t args = {
		.fname = (const char *)ctx->args[1],
		.flags = ctx->args[2],
	};

	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tracepoint__syscalls__sys_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	static const char fmt[] = "%-7d %-16s %4d %3d %s";
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0;
	struct args_t *ap;
	struct line *l;
	__u64 data[5];
	long ret = ctx->ret, n;
	__u32 len;

	ap = bpf_map_lookup_elem(&start, &tid);
	if (!ap)
		return 0;
	l = bpf_map_lookup_elem(&scratch, &zero);
	if (!l)
		goto out;
	bpf_get_current_comm(l->comm, sizeof(l->comm));
	bpf_probe_read_user_str(l->path, sizeof(l->path), ap->fname);
	data[0] = id >> 32;
	data[1] = (__u64)l->comm;
	data[2] = ret >= 0 ? ret : -1;
	data[3] = ret >= 0 ? 0 : -ret;
	data[4] = (__u64)l->path;
	n = bpf_snprintf(l->text, sizeof(l->text), fmt, data, sizeof(data));
	len = (__u32)n & 0x1ff; /* bounded for the verifier */
	if (n > 0 && len > 0 && len <= sizeof(l->text))
		bpf_ringbuf_output(&events, l->text, len, 0);
out:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
