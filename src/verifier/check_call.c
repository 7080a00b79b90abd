/* SPDX-License-Identifier: MIT */
/*
 * check_call.c - helper calls (arguments against prototypes, return
 * types, map/helper compatibility, references, spin locks, callbacks),
 * bpf-to-bpf calls and exits.
 *
 * References: ringbuf_reserve acquires one (the record's id); submit or
 * discard releases it, and every copy of the pointer becomes a scalar. A
 * NULL check's NULL branch drops it too. At the program's exit no reference
 * may be left ("Unreleased reference"), nor a spin lock held; while a lock
 * is held only bpf_spin_unlock may be called.
 *
 * Callbacks (bpf_loop, for_each_map_elem) run their subprogram any number
 * of times, reading and writing the caller's stack through the ctx pointer.
 * The verifier makes this one finite check:
 *   1. widen the caller frames' stacks: written bytes become "some data",
 *      spilled scalars unknown scalars, spilled pointers stay;
 *   2. snapshot that state (W) and continue after the helper call from W
 *      (r0 unknown) -- this covers any number of iterations, zero included,
 *      provided that
 *   3. the callback body, verified from W with the helper's argument types,
 *      leaves the caller stacks inside W at each of its exits (a pointer
 *      spill must still hold an equivalent pointer) and returns 0 or 1,
 *      with the same references and lock state it started with.
 * By induction every iteration starts inside W, so the continuation is
 * sound. Programs that keep a pointer-typed slot changing across
 * iterations are refused with a message saying so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_internal.h"

#define MAX_VAR_OFF (1ll << 29)

struct meta {
	int32_t map; /* map index or -1 */
	uint32_t mem_regno;
	uint8_t mem_kind;
	uint32_t ref_id;      /* released reference */
	uint64_t alloc_size;
	uint32_t func;	      /* callback subprogram start */
	bool has_func;
};

static const char *helper_label(const struct helper_def *d, char *buf,
				size_t n, uint32_t id)
{
	snprintf(buf, n, "bpf_%s#%u", d && d->name ? d->name : "unknown", id);
	return buf;
}

static int arg_type_err(struct env *e, uint32_t regno, const struct reg *r,
			const char *expected, const char *why)
{
	return verifier_reject(e, -EACCES, e->pc, "R%u type=%s expected=%s: %s",
			       regno, verifier_type_name(r), expected, why);
}

static bool is_null_scalar(const struct reg *r)
{
	return r->type == SCALAR && tnum_equals_const(r->b.var_off, 0);
}

/* Memory arguments: stack, map value/key, mem (and the raw ctx). */
static bool is_mem_ptr(const struct env *e, const struct reg *r)
{
	if (r->flags & RF_MAYBE_NULL)
		return false;
	switch (r->type) {
	case PTR_TO_STACK:
	case PTR_TO_MAP_VALUE:
	case PTR_TO_MAP_KEY:
	case PTR_TO_MEM:
		return true;
	case PTR_TO_CTX:
		return e->raw;
	}
	return false;
}

static int check_size_arg(struct env *e, uint32_t regno, bool zero_ok,
			  struct meta *m)
{
	struct reg *r = &cur_regs(e)[regno];
	struct reg *mem = &cur_regs(e)[m->mem_regno];
	bool write = m->mem_kind == ARG_PTR_TO_UNINIT_MEM;

	if (r->type != SCALAR)
		return arg_type_err(e, regno, r, "scalar",
				    "a size must be a number");
	if (r->b.smin < 0)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u min value is negative, either use unsigned or 'var &= const'",
				       regno);
	if (r->b.umax >= (uint64_t)MAX_VAR_OFF)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u unbounded memory access, use 'var &= const' or 'if (var < const)'",
				       regno);
	if (!r->b.umin && !zero_ok)
		return verifier_reject(e, -EACCES, e->pc,
				       "R%u invalid zero-sized read: u64=[%llu,%llu]",
				       regno, (unsigned long long)r->b.umin,
				       (unsigned long long)r->b.umax);
	if (m->mem_kind == ARG_PTR_TO_MEM_OR_NULL && is_null_scalar(mem)) {
		if (r->b.umax)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u must be 0 when R%u is NULL",
					       regno, m->mem_regno);
		return 0;
	}
	return verifier_check_mem_region(e, m->mem_regno, 0, r->b.umax, write,
					 true, "the helper");
}

