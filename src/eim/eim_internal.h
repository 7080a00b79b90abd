/* SPDX-License-Identifier: MIT */
/*
 * eim_internal.h - the Extension Interface Model inside the eim stage:
 * the spec as data (types, prototypes, constraints, entries, state and
 * function capabilities, classes), its parsers, and the checks handed to
 * the verifier. See spec.c for the design note.
 */
#ifndef BPFX_EIM_INTERNAL_H
#define BPFX_EIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfx/eim.h"
#include "verifier/verifier.h"

#define EIM_NAME_MAX 64
#define EIM_MAX_PARAMS 5
#define EIM_MAX_CONSTRAINTS 16
#define EIM_WHERE_MAX 160

/* ---- types ---- */
enum eim_tkind {
	EIM_T_VOID = 0,
	EIM_T_INT,  /* size 1/2/4/8, is_signed */
	EIM_T_PTR,  /* pointer; pointee names the base type */
	EIM_T_CTX,  /* the extension's context (host functions get the call) */
};

struct eim_type {
	uint8_t kind;	   /* enum eim_tkind */
	uint8_t size;	   /* bytes (INT), 8 (PTR, CTX) */
	uint8_t is_signed;
	uint8_t is_const;  /* PTR: pointee is const */
	char base[EIM_NAME_MAX]; /* spelling of the base type ("char", "ngx_x") */
};

struct eim_param {
	char name[EIM_NAME_MAX]; /* "" when unnamed (then "argN") */
	struct eim_type t;
};

struct eim_proto {
	char name[EIM_NAME_MAX];
	struct eim_type ret;
	uint32_t nparams;
	struct eim_param params[EIM_MAX_PARAMS];
};

/* ---- constraints ---- */
enum eim_op { EIM_LT, EIM_LE, EIM_GT, EIM_GE, EIM_EQ, EIM_NE };

enum eim_ckind {
	EIM_C_CMP = 1,	/* lhs OP rhs */
	EIM_C_NONNULL,	/* nonnull(argI) */
	EIM_C_READABLE, /* readable(argI, N | argJ) */
	EIM_C_WRITABLE, /* writable(argI, N | argJ) */
	EIM_C_LIMIT,	/* class: instructions/memory OP N */
};

/* An operand: the return value, argument i (0-based) or a constant. */
#define EIM_OPND_RET (-1)
#define EIM_OPND_CONST (-2)
struct eim_opnd {
	int32_t arg;  /* EIM_OPND_RET, EIM_OPND_CONST or an argument index */
	int64_t value; /* the constant */
};

struct eim_constraint {
	uint8_t kind; /* enum eim_ckind */
	uint8_t op;   /* enum eim_op */
	struct eim_opnd lhs, rhs;
	char text[96]; /* as written, for messages */
	char where[EIM_WHERE_MAX];
};

/* ---- the development side ---- */
struct eim_entry {
	char name[EIM_NAME_MAX];
	uint32_t kind; /* BPFX_EIM_ENTRY_* */
	char symbol[EIM_NAME_MAX]; /* hook: the host function */
	struct eim_proto proto;
	char where[EIM_WHERE_MAX];
};

struct eim_state {
	char name[EIM_NAME_MAX]; /* the host variable (symbol) */
	struct eim_type t;
	char where[EIM_WHERE_MAX];
};

struct eim_func {
	char name[EIM_NAME_MAX];
	struct eim_proto proto;
	uint32_t ncons;
	struct eim_constraint cons[EIM_MAX_CONSTRAINTS];
	uint32_t helper_id; /* BPFX_EIM_HOSTFN_BASE + hash */
	char where[EIM_WHERE_MAX];
};

/* ---- the deployment side ---- */
struct eim_class {
	char name[EIM_NAME_MAX];
	uint32_t entry;	       /* index into spec->entries */
	uint32_t arg_read;     /* bit i: may read argument i */
	uint32_t arg_write;    /* bit i: may write argument i */
	uint64_t state_read;   /* bit i: may read state i */
	uint64_t state_write;  /* bit i: may write state i */
	uint64_t *funcs;       /* bitmap over spec->funcs */
	uint32_t helper_groups; /* enum helper_group bits */
	uint64_t max_insns;    /* longest path < max_insns; 0 = no bound */
	uint64_t max_memory;   /* map memory < max_memory; 0 = no bound */
	char where[EIM_WHERE_MAX];
};

#define EIM_MAX_STATE 64

struct bpfx_eim_spec {
	char **type_names; /* opaque types declared by `types:` */
	uint32_t ntypes;
	struct eim_entry *entries;
	uint32_t nentries;
	struct eim_state *states;
	uint32_t nstates;
	struct eim_func *funcs;
	uint32_t nfuncs;
	struct eim_class *classes;
	uint32_t nclasses;
};

