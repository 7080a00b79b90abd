/* SPDX-License-Identifier: MIT */
/* test_eim.c - the EIM spec (parsing, file:line errors, C records), class
 * enforcement at load (capabilities, constraints, limits) and the host API
 * (entries, state copies, host-function return checks, isolation). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bpfx/bpfx.h"
#include "eim/eim_internal.h"
#include "isolate/isolate.h"
#include "insn.h"

BPFX_EIM_TYPE(thing_t);
BPFX_EIM_ENTRY(on_thing, "int on_thing(thing_t *t, u32 n)");
BPFX_EIM_FUNCTION("long thing_size(ctx c)", "ret >= 0; ret < 100");

static const char dev[] =
	"types: [req_t]\n"
	"entries:\n"
	"  - name: req\n"
	"    prototype: \"int req(req_t *r, u32 len)\"\n"
	"state:\n"
	"  - name: counter\n"
	"    type: u64\n"
	"functions:\n"
	"  - prototype: \"long get(ctx c, char *buf, u32 size)\"\n"
	"    constraints: [\"writable(buf, size)\", \"size > 0\", \"size <= 64\", \"ret >= 0\", \"ret <= size\"]\n"
	"  - prototype: \"long nocons(ctx c, char *buf, u32 size)\"\n"
	"    constraints: [\"writable(buf, size)\", \"size <= 64\"]\n"
	"  - prototype: \"int bad(u32 x)\"\n"
	"    constraints: [\"ret >= 0\", \"ret < x\"]\n"
	"classes:\n"
	"  - name: all\n"
	"    entry: req\n"
	"    allow:\n"
	"      functions: [get, nocons, bad]\n"
	"      args: {read: [r, len], write: [len]}\n"
	"      state: {read: [counter], write: [counter]}\n"
	"      helpers: [maps, time]\n"
	"      limits: [\"instructions < 64\", \"memory < 4K\"]\n"
	"  - name: none\n"
	"    entry: req\n";

static struct bpfx_eim_spec *spec(void)
{
	struct bpfx_eim_spec *s = bpfx_eim_spec_new();
	char err[256] = "";

	assert_non_null(s);
	assert_int_equal(bpfx_eim_spec_add_text(s, dev, strlen(dev), "t.yaml", err,
						sizeof(err)), 0);
	return s;
}

static int check(const struct bpfx_eim_spec *s, const char *cls,
		 const struct bpfx_insn *p, size_t n, char *log, size_t size)
{
	struct bpfx_eim_check_opts o = { .sz = sizeof(o), .log_buf = log,
					 .log_size = size };

	log[0] = '\0';
	return bpfx_eim_check(s, cls, p, n, &o);
}

static void expect_error(const char *text, const char *where, const char *what)
{
	struct bpfx_eim_spec *s = bpfx_eim_spec_new();
	char err[512] = "";

	assert_int_equal(bpfx_eim_spec_add_text(s, text, strlen(text), "bad.yaml",
						err, sizeof(err)), -EINVAL);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("error '%s' lacks '%s' / '%s'", err, where, what);
	bpfx_eim_spec_free(s);
}

static void spec_parses_and_prints(void **state)
{
	struct bpfx_eim_spec *s = spec();
	char buf[4096];

	(void)state;
	assert_true(bpfx_eim_spec_format(s, buf, sizeof(buf)) < sizeof(buf));
	assert_non_null(strstr(buf, "long get(ctx c, char *buf, u32 size)"));
	assert_non_null(strstr(buf, "limits: [\"instructions < 64\", \"memory < 4096\"]"));
	assert_true(bpfx_eim_spec_header(s, buf, sizeof(buf)) < sizeof(buf));
	assert_non_null(strstr(buf, "struct req_ctx {"));
	assert_int_equal(bpfx_eim_class_ctx_size(s, "all"), 24);
	assert_int_equal(bpfx_eim_class_ctx_size(s, "nope"), -ENOENT);
	bpfx_eim_spec_free(s);
}

static void spec_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error("entries: [\n", "bad.yaml:", "");
	expect_error("entries:\n  - name: x\n    prototype: \"int x(foo_t *p)\"\n",
		     "bad.yaml:2", "unknown type 'foo_t'");
	expect_error("functions:\n  - prototype: \"long f(u32 a)\"\n"
		     "    constraints: [\"b < 3\"]\n",
		     "bad.yaml:2", "unknown symbol 'b'");
	expect_error("entries:\n  - name: e\n    prototype: \"int e(u32 a)\"\n"
		     "classes:\n  - name: c\n    entry: e\n    allow:\n"
		     "      functions: [nosuch]\n",
		     "bad.yaml:8", "unknown function 'nosuch'");
	expect_error("classes:\n  - name: c\n    entry: e\n", "bad.yaml:2",
		     "unknown entry 'e'");
	expect_error("entries:\n  - name: e\n    prototype: \"int e(u32 a)\"\n"
		     "    colour: red\n", "bad.yaml:4", "unknown key 'colour'");
	expect_error("functions:\n  - prototype: \"long f(char *p)\"\n",
		     "bad.yaml:2", "needs readable(p, N) or writable(p, N)");
}

static void records_from_c_macros(void **state)
{
	struct bpfx_eim_spec *s = bpfx_eim_spec_new();
	char err[256] = "";

	(void)state;
	assert_int_equal(bpfx_eim_spec_add_records(s, BPFX_EIM_SELF_RECORDS,
						   BPFX_EIM_SELF_SIZE, err,
						   sizeof(err)), 0);
	assert_true(eim_spec_find_entry(s, "on_thing") >= 0);
	assert_true(eim_spec_find_func(s, "thing_size") >= 0);
	bpfx_eim_spec_free(s);
}

#define ID(name) ((int32_t)eim_hostfn_id(name))

static void return_constraint_bounds_r0(void **state)
{
	struct bpfx_eim_spec *s = spec();
	char log[4096];
	struct bpfx_insn ok[] = {
		MOV64_REG(2, 10), ALU64_IMM(ISA_ADD, 2, -64), MOV64_IMM(3, 64),
		CALL(ID("get")), JMP_IMM(ISA_JEQ, 0, 0, 4), MOV64_REG(2, 10),
		ALU64_IMM(ISA_ADD, 2, -65), ALU64_REG(ISA_ADD, 2, 0),
		LDX(ISA_B, 0, 2, 0), EXIT(),
	};
	struct bpfx_insn bad[COUNT(ok)];

	(void)state;
	memcpy(bad, ok, sizeof(ok));
	bad[3] = CALL(ID("nocons"));
	assert_int_equal(check(s, "all", ok, COUNT(ok), log, sizeof(log)), 0);
	assert_int_equal(check(s, "all", bad, COUNT(bad), log, sizeof(log)), -EACCES);
	bpfx_eim_spec_free(s);
}

static void argument_constraint_proven(void **state)
{
	struct bpfx_eim_spec *s = spec();
	char log[4096];
	struct bpfx_insn p[] = {
		MOV64_REG(2, 10), ALU64_IMM(ISA_ADD, 2, -64), MOV64_IMM(3, 100),
		CALL(ID("get")), MOV64_IMM(0, 0), EXIT(),
	};

	(void)state;
	assert_int_equal(check(s, "all", p, COUNT(p), log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "cannot prove 'size <= 64'"));
	p[2] = MOV64_IMM(3, 0);
	assert_int_equal(check(s, "all", p, COUNT(p), log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "'size > 0'"));
	bpfx_eim_spec_free(s);
}

static void missing_capabilities_named(void **state)
{
	struct bpfx_eim_spec *s = spec();
	char log[4096];
	struct bpfx_insn helper[] = { CALL(7), EXIT() }; /* get_prandom_u32: misc */
	struct bpfx_insn arg[] = { LDX(ISA_DW, 0, 1, 0), EXIT() };
	struct bpfx_insn fn[] = { MOV64_IMM(1, 3), CALL(ID("bad")), EXIT() };
	struct bpfx_insn wr[] = { MOV64_IMM(0, 0), STX(ISA_DW, 1, 0, 0), EXIT() };

	(void)state;
	assert_int_equal(check(s, "all", helper, 2, log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "'helpers: [misc]'"));
	assert_int_equal(check(s, "none", arg, 2, log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "'args: {read: [r]}'"));
	assert_int_equal(check(s, "none", fn, 3, log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "'functions: [bad]'"));
	assert_int_equal(check(s, "all", wr, 3, log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "'args: {write: [r]}'"));
	assert_int_equal(check(s, "all", arg, 2, log, sizeof(log)), 0);
	bpfx_eim_spec_free(s);
}

