/* SPDX-License-Identifier: MIT */
/*
 * verifier_internal.h - what crosses files inside the verifier stage:
 * register and stack state, verifier states, the environment.
 * See verifier.c for the design note.
 */
#ifndef BPFX_VERIFIER_INTERNAL_H
#define BPFX_VERIFIER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "isa/isa.h"
#include "verifier/bounds.h"
#include "verifier/verifier.h"

#define MAX_BPF_STACK BPFX_STACK_SIZE
#define NSLOTS (MAX_BPF_STACK / 8)
#define MAX_FRAMES BPFX_MAX_FRAMES
#define MAX_REFS 16
#define MAX_PATH 48 /* branch decisions remembered for messages */

/* Register types (enum reg_type). */
enum rtype {
	NOT_INIT = 0,
	SCALAR,
	PTR_TO_CTX,
	PTR_TO_STACK,
	CONST_PTR_TO_MAP,
	PTR_TO_MAP_VALUE,
	PTR_TO_MAP_KEY,
	PTR_TO_MEM,	/* sized region: ringbuf record, EIM-granted memory */
	PTR_TO_FUNC,	/* lddw of a subprogram (callbacks) */
};

/* Register flags. */
#define RF_MAYBE_NULL 0x1 /* may be NULL until checked */
#define RF_RDONLY 0x2	  /* memory may not be written */
#define RF_RINGBUF 0x4	  /* PTR_TO_MEM: a ringbuf record (reference) */

struct reg {
	uint8_t type;	 /* enum rtype */
	uint8_t flags;	 /* RF_* */
	uint8_t frameno; /* PTR_TO_STACK: owning frame */
	uint8_t pad;
	uint32_t id;	     /* null-check group / scalar equality */
	uint32_t ref_obj_id; /* acquired reference (ringbuf record) */
	uint32_t aux;	     /* map index, mem size, func subprog start */
	int32_t off;	     /* fixed offset of a pointer */
	uint32_t pad2;
	struct bounds b;     /* scalar value, or variable offset of a pointer */
};

/* Stack byte kinds. */
enum slot_kind {
	STACK_INVALID = 0, /* never written */
	STACK_MISC,	   /* some scalar bytes */
	STACK_ZERO,	   /* known zero */
	STACK_SPILL,	   /* part of a spilled register (slot-aligned 8 bytes) */
};

struct slot {
	uint8_t kind[8]; /* enum slot_kind per byte; byte j = offset
			  * -(i+1)*8 + j for slot i */
	struct reg r;	 /* spilled register (all 8 bytes STACK_SPILL) */
};

struct frame {
	struct reg regs[ISA_NREGS];
	struct slot *slots; /* slot i covers [-(i+1)*8, -i*8) from r10 */
	uint32_t nslots;    /* allocated (and meaningful) slots */
	uint32_t callsite;  /* insn of the call that created it (0 main) */
	uint32_t subprog;   /* index into env->subs */
	int32_t cb_helper;  /* callback frame: helper id, -1 none */
	uint32_t cb_nrefs;  /* references held when the callback started */
	uint32_t cb_snap;   /* env->snaps index: caller stacks at entry */
};

struct ref {
	uint32_t id;
	uint32_t insn; /* where it was acquired */
};

struct vstate {
	struct frame *frames[MAX_FRAMES];
	uint32_t curframe;
	uint32_t nrefs;
	struct ref refs[MAX_REFS];
	uint32_t lock_id;   /* held spin lock: id of the map value reg, 0 none */
	uint32_t lock_map;  /* map index + 1 */
	int32_t lock_off;
	/* exploration bookkeeping */
	struct vstate *parent; /* nearest checkpoint on the path */
	uint32_t branches;     /* unfinished paths below this checkpoint */
	uint32_t insn;	       /* checkpoint's insn */
	uint32_t npath;
	uint32_t path[MAX_PATH]; /* (insn << 1) | taken */
	uint32_t path_dropped;
	bool speculative;
};

struct subprog {
	uint32_t start, end;
	uint32_t stack_depth;
	bool is_callback;
};

/* Per-instruction analysis data. */
struct insn_aux {
	uint16_t live_in;   /* registers live before the insn */
	uint16_t prec;	    /* scalar registers whose bounds matter here */
	uint16_t maybe_ptr; /* registers that may hold a pointer here */
	uint16_t maybe_fp;  /* registers that may hold a stack pointer */
	uint64_t prec_slots; /* stack slots (fp-relative) whose scalars matter */
	uint8_t prune;	    /* a checkpoint may be made here */
	uint8_t seen;
	uint32_t nstates;   /* explored checkpoints here */
	struct vlist *states;
};

struct vlist {
	struct vlist *next;
	struct vstate *st;
	uint32_t hits, miss;
};

struct vlog {
	char *buf;
	uint32_t size;	   /* caller's size */
	uint64_t len;	   /* bytes produced so far (may exceed size) */
	uint32_t level;
};

struct stack_elem {
	struct vstate *st;
	uint32_t insn;
	uint32_t prev_insn;
};

