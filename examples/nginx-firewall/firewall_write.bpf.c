// SPDX-License-Identifier: MIT
/*
 * firewall_write.bpf.c - a firewall that tries to write the request: it
 * overwrites the entry's `r` argument. Class "firewall" grants reading the
 * method and URI length only, so this never loads; the rejection names the
 * missing capability (args: {write: [r]}).
 */
#include "nginx_eim.h"

#define SEC(n) __attribute__((section(n), used))

SEC("raw_tp/request")
int firewall_write(struct request_ctx *ctx)
{
	ctx->r = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
