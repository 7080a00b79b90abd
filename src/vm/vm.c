/* SPDX-License-Identifier: MIT */
/*
 * vm.c - VM objects (helper table), program load and the run entry.
 *
 * A program is immutable once loaded: its instructions are copied, checked
 * (verifier/structure.c) and then only read, so any number of threads may
 * run it at once. JIT code is published once by bpfx_prog_jit.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "isa/isa.h"
#include "verifier/structure.h"
#include "vm/vm_internal.h"

__thread struct vm_run_state vm_run __attribute__((tls_model("initial-exec")));
__thread char vm_fault_msg[192];

struct bpfx_vm *bpfx_vm_create(void)
{
	struct bpfx_vm *vm = calloc(1, sizeof(*vm));

	if (!vm) {
		errno = ENOMEM;
		return NULL;
	}
	vm->unwind_helper = -1;
	vm->cpu_helper = -1;
	return vm;
}

void bpfx_vm_destroy(struct bpfx_vm *vm)
{
	uint32_t i;

	if (!vm)
		return;
	for (i = 0; i < vm->nhelpers; i++)
		free(vm->helpers[i].name);
	free(vm->helpers);
	free(vm->helper_fns);
	free(vm);
}

static int grow_helpers(struct bpfx_vm *vm, uint32_t n)
{
	struct vm_helper *h;
	bpfx_helper_fn *f;

	h = realloc(vm->helpers, n * sizeof(*h));
	if (!h)
		return -ENOMEM;
	vm->helpers = h;
	f = realloc(vm->helper_fns, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	vm->helper_fns = f;
	memset(h + vm->nhelpers, 0, (n - vm->nhelpers) * sizeof(*h));
	memset(f + vm->nhelpers, 0, (n - vm->nhelpers) * sizeof(*f));
	vm->nhelpers = n;
	return 0;
}

int bpfx_vm_register_helper(struct bpfx_vm *vm, uint32_t id, const char *name,
			    bpfx_helper_fn fn)
{
	char *copy;
	int err;

	if (!vm || !fn || id > BPFX_MAX_HELPER)
		return -EINVAL;
	if (id >= vm->nhelpers) {
		err = grow_helpers(vm, id + 1);
		if (err)
			return err;
	}
	if (vm->helpers[id].fn)
		return -EEXIST;
	copy = strdup(name ? name : "");
	if (!copy)
		return -ENOMEM;
	vm->helpers[id].fn = fn;
	vm->helpers[id].name = copy;
	vm->helper_fns[id] = fn;
	return 0;
}

int vm_set_cpu_helper(struct bpfx_vm *vm, uint32_t id)
{
	if (!vm)
		return -EINVAL;
	if (vm->jitted)
		return -EBUSY;
	if (id >= vm->nhelpers || !vm->helpers[id].fn)
		return -ENOENT;
	vm->cpu_helper = id;
	return 0;
}

int bpfx_vm_set_unwind_helper(struct bpfx_vm *vm, uint32_t id)
{
	if (!vm)
		return -EINVAL;
	if (vm->jitted)
		return -EBUSY; /* compiled code has the old id built in */
	if (id >= vm->nhelpers || !vm->helpers[id].fn)
		return -ENOENT;
	vm->unwind_helper = id;
	return 0;
}

const char *bpfx_vm_helper_name(const struct bpfx_vm *vm, uint32_t id)
{
	if (!vm || id >= vm->nhelpers || !vm->helpers[id].fn)
		return NULL;
	return vm->helpers[id].name;
}

/*
 * The structural checks accept lddw pseudo sources so subprograms named by
 * BPF_PSEUDO_FUNC count as subprograms; engines run only plain lddw, so
 * every map reference must have been resolved by the loader (-EINVAL
 * otherwise) and each callback reference becomes the address of a
 * struct vm_callback.
 */
