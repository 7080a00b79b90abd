/* SPDX-License-Identifier: MIT */
/* tnum domain: every operation is sound, checked exhaustively against
 * brute force on tnums over 4 bit positions (0, 1, 2 and the sign bit 63:
 * 81 tnums, 6561 pairs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>

#include "verifier/tnum.h"

static const unsigned pos[4] = { 0, 1, 2, 63 };
static struct tnum all[81];

static void build(void)
{
	for (unsigned k = 0; k < 81; k++) {
		unsigned t = k;
		uint64_t v = 0, m = 0;

		for (unsigned b = 0; b < 4; b++, t /= 3) {
			if (t % 3 == 1)
				v |= 1ull << pos[b];
			else if (t % 3 == 2)
				m |= 1ull << pos[b];
		}
		all[k] = TNUM(v, m);
	}
}

/* members of a (at most 16) */
static unsigned members(struct tnum a, uint64_t out[16])
{
	unsigned n = 0, b;
	uint64_t bits[4];
	unsigned nb = 0;

	for (b = 0; b < 64; b++)
		if (a.mask & (1ull << b))
			bits[nb++] = 1ull << b;
	for (unsigned s = 0; s < (1u << nb); s++) {
		uint64_t v = a.value;

		for (b = 0; b < nb; b++)
			if (s & (1u << b))
				v |= bits[b];
		out[n++] = v;
	}
	return n;
}

static void check_binary(const char *name,
			 struct tnum (*f)(struct tnum, struct tnum),
			 uint64_t (*c)(uint64_t, uint64_t))
{
	uint64_t xs[16], ys[16];

	for (unsigned i = 0; i < 81; i++) {
		unsigned nx = members(all[i], xs);

		for (unsigned j = 0; j < 81; j++) {
			unsigned ny = members(all[j], ys);
			struct tnum r = f(all[i], all[j]);

			assert_int_equal(r.value & r.mask, 0);
			for (unsigned x = 0; x < nx; x++)
				for (unsigned y = 0; y < ny; y++)
					if (!tnum_contains(r, c(xs[x], ys[y])))
						fail_msg("%s unsound", name);
		}
	}
}

static uint64_t c_add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t c_sub(uint64_t a, uint64_t b) { return a - b; }
static uint64_t c_and(uint64_t a, uint64_t b) { return a & b; }
static uint64_t c_or(uint64_t a, uint64_t b) { return a | b; }
static uint64_t c_xor(uint64_t a, uint64_t b) { return a ^ b; }
static uint64_t c_mul(uint64_t a, uint64_t b) { return a * b; }

static void test_add(void **state) { build(); check_binary("add", tnum_add, c_add); }
static void test_sub(void **state) { build(); check_binary("sub", tnum_sub, c_sub); }
static void test_and(void **state) { build(); check_binary("and", tnum_and, c_and); }
static void test_or(void **state) { build(); check_binary("or", tnum_or, c_or); }
static void test_xor(void **state) { build(); check_binary("xor", tnum_xor, c_xor); }
static void test_mul(void **state) { build(); check_binary("mul", tnum_mul, c_mul); }

static void test_shifts(void **state)
{
	uint64_t xs[16];

	build();
	for (unsigned i = 0; i < 81; i++) {
		unsigned n = members(all[i], xs);

		for (uint8_t k = 0; k < 64; k += 3) {
			struct tnum l = tnum_lshift(all[i], k), r = tnum_rshift(all[i], k);
			struct tnum a = tnum_arshift(all[i], k, 64);
			struct tnum a32 = tnum_arshift(all[i], k & 31, 32);

			for (unsigned x = 0; x < n; x++) {
				assert_true(tnum_contains(l, xs[x] << k));
				assert_true(tnum_contains(r, xs[x] >> k));
				assert_true(tnum_contains(a, (uint64_t)((int64_t)xs[x] >> k)));
				assert_true(tnum_contains(a32, (uint32_t)((int32_t)xs[x] >> (k & 31))));
			}
		}
	}
}

static void test_neg_cast_bounds(void **state)
{
	uint64_t xs[16];

	build();
	for (unsigned i = 0; i < 81; i++) {
		unsigned n = members(all[i], xs);
		struct tnum ng = tnum_neg(all[i]);

		for (unsigned x = 0; x < n; x++) {
			assert_true(tnum_contains(ng, 0 - xs[x]));
			assert_true(tnum_contains(tnum_cast(all[i], 1), (uint8_t)xs[x]));
			assert_true(tnum_contains(tnum_subreg(all[i]), (uint32_t)xs[x]));
			assert_true(xs[x] >= tnum_umin(all[i]) && xs[x] <= tnum_umax(all[i]));
			assert_true((int64_t)xs[x] >= tnum_smin(all[i]) &&
				    (int64_t)xs[x] <= tnum_smax(all[i]));
			assert_true(tnum_is_aligned(all[i], 2) ? !(xs[x] & 1) : 1);
		}
		assert_int_equal(tnum_is_const(all[i]), n == 1);
	}
}

static void test_in_intersect_union(void **state)
{
	uint64_t xs[16];

	build();
	for (unsigned i = 0; i < 81; i++) {
		unsigned n = members(all[i], xs);

		for (unsigned j = 0; j < 81; j++) {
			struct tnum u = tnum_union(all[i], all[j]);
			bool in = true;

			for (unsigned x = 0; x < n; x++) {
				assert_true(tnum_contains(u, xs[x]));
				if (!tnum_contains(all[j], xs[x]))
					in = false;
				else
					assert_true(tnum_contains(tnum_intersect(all[i], all[j]),
								  xs[x]));
			}
			/* tnum_in(j, i): every member of i is in j */
			assert_int_equal(tnum_in(all[j], all[i]), in);
		}
	}
}

static void test_range(void **state)
{
	for (uint64_t lo = 0; lo < 40; lo++)
		for (uint64_t hi = lo; hi < 40; hi++) {
			struct tnum t = tnum_range(lo, hi);

			for (uint64_t v = lo; v <= hi; v++)
				assert_true(tnum_contains(t, v));
		}
	assert_true(tnum_is_unknown(tnum_range(0, UINT64_MAX)));
	assert_true(tnum_contains(tnum_range(UINT64_MAX - 3, UINT64_MAX), UINT64_MAX - 1));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_and),
		cmocka_unit_test(test_or),
		cmocka_unit_test(test_xor),
		cmocka_unit_test(test_mul),
		cmocka_unit_test(test_shifts),
		cmocka_unit_test(test_neg_cast_bounds),
		cmocka_unit_test(test_in_intersect_union),
		cmocka_unit_test(test_range),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
