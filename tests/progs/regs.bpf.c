// SPDX-License-Identifier: MIT
/* Programs test_progs attaches to a function of its own (tgt_leaf) to
 * check that the caller gets every register back through the whole path:
 * one calling no helper (the hook saves no vector register), one calling
 * vector-free helpers (likewise), one calling a libc-backed helper (the
 * hook saves xmm0-15), each as uprobe and uretprobe. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} reg_hits SEC(".maps");

static void hit(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&reg_hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("uprobe") int r_plain(void *ctx) { hit(0); return 0; }
SEC("uretprobe") int r_plain_ret(void *ctx) { hit(1); return 0; }

SEC("uprobe")
int r_novec(void *ctx)
{
	if (bpf_ktime_get_ns() && bpf_get_current_pid_tgid())
		hit(2);
	return 0;
}

SEC("uretprobe")
int r_novec_ret(void *ctx)
{
	if (bpf_ktime_get_ns() && bpf_get_current_pid_tgid())
		hit(3);
	return 0;
}

SEC("uprobe")
int r_vec(void *ctx)
{
	char comm[16];

	if (!bpf_get_current_comm(comm, sizeof(comm)) && comm[0])
		hit(4);
	return 0;
}

SEC("uretprobe")
int r_vec_ret(void *ctx)
{
	char comm[16];

	if (!bpf_get_current_comm(comm, sizeof(comm)) && comm[0])
		hit(5);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
