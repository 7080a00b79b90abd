/* SPDX-License-Identifier: MIT */
/*
 * bpfx/bpfx.h - the host API: for applications that host eBPF extensions.
 *
 *	struct bpfx_host *h = bpfx_host_open(NULL);
 *	bpfx_eim_spec_add_records(bpfx_host_spec(h), BPFX_EIM_SELF_RECORDS,
 *				  BPFX_EIM_SELF_SIZE, err, sizeof(err));
 *	bpfx_eim_spec_add_file(bpfx_host_spec(h), "classes.yaml", err, ...);
 *	bpfx_host_bind_function(h, "ngx_req_uri", (void *)my_uri);
 *	struct bpfx_entry *req = bpfx_host_entry(h, "request");
 *	struct bpfx_ext *x = bpfx_ext_load_file(h, "firewall.bpf.o",
 *						"firewall", &opts);
 *	bpfx_ext_attach(x);
 *	...
 *	uint64_t args[BPFX_ENTRY_SLOTS(req)] = { (uint64_t)r, len }, rc;
 *	if (bpfx_entry_call(req, args, &rc) > 0 && rc) deny(rc);
 *
 * An entry with no extension attached costs one not-taken branch; with one,
 * bpfx_entry_call is a direct call into the extension's JIT code (the
 * argument array is its context) unless the class touches host state or
 * isolation is on, which take a short out-of-line path that copies the
 * granted state in and out around the run.
 *
 * Extensions load as a class of the host's EIM spec (bpfx/eim.h): a .bpf.o
 * through stock libbpf and bpfx's bpf(2) emulation (its maps live in the
 * session, so `bpfx map dump` sees them), or raw instructions. The verifier
 * enforces the class; a load outside it fails with -EACCES and the log names
 * the missing capability.
 *
 * Conventions: int functions return 0 or -errno; constructors return NULL
 * and set errno. Nothing here prints to stdout or exits.
 */
#ifndef BPFX_BPFX_H
#define BPFX_BPFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfx/eim.h"
#include "bpfx/vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bpfx_host;
struct bpfx_entry;
struct bpfx_ext;

struct bpfx_host_opts {
	size_t sz;	     /* sizeof(struct bpfx_host_opts) */
	const char *session; /* session of the extensions' maps; NULL = $BPFX_SESSION or "default" */
	bool isolate;	     /* ask for pkey isolation (reported unavailable where the CPU lacks it) */
};

BPFX_API struct bpfx_host *bpfx_host_open(const struct bpfx_host_opts *opts);
/* Detaches every extension; call when no thread is inside an entry. */
BPFX_API void bpfx_host_close(struct bpfx_host *h);
/* The host's spec: add declarations and classes to it before loading. */
BPFX_API struct bpfx_eim_spec *bpfx_host_spec(struct bpfx_host *h);
/* The C function behind host function @name of the spec (SysV calling
 * convention, at most 5 integer/pointer arguments; a `ctx` parameter
 * receives the entry's context: `const uint64_t *`, the arguments then the
 * state slots). -ENOENT if the spec has no such function, -ENOSPC when the
 * process-wide table of host functions is full. */
BPFX_API int bpfx_host_bind_function(struct bpfx_host *h, const char *name,
				     void *fn);
/* The host function a hook entry rewrites (default: the entry's symbol,
 * looked up with dlsym). Attaching an extension to a hook entry patches
 * the function (src/hook): the extension runs at each call with the
 * arguments as its context, and argument writes its class grants reach
 * the function; detaching restores it byte for byte. */
BPFX_API int bpfx_host_bind_hook(struct bpfx_host *h, const char *entry,
				 void *fn);
/* The address of host variable @name (a state capability). */
BPFX_API int bpfx_host_bind_state(struct bpfx_host *h, const char *name,
				  void *addr);
/* Is hardware isolation in force? (false with the reason in @why). */
BPFX_API bool bpfx_host_isolated(const struct bpfx_host *h, const char **why);
/* How many times host functions returned values outside their declared
 * constraints (each is reported through the print callback, and the value
 * is clamped into the declared range). */
BPFX_API uint64_t bpfx_host_violations(const struct bpfx_host *h);

/* A declared entry (NULL, errno ENOENT, if the spec has none by @name). */
BPFX_API struct bpfx_entry *bpfx_host_entry(struct bpfx_host *h,
					    const char *name);

struct bpfx_ext_opts {
	size_t sz;	     /* sizeof(struct bpfx_ext_opts) */
	const char *prog;    /* program of the object (NULL: the first one) */
	char *log_buf;	     /* why a load failed (verifier log + EIM line) */
	size_t log_size;
	uint32_t log_level;  /* verifier log level, 0 = 1 */
	bool verify_only;    /* check only: no host functions need be bound */
	bool no_jit;	     /* run on the interpreter */
};

BPFX_API struct bpfx_ext *bpfx_ext_load_file(struct bpfx_host *h,
					     const char *path, const char *cls,
					     const struct bpfx_ext_opts *opts);
BPFX_API struct bpfx_ext *bpfx_ext_load_insns(struct bpfx_host *h,
					      const struct bpfx_insn *insns,
					      size_t cnt, const char *cls,
					      const struct bpfx_ext_opts *opts);
/* Attach to the class's entry (replacing what was attached there). For a
 * hook entry, patch the host function. -EBUSY for a verify-only load. */
BPFX_API int bpfx_ext_attach(struct bpfx_ext *x);
BPFX_API int bpfx_ext_detach(struct bpfx_ext *x);
/* Detaches first. The caller makes sure no thread still runs it. */
BPFX_API void bpfx_ext_free(struct bpfx_ext *x);
/* Read map @name of the extension (a .bpf.o load): value of @key. */
BPFX_API int bpfx_ext_map_lookup(struct bpfx_ext *x, const char *name,
				 const void *key, void *value);

/* ---- calling an entry (inline fast path) ---- */

typedef uint64_t (*bpfx_entry_fn)(void *ctx, uint64_t len);

/* The head of every struct bpfx_entry. */
struct bpfx_entry_head {
	bpfx_entry_fn fn;   /* attached JIT code; NULL: nothing attached */
	uint32_t slots;	    /* u64 slots of the context (args + state) */
	uint32_t direct;    /* 1: the argument array is the context as is */
};
/* u64 slots an argument array passed to bpfx_entry_call needs. */
#define BPFX_ENTRY_SLOTS_MAX 69
static inline uint32_t bpfx_entry_slots(const struct bpfx_entry *e)
{
	return ((const struct bpfx_entry_head *)(const void *)e)->slots;
}

BPFX_API int bpfx_entry_call_slow(struct bpfx_entry *e, uint64_t *args,
				  uint64_t *ret);

/* Run the extension attached to @e with @args (the entry's arguments as
 * u64, in an array of bpfx_entry_slots(e) slots). Returns 0 when nothing is
 * attached (*@ret untouched), 1 when the extension ran (*@ret = its r0),
 * or -errno. */
static inline int bpfx_entry_call(struct bpfx_entry *e, uint64_t *args,
				  uint64_t *ret)
{
	struct bpfx_entry_head *h = (struct bpfx_entry_head *)(void *)e;
	bpfx_entry_fn fn = __atomic_load_n(&h->fn, __ATOMIC_ACQUIRE);

	if (__builtin_expect(fn == NULL, 1))
		return 0;
	if (__builtin_expect(h->direct, 1)) {
		*ret = fn(args, (uint64_t)h->slots * 8);
		return 1;
	}
	return bpfx_entry_call_slow(e, args, ret);
}

#ifdef __cplusplus
}
#endif
#endif /* BPFX_BPFX_H */
