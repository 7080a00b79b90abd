/* SPDX-License-Identifier: MIT */
/*
 * ngx_http_bpfx_module.c - nginx hosts eBPF extensions through bpfx's host
 * API, under the Extension Interface Model.
 *
 * The development side is declared in C in eim_decl.c, linked into this
 * module, with the BPFX_EIM_* macros (recorded in its bpfx_eim section; `bpfx eim show
 * ngx_http_bpfx_module.so` prints it): one explicit entry, `request`,
 * called in the access phase with the request, its method and the URI
 * length; one host function, ngx_req_uri, copying the URI into the
 * extension's buffer; one state variable (the worker count, read-only).
 * The deployment side (classes) comes from the file named by bpfx_classes.
 *
 * Directives (http block):
 *   bpfx_classes PATH;          classes YAML (deployment side)
 *   bpfx_extension OBJ CLASS;   load OBJ (.bpf.o) as CLASS at startup
 *   bpfx_session NAME;          session of the extension's maps
 *   bpfx_native_firewall on;    the same firewall logic, in C (benchmark)
 *
 * The entry returns 0 to go on, or an HTTP status (403) to answer with.
 * An extension that does not load (outside its class) stops nginx with the
 * verifier's reason in the error log: nginx never runs what was refused.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <bpfx/bpfx.h>

/* The EIM declarations (development side) are in eim_decl.c. */

typedef struct {
	ngx_str_t classes;
	ngx_str_t ext_path;
	ngx_str_t ext_class;
	ngx_str_t session;
	ngx_flag_t native;
} ngx_http_bpfx_main_conf_t;

static struct bpfx_host *bpfx_host;
static struct bpfx_entry *bpfx_request;
static struct bpfx_ext *bpfx_ext;
static ngx_flag_t bpfx_native;
uint32_t ngx_bpfx_workers;

static void *ngx_http_bpfx_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_bpfx_init(ngx_conf_t *cf);
static char *ngx_http_bpfx_set_ext(ngx_conf_t *cf, ngx_command_t *cmd,
				   void *conf);