static int check_func_arg(struct env *e, const struct helper_def *d,
			  uint32_t k, struct meta *m)
{
	uint32_t regno = k + 1;
	struct reg *r = &cur_regs(e)[regno];
	const struct verifier_map *map = m->map >= 0 ? &e->o->maps[m->map] :
						       NULL;
	uint8_t kind = d->args[k];
	uint32_t size;

	if (r->type == NOT_INIT)
		return verifier_reject(e, -EACCES, e->pc, "R%u !read_ok",
				       regno);
	switch (kind) {
	case ARG_ANYTHING:
		return 0;
	case ARG_CONST_MAP_PTR:
		if (r->type != CONST_PTR_TO_MAP)
			return arg_type_err(e, regno, r, "map_ptr",
					    "pass a map (lddw of a map)");
		if (r->flags & RF_MAYBE_NULL)
			return arg_type_err(e, regno, r, "map_ptr",
					    "check the inner map for NULL first");
		m->map = (int32_t)r->aux;
		return 0;
	case ARG_PTR_TO_MAP_KEY:
	case ARG_PTR_TO_MAP_VALUE:
	case ARG_PTR_TO_UNINIT_MAP_VALUE:
		if (!map)
			return verifier_reject(e, -EACCES, e->pc,
					       "invalid map_ptr to access map->%s",
					       kind == ARG_PTR_TO_MAP_KEY ? "key" : "value");
		if (!is_mem_ptr(e, r))
			return arg_type_err(e, regno, r, "fp, map_key, map_value, mem",
					    (r->flags & RF_MAYBE_NULL) ?
					    "check the pointer for NULL first" :
					    "pass a pointer to memory");
		size = kind == ARG_PTR_TO_MAP_KEY ? map->key_size :
						    map->value_size;
		return verifier_check_mem_region(e, regno, 0, size,
						 kind == ARG_PTR_TO_UNINIT_MAP_VALUE,
						 false,
						 kind == ARG_PTR_TO_MAP_KEY ?
						 "the map key" : "the map value");
	case ARG_PTR_TO_MEM_OR_NULL:
		if (is_null_scalar(r)) {
			m->mem_regno = regno;
			m->mem_kind = kind;
			return 0;
		}
		/* fallthrough */
	case ARG_PTR_TO_MEM:
	case ARG_PTR_TO_UNINIT_MEM:
		if (!is_mem_ptr(e, r))
			return arg_type_err(e, regno, r, "fp, map_key, map_value, mem",
					    (r->flags & RF_MAYBE_NULL) ?
					    "check the pointer for NULL first" :
					    "pass a pointer to memory");
		m->mem_regno = regno;
		m->mem_kind = kind;
		return 0;
	case ARG_CONST_SIZE:
	case ARG_CONST_SIZE_OR_ZERO:
		return check_size_arg(e, regno, kind == ARG_CONST_SIZE_OR_ZERO,
				      m);
	case ARG_PTR_TO_CTX:
		if (r->type != PTR_TO_CTX)
			return arg_type_err(e, regno, r, "ctx",
					    "pass the program's context (r1 at entry)");
		if (r->off || !tnum_equals_const(r->b.var_off, 0))
			return verifier_reject(e, -EACCES, e->pc,
					       "dereference of modified ctx ptr R%u off=%d disallowed",
					       regno, r->off);
		return 0;
	case ARG_PTR_TO_CONST_STR:
		if (r->type != PTR_TO_MAP_VALUE || (r->flags & RF_MAYBE_NULL))
			return arg_type_err(e, regno, r, "map_value",
					    "a format string lives in read-only map data");
		if (!(e->o->maps[r->aux].map_flags & BPF_F_RDONLY_PROG))
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u does not point to a readonly map'",
					       regno);
		if (!bounds_is_const(&r->b))
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u is not a constant address'",
					       regno);
		if ((uint64_t)r->off + r->b.var_off.value >=
		    e->o->maps[r->aux].value_size)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u points outside the map value",
					       regno);
		return 0;
	case ARG_PTR_TO_RINGBUF_MEM:
		if (r->type != PTR_TO_MEM || !(r->flags & RF_RINGBUF))
			return arg_type_err(e, regno, r, "ringbuf_mem",
					    "pass a record from bpf_ringbuf_reserve");
		if (r->flags & RF_MAYBE_NULL)
			return arg_type_err(e, regno, r, "ringbuf_mem",
					    "check the record for NULL first");
		if (r->off || !tnum_equals_const(r->b.var_off, 0))
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u must have zero offset when passed to release func",
					       regno);
		m->ref_id = r->ref_obj_id;
		return 0;
	case ARG_CONST_ALLOC_SIZE_OR_ZERO:
		if (r->type != SCALAR || !bounds_is_const(&r->b))
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u is not a known constant': the record size must be a constant",
					       regno);
		if (r->b.var_off.value >= (uint64_t)MAX_VAR_OFF)
			return verifier_reject(e, -EACCES, e->pc,
					       "R%u size %llu is too large", regno,
					       (unsigned long long)r->b.var_off.value);
		m->alloc_size = r->b.var_off.value;
		return 0;
	case ARG_PTR_TO_FUNC:
		if (r->type != PTR_TO_FUNC)
			return arg_type_err(e, regno, r, "func",
					    "pass a subprogram (its address via lddw)");
		m->func = r->aux;
		m->has_func = true;
		return 0;
	case ARG_PTR_TO_STACK_OR_NULL:
		if (is_null_scalar(r))
			return 0;
		if (r->type != PTR_TO_STACK)
			return arg_type_err(e, regno, r, "fp",
					    "the callback context must be on the stack (or NULL)");
		return 0;
	case ARG_PTR_TO_SPIN_LOCK:
		if (r->type != PTR_TO_MAP_VALUE || (r->flags & RF_MAYBE_NULL))
			return arg_type_err(e, regno, r, "map_value",
					    "a spin lock lives in a map value");
		if (e->o->maps[r->aux].spin_lock_off < 0)
			return verifier_reject(e, -EINVAL, e->pc,
					       "map has to have BTF in order to use bpf_spin_lock");
		if (!bounds_is_const(&r->b) ||
		    (int64_t)r->off + (int64_t)r->b.var_off.value !=
			    e->o->maps[r->aux].spin_lock_off)
			return verifier_reject(e, -EINVAL, e->pc,
					       "off %lld doesn't point to 'struct bpf_spin_lock' that is at %d",
					       (long long)r->off,
					       e->o->maps[r->aux].spin_lock_off);
		m->map = (int32_t)r->aux;
		return 0;
	case ARG_PTR_TO_LONG:
		if (!is_mem_ptr(e, r))
			return arg_type_err(e, regno, r, "fp, map_value",
					    "pass a pointer to 8 writable bytes");
		return verifier_check_mem_region(e, regno, 0, 8, true, false,
						 "the helper");
	}
	return verifier_reject(e, -EINVAL, e->pc,
			       "helper argument kind %u is not supported", kind);
}

