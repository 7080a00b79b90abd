/* SPDX-License-Identifier: MIT */
/*
 * check_alu.c - ALU instructions, 64-bit immediates and conditional jumps.
 *
 * Scalars go through the bounds domain (bounds.c). Pointers follow the
 * kernel's rules for privileged loaders:
 *   - only 64-bit ADD/SUB of a scalar moves a pointer: a constant changes
 *     the fixed offset, anything else the variable offset (checked at the
 *     access); offsets stay within +-2^29 (BPF_MAX_VAR_OFF) so no
 *     arithmetic on them can wrap;
 *   - pointer - pointer, 32-bit SUB, NEG, END, a 32-bit MOV of a pointer
 *     yield unknown scalars (privileged: pointer values may leak into
 *     numbers); other operators on pointers are refused;
 *   - a maybe-NULL pointer cannot move before its NULL check.
 * Conditional jumps: when the bounds decide a branch, only that branch
 * is explored (dead branch pruning); otherwise both, each with bounds
 * refined by the condition, and every scalar copy with the same id gets
 * the refinement too. Comparing a maybe-NULL pointer with 0 splits it
 * into NULL (a scalar 0; a NULL ringbuf record releases its reference)
 * and non-NULL, for every register and spill with the same id.
 */
#include <errno.h>
#include <string.h>

#include "verifier/verifier_internal.h"

#define MAX_VAR_OFF (1ll << 29)

static const char *op_name(uint8_t op)
{
	const char *s = isa_alu_op_str(op);

	return s ? s : "?";
}

static int reg_init(struct env *e, uint32_t regno)
{
	if (cur_regs(e)[regno].type == NOT_INIT)
		return verifier_reject(e, -EACCES, e->pc, "R%u !read_ok", regno);
	return 0;
}

static int sane_offset(struct env *e, const struct reg *r, const char *ptype,
		       bool is_result)
{
	if (!is_result && bounds_is_const(&r->b)) {
		int64_t v = (int64_t)r->b.var_off.value;

		if (v >= MAX_VAR_OFF || v <= -MAX_VAR_OFF)
			return verifier_reject(e, -EACCES, e->pc,
					       "math between %s pointer and %lld is not allowed",
					       ptype, (long long)v);
	}
	if (r->off >= MAX_VAR_OFF || r->off <= -MAX_VAR_OFF)
		return verifier_reject(e, -EACCES, e->pc,
				       "%s pointer offset %d is not allowed",
				       ptype, r->off);
	if (r->b.smin == INT64_MIN)
		return verifier_reject(e, -EACCES, e->pc,
				       "math between %s pointer and register with unbounded min value is not allowed: check the value's lower bound first",
				       ptype);
	if (r->b.smin >= MAX_VAR_OFF || r->b.smin <= -MAX_VAR_OFF)
		return verifier_reject(e, -EACCES, e->pc,
				       "value %lld makes %s pointer be out of bounds",
				       (long long)r->b.smin, ptype);
	return 0;
}

/* dst (pointer) = ptr OP off (scalar). */
static int ptr_arith(struct env *e, const struct bpfx_insn *i,
		     struct reg *dst, const struct reg *ptr,
		     const struct reg *off, uint8_t op)
{
	const char *pt = verifier_type_name(ptr);
	struct reg res = *ptr;
	int err;

	if (ptr->flags & RF_MAYBE_NULL)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u pointer arithmetic on %s prohibited, null-check it first",
				       i->dst, pt);
	switch (ptr->type) {
	case CONST_PTR_TO_MAP:
		if (bounds_is_const(&off->b) && !off->b.var_off.value &&
		    op == ISA_ADD)
			break;
		/* fallthrough */
	case PTR_TO_FUNC:
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u pointer arithmetic on %s prohibited",
				       i->dst, pt);
	default:
		break;
	}
	if (op == ISA_AND || op == ISA_OR || op == ISA_XOR)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u bitwise operator %s on pointer prohibited",
				       i->dst, op_name(op));
	if (op != ISA_ADD && op != ISA_SUB)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u pointer arithmetic with %s operator prohibited",
				       i->dst, op_name(op));
	err = sane_offset(e, off, pt, false);
	if (err)
		return err;
	if (bounds_is_const(&off->b)) {
		int64_t v = (int64_t)off->b.var_off.value;

		res.off = (int32_t)(op == ISA_ADD ? res.off + v : res.off - v);
	} else {
		bounds_alu(&res.b, &off->b, op, false, 0);
	}
	err = sane_offset(e, &res, pt, true);
	if (err)
		return err;
	*dst = res;
	return 0;
}

