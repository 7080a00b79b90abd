/* SPDX-License-Identifier: MIT */
/*
 * check_mem.c - loads, stores and atomics: which pointer may touch which
 * bytes, and what a load yields.
 *
 * Regions by pointer type:
 *   ctx          the program type's table of (offset, size, rights,
 *                alignment) ranges; the pointer must be unmodified (the
 *                kernel rewrites ctx accesses, so offsets must be constant)
 *   stack        [-512, 0) of the frame the pointer belongs to; accesses
 *                naturally aligned (spill tracking relies on it, as in the
 *                kernel); constant offsets are tracked per byte, variable
 *                ones must stay inside the frame and read only written bytes
 *   map value    [0, value_size) (read-only under BPF_F_RDONLY_PROG; the
 *   map key      spin lock field is never accessed directly), key read-only
 *   mem          [0, size) (ringbuf records, EIM regions; RF_RDONLY)
 * For variable offsets the bytes [off + smin, off + umax + size) must fit:
 * min < 0 or umax >= 2^29 are refused with the kernel's wording.
 *
 * Stack bytes are STACK_INVALID until written. Reading one is refused
 * (the kernel lets privileged programs read them; bpfx does not, so every
 * engine computes the same result). An aligned 8-byte store of a register
 * spills it (type and bounds kept, pointers included); an 8-byte load of a
 * spill fills it back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_internal.h"

#define MAX_VAR_OFF (1ll << 29)

static int grow(struct frame *f, uint32_t nslots)
{
	struct slot *s;

	if (nslots <= f->nslots)
		return 0;
	s = realloc(f->slots, nslots * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + f->nslots, 0, (nslots - f->nslots) * sizeof(*s));
	f->slots = s;
	f->nslots = nslots;
	return 0;
}

/* Stack byte at offset @o (-512..-1) of frame @f. */
static uint8_t *byte_kind(struct frame *f, int64_t o)
{
	uint32_t i = (uint32_t)((-o - 1) / 8);

	return &f->slots[i].kind[o + (int64_t)(i + 1) * 8];
}

static struct slot *slot_of(struct frame *f, int64_t o)
{
	return &f->slots[(-o - 1) / 8];
}

static void note_depth(struct env *e, const struct reg *r, int64_t lo)
{
	struct frame *f = e->cur->frames[r->frameno];
	struct subprog *sp = &e->subs[f->subprog];

	if ((uint64_t)-lo > sp->stack_depth)
		sp->stack_depth = (uint32_t)-lo;
}

/* A slot partly overwritten loses its spill: the rest becomes data. */
static void break_spill(struct frame *f, int64_t o)
{
	struct slot *s = slot_of(f, o);
	int j;

	if (s->kind[0] != STACK_SPILL)
		return;
	for (j = 0; j < 8; j++)
		s->kind[j] = STACK_MISC;
}

void verifier_mark_stack_written(struct env *e, const struct reg *r,
				 int64_t lo, int64_t hi)
{
	struct frame *f = e->cur->frames[r->frameno];
	int64_t o;

	for (o = lo; o < hi; o++) {
		break_spill(f, o);
		*byte_kind(f, o) = STACK_MISC;
	}
}

static int stack_bounds(struct env *e, uint32_t regno, const struct reg *r,
			int64_t off, uint64_t size, bool write, int64_t *lo,
			int64_t *hi)
{
	struct frame *f = e->cur->frames[r->frameno];
	int64_t fixed = (int64_t)r->off + off;

	if (bounds_is_const(&r->b)) {
		*lo = fixed + (int64_t)r->b.var_off.value;
		*hi = *lo + (int64_t)size;
		if (*lo < -MAX_BPF_STACK || *hi > 0 || *lo >= 0)
			return verifier_reject(e, -EACCES, e->pc,
					       "invalid %s stack R%u off=%lld size=%llu: the stack is the 512 bytes below r10",
					       write ? "write to" : "read from",
					       regno, (long long)*lo,
					       (unsigned long long)size);
	} else {
		if (r->b.smin <= -MAX_VAR_OFF || r->b.smax >= MAX_VAR_OFF)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u unbounded variable-offset %s stack access: bound the offset first",
					       regno, write ? "write to" : "read from");
		*lo = fixed + r->b.smin;
		*hi = fixed + r->b.smax + (int64_t)size;
		if (*lo < -MAX_BPF_STACK || *hi > 0)
			return verifier_reject(e, -EACCES, e->pc,
					       "invalid variable-offset %s stack R%u var_off=(%#llx; %#llx) off=%lld size=%llu",
					       write ? "write to" : "read from",
					       regno,
					       (unsigned long long)r->b.var_off.value,
					       (unsigned long long)r->b.var_off.mask,
					       (long long)fixed,
					       (unsigned long long)size);
	}
	note_depth(e, r, *lo);
	return grow(f, (uint32_t)((-*lo + 7) / 8));
}

