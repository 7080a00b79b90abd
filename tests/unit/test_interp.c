/* SPDX-License-Identifier: MIT */
/* Interpreter edge cases. Every program runs on every engine this build
 * has (goto, switch, checked, and the JIT where it compiles) and all must
 * agree with the expected value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "insn.h"

static struct bpfx_vm *vm;

static uint64_t h_add(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + b + c + d + e;
}

static uint64_t h_ident(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a;
}

static int setup(void **state)
{
	vm = bpfx_vm_create();
	assert_non_null(vm);
	assert_int_equal(bpfx_vm_register_helper(vm, 1, "add", h_add), 0);
	assert_int_equal(bpfx_vm_register_helper(vm, 5, "unwind", h_ident), 0);
	assert_int_equal(bpfx_vm_set_unwind_helper(vm, 5), 0);
	return 0;
}

static int teardown(void **state)
{
	bpfx_vm_destroy(vm);
	return 0;
}

static const enum bpfx_engine engines[] = {
	BPFX_ENGINE_INTERP, BPFX_ENGINE_INTERP_SWITCH, BPFX_ENGINE_CHECKED,
	BPFX_ENGINE_JIT,
};

/* Run on every engine over a fresh copy of @mem; all must give @want and
 * leave the same memory. */
static void run_expect(const struct bpfx_insn *insns, size_t n, void *mem,
		       size_t len, uint64_t want)
{
	struct bpfx_prog_opts opts = { .sz = sizeof(opts), .entry_regs = 1u << 2 };
	char log[256] = "";
	uint8_t copy[256], first[256];
	struct bpfx_prog *p;
	size_t e;

	opts.log_buf = log;
	opts.log_size = sizeof(log);
	assert_true(len <= sizeof(copy));
	p = bpfx_prog_load(vm, insns, n, &opts);
	if (!p)
		fail_msg("load failed: %s", log);
	for (e = 0; e < COUNT(engines); e++) {
		uint64_t r0 = ~want;

		if (engines[e] == BPFX_ENGINE_JIT && bpfx_prog_jit(p) == -EOPNOTSUPP)
			continue;
		if (len)
			memcpy(copy, mem, len);
		assert_int_equal(bpfx_prog_run(p, engines[e], len ? copy : NULL,
					       len, &r0), 0);
		if (r0 != want)
			fail_msg("engine %d: r0 = 0x%llx, want 0x%llx", (int)engines[e],
				 (unsigned long long)r0, (unsigned long long)want);
		if (e == 0 && len)
			memcpy(first, copy, len);
		else if (len)
			assert_memory_equal(first, copy, len);
	}
	if (len)
		memcpy(mem, first, len);
	bpfx_prog_free(p);
}

#define RUN(want, ...)                                                         \
	do {                                                                   \
		struct bpfx_insn p_[] = { __VA_ARGS__ };                       \
		run_expect(p_, COUNT(p_), NULL, 0, (uint64_t)(want));          \
	} while (0)

static void test_div_mod_zero(void **state)
{
	/* division by zero gives 0 */
	RUN(0, MOV64_IMM(0, 7), MOV64_IMM(1, 0), ALU64_REG(ISA_DIV, 0, 1), EXIT());
	RUN(0, MOV64_IMM(0, 7), ALU32_IMM(ISA_DIV, 0, 0), EXIT());
	RUN(0, MOV64_IMM(0, -7), MOV64_IMM(1, 0), SDIV64_REG(0, 1), EXIT());
	/* modulo by zero leaves dst; the 32-bit form zero-extends it */
	RUN(-7, MOV64_IMM(0, -7), MOV64_IMM(1, 0), ALU64_REG(ISA_MOD, 0, 1), EXIT());
	RUN(0xfffffff9u, MOV64_IMM(0, -7), MOV64_IMM(1, 0),
	    ALU32_REG(ISA_MOD, 0, 1), EXIT());
	RUN(0xfffffff9u, MOV64_IMM(0, -7), MOV64_IMM(1, 0), SMOD32_REG(0, 1), EXIT());
	RUN(-7, MOV64_IMM(0, -7), MOV64_IMM(1, 0), SMOD64_REG(0, 1), EXIT());
}

