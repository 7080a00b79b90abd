/* SPDX-License-Identifier: MIT */
/*
 * bounds.c - the scalar abstract domain (see bounds.h): transfer functions
 * for ALU operations and branch conditions over tnum + intervals.
 *
 * Soundness is the only hard requirement: each result must contain every
 * concrete result. Precision follows the kernel where cheap:
 *   - ADD, SUB, MUL, AND, OR, XOR are computed for any operands; shifts
 *     only for a constant count (else unknown), as the kernel;
 *   - unsigned DIV/MOD from the ranges; signed DIV/MOD give unknown;
 *   - 32-bit operations are computed on the low halves twice, once
 *     zero-extended and once sign-extended to 64 bits, and the low 32 bits
 *     of each 64-bit result are kept where the result stays inside one
 *     2^32 block; then the result is zero-extended (every ALU32 op does).
 * Branches: a "view" (tnum + unsigned + signed interval) of the 64-bit or
 * the 32-bit half is refined, then bounds_sync carries the facts across.
 */
#include "isa/isa.h"
#include "verifier/bounds.h"

#define U32_MAXV 0xffffffffull

static uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }

struct bounds bounds_unknown(void)
{
	struct bounds b = {
		.var_off = tnum_unknown,
		.smin = INT64_MIN, .smax = INT64_MAX,
		.umin = 0, .umax = UINT64_MAX,
		.s32_min = INT32_MIN, .s32_max = INT32_MAX,
		.u32_min = 0, .u32_max = UINT32_MAX,
	};

	return b;
}

struct bounds bounds_const(uint64_t v)
{
	struct bounds b = {
		.var_off = tnum_const(v),
		.smin = (int64_t)v, .smax = (int64_t)v,
		.umin = v, .umax = v,
		.s32_min = (int32_t)v, .s32_max = (int32_t)v,
		.u32_min = (uint32_t)v, .u32_max = (uint32_t)v,
	};

	return b;
}

struct bounds bounds_unknown_size(unsigned size)
{
	struct bounds b = bounds_unknown();

	if (size < 8) {
		b.var_off = tnum_cast(tnum_unknown, (uint8_t)size);
		bounds_sync(&b);
	}
	return b;
}

struct bounds bounds_unknown_ssize(unsigned size)
{
	struct bounds b = bounds_unknown();

	if (size < 8) {
		int64_t lim = (int64_t)1 << (size * 8 - 1);

		b.smin = -lim;
		b.smax = lim - 1;
		bounds_sync(&b);
	}
	return b;
}

static void update_from_tnum(struct bounds *b)
{
	struct tnum t = tnum_subreg(b->var_off);

	b->s32_min = (int32_t)smax64(b->s32_min,
				     (int32_t)(t.value | (t.mask & 0x80000000u)));
	b->s32_max = (int32_t)smin64(b->s32_max,
				     (int32_t)(t.value | (t.mask & 0x7fffffffu)));
	b->u32_min = (uint32_t)umax64(b->u32_min, (uint32_t)t.value);
	b->u32_max = (uint32_t)umin64(b->u32_max, (uint32_t)(t.value | t.mask));
	b->smin = smax64(b->smin, tnum_smin(b->var_off));
	b->smax = smin64(b->smax, tnum_smax(b->var_off));
	b->umin = umax64(b->umin, tnum_umin(b->var_off));
	b->umax = umin64(b->umax, tnum_umax(b->var_off));
}

