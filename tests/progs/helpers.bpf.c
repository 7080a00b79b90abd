// SPDX-License-Identifier: MIT
/* One program per helper (or family); results land in .bss for the test
 * to check against what it knows (pid, comm, ...). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 t_mono[2], t_boot, t_coarse, pid_tgid, uid_gid, rnd[2];
__u32 cpu;
char comm[16];
__u64 read_val;
long read_err, bad_err, str_len, write_err;
char str_buf[32];
char fmt_out[64];
long fmt_len, cmp_eq, cmp_lt;
long rb_query_before, rb_query_after;
__u64 stack_ips[4];
long stack_len;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct locked {
	struct bpf_spin_lock lock;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

SEC("uprobe")
int time_and_identity(struct pt_regs *ctx)
{
	t_mono[0] = bpf_ktime_get_ns();
	t_boot = bpf_ktime_get_boot_ns();
	t_coarse = bpf_ktime_get_coarse_ns();
	t_mono[1] = bpf_ktime_get_ns();
	pid_tgid = bpf_get_current_pid_tgid();
	uid_gid = bpf_get_current_uid_gid();
	bpf_get_current_comm(comm, sizeof(comm));
	rnd[0] = bpf_get_prandom_u32();
	rnd[1] = bpf_get_prandom_u32();
	cpu = bpf_get_smp_processor_id();
	return 0;
}

/* PARM1: a pointer to a u64 and to a string; PARM2: a bad pointer */
SEC("uprobe")
int probe_reads(struct pt_regs *ctx)
{
	__u64 v = 0;

	read_err = bpf_probe_read_user(&read_val, sizeof(read_val),
				       (void *)PT_REGS_PARM1(ctx));
	bad_err = bpf_probe_read_user(&v, sizeof(v), (void *)PT_REGS_PARM2(ctx));
	str_len = bpf_probe_read_user_str(str_buf, sizeof(str_buf),
					  (void *)PT_REGS_PARM3(ctx));
	v = 0xfeedfacecafebeefull;
	write_err = bpf_probe_write_user((void *)PT_REGS_PARM1(ctx), &v, sizeof(v));
	return 0;
}

SEC("uprobe")
int printk_and_strings(struct pt_regs *ctx)
{
	static const char name[] = "bpfx";

	bpf_printk("hello from bpfx %d %s", 7, name);
	/* BPF_SNPRINTF fills the u64 argument array at run time */
	fmt_len = BPF_SNPRINTF(fmt_out, sizeof(fmt_out), "pid %d says %s", 42, name);
	cmp_eq = bpf_strncmp(fmt_out, 4, "pid ");
	cmp_lt = bpf_strncmp(fmt_out, 4, "qid ");
	return 0;
}

struct event {
	__u32 seq;
	char tag[12];
};

/* emits PARM1 records through output, reserve+submit, and one discard */
SEC("uprobe")
int ringbuf_events(struct pt_regs *ctx)
{
	__u32 n = (__u32)PT_REGS_PARM1(ctx), i;
	struct event *e;

	rb_query_before = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	for (i = 0; i < n && i < 64; i++) {
		if (i & 1) {
			struct event ev = { .seq = i };

			__builtin_memcpy(ev.tag, "output", 7);
			bpf_ringbuf_output(&rb, &ev, sizeof(ev), 0);
			continue;
		}
		e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
		if (!e)
			return -1;
		e->seq = i;
		__builtin_memcpy(e->tag, "reserve", 8);
		bpf_ringbuf_submit(e, 0);
	}
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (e)
		bpf_ringbuf_discard(e, 0);
	rb_query_after = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	return 0;
}

SEC("uprobe")
int spin_lock(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct locked *l = bpf_map_lookup_elem(&locks, &zero);

	if (!l)
		return -1;
	bpf_spin_lock(&l->lock);
	l->count++;
	bpf_spin_unlock(&l->lock);
	return 0;
}

SEC("uprobe")
int user_stack(struct pt_regs *ctx)
{
	stack_len = bpf_get_stack(ctx, stack_ips, sizeof(stack_ips), BPF_F_USER_STACK);
	return 0;
}

SEC("uprobe")
int signal(struct pt_regs *ctx)
{
	return bpf_send_signal((__u32)PT_REGS_PARM1(ctx));
}

char LICENSE[] SEC("license") = "GPL";
