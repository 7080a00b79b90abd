/* SPDX-License-Identifier: MIT */
/*
 * state.c - verifier states: copies, the exploration stack, checkpoints,
 * pruning (states_equal) and the static register liveness it relies on.
 *
 * Checkpoints. At prune points (branch targets, fall-throughs of
 * conditional jumps) the current state is compared with the checkpoints
 * already recorded there. A checkpoint may prune the current path only
 * when it is *complete* (branches == 0): every path below it reached an
 * exit or was itself pruned against an older complete checkpoint. That
 * ordering is what makes pruning sound for termination as well as for
 * safety: a concrete run following the current state is covered by a
 * finite, fully verified tree. Checkpoints still in progress on the
 * current path are only used to detect a loop that came back to an
 * identical state ("infinite loop detected").
 *
 * Equivalence (old covers cur), per frame, for live registers and every
 * stack byte:
 *   - an old register never written (NOT_INIT), or a dead one, covers all;
 *   - scalars: old bounds contain cur bounds (tnum and all intervals);
 *   - pointers: same type, flags, map/size, frame and fixed offset, old
 *     variable offset contains cur's;
 *   - ids (null-check groups, references, linked scalars) must map one to
 *     one (idmap), so "these two registers are the same pointer" facts the
 *     old path used also hold now;
 *   - stack: an old uninitialized byte covers all; old MISC needs cur data
 *     bytes (MISC, ZERO or a spilled scalar); old ZERO needs ZERO; an old
 *     spill needs a cur spill that regsafe() accepts.
 * Liveness is static (verifier_compute_liveness): a backward dataflow over
 * each subprogram's CFG, conservative at calls (r1-r5 read).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verifier_internal.h"

#define IDMAP_MAX 256
#define LOOP_CHECK_STATES 64 /* in-progress states compared for loops */

struct idmap {
	uint32_t n;
	uint32_t old[IDMAP_MAX], cur[IDMAP_MAX];
};

void verifier_reg_not_init(struct reg *r)
{
	memset(r, 0, sizeof(*r));
	r->b = bounds_unknown();
}

void verifier_reg_unknown(struct reg *r)
{
	memset(r, 0, sizeof(*r));
	r->type = SCALAR;
	r->b = bounds_unknown();
}

void verifier_reg_const(struct reg *r, uint64_t v)
{
	memset(r, 0, sizeof(*r));
	r->type = SCALAR;
	r->b = bounds_const(v);
}

bool verifier_is_pointer(const struct reg *r)
{
	return r->type != SCALAR && r->type != NOT_INIT;
}

static void frame_free(struct frame *f)
{
	if (!f)
		return;
	free(f->slots);
	free(f);
}

void verifier_state_free(struct vstate *s)
{
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < MAX_FRAMES; i++)
		frame_free(s->frames[i]);
	free(s);
}

struct vstate *verifier_state_new(void)
{
	return calloc(1, sizeof(struct vstate));
}

static struct frame *frame_copy(const struct frame *src)
{
	struct frame *f = malloc(sizeof(*f));

	if (!f)
		return NULL;
	*f = *src;
	f->slots = NULL;
	if (src->nslots) {
		f->slots = malloc(src->nslots * sizeof(*f->slots));
		if (!f->slots) {
			free(f);
			return NULL;
		}
		memcpy(f->slots, src->slots, src->nslots * sizeof(*f->slots));
	}
	return f;
}

int verifier_state_copy_into(struct vstate *dst, const struct vstate *src)
{
	struct frame *keep[MAX_FRAMES];
	uint32_t i;

	memcpy(keep, dst->frames, sizeof(keep));
	memcpy(dst, src, sizeof(*dst));
	memset(dst->frames, 0, sizeof(dst->frames));
	for (i = 0; i < MAX_FRAMES; i++)
		frame_free(keep[i]);
	for (i = 0; i <= src->curframe; i++) {
		dst->frames[i] = frame_copy(src->frames[i]);
		if (!dst->frames[i])
			return -ENOMEM;
	}
	return 0;
}

struct vstate *verifier_state_copy(const struct vstate *s)
{
	struct vstate *c = verifier_state_new();

	if (!c)
		return NULL;
	if (verifier_state_copy_into(c, s)) {
		verifier_state_free(c);
		return NULL;
	}
	return c;
}

/* ---- id-linked registers ---- */

static void for_each_reg(struct vstate *st, void (*fn)(struct reg *, void *),
			 void *arg)
{
	uint32_t f, i;

	for (f = 0; f <= st->curframe; f++) {
		struct frame *fr = st->frames[f];

		for (i = 0; i < ISA_NREGS; i++)
			fn(&fr->regs[i], arg);
		for (i = 0; i < fr->nslots; i++)
			if (fr->slots[i].kind[0] == STACK_SPILL)
				fn(&fr->slots[i].r, arg);
	}
}

