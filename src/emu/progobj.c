/* SPDX-License-Identifier: MIT */
/*
 * progobj.c - program objects of the session, instantiated in a process.
 *
 * The stored bytecode refers to maps by index (lddw src BPF_PSEUDO_MAP_IDX
 * / _IDX_VALUE, imm = index into the program's map-id table). To run it a
 * process opens each map (its own mapping) and rewrites those lddw into
 * plain 64-bit immediates: the process-local `struct bpfx_map *` for a map
 * reference, the address of the value plus offset for a value reference
 * (array maps: element 0, as the kernel's map_direct_value_addr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu_internal.h"
#include "isa/isa.h"

static struct prog_hdr *hdr_of(void *mem)
{
	return (struct prog_hdr *)((char *)mem + sizeof(struct shm_obj_hdr));
}

int emu_prog_open(struct shm_session *s, uint32_t id, struct emu_prog **out)
{
	struct emu_prog *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	err = shm_obj_map(s, SHM_PROG, id, &p->mem, &p->mem_size);
	if (err) {
		free(p);
		return err;
	}
	p->id = id;
	p->hdr = hdr_of(p->mem);
	*out = p;
	return 0;
}

const struct bpfx_insn *emu_prog_insns(const struct emu_prog *p)
{
	return (const struct bpfx_insn *)((const char *)p->mem + p->hdr->insns_off);
}

void emu_prog_unmaps(struct emu_prog *p)
{
	free(p->maps); /* handles belong to the process's fd table */
	p->maps = NULL;
}

static long fixup(struct emu_prog *p, struct bpfx_insn *insns, uint32_t n,
		  char *msg, size_t msg_size)
{
	uint32_t pc;

	for (pc = 0; pc + 1 < n; pc++) {
		struct bpfx_insn *i = &insns[pc];
		struct bpfx_map *m;
		uint64_t v;

		if (!isa_is_lddw(i))
			continue;
		/* BPF_PSEUDO_FUNC (callbacks) is resolved by the VM at load */
		if (i->src != ISA_PSEUDO_MAP_IDX && i->src != ISA_PSEUDO_MAP_IDX_VALUE) {
			pc++;
			continue;
		}
		if (i->imm < 0 || (uint32_t)i->imm >= p->hdr->nmaps) {
			snprintf(msg, msg_size, "insn %u: map index %d out of range\n",
				 pc, i->imm);
			return -EINVAL;
		}
		m = p->maps[i->imm];
		if (i->src == ISA_PSEUDO_MAP_IDX) {
			v = (uintptr_t)m;
		} else {
			uint32_t zero = 0, off = (uint32_t)i[1].imm;
			void *base;

			if (m->type != BPF_MAP_TYPE_ARRAY || m->max_entries != 1 ||
			    off >= m->value_size) {
				snprintf(msg, msg_size,
					 "insn %u: direct value access needs a 1-element array map and an offset below its value size\n",
					 pc);
				return -EINVAL;
			}
			base = map_lookup(m, &zero);
			if (!base)
				return -EINVAL;
			v = (uintptr_t)base + off;
		}
		i->src = ISA_PSEUDO_NONE;
		i->imm = (int32_t)(uint32_t)v;
		i[1].imm = (int32_t)(uint32_t)(v >> 32);
		pc++;
	}
	return 0;
}

long emu_prog_build(struct emu_prog *p, const struct bpfx_insn *insns,
		    const uint32_t *map_ids, struct bpfx_vm *vm, char *msg,
		    size_t msg_size)
{
	uint32_t n = p->hdr->insn_cnt, k;
	struct bpfx_prog_opts opts = { .sz = sizeof(opts) };
	struct bpfx_insn *copy;
	long err;

	if (!vm)
		return -ENOMEM;
	p->maps = calloc(p->hdr->nmaps + 1, sizeof(*p->maps));
	copy = malloc(n * sizeof(*copy));
	if (!p->maps || !copy) {
		free(copy);
		return -ENOMEM;
	}
	for (k = 0; k < p->hdr->nmaps; k++) {
		err = emu_map_get(map_ids[k], &p->maps[k]);
		if (err) {
			snprintf(msg, msg_size, "map id %u: %s\n", map_ids[k],
				 strerror((int)-err));
			free(copy);
			return err;
		}
	}
	memcpy(copy, insns, n * sizeof(*copy));
	err = emu_inline_lookups(p, vm, &copy, &n);
	if (!err)
		err = fixup(p, copy, n, msg, msg_size);
	if (!err) {
		opts.log_buf = msg;
		opts.log_size = msg_size;
		p->vm_prog = bpfx_prog_load(vm, copy, n, &opts);
		if (!p->vm_prog) {
			err = -errno;
			if (msg_size && msg[0] && strlen(msg) + 1 < msg_size)
				strcat(msg, "\n");
		}
	}
	free(copy);
	return err;
}

int emu_prog_instantiate(struct emu_prog *p, struct bpfx_vm *vm, bool jit)
{
	char msg[256] = "";
	long err;

	if (p->vm_prog)
		return 0;
	err = emu_prog_build(p, emu_prog_insns(p),
			     (const uint32_t *)((char *)p->mem + p->hdr->maps_off),
			     vm, msg, sizeof(msg));
	if (err) {
		emu_prog_unmaps(p);
		return (int)err;
	}
	p->engine = BPFX_ENGINE_INTERP;
	if (jit && getenv("BPFX_ENGINE") && !strcmp(getenv("BPFX_ENGINE"), "interp"))
		jit = false;
	if (jit && bpfx_prog_jit(p->vm_prog) == 0)
		p->engine = BPFX_ENGINE_JIT;
	return 0;
}

void emu_prog_close(struct emu_prog *p)
{
	if (!p)
		return;
	bpfx_prog_free(p->vm_prog);
	emu_prog_unmaps(p);
	if (p->mem)
		shm_obj_unmap(p->mem, p->mem_size);
	free(p);
}
