// SPDX-License-Identifier: MIT
/* bashreadline: every command line that bash reads, from a uretprobe on
 * bash's readline() (as libbpf-tools' bashreadline, in user space). The
 * returned string is copied, then sent through a ring buffer as one line
 * of text, "PID COMM LINE", which `bpfx run` prints as it comes.
 *
 *   bpfx run bashreadline.bpf.o -- bash -i
 *   bpfx run bashreadline.bpf.o --pid $(pgrep -n bash)
 *
 * Debian's /bin/bash exports readline (nm -D /bin/bash | grep readline).
 * A bash elsewhere: change the path in SEC() below and rebuild.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_LINE 256

struct scratch {
	char line[MAX_LINE];
	char comm[16];
	char text[MAX_LINE + 32];	/* "PID COMM LINE" */
};

/* Per-CPU staging: too big for the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("uretprobe//bin/bash:readline")
int BPF_KRETPROBE(bash_readline, const char *ret)
{
	__u32 zero = 0, pid = bpf_get_current_pid_tgid() >> 32;
	struct scratch *s;
	long n;

	if (!ret)
		return 0;	/* end of input */
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	if (bpf_probe_read_user_str(s->line, sizeof(s->line), ret) < 0)
		return 0;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	n = BPF_SNPRINTF(s->text, sizeof(s->text), "%-7u %-16s %s", pid, s->comm,
			 s->line);
	if (n <= 0)
		return 0;
	if (n > (long)sizeof(s->text))
		n = sizeof(s->text);	/* truncated; still ends in NUL */
	bpf_ringbuf_output(&events, s->text, n, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