struct null_arg {
	uint32_t id;
	bool is_null;
};

static void mark_one(struct reg *r, void *arg)
{
	const struct null_arg *a = arg;

	if (!(r->flags & RF_MAYBE_NULL) || r->id != a->id)
		return;
	if (a->is_null) {
		verifier_reg_const(r, 0);
		return;
	}
	/* the id stays: it names the object (spin locks, references) */
	r->flags &= (uint8_t)~RF_MAYBE_NULL;
}

void verifier_mark_ptr_or_null(struct vstate *st, uint32_t id, bool is_null)
{
	struct null_arg a = { .id = id, .is_null = is_null };

	for_each_reg(st, mark_one, &a);
}

static void release_one(struct reg *r, void *arg)
{
	uint32_t id = *(const uint32_t *)arg;

	if (r->ref_obj_id == id && verifier_is_pointer(r))
		verifier_reg_unknown(r);
}

void verifier_release_ref_regs(struct vstate *st, uint32_t ref_id)
{
	for_each_reg(st, release_one, &ref_id);
}

static void equal_one(struct reg *r, void *arg)
{
	const struct reg *k = arg;

	if (r->type == SCALAR && r->id == k->id && r != k)
		r->b = k->b;
}

void verifier_find_equal_scalars(struct vstate *st, const struct reg *known)
{
	if (known->type != SCALAR || !known->id)
		return;
	for_each_reg(st, equal_one, (void *)(uintptr_t)known);
}

/* ---- equivalence ---- */

static bool check_ids(struct idmap *m, uint32_t old, uint32_t cur)
{
	uint32_t i;

	if (!old)
		return true; /* the old path assumed nothing */
	if (!cur)
		return false;
	for (i = 0; i < m->n; i++) {
		if (m->old[i] == old)
			return m->cur[i] == cur;
		if (m->cur[i] == cur)
			return false;
	}
	if (m->n == IDMAP_MAX)
		return false;
	m->old[m->n] = old;
	m->cur[m->n++] = cur;
	return true;
}

static bool regsafe(const struct reg *o, const struct reg *c,
		    struct idmap *m, bool exact, bool precise)
{
	if (exact) {
		if (o->type != c->type)
			return false;
		if (o->type == NOT_INIT)
			return true;
		return o->flags == c->flags && o->frameno == c->frameno &&
		       o->aux == c->aux && o->off == c->off &&
		       !memcmp(&o->b, &c->b, sizeof(o->b)) &&
		       check_ids(m, o->id, c->id) &&
		       check_ids(m, o->ref_obj_id, c->ref_obj_id);
	}
	if (o->type == NOT_INIT)
		return true;
	if (o->type != c->type)
		return false;
	if (o->type == SCALAR)
		return !precise ||
		       (bounds_in(&o->b, &c->b) && check_ids(m, o->id, c->id));
	if (o->flags != c->flags || o->frameno != c->frameno ||
	    o->aux != c->aux || o->off != c->off)
		return false;
	if (!bounds_in(&o->b, &c->b))
		return false;
	/* a maybe-null pointer's id ties it to its copies; a reference too */
	if (!check_ids(m, o->id, c->id))
		return false;
	return check_ids(m, o->ref_obj_id, c->ref_obj_id);
}

static uint8_t kind_at(const struct frame *f, uint32_t i, uint32_t j)
{
	return i < f->nslots ? f->slots[i].kind[j] : STACK_INVALID;
}

static bool stacksafe(const struct frame *o, const struct frame *c,
		      struct idmap *m, bool exact, uint64_t prec)
{
	uint32_t i, j, n = o->nslots > c->nslots ? o->nslots : c->nslots;

	for (i = 0; i < n; i++) {
		bool spilled = false;

		for (j = 0; j < 8; j++) {
			uint8_t ok = kind_at(o, i, j), ck = kind_at(c, i, j);

			if (exact) {
				if (ok != ck)
					return false;
				spilled = ok == STACK_SPILL;
				continue;
			}
			switch (ok) {
			case STACK_INVALID:
				break;
			case STACK_MISC:
				if (ck == STACK_MISC || ck == STACK_ZERO)
					break;
				if (ck == STACK_SPILL &&
				    c->slots[i].r.type == SCALAR)
					break;
				return false;
			case STACK_ZERO:
				if (ck == STACK_ZERO)
					break;
				if (ck == STACK_SPILL &&
				    c->slots[i].r.type == SCALAR &&
				    tnum_equals_const(c->slots[i].r.b.var_off, 0))
					break;
				return false;
			case STACK_SPILL:
				if (ck != STACK_SPILL)
					return false;
				spilled = true;
				break;
			}
		}
		if (spilled && !regsafe(&o->slots[i].r, &c->slots[i].r, m,
					exact, (prec >> i) & 1))
			return false;
	}
	return true;
}

