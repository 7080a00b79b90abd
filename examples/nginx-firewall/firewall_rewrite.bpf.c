// SPDX-License-Identifier: MIT
/*
 * firewall_rewrite.bpf.c - a firewall that tries to rewrite the URI with
 * the host function ngx_req_set_uri, which class "firewall" does not grant:
 * refused at load, naming 'functions: [ngx_req_set_uri]'.
 */
#include "nginx_eim.h"

#define SEC(n) __attribute__((section(n), used))

SEC("raw_tp/request")
int firewall_rewrite(struct request_ctx *ctx)
{
	char uri[8] = "/";

	ngx_req_set_uri(ctx, uri, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
