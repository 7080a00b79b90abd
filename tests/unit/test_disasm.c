/* SPDX-License-Identifier: MIT */
/* Decoder and disassembler: each opcode family prints in kernel/LLVM syntax;
 * malformed instructions print "(bad)" and are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "insn.h"

static void expect_text(struct bpfx_insn *insns, size_t n, const char *want,
			int slots)
{
	char buf[160];

	assert_int_equal(bpfx_insn_disasm(insns, n, buf, sizeof(buf)), slots);
	assert_string_equal(buf, want);
}

#define EXPECT(want, ...)                                                      \
	do {                                                                   \
		struct bpfx_insn i_[] = { __VA_ARGS__ };                       \
		expect_text(i_, COUNT(i_), want, (int)COUNT(i_));              \
	} while (0)

static void test_alu(void **state)
{
	EXPECT("r1 += 5", ALU64_IMM(ISA_ADD, 1, 5));
	EXPECT("w1 += w2", ALU32_REG(ISA_ADD, 1, 2));
	EXPECT("r3 s>>= r4", ALU64_REG(ISA_ARSH, 3, 4));
	EXPECT("r0 s/= r1", SDIV64_REG(0, 1));
	EXPECT("w0 s%= w1", SMOD32_REG(0, 1));
	EXPECT("r2 = -r2", INSN(ISA_ALU64 | ISA_NEG, 2, 0, 0, 0));
	EXPECT("r1 = -1", MOV64_IMM(1, -1));
	EXPECT("r1 = r9", MOV64_REG(1, 9));
	EXPECT("r1 = (s8)r2", INSN(ISA_ALU64 | ISA_MOV | ISA_X, 1, 2, 8, 0));
	EXPECT("w1 = (s16)w2", INSN(ISA_ALU | ISA_MOV | ISA_X, 1, 2, 16, 0));
	EXPECT("r1 = be16 r1", INSN(ISA_ALU | ISA_END | ISA_X, 1, 0, 0, 16));
	EXPECT("r1 = le64 r1", INSN(ISA_ALU | ISA_END | ISA_K, 1, 0, 0, 64));
	EXPECT("r1 = bswap32 r1", INSN(ISA_ALU64 | ISA_END | ISA_K, 1, 0, 0, 32));
}

static void test_mem(void **state)
{
	EXPECT("r0 = *(u32 *)(r1 + 4)", LDX(ISA_W, 0, 1, 4));
	EXPECT("r0 = *(s16 *)(r1 + 2)", INSN(ISA_LDX | ISA_MEMSX | ISA_H, 0, 1, 2, 0));
	EXPECT("*(u64 *)(r10 - 8) = r1", STX(ISA_DW, 10, 1, -8));
	EXPECT("*(u8 *)(r10 - 1) = 7", ST(ISA_B, 10, -1, 7));
	EXPECT("r1 = 0x1122334455667788 ll", LDDW(1, 0x1122334455667788ull));
	EXPECT("lock *(u64 *)(r1 + 0) += r2", ATOMIC(ISA_DW, ISA_ADD, 1, 2, 0));
	EXPECT("w2 = atomic_fetch_or((u32 *)(r1 + 8), w2)",
	       ATOMIC(ISA_W, ISA_OR | ISA_FETCH, 1, 2, 8));
	EXPECT("r2 = xchg_64(r1 + 0, r2)", ATOMIC(ISA_DW, ISA_XCHG, 1, 2, 0));
	EXPECT("w0 = cmpxchg32_32(r1 - 4, w0, w3)",
	       ATOMIC(ISA_W, ISA_CMPXCHG, 1, 3, -4));
}

static void test_jmp(void **state)
{
	EXPECT("if r1 > 0x10 goto +3", JMP_IMM(ISA_JGT, 1, 16, 3));
	EXPECT("if w1 s< w2 goto -2", INSN(ISA_JMP32 | ISA_JSLT | ISA_X, 1, 2, -2, 0));
	EXPECT("goto +1", JA(1));
	EXPECT("gotol -70000", INSN(ISA_JMP32 | ISA_JA, 0, 0, 0, -70000));
	EXPECT("call 5", CALL(5));
	EXPECT("call pc+3", CALL_LOCAL(3));
	EXPECT("callx r2", INSN(ISA_JMP | ISA_CALL | ISA_X, 2, 0, 0, 0));
	EXPECT("exit", EXIT());
}

static void test_bad(void **state)
{
	struct bpfx_insn bad[] = {
		INSN(0xff, 0, 0, 0, 0),
		INSN(ISA_ALU64 | ISA_ADD | ISA_K, 1, 0, 1, 0), /* offset set */
		INSN(ISA_ALU64 | ISA_MOV, 11, 0, 0, 0),		/* r11 */
		INSN(ISA_ALU | ISA_END | ISA_K, 1, 0, 0, 24),	/* width */
	};
	struct bpfx_insn half[] = { LDDW(1, 5) };
	char buf[160];
	size_t k;

	for (k = 0; k < COUNT(bad); k++) {
		assert_int_equal(bpfx_insn_disasm(&bad[k], 1, buf, sizeof(buf)),
				 -EINVAL);
		assert_non_null(strstr(buf, "(bad)"));
	}
	/* lddw cut short */
	assert_int_equal(bpfx_insn_disasm(half, 1, buf, sizeof(buf)), -EINVAL);
	/* output is truncated, never overflowed */
	assert_int_equal(bpfx_insn_disasm(half, 2, buf, 8), 2);
	assert_int_equal(strlen(buf), 7);
}

static void test_check_fields(void **state)
{
	const char *why;
	struct bpfx_insn ok[] = {
		SDIV64_REG(1, 2),
		INSN(ISA_ALU64 | ISA_MOV | ISA_X, 1, 2, 32, 0),
		INSN(ISA_JMP32 | ISA_JA, 0, 0, 0, 5),
		ATOMIC(ISA_W, ISA_CMPXCHG, 1, 2, 0),
	};
	struct bpfx_insn bad[] = {
		INSN(ISA_ALU | ISA_MOV | ISA_X, 1, 2, 32, 0),	/* movsx32 in ALU32 */
		INSN(ISA_ALU64 | ISA_DIV | ISA_X, 1, 2, 2, 0),	/* div off 2 */
		INSN(ISA_JMP | ISA_JA, 0, 0, 1, 1),		/* ja imm */
		ATOMIC(ISA_H, ISA_ADD, 1, 2, 0),		/* 16-bit atomic */
		ATOMIC(ISA_DW, 0x02, 1, 2, 0),			/* bad atomic op */
		ALU64_IMM(ISA_ADD, 10, 1),			/* writes r10 */
		LDX(ISA_DW, 10, 1, 0),				/* writes r10 */
		ATOMIC(ISA_DW, ISA_XCHG, 1, 10, 0),		/* writes r10 */
		INSN(ISA_LD | ISA_ABS | ISA_W, 0, 0, 0, 0),	/* legacy */
		INSN(ISA_JMP | ISA_CALL, 0, 3, 0, 1),		/* call kind 3 */
		INSN(ISA_JMP32 | ISA_CALL, 0, 0, 0, 1),
		INSN(ISA_JMP | ISA_EXIT | ISA_X, 0, 0, 0, 0),
	};
	size_t k;

	for (k = 0; k < COUNT(ok); k++)
		assert_int_equal(isa_check_insn(&ok[k], NULL, &why), 0);
	for (k = 0; k < COUNT(bad); k++) {
		why = NULL;
		assert_int_equal(isa_check_insn(&bad[k], NULL, &why), -EINVAL);
		assert_non_null(why);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alu),
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_jmp),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_check_fields),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