bool verifier_stack_covered(const struct frame *o, const struct frame *c)
{
	struct idmap m;

	m.n = 0;
	return stacksafe(o, c, &m, false, UINT64_MAX);
}

static bool frame_equal(struct env *e, const struct frame *o,
			const struct frame *c, uint16_t live, uint16_t prec,
			uint64_t sprec, struct idmap *m, bool exact)
{
	uint32_t r;

	if (o->callsite != c->callsite || o->cb_helper != c->cb_helper)
		return false;
	for (r = 0; r < ISA_REG_FP; r++) {
		if (!(live & (1u << r)))
			continue;
		if (!regsafe(&o->regs[r], &c->regs[r], m, exact,
			     (prec >> r) & 1))
			return false;
	}
	return stacksafe(o, c, m, exact, sprec);
}

static bool states_equal(struct env *e, const struct vstate *o,
			 const struct vstate *c, uint32_t insn, bool exact)
{
	struct idmap map, *m = &map;
	bool ok = false;
	uint32_t f, i;

	map.n = 0;
	if (o->curframe != c->curframe || o->nrefs != c->nrefs ||
	    !!o->lock_id != !!c->lock_id || o->lock_map != c->lock_map ||
	    o->lock_off != c->lock_off)
		goto out;
	for (i = 0; i < o->nrefs; i++)
		if (!check_ids(m, o->refs[i].id, c->refs[i].id))
			goto out;
	if (o->lock_id && !check_ids(m, o->lock_id, c->lock_id))
		goto out;
	for (f = 0; f <= o->curframe; f++) {
		const struct frame *of = o->frames[f], *cf = c->frames[f];
		uint16_t live, prec;
		uint64_t sprec;

		if (f == o->curframe) {
			live = e->aux[insn].live_in;
			prec = e->aux[insn].prec;
			sprec = e->aux[insn].prec_slots;
		} else {
			/* caller frames resume after their call: r6-r9 */
			uint32_t ret = o->frames[f + 1]->callsite + 1;

			live = ret < e->n ? e->aux[ret].live_in & 0x3c0 :
					    0x3c0;
			prec = 0x3c0;
			sprec = UINT64_MAX;
			if (o->frames[f + 1]->cb_helper >= 0)
				live = 0; /* the callback path ends at its exit */
		}
		if (!frame_equal(e, of, cf, live, prec, sprec, m, exact))
			goto out;
		/* a callback's exits are checked against its snapshot */
		if (of->cb_helper >= 0 && of->cb_snap != cf->cb_snap) {
			const struct vstate *ws = e->snaps[of->cb_snap];
			const struct vstate *wc = e->snaps[cf->cb_snap];
			uint32_t k;

			for (k = 0; k < f; k++)
				if (!verifier_stack_covered(wc->frames[k],
							    ws->frames[k]))
					goto out;
		}
	}
	ok = true;
out:
	return ok;
}

/* ---- checkpoints and the exploration stack ---- */

void verifier_path_done(struct env *e, struct vstate *st)
{
	struct vstate *p = st->parent;

	while (p) {
		if (--p->branches)
			break;
		e->live_states--;
		p = p->parent;
	}
}

int verifier_is_state_visited(struct env *e, uint32_t insn)
{
	struct insn_aux *a = &e->aux[insn];
	struct vstate *cur = e->cur, *cp;
	struct vlist *l, *n;
	uint32_t inprog = 0;

	for (struct vlist **pl = &a->states; (l = *pl);) {
		struct vstate *o = l->st;

		/* a complete checkpoint that keeps missing is dropped from the
		 * search (kept alive until the end), as the kernel does */
		if (!o->branches && l->miss > l->hits * 4 + 8) {
			*pl = l->next;
			l->next = e->graveyard;
			e->graveyard = l;
			a->nstates--;
			continue;
		}
		pl = &l->next;
		if (o->branches) {
			/* in progress: only the loop check applies, against the
			 * most recent ones (newest first); the processed-insn
			 * limit stops whatever loop this does not see */
			if (++inprog > LOOP_CHECK_STATES)
				continue;
			if (states_equal(e, o, cur, insn, true))
				return verifier_reject(e, -EINVAL, insn,
						       "infinite loop detected at insn %u: the loop came back to the same state",
						       insn);
			continue;
		}
		if (states_equal(e, o, cur, insn, false)) {
			l->hits++;
			return 1;
		}
		l->miss++;
	}
	if (a->nstates >= e->max_states)
		return 0;
	cp = verifier_state_copy(cur);
	n = calloc(1, sizeof(*n));
	if (!cp || !n) {
		verifier_state_free(cp);
		free(n);
		return -ENOMEM;
	}
	cp->branches = 1;
	cp->insn = insn;
	cp->parent = cur->parent;
	cur->parent = cp;
	n->st = cp;
	n->next = a->states;
	a->states = n;
	a->nstates++;
	if (a->nstates > e->max_per_insn)
		e->max_per_insn = a->nstates;
	e->total_states++;
	if (++e->live_states > e->peak_states)
		e->peak_states = e->live_states;
	return 0;
}

