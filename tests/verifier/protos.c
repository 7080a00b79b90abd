/* SPDX-License-Identifier: MIT */
/*
 * protos.c - the verifier tests' helper prototypes (the kernel's, for the
 * helpers the cases call), map kinds, and case lookup. Kept apart from the
 * real helper tables so the verifier tests stand alone.
 */
#include <string.h>

#include "cases.h"

const struct verifier_map vmap_kinds[M_NKINDS] = {
	[M_HASH] = { BPF_MAP_TYPE_HASH, 8, 16, 16, 0, -1, 0 },
	[M_ARRAY] = { BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, -1, 0 },
	[M_ARRAY64] = { BPF_MAP_TYPE_ARRAY, 4, 64, 1, 0, -1, 0 },
	[M_RINGBUF] = { BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, -1, 0 },
	[M_PROG_ARRAY] = { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, -1, 0 },
	[M_PERF] = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, -1, 0 },
	[M_RDONLY] = { BPF_MAP_TYPE_ARRAY, 4, 16, 1, BPF_F_RDONLY_PROG, -1, 0 },
	[M_LOCK] = { BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0, 0, 0 },
	[M_QUEUE] = { BPF_MAP_TYPE_QUEUE, 0, 8, 16, 0, -1, 0 },
	[M_HASH48] = { BPF_MAP_TYPE_HASH, 4, 8, 16, 0, -1, 0 },
};

#define P(i, nm, r, a1, a2, a3, a4, a5, fl)                                    \
	[i] = { .id = i, .name = nm, .ret = r, .args = { a1, a2, a3, a4, a5 }, \
		.flags = fl }

static const struct helper_def protos[] = {
	P(BPF_FUNC_map_lookup_elem, "map_lookup_elem",
	  RET_PTR_TO_MAP_VALUE_OR_NULL, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY,
	  0, 0, 0, 0),
	P(BPF_FUNC_map_update_elem, "map_update_elem", RET_INTEGER,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_PTR_TO_MAP_VALUE,
	  ARG_ANYTHING, 0, 0),
	P(BPF_FUNC_map_delete_elem, "map_delete_elem", RET_INTEGER,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, 0, 0, 0, 0),
	P(BPF_FUNC_probe_read, "probe_read", RET_INTEGER,
	  ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING, 0, 0,
	  0),
	P(BPF_FUNC_ktime_get_ns, "ktime_get_ns", RET_INTEGER, 0, 0, 0, 0, 0,
	  0),
	P(BPF_FUNC_trace_printk, "trace_printk", RET_INTEGER, ARG_PTR_TO_MEM,
	  ARG_CONST_SIZE, 0, 0, 0, 0),
	P(BPF_FUNC_get_prandom_u32, "get_prandom_u32", RET_INTEGER, 0, 0, 0,
	  0, 0, 0),
	P(BPF_FUNC_get_smp_processor_id, "get_smp_processor_id", RET_INTEGER,
	  0, 0, 0, 0, 0, 0),
	P(BPF_FUNC_tail_call, "tail_call", RET_VOID, ARG_PTR_TO_CTX,
	  ARG_CONST_MAP_PTR, ARG_ANYTHING, 0, 0, 0),
	P(BPF_FUNC_get_current_pid_tgid, "get_current_pid_tgid", RET_INTEGER,
	  0, 0, 0, 0, 0, 0),
	P(BPF_FUNC_get_current_comm, "get_current_comm", RET_INTEGER,
	  ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE, 0, 0, 0, 0),
	P(BPF_FUNC_perf_event_output, "perf_event_output", RET_INTEGER,
	  ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_PTR_TO_MEM,
	  ARG_CONST_SIZE_OR_ZERO, 0),
	P(BPF_FUNC_map_push_elem, "map_push_elem", RET_INTEGER,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_VALUE, ARG_ANYTHING, 0, 0, 0),
	P(BPF_FUNC_map_pop_elem, "map_pop_elem", RET_INTEGER,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_UNINIT_MAP_VALUE, 0, 0, 0, 0),
	P(BPF_FUNC_map_peek_elem, "map_peek_elem", RET_INTEGER,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_UNINIT_MAP_VALUE, 0, 0, 0, 0),
	P(BPF_FUNC_spin_lock, "spin_lock", RET_VOID, ARG_PTR_TO_SPIN_LOCK, 0,
	  0, 0, 0, HELPER_F_ACQUIRES_LOCK),
	P(BPF_FUNC_spin_unlock, "spin_unlock", RET_VOID,
	  ARG_PTR_TO_SPIN_LOCK, 0, 0, 0, 0, HELPER_F_RELEASES_LOCK),
	P(BPF_FUNC_probe_read_kernel, "probe_read_kernel", RET_INTEGER,
	  ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING, 0, 0,
	  0),
	P(BPF_FUNC_ringbuf_output, "ringbuf_output", RET_INTEGER,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM, ARG_CONST_SIZE_OR_ZERO,
	  ARG_ANYTHING, 0, 0),
	P(BPF_FUNC_ringbuf_reserve, "ringbuf_reserve",
	  RET_PTR_TO_RINGBUF_MEM_OR_NULL, ARG_CONST_MAP_PTR,
	  ARG_CONST_ALLOC_SIZE_OR_ZERO, ARG_ANYTHING, 0, 0, 0),
	P(BPF_FUNC_ringbuf_submit, "ringbuf_submit", RET_VOID,
	  ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING, 0, 0, 0,
	  HELPER_F_RELEASES_RINGBUF),
	P(BPF_FUNC_ringbuf_discard, "ringbuf_discard", RET_VOID,
	  ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING, 0, 0, 0,
	  HELPER_F_RELEASES_RINGBUF),
	P(BPF_FUNC_for_each_map_elem, "for_each_map_elem", RET_INTEGER,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL,
	  ARG_ANYTHING, 0, HELPER_F_CALLBACK),
	P(BPF_FUNC_snprintf, "snprintf", RET_INTEGER, ARG_PTR_TO_MEM_OR_NULL,
	  ARG_CONST_SIZE_OR_ZERO, ARG_PTR_TO_CONST_STR,
	  ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO, 0),
	P(BPF_FUNC_loop, "loop", RET_INTEGER, ARG_ANYTHING, ARG_PTR_TO_FUNC,
	  ARG_PTR_TO_STACK_OR_NULL, ARG_ANYTHING, 0, HELPER_F_CALLBACK),
};

