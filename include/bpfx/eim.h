/* SPDX-License-Identifier: MIT */
/*
 * bpfx/eim.h - the Extension Interface Model (docs/eim.md is the reference).
 *
 * The application developer declares what the host offers (the development
 * side): extension entries, state capabilities (host variables an extension
 * may read or write) and function capabilities (host functions it may call,
 * with a prototype and constraints on arguments and return value). The
 * deployer writes extension classes: one entry plus the exact allowed set.
 * Both sides are YAML (libyaml); the development side can also be declared
 * in C with the BPFX_EIM_* macros below, which record it in the binary's
 * "bpfx_eim" ELF section (`bpfx eim show BINARY` prints it).
 *
 * A class is enforced at load time by the verifier: an extension outside
 * its class never loads, and the rejection names the missing capability.
 *
 * Conventions: int functions return 0 or -errno; constructors return NULL
 * and set errno; messages go to caller buffers. Nothing prints or exits.
 */
#ifndef BPFX_EIM_H
#define BPFX_EIM_H

#include <stddef.h>
#include <stdint.h>

#include "bpfx/vm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- C declarations of the development side ---- */

#define BPFX_EIM_SECTION_NAME "bpfx_eim"
#define BPFX_EIM_STR_(x) #x
#define BPFX_EIM_STR(x) BPFX_EIM_STR_(x)
#define BPFX_EIM_CAT_(a, b) a##b
#define BPFX_EIM_CAT(a, b) BPFX_EIM_CAT_(a, b)
/* One record: "bpfx-eim\x1fFILE:LINE\x1fKIND\x1fFIELD\x1f...", NUL-ended. */
#define BPFX_EIM_RECORD_(kind, fields)                                       \
	__attribute__((section(BPFX_EIM_SECTION_NAME), used, aligned(1)))    \
	static const char BPFX_EIM_CAT(bpfx_eim_rec_, __COUNTER__)[] =      \
		"bpfx-eim\x1f" __FILE__ ":" BPFX_EIM_STR(__LINE__) "\x1f" kind \
		"\x1f" fields

/* An opaque host type extensions may name (pointers to it are scalars). */
#define BPFX_EIM_TYPE(name) BPFX_EIM_RECORD_("type", #name)
/* An explicit entry the host calls with bpfx_entry_call():
 * BPFX_EIM_ENTRY(request, "int request(ngx_http_request_t *r, u32 len)") */
#define BPFX_EIM_ENTRY(name, proto) \
	BPFX_EIM_RECORD_("entry", #name "\x1f" "explicit\x1f\x1f" proto)
/* An entry hooked by binary rewriting at host function @symbol. */
#define BPFX_EIM_HOOK(name, symbol, proto) \
	BPFX_EIM_RECORD_("entry", #name "\x1f" "hook\x1f" #symbol "\x1f" proto)
/* A host variable (state capability): BPFX_EIM_STATE(u64, requests) */
#define BPFX_EIM_STATE(type, name) \
	BPFX_EIM_RECORD_("state", #name "\x1f" #type)
/* A host function (function capability), constraints separated by ';':
 * BPFX_EIM_FUNCTION("long uri(ctx c, char *b, u32 n)",
 *		     "writable(b, n); n > 0; ret >= 0; ret <= n") */
#define BPFX_EIM_FUNCTION(proto, constraints) \
	BPFX_EIM_RECORD_("function", proto "\x1f" constraints)

/* The records of the calling module (linker-made section bounds). */
extern const char __start_bpfx_eim[] __attribute__((weak, visibility("hidden")));
extern const char __stop_bpfx_eim[] __attribute__((weak, visibility("hidden")));
#define BPFX_EIM_SELF_RECORDS __start_bpfx_eim
#define BPFX_EIM_SELF_SIZE \
	((size_t)(__stop_bpfx_eim - __start_bpfx_eim))

/* ---- host functions as helpers ---- */

/* Host function NAME is `call ID` with ID = BASE + fnv1a32(NAME) % SLOTS
 * (`bpfx eim header SPEC` prints the ids and declarations for extensions). */
#define BPFX_EIM_HOSTFN_BASE 256u
#define BPFX_EIM_HOSTFN_SLOTS 768u

/* ---- the spec ---- */

#define BPFX_EIM_ENTRY_EXPLICIT 1
#define BPFX_EIM_ENTRY_HOOK 2

struct bpfx_eim_spec;

BPFX_API struct bpfx_eim_spec *bpfx_eim_spec_new(void);
BPFX_API void bpfx_eim_spec_free(struct bpfx_eim_spec *s);
/* Add a YAML file (development side, classes, or both; a class may only
 * name what is declared before it, in this or an earlier file). Errors:
 * -EINVAL with "FILE:LINE: reason" in @err, -ENOENT, -ENOMEM. */
BPFX_API int bpfx_eim_spec_add_file(struct bpfx_eim_spec *s, const char *path,
				    char *err, size_t err_size);
BPFX_API int bpfx_eim_spec_add_text(struct bpfx_eim_spec *s, const char *text,
				    size_t len, const char *name, char *err,
				    size_t err_size);
/* Add the records of a "bpfx_eim" section (memory as the macros lay it). */
BPFX_API int bpfx_eim_spec_add_records(struct bpfx_eim_spec *s,
				       const char *recs, size_t size,
				       char *err, size_t err_size);
/* Add the records of ELF file @path's "bpfx_eim" section. -ENODATA when
 * it has none. */
BPFX_API int bpfx_eim_spec_add_binary(struct bpfx_eim_spec *s,
				      const char *path, char *err,
				      size_t err_size);
/* The spec as YAML (development side, then classes) into @buf; returns the
 * length it needs (excluding the NUL), like snprintf. */
BPFX_API size_t bpfx_eim_spec_format(const struct bpfx_eim_spec *s, char *buf,
				     size_t size);
/* A C header for extensions: context layout of each entry, host function
 * ids and declarations; returns the length needed. */
BPFX_API size_t bpfx_eim_spec_header(const struct bpfx_eim_spec *s, char *buf,
				     size_t size);

/* Does class @cls exist? Its context size (bytes) or -ENOENT. */
BPFX_API int bpfx_eim_class_ctx_size(const struct bpfx_eim_spec *s,
				     const char *cls);

/* ---- enforcement ---- */

/* A map of the extension, as the verifier needs it. */
struct bpfx_eim_map {
	uint32_t type, key_size, value_size, max_entries, map_flags;
};

struct bpfx_eim_check_opts {
	size_t sz;		/* sizeof(struct bpfx_eim_check_opts) */
	const struct bpfx_eim_map *maps; /* lddw src 1/2/5/6 name them */
	uint32_t nmaps;
	char *log_buf;		/* rejection: the verifier's log + EIM line */
	size_t log_size;
	uint32_t log_level;	/* verifier log level (0 = 1) */
};

/* Verify @insns as an extension of class @cls: -EACCES (outside the class:
 * the log names the missing capability), -EINVAL (malformed), -ENOENT (no
 * such class), or 0. */
BPFX_API int bpfx_eim_check(const struct bpfx_eim_spec *s, const char *cls,
			    const struct bpfx_insn *insns, size_t cnt,
			    struct bpfx_eim_check_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* BPFX_EIM_H */