struct env {
	const struct verifier_opts *o;
	const struct bpfx_insn *insns;
	uint32_t n;
	uint32_t prog_type;
	uint32_t ctx_size;
	const struct verifier_ctx_range *ranges;
	uint32_t nranges;
	struct verifier_ctx_range def_ranges[4];
	bool ctx_rdonly;
	bool lax_imm;	   /* conformance semantics: div by 0, big shifts */
	bool raw;
	verifier_helper_lookup_fn lookup;
	void *lookup_arg;

	struct subprog *subs;
	uint32_t nsubs;
	struct insn_aux *aux;

	struct vstate *cur;
	struct stack_elem *stack;
	uint32_t nstack, cap_stack;

	uint32_t id_gen;
	uint64_t processed;
	uint64_t max_processed;
	uint32_t max_states; /* checkpoints per instruction */
	struct vlist *graveyard; /* evicted checkpoints, freed at the end */
	uint32_t total_states, live_states, peak_states, max_per_insn;
	uint32_t pc;	  /* instruction being checked */
	uint32_t stack_depth[MAX_FRAMES];

	struct vstate **snaps; /* callback entry snapshots (owned) */
	uint32_t nsnaps, cap_snaps;

	struct vlog log;
	/* source lines */
	const char *strs;
	uint32_t strs_len;
};

/* ---- state.c ---- */
struct vstate *verifier_state_new(void);
void verifier_state_free(struct vstate *s);
struct vstate *verifier_state_copy(const struct vstate *s);
int verifier_state_copy_into(struct vstate *dst, const struct vstate *src);
void verifier_reg_unknown(struct reg *r);
void verifier_reg_const(struct reg *r, uint64_t v);
void verifier_reg_not_init(struct reg *r);
bool verifier_is_pointer(const struct reg *r);
/* Try to prune at @insn; 1 = pruned, 0 = go on (checkpoint made), <0 err */
int verifier_is_state_visited(struct env *e, uint32_t insn);
/* A path ended (exit or pruned): settle branch counts up the chain. */
void verifier_path_done(struct env *e, struct vstate *st);
int verifier_push_branch(struct env *e, uint32_t insn, uint32_t prev);
void verifier_free_all_states(struct env *e);
/* Mark every register/slot holding a pointer with @id as checked. */
void verifier_mark_ptr_or_null(struct vstate *st, uint32_t id, bool is_null);
void verifier_release_ref_regs(struct vstate *st, uint32_t ref_id);
void verifier_find_equal_scalars(struct vstate *st, const struct reg *known);
int verifier_compute_liveness(struct env *e);
/* precision.c: which scalars' bounds matter at each insn */
int verifier_compute_precision(struct env *e);
/* Does @old's stack cover @cur's (every byte, spills by regsafe)? */
bool verifier_stack_covered(const struct frame *old, const struct frame *cur);

/* ---- check_alu.c ---- */
int verifier_check_alu(struct env *e, const struct bpfx_insn *insn);
int verifier_check_cond_jmp(struct env *e, const struct bpfx_insn *insn,
			    uint32_t *next_insn);
int verifier_check_lddw(struct env *e, const struct bpfx_insn *insn);

/* ---- check_mem.c ---- */
int verifier_check_load_store(struct env *e, const struct bpfx_insn *insn);
/* Is [reg + off, + size) accessible for @write? (helper arguments) */
int verifier_check_mem_region(struct env *e, uint32_t regno, int32_t size_lo,
			      uint64_t size, bool write, bool zero_ok,
			      const char *what);
int verifier_check_stack_read_range(struct env *e, const struct reg *r,
				    int64_t off, uint64_t size, bool init,
				    uint32_t regno);
void verifier_mark_stack_written(struct env *e, const struct reg *r,
				 int64_t lo, int64_t hi);

/* ---- check_call.c ---- */
int verifier_check_helper_call(struct env *e, const struct bpfx_insn *insn,
			       uint32_t pc, uint32_t *next_insn);
int verifier_check_local_call(struct env *e, const struct bpfx_insn *insn,
			      uint32_t pc, uint32_t *next_insn);
int verifier_check_exit(struct env *e, uint32_t pc, uint32_t *next_insn,
			bool *path_end);

/* ---- log.c ---- */
__attribute__((format(printf, 2, 3))) void verifier_log(struct env *e,
							const char *fmt, ...);
/* A rejection: header (insn, disassembly, source line), reason, path. */
__attribute__((format(printf, 4, 5))) int verifier_reject(struct env *e,
							   int err,
							   uint32_t pc,
							   const char *fmt,
							   ...);
void verifier_log_state(struct env *e, uint32_t pc);
const char *verifier_type_name(const struct reg *r);
void verifier_sources_init(struct env *e);

static inline struct frame *cur_frame(struct env *e)
{
	return e->cur->frames[e->cur->curframe];
}

static inline struct reg *cur_regs(struct env *e)
{
	return cur_frame(e)->regs;
}

#endif
