/* SPDX-License-Identifier: MIT */
/*
 * check.c - an extension class as verifier options, and the checks the
 * verifier alone does not make. Everything here happens once, at load.
 *
 * Design note. A class becomes:
 *   - a context: one u64 per entry argument, then one u64 per state
 *     variable (the host copies granted state in before the run and
 *     granted-writable state out after it); ctx ranges grant exactly the
 *     readable / writable slots (verifier_ctx_range);
 *   - a helper lookup that answers only granted helpers (by group) and
 *     granted host functions (a host function is helper id BASE + hash,
 *     with a synthesized prototype: ctx -> ARG_PTR_TO_CTX, the rest
 *     ARG_ANYTHING so the call hook can judge them);
 *   - a call hook (verifier_call_check) that proves each constraint from
 *     the registers' bounds at that call: a scalar argument must be a
 *     number, `argI OP K` / `argI OP argJ` must hold for every value the
 *     verifier admits, readable/writable(P, N) makes the verifier check N
 *     accessible bytes at P (N the constant or the size argument's maximum),
 *     and `ret OP ...` constraints narrow r0 after the call;
 *   - a pre-pass (before the verifier) naming the missing capability of
 *     every call that is not granted, bounding the longest path through the
 *     control-flow graph against `instructions < N` (a loop, bpf_loop or a
 *     tail call cannot be bounded statically and is refused under a bound),
 *     and summing map memory against `memory < M`.
 * When the verifier refuses a context access, the EIM line after its log
 * says which argument or state capability the class lacks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "eim/eim_internal.h"
#include "helpers/helpers.h"
#include "isa/isa.h"

/* ---- the pre-pass ---- */

static int call_scan(const struct eim_run *r, char *why, size_t n)
{
	const struct bpfx_eim_spec *s = r->spec;
	const struct eim_class *c = r->cls;
	uint32_t pc;

	for (pc = 0; pc < r->cnt; pc++) {
		const struct bpfx_insn *i = &r->insns[pc];
		const struct helper_def *d;
		const struct eim_func *f;
		uint32_t id;

		if (isa_is_lddw(i)) {
			pc++;
			continue;
		}
		if (i->code != (ISA_JMP | ISA_CALL) && i->code != (ISA_JMP | ISA_CALL | 0x08))
			continue;
		if (i->code == (ISA_JMP | ISA_CALL | 0x08)) { /* callx */
			snprintf(why, n,
				 "EIM: insn %u: callx (an indirect call) is outside every class: call helpers and host functions by id",
				 pc);
			return -EACCES;
		}
		if (i->src == BPF_PSEUDO_CALL)
			continue;
		if (i->src == BPF_PSEUDO_KFUNC_CALL) {
			snprintf(why, n,
				 "EIM: insn %u: kfunc call: host functions are declared in the EIM spec and called by helper id (`bpfx eim header`)",
				 pc);
			return -EACCES;
		}
		id = (uint32_t)i->imm;
		if (id >= BPFX_EIM_HOSTFN_BASE &&
		    id < BPFX_EIM_HOSTFN_BASE + BPFX_EIM_HOSTFN_SLOTS) {
			f = eim_spec_func_by_id(s, id);
			if (!f) {
				snprintf(why, n,
					 "EIM: insn %u: call %u: no host function of the spec has this id",
					 pc, id);
				return -EACCES;
			}
			if (!(c->funcs[(f - s->funcs) / 64] &
			      (1ull << ((f - s->funcs) % 64)))) {
				snprintf(why, n,
					 "EIM: insn %u: call to host function '%s' needs the capability 'functions: [%s]', which class '%s' does not grant",
					 pc, f->name, f->name, c->name);
				return -EACCES;
			}
			continue;
		}
		d = helper_find(id);
		if (!d)
			continue; /* the verifier names unknown helpers */
		if (!(c->helper_groups & d->group)) {
			snprintf(why, n,
				 "EIM: insn %u: call to bpf_%s#%u needs the capability 'helpers: [%s]', which class '%s' does not grant",
				 pc, d->name, id, eim_helper_group_name(d->group),
				 c->name);
			return -EACCES;
		}
		if (c->max_insns && (d->flags & HELPER_F_CALLBACK || id == BPF_FUNC_tail_call)) {
			snprintf(why, n,
				 "EIM: insn %u: bpf_%s cannot be bounded statically, and class '%s' bounds instructions (< %llu)",
				 pc, d->name, c->name,
				 (unsigned long long)c->max_insns);
			return -EACCES;
		}
	}
	return 0;
}

