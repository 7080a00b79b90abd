// SPDX-License-Identifier: MIT
/* Empty programs on the kernel's syscall tracepoints: the "kernel" rows
 * of bench/syscall (loaded by libbpf straight into the kernel). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_getppid")
int k_enter_getppid(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_exit_getppid")
int k_exit_getppid(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_enter_openat")
int k_enter_openat(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_enter_read")
int k_enter_read(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_enter_close")
int k_enter_close(void *ctx) { return 0; }
SEC("tracepoint/raw_syscalls/sys_enter")
int k_raw_enter(void *ctx) { return 0; }
SEC("tracepoint/raw_syscalls/sys_exit")
int k_raw_exit(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "Dual MIT/GPL";
