// SPDX-License-Identifier: MIT
/* sslsniff: the plaintext of TLS connections, taken where OpenSSL sees it:
 * before SSL_write encrypts it and after SSL_read decrypts it (as
 * libbpf-tools' sslsniff, in user space).
 *
 *   bpfx run sslsniff.bpf.o -- curl -sk https://127.0.0.1:8443/
 *   bpfx run sslsniff.bpf.o -- openssl s_client -connect HOST:PORT
 *
 * SSL_write(ssl, buf, num): the uprobe at entry has the data. SSL_read(ssl,
 * buf, num): the data is there only at return, so the entry saves buf by
 * thread id and the uretprobe reads min(ret, MAX_DATA) bytes from it.
 * Each call becomes one text record in the ring buffer, which `bpfx run`
 * prints as it comes:
 *
 *   PID     COMM             FUNC      LEN bytes[ (first MAX_DATA)]:
 *   the plaintext, with bytes other than printable ASCII, \t and \n as '.'
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_DATA 256	/* plaintext bytes shown per call (a power of 2) */
#define STR_(x) #x
#define STR(x) STR_(x)

#define MAX_HDR 128	/* header line, a power of 2 */

/* Header, then the data right after it: each part's offset and size is
 * masked to its power-of-2 bound, which any verifier can follow, so the
 * buffer is sized for the masks rather than for the text. */
struct scratch {
	char comm[16];
	char text[MAX_HDR + 2 * MAX_DATA];
};

/* Per-CPU staging: too big for the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);	/* thread id */
	__type(value, __u64);	/* SSL_read's buf */
} read_bufs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline int emit(const char *func, const void *buf, int len)
{
	__u32 zero = 0, pid = bpf_get_current_pid_tgid() >> 32, n, i;
	struct scratch *s;
	long hdr;
	char *data;

	if (len <= 0 || !buf)
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	hdr = BPF_SNPRINTF(s->text, MAX_HDR, "%-7u %-16s %-9s %d bytes%s:\n", pid, s->comm,
			   func, len, len > MAX_DATA ? " (first " STR(MAX_DATA) ")" : "");
	if (hdr <= 1 || hdr > MAX_HDR)
		return 0;
	hdr = (hdr - 1) & (MAX_HDR - 1);	/* where its NUL is */
	n = len > MAX_DATA ? MAX_DATA : (__u32)len;
	/* Keep the bound visible to a verifier after clang's rewrites. */
	barrier_var(n);
	n &= 2 * MAX_DATA - 1;
	data = s->text + hdr;
	if (bpf_probe_read_user(data, n, buf))
		return 0;
	/* Text only: the record prints as one (see bpfx run). */
	for (i = 0; i < MAX_DATA; i++) {
		char c;

		if (i >= n)
			break;
		c = data[i];
		if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\t')
			data[i] = '.';
	}
	data[n] = '\0';
	bpf_ringbuf_output(&events, s->text, hdr + n + 1, 0);
	return 0;
}

SEC("uprobe/libssl.so.3:SSL_write")
int BPF_KPROBE(ssl_write, void *ssl, const void *buf, int num)
{
	return emit("SSL_write", buf, num);
}

SEC("uprobe/libssl.so.3:SSL_read")
int BPF_KPROBE(ssl_read_entry, void *ssl, void *buf, int num)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 p = (__u64)buf;

	bpf_map_update_elem(&read_bufs, &tid, &p, BPF_ANY);
	return 0;
}

SEC("uretprobe/libssl.so.3:SSL_read")
int BPF_KRETPROBE(ssl_read_return, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *p = bpf_map_lookup_elem(&read_bufs, &tid);
	const void *buf;

	if (!p)
		return 0;
	buf = (const void *)*p;
	bpf_map_delete_elem(&read_bufs, &tid);
	return emit("SSL_read", buf, ret);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