static int resolve_callbacks(struct bpfx_prog *prog, struct vm_log_buf *log)
{
	uint32_t pc, n = 0;

	for (pc = 0; pc + 1 < prog->len; pc++) {
		struct bpfx_insn *i = &prog->insns[pc];

		if (!isa_is_lddw(i))
			continue;
		if (i->src == ISA_PSEUDO_FUNC)
			n++;
		else if (i->src != ISA_PSEUDO_NONE) {
			if (log->size)
				snprintf(log->buf, log->size,
					 "insn %u: unresolved map/BTF reference (lddw pseudo source %u); load the object through libbpf",
					 pc, i->src);
			return -EINVAL;
		}
		pc++;
	}
	if (!n)
		return 0;
	prog->callbacks = calloc(n, sizeof(*prog->callbacks));
	if (!prog->callbacks)
		return -ENOMEM;
	for (pc = 0; pc + 1 < prog->len; pc++) {
		struct bpfx_insn *i = &prog->insns[pc];
		struct vm_callback *cb;
		uint64_t v;

		if (!isa_is_lddw(i))
			continue;
		if (i->src == ISA_PSEUDO_FUNC) {
			cb = &prog->callbacks[prog->ncallbacks++];
			cb->prog = prog;
			cb->pc = pc + 1 + (uint32_t)i->imm;
			v = (uintptr_t)cb;
			i->src = ISA_PSEUDO_NONE;
			i->imm = (int32_t)(uint32_t)v;
			i[1].imm = (int32_t)(uint32_t)(v >> 32);
		}
		pc++;
	}
	return 0;
}

struct bpfx_prog *bpfx_prog_load(struct bpfx_vm *vm,
				 const struct bpfx_insn *insns, size_t cnt,
				 const struct bpfx_prog_opts *opts)
{
	struct vm_log_buf log = { 0 };
	struct bpfx_prog *prog = NULL;
	uint32_t entry = 0;
	int err;

	if (!vm || (!insns && cnt)) {
		err = -EINVAL;
		goto fail;
	}
	if (opts && opts->sz >= offsetof(struct bpfx_prog_opts, log_size) +
					sizeof(opts->log_size)) {
		log.buf = opts->log_buf;
		log.size = opts->log_buf ? opts->log_size : 0;
	}
	if (opts && opts->sz >= offsetof(struct bpfx_prog_opts, entry_regs) +
					sizeof(opts->entry_regs))
		entry = opts->entry_regs;
	if (log.size)
		log.buf[0] = '\0';
	prog = calloc(1, sizeof(*prog));
	if (!prog) {
		err = -ENOMEM;
		goto fail;
	}
	prog->vm = vm;
	if (cnt > BPFX_MAX_INSNS)
		cnt = BPFX_MAX_INSNS + 1; /* rejected below, without copying */
	err = verifier_check_structure_ex(vm, insns, (uint32_t)cnt, entry, true,
					  &log, &prog->subprog_start,
					  &prog->nsubprogs);
	if (err)
		goto fail;
	prog->insns = malloc(cnt * sizeof(*insns));
	if (!prog->insns) {
		err = -ENOMEM;
		goto fail;
	}
	memcpy(prog->insns, insns, cnt * sizeof(*insns));
	prog->len = (uint32_t)cnt;
	err = resolve_callbacks(prog, &log);
	if (err)
		goto fail;
	return prog;
fail:
	bpfx_prog_free(prog);
	errno = -err;
	return NULL;
}

void bpfx_prog_free(struct bpfx_prog *prog)
{
	if (!prog)
		return;
	jit_free(prog);
	free(prog->callbacks);
	free(prog->insns);
	free(prog->subprog_start);
	free(prog);
}

size_t bpfx_prog_insn_cnt(const struct bpfx_prog *prog)
{
	return prog ? prog->len : 0;
}

const struct bpfx_insn *bpfx_prog_insns(const struct bpfx_prog *prog)
{
	return prog ? prog->insns : NULL;
}

static vm_tail_resolver_fn tail_resolver;