static void test_int_min(void **state)
{
	/* INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0, both widths */
	RUN(INT64_MIN, LDDW(0, (uint64_t)INT64_MIN), MOV64_IMM(1, -1),
	    SDIV64_REG(0, 1), EXIT());
	RUN(0, LDDW(0, (uint64_t)INT64_MIN), MOV64_IMM(1, -1), SMOD64_REG(0, 1),
	    EXIT());
	RUN(0x80000000u, MOV32_IMM(0, INT32_MIN), MOV64_IMM(1, -1),
	    SDIV32_REG(0, 1), EXIT());
	RUN(0, MOV32_IMM(0, INT32_MIN), MOV64_IMM(1, -1), SMOD32_REG(0, 1), EXIT());
	/* signed division rounds toward zero; remainder takes dividend's sign */
	RUN(-2, MOV64_IMM(0, -7), MOV64_IMM(1, 3), SDIV64_REG(0, 1), EXIT());
	RUN(-1, MOV64_IMM(0, -7), MOV64_IMM(1, 3), SMOD64_REG(0, 1), EXIT());
	/* unsigned division by an immediate sees it sign-extended */
	RUN(1, MOV64_IMM(0, -1), ALU64_IMM(ISA_DIV, 0, -1), EXIT());
}

static void test_shift_mask(void **state)
{
	RUN(2, MOV64_IMM(0, 1), MOV64_IMM(1, 65), ALU64_REG(ISA_LSH, 0, 1), EXIT());
	RUN(2, MOV64_IMM(0, 1), MOV64_IMM(1, 33), ALU32_REG(ISA_LSH, 0, 1), EXIT());
	RUN(0x40000000u, MOV64_IMM(0, INT32_MIN), MOV64_IMM(1, 33),
	    ALU32_REG(ISA_RSH, 0, 1), EXIT());
	RUN(-1, MOV64_IMM(0, -2), MOV64_IMM(1, 127), ALU64_REG(ISA_ARSH, 0, 1),
	    EXIT());
	RUN(0xffffffffu, MOV64_IMM(0, -2), ALU32_IMM(ISA_ARSH, 0, 31), EXIT());
}

static void test_zero_extend(void **state)
{
	/* 32-bit results clear the upper half */
	RUN(0, LDDW(0, 0xffffffff00000000ull), ALU32_IMM(ISA_ADD, 0, 0), EXIT());
	RUN(0xffffffffu, MOV32_IMM(0, -1), EXIT());
	RUN(0xfffffffeu, MOV64_IMM(0, -1), ALU32_IMM(ISA_ADD, 0, -1), EXIT());
	RUN(1, MOV64_IMM(0, -1), ALU32_IMM(ISA_MUL, 0, -1), EXIT());
	RUN(0x00000001u, MOV64_IMM(0, -1), INSN(ISA_ALU | ISA_NEG, 0, 0, 0, 0), EXIT());
	/* movsx into 32 bits zero-extends the 32-bit result */
	RUN(0xffffff80u, MOV64_IMM(1, 0x80),
	    INSN(ISA_ALU | ISA_MOV | ISA_X, 0, 1, 8, 0), EXIT());
	RUN(-128, MOV64_IMM(1, 0x80),
	    INSN(ISA_ALU64 | ISA_MOV | ISA_X, 0, 1, 8, 0), EXIT());
	/* immediates sign-extend */
	RUN(-1, MOV64_IMM(0, 0), ALU64_IMM(ISA_ADD, 0, -1), EXIT());
	RUN(0xffffffffffffff00ull, MOV64_IMM(0, -1), ALU64_IMM(ISA_AND, 0, -256), EXIT());
}

static void test_atomics(void **state)
{
	uint64_t mem[2] = { 10, 0 };

	{ /* fetch_add returns the old value, memory gets the sum */
		struct bpfx_insn p[] = {
			MOV64_IMM(2, 5),
			ATOMIC(ISA_DW, ISA_ADD | ISA_FETCH, 1, 2, 0),
			MOV64_REG(0, 2), EXIT(),
		};
		run_expect(p, COUNT(p), mem, sizeof(mem), 10);
		assert_int_equal(mem[0], 15);
	}
	{ /* xchg */
		struct bpfx_insn p[] = {
			MOV64_IMM(2, 99),
			ATOMIC(ISA_DW, ISA_XCHG, 1, 2, 0),
			MOV64_REG(0, 2), EXIT(),
		};
		run_expect(p, COUNT(p), mem, sizeof(mem), 15);
		assert_int_equal(mem[0], 99);
	}
	{ /* cmpxchg, match: r0 = old, memory replaced */
		struct bpfx_insn p[] = {
			MOV64_IMM(0, 99), MOV64_IMM(2, 7),
			ATOMIC(ISA_DW, ISA_CMPXCHG, 1, 2, 0), EXIT(),
		};
		run_expect(p, COUNT(p), mem, sizeof(mem), 99);
		assert_int_equal(mem[0], 7);
	}
	{ /* cmpxchg, mismatch: r0 = current, memory kept */
		struct bpfx_insn p[] = {
			MOV64_IMM(0, 1), MOV64_IMM(2, 8),
			ATOMIC(ISA_DW, ISA_CMPXCHG, 1, 2, 0), EXIT(),
		};
		run_expect(p, COUNT(p), mem, sizeof(mem), 7);
		assert_int_equal(mem[0], 7);
	}
	{ /* 32-bit fetch_or zero-extends the old value */
		uint32_t m32[2] = { 0xf0000000u, 0 };
		struct bpfx_insn p[] = {
			MOV64_IMM(2, 1),
			ATOMIC(ISA_W, ISA_OR | ISA_FETCH, 1, 2, 0),
			MOV64_REG(0, 2), EXIT(),
		};
		run_expect(p, COUNT(p), m32, sizeof(m32), 0xf0000000u);
		assert_int_equal(m32[0], 0xf0000001u);
	}
}