static void limits_enforced(void **state)
{
	struct bpfx_eim_spec *s = spec();
	struct bpfx_insn loop[] = { MOV64_IMM(0, 0), ALU64_IMM(ISA_ADD, 0, 1),
				    JMP_IMM(ISA_JGT, 0, 10, -2), EXIT() };
	struct bpfx_insn lng[70];
	struct bpfx_eim_map m = { 2, 4, 8, 1000, 0 };
	struct bpfx_eim_check_opts o = { .sz = sizeof(o), .maps = &m, .nmaps = 1 };
	struct bpfx_insn one[] = { MOV64_IMM(0, 0), EXIT() };
	char log[4096];
	size_t k;

	(void)state;
	assert_int_equal(check(s, "all", loop, 4, log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "a loop"));
	for (k = 0; k < 69; k++)
		lng[k] = MOV64_IMM(0, 0);
	lng[69] = EXIT();
	assert_int_equal(check(s, "all", lng, 70, log, sizeof(log)), -EACCES);
	assert_non_null(strstr(log, "runs 70 instructions"));
	assert_int_equal(check(s, "all", lng + 10, 60, log, sizeof(log)), 0);
	o.log_buf = log;
	o.log_size = sizeof(log);
	assert_int_equal(bpfx_eim_check(s, "all", one, 2, &o), -EACCES);
	assert_non_null(strstr(log, "'memory < 4096'"));
	bpfx_eim_spec_free(s);
}