static void deduce(struct bounds *b)
{
	/* 32 from 64 */
	if ((b->umin >> 32) == (b->umax >> 32)) {
		b->u32_min = (uint32_t)umax64(b->u32_min, (uint32_t)b->umin);
		b->u32_max = (uint32_t)umin64(b->u32_max, (uint32_t)b->umax);
		if ((int32_t)b->umin <= (int32_t)b->umax) {
			b->s32_min = (int32_t)smax64(b->s32_min, (int32_t)b->umin);
			b->s32_max = (int32_t)smin64(b->s32_max, (int32_t)b->umax);
		}
	}
	if ((b->smin >> 32) == (b->smax >> 32)) {
		if ((uint32_t)b->smin <= (uint32_t)b->smax) {
			b->u32_min = (uint32_t)umax64(b->u32_min, (uint32_t)b->smin);
			b->u32_max = (uint32_t)umin64(b->u32_max, (uint32_t)b->smax);
		}
		if ((int32_t)b->smin <= (int32_t)b->smax) {
			b->s32_min = (int32_t)smax64(b->s32_min, (int32_t)b->smin);
			b->s32_max = (int32_t)smin64(b->s32_max, (int32_t)b->smax);
		}
	}
	/* 32: signed <-> unsigned */
	if ((int32_t)b->u32_min <= (int32_t)b->u32_max) {
		b->s32_min = (int32_t)smax64(b->s32_min, (int32_t)b->u32_min);
		b->s32_max = (int32_t)smin64(b->s32_max, (int32_t)b->u32_max);
	}
	if ((uint32_t)b->s32_min <= (uint32_t)b->s32_max) {
		b->u32_min = (uint32_t)umax64(b->u32_min, (uint32_t)b->s32_min);
		b->u32_max = (uint32_t)umin64(b->u32_max, (uint32_t)b->s32_max);
	}
	/* 64 from 32 */
	b->umin = umax64(b->umin, (b->umin & ~U32_MAXV) | b->u32_min);
	b->umax = umin64(b->umax, (b->umax & ~U32_MAXV) | b->u32_max);
	b->smin = smax64(b->smin,
			 (int64_t)(((uint64_t)b->smin & ~U32_MAXV) | b->u32_min));
	b->smax = smin64(b->smax,
			 (int64_t)(((uint64_t)b->smax & ~U32_MAXV) | b->u32_max));
	/* 64: signed <-> unsigned */
	if ((int64_t)b->umin <= (int64_t)b->umax) {
		b->smin = smax64(b->smin, (int64_t)b->umin);
		b->smax = smin64(b->smax, (int64_t)b->umax);
	}
	if ((uint64_t)b->smin <= (uint64_t)b->smax) {
		b->umin = umax64(b->umin, (uint64_t)b->smin);
		b->umax = umin64(b->umax, (uint64_t)b->smax);
	}
}

static void bound_offset(struct bounds *b)
{
	struct tnum t64 = tnum_intersect(b->var_off,
					 tnum_range(b->umin, b->umax));
	struct tnum t32 = tnum_intersect(tnum_subreg(b->var_off),
					 tnum_range(b->u32_min, b->u32_max));

	b->var_off = tnum_with_subreg(t64, tnum_intersect(tnum_subreg(t64),
							  t32));
}

void bounds_sync(struct bounds *b)
{
	update_from_tnum(b);
	deduce(b);
	deduce(b);
	bound_offset(b);
	update_from_tnum(b);
}

bool bounds_empty(const struct bounds *b)
{
	return b->umin > b->umax || b->smin > b->smax ||
	       b->u32_min > b->u32_max || b->s32_min > b->s32_max ||
	       tnum_umin(b->var_off) > b->umax ||
	       tnum_umax(b->var_off) < b->umin;
}

bool bounds_is_const(const struct bounds *b)
{
	return tnum_is_const(b->var_off);
}

bool bounds_contains(const struct bounds *b, uint64_t v)
{
	return tnum_contains(b->var_off, v) && v >= b->umin && v <= b->umax &&
	       (int64_t)v >= b->smin && (int64_t)v <= b->smax &&
	       (uint32_t)v >= b->u32_min && (uint32_t)v <= b->u32_max &&
	       (int32_t)v >= b->s32_min && (int32_t)v <= b->s32_max;
}

bool bounds_in(const struct bounds *o, const struct bounds *n)
{
	return o->umin <= n->umin && o->umax >= n->umax &&
	       o->smin <= n->smin && o->smax >= n->smax &&
	       o->u32_min <= n->u32_min && o->u32_max >= n->u32_max &&
	       o->s32_min <= n->s32_min && o->s32_max >= n->s32_max &&
	       tnum_in(o->var_off, n->var_off);
}

void bounds_zext32(struct bounds *b)
{
	b->var_off = tnum_subreg(b->var_off);
	b->umin = b->u32_min;
	b->umax = b->u32_max;
	b->smin = (int64_t)b->u32_min;
	b->smax = (int64_t)b->u32_max;
	/* the signed 32-bit view is unchanged; re-derive everything */
	bounds_sync(b);
}

