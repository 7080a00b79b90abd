/* SPDX-License-Identifier: MIT */
/* Bounds domain: ALU transfer functions, branch decisions and branch
 * refinement are sound against brute force. Abstract values are built from
 * every set of one or two values of an edge-case universe (0, 1, 7, 8,
 * -1, -8, the 32-bit and 64-bit sign and wrap points), plus ranges made by
 * masking an unknown value; every concrete result must be a member. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>

#include "isa/isa.h"
#include "verifier/bounds.h"

static const uint64_t U[] = {
	0, 1, 3, 7, 8, 0x7f, 0x80, 0x7fffffff, 0x80000000, 0xffffffff,
	0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
	(uint64_t)-1, (uint64_t)-8, 0x1234567890ull,
};
#define NU (sizeof(U) / sizeof(U[0]))

struct aset {
	struct bounds b;
	uint64_t v[2];
	unsigned n;
};

static struct aset sets[NU * NU];
static unsigned nsets;

static struct bounds from_values(const uint64_t *v, unsigned n)
{
	struct bounds b = bounds_const(v[0]);

	for (unsigned k = 1; k < n; k++) {
		uint64_t x = v[k];

		b.var_off = tnum_union(b.var_off, tnum_const(x));
		b.umin = x < b.umin ? x : b.umin;
		b.umax = x > b.umax ? x : b.umax;
		b.smin = (int64_t)x < b.smin ? (int64_t)x : b.smin;
		b.smax = (int64_t)x > b.smax ? (int64_t)x : b.smax;
		b.u32_min = (uint32_t)x < b.u32_min ? (uint32_t)x : b.u32_min;
		b.u32_max = (uint32_t)x > b.u32_max ? (uint32_t)x : b.u32_max;
		b.s32_min = (int32_t)x < b.s32_min ? (int32_t)x : b.s32_min;
		b.s32_max = (int32_t)x > b.s32_max ? (int32_t)x : b.s32_max;
	}
	bounds_sync(&b);
	return b;
}

static void build(void)
{
	nsets = 0;
	for (unsigned i = 0; i < NU; i++)
		for (unsigned j = i; j < NU; j++) {
			struct aset *s = &sets[nsets++];

			s->v[0] = U[i];
			s->v[1] = U[j];
			s->n = i == j ? 1 : 2;
			s->b = from_values(s->v, s->n);
			for (unsigned k = 0; k < s->n; k++)
				assert_true(bounds_contains(&s->b, s->v[k]));
		}
}

/* the interpreter's semantics */
static uint64_t concrete(uint8_t op, bool is32, bool sdiv, uint64_t a,
			 uint64_t b)
{
	if (is32) {
		uint32_t x = (uint32_t)a, y = (uint32_t)b;

		switch (op) {
		case ISA_ADD: return (uint32_t)(x + y);
		case ISA_SUB: return (uint32_t)(x - y);
		case ISA_MUL: return (uint32_t)(x * y);
		case ISA_AND: return x & y;
		case ISA_OR: return x | y;
		case ISA_XOR: return x ^ y;
		case ISA_LSH: return (uint32_t)(x << (y & 31));
		case ISA_RSH: return x >> (y & 31);
		case ISA_ARSH: return (uint32_t)((int32_t)x >> (y & 31));
		case ISA_DIV:
			if (!y) return 0;
			if (sdiv) return (int32_t)y == -1 ? (uint32_t)(0 - x) :
				(uint32_t)((int32_t)x / (int32_t)y);
			return x / y;
		case ISA_MOD:
			if (!y) return x;
			if (sdiv) return (int32_t)y == -1 ? 0 :
				(uint32_t)((int32_t)x % (int32_t)y);
			return x % y;
		}
		return 0;
	}
	switch (op) {
	case ISA_ADD: return a + b;
	case ISA_SUB: return a - b;
	case ISA_MUL: return a * b;
	case ISA_AND: return a & b;
	case ISA_OR: return a | b;
	case ISA_XOR: return a ^ b;
	case ISA_LSH: return a << (b & 63);
	case ISA_RSH: return a >> (b & 63);
	case ISA_ARSH: return (uint64_t)((int64_t)a >> (b & 63));
	case ISA_DIV:
		if (!b) return 0;
		if (sdiv) return (int64_t)b == -1 ? 0 - a :
			(uint64_t)((int64_t)a / (int64_t)b);
		return a / b;
	case ISA_MOD:
		if (!b) return a;
		if (sdiv) return (int64_t)b == -1 ? 0 :
			(uint64_t)((int64_t)a % (int64_t)b);
		return a % b;
	}
	return 0;
}

