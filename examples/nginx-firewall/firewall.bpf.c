// SPDX-License-Identifier: MIT
/*
 * firewall.bpf.c - class "firewall": read the request URI through the host
 * function ngx_req_uri, answer 403 to "/admin..." and to any path segment
 * starting with a dot ("/.git", "/.env"), count decisions (0 pass, 1 deny) in a map. Loop-free (unrolled) so
 * the class's instruction bound is provable; the verifier knows from the
 * host function's declared constraints that 0 <= n <= sizeof(uri).
 */
#include "nginx_eim.h"

#define SEC(n) __attribute__((section(n), used))
#define BPF_MAP_TYPE_ARRAY 2
#define URI_MAX 64

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

struct {
	int (*type)[BPF_MAP_TYPE_ARRAY];
	int (*max_entries)[2];
	__u32 *key;
	__u64 *value;
} decisions SEC(".maps");

SEC("raw_tp/request")
int firewall(struct request_ctx *ctx)
{
	char uri[URI_MAX];
	__u32 key = 0, verdict = 0;
	__u64 *cnt;
	long n;
	int i, prev = 0;

	n = ngx_req_uri(ctx, uri, sizeof(uri));
	if (n >= 6 && uri[0] == '/' && uri[1] == 'a' && uri[2] == 'd' &&
	    uri[3] == 'm' && uri[4] == 'i' && uri[5] == 'n')
		verdict = 403;
#pragma clang loop unroll(full)
	for (i = 0; i < URI_MAX; i++) {
		if (i >= n)
			break;
		if (uri[i] == '.' && prev)
			verdict = 403;
		prev = uri[i] == '/';
	}
	key = verdict ? 1 : 0;
	cnt = bpf_map_lookup_elem(&decisions, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