static ngx_command_t ngx_http_bpfx_commands[] = {
	{ ngx_string("bpfx_classes"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
	  ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
	  offsetof(ngx_http_bpfx_main_conf_t, classes), NULL },
	{ ngx_string("bpfx_session"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
	  ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
	  offsetof(ngx_http_bpfx_main_conf_t, session), NULL },
	{ ngx_string("bpfx_extension"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2,
	  ngx_http_bpfx_set_ext, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },
	{ ngx_string("bpfx_native_firewall"), NGX_HTTP_MAIN_CONF | NGX_CONF_FLAG,
	  ngx_conf_set_flag_slot, NGX_HTTP_MAIN_CONF_OFFSET,
	  offsetof(ngx_http_bpfx_main_conf_t, native), NULL },
	ngx_null_command
};

static ngx_http_module_t ngx_http_bpfx_module_ctx = {
	NULL, ngx_http_bpfx_init, ngx_http_bpfx_create_main_conf, NULL,
	NULL, NULL, NULL, NULL
};

ngx_module_t ngx_http_bpfx_module = {
	NGX_MODULE_V1, &ngx_http_bpfx_module_ctx, ngx_http_bpfx_commands,
	NGX_HTTP_MODULE, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NGX_MODULE_V1_PADDING
};

static void *ngx_http_bpfx_create_main_conf(ngx_conf_t *cf)
{
	ngx_http_bpfx_main_conf_t *c = ngx_pcalloc(cf->pool, sizeof(*c));

	if (c)
		c->native = NGX_CONF_UNSET;
	return c;
}

/* bpfx_extension OBJ CLASS; */
static char *ngx_http_bpfx_set_ext(ngx_conf_t *cf, ngx_command_t *cmd,
				   void *conf)
{
	ngx_http_bpfx_main_conf_t *c = conf;
	ngx_str_t *v = cf->args->elts;

	(void)cmd;
	c->ext_path = v[1];
	c->ext_class = v[2];
	return NGX_CONF_OK;
}

/* ---- host functions ---- */

static long ngx_req_uri(const uint64_t *ctx, char *buf, uint32_t size)
{
	ngx_http_request_t *r = (ngx_http_request_t *)(uintptr_t)ctx[0];
	size_t n = r->uri.len < size ? r->uri.len : size;

	ngx_memcpy(buf, r->uri.data, n);
	return (long)n;
}

static long ngx_req_set_uri(const uint64_t *ctx, const char *buf, uint32_t size)
{
	ngx_http_request_t *r = (ngx_http_request_t *)(uintptr_t)ctx[0];
	u_char *p = ngx_pnalloc(r->pool, size);

	if (!p)
		return 0;
	ngx_memcpy(p, buf, size);
	r->uri.data = p;
	r->uri.len = size;
	return (long)size;
}

/* ---- the native firewall: the extension's logic, in C ---- */

static ngx_int_t native_firewall(ngx_http_request_t *r)
{
	static ngx_atomic_t decisions[2];
	u_char uri[64];
	size_t n = r->uri.len < sizeof(uri) ? r->uri.len : sizeof(uri), i;
	ngx_int_t verdict = 0;

	ngx_memcpy(uri, r->uri.data, n);
	if (n >= 6 && !ngx_strncmp(uri, "/admin", 6))
		verdict = NGX_HTTP_FORBIDDEN;
	for (i = 0; i + 1 < n; i++)
		if (uri[i] == '/' && uri[i + 1] == '.')
			verdict = NGX_HTTP_FORBIDDEN;
	decisions[verdict ? 1 : 0]++;
	return verdict;
}

static ngx_int_t ngx_http_bpfx_handler(ngx_http_request_t *r)
{
	uint64_t args[8], rc = 0;

	if (bpfx_native) {
		ngx_int_t v = native_firewall(r);

		return v ? v : NGX_DECLINED;
	}
	args[0] = (uint64_t)(uintptr_t)r;
	args[1] = (uint64_t)r->method;
	args[2] = (uint64_t)r->uri.len;
	if (bpfx_entry_call(bpfx_request, args, &rc) > 0 && rc >= 400 && rc < 600)
		return (ngx_int_t)rc;
	return NGX_DECLINED;
}

static void ngx_http_bpfx_cleanup(void *data)
{
	(void)data;
	bpfx_ext_free(bpfx_ext);
	bpfx_ext = NULL;
	bpfx_host_close(bpfx_host);
	bpfx_host = NULL;
	bpfx_request = NULL;
}

static ngx_int_t load_extension(ngx_conf_t *cf, ngx_http_bpfx_main_conf_t *c)
{
	struct bpfx_host_opts ho = { .sz = sizeof(ho) };
	struct bpfx_ext_opts xo = { .sz = sizeof(xo) };
	static char log[16384];
	char err[512] = "", path[1024], cls[128], classes[1024], session[128];
	ngx_pool_cleanup_t *cln;
	ngx_core_conf_t *ccf;
	int rc;

	ngx_snprintf((u_char *)path, sizeof(path), "%V%Z", &c->ext_path);
	ngx_snprintf((u_char *)cls, sizeof(cls), "%V%Z", &c->ext_class);
	ngx_snprintf((u_char *)classes, sizeof(classes), "%V%Z", &c->classes);
	ngx_snprintf((u_char *)session, sizeof(session), "%V%Z", &c->session);
	if (c->session.len)
		ho.session = session;
	bpfx_host = bpfx_host_open(&ho);
	if (!bpfx_host) {
		ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "bpfx: cannot open the host");
		return NGX_ERROR;
	}
	cln = ngx_pool_cleanup_add(cf->pool, 0);
	if (!cln)
		return NGX_ERROR;
	cln->handler = ngx_http_bpfx_cleanup;
	rc = bpfx_eim_spec_add_records(bpfx_host_spec(bpfx_host), BPFX_EIM_SELF_RECORDS,
				       BPFX_EIM_SELF_SIZE, err, sizeof(err));
	if (!rc && c->classes.len)
		rc = bpfx_eim_spec_add_file(bpfx_host_spec(bpfx_host), classes, err,
					    sizeof(err));
	if (rc) {
		ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "bpfx: EIM spec: %s", err);
		return NGX_ERROR;
	}
	bpfx_host_bind_function(bpfx_host, "ngx_req_uri", (void *)ngx_req_uri);
	bpfx_host_bind_function(bpfx_host, "ngx_req_set_uri", (void *)ngx_req_set_uri);
	ccf = (ngx_core_conf_t *)ngx_get_conf(cf->cycle->conf_ctx, ngx_core_module);
	ngx_bpfx_workers = ccf && ccf->worker_processes > 0 ?
			   (uint32_t)ccf->worker_processes : 1;
	bpfx_host_bind_state(bpfx_host, "ngx_bpfx_workers", &ngx_bpfx_workers);
	bpfx_request = bpfx_host_entry(bpfx_host, "request");
	if (!bpfx_request || bpfx_entry_slots(bpfx_request) > 8) {
		ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "bpfx: no usable 'request' entry");
		return NGX_ERROR;
	}
	if (!c->ext_path.len)
		return NGX_OK;
	xo.log_buf = log;
	xo.log_size = sizeof(log);
	bpfx_ext = bpfx_ext_load_file(bpfx_host, path, cls, &xo);
	if (!bpfx_ext) {
		ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
				   "bpfx: extension %s refused as class '%s': %s\n%s",
				   path, cls, strerror(errno), log);
		return NGX_ERROR;
	}
	rc = bpfx_ext_attach(bpfx_ext);
	if (rc) {
		ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "bpfx: attach: %s",
				   strerror(-rc));
		return NGX_ERROR;
	}
	ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
			   "bpfx: extension %s attached to 'request' as class '%s'",
			   path, cls);
	return NGX_OK;
}

static ngx_int_t ngx_http_bpfx_init(ngx_conf_t *cf)
{
	ngx_http_bpfx_main_conf_t *c =
		ngx_http_conf_get_module_main_conf(cf, ngx_http_bpfx_module);
	ngx_http_core_main_conf_t *cmcf;
	ngx_http_handler_pt *h;

	bpfx_native = c->native == 1;
	if (!bpfx_native && load_extension(cf, c) != NGX_OK)
		return NGX_ERROR;
	cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
	h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
	if (!h)
		return NGX_ERROR;
	*h = ngx_http_bpfx_handler;
	return NGX_OK;
}