static void check_op(uint8_t op, bool is32, bool sdiv)
{
	build();
	for (unsigned i = 0; i < nsets; i++)
		for (unsigned j = 0; j < nsets; j++) {
			struct bounds d = sets[i].b;

			bounds_alu(&d, &sets[j].b, op, is32, sdiv ? 1 : 0);
			for (unsigned x = 0; x < sets[i].n; x++)
				for (unsigned y = 0; y < sets[j].n; y++) {
					uint64_t r = concrete(op, is32, sdiv,
							      sets[i].v[x],
							      sets[j].v[y]);

					if (!bounds_contains(&d, r))
						fail_msg("op %#x%s%s: %#llx, %#llx -> %#llx not in result",
							 op, is32 ? " (32)" : "",
							 sdiv ? " signed" : "",
							 (unsigned long long)sets[i].v[x],
							 (unsigned long long)sets[j].v[y],
							 (unsigned long long)r);
				}
		}
}

static void test_add(void **s) { check_op(ISA_ADD, false, false); check_op(ISA_ADD, true, false); }
static void test_sub(void **s) { check_op(ISA_SUB, false, false); check_op(ISA_SUB, true, false); }
static void test_mul(void **s) { check_op(ISA_MUL, false, false); check_op(ISA_MUL, true, false); }
static void test_bitops(void **s)
{
	check_op(ISA_AND, false, false); check_op(ISA_AND, true, false);
	check_op(ISA_OR, false, false); check_op(ISA_OR, true, false);
	check_op(ISA_XOR, false, false); check_op(ISA_XOR, true, false);
}
static void test_shifts(void **s)
{
	check_op(ISA_LSH, false, false); check_op(ISA_LSH, true, false);
	check_op(ISA_RSH, false, false); check_op(ISA_RSH, true, false);
	check_op(ISA_ARSH, false, false); check_op(ISA_ARSH, true, false);
}
static void test_divmod(void **s)
{
	check_op(ISA_DIV, false, false); check_op(ISA_DIV, true, false);
	check_op(ISA_MOD, false, false); check_op(ISA_MOD, true, false);
	check_op(ISA_DIV, false, true); check_op(ISA_DIV, true, true);
	check_op(ISA_MOD, false, true); check_op(ISA_MOD, true, true);
}

static void test_unary(void **s)
{
	build();
	for (unsigned i = 0; i < nsets; i++)
		for (unsigned x = 0; x < sets[i].n; x++) {
			uint64_t v = sets[i].v[x];
			struct bounds b;

			b = sets[i].b;
			bounds_alu(&b, &b, ISA_NEG, false, 0);
			assert_true(bounds_contains(&b, 0 - v));
			b = sets[i].b;
			bounds_alu(&b, &b, ISA_NEG, true, 0);
			assert_true(bounds_contains(&b, (uint32_t)(0 - (uint32_t)v)));
			b = sets[i].b;
			bounds_alu(&b, &sets[i].b, ISA_MOV, true, 0);
			assert_true(bounds_contains(&b, (uint32_t)v));
			b = sets[i].b;
			bounds_alu(&b, &sets[i].b, ISA_MOV, false, 8);
			assert_true(bounds_contains(&b, (uint64_t)(int64_t)(int8_t)v));
			b = sets[i].b;
			bounds_alu(&b, &sets[i].b, ISA_MOV, false, 32);
			assert_true(bounds_contains(&b, (uint64_t)(int64_t)(int32_t)v));
			b = sets[i].b;
			bounds_end(&b, false, true, 16);
			assert_true(bounds_contains(&b, __builtin_bswap16((uint16_t)v)));
			b = sets[i].b;
			bounds_end(&b, false, false, 32);
			assert_true(bounds_contains(&b, (uint32_t)v));
			b = sets[i].b;
			bounds_end(&b, true, false, 64);
			assert_true(bounds_contains(&b, __builtin_bswap64(v)));
		}
}