static int alu_pointer(struct env *e, const struct bpfx_insn *i,
		       struct reg *dst, const struct reg *src, uint8_t op,
		       bool is64)
{
	bool dp = verifier_is_pointer(dst), sp = verifier_is_pointer(src);

	if (!is64) {
		if (op == ISA_SUB) {
			verifier_reg_unknown(dst);
			dst->b = bounds_unknown_size(4);
			return 0;
		}
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u 32-bit pointer arithmetic prohibited",
				       i->dst);
	}
	if (dp && sp) {
		if (op == ISA_SUB) {
			verifier_reg_unknown(dst);
			return 0;
		}
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u pointer %s pointer prohibited",
				       i->dst, op_name(op));
	}
	if (sp) {
		struct reg s = *src, d = *dst;

		if (op == ISA_SUB)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u tried to subtract pointer from scalar",
					       i->dst);
		return ptr_arith(e, i, dst, &s, &d, op);
	}
	{
		struct reg s = *src, d = *dst;

		return ptr_arith(e, i, dst, &d, &s, op);
	}
}

int verifier_check_alu(struct env *e, const struct bpfx_insn *i)
{
	struct reg *regs = cur_regs(e);
	uint8_t op = ISA_OP(i->code);
	bool is64 = ISA_CLASS(i->code) == ISA_ALU64;
	bool x = ISA_SRC(i->code) == ISA_X;
	struct reg *dst = &regs[i->dst], src;
	int err;

	if (op == ISA_END || op == ISA_NEG) {
		err = reg_init(e, i->dst);
		if (err)
			return err;
		if (verifier_is_pointer(dst)) {
			verifier_reg_unknown(dst);
			return 0;
		}
		if (op == ISA_END)
			bounds_end(&dst->b, is64, x, i->imm);
		else
			bounds_alu(&dst->b, &dst->b, ISA_NEG, !is64, 0);
		dst->id = 0;
		return 0;
	}
	if (x) {
		err = reg_init(e, i->src);
		if (err)
			return err;
		src = regs[i->src];
	} else {
		verifier_reg_const(&src, (uint64_t)(int64_t)i->imm);
	}
	if (op == ISA_MOV) {
		if (!x) {
			verifier_reg_const(dst, is64 ? (uint64_t)(int64_t)i->imm :
						       (uint32_t)i->imm);
			return 0;
		}
		if (verifier_is_pointer(&src)) {
			if (is64 && !i->off) {
				*dst = src;
				return 0;
			}
			verifier_reg_unknown(dst);
			if (!is64)
				dst->b = bounds_unknown_size(4);
			return 0;
		}
		if (is64 && !i->off) {
			if (!bounds_is_const(&src.b) && !src.id)
				regs[i->src].id = src.id = ++e->id_gen;
			*dst = src;
			return 0;
		}
		*dst = src;
		dst->id = 0;
		bounds_alu(&dst->b, &src.b, ISA_MOV, !is64, i->off);
		return 0;
	}
	err = reg_init(e, i->dst);
	if (err)
		return err;
	if (!x && (op == ISA_DIV || op == ISA_MOD) && !i->imm && !e->lax_imm)
		return verifier_reject(e, -EINVAL, e->pc,
				       "div by zero: the divisor is the constant 0");
	if (!x && (op == ISA_LSH || op == ISA_RSH || op == ISA_ARSH) &&
	    (i->imm < 0 || i->imm >= (is64 ? 64 : 32)) && !e->lax_imm)
		return verifier_reject(e, -EINVAL, e->pc,
				       "invalid shift %d: shift counts are 0..%d",
				       i->imm, is64 ? 63 : 31);
	if (verifier_is_pointer(dst) || verifier_is_pointer(&src))
		return alu_pointer(e, i, dst, &src, op, is64);
	bounds_alu(&dst->b, &src.b, op, !is64, i->off);
	dst->id = 0;
	return 0;
}