const struct helper_def *vtest_helper_lookup(uint32_t id, void *arg)
{
	(void)arg;
	if (id >= COUNT(protos) || !protos[id].name)
		return NULL;
	return &protos[id];
}

void vcase_opts(const struct vcase *c, struct verifier_opts *o,
		struct verifier_map *maps)
{
	uint32_t k;

	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->prog_type = c->prog_type;
	o->insns = c->insns;
	o->insn_cnt = c->n;
	o->helper_lookup = vtest_helper_lookup;
	if (c->prog_type == BPFX_PROG_TYPE_RAW && (c->flags & VC_MEM64))
		o->ctx_size = 64;
	for (k = 0; k < 4 && c->maps[k]; k++)
		maps[k] = vmap_kinds[c->maps[k]];
	o->maps = k ? maps : NULL;
	o->nmaps = k;
}

static const struct vcase_set *sets(size_t *n)
{
	static struct vcase_set s[3];

	s[0] = (struct vcase_set){ vcases_mem, vcases_mem_n };
	s[1] = (struct vcase_set){ vcases_alu, vcases_alu_n };
	s[2] = (struct vcase_set){ vcases_call, vcases_call_n };
	*n = 3;
	return s;
}

const struct vcase *vcase_at(size_t i)
{
	size_t n, k;
	const struct vcase_set *s = sets(&n);

	for (k = 0; k < n; k++) {
		if (i < s[k].n)
			return &s[k].cases[i];
		i -= s[k].n;
	}
	return NULL;
}

const struct vcase *vcase_find(const char *name)
{
	const struct vcase *c;
	size_t i;

	for (i = 0; (c = vcase_at(i)); i++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
