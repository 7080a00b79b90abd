/* SPDX-License-Identifier: MIT */
/*
 * structure.c - load-time structural checks: the part of verification that
 * needs no abstract interpretation. Run by bpfx_prog_load before anything
 * else sees the program; afterwards the invariants listed in
 * vm/vm_internal.h hold.
 *
 * Passes, each O(n):
 *   1. every instruction on its own (isa_check_insn), lddw pairs complete;
 *   2. subprogram boundaries from local-call targets;
 *   3. every branch lands on an instruction start inside its subprogram,
 *      every subprogram ends in exit or an unconditional jump, helper calls
 *      name registered helpers;
 *   4. call graph: no recursion, depth <= BPFX_MAX_FRAMES;
 *   5. termination of the obvious kind: every reachable instruction can
 *      reach an exit (a loop with no way out is refused; bounded loops are
 *      the verifier's business);
 *   6. registers are written before they are read, on every path (must-
 *      init dataflow; calls clobber r1-r5, callees start with r1-r5 set).
 *      Engines differ in what an unwritten register holds, so this check is
 *      what makes all engines agree.
 *
 * Each rejection is one line: "insn N: <disassembly>: <reason>".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "verifier/structure.h"
#include "vm/vm_internal.h"

struct cfg {
	const struct bpfx_insn *insns;
	uint32_t n;
	const struct bpfx_vm *vm; /* NULL: helper ids are the verifier's job */
	bool pseudo;		  /* accept lddw src 1, 2, 4, 5, 6 */
	struct vm_log_buf *log;
	uint8_t *flags;	    /* per insn, F_* */
	uint32_t *sub;	    /* per insn: subprogram index */
	uint32_t *starts;   /* subprogram starts, ascending */
	uint32_t nsubs;
};

#define F_HALF 0x01  /* second slot of lddw */
#define F_START 0x02 /* subprogram start */
#define F_REACH 0x04 /* reachable from entry */
#define F_EXITS 0x08 /* some path from here reaches an exit */