int verifier_check_lddw(struct env *e, const struct bpfx_insn *i)
{
	struct reg *dst = &cur_regs(e)[i->dst];
	uint64_t v = (uint32_t)i[0].imm | ((uint64_t)(uint32_t)i[1].imm << 32);
	uint32_t idx = (uint32_t)i->imm;
	const struct verifier_map *m;

	switch (i->src) {
	case ISA_PSEUDO_NONE:
		verifier_reg_const(dst, v);
		return 0;
	case ISA_PSEUDO_FUNC:
		verifier_reg_not_init(dst);
		dst->type = PTR_TO_FUNC;
		dst->b = bounds_const(0);
		dst->aux = e->pc + 1 + (uint32_t)i->imm;
		return 0;
	case ISA_PSEUDO_MAP_FD:
	case ISA_PSEUDO_MAP_IDX:
	case ISA_PSEUDO_MAP_VALUE:
	case ISA_PSEUDO_MAP_IDX_VALUE:
		break;
	default:
		return verifier_reject(e, -EINVAL, e->pc,
				       "unsupported lddw pseudo source %u", i->src);
	}
	if (idx >= e->o->nmaps || !e->o->maps)
		return verifier_reject(e, -EINVAL, e->pc,
				       "map index %u is not in the program's map table (%u maps)",
				       idx, e->o->nmaps);
	m = &e->o->maps[idx];
	verifier_reg_not_init(dst);
	dst->b = bounds_const(0);
	dst->aux = idx;
	if (i->src == ISA_PSEUDO_MAP_FD || i->src == ISA_PSEUDO_MAP_IDX) {
		dst->type = CONST_PTR_TO_MAP;
		return 0;
	}
	if (m->type != BPF_MAP_TYPE_ARRAY || m->max_entries != 1)
		return verifier_reject(e, -EINVAL, e->pc,
				       "direct value access on map type %u with %u entries is not allowed: only single-entry array maps",
				       m->type, m->max_entries);
	if ((uint32_t)i[1].imm >= m->value_size)
		return verifier_reject(e, -EINVAL, e->pc,
				       "invalid access to map value pointer, value_size=%u off=%u",
				       m->value_size, (uint32_t)i[1].imm);
	dst->type = PTR_TO_MAP_VALUE;
	dst->off = i[1].imm;
	return 0;
}

/* ---- conditional jumps ---- */

static void add_path(struct vstate *st, uint32_t pc, bool taken)
{
	if (st->npath == MAX_PATH) {
		memmove(st->path, st->path + 1,
			(MAX_PATH - 1) * sizeof(st->path[0]));
		st->npath--;
		st->path_dropped++;
	}
	st->path[st->npath++] = (pc << 1) | taken;
}

/* Pointer types known not NULL (the kernel's reg_not_null list). */
static bool nonnull_ptr(const struct reg *r)
{
	if (r->flags & RF_MAYBE_NULL)
		return false;
	return r->type == PTR_TO_MAP_VALUE || r->type == PTR_TO_MAP_KEY ||
	       r->type == PTR_TO_MEM;
}

static bool is_zero(const struct reg *r)
{
	return r->type == SCALAR && tnum_equals_const(r->b.var_off, 0);
}