/* ---- host API ---- */

static long bad_impl(uint32_t x)
{
	return (long)x * 100; /* breaks "ret < x" */
}

static struct bpfx_host *host(void)
{
	struct bpfx_host *h = bpfx_host_open(NULL);
	char err[256];

	assert_non_null(h);
	assert_int_equal(bpfx_eim_spec_add_text(bpfx_host_spec(h), dev, strlen(dev),
						"t.yaml", err, sizeof(err)), 0);
	return h;
}

static void entry_call_and_state(void **state)
{
	struct bpfx_host *h = host();
	struct bpfx_entry *e = bpfx_host_entry(h, "req");
	uint64_t counter = 41, args[8] = { 0, 7 }, rc = 0;
	struct bpfx_insn p[] = {
		LDX(ISA_DW, 2, 1, 16), ALU64_IMM(ISA_ADD, 2, 1), STX(ISA_DW, 1, 2, 16),
		LDX(ISA_DW, 0, 1, 8), EXIT(),
	};
	struct bpfx_ext *x;

	(void)state;
	assert_non_null(e);
	assert_int_equal(bpfx_entry_slots(e), 3);
	assert_int_equal(bpfx_entry_call(e, args, &rc), 0); /* nothing attached */
	assert_int_equal(bpfx_host_bind_state(h, "counter", &counter), 0);
	x = bpfx_ext_load_insns(h, p, COUNT(p), "all", NULL);
	assert_non_null(x);
	assert_int_equal(bpfx_ext_attach(x), 0);
	assert_int_equal(bpfx_entry_call(e, args, &rc), 1);
	assert_int_equal(rc, 7);
	assert_int_equal(counter, 42);
	assert_null(bpfx_ext_load_insns(h, p, COUNT(p), "none", NULL));
	assert_int_equal(errno, EACCES);
	bpfx_ext_free(x);
	assert_int_equal(bpfx_entry_call(e, args, &rc), 0);
	bpfx_host_close(h);
}

static void host_function_violation_reported(void **state)
{
	struct bpfx_host *h = host();
	struct bpfx_entry *e = bpfx_host_entry(h, "req");
	struct bpfx_insn p[] = { MOV64_IMM(1, 10), CALL(ID("bad")), EXIT() };
	uint64_t args[8] = { 0 }, rc = 0, before = bpfx_host_violations(h);
	struct bpfx_ext *x;

	(void)state;
	assert_int_equal(bpfx_host_bind_function(h, "bad", (void *)bad_impl), 0);
	assert_int_equal(bpfx_host_bind_function(h, "nosuch", (void *)bad_impl), -ENOENT);
	x = bpfx_ext_load_insns(h, p, COUNT(p), "all", NULL);
	assert_non_null(x);
	assert_int_equal(bpfx_ext_attach(x), 0);
	assert_int_equal(bpfx_entry_call(e, args, &rc), 1);
	assert_int_equal(rc, 9); /* clamped into "ret < x" */
	assert_int_equal(bpfx_host_violations(h), before + 1);
	bpfx_ext_free(x);
	bpfx_host_close(h);
}