__attribute__((format(printf, 3, 4))) static int reject(struct cfg *c,
							 uint32_t pc,
							 const char *fmt, ...)
{
	struct vm_log_buf *log = c->log;
	char dis[128];
	va_list ap;
	int n;

	if (!log || !log->buf || !log->size)
		return -EINVAL;
	bpfx_insn_disasm(&c->insns[pc], c->n - pc, dis, sizeof(dis));
	n = snprintf(log->buf, log->size, "insn %u: %s: ", pc, dis);
	if (n >= 0 && (size_t)n < log->size) {
		va_start(ap, fmt);
		vsnprintf(log->buf + n, log->size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Successors of @pc within its subprogram; returns how many (0..2). */
static int successors(const struct cfg *c, uint32_t pc, uint32_t out[2])
{
	return (int)isa_successors(c->insns, c->n, pc, out);
}

static int check_insns(struct cfg *c)
{
	const char *why;
	uint32_t pc;

	for (pc = 0; pc < c->n; pc++) {
		const struct bpfx_insn *i = &c->insns[pc];
		bool last = pc + 1 == c->n;

		if (isa_check_insn(i, last ? NULL : i + 1, &why))
			return reject(c, pc, "%s", why);
		if (!isa_is_lddw(i))
			continue;
		if (last)
			return reject(c, pc, "incomplete lddw (missing second half)");
		if (c->pseudo && i->src != ISA_PSEUDO_BTF_ID &&
		    i->src <= ISA_PSEUDO_MAP_IDX_VALUE) {
			c->flags[++pc] |= F_HALF;
			continue;
		}
		if (i->src != ISA_PSEUDO_NONE)
			return reject(c, pc,
				      "unresolved map/BTF/func reference (lddw pseudo source %u); load the object through libbpf",
				      i->src);
		c->flags[++pc] |= F_HALF;
	}
	return 0;
}

/* A local call, or an lddw naming a subprogram (callback). */
static bool is_call_or_func(const struct bpfx_insn *i)
{
	return isa_is_local_call(i) ||
	       (isa_is_lddw(i) && i->src == ISA_PSEUDO_FUNC);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int find_subprogs(struct cfg *c)
{
	uint32_t pc, k, cnt = 1;

	c->flags[0] |= F_START;
	for (pc = 0; pc < c->n; pc++) {
		const struct bpfx_insn *i = &c->insns[pc];
		int64_t t;

		if (c->flags[pc] & F_HALF || !is_call_or_func(i))
			continue;
		t = (int64_t)pc + 1 + i->imm;
		if (t < 0 || t >= c->n)
			return reject(c, pc, "call target %lld is outside the program",
				      (long long)t);
		if (c->flags[t] & F_HALF)
			return reject(c, pc, "call target %lld is the second half of lddw",
				      (long long)t);
		if (!(c->flags[t] & F_START)) {
			c->flags[t] |= F_START;
			cnt++;
		}
	}
	c->starts = calloc(cnt, sizeof(*c->starts));
	if (!c->starts)
		return -ENOMEM;
	for (pc = 0, k = 0; pc < c->n; pc++)
		if (c->flags[pc] & F_START)
			c->starts[k++] = pc;
	c->nsubs = cnt;
	qsort(c->starts, cnt, sizeof(*c->starts), cmp_u32);
	for (k = 0, pc = 0; pc < c->n; pc++) {
		if (k + 1 < cnt && pc == c->starts[k + 1])
			k++;
		c->sub[pc] = k;
	}
	return 0;
}

static uint32_t sub_end(const struct cfg *c, uint32_t s)
{
	return s + 1 < c->nsubs ? c->starts[s + 1] : c->n;
}

static int check_flow(struct cfg *c)
{
	uint32_t pc, s;

	for (pc = 0; pc < c->n; pc++) {
		const struct bpfx_insn *i = &c->insns[pc];

		if (c->flags[pc] & F_HALF)
			continue;
		if (isa_is_branch(i)) {
			int64_t t = isa_branch_target(i, pc);
			uint32_t s0 = c->sub[pc];

			if (t < 0 || t >= c->n)
				return reject(c, pc, "jump out of bounds (target %lld)",
					      (long long)t);
			if (c->flags[t] & F_HALF)
				return reject(c, pc, "jump into the middle of lddw at insn %lld",
					      (long long)t);
			if (t < c->starts[s0] || t >= sub_end(c, s0))
				return reject(c, pc,
					      "jump out of its subprogram (target %lld, subprogram spans %u..%u)",
					      (long long)t, c->starts[s0],
					      sub_end(c, s0) - 1);
		} else if (isa_is_helper_call(i) && c->vm) {
			if (i->imm < 0 || (uint32_t)i->imm >= c->vm->nhelpers ||
			    !c->vm->helpers[i->imm].fn)
				return reject(c, pc, "call to unknown helper %d", i->imm);
		} else if (i->code == (ISA_JMP | ISA_CALL) &&
			   i->src == ISA_CALL_KFUNC) {
			return reject(c, pc, "kfunc calls are not supported");
		}
	}
	for (s = 0; s < c->nsubs; s++) {
		uint32_t last = sub_end(c, s) - 1;
		const struct bpfx_insn *i = &c->insns[last];

		if ((c->flags[last] & F_HALF) ||
		    !(isa_is_exit(i) || isa_is_uncond_jump(i)))
			return reject(c, last,
				      "%s falls off its end (last instruction is not exit or goto)",
				      s ? "subprogram" : "program");
	}
	return 0;
}

/*
 * Depth-first walk of the call graph from subprogram @s entered at frame
 * @level (1 = main). Colors: 0 new, 1 on the current path, 2 done with its
 * depth known. The walk never goes deeper than BPFX_MAX_FRAMES + 1.
 */
static int walk_calls(struct cfg *c, uint32_t s, uint32_t level,
		      uint8_t *color, uint32_t *depth)
{
	uint32_t pc, best = 0;
	int err;

	color[s] = 1;
	for (pc = c->starts[s]; pc < sub_end(c, s); pc++) {
		const struct bpfx_insn *i = &c->insns[pc];
		uint32_t t;

		if (c->flags[pc] & F_HALF || !is_call_or_func(i))
			continue;
		t = c->sub[pc + 1 + i->imm];
		if (color[t] == 1)
			return reject(c, pc, "recursive call (subprogram at insn %u)",
				      c->starts[t]);
		if (color[t] == 0) {
			if (level + 1 > BPFX_MAX_FRAMES)
				return reject(c, pc, "call chain deeper than %d frames",
					      BPFX_MAX_FRAMES);
			err = walk_calls(c, t, level + 1, color, depth);
			if (err)
				return err;
		}
		if (level + depth[t] > BPFX_MAX_FRAMES)
			return reject(c, pc, "call chain deeper than %d frames",
				      BPFX_MAX_FRAMES);
		if (depth[t] > best)
			best = depth[t];
	}
	depth[s] = best + 1;
	color[s] = 2;
	return 0;
}

static int check_calls(struct cfg *c)
{
	uint8_t *color = calloc(c->nsubs, 1);
	uint32_t *depth = calloc(c->nsubs, sizeof(*depth));
	int err = -ENOMEM;

	if (color && depth)
		err = walk_calls(c, 0, 1, color, depth);
	free(color);
	free(depth);
	return err;
}

/* Does @pc end the run (exit of the main program, or a helper that may
 * stop the program: the unwind helper)? */
static bool may_end(const struct cfg *c, uint32_t pc)
{
	const struct bpfx_insn *i = &c->insns[pc];

	if (isa_is_exit(i))
		return true;
	if (!c->vm)
		return false;
	if (isa_is_callx(i))
		return c->vm->unwind_helper >= 0;
	return isa_is_helper_call(i) && i->imm == c->vm->unwind_helper;
}

/*
 * Pass 5: mark reachable instructions (forward), then those from which an
 * exit is reachable (backward over predecessor lists, CSR form).
 */
static int check_termination(struct cfg *c)
{
	uint32_t *npred = calloc(c->n + 1, sizeof(uint32_t));
	uint32_t *pred = calloc(2 * (size_t)c->n + 1, sizeof(uint32_t));
	uint32_t *work = calloc(c->n + 1, sizeof(uint32_t));
	uint32_t pc, top = 0, k, succ[2];
	int err = 0, ns;

	if (!npred || !pred || !work) {
		err = -ENOMEM;
		goto out;
	}
	/* forward reachability from every subprogram start that is called
	 * (subprogram 0 always; others via their call sites) */
	c->flags[0] |= F_REACH;
	work[top++] = 0;
	while (top) {
		pc = work[--top];
		ns = successors(c, pc, succ);
		for (k = 0; k < (uint32_t)ns; k++) {
			if (!(c->flags[succ[k]] & F_REACH)) {
				c->flags[succ[k]] |= F_REACH;
				work[top++] = succ[k];
			}
		}
		if (is_call_or_func(&c->insns[pc])) {
			uint32_t t = pc + 1 + c->insns[pc].imm;

			if (!(c->flags[t] & F_REACH)) {
				c->flags[t] |= F_REACH;
				work[top++] = t;
			}
		}
	}
	/* predecessor lists (work[] now counts fills per target) */
	memset(work, 0, (c->n + 1) * sizeof(uint32_t));
	for (pc = 0; pc < c->n; pc++) {
		if (c->flags[pc] & F_HALF)
			continue;
		ns = successors(c, pc, succ);
		for (k = 0; k < (uint32_t)ns; k++)
			npred[succ[k] + 1]++;
	}
	for (pc = 0; pc < c->n; pc++)
		npred[pc + 1] += npred[pc];
	for (pc = 0; pc < c->n; pc++) {
		if (c->flags[pc] & F_HALF)
			continue;
		ns = successors(c, pc, succ);
		for (k = 0; k < (uint32_t)ns; k++)
			pred[npred[succ[k]] + work[succ[k]]++] = pc;
	}
	top = 0;
	for (pc = 0; pc < c->n; pc++) {
		if (!(c->flags[pc] & F_HALF) && may_end(c, pc)) {
			c->flags[pc] |= F_EXITS;
			work[top++] = pc;
		}
	}
	while (top) {
		pc = work[--top];
		for (k = npred[pc]; k < npred[pc + 1]; k++) {
			uint32_t p = pred[k];

			if (!(c->flags[p] & F_EXITS)) {
				c->flags[p] |= F_EXITS;
				work[top++] = p;
			}
		}
	}
	for (pc = 0; pc < c->n; pc++) {
		if ((c->flags[pc] & (F_REACH | F_EXITS | F_HALF)) == F_REACH) {
			err = reject(c, pc, "infinite loop: no path from here reaches exit");
			break;
		}
	}
out:
	free(npred);
	free(pred);
	free(work);
	return err;
}

/* Registers each instruction reads / writes. Arguments of calls are not
 * tracked here (helpers take 0..5; the verifier checks them against
 * prototypes), so a call reads only callx's id register. */
static void reg_use(const struct bpfx_insn *i, uint16_t *rd, uint16_t *wr)
{
	isa_reg_use(i, rd, wr);
	if (ISA_CLASS(i->code) == ISA_JMP && ISA_OP(i->code) == ISA_CALL)
		*rd &= (uint16_t)~0x3e | (ISA_SRC(i->code) == ISA_X ?
					   (uint16_t)(1u << i->dst) : 0);
}

/* A call to the VM's CPU helper, which every engine runs keeping r1-r5
 * (vm_set_cpu_helper; load-time rewrites rely on it). */
static bool keeps_args(const struct cfg *c, const struct bpfx_insn *i)
{
	return c->vm && i->code == (ISA_JMP | ISA_CALL) &&
	       i->src == ISA_CALL_HELPER && c->vm->cpu_helper >= 0 &&
	       i->imm == c->vm->cpu_helper;
}

/*
 * Pass 6: forward must-init dataflow per reachable subprogram, meet = AND.
 * At a subprogram entry r1-r5 and r10 are defined (main: r1, r10 and
 * opts->entry_regs). After any call, r0 is defined and r1-r5 are not (but
 * for the CPU helper's: keeps_args).
 */
static int check_init(struct cfg *c, uint16_t entry)
{
	uint16_t *in = calloc(c->n, sizeof(uint16_t));
	uint32_t *work = malloc((c->n + 1) * sizeof(uint32_t));
	uint8_t *state = calloc(c->n, 1); /* bit0 visited, bit1 queued */
	uint32_t pc, s, top = 0, succ[2];
	int err = 0, ns, k;

	if (!in || !work || !state) {
		err = -ENOMEM;
		goto out;
	}
	for (s = 0; s < c->nsubs; s++) {
		pc = c->starts[s];
		if (!(c->flags[pc] & F_REACH))
			continue; /* never called: dead code is not judged here */
		in[pc] = s ? 0x43e : entry; /* callee: r1-r5 + r10 */
		state[pc] = 3;
		work[top++] = pc;
	}
	while (top) {
		const struct bpfx_insn *i;
		uint16_t rd, wr, outs;

		pc = work[--top];
		state[pc] &= (uint8_t)~2;
		i = &c->insns[pc];
		reg_use(i, &rd, &wr);
		if (rd & ~in[pc]) {
			unsigned r = (unsigned)__builtin_ctz(rd & ~in[pc]);

			err = reject(c, pc, "r%u is read before it is written on some path",
				     r);
			goto out;
		}
		outs = in[pc] | wr;
		if (ISA_CLASS(i->code) == ISA_JMP && ISA_OP(i->code) == ISA_CALL)
			outs = keeps_args(c, i) ? (uint16_t)(in[pc] | 1) :
						  (uint16_t)((in[pc] & ~0x3e) | 1);
		ns = successors(c, pc, succ);
		for (k = 0; k < ns; k++) {
			uint32_t t = succ[k];
			uint16_t m = (state[t] & 1) ? in[t] & outs : outs;

			if ((state[t] & 1) && m == in[t])
				continue;
			in[t] = m;
			state[t] |= 1;
			if (!(state[t] & 2)) {
				state[t] |= 2;
				work[top++] = t;
			}
		}
	}
out:
	free(in);
	free(work);
	free(state);
	return err;
}

int verifier_check_structure(const struct bpfx_vm *vm,
			     const struct bpfx_insn *insns, uint32_t n,
			     uint32_t entry_regs,
			     struct vm_log_buf *log,
			     uint32_t **starts, uint32_t *nsubs)
{
	return verifier_check_structure_ex(vm, insns, n, entry_regs, false, log,
					   starts, nsubs);
}

int verifier_check_structure_ex(const struct bpfx_vm *vm,
				const struct bpfx_insn *insns, uint32_t n,
				uint32_t entry_regs, bool pseudo,
				struct vm_log_buf *log,
				uint32_t **starts, uint32_t *nsubs)
{
	struct cfg c = { .insns = insns, .n = n, .vm = vm, .log = log,
			 .pseudo = pseudo };
	int err;

	*starts = NULL;
	*nsubs = 0;
	if (n == 0) {
		if (log && log->size)
			snprintf(log->buf, log->size, "program is empty");
		return -EINVAL;
	}
	if (n > BPFX_MAX_INSNS) {
		if (log && log->size)
			snprintf(log->buf, log->size,
				 "too many instructions (%u, max %d)", n,
				 BPFX_MAX_INSNS);
		return -E2BIG;
	}
	c.flags = calloc(n, 1);
	c.sub = calloc(n, sizeof(uint32_t));
	if (!c.flags || !c.sub) {
		err = -ENOMEM;
		goto out;
	}
	err = check_insns(&c);
	if (!err)
		err = find_subprogs(&c);
	if (!err)
		err = check_flow(&c);
	if (!err)
		err = check_calls(&c);
	if (!err)
		err = check_termination(&c);
	if (!err)
		err = check_init(&c, (uint16_t)((entry_regs | 0x402) & 0x7ff));
	if (!err) {
		*starts = c.starts;
		*nsubs = c.nsubs;
		c.starts = NULL;
	}
out:
	free(c.flags);
	free(c.sub);
	free(c.starts);
	return err;
}