/*
 * Longest path (instructions executed) from each instruction to an exit,
 * bpf-to-bpf calls counted with their callee's longest path. Iterative DFS
 * over the CFG; a back edge is a loop, which no bound can be proven for.
 */
struct lp {
	const struct bpfx_insn *insns;
	uint32_t cnt;
	uint64_t *len;	 /* longest path from here, valid when state == 2 */
	uint8_t *state;	 /* 0 new, 1 on the stack, 2 done */
	uint32_t *stack; /* DFS stack of insn indices */
	uint32_t loop_at;
};

static uint32_t succs(const struct lp *g, uint32_t pc, uint32_t out[3])
{
	const struct bpfx_insn *i = &g->insns[pc];
	uint8_t cls = i->code & 0x07, op = i->code & 0xf0;
	uint32_t n = 0;

	if (isa_is_lddw(i))
		out[n++] = pc + 2;
	else if (cls != ISA_JMP && cls != ISA_JMP32)
		out[n++] = pc + 1;
	else if (op == ISA_EXIT)
		;
	else if (op == ISA_CALL) {
		out[n++] = pc + 1;
		if (i->src == BPF_PSEUDO_CALL)
			out[n++] = pc + 1 + (uint32_t)i->imm; /* callee, counted */
	} else if (op == ISA_JA)
		out[n++] = pc + 1 + (uint32_t)(cls == ISA_JMP32 ? i->imm : i->off);
	else {
		out[n++] = pc + 1;
		out[n++] = pc + 1 + (uint32_t)(int32_t)i->off;
	}
	return n;
}

static int longest_path(struct lp *g, uint64_t *out)
{
	uint32_t sp = 0, s[3], k, n;

	g->stack[sp++] = 0;
	while (sp) {
		uint32_t pc = g->stack[sp - 1];
		bool pushed = false;

		if (g->state[pc] == 2) {
			sp--;
			continue;
		}
		g->state[pc] = 1;
		n = succs(g, pc, s);
		for (k = 0; k < n; k++) {
			if (s[k] >= g->cnt)
				return -EINVAL;
			if (g->state[s[k]] == 1) {
				g->loop_at = pc;
				return -ELOOP;
			}
			if (!g->state[s[k]]) {
				g->stack[sp++] = s[k];
				pushed = true;
				break;
			}
		}
		if (pushed)
			continue;
		{
			const struct bpfx_insn *i = &g->insns[pc];
			uint64_t best = 0;

			if ((i->code & 0xf0) == ISA_CALL && i->src == BPF_PSEUDO_CALL &&
			    ((i->code & 0x07) == ISA_JMP))
				best = g->len[s[0]] + g->len[s[1]];
			else
				for (k = 0; k < n; k++)
					if (g->len[s[k]] > best)
						best = g->len[s[k]];
			g->len[pc] = best + 1;
		}
		g->state[pc] = 2;
		sp--;
	}
	*out = g->len[0];
	return 0;
}

static int bound_scan(const struct eim_run *r, char *why, size_t n)
{
	struct lp g = { r->insns, r->cnt, NULL, NULL, NULL, 0 };
	uint64_t len = 0;
	int err;

	if (!r->cls->max_insns)
		return 0;
	g.len = calloc(r->cnt + 1, sizeof(*g.len));
	g.state = calloc(r->cnt + 1, 1);
	g.stack = calloc(r->cnt + 1, sizeof(*g.stack));
	err = g.len && g.state && g.stack ? longest_path(&g, &len) : -ENOMEM;
	free(g.len);
	free(g.state);
	free(g.stack);
	if (err == -ELOOP) {
		snprintf(why, n,
			 "EIM: insn %u: a loop: class '%s' bounds instructions (< %llu) and a loop's trip count cannot be bounded before it runs; unroll it",
			 g.loop_at, r->cls->name,
			 (unsigned long long)r->cls->max_insns);
		return -EACCES;
	}
	if (err)
		return err;
	if (len >= r->cls->max_insns) {
		snprintf(why, n,
			 "EIM: the longest path runs %llu instructions; class '%s' allows 'instructions < %llu'",
			 (unsigned long long)len, r->cls->name,
			 (unsigned long long)r->cls->max_insns);
		return -EACCES;
	}
	return 0;
}