static void test_calls(void **state)
{
	/* helper call with five arguments */
	RUN(15, MOV64_IMM(1, 1), MOV64_IMM(2, 2), MOV64_IMM(3, 3), MOV64_IMM(4, 4),
	    MOV64_IMM(5, 5), CALL(1), EXIT());
	/* unwind helper returning 0 stops the program with r0 = 0, even from
	 * a nested frame */
	RUN(0, MOV64_IMM(0, 9), CALL_LOCAL(1), EXIT(),
	    MOV64_IMM(1, 0), CALL(5), MOV64_IMM(0, 3), EXIT());
	/* bpf-to-bpf: callee has its own stack, r6-r9 preserved */
	RUN(0x55 + 6, MOV64_IMM(6, 6), ST(ISA_W, 10, -4, 0x55), CALL_LOCAL(3),
	    LDX(ISA_W, 0, 10, -4), ALU64_REG(ISA_ADD, 0, 6), EXIT(),
	    ST(ISA_W, 10, -4, 0x66), MOV64_IMM(6, 100), MOV64_IMM(0, 0), EXIT());
}

/* An 8-deep chain is fine; the checked engine's stack window follows it. */
static void test_deep_calls(void **state)
{
	struct bpfx_insn p[3 * 8];
	size_t k, n = 0;

	for (k = 0; k < 7; k++) { /* frame k calls frame k+1, then exits */
		p[n++] = ST(ISA_DW, 10, -512, (int32_t)k);
		p[n++] = CALL_LOCAL(1);
		p[n++] = EXIT();
	}
	p[n++] = MOV64_IMM(0, 42);
	p[n++] = EXIT();
	run_expect(p, n, NULL, 0, 42);
}

static void test_checked_traps(void **state)
{
	struct bpfx_insn oob[] = { MOV64_IMM(0, 0), ST(ISA_B, 10, 0, 0), EXIT() };
	struct bpfx_insn wrap[] = { MOV64_IMM(0, 0), MOV64_IMM(6, -16),
				    ST(ISA_B, 6, 16, 0), EXIT() };
	struct bpfx_insn past[] = { LDX(ISA_DW, 0, 1, 1), EXIT() };
	struct bpfx_insn *progs[] = { oob, wrap, past };
	size_t lens[] = { COUNT(oob), COUNT(wrap), COUNT(past) };
	uint64_t mem = 0, r0;
	size_t k;

	for (k = 0; k < 3; k++) {
		struct bpfx_prog *p = bpfx_prog_load(vm, progs[k], lens[k], NULL);

		assert_non_null(p);
		assert_int_equal(bpfx_prog_run(p, BPFX_ENGINE_CHECKED, &mem,
					       sizeof(mem), &r0), -EFAULT);
		assert_non_null(strstr(bpfx_run_fault(), "outside"));
		bpfx_prog_free(p);
	}
}

static void test_callx_unknown(void **state)
{
	struct bpfx_insn p[] = { MOV64_IMM(2, 77), MOV64_IMM(0, 0),
				 INSN(ISA_JMP | ISA_CALL | ISA_X, 2, 0, 0, 0),
				 EXIT() };
	struct bpfx_prog *prog = bpfx_prog_load(vm, p, COUNT(p), NULL);
	uint64_t r0;

	assert_non_null(prog);
	assert_int_equal(bpfx_prog_run(prog, BPFX_ENGINE_INTERP, NULL, 0, &r0),
			 -EINVAL);
	assert_int_equal(bpfx_prog_run(prog, BPFX_ENGINE_CHECKED, NULL, 0, &r0),
			 -EINVAL);
	if (bpfx_prog_jit(prog) == 0)
		assert_int_equal(bpfx_prog_run(prog, BPFX_ENGINE_JIT, NULL, 0, &r0),
				 -EINVAL);
	bpfx_prog_free(prog);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_div_mod_zero),
		cmocka_unit_test(test_int_min),
		cmocka_unit_test(test_shift_mask),
		cmocka_unit_test(test_zero_extend),
		cmocka_unit_test(test_atomics),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_deep_calls),
		cmocka_unit_test(test_checked_traps),
		cmocka_unit_test(test_callx_unknown),
	};

	bpfx_set_print(NULL);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