/* Which helpers a map type allows, and which map types a helper needs. */
static bool map_func_ok(uint32_t mtype, uint32_t f)
{
	switch (mtype) {
	case BPF_MAP_TYPE_PROG_ARRAY:
		return f == BPF_FUNC_tail_call;
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		return f == BPF_FUNC_perf_event_read ||
		       f == BPF_FUNC_perf_event_output ||
		       f == BPF_FUNC_perf_event_read_value ||
		       f == BPF_FUNC_skb_output || f == BPF_FUNC_xdp_output;
	case BPF_MAP_TYPE_RINGBUF:
		return f == BPF_FUNC_ringbuf_output ||
		       f == BPF_FUNC_ringbuf_reserve ||
		       f == BPF_FUNC_ringbuf_query;
	case BPF_MAP_TYPE_STACK_TRACE:
		return f == BPF_FUNC_get_stackid;
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return f == BPF_FUNC_map_peek_elem ||
		       f == BPF_FUNC_map_pop_elem ||
		       f == BPF_FUNC_map_push_elem;
	case BPF_MAP_TYPE_BLOOM_FILTER:
		return f == BPF_FUNC_map_peek_elem ||
		       f == BPF_FUNC_map_push_elem;
	}
	switch (f) {
	case BPF_FUNC_tail_call:
	case BPF_FUNC_perf_event_read:
	case BPF_FUNC_perf_event_output:
	case BPF_FUNC_perf_event_read_value:
	case BPF_FUNC_ringbuf_output:
	case BPF_FUNC_ringbuf_reserve:
	case BPF_FUNC_ringbuf_query:
	case BPF_FUNC_get_stackid:
	case BPF_FUNC_map_peek_elem:
	case BPF_FUNC_map_pop_elem:
	case BPF_FUNC_map_push_elem:
		return false;
	case BPF_FUNC_for_each_map_elem:
		return mtype == BPF_MAP_TYPE_HASH ||
		       mtype == BPF_MAP_TYPE_LRU_HASH ||
		       mtype == BPF_MAP_TYPE_ARRAY ||
		       mtype == BPF_MAP_TYPE_PERCPU_HASH ||
		       mtype == BPF_MAP_TYPE_PERCPU_ARRAY ||
		       mtype == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	}
	return true;
}