static int memory_scan(const struct eim_run *r, const struct verifier_map *maps,
		       uint32_t nmaps, char *why, size_t n)
{
	uint64_t total = 0;
	uint32_t k;

	if (!r->cls->max_memory)
		return 0;
	for (k = 0; k < nmaps; k++)
		total += ((uint64_t)maps[k].key_size + maps[k].value_size) *
			 (maps[k].max_entries ? maps[k].max_entries : 1);
	if (total >= r->cls->max_memory) {
		snprintf(why, n,
			 "EIM: the extension's maps take %llu bytes; class '%s' allows 'memory < %llu'",
			 (unsigned long long)total, r->cls->name,
			 (unsigned long long)r->cls->max_memory);
		return -EACCES;
	}
	return 0;
}

/* ---- the verifier's side: lookup and call hook ---- */

static const struct helper_def *lookup(uint32_t id, void *arg)
{
	struct eim_run *r = arg;
	const struct eim_func *f;
	const struct helper_def *d;

	if (id >= BPFX_EIM_HOSTFN_BASE &&
	    id < BPFX_EIM_HOSTFN_BASE + BPFX_EIM_HOSTFN_SLOTS) {
		f = eim_spec_func_by_id(r->spec, id);
		if (!f || !(r->cls->funcs[(f - r->spec->funcs) / 64] &
			    (1ull << ((f - r->spec->funcs) % 64))))
			return NULL;
		return &r->defs[f - r->spec->funcs];
	}
	d = helper_find(id);
	return d && (d->group & r->cls->helper_groups) ? d : NULL;
}

static bool view_signed(const struct eim_type *t)
{
	return t->kind == EIM_T_INT && t->is_signed;
}

/* [lo, hi] of operand @o at the call, in the comparison's signedness. */
static void opnd_range(const struct eim_func *f, const struct eim_opnd *o,
		       const struct verifier_call_check *c, bool sgn,
		       int64_t *lo, int64_t *hi)
{
	const struct verifier_reg_view *v;

	if (o->arg == EIM_OPND_CONST) {
		*lo = *hi = o->value;
		return;
	}
	v = o->arg == EIM_OPND_RET ? &c->ret : &c->args[o->arg];
	if (sgn) {
		*lo = v->smin;
		*hi = v->smax;
	} else { /* unsigned values beyond INT64_MAX saturate */
		*lo = v->umin > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v->umin;
		*hi = v->umax > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v->umax;
	}
	(void)f;
}

static bool proven(uint8_t op, int64_t alo, int64_t ahi, int64_t blo,
		   int64_t bhi)
{
	switch (op) {
	case EIM_LT: return ahi < blo;
	case EIM_LE: return ahi <= blo;
	case EIM_GT: return alo > bhi;
	case EIM_GE: return alo >= bhi;
	case EIM_EQ: return alo == ahi && blo == bhi && alo == blo;
	case EIM_NE: return ahi < blo || alo > bhi;
	}
	return false;
}

static uint8_t flip(uint8_t op)
{
	switch (op) {
	case EIM_LT: return EIM_GT;
	case EIM_LE: return EIM_GE;
	case EIM_GT: return EIM_LT;
	case EIM_GE: return EIM_LE;
	}
	return op;
}