int verifier_check_stack_read_range(struct env *e, const struct reg *r,
				    int64_t lo, uint64_t size, bool init,
				    uint32_t regno)
{
	struct frame *f = e->cur->frames[r->frameno];
	int64_t o;

	for (o = lo; o < lo + (int64_t)size; o++) {
		uint8_t k = *byte_kind(f, o);

		if (k == STACK_INVALID && init)
			return verifier_reject(e, -EACCES, e->pc,
					       "invalid read from stack R%u off %lld size %llu: the bytes at fp%lld were never written on this path",
					       regno, (long long)lo,
					       (unsigned long long)size,
					       (long long)o);
		if (k == STACK_SPILL && slot_of(f, o)->r.type != SCALAR &&
		    init)
			return 1; /* reads part of a spilled pointer */
	}
	return 0;
}

/* Check [lo, hi) of the region of @what with @mem_size bytes. */
static int check_region(struct env *e, uint32_t regno, const struct reg *r,
			int64_t off, uint64_t size, uint64_t mem_size,
			const char *what)
{
	int64_t fixed = (int64_t)r->off + off;

	if (r->b.smin < 0 &&
	    (r->b.smin == INT64_MIN || fixed + r->b.smin < 0))
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u min value is negative, either use unsigned index or do a if (index >=0) check.",
				       regno);
	if (r->b.umax >= (uint64_t)MAX_VAR_OFF)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u unbounded memory access, make sure to bounds check any such access",
				       regno);
	if (fixed + (int64_t)r->b.umin < 0 ||
	    fixed + (int64_t)r->b.umax + (int64_t)size > (int64_t)mem_size)
		return verifier_reject(e, -EACCES, e->pc,
				       "invalid access to %s, %s_size=%llu off=%lld size=%llu: %s",
				       what,
				       !strcmp(what, "map value") ? "value" :
				       !strcmp(what, "map key") ? "key" : "mem",
				       (unsigned long long)mem_size,
				       (long long)(fixed + (int64_t)
						   (fixed + (int64_t)r->b.umin < 0 ?
						    r->b.umin : r->b.umax)),
				       (unsigned long long)size,
				       bounds_is_const(&r->b) ?
				       "the access is outside the object" :
				       "the offset's range reaches outside the object; bound it with a check first");
	return 0;
}

static int check_ctx(struct env *e, uint32_t regno, const struct reg *r,
		     int64_t off, uint32_t size, bool write)
{
	uint32_t i;

	if (r->off || !bounds_is_const(&r->b) || r->b.var_off.value)
		return bounds_is_const(&r->b) ?
			verifier_reject(e, -EACCES, e->pc,
					"dereference of modified ctx ptr R%u off=%lld disallowed: access the context through r1's original value plus a constant",
					regno,
					(long long)(r->off + (int64_t)r->b.var_off.value)) :
			verifier_reject(e, -EACCES, e->pc,
					"variable ctx access var_off=(%#llx; %#llx) disallowed",
					(unsigned long long)r->b.var_off.value,
					(unsigned long long)r->b.var_off.mask);
	for (i = 0; i < e->nranges; i++) {
		const struct verifier_ctx_range *rg = &e->ranges[i];
		uint32_t need = write ? VERIFIER_ACC_WRITE : VERIFIER_ACC_READ;
		uint32_t al = rg->align ? rg->align : size;

		if (off < (int64_t)rg->off ||
		    off + (int64_t)size > (int64_t)rg->off + (int64_t)rg->size)
			continue;
		if (!(rg->access & need) || (write && e->ctx_rdonly))
			return verifier_reject(e, -EACCES, e->pc,
					       "invalid bpf_context access off=%lld size=%u: the context is read-only here",
					       (long long)off, size);
		if (al > 1 && off % al)
			return verifier_reject(e, -EACCES, e->pc,
					       "invalid bpf_context access off=%lld size=%u: misaligned context access",
					       (long long)off, size);
		return 0;
	}
	return verifier_reject(e, -EACCES, e->pc,
			       "invalid bpf_context access off=%lld size=%u: outside the context's fields",
			       (long long)off, size);
}

