/* SPDX-License-Identifier: MIT */
/*
 * tnum.h - tristate numbers: a 64-bit value where each bit is 0, 1 or
 * unknown. Bit i is unknown when mask bit i is set (value bit i is then 0);
 * otherwise it equals value bit i. Pure functions, no allocation.
 */
#ifndef BPFX_VERIFIER_TNUM_H
#define BPFX_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stdint.h>

struct tnum {
	uint64_t value;
	uint64_t mask;
};

#define TNUM(v, m) ((struct tnum){ .value = (v), .mask = (m) })

extern const struct tnum tnum_unknown;

struct tnum tnum_const(uint64_t v);
/* Smallest tnum holding every value of [min, max] (unsigned). */
struct tnum tnum_range(uint64_t min, uint64_t max);
struct tnum tnum_lshift(struct tnum a, uint8_t shift);
struct tnum tnum_rshift(struct tnum a, uint8_t shift);
/* Arithmetic shift of the low @insn_bitness (32 or 64) bits. */
struct tnum tnum_arshift(struct tnum a, uint8_t shift, uint8_t insn_bitness);
struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);
struct tnum tnum_mul(struct tnum a, struct tnum b);
struct tnum tnum_neg(struct tnum a);
/* Values both a and b allow (a and b must overlap). */
struct tnum tnum_intersect(struct tnum a, struct tnum b);
/* Values a or b allow. */
struct tnum tnum_union(struct tnum a, struct tnum b);
/* Truncate to the low @size bytes. */
struct tnum tnum_cast(struct tnum a, uint8_t size);
bool tnum_is_const(struct tnum a);
bool tnum_equals_const(struct tnum a, uint64_t b);
bool tnum_is_unknown(struct tnum a);
/* Is every value of b also a value of a? */
bool tnum_in(struct tnum a, struct tnum b);
/* Is @v a value of a? */
bool tnum_contains(struct tnum a, uint64_t v);
/* Is the value a multiple of @size (a power of two) for all members? */
bool tnum_is_aligned(struct tnum a, uint64_t size);
uint64_t tnum_umin(struct tnum a);
uint64_t tnum_umax(struct tnum a);
int64_t tnum_smin(struct tnum a);
int64_t tnum_smax(struct tnum a);
/* Subregister views. */
struct tnum tnum_subreg(struct tnum a);
struct tnum tnum_clear_subreg(struct tnum a);
struct tnum tnum_with_subreg(struct tnum reg, struct tnum subreg);
struct tnum tnum_const_subreg(struct tnum a, uint32_t v);
/* "(0x1; 0xfe)"-style text, as the kernel prints var_off. */
int tnum_sbin(char *buf, unsigned long size, struct tnum a);

#endif