/* ---- proto.c: prototypes, types and constraints ---- */
/* Parse "long f(ctx c, char *buf, u32 size)" against the spec's types.
 * -EINVAL with a reason in @why. */
int eim_parse_proto(const struct bpfx_eim_spec *s, const char *text,
		    struct eim_proto *p, char *why, size_t why_size);
int eim_parse_type(const struct bpfx_eim_spec *s, const char *text,
		   struct eim_type *t, char *why, size_t why_size);
/* Parse one constraint of a function of prototype @p. */
int eim_parse_constraint(const struct eim_proto *p, const char *text,
			 struct eim_constraint *c, char *why, size_t why_size);
/* Parse "instructions < 4096" / "memory < 64K". */
int eim_parse_limit(const char *text, bool *is_memory, uint64_t *limit,
		    char *why, size_t why_size);
/* Print a type ("const char *") into @buf. */
void eim_type_str(const struct eim_type *t, char *buf, size_t size);
void eim_proto_str(const struct eim_proto *p, char *buf, size_t size);
/* The argument called @name ("buf", "arg2" = index 1), or -1. */
int eim_param_index(const struct eim_proto *p, const char *name);
const char *eim_op_str(uint8_t op);
/* Helper id of host function @name. */
uint32_t eim_hostfn_id(const char *name);

/* ---- spec.c ---- */
int eim_spec_add_type(struct bpfx_eim_spec *s, const char *name,
		      const char *where, char *err, size_t err_size);
int eim_spec_add_entry(struct bpfx_eim_spec *s, const char *name,
		       uint32_t kind, const char *symbol, const char *proto,
		       const char *where, char *err, size_t err_size);
int eim_spec_add_state(struct bpfx_eim_spec *s, const char *name,
		       const char *type, const char *where, char *err,
		       size_t err_size);
int eim_spec_add_func(struct bpfx_eim_spec *s, const char *proto,
		      const char *const *cons, uint32_t ncons,
		      const char *where, char *err, size_t err_size);
int eim_spec_find_entry(const struct bpfx_eim_spec *s, const char *name);
int eim_spec_find_state(const struct bpfx_eim_spec *s, const char *name);
int eim_spec_find_func(const struct bpfx_eim_spec *s, const char *name);
const struct eim_func *eim_spec_func_by_id(const struct bpfx_eim_spec *s,
					    uint32_t helper_id);
const struct eim_class *eim_spec_class(const struct bpfx_eim_spec *s,
				       const char *name);
/* Helper group bit of group name ("maps"), 0 if unknown. */
uint32_t eim_helper_group(const char *name);
const char *eim_helper_group_name(uint32_t bit);

/* A class under construction (yaml.c fills, spec.c validates). */
struct eim_class_src {
	const char *name;
	const char *entry;
	const char *where;
};
int eim_class_new(struct bpfx_eim_spec *s, const char *name,
		  const char *entry, const char *where, char *err,
		  size_t err_size, struct eim_class **out);
/* One grant: @what is "function", "state-read", "state-write",
 * "arg-read", "arg-write", "helpers", "limit". */
int eim_class_grant(struct bpfx_eim_spec *s, struct eim_class *c,
		    const char *what, const char *name, const char *where,
		    char *err, size_t err_size);

/* ---- yaml.c ---- */
int eim_yaml_parse(struct bpfx_eim_spec *s, const char *text, size_t len,
		   const char *file, char *err, size_t err_size);

/* ---- check.c: a class as verifier options ---- */
struct helper_def;
/* One verification of an extension against a class. */
struct eim_run {
	const struct bpfx_eim_spec *spec;
	const struct eim_class *cls;
	struct helper_def *defs;	  /* synthesized host-function protos */
	struct verifier_ctx_range *ranges; /* granted context slots */
	uint32_t nranges, ctx_size;
	const struct bpfx_insn *insns;
	uint32_t cnt;
};
/* -ENOENT for an unknown class. */
int eim_run_init(struct eim_run *r, const struct bpfx_eim_spec *s,
		 const char *cls);
void eim_run_free(struct eim_run *r);
/* The pre-pass (calls granted, instruction bound, memory), then fill @o:
 * -EACCES with the missing capability in @why. */
int eim_run_apply(struct eim_run *r, struct verifier_opts *o, char *why,
		  size_t n);
/* After a verifier rejection: append which capability a refused context
 * access lacks. */
void eim_explain(const struct eim_run *r, char *log, size_t size);

/* Layout of the context an extension of entry @e sees: one u64 per
 * argument, then one u64 per state variable of the spec. */
uint32_t eim_ctx_size(const struct bpfx_eim_spec *s, const struct eim_entry *e);
uint32_t eim_state_off(const struct bpfx_eim_spec *s,
		       const struct eim_entry *e, uint32_t state);

#endif