static bool overlaps_lock(struct env *e, const struct reg *r, int64_t off,
			  uint64_t size)
{
	const struct verifier_map *m = &e->o->maps[r->aux];
	int64_t lo = r->off + off + r->b.smin, hi = r->off + off +
						    (int64_t)r->b.umax +
						    (int64_t)size;

	return m->spin_lock_off >= 0 && lo < m->spin_lock_off + 4 &&
	       hi > m->spin_lock_off;
}

/*
 * Validate an access of @size bytes at @regno + @off. On success for the
 * stack, *slo and *shi hold the byte range (fp-relative) when const.
 */
static int check_access(struct env *e, uint32_t regno, int64_t off,
			uint32_t size, bool write, bool atomic, int64_t *slo,
			int64_t *shi)
{
	struct reg *r = &cur_regs(e)[regno];
	const struct verifier_map *m;
	int err;

	if (r->type == NOT_INIT)
		return verifier_reject(e, -EACCES, e->pc, "R%u !read_ok",
				       regno);
	if (r->flags & RF_MAYBE_NULL)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u invalid mem access '%s': check the pointer for NULL before using it",
				       regno, verifier_type_name(r));
	switch (r->type) {
	case SCALAR:
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u invalid mem access 'scalar': R%u is a number, not a pointer",
				       regno, regno);
	case PTR_TO_CTX:
		if (atomic && !e->raw)
			return verifier_reject(e, -EACCES, e->pc,
					       "BPF_ATOMIC stores into R%u ctx is not allowed",
					       regno);
		return check_ctx(e, regno, r, off, size, write);
	case PTR_TO_STACK:
		err = stack_bounds(e, regno, r, off, size, write, slo, shi);
		if (err)
			return err;
		if (!tnum_is_aligned(r->b.var_off, size) ||
		    ((r->off + off) % (int64_t)size))
			return verifier_reject(e, -EACCES, e->pc,
					       "misaligned stack access off %lld size %u: stack accesses must be aligned to their size",
					       (long long)(r->off + off +
							   (int64_t)r->b.var_off.value),
					       size);
		return 0;
	case PTR_TO_MAP_VALUE:
		m = &e->o->maps[r->aux];
		if (write && (m->map_flags & BPF_F_RDONLY_PROG))
			return verifier_reject(e, -EACCES, e->pc,
					       "write into map forbidden, value_size=%u off=%lld size=%u: the map is read-only for programs",
					       m->value_size,
					       (long long)(r->off + off), size);
		err = check_region(e, regno, r, off, size, m->value_size,
				   "map value");
		if (err)
			return err;
		if (overlaps_lock(e, r, off, size))
			return verifier_reject(e, -EACCES, e->pc,
					       "bpf_spin_lock cannot be accessed directly by load/store");
		break;
	case PTR_TO_MAP_KEY:
		if (write)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u cannot write into map_key", regno);
		err = check_region(e, regno, r, off, size,
				   e->o->maps[r->aux].key_size, "map key");
		if (err)
			return err;
		break;
	case PTR_TO_MEM:
		if (write && (r->flags & RF_RDONLY))
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u cannot write into rdonly_mem", regno);
		err = check_region(e, regno, r, off, size, r->aux, "memory");
		if (err)
			return err;
		break;
	default:
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u invalid mem access '%s'", regno,
				       verifier_type_name(r));
	}
	if (atomic && !tnum_is_aligned(tnum_add(r->b.var_off,
						tnum_const((uint64_t)(r->off + off))),
				       size))
		return verifier_reject(e, -EACCES, e->pc,
				       "misaligned access off %lld size %u: atomic operations must be aligned",
				       (long long)(r->off + off), size);
	return 0;
}

/* What a load of @size bytes from non-stack memory yields. */
static void loaded_scalar(struct reg *dst, uint32_t size, bool sx)
{
	verifier_reg_unknown(dst);
	dst->b = sx ? bounds_unknown_ssize(size) : bounds_unknown_size(size);
}

static void sext_reg(struct reg *r, uint32_t size)
{
	struct bounds b = r->b;

	bounds_alu(&r->b, &b, ISA_MOV, false, (int16_t)(size * 8));
}

