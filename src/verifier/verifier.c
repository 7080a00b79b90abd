/* SPDX-License-Identifier: MIT */
/*
 * verifier.c - the verifier's entry point and main loop.
 *
 * Design note
 * ===========
 * The verifier walks every path of the program with an abstract state
 * instead of concrete values, as the kernel's does, and refuses the
 * program at the first instruction where some path could go wrong.
 *
 * Register types. Each register r0..r10 holds one of
 *   NOT_INIT          never written (reading it is an error)
 *   SCALAR            a number: tnum (known bits) + signed/unsigned 64-bit
 *                     and 32-bit intervals (bounds.c)
 *   PTR_TO_CTX        the context r1 points at on entry; accesses are
 *                     checked against the program type's field table
 *   PTR_TO_STACK      r10 and copies: frame number + offset; frames of
 *                     bpf-to-bpf callers stay reachable through pointers
 *   CONST_PTR_TO_MAP  a map of the program's table (lddw src 1/5)
 *   PTR_TO_MAP_VALUE  a map value (helper result, lddw src 2/6)
 *   PTR_TO_MAP_KEY    a key (for_each_map_elem callbacks), read-only
 *   PTR_TO_MEM        a sized region: ringbuf records (references), the
 *                     raw program type's memory, EIM-granted memory
 *   PTR_TO_FUNC       a subprogram (lddw src 4), for callbacks
 * Pointers carry a fixed offset (off) and a variable one (the bounds
 * domain again, as the kernel's var_off). RF_MAYBE_NULL marks pointers that
 * may be NULL; all copies share an id, so one NULL check refines them all.
 * A pointer may only be dereferenced once not NULL and only inside its
 * object: [off + min, off + max + size) must fit, for every value the
 * variable part can take.
 *
 * Paths. The main loop runs one path at a time; a conditional jump whose
 * outcome the bounds cannot decide pushes the other branch's state (with
 * its bounds refined by the condition) on a stack for later. States are
 * checkpointed at prune points; a path whose state is covered by a
 * complete checkpoint is cut short (state.c explains why this is sound,
 * for termination too). Loops are therefore explored iteration by
 * iteration until their state repeats in a covered way, the loop exits,
 * or the 1M-instruction budget runs out (-E2BIG). A loop that returns to
 * an identical state on the same path is refused as infinite.
 *
 * Memory (check_mem.c), ALU and branches (check_alu.c), calls (check_call.c)
 * each keep their own design note. The structural pass (structure.c) runs
 * first, so the walk may assume well-formed instructions, in-bounds jump
 * targets, subprogram boundaries, an acyclic call graph of depth <= 8 and
 * registers written before read on every path.
 *
 * Differences from the kernel, on purpose:
 *   - reading stack bytes never written is refused even for privileged
 *     loads (the kernel allows it with CAP_PERFMON): bpfx engines must
 *     compute the same result, and uninitialized bytes differ between them;
 *   - each frame has its own 512 bytes (the kernel limits the sum along a
 *     call chain to 512);
 *   - precision tracking is replaced by static liveness plus full
 *     scalar comparison in pruning: sound, sometimes slower.
 * docs/verifier.md lists the differences the kernel comparison finds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verifier/structure.h"
#include "verifier/verifier_internal.h"

#define PT_REGS_SIZE 168 /* struct pt_regs on x86-64 */

extern const struct helper_def *helper_find(uint32_t id) __attribute__((weak));