/* ---- 64-bit transfer functions; each leaves a result to be synced ---- */

static void set_unsigned_only(struct bounds *d, uint64_t lo, uint64_t hi)
{
	d->umin = lo;
	d->umax = hi;
	d->smin = INT64_MIN;
	d->smax = INT64_MAX;
}

static void reset32(struct bounds *d)
{
	d->s32_min = INT32_MIN;
	d->s32_max = INT32_MAX;
	d->u32_min = 0;
	d->u32_max = UINT32_MAX;
}

static void add64(struct bounds *d, const struct bounds *s)
{
	int64_t lo, hi;
	uint64_t ulo, uhi;

	if (__builtin_add_overflow(d->smin, s->smin, &lo) ||
	    __builtin_add_overflow(d->smax, s->smax, &hi)) {
		lo = INT64_MIN;
		hi = INT64_MAX;
	}
	if (__builtin_add_overflow(d->umin, s->umin, &ulo) ||
	    __builtin_add_overflow(d->umax, s->umax, &uhi)) {
		ulo = 0;
		uhi = UINT64_MAX;
	}
	d->var_off = tnum_add(d->var_off, s->var_off);
	d->smin = lo;
	d->smax = hi;
	d->umin = ulo;
	d->umax = uhi;
}

static void sub64(struct bounds *d, const struct bounds *s)
{
	int64_t lo, hi;

	if (__builtin_sub_overflow(d->smin, s->smax, &lo) ||
	    __builtin_sub_overflow(d->smax, s->smin, &hi)) {
		lo = INT64_MIN;
		hi = INT64_MAX;
	}
	if (d->umin < s->umax) {
		d->umin = 0;
		d->umax = UINT64_MAX;
	} else {
		d->umin -= s->umax;
		d->umax -= s->umin;
	}
	d->var_off = tnum_sub(d->var_off, s->var_off);
	d->smin = lo;
	d->smax = hi;
}

static void mul64(struct bounds *d, const struct bounds *s)
{
	int64_t c[4], lo, hi;
	uint64_t ulo, uhi;
	bool sok = true;
	int k;

	if (__builtin_mul_overflow(d->umax, s->umax, &uhi)) {
		ulo = 0;
		uhi = UINT64_MAX;
	} else {
		ulo = d->umin * s->umin;
	}
	sok &= !__builtin_mul_overflow(d->smin, s->smin, &c[0]);
	sok &= !__builtin_mul_overflow(d->smin, s->smax, &c[1]);
	sok &= !__builtin_mul_overflow(d->smax, s->smin, &c[2]);
	sok &= !__builtin_mul_overflow(d->smax, s->smax, &c[3]);
	lo = INT64_MIN;
	hi = INT64_MAX;
	if (sok) {
		lo = hi = c[0];
		for (k = 1; k < 4; k++) {
			lo = smin64(lo, c[k]);
			hi = smax64(hi, c[k]);
		}
	}
	d->var_off = tnum_mul(d->var_off, s->var_off);
	d->smin = lo;
	d->smax = hi;
	d->umin = ulo;
	d->umax = uhi;
}

static void bitop64(struct bounds *d, const struct bounds *s, uint8_t op)
{
	bool nonneg = d->smin >= 0 && s->smin >= 0;
	uint64_t lo, hi;

	switch (op) {
	case ISA_AND:
		d->var_off = tnum_and(d->var_off, s->var_off);
		lo = tnum_umin(d->var_off);
		hi = umin64(d->umax, s->umax);
		break;
	case ISA_OR:
		d->var_off = tnum_or(d->var_off, s->var_off);
		lo = umax64(d->umin, s->umin);
		hi = tnum_umax(d->var_off);
		break;
	default: /* XOR */
		d->var_off = tnum_xor(d->var_off, s->var_off);
		lo = tnum_umin(d->var_off);
		hi = tnum_umax(d->var_off);
		break;
	}
	set_unsigned_only(d, lo, hi);
	if (nonneg && (int64_t)hi >= 0) {
		d->smin = (int64_t)lo;
		d->smax = (int64_t)hi;
	}
}

