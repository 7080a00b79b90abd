/* SPDX-License-Identifier: MIT */
/* syscall_tp.h - the kernel's syscall tracepoint contexts (tracefs
 * "format" files; what vmlinux.h gives libbpf-tools), for the eBPF
 * programs of examples/ and tests/. */
#ifndef BPFX_SYSCALL_TP_H
#define BPFX_SYSCALL_TP_H

/* syscalls/sys_enter_<name> (int __syscall_nr at 8) and
 * raw_syscalls/sys_enter (long id at 8) */
struct trace_event_raw_sys_enter {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
	long id;
	unsigned long args[6];
};

struct trace_event_raw_sys_exit {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
	long id;
	long ret;
};

#endif
