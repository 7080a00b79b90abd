/* SPDX-License-Identifier: MIT */
/*
 * bounds.h - the scalar abstract domain: a tnum plus signed and unsigned
 * 64-bit and 32-bit (low half) intervals. Pure functions, no allocation.
 *
 * A struct bounds b describes the set of 64-bit values x with
 *   x in b.var_off, b.umin <= x <= b.umax, b.smin <= (s64)x <= b.smax,
 *   b.u32_min <= (u32)x <= b.u32_max, b.s32_min <= (s32)x <= b.s32_max.
 * bounds_sync() tightens each view from the others (the kernel's
 * reg_bounds_sync); every transfer function returns a synced result.
 */
#ifndef BPFX_VERIFIER_BOUNDS_H
#define BPFX_VERIFIER_BOUNDS_H

#include <stdbool.h>
#include <stdint.h>

#include "verifier/tnum.h"

struct bounds {
	struct tnum var_off;
	int64_t smin, smax;
	uint64_t umin, umax;
	int32_t s32_min, s32_max;
	uint32_t u32_min, u32_max;
};

struct bounds bounds_unknown(void);
struct bounds bounds_const(uint64_t v);
/* Unknown value of @size bytes, zero-extended (size 1, 2, 4, 8). */
struct bounds bounds_unknown_size(unsigned size);
/* Unknown value sign-extended from @size bytes. */
struct bounds bounds_unknown_ssize(unsigned size);
/* Tighten every view from the others. */
void bounds_sync(struct bounds *b);
/* Does the description admit no value at all (contradictory)? */
bool bounds_empty(const struct bounds *b);
bool bounds_is_const(const struct bounds *b);
/* Does @b admit value @v? */
bool bounds_contains(const struct bounds *b, uint64_t v);
/* Is every value of @new also a value of @old? */
bool bounds_in(const struct bounds *old, const struct bounds *new_);
/* Zero-extend the low 32 bits (result of every 32-bit ALU op). */
void bounds_zext32(struct bounds *b);

/*
 * ALU transfer: *dst = *dst OP src for ISA ALU op @op (ISA_ADD..ISA_ARSH,
 * ISA_NEG, ISA_MOV with @off = movsx width), @alu32 for the 32-bit class,
 * @sdiv for signed div/mod (off == 1). Shifts are masked as at run time.
 */
void bounds_alu(struct bounds *dst, const struct bounds *src, uint8_t op,
		bool alu32, int16_t off);
/* Byte swaps: ISA_END with @to_be, or ALU64 bswap (@bswap), @bits width. */
void bounds_end(struct bounds *dst, bool bswap, bool to_be, int32_t bits);

/*
 * Branch decision for `if dst OP src` (ISA_JEQ.. jump ops, @is32 for JMP32):
 * 1 = always taken, 0 = never taken, -1 = unknown.
 */
int bounds_branch_taken(const struct bounds *dst, const struct bounds *src,
			uint8_t op, bool is32);
/*
 * Refine dst and src assuming `dst OP src` is @taken. Returns false when
 * no values satisfy it (the branch cannot happen).
 */
bool bounds_refine(struct bounds *dst, struct bounds *src, uint8_t op,
		   bool is32, bool taken);

#endif
