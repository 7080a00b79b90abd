/* SPDX-License-Identifier: MIT */
/* Load-time structural checks: each bad program is refused with -EINVAL
 * (or -E2BIG) and one line naming the instruction and the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "insn.h"

static struct bpfx_vm *vm;

static uint64_t h_nop(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return 0;
}

static int setup(void **state)
{
	vm = bpfx_vm_create();
	assert_non_null(vm);
	assert_int_equal(bpfx_vm_register_helper(vm, 1, "nop", h_nop), 0);
	return 0;
}

static int teardown(void **state)
{
	bpfx_vm_destroy(vm);
	return 0;
}

static void expect_reject(const struct bpfx_insn *insns, size_t n, int err,
			  const char *substr)
{
	char log[256] = "";
	struct bpfx_prog_opts opts = { .sz = sizeof(opts), .log_buf = log,
				       .log_size = sizeof(log) };
	struct bpfx_prog *p = bpfx_prog_load(vm, insns, n, &opts);

	if (p)
		fail_msg("accepted; expected '%s'", substr);
	assert_int_equal(errno, err);
	if (!strstr(log, substr))
		fail_msg("log '%s' lacks '%s'", log, substr);
}

#define REJECT(substr, ...)                                                    \
	do {                                                                   \
		struct bpfx_insn p_[] = { __VA_ARGS__ };                       \
		expect_reject(p_, COUNT(p_), EINVAL, substr);                  \
	} while (0)

static void test_fields(void **state)
{
	REJECT("insn 0: (bad) code=0xff", INSN(0xff, 0, 0, 0, 0), EXIT());
	REJECT("invalid destination register", MOV64_IMM(11, 0), EXIT());
	REJECT("invalid source register", MOV64_REG(0, 12), EXIT());
	REJECT("r10 is read only", MOV64_IMM(0, 0), MOV64_IMM(10, 0), EXIT());
	REJECT("non-zero offset", MOV64_IMM(0, 0),
	       INSN(ISA_ALU64 | ISA_ADD | ISA_K, 0, 0, 3, 1), EXIT());
	REJECT("byte swap width", MOV64_IMM(0, 0),
	       INSN(ISA_ALU | ISA_END | ISA_K, 0, 0, 0, 48), EXIT());
	REJECT("non-zero unused field in exit", MOV64_IMM(0, 0),
	       INSN(ISA_JMP | ISA_EXIT, 1, 0, 0, 0));
}

static void test_lddw(void **state)
{
	REJECT("incomplete lddw", MOV64_IMM(0, 0), EXIT(), INSN(ISA_LDDW, 0, 0, 0, 1));
	REJECT("invalid lddw second half", INSN(ISA_LDDW, 0, 0, 0, 1),
	       INSN(0, 1, 0, 0, 0), EXIT());
	REJECT("jump into the middle of lddw", JA(1), LDDW(0, 1), EXIT());
	REJECT("unresolved map", INSN(ISA_LDDW, 1, ISA_PSEUDO_MAP_FD, 0, 3),
	       INSN(0, 0, 0, 0, 0), MOV64_IMM(0, 0), EXIT());
}

static void test_jumps(void **state)
{
	REJECT("jump out of bounds", JA(2), EXIT());
	REJECT("jump out of bounds", MOV64_IMM(0, 0), JA(-3), EXIT());
	REJECT("jump out of its subprogram", MOV64_IMM(0, 0), CALL_LOCAL(1), EXIT(),
	       JA(-4), EXIT());
	REJECT("insn 1: if r0 == 0x0 goto -1: program falls off its end",
	       MOV64_IMM(0, 0), JMP_IMM(ISA_JEQ, 0, 0, -1));
	REJECT("subprogram falls off its end", MOV64_IMM(0, 0), CALL_LOCAL(1), EXIT(),
	       MOV64_IMM(0, 1));
	REJECT("infinite loop", JA(-1), EXIT());
	REJECT("infinite loop", MOV64_IMM(0, 0), JMP_IMM(ISA_JEQ, 0, 1, 1), EXIT(),
	       ALU64_IMM(ISA_ADD, 0, 1), JA(-2));
}

static void test_calls(void **state)
{
	REJECT("call to unknown helper 2", CALL(2), EXIT());
	REJECT("call to unknown helper -1", CALL(-1), EXIT());
	REJECT("kfunc calls are not supported",
	       INSN(ISA_JMP | ISA_CALL, 0, ISA_CALL_KFUNC, 0, 1), EXIT());
	REJECT("recursive call", MOV64_IMM(0, 0), CALL_LOCAL(-2), EXIT());
	REJECT("call target", MOV64_IMM(0, 0), CALL_LOCAL(5), EXIT());
}

static void test_depth(void **state)
{
	struct bpfx_insn p[2 * 10 + 2];
	size_t k, n = 0;

	for (k = 0; k < 9; k++) { /* 9 frames: one too many */
		p[n++] = CALL_LOCAL(1);
		p[n++] = EXIT();
	}
	p[n++] = MOV64_IMM(0, 0);
	p[n++] = EXIT();
	expect_reject(p, n, EINVAL, "call chain deeper than 8 frames");
}

