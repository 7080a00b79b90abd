/* SPDX-License-Identifier: MIT */
/*
 * eim_decl.c - the development side of nginx's extension interface,
 * declared in C (BPFX_EIM_* macros: recorded in the "bpfx_eim" section of
 * whatever links this file). Compiled into the nginx module, and on its own
 * so the build can run `bpfx eim header` for the extensions without nginx.
 */
#include <bpfx/eim.h>

/* The request object: extensions never dereference it. */
BPFX_EIM_TYPE(ngx_http_request_t);

/* Called in the access phase; returns 0 (go on) or an HTTP status. */
BPFX_EIM_ENTRY(request,
	       "int request(ngx_http_request_t *r, u32 method, u32 uri_len)");

/* nginx's worker_processes: a host variable classes may grant reading. */
BPFX_EIM_STATE(u32, ngx_bpfx_workers);

/* Copy up to size bytes of the URI into buf; returns the bytes copied. */
BPFX_EIM_FUNCTION("long ngx_req_uri(ctx c, char *buf, u32 size)",
		  "writable(buf, size); size > 0; size <= 4096; ret >= 0; ret <= size");

/* Replace the URI (an internal rewrite): only for classes that grant it. */
BPFX_EIM_FUNCTION("long ngx_req_set_uri(ctx c, const char *buf, u32 size)",
		  "readable(buf, size); size > 0; size <= 4096; ret >= 0; ret <= size");