static int stack_load(struct env *e, uint32_t regno, uint32_t dreg,
		      const struct reg *p, int64_t lo, uint32_t size, bool sx)
{
	struct frame *f = e->cur->frames[p->frameno];
	struct reg *dst = &cur_regs(e)[dreg];
	struct reg val;
	int64_t o;
	bool zero = true;
	int err;

	if (!bounds_is_const(&p->b)) {
		for (o = lo; o < lo + (int64_t)(p->b.smax - p->b.smin) + size;
		     o++) {
			uint8_t k = *byte_kind(f, o);

			if (k == STACK_INVALID)
				return verifier_reject(e, -EACCES, e->pc,
						       "invalid variable-offset read from stack R%u: fp%lld may be read and was never written",
						       regno, (long long)o);
		}
		loaded_scalar(dst, size, sx);
		return 0;
	}
	if (!(lo % 8) && size == 8 && slot_of(f, lo)->kind[0] == STACK_SPILL) {
		*dst = slot_of(f, lo)->r;
		return 0;
	}
	err = verifier_check_stack_read_range(e, p, lo, size, true, regno);
	if (err < 0)
		return err;
	if (err)
		return verifier_reject(e, -EACCES, e->pc,
				       "invalid size of register fill: a spilled pointer is read in part");
	for (o = lo; o < lo + (int64_t)size; o++) {
		uint8_t k = *byte_kind(f, o);

		if (k == STACK_SPILL) {
			if (!tnum_equals_const(slot_of(f, o)->r.b.var_off, 0))
				zero = false;
		} else if (k != STACK_ZERO) {
			zero = false;
		}
	}
	if (zero) {
		verifier_reg_const(&val, 0);
		*dst = val;
		return 0;
	}
	/* a const spilled scalar read in part: its bytes are known */
	if (slot_of(f, lo) == slot_of(f, lo + size - 1) &&
	    slot_of(f, lo)->kind[0] == STACK_SPILL &&
	    bounds_is_const(&slot_of(f, lo)->r.b)) {
		uint32_t i = (uint32_t)((-lo - 1) / 8);
		int64_t base = -(int64_t)(i + 1) * 8;
		uint64_t v = slot_of(f, lo)->r.b.var_off.value >>
			     (8 * (lo - base));

		if (size < 8)
			v &= (1ull << (size * 8)) - 1;
		verifier_reg_const(dst, v);
		if (sx)
			sext_reg(dst, size);
		return 0;
	}
	loaded_scalar(dst, size, sx);
	return 0;
}

static int stack_store(struct env *e, const struct reg *p, int64_t lo,
		       uint32_t size, const struct reg *val)
{
	struct frame *f = e->cur->frames[p->frameno];
	int64_t o;

	if (!bounds_is_const(&p->b)) {
		/* may write any of these bytes: written ones stay data,
		 * never-written ones stay unreadable */
		for (o = lo; o < lo + (int64_t)(p->b.smax - p->b.smin) + size;
		     o++) {
			uint8_t *k = byte_kind(f, o);

			break_spill(f, o);
			if (*k != STACK_INVALID)
				*k = STACK_MISC;
		}
		return 0;
	}
	if (size == 8 && !(lo % 8) && val) {
		struct slot *s = slot_of(f, lo);
		int j;

		for (j = 0; j < 8; j++)
			s->kind[j] = STACK_SPILL;
		s->r = *val;
		return 0;
	}
	for (o = lo; o < lo + (int64_t)size; o++) {
		break_spill(f, o);
		*byte_kind(f, o) = (val && val->type == SCALAR &&
				    tnum_equals_const(val->b.var_off, 0)) ?
					   STACK_ZERO : STACK_MISC;
	}
	return 0;
}

static int check_atomic(struct env *e, const struct bpfx_insn *i)
{
	struct reg *regs = cur_regs(e);
	uint32_t size = isa_size_bytes(i->code);
	struct reg *p = &regs[i->dst];
	int64_t lo = 0, hi = 0;
	int err;

	if (regs[i->src].type != SCALAR)
		return verifier_reject(e, -EACCES, e->pc,
				       regs[i->src].type == NOT_INIT ?
				       "R%u !read_ok" :
				       "R%u leaks addr into mem: atomic operands must be numbers",
				       i->src);
	if (i->imm == ISA_CMPXCHG && regs[0].type != SCALAR)
		return verifier_reject(e, -EACCES, e->pc,
				       regs[0].type == NOT_INIT ? "R0 !read_ok" :
				       "R0 leaks addr into mem: atomic operands must be numbers");
	err = check_access(e, i->dst, i->off, size, true, true, &lo, &hi);
	if (err)
		return err;
	if (p->type == PTR_TO_STACK) {
		if (bounds_is_const(&p->b)) {
			err = verifier_check_stack_read_range(e, p, lo, size, true,
							      i->dst);
			if (err < 0)
				return err;
			if (err)
				return verifier_reject(e, -EACCES, e->pc,
						       "atomic operation on a spilled pointer");
			verifier_mark_stack_written(e, p, lo, lo + size);
		} else {
			return verifier_reject(e, -EACCES, e->pc,
					       "variable-offset atomic on the stack is not supported");
		}
	}
	if (i->imm == ISA_CMPXCHG)
		loaded_scalar(&regs[0], size, false);
	else if (i->imm & ISA_FETCH)
		loaded_scalar(&regs[i->src], size, false);
	return 0;
}

