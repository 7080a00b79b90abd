/* SPDX-License-Identifier: MIT */
/* emu_internal.h - what crosses files inside src/emu. */
#ifndef BPFX_EMU_INTERNAL_H
#define BPFX_EMU_INTERNAL_H

#include <sys/types.h>

#include "emu/emu.h"

/* One object this process has an fd for (see emu.c). */
struct emu_obj {
	dev_t dev;
	ino_t ino;
	enum shm_kind kind;
	uint32_t id;
	void *handle; /* struct bpfx_map * / struct emu_prog * / NULL */
	bool held;    /* this process holds the object (one hold, any fds) */
	struct emu_obj *next;
};

struct emu_obj *emu_obj_of_fd(int fd);
struct emu_obj *emu_obj_find(enum shm_kind kind, uint32_t id);
/* A new fd for object (@kind, @id). The process's one hold on the object
 * is taken here unless @held says the caller already has it (creation). */
int emu_obj_fd(enum shm_kind kind, uint32_t id, void *handle, bool held,
	       struct emu_obj **out);
int emu_map_get(uint32_t id, struct bpfx_map **out);
int emu_obj_open_file(const char *path, enum shm_kind kind, uint32_t id);

/* user pointers in bpf_attr */
static inline void *u64_ptr(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

/* commands, one file per area */
long emu_map_create(union bpf_attr *a);
long emu_map_elem(int cmd, union bpf_attr *a);
long emu_map_batch(int cmd, union bpf_attr *a);
long emu_prog_load(union bpf_attr *a, unsigned size);
long emu_prog_test_run(union bpf_attr *a);
long emu_prog_bind_map(union bpf_attr *a);
long emu_btf_load(union bpf_attr *a);
long emu_obj_get_info(union bpf_attr *a);
long emu_get_next_id(int cmd, union bpf_attr *a);
long emu_get_fd_by_id(int cmd, union bpf_attr *a);
long emu_obj_pin(union bpf_attr *a);
long emu_obj_get(union bpf_attr *a);
long emu_link_create(union bpf_attr *a);
long emu_link_detach(union bpf_attr *a);

/* Open @p's maps (ids @map_ids, p->hdr->nmaps of them) and load @insns
 * into @vm with map references resolved; a rejection's text goes to @msg. */
long emu_prog_build(struct emu_prog *p, const struct bpfx_insn *insns,
		    const uint32_t *map_ids, struct bpfx_vm *vm, char *msg,
		    size_t msg_size);
void emu_prog_unmaps(struct emu_prog *p);
/* inline.c: inline array map lookups of the index-form program (*@insns_io
 * may be replaced by a longer copy; *@n_io updated). BPFX_NO_INLINE in the
 * environment turns it off. */
long emu_inline_lookups(struct emu_prog *p, const struct bpfx_vm *vm,
			struct bpfx_insn **insns_io,
			uint32_t *n_io);

/* Write @msg to a verifier-style log buffer (user pointer, size), as the
 * kernel: truncated with NUL; returns -ENOSPC when it did not fit. */
int emu_log_write(uint64_t buf, uint32_t size, const char *msg);

#endif