static void shift64(struct bounds *d, const struct bounds *s, uint8_t op)
{
	uint8_t k;

	if (!bounds_is_const(s)) {
		*d = bounds_unknown();
		return;
	}
	k = (uint8_t)(s->var_off.value & 63);
	switch (op) {
	case ISA_LSH:
		d->var_off = tnum_lshift(d->var_off, k);
		if (k && d->umax > (UINT64_MAX >> k))
			set_unsigned_only(d, 0, UINT64_MAX);
		else
			set_unsigned_only(d, d->umin << k, d->umax << k);
		break;
	case ISA_RSH:
		d->var_off = tnum_rshift(d->var_off, k);
		set_unsigned_only(d, d->umin >> k, d->umax >> k);
		break;
	default: /* ARSH */
		d->var_off = tnum_arshift(d->var_off, k, 64);
		d->smin >>= k;
		d->smax >>= k;
		d->umin = 0;
		d->umax = UINT64_MAX;
		break;
	}
}

static void divmod64(struct bounds *d, const struct bounds *s, uint8_t op,
		     bool sdiv)
{
	uint64_t lo, hi;

	if (bounds_is_const(d) && bounds_is_const(s)) {
		uint64_t a = d->var_off.value, b = s->var_off.value, r;

		if (sdiv) {
			if (!b)
				r = op == ISA_DIV ? 0 : a;
			else if ((int64_t)b == -1)
				r = op == ISA_DIV ? 0 - a : 0;
			else
				r = (uint64_t)(op == ISA_DIV ?
					       (int64_t)a / (int64_t)b :
					       (int64_t)a % (int64_t)b);
		} else {
			r = b ? (op == ISA_DIV ? a / b : a % b) :
				(op == ISA_DIV ? 0 : a);
		}
		*d = bounds_const(r);
		return;
	}
	if (sdiv) {
		*d = bounds_unknown();
		return;
	}
	if (op == ISA_DIV) {
		lo = s->umin ? d->umin / s->umax : 0;
		hi = d->umax / (s->umin ? s->umin : 1);
	} else {
		lo = 0;
		hi = s->umin ? umin64(d->umax, s->umax - 1) : d->umax;
	}
	*d = bounds_unknown();
	d->umin = lo;
	d->umax = hi;
}

static void movsx(struct bounds *d, const struct bounds *s, int16_t bits)
{
	uint64_t lim = 1ull << (bits - 1);

	if (bounds_is_const(s)) {
		uint64_t v = s->var_off.value & ((lim << 1) - 1);

		if (v & lim)
			v |= ~((lim << 1) - 1);
		*d = bounds_const(v);
		return;
	}
	if (s->umax < lim) {
		*d = *s; /* non-negative and narrow: unchanged */
		return;
	}
	*d = bounds_unknown_ssize((unsigned)bits / 8);
}

static void alu64(struct bounds *d, const struct bounds *s, uint8_t op,
		  bool sdiv)
{
	switch (op) {
	case ISA_ADD: add64(d, s); break;
	case ISA_SUB: sub64(d, s); break;
	case ISA_MUL: mul64(d, s); break;
	case ISA_AND:
	case ISA_OR:
	case ISA_XOR: bitop64(d, s, op); break;
	case ISA_LSH:
	case ISA_RSH:
	case ISA_ARSH: shift64(d, s, op); break;
	case ISA_DIV:
	case ISA_MOD: divmod64(d, s, op, sdiv); return;
	default: *d = bounds_unknown(); return;
	}
	reset32(d);
}

/* The low half as a 64-bit value: zero- or sign-extended. */
static struct bounds ext32(const struct bounds *b, bool sign)
{
	struct bounds r = bounds_unknown();
	struct tnum t = tnum_subreg(b->var_off);

	if (sign) {
		if (t.mask & 0x80000000u)
			t.mask |= ~U32_MAXV;
		else if (t.value & 0x80000000u)
			t.value |= ~U32_MAXV;
		r.var_off = t;
		r.smin = b->s32_min;
		r.smax = b->s32_max;
	} else {
		r.var_off = t;
		r.umin = b->u32_min;
		r.umax = b->u32_max;
	}
	bounds_sync(&r);
	return r;
}