/* ret OP [lo, hi]: what r0 is after the call. */
static void narrow(struct verifier_reg_view *ret, uint8_t op, int64_t lo,
		   int64_t hi)
{
	int64_t smin = INT64_MIN, smax = INT64_MAX;

	switch (op) {
	case EIM_LT: smax = hi == INT64_MIN ? INT64_MIN : hi - 1; break;
	case EIM_LE: smax = hi; break;
	case EIM_GT: smin = lo == INT64_MAX ? INT64_MAX : lo + 1; break;
	case EIM_GE: smin = lo; break;
	case EIM_EQ:
		if (lo == hi)
			smin = smax = lo;
		break;
	default:
		return;
	}
	if (smin > ret->smin)
		ret->smin = smin;
	if (smax < ret->smax)
		ret->smax = smax;
	if (ret->smin >= 0) { /* non-negative: the unsigned view agrees */
		if ((uint64_t)ret->smin > ret->umin)
			ret->umin = (uint64_t)ret->smin;
		if ((uint64_t)ret->smax < ret->umax)
			ret->umax = (uint64_t)ret->smax;
	}
}

static int call_hook(struct verifier_call_check *c, void *arg)
{
	struct eim_run *r = arg;
	const struct eim_func *f = eim_spec_func_by_id(r->spec, c->helper_id);
	uint32_t k;

	if (!f || c->helper_id < BPFX_EIM_HOSTFN_BASE)
		return 0; /* a helper: its prototype said it all */
	for (k = 0; k < f->proto.nparams; k++) {
		const struct eim_param *p = &f->proto.params[k];
		const struct verifier_reg_view *v = &c->args[k];

		if (p->t.kind == EIM_T_INT && v->kind != VERIFIER_VIEW_SCALAR) {
			snprintf(c->why, sizeof(c->why),
				 "EIM: host function '%s': argument '%s' (R%u) must be a number, not a pointer",
				 f->name, p->name, k + 1);
			return -EACCES;
		}
		if (p->t.kind == EIM_T_PTR && v->kind != VERIFIER_VIEW_PTR) {
			snprintf(c->why, sizeof(c->why),
				 "EIM: host function '%s': argument '%s' (R%u) must be a valid pointer%s",
				 f->name, p->name, k + 1,
				 v->kind == VERIFIER_VIEW_PTR_OR_NULL ?
				 " (check it for NULL first)" : "");
			return -EACCES;
		}
	}
	for (k = 0; k < f->ncons; k++) {
		const struct eim_constraint *cn = &f->cons[k];
		struct eim_opnd a = cn->lhs, b = cn->rhs;
		uint8_t op = cn->op;
		int64_t alo, ahi, blo, bhi;
		bool sgn;

		switch (cn->kind) {
		case EIM_C_NONNULL:
			continue; /* every pointer argument is checked above */
		case EIM_C_READABLE:
		case EIM_C_WRITABLE:
			if (b.arg == EIM_OPND_CONST) {
				c->mem_size[a.arg] = (uint32_t)b.value;
			} else {
				const struct verifier_reg_view *v = &c->args[b.arg];

				if (v->umax > (1u << 29)) {
					snprintf(c->why, sizeof(c->why),
						 "EIM: host function '%s': '%s' needs a bounded size, but '%s' (R%d) may be up to %llu: check it first",
						 f->name, cn->text,
						 f->proto.params[b.arg].name, b.arg + 1,
						 (unsigned long long)v->umax);
					return -EACCES;
				}
				if (!v->umax)
					continue; /* size 0: nothing accessed */
				c->mem_size[a.arg] = (uint32_t)v->umax;
			}
			c->mem_write[a.arg] = cn->kind == EIM_C_WRITABLE;
			continue;
		case EIM_C_CMP:
			break;
		default:
			continue;
		}
		if (b.arg == EIM_OPND_RET) { /* put ret on the left */
			struct eim_opnd t = a;

			a = b;
			b = t;
			op = flip(op);
		}
		sgn = (a.arg >= 0 && view_signed(&f->proto.params[a.arg].t)) ||
		      (a.arg == EIM_OPND_RET && view_signed(&f->proto.ret)) ||
		      (b.arg >= 0 && view_signed(&f->proto.params[b.arg].t)) ||
		      a.arg == EIM_OPND_CONST || b.arg == EIM_OPND_CONST;
		opnd_range(f, &b, c, sgn, &blo, &bhi);
		if (a.arg == EIM_OPND_RET) {
			narrow(&c->ret, op, blo, bhi);
			continue;
		}
		opnd_range(f, &a, c, sgn, &alo, &ahi);
		if (!proven(op, alo, ahi, blo, bhi)) {
			snprintf(c->why, sizeof(c->why),
				 "EIM: host function '%s': cannot prove '%s' at this call (%s in [%lld, %lld], %s in [%lld, %lld]): check the argument first",
				 f->name, cn->text,
				 a.arg >= 0 ? f->proto.params[a.arg].name : "lhs",
				 (long long)alo, (long long)ahi,
				 b.arg >= 0 ? f->proto.params[b.arg].name : "rhs",
				 (long long)blo, (long long)bhi);
			return -EACCES;
		}
	}
	return 0;
}