int verifier_push_branch(struct env *e, uint32_t insn, uint32_t prev)
{
	struct stack_elem *el;
	struct vstate *c;

	if (e->nstack == e->cap_stack) {
		uint32_t cap = e->cap_stack ? e->cap_stack * 2 : 64;

		if (cap > 8192)
			return verifier_reject(e, -E2BIG, prev,
					       "the sequence of %u jumps is too complex",
					       e->nstack);
		el = realloc(e->stack, cap * sizeof(*el));
		if (!el)
			return -ENOMEM;
		e->stack = el;
		e->cap_stack = cap;
	}
	c = verifier_state_copy(e->cur);
	if (!c)
		return -ENOMEM;
	if (c->parent)
		c->parent->branches++;
	el = &e->stack[e->nstack++];
	el->st = c;
	el->insn = insn;
	el->prev_insn = prev;
	return 0;
}

void verifier_free_all_states(struct env *e)
{
	struct vlist *l, *nx;
	uint32_t i;

	for (i = 0; e->aux && i < e->n; i++) {
		for (l = e->aux[i].states; l; l = nx) {
			nx = l->next;
			verifier_state_free(l->st);
			free(l);
		}
		e->aux[i].states = NULL;
	}
	for (l = e->graveyard; l; l = nx) {
		nx = l->next;
		verifier_state_free(l->st);
		free(l);
	}
	e->graveyard = NULL;
	for (i = 0; i < e->nstack; i++)
		verifier_state_free(e->stack[i].st);
	e->nstack = 0;
	free(e->stack);
	e->stack = NULL;
	verifier_state_free(e->cur);
	e->cur = NULL;
}

/* ---- static liveness ---- */

static void use_def(const struct env *e, uint32_t pc, uint16_t *use,
		    uint16_t *def)
{
	const struct bpfx_insn *i = &e->insns[pc];

	isa_reg_use(i, use, def);
	if (isa_is_exit(i)) {
		/* r0 matters where a caller reads it: subprogram exits only */
		uint32_t sub = 0;

		while (sub + 1 < e->nsubs && e->subs[sub + 1].start <= pc)
			sub++;
		*use = sub ? 1 : 0;
	}
}

int verifier_compute_liveness(struct env *e)
{
	uint16_t *use = malloc(e->n * sizeof(uint16_t));
	uint16_t *def = malloc(e->n * sizeof(uint16_t));
	bool changed = true;
	uint32_t pc, rounds = 0;

	if (!use || !def) {
		free(use);
		free(def);
		return -ENOMEM;
	}
	for (pc = 0; pc < e->n; pc++)
		use_def(e, pc, &use[pc], &def[pc]);
	while (changed && rounds++ < 100000) {
		changed = false;
		for (pc = e->n; pc-- > 0;) {
			const struct bpfx_insn *i = &e->insns[pc];
			uint16_t out = 0, in;

			if (pc && isa_is_lddw(&e->insns[pc - 1]))
				continue; /* second half */
			if (!isa_is_exit(i)) {
				if (isa_is_branch(i)) {
					int64_t t = isa_branch_target(i, pc);

					if (t >= 0 && t < e->n)
						out |= e->aux[t].live_in;
				}
				if (!isa_is_uncond_jump(i)) {
					uint32_t nx = pc + (isa_is_lddw(i) ? 2 : 1);

					if (nx < e->n)
						out |= e->aux[nx].live_in;
				}
			}
			in = (uint16_t)(use[pc] | (out & ~def[pc]));
			if (in != e->aux[pc].live_in) {
				e->aux[pc].live_in = in;
				changed = true;
			}
		}
	}
	free(use);
	free(def);
	return 0;
}
