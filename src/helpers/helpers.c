/* SPDX-License-Identifier: MIT */
/* helpers.c - join the area tables: lookup by id, registration in a VM. */
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>

#include "helpers/helpers.h"
#include "vm/vm_internal.h"

#define MAX_ID 256

static const struct helper_def *index_by_id[MAX_ID];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const struct helper_def *const tables[] = {
	helpers_core_table,
	helpers_maps_table,
};

static void build_index(void)
{
	size_t t;
	const struct helper_def *d;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (d = tables[t]; d->name; d++)
			if (d->id < MAX_ID)
				index_by_id[d->id] = d;
}

const struct helper_def *helper_find(uint32_t id)
{
	pthread_once(&once, build_index);
	return id < MAX_ID ? index_by_id[id] : NULL;
}

int helpers_register_all(struct bpfx_vm *vm)
{
	uint32_t id;
	int err;

	pthread_once(&once, build_index);
	vm_nofault_init();
	helpers_core_init();
	for (id = 0; id < MAX_ID; id++) {
		if (!index_by_id[id])
			continue;
		err = bpfx_vm_register_helper(vm, id, index_by_id[id]->name,
					      index_by_id[id]->fn);
		if (!err && (index_by_id[id]->flags & HELPER_F_NOVEC))
			err = vm_set_helper_vector_free(vm, id);
		if (err)
			return err;
	}
	/* bpf_get_smp_processor_id is shm_cpu_fast(): rseq's cpu_id */
	return vm_set_cpu_helper(vm, BPF_FUNC_get_smp_processor_id);
}