int verifier_check_load_store(struct env *e, const struct bpfx_insn *i)
{
	struct reg *regs = cur_regs(e);
	uint8_t cls = ISA_CLASS(i->code), mode = ISA_MODE(i->code);
	uint32_t size = isa_size_bytes(i->code);
	int64_t lo = 0, hi = 0;
	struct reg imm, ptr;
	int err;

	if (cls == ISA_STX && mode == ISA_ATOMIC)
		return check_atomic(e, i);
	if (cls == ISA_LDX) {
		bool sx = mode == ISA_MEMSX;

		if (mode != ISA_MEM && mode != ISA_MEMSX)
			return verifier_reject(e, -EINVAL, e->pc,
					       "unsupported load mode");
		err = check_access(e, i->src, i->off, size, false, false, &lo,
				   &hi);
		if (err)
			return err;
		ptr = regs[i->src];
		if (ptr.type == PTR_TO_STACK)
			return stack_load(e, i->src, i->dst, &ptr, lo, size, sx);
		loaded_scalar(&regs[i->dst], size, sx);
		return 0;
	}
	if (mode != ISA_MEM)
		return verifier_reject(e, -EINVAL, e->pc,
				       "BPF_LD_[ABS|IND] and other legacy modes are not supported");
	if (cls == ISA_STX) {
		if (regs[i->src].type == NOT_INIT)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u !read_ok", i->src);
		imm = regs[i->src];
		if (verifier_is_pointer(&imm) &&
		    regs[i->dst].type == PTR_TO_CTX && !e->raw)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u leaks addr into ctx", i->src);
	} else {
		verifier_reg_const(&imm, (uint64_t)(int64_t)i->imm);
		if (regs[i->dst].type == PTR_TO_CTX && !e->raw)
			return verifier_reject(e, -EACCES, e->pc,
					       "BPF_ST stores into R%u ctx is not allowed",
					       i->dst);
	}
	err = check_access(e, i->dst, i->off, size, true, false, &lo, &hi);
	if (err)
		return err;
	if (regs[i->dst].type == PTR_TO_STACK) {
		ptr = regs[i->dst];
		if (verifier_is_pointer(&imm) && size != 8)
			imm.type = SCALAR, imm.b = bounds_unknown();
		return stack_store(e, &ptr, lo, size, &imm);
	}
	return 0;
}

/*
 * Helper memory arguments: [reg, reg + size) with size in [0, max_size].
 * @zero_ok: size may be 0.
 */
int verifier_check_mem_region(struct env *e, uint32_t regno, int32_t unused,
			      uint64_t max_size, bool write, bool zero_ok,
			      const char *what)
{
	struct reg *r = &cur_regs(e)[regno];
	int64_t lo = 0, hi = 0, o;
	int err;

	(void)unused;
	if (!max_size && zero_ok)
		return 0;
	if (r->type == PTR_TO_STACK) {
		err = stack_bounds(e, regno, r, 0, max_size, write, &lo, &hi);
		if (err)
			return err;
		if (!bounds_is_const(&r->b))
			hi = lo + (r->b.smax - r->b.smin) + (int64_t)max_size;
		if (write) {
			verifier_mark_stack_written(e, r, lo, hi);
			return 0;
		}
		for (o = lo; o < hi; o++) {
			struct frame *f = e->cur->frames[r->frameno];
			uint8_t k = *byte_kind(f, o);

			if (k == STACK_INVALID)
				return verifier_reject(e, -EACCES, e->pc,
						       "invalid indirect read from stack R%u off %lld+0 size %llu: %s reads fp%lld, which was never written on this path",
						       regno, (long long)lo,
						       (unsigned long long)max_size,
						       what, (long long)o);
		}
		return 0;
	}
	if (r->type == PTR_TO_CTX && !e->raw)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u type=ctx: %s needs memory, not the context",
				       regno, what);
	if (r->type == SCALAR || r->type == NOT_INIT ||
	    r->type == CONST_PTR_TO_MAP || r->type == PTR_TO_FUNC ||
	    (r->flags & RF_MAYBE_NULL))
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u type=%s expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf: %s needs a pointer to memory",
				       regno, verifier_type_name(r), what);
	/* max_size fits in 29 bits (checked by the caller) */
	return check_access(e, regno, 0, (uint32_t)max_size, write, false, &lo,
			    &hi);
}
