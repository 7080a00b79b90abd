/* SPDX-License-Identifier: MIT */
/*
 * cases.h - the verifier's accept/reject table: each case is a program,
 * its program type, its maps, the expected verdict and (for rejections) a
 * substring the log must contain. Case files define arrays of struct
 * vcase; runner.c runs one by name (each is its own ctest test) and
 * kernel_cmp.c loads them into the Linux verifier for comparison.
 */
#ifndef BPFX_TEST_VERIFIER_CASES_H
#define BPFX_TEST_VERIFIER_CASES_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "../unit/insn.h"
#include "helpers/helpers.h"
#include "verifier/verifier.h"

/* Table entries need constant initializers: plain braces, no casts. */
#undef INSN
#define INSN(c, d, s, o, i)                                                    \
	{ .code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i) }

/* Map kinds a case may use (index into vmap_kinds). */
enum {
	M_NONE = 0,
	M_HASH,	     /* hash, key 8, value 16 */
	M_ARRAY,     /* array, 4 entries, value 16 */
	M_ARRAY64,   /* array, 1 entry, value 64 */
	M_RINGBUF,   /* ringbuf, 4096 bytes */
	M_PROG_ARRAY,
	M_PERF,	     /* perf event array */
	M_RDONLY,    /* array, value 16, BPF_F_RDONLY_PROG */
	M_LOCK,	     /* array, value 16, bpf_spin_lock at 0 (needs BTF) */
	M_QUEUE,     /* queue, value 8 */
	M_HASH48,    /* hash, key 4, value 8 */
	M_NKINDS
};
extern const struct verifier_map vmap_kinds[M_NKINDS];

#define ACCEPT 0
#define REJECT (-EACCES)
#define REJECT_INVAL (-EINVAL)
#define REJECT_BIG (-E2BIG)

/* Case flags. */
#define VC_KSKIP 0x1	 /* not comparable with the kernel (reason in why) */
#define VC_MEM64 0x2	 /* RAW: 64 bytes of memory at r1 */

struct vcase {
	const char *name;
	const struct bpfx_insn *insns;
	uint32_t n;
	uint32_t prog_type;
	uint8_t maps[4];
	int expect;
	const char *msg;
	uint32_t flags;
	const char *why; /* kernel comparison note */
};

#define INSNS(...) ((const struct bpfx_insn[]){ __VA_ARGS__ })
#define NINSNS(...) COUNT(INSNS(__VA_ARGS__))

/* V(name, type, maps, expect, msg, insns...) */
#define V(nm, type, mp, exp, m, ...)                                           \
	{ .name = nm, .insns = INSNS(__VA_ARGS__),                             \
	  .n = NINSNS(__VA_ARGS__), .prog_type = type, .maps = mp,             \
	  .expect = exp, .msg = m }
/* the same with flags and a note */
#define VF(nm, type, mp, exp, m, fl, w, ...)                                   \
	{ .name = nm, .insns = INSNS(__VA_ARGS__),                             \
	  .n = NINSNS(__VA_ARGS__), .prog_type = type, .maps = mp,             \
	  .expect = exp, .msg = m, .flags = fl, .why = w }

#define NOMAPS { 0 }
#define MAPS(...) { __VA_ARGS__ }

#define KP BPF_PROG_TYPE_KPROBE
#define TP BPF_PROG_TYPE_TRACEPOINT
#define RTP BPF_PROG_TYPE_RAW_TRACEPOINT
#define RAW BPFX_PROG_TYPE_RAW

/* lddw of map table entry @idx (pseudo source 5) */
#define LD_MAP(d, idx)                                                         \
	INSN(ISA_LDDW, d, ISA_PSEUDO_MAP_IDX, 0, idx), INSN(0, 0, 0, 0, 0)
#define LD_MAP_VALUE(d, idx, off)                                              \
	INSN(ISA_LDDW, d, ISA_PSEUDO_MAP_IDX_VALUE, 0, idx),                   \
		INSN(0, 0, 0, 0, off)
#define LD_FUNC(d, rel)                                                        \
	INSN(ISA_LDDW, d, ISA_PSEUDO_FUNC, 0, rel), INSN(0, 0, 0, 0, 0)
#define JMP32_IMM(op, d, i, o) INSN(ISA_JMP32 | (op) | ISA_K, d, 0, o, i)
#define JMP32_REG(op, d, s, o) INSN(ISA_JMP32 | (op) | ISA_X, d, s, o, 0)
#define MOV32_REG(d, s) ALU32_REG(ISA_MOV, d, s)

/* r0 = lookup(map idx, key = 8 zero bytes at fp-8): 7 insns */
#define LOOKUP(idx)                                                            \
	ST(ISA_DW, 10, -8, 0), MOV64_REG(2, 10), ALU64_IMM(ISA_ADD, 2, -8),    \
		LD_MAP(1, idx), CALL(BPF_FUNC_map_lookup_elem)
/* ... and continue only when not NULL (exit 0 otherwise): +3 insns */
#define LOOKUP_NN(idx)                                                         \
	LOOKUP(idx), JMP_IMM(ISA_JNE, 0, 0, 2), MOV64_IMM(0, 0), EXIT()
#define RET0 MOV64_IMM(0, 0), EXIT()
/* r1 = an unknown scalar (from the prandom helper) */
#define UNKNOWN(r) CALL(BPF_FUNC_get_prandom_u32), MOV64_REG(r, 0)
/* r = unknown 64-bit scalar (ktime) */
#define UNKNOWN64(r) CALL(BPF_FUNC_ktime_get_ns), MOV64_REG(r, 0)

struct vcase_set {
	const struct vcase *cases;
	size_t n;
};

extern const struct vcase vcases_mem[], vcases_alu[], vcases_call[];
extern const size_t vcases_mem_n, vcases_alu_n, vcases_call_n;

/* Test prototype table (the kernel's prototypes for the helpers used). */
const struct helper_def *vtest_helper_lookup(uint32_t id, void *arg);

/* Fill @o for case @c (maps from vmap_kinds); @maps holds 4 entries. */
void vcase_opts(const struct vcase *c, struct verifier_opts *o,
		struct verifier_map *maps);
/* Find a case by name across all sets. */
const struct vcase *vcase_find(const char *name);
/* Iterate: index over all sets; NULL past the end. */
const struct vcase *vcase_at(size_t i);

#endif