const struct helper_def *verifier_default_helper_lookup(uint32_t id,
							void *arg)
{
	(void)arg;
	return helper_find ? helper_find(id) : NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define SK_BUFF_SIZE 192 /* sizeof(struct __sk_buff) */

/* Context description of the program type (unless the caller gave one). */
static int setup_ctx(struct env *e)
{
	const struct verifier_opts *o = e->o;
	struct verifier_ctx_range *d = e->def_ranges;
	uint32_t sz = o->ctx_size;

	e->ctx_rdonly = o->flags & VERIFIER_F_CTX_RDONLY;
	e->lax_imm = false;
	switch (o->prog_type) {
	case BPF_PROG_TYPE_KPROBE:
		d[0] = (struct verifier_ctx_range){ 0, sz ? sz : PT_REGS_SIZE,
						    VERIFIER_ACC_READ, 0 };
		break;
	case BPF_PROG_TYPE_TRACEPOINT:
		if (sz && sz <= 8)
			return verifier_reject(e, -EINVAL, UINT32_MAX,
					       "tracepoint context of %u bytes is too small",
					       sz);
		d[0] = (struct verifier_ctx_range){
			8, (sz ? sz : VERIFIER_PERF_MAX_TRACE_SIZE) - 8,
			VERIFIER_ACC_READ, 0 };
		break;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		d[0] = (struct verifier_ctx_range){ 0, sz ? sz : 8 * 12,
						    VERIFIER_ACC_READ, 0 };
		break;
	case BPF_PROG_TYPE_SOCKET_FILTER:
		/* struct __sk_buff, read only (libbpf's feature probes) */
		d[0] = (struct verifier_ctx_range){ 0, sz ? sz : SK_BUFF_SIZE,
						    VERIFIER_ACC_READ, 0 };
		break;
	case BPF_PROG_TYPE_PERF_EVENT:
		/* struct bpf_perf_event_data: pt_regs, sample_period, addr */
		d[0] = (struct verifier_ctx_range){ 0, sz ? sz : PT_REGS_SIZE + 16,
						    VERIFIER_ACC_READ, 0 };
		break;
	case BPFX_PROG_TYPE_RAW:
		e->raw = true;
		e->lax_imm = !(o->flags & VERIFIER_F_STRICT_IMM);
		d[0] = (struct verifier_ctx_range){
			0, sz, VERIFIER_ACC_READ | VERIFIER_ACC_WRITE, 1 };
		break;
	default:
		if (!o->ctx_ranges)
			return verifier_reject(e, -EINVAL, UINT32_MAX,
					       "program type %u is not supported by bpfx",
					       o->prog_type);
	}
	e->ctx_size = sz;
	if (o->ctx_ranges) {
		e->ranges = o->ctx_ranges;
		e->nranges = o->ctx_nranges;
	} else {
		e->ranges = d;
		e->nranges = 1;
	}
	return 0;
}

static int run_structure(struct env *e)
{
	struct vm_log_buf lb;
	char line[320] = "";
	uint32_t *starts = NULL, nsubs = 0, k, pc;
	int err;

	lb.buf = line;
	lb.size = sizeof(line);
	err = verifier_check_structure_ex(NULL, e->insns, e->n,
					  e->raw ? 0x4 : 0, true, &lb, &starts,
					  &nsubs);
	if (err) {
		if (err != -ENOMEM)
			verifier_log(e, "%s\n", line);
		return err;
	}
	e->subs = calloc(nsubs, sizeof(*e->subs));
	if (!e->subs) {
		free(starts);
		return -ENOMEM;
	}
	for (k = 0; k < nsubs; k++) {
		e->subs[k].start = starts[k];
		e->subs[k].end = k + 1 < nsubs ? starts[k + 1] : e->n;
	}
	e->nsubs = nsubs;
	free(starts);
	for (pc = 0; pc < e->n; pc++) {
		const struct bpfx_insn *i = &e->insns[pc];

		if (isa_is_lddw(i) && i->src == ISA_PSEUDO_FUNC) {
			uint32_t t = pc + 1 + (uint32_t)i->imm;

			for (k = 0; k < nsubs; k++)
				if (e->subs[k].start == t)
					e->subs[k].is_callback = true;
		}
	}
	return 0;
}

/*
 * The kernel refuses statically unreachable instructions; bpfx does too
 * for kernel program types (raw conformance programs may carry dead code).
 */
static int check_reachable(struct env *e)
{
	uint8_t *seen = calloc(e->n, 1);
	uint32_t *work = malloc((e->n + 1) * sizeof(uint32_t));
	uint32_t top = 0, pc, k;
	int err = 0;

	if (!seen || !work) {
		free(seen);
		free(work);
		return -ENOMEM;
	}
	for (k = 0; k < e->nsubs; k++) {
		seen[e->subs[k].start] = 1;
		work[top++] = e->subs[k].start;
	}
	while (top) {
		const struct bpfx_insn *i;
		uint32_t succ[2], ns = 0;

		pc = work[--top];
		i = &e->insns[pc];
		if (!isa_is_exit(i)) {
			if (isa_is_branch(i))
				succ[ns++] = (uint32_t)isa_branch_target(i, pc);
			if (!isa_is_uncond_jump(i))
				succ[ns++] = pc + (isa_is_lddw(i) ? 2 : 1);
		}
		for (k = 0; k < ns; k++) {
			if (succ[k] < e->n && !seen[succ[k]]) {
				seen[succ[k]] = 1;
				work[top++] = succ[k];
			}
		}
	}
	for (pc = 0; pc < e->n; pc++) {
		if (!seen[pc]) {
			err = verifier_reject(e, -EINVAL, pc,
					      "unreachable insn %u: no path from the program's start gets here",
					      pc);
			break;
		}
		if (isa_is_lddw(&e->insns[pc]))
			pc++;
	}
	free(seen);
	free(work);
	return err;
}

static void mark_prune_points(struct env *e)
{
	uint32_t pc;

	for (pc = 0; pc < e->n; pc++) {
		const struct bpfx_insn *i = &e->insns[pc];

		if (isa_is_lddw(i)) {
			pc++;
			continue;
		}
		if (isa_is_branch(i)) {
			int64_t t = isa_branch_target(i, pc);

			e->aux[t].prune = 1;
			if (!isa_is_uncond_jump(i) && pc + 1 < e->n)
				e->aux[pc + 1].prune = 1;
		} else if (ISA_CLASS(i->code) == ISA_JMP &&
			   ISA_OP(i->code) == ISA_CALL && pc + 1 < e->n) {
			e->aux[pc + 1].prune = 1;
		}
	}
}

static int init_state(struct env *e)
{
	struct vstate *st = verifier_state_new();
	struct frame *f = calloc(1, sizeof(*f));
	uint32_t r;

	if (!st || !f) {
		free(st);
		free(f);
		return -ENOMEM;
	}
	for (r = 0; r < ISA_NREGS; r++)
		verifier_reg_not_init(&f->regs[r]);
	f->cb_helper = -1;
	f->regs[ISA_REG_FP].type = PTR_TO_STACK;
	f->regs[ISA_REG_FP].b = bounds_const(0);
	if (e->raw) {
		if (e->ctx_size) {
			f->regs[1].type = PTR_TO_MEM;
			f->regs[1].aux = e->ctx_size;
			f->regs[1].b = bounds_const(0);
			if (e->ctx_rdonly)
				f->regs[1].flags = RF_RDONLY;
		} else {
			verifier_reg_const(&f->regs[1], 0); /* NULL */
		}
		verifier_reg_const(&f->regs[2], e->ctx_size);
	} else {
		f->regs[1].type = PTR_TO_CTX;
		f->regs[1].b = bounds_const(0);
	}
	st->frames[0] = f;
	e->cur = st;
	return 0;
}

static int check_jmp(struct env *e, const struct bpfx_insn *i, uint32_t pc,
		     uint32_t *next, bool *end)
{
	uint8_t op = ISA_OP(i->code);

	*end = false;
	if (isa_is_uncond_jump(i)) {
		*next = (uint32_t)isa_branch_target(i, pc);
		return 0;
	}
	if (op == ISA_EXIT)
		return verifier_check_exit(e, pc, next, end);
	if (op == ISA_CALL) {
		if (isa_is_callx(i)) {
			const struct reg *r = &cur_regs(e)[i->dst];
			struct bpfx_insn c = *i;

			/* a helper id the verifier knows: check it as `call id` */
			if (r->type != SCALAR || !bounds_is_const(&r->b) ||
			    r->b.var_off.value > BPFX_MAX_HELPER)
				return verifier_reject(e, -EINVAL, pc,
						       "callx r%u: the helper id must be a known constant",
						       i->dst);
			c.code = ISA_JMP | ISA_CALL;
			c.dst = 0;
			c.imm = (int32_t)r->b.var_off.value;
			return verifier_check_helper_call(e, &c, pc, next);
		}
		if (isa_is_local_call(i))
			return verifier_check_local_call(e, i, pc, next);
		if (isa_is_helper_call(i))
			return verifier_check_helper_call(e, i, pc, next);
		return verifier_reject(e, -EINVAL, pc, "kfunc calls are not supported");
	}
	return verifier_check_cond_jmp(e, i, next);
}

static int do_check(struct env *e)
{
	int err;

	for (;;) {
		uint32_t pc = e->pc, next = pc + 1;
		const struct bpfx_insn *i = &e->insns[pc];
		bool end = false;

		if (++e->processed > e->max_processed)
			return verifier_reject(e, -E2BIG, pc,
					       "BPF program is too large. Processed %llu insn: loops must end after a bounded number of iterations the verifier can see",
					       (unsigned long long)e->max_processed);
		if (e->aux[pc].prune) {
			err = verifier_is_state_visited(e, pc);
			if (err < 0)
				return err;
			if (err == 1) {
				if (e->log.level & 2)
					verifier_log(e, "%u: safe (pruned)\n", pc);
				end = true;
				goto path_end;
			}
		}
		if (e->log.level & 2)
			verifier_log_state(e, pc);
		switch (ISA_CLASS(i->code)) {
		case ISA_ALU:
		case ISA_ALU64:
			err = verifier_check_alu(e, i);
			break;
		case ISA_LD:
			if (!isa_is_lddw(i))
				err = verifier_reject(e, -EINVAL, pc,
						      "BPF_LD_[ABS|IND] are not supported");
			else
				err = verifier_check_lddw(e, i);
			next = pc + 2;
			break;
		case ISA_LDX:
		case ISA_ST:
		case ISA_STX:
			err = verifier_check_load_store(e, i);
			break;
		default:
			err = check_jmp(e, i, pc, &next, &end);
			break;
		}
		if (err)
			return err;
path_end:
		if (end) {
			verifier_path_done(e, e->cur);
			if (!e->nstack)
				return 0;
			verifier_state_free(e->cur);
			e->nstack--;
			e->cur = e->stack[e->nstack].st;
			e->pc = e->stack[e->nstack].insn;
			if (e->log.level & 2)
				verifier_log(e, "from %u to %u:\n",
					     e->stack[e->nstack].prev_insn, e->pc);
			continue;
		}
		e->pc = next;
	}
}

static void fill_stats(struct env *e, struct verifier_stats *st, uint64_t t0)
{
	struct verifier_stats s = { 0 };
	size_t n;

	if (!st)
		return;
	s.sz = st->sz;
	s.insns_processed = e->processed;
	s.total_states = e->total_states;
	s.peak_states = e->peak_states;
	s.max_states_per_insn = e->max_per_insn;
	s.stack_depth = e->subs ? e->subs[0].stack_depth : 0;
	s.time_ns = now_ns() - t0;
	s.log_true_size = e->log.level ? (uint32_t)(e->log.len + 1) : 0;
	s.nsubprogs = e->nsubs;
	n = st->sz && st->sz < sizeof(s) ? st->sz : sizeof(s);
	memcpy(st, &s, n);
	if (st->sz)
		st->sz = s.sz;
}

static __thread verifier_policy_fn thread_policy;
static __thread void *thread_policy_arg;

void verifier_set_thread_policy(verifier_policy_fn fn, void *arg)
{
	thread_policy = fn;
	thread_policy_arg = arg;
}

int verifier_check(struct verifier_opts *o, struct verifier_stats *st)
{
	struct env env, *e = &env;
	struct verifier_opts po, *user = o;
	uint64_t t0 = now_ns();
	char why[256] = "";
	int err, perr = 0;

	if (!o || o->sz < offsetof(struct verifier_opts, log_true_size) ||
	    !o->insns || !o->insn_cnt)
		return -EINVAL;
	if (o->log_size && !o->log_buf)
		return -EINVAL;
	if (thread_policy) { /* EIM: the policy edits a copy */
		memset(&po, 0, sizeof(po));
		memcpy(&po, o, o->sz < sizeof(po) ? o->sz : sizeof(po));
		po.sz = sizeof(po);
		perr = thread_policy(&po, thread_policy_arg, why, sizeof(why));
		o = &po;
	}
	memset(e, 0, sizeof(*e));
	e->o = o;
	e->insns = o->insns;
	e->n = o->insn_cnt;
	e->prog_type = o->prog_type;
	e->max_processed = VERIFIER_MAX_PROCESSED;
	if (o->sz >= offsetof(struct verifier_opts, max_processed) +
			     sizeof(o->max_processed) &&
	    o->max_processed && o->max_processed < VERIFIER_MAX_PROCESSED)
		e->max_processed = o->max_processed;
	e->max_states = VERIFIER_MAX_STATES_PER_INSN;
	if (o->sz >= offsetof(struct verifier_opts, max_states_per_insn) +
			     sizeof(o->max_states_per_insn) &&
	    o->max_states_per_insn && o->max_states_per_insn < e->max_states)
		e->max_states = o->max_states_per_insn;
	e->lookup = o->helper_lookup ? o->helper_lookup :
				       verifier_default_helper_lookup;
	e->lookup_arg = o->helper_arg;
	e->log.buf = o->log_buf;
	e->log.size = o->log_buf ? o->log_size : 0;
	e->log.level = o->log_level;
	if (e->log.size)
		e->log.buf[0] = '\0';
	verifier_sources_init(e);

	if (perr) {
		verifier_log(e, "%s\n", why);
		err = perr;
	} else {
		err = setup_ctx(e);
	}
	if (!err && o->nmaps && !o->maps)
		err = -EINVAL;
	if (!err)
		err = run_structure(e);
	if (!err && !e->raw)
		err = check_reachable(e);
	if (!err) {
		e->aux = calloc(e->n, sizeof(*e->aux));
		err = e->aux ? 0 : -ENOMEM;
	}
	if (!err) {
		mark_prune_points(e);
		err = verifier_compute_liveness(e);
	}
	if (!err)
		err = verifier_compute_precision(e);
	if (!err)
		err = init_state(e);
	if (!err)
		err = do_check(e);
	if (e->log.level)
		verifier_log(e,
			     "processed %llu insns (limit %u) max_states_per_insn %u total_states %u peak_states %u\n",
			     (unsigned long long)e->processed,
			     VERIFIER_MAX_PROCESSED, e->max_per_insn,
			     e->total_states, e->peak_states);
	if (e->log.level && (e->log.level & 4))
		verifier_log(e, "verification time %llu usec\nstack depth %u\n",
			     (unsigned long long)((now_ns() - t0) / 1000),
			     e->subs ? e->subs[0].stack_depth : 0);
	verifier_free_all_states(e);
	{
		uint32_t k;

		for (k = 0; k < e->nsnaps; k++)
			verifier_state_free(e->snaps[k]);
		free(e->snaps);
	}
	fill_stats(e, st, t0);
	if (e->log.level) {
		user->log_true_size = (uint32_t)(e->log.len + 1);
		if (e->log.buf && e->log.size && e->log.len + 1 > e->log.size &&
		    err != -ENOMEM)
			err = -ENOSPC;
	}
	free(e->aux);
	free(e->subs);
	return err;
}
