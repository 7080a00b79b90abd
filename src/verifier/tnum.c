/* SPDX-License-Identifier: MIT */
/*
 * tnum.c - the tristate-number abstract domain (see tnum.h).
 *
 * Invariant of every tnum produced here: (value & mask) == 0. The set of
 * concrete values of t is { x : (x & ~t.mask) == t.value }.
 * Every operation is sound: for all x in a, y in b, op(x, y) is in
 * op_tnum(a, b). tests/unit/test_tnum.c checks this exhaustively on the low
 * bits against brute force.
 */
#include <stdio.h>

#include "verifier/tnum.h"

const struct tnum tnum_unknown = { .value = 0, .mask = ~0ull };

struct tnum tnum_const(uint64_t v)
{
	return TNUM(v, 0);
}

struct tnum tnum_range(uint64_t min, uint64_t max)
{
	uint64_t chi = min ^ max, delta;
	unsigned bits;

	if (!chi)
		return tnum_const(min);
	bits = 64 - (unsigned)__builtin_clzll(chi);
	if (bits > 63)
		return tnum_unknown;
	delta = (1ull << bits) - 1;
	return TNUM(min & ~delta, delta);
}

struct tnum tnum_lshift(struct tnum a, uint8_t shift)
{
	shift &= 63;
	return TNUM(a.value << shift, a.mask << shift);
}

struct tnum tnum_rshift(struct tnum a, uint8_t shift)
{
	shift &= 63;
	return TNUM(a.value >> shift, a.mask >> shift);
}

struct tnum tnum_arshift(struct tnum a, uint8_t shift, uint8_t insn_bitness)
{
	if (insn_bitness == 32) {
		shift &= 31;
		return TNUM((uint32_t)((int32_t)a.value >> shift),
			    (uint32_t)((int32_t)a.mask >> shift));
	}
	shift &= 63;
	return TNUM((uint64_t)((int64_t)a.value >> shift),
		    (uint64_t)((int64_t)a.mask >> shift));
}

struct tnum tnum_add(struct tnum a, struct tnum b)
{
	uint64_t sm = a.mask + b.mask, sv = a.value + b.value;
	uint64_t sigma = sm + sv, chi = sigma ^ sv;
	uint64_t mu = chi | a.mask | b.mask;

	return TNUM(sv & ~mu, mu);
}

struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	uint64_t dv = a.value - b.value;
	uint64_t alpha = dv + a.mask, beta = dv - b.mask;
	uint64_t chi = alpha ^ beta, mu = chi | a.mask | b.mask;

	return TNUM(dv & ~mu, mu);
}

struct tnum tnum_neg(struct tnum a)
{
	return tnum_sub(tnum_const(0), a);
}

struct tnum tnum_and(struct tnum a, struct tnum b)
{
	uint64_t alpha = a.value | a.mask, beta = b.value | b.mask;
	uint64_t v = a.value & b.value;

	return TNUM(v, alpha & beta & ~v);
}

struct tnum tnum_or(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value, mu = a.mask | b.mask;

	return TNUM(v, mu & ~v);
}

struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t v = a.value ^ b.value, mu = a.mask | b.mask;

	return TNUM(v & ~mu, mu);
}

/* Long multiplication, one bit of a at a time (the kernel's algorithm):
 * known bits of a add b's known product, unknown bits add uncertainty. */
struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	struct tnum acc_v = tnum_const(a.value * b.value);
	struct tnum acc_m = tnum_const(0);

	while (a.value || a.mask) {
		if (a.value & 1)
			acc_m = tnum_add(acc_m, TNUM(0, b.mask));
		else if (a.mask & 1)
			acc_m = tnum_add(acc_m, TNUM(0, b.value | b.mask));
		a = tnum_rshift(a, 1);
		b = tnum_lshift(b, 1);
	}
	return tnum_add(acc_v, acc_m);
}

struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value, mu = a.mask & b.mask;

	return TNUM(v & ~mu, mu);
}

struct tnum tnum_union(struct tnum a, struct tnum b)
{
	uint64_t mu = a.mask | b.mask | (a.value ^ b.value);

	return TNUM(a.value & ~mu, mu);
}

struct tnum tnum_cast(struct tnum a, uint8_t size)
{
	if (size >= 8)
		return a;
	a.value &= (1ull << (size * 8)) - 1;
	a.mask &= (1ull << (size * 8)) - 1;
	return a;
}

bool tnum_is_const(struct tnum a)
{
	return !a.mask;
}

bool tnum_equals_const(struct tnum a, uint64_t b)
{
	return !a.mask && a.value == b;
}

bool tnum_is_unknown(struct tnum a)
{
	return !~a.mask;
}

bool tnum_in(struct tnum a, struct tnum b)
{
	if (b.mask & ~a.mask)
		return false;
	b.value &= ~a.mask;
	return a.value == b.value;
}

bool tnum_contains(struct tnum a, uint64_t v)
{
	return (v & ~a.mask) == a.value;
}

bool tnum_is_aligned(struct tnum a, uint64_t size)
{
	if (!size)
		return true;
	return !((a.value | a.mask) & (size - 1));
}

uint64_t tnum_umin(struct tnum a)
{
	return a.value;
}

uint64_t tnum_umax(struct tnum a)
{
	return a.value | a.mask;
}

int64_t tnum_smin(struct tnum a)
{
	/* sign bit set if it may be set; other unknown bits cleared */
	uint64_t sign = 1ull << 63;

	if (a.mask & sign)
		return (int64_t)(a.value | sign);
	return (int64_t)a.value;
}

int64_t tnum_smax(struct tnum a)
{
	uint64_t sign = 1ull << 63;

	if (a.mask & sign)
		return (int64_t)((a.value | a.mask) & ~sign);
	return (int64_t)(a.value | a.mask);
}

struct tnum tnum_subreg(struct tnum a)
{
	return tnum_cast(a, 4);
}

struct tnum tnum_clear_subreg(struct tnum a)
{
	return tnum_lshift(tnum_rshift(a, 32), 32);
}

struct tnum tnum_with_subreg(struct tnum reg, struct tnum subreg)
{
	return tnum_or(tnum_clear_subreg(reg), tnum_subreg(subreg));
}

struct tnum tnum_const_subreg(struct tnum a, uint32_t v)
{
	return tnum_with_subreg(a, tnum_const(v));
}

int tnum_sbin(char *buf, unsigned long size, struct tnum a)
{
	return snprintf(buf, size, "(%#llx; %#llx)",
			(unsigned long long)a.value,
			(unsigned long long)a.mask);
}
