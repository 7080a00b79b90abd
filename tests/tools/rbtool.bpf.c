// SPDX-License-Identifier: MIT
/* rbtool.bpf.c - the kernel side of tests/tools/rbtool: a uprobe that sends
 * one ring buffer record per call (pid, first argument) of the function the
 * user side attaches it to. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "rbtool.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* set by the user side before load (.rodata) */
const volatile __u64 cookie_tag = 0;

SEC("uprobe")
int BPF_KPROBE(on_call, long arg)
{
	struct rbtool_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	e->pad = 0;
	e->arg = arg;
	e->tag = cookie_tag;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
