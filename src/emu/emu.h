/* SPDX-License-Identifier: MIT */
/*
 * emu.h - bpf(2) in userspace.
 *
 * emu_bpf() takes the kernel's (cmd, union bpf_attr *, size) and answers as
 * the kernel would: a new fd, 0, or -errno, with the kernel's error codes.
 * Callers reach it two ways: the `syscall()` interposer (shim.c) under
 * stock libbpf and other tools, and bpfx's own code in-process.
 *
 * Object fds are real fds: each is an O_RDWR open of the object's session
 * file (for a ring buffer, of a FIFO beside it, so epoll works). The fd is
 * resolved back to the object by its inode (fstat), so dup'ed fds work and
 * a closed-then-reused fd number is never mistaken for an object.
 *
 * Programs are stored in the session as verified bytecode in which every
 * map reference is an index into the program's map-id table (lddw src
 * BPF_PSEUDO_MAP_IDX / _IDX_VALUE), so any process can instantiate them:
 * emu_prog_instantiate() opens the maps locally and rewrites those lddw
 * into plain 64-bit immediates (map handle / value address) for the VM.
 */
#ifndef BPFX_EMU_H
#define BPFX_EMU_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpfx/vm.h"
#include "maps/maps.h"
#include "shm/shm.h"
#include "verifier/verifier.h"


/* ---- program objects in the session ---- */
struct prog_hdr {
	uint32_t prog_type;
	uint32_t expected_attach_type;
	uint32_t insn_cnt;
	uint32_t nmaps;
	uint32_t btf_id;
	uint32_t func_info_cnt, func_info_rec_size;
	uint32_t line_info_cnt, line_info_rec_size;
	uint32_t prog_flags;
	uint32_t verified_insns;
	uint32_t attach_btf_id;
	uint8_t tag[8];
	char license[64];
	uint64_t insns_off;	/* struct bpfx_insn[insn_cnt] */
	uint64_t maps_off;	/* uint32_t map ids[nmaps] */
	uint64_t func_info_off;
	uint64_t line_info_off;
	uint64_t load_time_ns;	/* CLOCK_BOOTTIME */
	uint64_t run_cnt;	/* stats (bpf_prog_info.run_cnt/run_time_ns) */
	uint64_t run_time_ns;
};

/* A program instantiated in this process. */
struct emu_prog {
	uint32_t id;
	struct prog_hdr *hdr;	/* in the mapping */
	void *mem;
	size_t mem_size;
	struct bpfx_map **maps;	/* opened locally, hdr->nmaps */
	struct bpfx_prog *vm_prog; /* NULL until instantiated */
	enum bpfx_engine engine;   /* JIT where it compiled, else interp */
};

/* Open program @id of the session (does not instantiate). */
int emu_prog_open(struct shm_session *s, uint32_t id, struct emu_prog **out);
/* Open its maps and load it into @vm with map references resolved; JIT
 * compiled when @jit. Idempotent. */
int emu_prog_instantiate(struct emu_prog *p, struct bpfx_vm *vm, bool jit);
void emu_prog_close(struct emu_prog *p);
const struct bpfx_insn *emu_prog_insns(const struct emu_prog *p);

/* ---- links: what attaches a program, read by agents in targets ---- */
enum link_kind {
	LINK_UPROBE = 1,
	LINK_URETPROBE = 2,
	LINK_TRACEPOINT = 3, /* syscall tracepoints (tp_name) */
};

struct link_obj {
	uint32_t prog_id;
	uint32_t kind;	      /* enum link_kind */
	uint32_t detached;    /* set by LINK_DETACH: agents let go */
	int32_t pid;	      /* only this process (and its threads), -1 all */
	uint64_t offset;      /* uprobe: file offset in the binary */
	uint64_t ref_ctr_off; /* USDT semaphore file offset, 0 none */
	uint64_t cookie;      /* bpf_get_attach_cookie */
	uint64_t dev, ino;    /* uprobe: the binary's identity */
	pid_t owner;	      /* the loader that created it */
	uint32_t pad;
	char path[1024];      /* uprobe binary (as given) / tracepoint name */
};

/* Open link @id's object read-only into *@out (unmap with
 * shm_obj_unmap(mem, size)). */
int emu_link_map(struct shm_session *s, uint32_t id, const struct link_obj **out,
		 void **mem, size_t *size);

/* Mark link @id detached: every agent unpatches it at its next sync. */
int emu_link_detach_id(struct shm_session *s, uint32_t id);

/* Wake every agent of session @s: they re-read the links. */
void emu_notify_agents(struct shm_session *s);

/* ---- perf events (uprobe PMU) ---- */
struct perf_event_attr;
/* perf_event_open(2) for the uprobe PMU (and later tracepoints): an fd
 * that LINK_CREATE (BPF_PERF_EVENT) or PERF_EVENT_IOC_SET_BPF attaches a
 * program through. Other event types: -ENOTSUP from here, so the caller
 * passes them to the kernel. */
long emu_perf_event_open(const struct perf_event_attr *attr, int pid, int cpu,
			 int group_fd, unsigned long flags);
/* ioctl(2) on one of those fds; -ENOTTY if @fd is not ours. */
long emu_perf_ioctl(int fd, unsigned long req, unsigned long arg);

/* ---- the emulation ---- */

/* Process-wide state: session (from $BPFX_SESSION or "default", or set
 * before first use) and the VM with every helper registered. */
int emu_set_session(const char *name);
struct shm_session *emu_session(void);
struct bpfx_vm *emu_vm(void);

long emu_bpf(int cmd, union bpf_attr *attr, unsigned int size);

/* Is @fd an object fd of ours? Fills kind and id. */
bool emu_fd_object(int fd, enum shm_kind *kind, uint32_t *id);
/* Was @fd handed out by the emulation (as opposed to the library's own
 * fds on the same object files)? The interposers redirect only these. */
bool emu_fd_is_handed_out(int fd);
/* The caller closed an fd that referred to object file (@dev, @ino): drop
 * the process's hold if it was the last one (see emu.c). */
void emu_fd_closed(dev_t dev, ino_t ino);
/* The local handle behind an object fd, or NULL. */
struct bpfx_map *emu_fd_map(int fd);
struct emu_prog *emu_fd_prog(int fd);

/* mmap of a map fd (kernel layout); MAP_FAILED and errno on failure. */
void *emu_map_mmap(struct bpfx_map *m, int fd, void *addr, size_t len,
		   int prot, int flags, off_t off);
/* The fd epoll should watch for @fd (an eventfd for a ring buffer), or -1. */
int emu_epoll_fd(int fd);

/* Name of a bpf command ("BPF_MAP_CREATE"), for log lines. */
const char *emu_cmd_name(int cmd);

#endif /* BPFX_EMU_H */