/* Keep the low 32 bits of a 64-bit result as a zero-extended value. */
static void trunc32(struct bounds *out, const struct bounds *r)
{
	*out = bounds_unknown();
	out->var_off = tnum_subreg(r->var_off);
	if ((r->umin >> 32) == (r->umax >> 32)) {
		out->u32_min = (uint32_t)r->umin;
		out->u32_max = (uint32_t)r->umax;
	}
	if (r->smin >= INT32_MIN && r->smax <= INT32_MAX) {
		out->s32_min = (int32_t)r->smin;
		out->s32_max = (int32_t)r->smax;
	}
	out->umin = 0;
	out->umax = U32_MAXV;
	bounds_sync(out);
}

static void meet(struct bounds *a, const struct bounds *b)
{
	a->var_off = tnum_intersect(a->var_off, b->var_off);
	a->umin = umax64(a->umin, b->umin);
	a->umax = umin64(a->umax, b->umax);
	a->smin = smax64(a->smin, b->smin);
	a->smax = smin64(a->smax, b->smax);
	a->u32_min = (uint32_t)umax64(a->u32_min, b->u32_min);
	a->u32_max = (uint32_t)umin64(a->u32_max, b->u32_max);
	a->s32_min = (int32_t)smax64(a->s32_min, b->s32_min);
	a->s32_max = (int32_t)smin64(a->s32_max, b->s32_max);
}

static void alu32(struct bounds *d, const struct bounds *s, uint8_t op,
		  bool sdiv)
{
	struct bounds zd = ext32(d, false), zs = ext32(s, false);
	struct bounds sd, ss, r1, r2;

	switch (op) {
	case ISA_ADD:
	case ISA_SUB:
	case ISA_MUL:
		/* low 32 bits of the 64-bit result equal the 32-bit result
		 * whichever extension the operands had */
		sd = ext32(d, true);
		ss = ext32(s, true);
		alu64(&zd, &zs, op, false);
		alu64(&sd, &ss, op, false);
		trunc32(&r1, &zd);
		trunc32(&r2, &sd);
		meet(&r1, &r2);
		bounds_sync(&r1);
		*d = r1;
		return;
	case ISA_AND:
	case ISA_OR:
	case ISA_XOR:
	case ISA_RSH:
	case ISA_LSH:
		if (op == ISA_LSH || op == ISA_RSH) {
			if (!bounds_is_const(s)) {
				*d = bounds_unknown_size(4);
				return;
			}
			zs = bounds_const(s->var_off.value & 31);
		}
		alu64(&zd, &zs, op, false);
		trunc32(d, &zd);
		return;
	case ISA_ARSH:
		if (!bounds_is_const(s)) {
			*d = bounds_unknown_size(4);
			return;
		}
		sd = ext32(d, true);
		ss = bounds_const(s->var_off.value & 31);
		alu64(&sd, &ss, op, false);
		trunc32(d, &sd);
		return;
	case ISA_DIV:
	case ISA_MOD:
		if (sdiv) {
			if (bounds_is_const(d) && bounds_is_const(s)) {
				sd = ext32(d, true);
				ss = ext32(s, true);
				alu64(&sd, &ss, op, true);
				trunc32(d, &sd);
			} else {
				*d = bounds_unknown_size(4);
			}
			return;
		}
		alu64(&zd, &zs, op, false);
		trunc32(d, &zd);
		return;
	default:
		*d = bounds_unknown_size(4);
	}
}

void bounds_alu(struct bounds *dst, const struct bounds *src, uint8_t op,
		bool is32, int16_t off)
{
	struct bounds s = *src;

	if (op == ISA_MOV) {
		if (off)
			movsx(dst, &s, off);
		else
			*dst = s;
		if (is32)
			bounds_zext32(dst);
		return;
	}
	if (op == ISA_NEG) {
		s = *dst;
		*dst = bounds_const(0);
		op = ISA_SUB;
	}
	if (is32)
		alu32(dst, &s, op, off == 1);
	else
		alu64(dst, &s, op, off == 1);
	bounds_sync(dst);
}