static void clobber_args(struct reg *regs)
{
	uint32_t r;

	for (r = 1; r <= 5; r++)
		verifier_reg_not_init(&regs[r]);
}

static void widen_stacks(struct vstate *st)
{
	uint32_t f, i, j;

	for (f = 0; f <= st->curframe; f++) {
		struct frame *fr = st->frames[f];

		for (i = 0; i < fr->nslots; i++) {
			struct slot *s = &fr->slots[i];

			if (s->kind[0] == STACK_SPILL) {
				if (s->r.type == SCALAR)
					verifier_reg_unknown(&s->r);
				continue;
			}
			for (j = 0; j < 8; j++)
				if (s->kind[j] == STACK_ZERO)
					s->kind[j] = STACK_MISC;
		}
	}
}

static struct frame *new_frame(struct env *e, uint32_t callsite,
			       uint32_t target)
{
	struct frame *f = calloc(1, sizeof(*f));
	uint32_t r, sub = 0;

	if (!f)
		return NULL;
	for (r = 0; r < ISA_NREGS; r++)
		verifier_reg_not_init(&f->regs[r]);
	while (sub + 1 < e->nsubs && e->subs[sub + 1].start <= target)
		sub++;
	f->callsite = callsite;
	f->subprog = sub;
	f->cb_helper = -1;
	f->regs[ISA_REG_FP].type = PTR_TO_STACK;
	f->regs[ISA_REG_FP].b = bounds_const(0);
	f->regs[ISA_REG_FP].frameno = (uint8_t)(e->cur->curframe + 1);
	return f;
}

