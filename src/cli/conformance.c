/* SPDX-License-Identifier: MIT */
/* conformance.c - helpers and runner pieces shared by the conformance
 * plugin and the conformance test runner (see conformance.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/conformance.h"

/* 0: pack the low byte of each argument, r1 most significant */
static uint64_t h_gather_bytes(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			       uint64_t e)
{
	return ((a & 0xff) << 32) | ((b & 0xff) << 24) | ((c & 0xff) << 16) |
	       ((d & 0xff) << 8) | (e & 0xff);
}

/* 1: XOR len bytes at ptr with 42 */
static uint64_t h_memfrob(uint64_t ptr, uint64_t len, uint64_t c, uint64_t d,
			  uint64_t e)
{
	uint8_t *p = (uint8_t *)(uintptr_t)ptr;
	uint64_t i;

	for (i = 0; i < len; i++)
		p[i] ^= 42;
	return 0;
}

/* 2: clobber the caller-saved registers of the host ABI */
static uint64_t h_trash(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			uint64_t e)
{
	__asm__ volatile("" ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
			 "r10", "r11", "memory");
	return 0;
}

/* 3: integer square root */
static uint64_t h_sqrti(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			uint64_t e)
{
	uint64_t lo = 0, hi = a < 2 ? a : (a >> 1) + 1;

	if (a < 2)
		return a;
	hi = hi > 4294967295ull ? 4294967295ull : hi;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;

		if (mid * mid <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* 4: strcmp */
static uint64_t h_strcmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			 uint64_t e)
{
	return (uint64_t)(int64_t)strcmp((const char *)(uintptr_t)a,
					 (const char *)(uintptr_t)b);
}

/* 5: unwind: returns its argument; 0 stops the program */
static uint64_t h_unwind(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			 uint64_t e)
{
	return a;
}

struct bpfx_vm *conf_vm_create(void)
{
	struct bpfx_vm *vm = bpfx_vm_create();
	int err = 0;

	if (!vm)
		return NULL;
	err = err ?: bpfx_vm_register_helper(vm, 0, "gather_bytes", h_gather_bytes);
	err = err ?: bpfx_vm_register_helper(vm, 1, "memfrob", h_memfrob);
	err = err ?: bpfx_vm_register_helper(vm, 2, "trash_registers", h_trash);
	err = err ?: bpfx_vm_register_helper(vm, 3, "sqrti", h_sqrti);
	err = err ?: bpfx_vm_register_helper(vm, 4, "strcmp_ext", h_strcmp);
	err = err ?: bpfx_vm_register_helper(vm, 5, "unwind", h_unwind);
	err = err ?: bpfx_vm_set_unwind_helper(vm, 5);
	if (err) {
		bpfx_vm_destroy(vm);
		errno = -err;
		return NULL;
	}
	return vm;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long conf_parse_hex(const char *s, uint8_t **out)
{
	size_t cap = strlen(s) / 2 + 8, n = 0;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	while (*s) {
		if (isspace((unsigned char)*s) || *s == ',') {
			s++;
			continue;
		}
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			/* a 64-bit little-endian word */
			char *end;
			unsigned long long v = strtoull(s, &end, 16);
			int k;

			if (end == s + 2)
				goto bad;
			for (k = 0; k < 8; k++)
				buf[n++] = (uint8_t)(v >> (8 * k));
			s = end;
			continue;
		}
		if (hexval(s[0]) < 0 || hexval(s[1]) < 0)
			goto bad;
		buf[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s += 2;
	}
	*out = buf;
	return (long)n;
bad:
	free(buf);
	return -EINVAL;
}

int conf_engine(const char *name, enum bpfx_engine *out)
{
	static const struct {
		const char *name;
		enum bpfx_engine e;
	} tab[] = {
		{ "interp", BPFX_ENGINE_INTERP },
		{ "switch", BPFX_ENGINE_INTERP_SWITCH },
		{ "checked", BPFX_ENGINE_CHECKED },
		{ "jit", BPFX_ENGINE_JIT },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (!strcmp(name, tab[i].name)) {
			*out = tab[i].e;
			return 0;
		}
	}
	return -EINVAL;
}

void conf_run(struct bpfx_vm *vm, const uint8_t *prog, size_t plen,
	      const uint8_t *mem, size_t mlen, enum bpfx_engine engine,
	      struct conf_result *res)
{
	struct bpfx_prog_opts opts = {
		.sz = sizeof(opts),
		.log_buf = res->msg,
		.log_size = sizeof(res->msg),
		.entry_regs = 1u << 2, /* r2 = length */
	};
	struct bpfx_insn *insns = NULL;
	struct bpfx_prog *p;
	uint8_t *copy = NULL;
	size_t n = plen / sizeof(*insns);

	memset(res, 0, sizeof(*res));
	if (plen % sizeof(*insns)) {
		res->load_err = -EINVAL;
		snprintf(res->msg, sizeof(res->msg),
			 "program is %zu bytes, not a multiple of 8", plen);
		return;
	}
	insns = malloc(plen ? plen : 1);
	copy = malloc(mlen ? mlen : 1);
	if (!insns || !copy) {
		res->load_err = -ENOMEM;
		goto out;
	}
	memcpy(insns, prog, plen);
	if (mlen)
		memcpy(copy, mem, mlen);
	p = bpfx_prog_load(vm, insns, n, &opts);
	if (!p) {
		res->load_err = -errno;
		if (!res->msg[0])
			snprintf(res->msg, sizeof(res->msg), "load failed: %s",
				 strerror(errno));
		goto out;
	}
	if (engine == BPFX_ENGINE_JIT) {
		res->load_err = bpfx_prog_jit(p);
		if (res->load_err) {
			snprintf(res->msg, sizeof(res->msg), "jit failed: %s",
				 strerror(-res->load_err));
			bpfx_prog_free(p);
			goto out;
		}
	}
	res->run_err = bpfx_prog_run(p, engine, mlen ? copy : NULL, mlen,
				     &res->r0);
	if (res->run_err)
		snprintf(res->msg, sizeof(res->msg), "%s", bpfx_run_fault());
	bpfx_prog_free(p);
out:
	free(insns);
	free(copy);
}