void vm_set_tail_resolver(vm_tail_resolver_fn fn)
{
	__atomic_store_n(&tail_resolver, fn, __ATOMIC_RELEASE);
}

const struct bpfx_prog *vm_tail_target(uint64_t map, uint64_t index)
{
	vm_tail_resolver_fn fn = __atomic_load_n(&tail_resolver, __ATOMIC_ACQUIRE);
	const struct bpfx_prog *t;

	if (!fn || vm_run.tail_calls >= VM_MAX_TAIL_CALLS)
		return NULL;
	t = fn(map, index);
	if (t)
		vm_run.tail_calls++;
	return t;
}

int vm_set_helper_vector_free(struct bpfx_vm *vm, uint32_t id)
{
	if (!vm || id >= 256)
		return -EINVAL;
	if (vm->jitted)
		return -EBUSY;
	vm->novec_helpers[id / 64] |= 1ull << (id % 64);
	return 0;
}

/* Does @prog call only helpers @ok accepts (no kfunc, no callx)? */
static bool calls_only(const struct bpfx_prog *prog,
		       bool (*ok)(const struct bpfx_vm *vm, int32_t id))
{
	if (!prog || !prog->jit_entry)
		return false;
	for (uint32_t i = 0; i < prog->len; i++) {
		const struct bpfx_insn *in = &prog->insns[i];

		if (isa_is_callx(in))
			return false;
		if (in->code != (ISA_JMP | ISA_CALL) || in->src == ISA_CALL_LOCAL)
			continue;
		if (in->src != ISA_CALL_HELPER || !ok(prog->vm, in->imm))
			return false;
	}
	return true;
}

static bool is_cpu_helper(const struct bpfx_vm *vm, int32_t id)
{
	return id == vm->cpu_helper;
}

static bool is_novec_helper(const struct bpfx_vm *vm, int32_t id)
{
	return is_cpu_helper(vm, id) ||
	       (id >= 0 && id < 256 &&
		(vm->novec_helpers[id / 64] >> (id % 64) & 1));
}

bool vm_prog_vector_free(const struct bpfx_prog *prog)
{
	return calls_only(prog, is_novec_helper);
}

bool vm_prog_helper_free(const struct bpfx_prog *prog)
{
	return calls_only(prog, is_cpu_helper);
}

uint32_t vm_subprog_of(const struct bpfx_prog *prog, uint32_t pc)
{
	uint32_t lo = 0, hi = prog->nsubprogs;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (prog->subprog_start[mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int bpfx_prog_jit(struct bpfx_prog *prog)
{
	if (!prog)
		return -EINVAL;
	int err;

	if (prog->jit_entry)
		return 0;
	err = jit_compile(prog);
	if (!err)
		prog->vm->jitted = true;
	return err;
}

size_t bpfx_prog_jit_size(const struct bpfx_prog *prog)
{
	return prog && prog->jit_entry ? prog->jit_size : 0;
}

int bpfx_prog_run(const struct bpfx_prog *prog, enum bpfx_engine engine,
		  void *ctx, size_t len, uint64_t *ret)
{
	uint64_t r0;

	if (!prog || !ret)
		return -EINVAL;
	vm_run_begin(prog);
	switch (engine) {
	case BPFX_ENGINE_INTERP:
		return vm_interp_run(prog, ctx, len, ret);
	case BPFX_ENGINE_INTERP_SWITCH:
		return vm_interp_run_switch(prog, ctx, len, ret);
	case BPFX_ENGINE_CHECKED:
		return vm_interp_run_checked(prog, ctx, len, ret);
	case BPFX_ENGINE_JIT:
		if (!prog->jit_entry)
			return -ENOEXEC;
		vm_run.err = 0;
		r0 = prog->jit_entry(ctx, len);
		vm_run.prog = NULL;
		if (vm_run.err)
			return vm_run.err;
		*ret = r0;
		return 0;
	}
	return -EINVAL;
}