static int enter_callback(struct env *e, const struct helper_def *d,
			  const struct meta *m, uint32_t pc, uint32_t *next)
{
	struct vstate *st = e->cur;
	struct reg *regs = cur_regs(e), ctx;
	struct vstate *snap, *cont;
	struct frame *f;
	int err;

	if (!m->has_func)
		return verifier_reject(e, -EINVAL, pc,
				       "callback helper without a callback argument");
	if (st->curframe + 1 >= MAX_FRAMES)
		return verifier_reject(e, -E2BIG, pc,
				       "the call stack of %d frames is too deep",
				       st->curframe + 2);
	widen_stacks(st);
	/* the continuation: after any number of iterations */
	err = verifier_push_branch(e, pc + 1, pc);
	if (err)
		return err;
	cont = e->stack[e->nstack - 1].st;
	clobber_args(cont->frames[cont->curframe]->regs);
	verifier_reg_unknown(&cont->frames[cont->curframe]->regs[0]);
	/* the snapshot the body must stay within */
	if (e->nsnaps == e->cap_snaps) {
		uint32_t cap = e->cap_snaps ? e->cap_snaps * 2 : 8;
		struct vstate **s = realloc(e->snaps, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		e->snaps = s;
		e->cap_snaps = cap;
	}
	snap = verifier_state_copy(st);
	if (!snap)
		return -ENOMEM;
	e->snaps[e->nsnaps] = snap;
	f = new_frame(e, pc, m->func);
	if (!f)
		return -ENOMEM;
	f->cb_helper = (int32_t)d->id;
	f->cb_nrefs = st->nrefs;
	f->cb_snap = e->nsnaps++;
	ctx = regs[3];
	if (d->id == BPF_FUNC_loop) {
		verifier_reg_unknown(&f->regs[1]);
		f->regs[2] = ctx;
	} else { /* for_each_map_elem */
		const struct verifier_map *mp = &e->o->maps[m->map];
		struct reg *r = f->regs;

		r[1].type = CONST_PTR_TO_MAP;
		r[1].aux = (uint32_t)m->map;
		r[1].b = bounds_const(0);
		r[2].type = PTR_TO_MAP_KEY;
		r[2].aux = (uint32_t)m->map;
		r[2].b = bounds_const(0);
		r[3].type = PTR_TO_MAP_VALUE;
		r[3].aux = (uint32_t)m->map;
		r[3].b = bounds_const(0);
		if (mp->map_flags & BPF_F_RDONLY_PROG)
			r[3].flags |= RF_RDONLY;
		r[4] = ctx;
	}
	st->frames[++st->curframe] = f;
	*next = m->func;
	return 0;
}

static int add_ref(struct env *e, uint32_t id, uint32_t pc)
{
	struct vstate *st = e->cur;

	if (st->nrefs == MAX_REFS)
		return verifier_reject(e, -EACCES, pc,
				       "too many references held at once (max %d)",
				       MAX_REFS);
	st->refs[st->nrefs].id = id;
	st->refs[st->nrefs++].insn = pc;
	return 0;
}

static int release_ref(struct env *e, uint32_t id, uint32_t pc)
{
	struct vstate *st = e->cur;
	uint32_t k;

	for (k = 0; k < st->nrefs; k++) {
		if (st->refs[k].id != id)
			continue;
		memmove(&st->refs[k], &st->refs[k + 1],
			(st->nrefs - k - 1) * sizeof(st->refs[0]));
		st->nrefs--;
		verifier_release_ref_regs(st, id);
		return 0;
	}
	return verifier_reject(e, -EINVAL, pc,
			       "R1 must be referenced when passed to release function: the record was already submitted or discarded");
}

/* ---- EIM: the options' call hook (constraints on host functions) ---- */

static bool has_call_hook(const struct env *e)
{
	return e->o->sz >= offsetof(struct verifier_opts, call_hook_arg) +
				   sizeof(void *) &&
	       e->o->call_hook;
}

static void view_reg(const struct reg *r, struct verifier_reg_view *v)
{
	memset(v, 0, sizeof(*v));
	if (r->type == NOT_INIT)
		return;
	if (r->type != SCALAR) {
		v->kind = (r->flags & RF_MAYBE_NULL) ? VERIFIER_VIEW_PTR_OR_NULL :
						      VERIFIER_VIEW_PTR;
		return;
	}
	v->kind = VERIFIER_VIEW_SCALAR;
	v->smin = r->b.smin;
	v->smax = r->b.smax;
	v->umin = r->b.umin;
	v->umax = r->b.umax;
}

static int run_call_hook(struct env *e, uint32_t id, uint32_t pc,
			 struct verifier_call_check *c)
{
	struct reg *regs = cur_regs(e);
	uint32_t k;
	int err;

	memset(c, 0, sizeof(*c));
	c->helper_id = id;
	c->pc = pc;
	for (k = 0; k < 5; k++)
		view_reg(&regs[k + 1], &c->args[k]);
	c->ret.kind = VERIFIER_VIEW_SCALAR;
	c->ret.smin = INT64_MIN;
	c->ret.smax = INT64_MAX;
	c->ret.umax = UINT64_MAX;
	err = e->o->call_hook(c, e->o->call_hook_arg);
	if (err) {
		c->why[sizeof(c->why) - 1] = '\0';
		return verifier_reject(e, err < 0 ? err : -EACCES, pc, "%s",
				       c->why[0] ? c->why : "refused by the call hook");
	}
	for (k = 0; k < 5; k++) {
		if (!c->mem_size[k])
			continue;
		err = verifier_check_mem_region(e, k + 1, 0, c->mem_size[k],
						c->mem_write[k], false,
						"the host function");
		if (err)
			return err;
	}
	return 0;
}

/* r0 (an unknown scalar) meets the bounds the hook promised. */
static void narrow_ret(struct reg *r0, const struct verifier_reg_view *v)
{
	struct bounds b = r0->b;

	if (v->smin > b.smin)
		b.smin = v->smin;
	if (v->smax < b.smax)
		b.smax = v->smax;
	if (v->umin > b.umin)
		b.umin = v->umin;
	if (v->umax < b.umax)
		b.umax = v->umax;
	bounds_sync(&b);
	if (!bounds_empty(&b))
		r0->b = b;
}

int verifier_check_helper_call(struct env *e, const struct bpfx_insn *i,
			       uint32_t pc, uint32_t *next)
{
	struct meta m = { .map = -1 };
	struct verifier_call_check hook;
	const struct helper_def *d = NULL;
	struct vstate *st = e->cur;
	struct reg *regs = cur_regs(e);
	char name[64];
	uint32_t k, id = (uint32_t)i->imm;
	int err;

	if (i->imm >= 0 && e->lookup)
		d = e->lookup(id, e->lookup_arg);
	if (!d)
		return verifier_reject(e, -EINVAL, pc,
				       "invalid func unknown#%d: no such helper for this program",
				       i->imm);
	helper_label(d, name, sizeof(name), id);
	if (st->lock_map && !(d->flags & HELPER_F_RELEASES_LOCK))
		return verifier_reject(e, -EINVAL, pc,
				       "function calls are not allowed while holding a lock: call bpf_spin_unlock first");
	for (k = 0; k < 5 && d->args[k] != ARG_NONE; k++) {
		err = check_func_arg(e, d, k, &m);
		if (err)
			return err;
	}
	if (has_call_hook(e)) {
		err = run_call_hook(e, id, pc, &hook);
		if (err)
			return err;
	}
	if (m.map >= 0 && !map_func_ok(e->o->maps[m.map].type, id))
		return verifier_reject(e, -EINVAL, pc,
				       "cannot pass map_type %u into func %s",
				       e->o->maps[m.map].type, name);
	if (id == BPF_FUNC_tail_call && (st->nrefs || st->lock_map))
		return verifier_reject(e, -EINVAL, pc,
				       "tail_call would lead to reference leak: release every reference first");
	if (d->flags & HELPER_F_ACQUIRES_LOCK) {
		if (st->lock_map)
			return verifier_reject(e, -EINVAL, pc,
					       "Locks are not nested: a lock is already held");
		st->lock_map = (uint32_t)m.map + 1;
		st->lock_id = regs[1].id;
		st->lock_off = regs[1].off;
	} else if (d->flags & HELPER_F_RELEASES_LOCK) {
		if (!st->lock_map)
			return verifier_reject(e, -EINVAL, pc,
					       "bpf_spin_unlock without taking a lock");
		if (st->lock_map != (uint32_t)m.map + 1 ||
		    st->lock_id != regs[1].id)
			return verifier_reject(e, -EINVAL, pc,
					       "bpf_spin_unlock of different lock");
		st->lock_map = 0;
		st->lock_id = 0;
		st->lock_off = 0;
	}
	if (d->flags & HELPER_F_RELEASES_RINGBUF) {
		err = release_ref(e, m.ref_id, pc);
		if (err)
			return err;
	}
	if (d->flags & HELPER_F_CALLBACK) {
		if (id != BPF_FUNC_loop && id != BPF_FUNC_for_each_map_elem)
			return verifier_reject(e, -EINVAL, pc,
					       "callbacks of %s are not supported by the verifier",
					       name);
		return enter_callback(e, d, &m, pc, next);
	}
	clobber_args(regs);
	switch (d->ret) {
	case RET_INTEGER:
		verifier_reg_unknown(&regs[0]);
		if (has_call_hook(e))
			narrow_ret(&regs[0], &hook.ret);
		break;
	case RET_VOID:
		verifier_reg_not_init(&regs[0]);
		break;
	case RET_PTR_TO_MAP_VALUE_OR_NULL:
		if (m.map < 0)
			return verifier_reject(e, -EINVAL, pc,
					       "kernel subsystem misconfigured verifier: %s returns a map value without a map argument",
					       name);
		verifier_reg_not_init(&regs[0]);
		regs[0].type = PTR_TO_MAP_VALUE;
		regs[0].flags = RF_MAYBE_NULL;
		if (e->o->maps[m.map].map_flags & BPF_F_RDONLY_PROG)
			regs[0].flags |= RF_RDONLY;
		regs[0].aux = (uint32_t)m.map;
		if (e->o->maps[m.map].type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
		    e->o->maps[m.map].type == BPF_MAP_TYPE_HASH_OF_MAPS) {
			/* map-in-map: the value is the inner map itself */
			uint32_t in = e->o->maps[m.map].inner;

			if (!in || in > e->o->nmaps)
				return verifier_reject(e, -EINVAL, pc,
						       "map-in-map %d has no inner map template",
						       m.map);
			regs[0].type = CONST_PTR_TO_MAP;
			regs[0].flags = RF_MAYBE_NULL;
			regs[0].aux = in - 1;
		}
		regs[0].b = bounds_const(0);
		regs[0].id = ++e->id_gen;
		break;
	case RET_PTR_TO_RINGBUF_MEM_OR_NULL:
		verifier_reg_not_init(&regs[0]);
		regs[0].type = PTR_TO_MEM;
		regs[0].flags = RF_MAYBE_NULL | RF_RINGBUF;
		regs[0].aux = (uint32_t)m.alloc_size;
		regs[0].b = bounds_const(0);
		regs[0].id = regs[0].ref_obj_id = ++e->id_gen;
		err = add_ref(e, regs[0].id, pc);
		if (err)
			return err;
		break;
	default:
		return verifier_reject(e, -EINVAL, pc,
				       "unknown return type %u of %s", d->ret,
				       name);
	}
	*next = pc + 1;
	return 0;
}

int verifier_check_local_call(struct env *e, const struct bpfx_insn *i,
			      uint32_t pc, uint32_t *next)
{
	struct vstate *st = e->cur;
	uint32_t target = pc + 1 + (uint32_t)i->imm, r;
	struct frame *f;

	if (st->lock_map)
		return verifier_reject(e, -EINVAL, pc,
				       "function calls are not allowed while holding a lock");
	if (st->curframe + 1 >= MAX_FRAMES)
		return verifier_reject(e, -E2BIG, pc,
				       "the call stack of %d frames is too deep",
				       st->curframe + 2);
	f = new_frame(e, pc, target);
	if (!f)
		return -ENOMEM;
	for (r = 1; r <= 5; r++)
		f->regs[r] = cur_regs(e)[r];
	st->frames[++st->curframe] = f;
	*next = target;
	return 0;
}

static void kill_dangling(struct reg *r, uint32_t frameno)
{
	if (r->type == PTR_TO_STACK && r->frameno >= frameno)
		verifier_reg_unknown(r);
}

static int callback_exit(struct env *e, uint32_t pc)
{
	struct vstate *st = e->cur;
	struct frame *f = cur_frame(e);
	const struct vstate *snap = e->snaps[f->cb_snap];
	struct reg *r0 = &f->regs[0];
	uint32_t k;

	if (r0->type != SCALAR || r0->b.smin < 0 || r0->b.smax > 1 ||
	    r0->b.umax > 1)
		return verifier_reject(e, -EACCES, pc,
				       "At callback return the register R0 has %s smin=%lld smax=%lld should have been in [0, 1]",
				       verifier_type_name(r0),
				       (long long)r0->b.smin,
				       (long long)r0->b.smax);
	if (st->nrefs != f->cb_nrefs)
		return verifier_reject(e, -EINVAL, pc,
				       "Unreleased reference id=%u alloc_insn=%u: the callback must release what it acquires",
				       st->refs[st->nrefs - 1].id,
				       st->refs[st->nrefs - 1].insn);
	if (st->lock_map != snap->lock_map)
		return verifier_reject(e, -EINVAL, pc,
				       "bpf_spin_unlock is missing");
	for (k = 0; k < st->curframe; k++)
		if (!verifier_stack_covered(snap->frames[k], st->frames[k]))
			return verifier_reject(e, -EACCES, pc,
					       "the callback changes a pointer in the caller's stack (frame %u): bpfx cannot prove every iteration safe",
					       k);
	return 0;
}

int verifier_check_exit(struct env *e, uint32_t pc, uint32_t *next,
			bool *path_end)
{
	struct vstate *st = e->cur;
	struct frame *f = cur_frame(e), *caller;
	struct reg r0 = f->regs[0];
	uint32_t fr, k;

	*path_end = false;
	if (r0.type == NOT_INIT)
		return verifier_reject(e, -EACCES, pc, "R0 !read_ok");
	if (f->cb_helper >= 0) {
		int err = callback_exit(e, pc);

		if (err)
			return err;
		*path_end = true;
		return 0;
	}
	if (!st->curframe) {
		if (st->nrefs)
			return verifier_reject(e, -EINVAL, pc,
					       "Unreleased reference id=%u alloc_insn=%u: submit or discard the ringbuf record on every path",
					       st->refs[0].id, st->refs[0].insn);
		if (st->lock_map)
			return verifier_reject(e, -EINVAL, pc,
					       "bpf_spin_unlock is missing: the lock is still held at exit");
		*path_end = true;
		return 0;
	}
	if (r0.type == PTR_TO_STACK && r0.frameno == st->curframe)
		return verifier_reject(e, -EINVAL, pc,
				       "cannot return stack pointer to the caller frame");
	caller = st->frames[st->curframe - 1];
	*next = f->callsite + 1;
	free(f->slots);
	free(f);
	st->frames[st->curframe] = NULL;
	fr = st->curframe--;
	caller->regs[0] = r0;
	clobber_args(caller->regs);
	for (k = 0; k <= st->curframe; k++) {
		struct frame *g = st->frames[k];
		uint32_t r, s;

		for (r = 0; r < ISA_NREGS; r++)
			kill_dangling(&g->regs[r], fr);
		for (s = 0; s < g->nslots; s++)
			if (g->slots[s].kind[0] == STACK_SPILL)
				kill_dangling(&g->slots[s].r, fr);
	}
	return 0;
}