static void test_init(void **state)
{
	REJECT("r0 is read before it is written", EXIT());
	REJECT("r2 is read before it is written", MOV64_REG(0, 2), EXIT());
	/* only one path writes r0 */
	REJECT("r0 is read before it is written", JMP_IMM(ISA_JEQ, 1, 0, 1),
	       MOV64_IMM(0, 1), EXIT());
	/* helper calls clobber r1-r5 */
	REJECT("r1 is read before it is written", CALL(1), MOV64_REG(0, 1), EXIT());
}

static void test_limits(void **state)
{
	size_t n = BPFX_MAX_INSNS + 1, k;
	struct bpfx_insn *p = calloc(n, sizeof(*p));

	assert_non_null(p);
	for (k = 0; k < n - 1; k++)
		p[k] = MOV64_IMM(0, 0);
	p[n - 1] = EXIT();
	expect_reject(p, n, E2BIG, "too many instructions");
	/* exactly the limit loads */
	{
		struct bpfx_prog *prog = bpfx_prog_load(vm, p + 1, n - 1, NULL);

		assert_non_null(prog);
		bpfx_prog_free(prog);
	}
	free(p);
	expect_reject(NULL, 0, EINVAL, "program is empty");
}

static void test_log_truncation(void **state)
{
	struct bpfx_insn p[] = { MOV64_IMM(11, 0), EXIT() };
	char log[12];
	struct bpfx_prog_opts opts = { .sz = sizeof(opts), .log_buf = log,
				       .log_size = sizeof(log) };

	memset(log, 'x', sizeof(log));
	assert_null(bpfx_prog_load(vm, p, COUNT(p), &opts));
	assert_int_equal(strlen(log), sizeof(log) - 1);
	/* no log at all is fine too */
	assert_null(bpfx_prog_load(vm, p, COUNT(p), NULL));
	assert_int_equal(errno, EINVAL);
}

static void test_accepts(void **state)
{
	/* dead code is not judged; loops with a way out load */
	struct bpfx_insn p[] = {
		MOV64_IMM(0, 0),
		ALU64_IMM(ISA_ADD, 0, 1),
		JMP_IMM(ISA_JLT, 0, 10, -2),
		EXIT(),
		INSN(ISA_ALU64 | ISA_MOV | ISA_X, 0, 3, 0, 0), /* unreachable */
		EXIT(),
	};
	struct bpfx_prog *prog = bpfx_prog_load(vm, p, COUNT(p), NULL);

	assert_non_null(prog);
	assert_int_equal(bpfx_prog_insn_cnt(prog), COUNT(p));
	bpfx_prog_free(prog);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_lddw),
		cmocka_unit_test(test_jumps),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_log_truncation),
		cmocka_unit_test(test_accepts),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