/* Drop reference @id from the state (NULL record: nothing to release). */
static void drop_ref(struct vstate *st, uint32_t id)
{
	uint32_t k;

	for (k = 0; k < st->nrefs; k++) {
		if (st->refs[k].id != id)
			continue;
		memmove(&st->refs[k], &st->refs[k + 1],
			(st->nrefs - k - 1) * sizeof(st->refs[0]));
		st->nrefs--;
		return;
	}
}

static void null_split(struct vstate *st, const struct reg *p, bool is_null)
{
	uint32_t id = p->id, ref = p->ref_obj_id;

	verifier_mark_ptr_or_null(st, id, is_null);
	if (is_null && ref)
		drop_ref(st, ref);
}

int verifier_check_cond_jmp(struct env *e, const struct bpfx_insn *i,
			    uint32_t *next)
{
	struct reg *regs = cur_regs(e);
	uint8_t op = ISA_OP(i->code);
	bool is32 = ISA_CLASS(i->code) == ISA_JMP32;
	bool x = ISA_SRC(i->code) == ISA_X;
	uint32_t target = (uint32_t)isa_branch_target(i, e->pc);
	struct reg dst, src, dt, st_, df, sf;
	struct reg *maybe_null = NULL;
	bool ft = true, ff = true, refine = false;
	struct vstate *other;
	int pred = -1, err;

	err = reg_init(e, i->dst);
	if (!err && x)
		err = reg_init(e, i->src);
	if (err)
		return err;
	dst = regs[i->dst];
	if (x)
		src = regs[i->src];
	else
		verifier_reg_const(&src, (uint64_t)(int64_t)i->imm);

	if (dst.type == SCALAR && src.type == SCALAR) {
		pred = bounds_branch_taken(&dst.b, &src.b, op, is32);
		refine = true;
	} else if (!is32 && (op == ISA_JEQ || op == ISA_JNE)) {
		const struct reg *p = verifier_is_pointer(&dst) ? &dst : &src;
		const struct reg *o = p == &dst ? &src : &dst;

		if (is_zero(o) && nonnull_ptr(p))
			pred = op == ISA_JNE;
		else if (!x && !i->imm && (dst.flags & RF_MAYBE_NULL) && dst.id)
			/* as the kernel: only `if rX ==/!= 0` (immediate) */
			maybe_null = &regs[i->dst];
	}
	if (pred == 1) {
		*next = target;
		return 0;
	}
	if (pred == 0) {
		*next = e->pc + 1;
		return 0;
	}
	dt = df = dst;
	st_ = sf = src;
	if (refine) {
		ft = bounds_refine(&dt.b, &st_.b, op, is32, true);
		ff = bounds_refine(&df.b, &sf.b, op, is32, false);
		if (!ft && !ff) /* contradictory state: nothing can happen */
			ft = true;
	}
	if (!ft) {
		*next = e->pc + 1;
		goto apply_false;
	}
	if (!ff) {
		*next = target;
		regs[i->dst] = dt;
		if (x)
			regs[i->src] = st_;
		goto equal;
	}
	err = verifier_push_branch(e, target, e->pc);
	if (err)
		return err;
	other = e->stack[e->nstack - 1].st;
	add_path(other, e->pc, true);
	add_path(e->cur, e->pc, false);
	if (maybe_null) {
		struct reg p = *maybe_null;

		null_split(other, &p, op == ISA_JEQ);
		null_split(e->cur, &p, op == ISA_JNE);
	} else if (refine) {
		struct reg *oregs = other->frames[other->curframe]->regs;

		oregs[i->dst] = dt;
		if (x)
			oregs[i->src] = st_;
		verifier_find_equal_scalars(other, &oregs[i->dst]);
		if (x)
			verifier_find_equal_scalars(other, &oregs[i->src]);
	}
	*next = e->pc + 1;
apply_false:
	if (refine) {
		regs[i->dst] = df;
		if (x)
			regs[i->src] = sf;
	}
equal:
	if (refine) {
		verifier_find_equal_scalars(e->cur, &regs[i->dst]);
		if (x)
			verifier_find_equal_scalars(e->cur, &regs[i->src]);
	}
	return 0;
}