/* ---- putting it together ---- */

void eim_run_free(struct eim_run *r)
{
	if (!r)
		return;
	free(r->defs);
	free(r->ranges);
	memset(r, 0, sizeof(*r));
}

int eim_run_init(struct eim_run *r, const struct bpfx_eim_spec *s,
		 const char *cls)
{
	const struct eim_entry *e;
	uint32_t k, nr = 0;

	memset(r, 0, sizeof(*r));
	r->spec = s;
	r->cls = eim_spec_class(s, cls);
	if (!r->cls)
		return -ENOENT;
	e = &s->entries[r->cls->entry];
	r->ctx_size = eim_ctx_size(s, e);
	r->defs = calloc(s->nfuncs + 1, sizeof(*r->defs));
	r->ranges = calloc(e->proto.nparams + s->nstates + 1, sizeof(*r->ranges));
	if (!r->defs || !r->ranges) {
		eim_run_free(r);
		return -ENOMEM;
	}
	for (k = 0; k < s->nfuncs; k++) {
		const struct eim_func *f = &s->funcs[k];
		struct helper_def *d = &r->defs[k];
		uint32_t j;

		d->id = f->helper_id;
		d->name = f->name;
		d->ret = f->proto.ret.kind == EIM_T_VOID ? RET_VOID : RET_INTEGER;
		for (j = 0; j < f->proto.nparams; j++)
			d->args[j] = f->proto.params[j].t.kind == EIM_T_CTX ?
					     ARG_PTR_TO_CTX : ARG_ANYTHING;
	}
	for (k = 0; k < e->proto.nparams; k++) {
		uint32_t acc = ((r->cls->arg_read >> k) & 1 ? VERIFIER_ACC_READ : 0) |
			       ((r->cls->arg_write >> k) & 1 ? VERIFIER_ACC_WRITE : 0);

		if (acc)
			r->ranges[nr++] = (struct verifier_ctx_range){ 8 * k, 8, acc, 0 };
	}
	for (k = 0; k < s->nstates; k++) {
		uint32_t acc = ((r->cls->state_read >> k) & 1 ? VERIFIER_ACC_READ : 0) |
			       ((r->cls->state_write >> k) & 1 ? VERIFIER_ACC_WRITE : 0);

		if (acc)
			r->ranges[nr++] = (struct verifier_ctx_range){
				eim_state_off(s, e, k), s->states[k].t.size, acc, 0 };
	}
	if (!nr) /* no readable field at all: an empty range matches nothing */
		r->ranges[nr++] = (struct verifier_ctx_range){ 0, 0, 0, 0 };
	r->nranges = nr;
	return 0;
}

int eim_run_apply(struct eim_run *r, struct verifier_opts *o, char *why,
		  size_t n)
{
	int err;

	r->insns = o->insns;
	r->cnt = o->insn_cnt;
	err = call_scan(r, why, n);
	if (!err)
		err = bound_scan(r, why, n);
	if (!err)
		err = memory_scan(r, o->maps, o->nmaps, why, n);
	if (err)
		return err;
	o->prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	o->ctx_size = r->ctx_size;
	o->ctx_ranges = r->ranges;
	o->ctx_nranges = r->nranges;
	o->helper_lookup = lookup;
	o->helper_arg = r;
	o->call_hook = call_hook;
	o->call_hook_arg = r;
	return 0;
}

