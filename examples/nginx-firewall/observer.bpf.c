// SPDX-License-Identifier: MIT
/*
 * observer.bpf.c - class "observer": may only read. It reads the method and
 * the URI and always lets the request through (returns 0).
 */
#include "nginx_eim.h"

#define SEC(n) __attribute__((section(n), used))

SEC("raw_tp/request")
int observer(struct request_ctx *ctx)
{
	char uri[16];
	long n = ngx_req_uri(ctx, uri, sizeof(uri));

	return n > 0 && ctx->method == 0 ? 0 : 0;
}

char LICENSE[] SEC("license") = "GPL";