void bounds_end(struct bounds *d, bool bswap, bool to_be, int32_t bits)
{
	if (!bswap && !to_be) { /* to little endian on a LE host: truncate */
		if (bits < 64)
			*d = (struct bounds){ .var_off = tnum_cast(d->var_off,
								   (uint8_t)(bits / 8)),
					      .smin = INT64_MIN, .smax = INT64_MAX,
					      .umin = 0, .umax = UINT64_MAX,
					      .s32_min = INT32_MIN, .s32_max = INT32_MAX,
					      .u32_min = 0, .u32_max = UINT32_MAX };
		bounds_sync(d);
		return;
	}
	if (bounds_is_const(d)) {
		uint64_t v = d->var_off.value;

		v = bits == 16 ? __builtin_bswap16((uint16_t)v) :
		    bits == 32 ? __builtin_bswap32((uint32_t)v) :
				 __builtin_bswap64(v);
		*d = bounds_const(v);
		return;
	}
	*d = bounds_unknown_size((unsigned)bits / 8);
}

/* ---- branches ---- */

/* One width's view: tnum and both intervals, values in 64-bit ints. */
struct view {
	struct tnum t;
	uint64_t umin, umax, umaxv; /* umaxv: the width's largest value */
	int64_t smin, smax, sminv, smaxv;
};

static struct view get_view(const struct bounds *b, bool is32)
{
	struct view v;

	if (is32) {
		v.t = tnum_subreg(b->var_off);
		v.umin = b->u32_min;
		v.umax = b->u32_max;
		v.umaxv = U32_MAXV;
		v.smin = b->s32_min;
		v.smax = b->s32_max;
		v.sminv = INT32_MIN;
		v.smaxv = INT32_MAX;
	} else {
		v.t = b->var_off;
		v.umin = b->umin;
		v.umax = b->umax;
		v.umaxv = UINT64_MAX;
		v.smin = b->smin;
		v.smax = b->smax;
		v.sminv = INT64_MIN;
		v.smaxv = INT64_MAX;
	}
	return v;
}

static void put_view(struct bounds *b, const struct view *v, bool is32)
{
	if (is32) {
		b->var_off = tnum_with_subreg(b->var_off, v->t);
		b->u32_min = (uint32_t)v->umin;
		b->u32_max = (uint32_t)v->umax;
		b->s32_min = (int32_t)v->smin;
		b->s32_max = (int32_t)v->smax;
	} else {
		b->var_off = v->t;
		b->umin = v->umin;
		b->umax = v->umax;
		b->smin = v->smin;
		b->smax = v->smax;
	}
}

static bool view_const(const struct view *v)
{
	return tnum_is_const(v->t);
}

int bounds_branch_taken(const struct bounds *db, const struct bounds *sb,
			uint8_t op, bool is32)
{
	struct view d = get_view(db, is32), s = get_view(sb, is32);

	switch (op) {
	case ISA_JEQ:
	case ISA_JNE: {
		int eq = -1;

		if (view_const(&d) && view_const(&s))
			eq = d.t.value == s.t.value;
		else if (d.umin > s.umax || d.umax < s.umin ||
			 d.smin > s.smax || d.smax < s.smin ||
			 ((d.t.value ^ s.t.value) & ~(d.t.mask | s.t.mask)))
			eq = 0;
		if (eq < 0)
			return -1;
		return op == ISA_JEQ ? eq : !eq;
	}
	case ISA_JSET:
		if (d.t.value & s.t.value)
			return 1;
		if (!((d.t.value | d.t.mask) & (s.t.value | s.t.mask)))
			return 0;
		return -1;
	case ISA_JGT:
		return d.umin > s.umax ? 1 : d.umax <= s.umin ? 0 : -1;
	case ISA_JGE:
		return d.umin >= s.umax ? 1 : d.umax < s.umin ? 0 : -1;
	case ISA_JLT:
		return d.umax < s.umin ? 1 : d.umin >= s.umax ? 0 : -1;
	case ISA_JLE:
		return d.umax <= s.umin ? 1 : d.umin > s.umax ? 0 : -1;
	case ISA_JSGT:
		return d.smin > s.smax ? 1 : d.smax <= s.smin ? 0 : -1;
	case ISA_JSGE:
		return d.smin >= s.smax ? 1 : d.smax < s.smin ? 0 : -1;
	case ISA_JSLT:
		return d.smax < s.smin ? 1 : d.smin >= s.smax ? 0 : -1;
	case ISA_JSLE:
		return d.smax <= s.smin ? 1 : d.smin > s.smax ? 0 : -1;
	}
	return -1;
}