static bool cond(uint8_t op, bool is32, uint64_t a, uint64_t b)
{
	if (is32) {
		uint32_t x = (uint32_t)a, y = (uint32_t)b;

		switch (op) {
		case ISA_JEQ: return x == y;
		case ISA_JNE: return x != y;
		case ISA_JGT: return x > y;
		case ISA_JGE: return x >= y;
		case ISA_JLT: return x < y;
		case ISA_JLE: return x <= y;
		case ISA_JSGT: return (int32_t)x > (int32_t)y;
		case ISA_JSGE: return (int32_t)x >= (int32_t)y;
		case ISA_JSLT: return (int32_t)x < (int32_t)y;
		case ISA_JSLE: return (int32_t)x <= (int32_t)y;
		case ISA_JSET: return x & y;
		}
		return false;
	}
	switch (op) {
	case ISA_JEQ: return a == b;
	case ISA_JNE: return a != b;
	case ISA_JGT: return a > b;
	case ISA_JGE: return a >= b;
	case ISA_JLT: return a < b;
	case ISA_JLE: return a <= b;
	case ISA_JSGT: return (int64_t)a > (int64_t)b;
	case ISA_JSGE: return (int64_t)a >= (int64_t)b;
	case ISA_JSLT: return (int64_t)a < (int64_t)b;
	case ISA_JSLE: return (int64_t)a <= (int64_t)b;
	case ISA_JSET: return a & b;
	}
	return false;
}

static const uint8_t jops[] = { ISA_JEQ, ISA_JNE, ISA_JGT, ISA_JGE, ISA_JLT,
				ISA_JLE, ISA_JSGT, ISA_JSGE, ISA_JSLT,
				ISA_JSLE, ISA_JSET };

static void check_branches(bool is32)
{
	build();
	for (unsigned o = 0; o < sizeof(jops); o++)
		for (unsigned i = 0; i < nsets; i++)
			for (unsigned j = 0; j < nsets; j++) {
				int pred = bounds_branch_taken(&sets[i].b, &sets[j].b,
							       jops[o], is32);

				for (int taken = 0; taken < 2; taken++) {
					struct bounds d = sets[i].b, s = sets[j].b;
					bool feas = bounds_refine(&d, &s, jops[o], is32,
								  taken);

					for (unsigned x = 0; x < sets[i].n; x++)
						for (unsigned y = 0; y < sets[j].n; y++) {
							uint64_t a = sets[i].v[x], b = sets[j].v[y];
							bool c = cond(jops[o], is32, a, b);

							if (pred >= 0 && c != (bool)pred)
								fail_msg("branch_taken op %#x wrong", jops[o]);
							if (c != (bool)taken)
								continue;
							if (!feas || !bounds_contains(&d, a) ||
							    !bounds_contains(&s, b))
								fail_msg("refine op %#x%s taken=%d: %#llx, %#llx lost",
									 jops[o], is32 ? " (32)" : "", taken,
									 (unsigned long long)a,
									 (unsigned long long)b);
						}
				}
			}
}

static void test_branch64(void **s) { check_branches(false); }
static void test_branch32(void **s) { check_branches(true); }

static void test_sizes(void **s)
{
	struct bounds b = bounds_unknown_size(1);

	assert_int_equal(b.umax, 255);
	assert_true(bounds_contains(&b, 200));
	b = bounds_unknown_ssize(2);
	assert_true(bounds_contains(&b, (uint64_t)-32768));
	assert_false(bounds_contains(&b, 40000));
	b = bounds_unknown();
	assert_true(bounds_in(&b, &sets[0].b));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_mul),
		cmocka_unit_test(test_bitops),
		cmocka_unit_test(test_shifts),
		cmocka_unit_test(test_divmod),
		cmocka_unit_test(test_unary),
		cmocka_unit_test(test_branch64),
		cmocka_unit_test(test_branch32),
		cmocka_unit_test(test_sizes),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
