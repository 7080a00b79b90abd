/* SPDX-License-Identifier: MIT */
/*
 * sys_internal.h - what crosses the files of the syscall tracepoints.
 *
 *   syscall.c      programs per syscall number, contexts, dispatch; the
 *                  attach_syscall_add/remove entry points.
 *   sys_rewrite.c  the stub (entered from rewritten sites), page 0's jump
 *                  chain, per-site trampolines, scanning executable
 *                  mappings and rewriting `syscall`.
 *   sys_cache.c    site offsets per file version, across processes.
 *   sys_sud.c      Syscall User Dispatch: the net for sites not rewritten.
 *   sys_table.c    syscall numbers <-> tracefs event names and ids.
 *
 * The stub builds a struct sys_frame on the thread's stack and calls the
 * dispatch functions below with it; their offsets are asserted in
 * sys_rewrite.c, next to the assembly that relies on them.
 */
#ifndef BPFX_SYS_INTERNAL_H
#define BPFX_SYS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* Syscall numbers handled (x86-64 tops out at 469 today). */
#define SYS_NR_MAX 512

/* ---- sys_table.c ---- */
enum sys_tp_kind {
	SYS_TP_ENTER,	  /* syscalls/sys_enter_<name> */
	SYS_TP_EXIT,	  /* syscalls/sys_exit_<name> */
	SYS_TP_RAW_ENTER, /* raw_syscalls/sys_enter */
	SYS_TP_RAW_EXIT,  /* raw_syscalls/sys_exit */
};

struct sys_tp {
	enum sys_tp_kind kind;
	int nr;		   /* -1 for raw_syscalls */
	uint16_t event_id; /* tracefs id, 0 if unknown */
};

const char *sys_name(unsigned nr);       /* "stat" (the __NR_ name) */
const char *sys_event_name(unsigned nr); /* "newstat" (the event's) */
int sys_nr_of(const char *event_name);   /* -ENOENT if unknown */
uint16_t sys_event_id(const char *tp);
/* Parse "syscalls/sys_enter_openat" etc.; -EINVAL / -ENOENT. */
int sys_parse_tp(const char *tp, struct sys_tp *out);

/* ---- the frame the stub builds (sys_rewrite.c) ---- */
/* Its first 64 bytes are the sys_enter context the programs read: the
 * trace event's common fields, the number at 8, the arguments at 16. */
struct sys_frame {
	uint64_t hdr;	   /* 0: common_type, flags, preempt, common_pid */
	uint64_t nr;	   /* 8: rax at entry */
	uint64_t args[6];  /* 16: rdi rsi rdx r10 r8 r9 */
	uint64_t ret;	   /* 64: the result, rax on the way out */
	uint64_t ip;	   /* 72: where the syscall returns to (set where
			    * xmm0-15 are saved: special numbers, SUD) */
	uint64_t sp;	   /* 80: rsp in the stub: [sp] = ip */
	uint64_t vec;	   /* 88: xmm0-15 saved (else programs that may
			    * touch them are skipped: see SYS_A_VEC) */
	uint8_t xmm[16][16]; /* 96: xmm0-15 of the caller */
};

/* Per-thread state. vfork_ret is read by the stub at a fixed offset. */
struct sys_thread {
	uint8_t selector;  /* 0: the SUD selector byte of this thread */
	uint8_t busy;	   /* 1: inside dispatch: nested syscalls pass */
	uint8_t sud;	   /* 2: SUD is on for this thread */
	uint8_t in_sud;	   /* 3: in the SIGSYS handler's dispatch */
	int32_t tid;	   /* 4: cached gettid(), 0 unknown */
	uint64_t vfork_ret; /* 8: vfork's return address, off the stack */
	uint64_t clone_nr;  /* clone/clone3 in flight (parent side) */
	uint64_t clone_flags;
	/* keep_sigsys_open(): the app's mask / sigaction with SIGSYS taken
	 * out, handed to the kernel in place of the app's own */
	uint64_t mask_copy;
	uint64_t act_copy[4];
};
extern __thread struct sys_thread sys_self
	__attribute__((tls_model("initial-exec")));

typedef uint64_t (*sys_jit_fn)(void *ctx, uint64_t len);

/* sys_active[nr]: what the stub's fast path reads. */
#define SYS_A_TRACED 1	/* some program wants this syscall */
#define SYS_A_SPECIAL 2 /* stack-sensitive: rt_sigreturn, clone*, vfork */
#define SYS_A_VEC 4	/* the hook path may touch vector registers (a
			 * program calls helpers, or code is watched): the
			 * stub saves xmm0-15; else it saves none (syscall.c
			 * is built -mgeneral-regs-only) */
#define SYS_A_EXIT 8	/* exit programs (raw or this number's) */
#define SYS_A_ENTER 16	/* enter programs (raw or this number's) */
#define SYS_A_ONE 32	/* ... exactly one, vector-free: sys_enter_one */
#define SYS_A_PLAIN 64	/* ... and calling no helper: the stub calls it */
/* SYS_A_PLAIN: the program's JIT code and event id, by number */
extern sys_jit_fn sys_plain_fn[SYS_NR_MAX];
extern uint16_t sys_plain_type[SYS_NR_MAX];
extern uint8_t sys_active[SYS_NR_MAX];