static uint8_t negate(uint8_t op)
{
	switch (op) {
	case ISA_JEQ: return ISA_JNE;
	case ISA_JNE: return ISA_JEQ;
	case ISA_JGT: return ISA_JLE;
	case ISA_JLE: return ISA_JGT;
	case ISA_JGE: return ISA_JLT;
	case ISA_JLT: return ISA_JGE;
	case ISA_JSGT: return ISA_JSLE;
	case ISA_JSLE: return ISA_JSGT;
	case ISA_JSGE: return ISA_JSLT;
	case ISA_JSLT: return ISA_JSGE;
	}
	return op;
}

/* a > b (unsigned, strict when @strict) */
static bool refine_ugt(struct view *a, struct view *b, bool strict)
{
	uint64_t inc = strict ? 1 : 0;

	if (strict && (b->umin == b->umaxv || a->umax == 0))
		return false;
	a->umin = umax64(a->umin, b->umin + inc);
	b->umax = umin64(b->umax, a->umax - inc);
	return a->umin <= a->umax && b->umin <= b->umax;
}

static bool refine_sgt(struct view *a, struct view *b, bool strict)
{
	int64_t inc = strict ? 1 : 0;

	if (strict && (b->smin == b->smaxv || a->smax == a->sminv))
		return false;
	a->smin = smax64(a->smin, b->smin + inc);
	b->smax = smin64(b->smax, a->smax - inc);
	return a->smin <= a->smax && b->smin <= b->smax;
}

static bool refine_ne(struct view *a, const struct view *b)
{
	uint64_t c = b->t.value;

	if (!view_const(b))
		return true;
	if (view_const(a))
		return a->t.value != c;
	if (a->umin == c)
		a->umin++;
	else if (a->umax == c)
		a->umax--;
	if (a->smin == (b->umaxv == U32_MAXV ? (int64_t)(int32_t)c : (int64_t)c))
		a->smin++;
	else if (a->smax == (b->umaxv == U32_MAXV ? (int64_t)(int32_t)c :
			     (int64_t)c))
		a->smax--;
	return a->umin <= a->umax && a->smin <= a->smax;
}

static bool refine_view(struct view *d, struct view *s, uint8_t op,
			bool taken)
{
	if (op == ISA_JSET) {
		if (!view_const(s))
			return true;
		if (taken) {
			if (!((d->t.value | d->t.mask) & s->t.value))
				return false;
			if (s->t.value && !(s->t.value & (s->t.value - 1))) {
				d->t.value |= s->t.value;
				d->t.mask &= ~s->t.value;
			}
			return true;
		}
		if (d->t.value & s->t.value)
			return false;
		d->t = tnum_and(d->t, tnum_const(~s->t.value));
		return true;
	}
	if (!taken)
		op = negate(op);
	switch (op) {
	case ISA_JEQ:
		if ((d->t.value ^ s->t.value) & ~(d->t.mask | s->t.mask))
			return false;
		d->t = s->t = tnum_intersect(d->t, s->t);
		d->umin = s->umin = umax64(d->umin, s->umin);
		d->umax = s->umax = umin64(d->umax, s->umax);
		d->smin = s->smin = smax64(d->smin, s->smin);
		d->smax = s->smax = smin64(d->smax, s->smax);
		return d->umin <= d->umax && d->smin <= d->smax;
	case ISA_JNE:
		return refine_ne(d, s) && refine_ne(s, d);
	case ISA_JGT: return refine_ugt(d, s, true);
	case ISA_JGE: return refine_ugt(d, s, false);
	case ISA_JLT: return refine_ugt(s, d, true);
	case ISA_JLE: return refine_ugt(s, d, false);
	case ISA_JSGT: return refine_sgt(d, s, true);
	case ISA_JSGE: return refine_sgt(d, s, false);
	case ISA_JSLT: return refine_sgt(s, d, true);
	case ISA_JSLE: return refine_sgt(s, d, false);
	}
	return true;
}

bool bounds_refine(struct bounds *db, struct bounds *sb, uint8_t op,
		   bool is32, bool taken)
{
	struct view d = get_view(db, is32), s = get_view(sb, is32);

	if (!refine_view(&d, &s, op, taken))
		return false;
	put_view(db, &d, is32);
	put_view(sb, &s, is32);
	bounds_sync(db);
	bounds_sync(sb);
	return !bounds_empty(db) && !bounds_empty(sb);
}