/* The host function a hook entry rewrites (noinline: a real call). */
__attribute__((noinline)) long eim_hook_target(long a, long b);
__attribute__((noinline)) long eim_hook_target(long a, long b)
{
	__asm__ volatile("");
	return a * 10 + b;
}

static const char hook_spec[] =
	"entries:\n"
	"  - name: on_target\n"
	"    kind: hook\n"
	"    symbol: eim_hook_target\n"
	"    prototype: \"long eim_hook_target(long a, long b)\"\n"
	"classes:\n"
	"  - name: rewrite_a\n"
	"    entry: on_target\n"
	"    allow:\n"
	"      args: {read: [a, b], write: [a]}\n"
	"  - name: read_only\n"
	"    entry: on_target\n"
	"    allow:\n"
	"      args: {read: [a, b]}\n";

/* A hook entry: attaching patches the host function, the extension sees its
 * arguments and may rewrite the granted one; detaching restores it. */
static void hook_entry(void **state)
{
	struct bpfx_host *h = bpfx_host_open(NULL);
	char err[256] = "";
	/* a = a + b */
	struct bpfx_insn p[] = {
		LDX(ISA_DW, 2, 1, 0), LDX(ISA_DW, 3, 1, 8), ALU64_REG(ISA_ADD, 2, 3),
		STX(ISA_DW, 1, 2, 0), MOV64_IMM(0, 0), EXIT(),
	};
	uint8_t before[16];
	struct bpfx_ext *x;
	long (*volatile fn)(long, long) = eim_hook_target;

	(void)state;
	assert_non_null(h);
	assert_int_equal(bpfx_eim_spec_add_text(bpfx_host_spec(h), hook_spec,
						strlen(hook_spec), "hook.yaml", err,
						sizeof(err)), 0);
	assert_int_equal(bpfx_host_bind_hook(h, "on_target", (void *)eim_hook_target), 0);
	memcpy(before, (void *)eim_hook_target, sizeof(before));
	/* writing an argument the class does not grant never loads */
	assert_null(bpfx_ext_load_insns(h, p, COUNT(p), "read_only", NULL));
	x = bpfx_ext_load_insns(h, p, COUNT(p), "rewrite_a", NULL);
	assert_non_null(x);
	assert_int_equal(fn(2, 3), 23);
	assert_int_equal(bpfx_ext_attach(x), 0);
	assert_int_equal(fn(2, 3), 53); /* a became 5 */
	assert_int_equal(fn(1, 1), 21);
	assert_int_equal(bpfx_ext_detach(x), 0);
	assert_memory_equal(before, (void *)eim_hook_target, sizeof(before));
	assert_int_equal(fn(2, 3), 23);
	bpfx_ext_free(x);
	bpfx_host_close(h);
}

static void isolation_or_skip(void **state)
{
	struct bpfx_host_opts o = { .sz = sizeof(o), .isolate = true };
	struct bpfx_host *h;
	const char *why;

	(void)state;
	if (!isolate_available(&why)) {
		print_message("SKIP: %s\n", why);
		h = bpfx_host_open(&o);
		assert_non_null(h);
		assert_false(bpfx_host_isolated(h, &why));
		assert_non_null(strstr(why, "unavailable"));
		bpfx_host_close(h);
		skip();
	}
	h = bpfx_host_open(&o);
	assert_non_null(h);
	assert_true(bpfx_host_isolated(h, NULL));
	bpfx_host_close(h);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_parses_and_prints),
		cmocka_unit_test(spec_errors_name_file_and_line),
		cmocka_unit_test(records_from_c_macros),
		cmocka_unit_test(return_constraint_bounds_r0),
		cmocka_unit_test(argument_constraint_proven),
		cmocka_unit_test(missing_capabilities_named),
		cmocka_unit_test(limits_enforced),
		cmocka_unit_test(entry_call_and_state),
		cmocka_unit_test(host_function_violation_reported),
		cmocka_unit_test(hook_entry),
		cmocka_unit_test(isolation_or_skip),
	};

	setenv("BPFX_SESSION", "unit-test-eim", 0);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