/* ---- syscall.c: dispatch, called by the stub and the SIGSYS handler ---- */
/* 1: skip the syscall (f->ret holds the result), 0: run it. */
int sys_enter_hook(struct sys_frame *f);
/* The same for a number whose only enter program is vector-free. */
int sys_enter_one(struct sys_frame *f);
void sys_exit_hook(struct sys_frame *f);
int sys_clone_prepare(struct sys_frame *f);
void sys_clone_child(struct sys_frame *f);
void sys_clone_parent(struct sys_frame *f);
void sys_vfork_parent(struct sys_frame *f);
void sys_vfork_child(struct sys_frame *f);
/* Is interception installed in this process? */
bool sys_installed(void);

/* Registry (syscall.c); @fn NULL runs the interpreter. */
struct bpfx_prog;
int sys_prog_add(uint32_t link_id, const char *tp, const struct bpfx_prog *prog,
		 sys_jit_fn fn, uint64_t cookie);
int sys_prog_remove(uint32_t link_id);

/* ---- sys_rewrite.c, sys_cache.c ---- */
/* A line of /proc/self/maps. */
struct sys_map {
	uint64_t start, end;
	uint64_t off, ino;	/* file offset, inode (0: anonymous) */
	int prot;
	bool priv, file;
	bool special;		/* [vdso], [vsyscall], [stack]... */
	char path[256];		/* "" if none or too long */
};
/* The site offsets (from start) of mapping @v's file bytes as an earlier
 * sweep found them: count, or -errno (then sweep). */
int sys_cache_load(const struct sys_map *v, uint32_t *offs, uint32_t max);
void sys_cache_store(const struct sys_map *v, const uint32_t *offs, uint32_t n);

struct sys_stats {
	bool zpoline;	    /* page 0 trampoline in use */
	bool trampolines;   /* per-site trampolines in use (no page 0) */
	bool sud;	    /* Syscall User Dispatch available */
	bool jmp_return;    /* the stub returns by jmp, not ret */
	uint32_t sites;	    /* syscall instructions rewritten now */
	uint32_t lazy;	    /* ... of which found by SUD after install */
	uint32_t skipped;   /* found but left to SUD */
	uint32_t trapped;   /* per-site mode: left to an int3 (SIGTRAP) */
	uint32_t cached;    /* mappings whose sites came from sys_cache.c */
	uint64_t sud_traps; /* syscalls that reached the SIGSYS handler */
};
void sys_get_stats(struct sys_stats *out);

/* Map page 0, rewrite every site: -errno, or 1 when the process has code
 * rewriting cannot cover (no page 0, or a JIT's) and needs the SUD net. */
int sys_rewrite_install(void);
/* After mmap/mprotect made [start, start+len) executable: rewrite the
 * sites of new file-backed code; true if the range holds dynamic code
 * only SUD can watch. */
bool sys_rewrite_new_code(uint64_t start, uint64_t len);
void sys_rewrite_uninstall(void); /* restore every site */
void sys_rewrite_after_fork(void); /* in the child: its lock is free */
/* Are sites of ours int3 for good (per-site mode's last resort)? Then
 * SIGTRAP, like SIGSYS, must never be blocked. */
bool sys_rewrite_trap_sites(void);
/* From the SIGSYS handler: rewrite the site ending at @ip if it lies in
 * a file-backed executable mapping. Async-signal-safe. true if done. */
bool sys_rewrite_lazy(uint64_t ip);
/* The code SUD always lets through: [sys_stub_start, sys_stub_end). */
extern const char sys_stub_start[], sys_stub_end[];
/* The two copies of the stub page 0 leads to (returning by ret / jmp). */
void sys_stub(void);
void sys_stub_jmp(void);
/* `mov eax, 15; syscall` inside that range: the SIGSYS restorer. */
extern const char sys_sigreturn_gadget[];
/* A raw syscall from inside that range. */
long sys_raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/* ---- sys_sud.c ---- */
int sys_sud_init(void);		/* SIGSYS handler; -errno if no SUD */
int sys_sud_thread_on(void);	/* enable for the calling thread */
void sys_sud_thread_off(void);
int sys_sud_all_threads(void);	/* ask the other threads to turn it on */
/* The net: off until the process has code rewriting cannot cover
 * ($BPFX_SYSCALL_SUD=always|never overrides). */
void sys_sud_net_on(void);
void sys_sud_net_reset(void);	/* at uninstall: threads turn it off */
/* The application's rt_sigaction(SIGSYS): 1 when done (*ret), 0 if the
 * kernel should do it. */
int sys_sud_sigaction(uint64_t act, uint64_t oldact, long *ret);
bool sys_sud_net(void);
bool sys_sud_ready(void);
extern uint64_t sys_sud_trap_count;

#define SYS_SEL_ALLOW 0
#define SYS_SEL_BLOCK 1

#endif