/* The verifier refused a context access: say which capability is missing. */
static void explain_ctx(const struct eim_run *r, char *log, size_t size)
{
	const struct eim_entry *e = &r->spec->entries[r->cls->entry];
	const char *p = strstr(log, "invalid bpf_context access off=");
	long long off;
	uint32_t slot;
	bool write;
	size_t len;

	if (!p || sscanf(p, "invalid bpf_context access off=%lld", &off) != 1 ||
	    off < 0 || (uint64_t)off >= r->ctx_size)
		return;
	write = strstr(p, "read-only") != NULL;
	{ /* the refused instruction: a store is "*(" or "lock *(" */
		const char *q = p, *colon;

		while (q > log && !(q[0] == 'i' && !strncmp(q, "insn ", 5) &&
				    (q == log || q[-1] == '\n')))
			q--;
		colon = q[0] == 'i' ? strstr(q, ": ") : NULL;
		if (colon && colon < p &&
		    (!strncmp(colon + 2, "*(", 2) || !strncmp(colon + 2, "lock *(", 7)))
			write = true;
	}
	slot = (uint32_t)off / 8;
	len = strlen(log);
	if (slot < e->proto.nparams)
		snprintf(log + len, size - len,
			 "EIM: %s of argument '%s' of entry '%s' needs the capability 'args: {%s: [%s]}', which class '%s' does not grant\n",
			 write ? "write" : "read", e->proto.params[slot].name, e->name,
			 write ? "write" : "read", e->proto.params[slot].name,
			 r->cls->name);
	else
		snprintf(log + len, size - len,
			 "EIM: %s of host state '%s' needs the capability 'state: {%s: [%s]}', which class '%s' does not grant\n",
			 write ? "write" : "read",
			 r->spec->states[slot - e->proto.nparams].name,
			 write ? "write" : "read",
			 r->spec->states[slot - e->proto.nparams].name, r->cls->name);
}

void eim_explain(const struct eim_run *r, char *log, size_t size)
{
	if (log && size)
		explain_ctx(r, log, size);
}

int bpfx_eim_check(const struct bpfx_eim_spec *s, const char *cls,
		   const struct bpfx_insn *insns, size_t cnt,
		   struct bpfx_eim_check_opts *opts)
{
	struct verifier_map vm[64];
	struct verifier_opts o = { .sz = sizeof(o) };
	struct eim_run r;
	char why[320] = "";
	uint32_t k, nmaps = opts ? opts->nmaps : 0;
	int err;

	if (!s || !insns || !cnt || cnt > BPFX_MAX_INSNS || nmaps > 64)
		return -EINVAL;
	err = eim_run_init(&r, s, cls);
	if (err) {
		if (opts && opts->log_buf && opts->log_size)
			snprintf(opts->log_buf, opts->log_size, "EIM: no class '%s'\n",
				 cls ? cls : "");
		return err;
	}
	memset(vm, 0, sizeof(vm));
	for (k = 0; k < nmaps; k++) {
		vm[k].type = opts->maps[k].type;
		vm[k].key_size = opts->maps[k].key_size;
		vm[k].value_size = opts->maps[k].value_size;
		vm[k].max_entries = opts->maps[k].max_entries;
		vm[k].map_flags = opts->maps[k].map_flags;
		vm[k].spin_lock_off = -1;
	}
	o.insns = insns;
	o.insn_cnt = (uint32_t)cnt;
	o.maps = vm;
	o.nmaps = nmaps;
	o.log_level = opts && opts->log_level ? opts->log_level : 1;
	o.log_buf = opts ? opts->log_buf : NULL;
	o.log_size = opts && opts->log_buf ? (uint32_t)opts->log_size : 0;
	err = eim_run_apply(&r, &o, why, sizeof(why));
	if (err) {
		if (o.log_buf && o.log_size)
			snprintf(o.log_buf, o.log_size, "%s\n", why);
	} else {
		err = verifier_check(&o, NULL);
		if (err == -EACCES)
			eim_explain(&r, o.log_buf, o.log_size);
	}
	eim_run_free(&r);
	return err;
}
