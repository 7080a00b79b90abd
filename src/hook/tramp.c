/* SPDX-License-Identifier: MIT */
/*
 * tramp.c - trampoline memory near the target, and the stubs' machine code.
 *
 * Memory. A region is a 64 KiB memfd mapped twice: once read+execute at an
 * address within +-2 GiB of the hooked functions (found from the gaps in
 * /proc/self/maps, mapped with MAP_FIXED_NOREPLACE), once read+write
 * anywhere. Code is written through the RW alias only, so no page is ever
 * writable and executable at once, and adding a trampoline never changes
 * the protection of a page another thread may be executing. Slots are
 * carved by a bump pointer and never freed: a hook's trampoline stays with
 * it (struct hook is cached per function and reused), so no thread can
 * ever run freed or rewritten code.
 *
 * Entry stub (per hook; S = rsp at entry, [S] = return address):
 *
 *   pushfq; push rax; mov rax, rsp      ; rax = S - 16
 *   and rsp, -16; sub rsp, FRAME        ; B = rsp: struct hook_regs
 *   mov [rsp+off], reg  (x14)           ; r15 .. di
 *   ax, flags from [rax], [rax+8]; sp = rax + 16; orig_ax = -1;
 *   ip = func; cs = 0x33; ss = 0x2b
 *   movaps [rsp+176+16*i], xmmi         ; i < 8 or 16
 *   cmp qword fs:[registered], 0; je .reg   ; first hit on this thread
 * .go:
 *   test byte fs:[seq], 1; jnz .skip    ; nested in a handler: no handler
 *   add qword fs:[seq], 1               ; odd: in a handler
 *   mov rax, h; mov r11, [rax]; mov rdi, [rax+8]; mov rsi, rsp; call r11
 *   add qword fs:[seq], 1               ; even
 *   test eax, eax; jnz .other
 * .skip:
 *   restore xmm, gprs; arithmetic flags by sahf (see restore());
 *   mov rsp, [rsp+sp]
 * reloc:
 *   <relocated prologue>; jmp func+len
 * .other:
 *   cmp eax, HOOK_CALL_THROUGH; je .through
 * .redirect:
 *   restore xmm; ip -> [regs.sp - 8]; restore gprs and flags;
 *   mov rsp, [rsp+sp]; jmp [rsp-8]
 * .through:                             ; a return probe is armed
 *   restore as .skip; lea rsp, [rsp+8]  ; pop the return address (saved
 *   call reloc                          ;   on the shadow stack), push ours
 * landing:
 *   jmp <return stub>
 * .reg:
 *   mov rax, hook_thread_register; call rax; jmp .go
 *
 * At `jmp [rsp-8]` the ip word sits 8 bytes below rsp:
 * inside the red zone, which signal delivery skips.
 *
 * Return probes by call, not by overwriting the return address: `call
 * reloc` puts the landing at [S], the same slot (stack arguments stay where
 * the function expects them), and pushes it on the CPU's return-stack
 * predictor too, so the function's `ret` is predicted; the return stub
 * leaves by `ret` to the real return address, which is what the predictor
 * then holds (the caller's call pushed it). Replacing [S] and leaving by
 * jmp cost a mispredicted ret per hit (~7 ns here).
 *
 * Return stubs (two, shared: with xmm0-15 saved, and without for
 * HOOK_F_NO_VECTOR hooks): entered from a landing with rsp = S + 8. A stub
 * pushes a placeholder (back to S), builds the same frame with sp = S + 8,
 * calls hook_dispatch_return(regs), which pops the shadow stack into
 * regs->ip and runs the return handler, then restores every register as
 * .redirect does and leaves by `lea rsp, [rsp-8]; ret`.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hook/hook_internal.h"

#define REGION_SIZE (64u << 10)
#define SLOT_SIZE 2048u	/* built in this much, trimmed after */
#define USER_TOP 0x7ffffffff000ull
#define LOW_LIMIT 0x10000000ull	/* keep well above mmap_min_addr / NULL */

/* struct hook_regs offsets the stubs rely on. */
#define R_R15 0x00
#define R_R14 0x08
#define R_R13 0x10
#define R_R12 0x18
#define R_BP 0x20
#define R_BX 0x28
#define R_R11 0x30
#define R_R10 0x38
#define R_R9 0x40
#define R_R8 0x48
#define R_AX 0x50
#define R_CX 0x58
#define R_DX 0x60
#define R_SI 0x68
#define R_DI 0x70
#define R_ORIG_AX 0x78
#define R_IP 0x80
#define R_CS 0x88
#define R_FLAGS 0x90
#define R_SP 0x98
#define R_SS 0xa0
#define XMM_BASE 176	/* 168 + 8: 16-aligned */

_Static_assert(offsetof(struct hook_regs, r15) == R_R15, "pt_regs layout");
_Static_assert(offsetof(struct hook_regs, bp) == R_BP, "pt_regs layout");
_Static_assert(offsetof(struct hook_regs, r8) == R_R8, "pt_regs layout");
_Static_assert(offsetof(struct hook_regs, ax) == R_AX, "pt_regs layout");
_Static_assert(offsetof(struct hook_regs, di) == R_DI, "pt_regs layout");
_Static_assert(offsetof(struct hook_regs, orig_ax) == R_ORIG_AX, "pt_regs");
_Static_assert(offsetof(struct hook_regs, ip) == R_IP, "pt_regs layout");
_Static_assert(offsetof(struct hook_regs, flags) == R_FLAGS, "pt_regs");
_Static_assert(offsetof(struct hook_regs, sp) == R_SP, "pt_regs layout");
_Static_assert(offsetof(struct hook_regs, ss) == R_SS, "pt_regs layout");
_Static_assert(sizeof(struct hook_regs) == 168, "pt_regs size");
_Static_assert(offsetof(struct hook, fn) == 0, "stub reads h->fn at +0");
_Static_assert(offsetof(struct hook, arg) == 8, "stub reads h->arg at +8");

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13,
       R14, R15 };

/* Every gpr but rsp, rax and rcx (restored last: they are the scratch). */
static const struct { uint8_t reg, off; } gprs[] = {
	{ RDI, R_DI }, { RSI, R_SI }, { RDX, R_DX }, { R8, R_R8 },
	{ R9, R_R9 }, { R10, R_R10 }, { R11, R_R11 }, { RBX, R_BX },
	{ RBP, R_BP }, { R12, R_R12 }, { R13, R_R13 }, { R14, R_R14 },
	{ R15, R_R15 },
};

struct region {
	uint64_t exec;
	uint8_t *rw;
	size_t used;
	struct region *next;
};

static struct region *regions;
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------- memory */

static int map_region(uint64_t want, struct region **out)
{
	struct region *r = calloc(1, sizeof(*r));
	void *x, *w;
	int fd, err;

	if (!r)
		return -ENOMEM;
	fd = memfd_create("bpfx-hook", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, REGION_SIZE)) {
		err = -errno;
		goto out_free;
	}
	x = mmap((void *)(uintptr_t)want, REGION_SIZE, PROT_READ | PROT_EXEC,
		 MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	if (x == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	if ((uint64_t)(uintptr_t)x != want) {	/* old kernel: hint only */
		munmap(x, REGION_SIZE);
		err = -EEXIST;
		goto out_close;
	}
	w = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w == MAP_FAILED) {
		err = -errno;
		munmap(x, REGION_SIZE);
		goto out_close;
	}
	close(fd);
	r->exec = want;
	r->rw = w;
	*out = r;
	return 0;
out_close:
	if (fd >= 0)
		close(fd);
out_free:
	free(r);
	return err;
}

static uint64_t dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* A new region inside [lo, hi), as close to near as the gaps allow. */
static int new_region(uint64_t lo, uint64_t hi, uint64_t near,
		      struct region **out)
{
	struct hook_vma *v;
	size_t n;
	int err, tries;

	if (lo < LOW_LIMIT)
		lo = LOW_LIMIT;
	if (hi > USER_TOP)
		hi = USER_TOP;
	lo = (lo + 0xffff) & ~0xffffull;
	for (tries = 0; tries < 8; tries++) {
		uint64_t best = 0, gs, ge, c;

		err = hook_vma_list(&v, &n);
		if (err)
			return err;
		for (size_t i = 0; i <= n; i++) {
			gs = i ? v[i - 1].end : 0;
			ge = i < n ? v[i].start : USER_TOP;
			/* leave a page of space next to every mapping */
			gs = (gs + 0x10000 + 0xffff) & ~0xffffull;
			ge = ge > 0x10000 ? ((ge - 0x10000) & ~0xffffull) : 0;
			if (gs < lo)
				gs = lo;
			if (ge > hi)
				ge = hi & ~0xffffull;
			if (ge < gs + REGION_SIZE)
				continue;
			if (near <= gs)
				c = gs;
			else if (near >= ge - REGION_SIZE)
				c = ge - REGION_SIZE;
			else
				c = near & ~0xffffull;
			if (!best || dist(c, near) < dist(best, near))
				best = c;
		}
		free(v);
		if (!best)
			return -ENOMEM;
		err = map_region(best, out);
		if (err != -EEXIST)
			return err;
	}
	return -ENOMEM;
}

int hook_mem_alloc(uint64_t lo, uint64_t hi, size_t size, struct hook_mem *m)
{
	struct region *r;
	uint64_t near = lo / 2 + hi / 2;
	int err = 0;

	size = (size + 63) & ~(size_t)63;
	pthread_mutex_lock(&mem_lock);
	for (r = regions; r; r = r->next) {
		uint64_t a = r->exec + r->used;

		if (r->used + size <= REGION_SIZE && a >= lo && a + size <= hi)
			break;
	}
	if (!r) {
		err = new_region(lo, hi, near, &r);
		if (!err) {
			r->next = regions;
			regions = r;
		}
	}
	if (!err) {
		m->exec = r->exec + r->used;
		m->rw = r->rw + r->used;
		m->size = size;
		r->used += size;
	}
	pthread_mutex_unlock(&mem_lock);
	return err;
}

/* Give back the unused tail of @m's slot if nothing was carved after it
 * meanwhile (builds are serialized, so in practice always). */
static void hook_mem_trim(struct hook_mem *m, size_t used)
{
	struct region *r;

	used = (used + 63) & ~(size_t)63;
	if (used >= m->size)
		return;
	pthread_mutex_lock(&mem_lock);
	for (r = regions; r; r = r->next) {
		if (r->exec + r->used == m->exec + m->size) {
			r->used -= m->size - used;
			m->size = used;
			break;
		}
	}
	pthread_mutex_unlock(&mem_lock);
}

/* ------------------------------------------------------------- encoding */

/* mov [rsp+off], reg (op 0x89) or mov reg, [rsp+off] (op 0x8b) */
static void mov_rsp(struct hook_buf *b, uint8_t op, int reg, int32_t off)
{
	hook_emit1(b, (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)));	/* REX.W(.R) */
	hook_emit1(b, op);
	if (off >= -128 && off <= 127) {
		hook_emit1(b, (uint8_t)(0x44 | (reg & 7) << 3)); /* [rsp+d8] */
		hook_emit1(b, 0x24);
		hook_emit1(b, (uint8_t)off);
	} else {
		hook_emit1(b, (uint8_t)(0x84 | (reg & 7) << 3)); /* [rsp+d32] */
		hook_emit1(b, 0x24);
		hook_emit4(b, (uint32_t)off);
	}
}

/* movaps [rsp+off], xmmN (op 0x29) or movaps xmmN, [rsp+off] (op 0x28) */
static void movaps_rsp(struct hook_buf *b, uint8_t op, int x, int32_t off)
{
	if (x >= 8)
		hook_emit1(b, 0x44);				/* REX.R */
	hook_emit1(b, 0x0f);
	hook_emit1(b, op);
	hook_emit1(b, (uint8_t)(0x84 | (x & 7) << 3));		/* [rsp+d32] */
	hook_emit1(b, 0x24);
	hook_emit4(b, (uint32_t)off);
}

/* mov qword [rsp+off], simm32 */
static void movq_imm(struct hook_buf *b, int32_t off, int32_t imm)
{
	hook_emit1(b, 0x48);
	hook_emit1(b, 0xc7);
	hook_emit1(b, 0x84);		/* [rsp+d32] */
	hook_emit1(b, 0x24);
	hook_emit4(b, (uint32_t)off);
	hook_emit4(b, (uint32_t)imm);
}

/* mov reg, imm64 (reg < 8) */
static void movabs(struct hook_buf *b, int reg, uint64_t v)
{
	hook_emit1(b, 0x48);
	hook_emit1(b, (uint8_t)(0xb8 + reg));
	hook_emit8(b, v);
}

/* 64 48 83 /ext 25 disp32 imm8: op qword fs:[disp32], imm8 */
static void fs_op(struct hook_buf *b, int ext, long off, uint8_t imm)
{
	hook_emit1(b, 0x64);
	hook_emit1(b, 0x48);
	hook_emit1(b, 0x83);
	hook_emit1(b, (uint8_t)(0x04 | ext << 3));
	hook_emit1(b, 0x25);
	hook_emit4(b, (uint32_t)(int32_t)off);
	hook_emit1(b, imm);
}

/* 0f 8x rel32 with a hole to fill; returns the hole's offset */
static size_t jcc_hole(struct hook_buf *b, uint8_t cc)
{
	hook_emit1(b, 0x0f);
	hook_emit1(b, (uint8_t)(0x80 | cc));
	hook_emit4(b, 0);
	return b->len - 4;
}

static void fill(struct hook_buf *b, size_t hole, size_t target)
{
	int32_t d = (int32_t)((int64_t)target - (int64_t)(hole + 4));

	if (!b->err)
		memcpy(b->p + hole, &d, 4);
}

/* Build the frame; sp_adj: regs->sp = (S - 16) + sp_adj. */
static void save(struct hook_buf *b, int nxmm, int32_t sp_adj, uint64_t ip)
{
	static const uint8_t pro[] = {
		0x9c,				/* pushfq */
		0x50,				/* push rax */
		0x48, 0x89, 0xe0,		/* mov rax, rsp */
		0x48, 0x83, 0xe4, 0xf0,		/* and rsp, -16 */
		0x48, 0x81, 0xec,		/* sub rsp, imm32 */
	};

	hook_emit(b, pro, sizeof(pro));
	hook_emit4(b, (uint32_t)(XMM_BASE + 16 * nxmm));
	mov_rsp(b, 0x89, RCX, R_CX);
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		mov_rsp(b, 0x89, gprs[i].reg, gprs[i].off);
	hook_emit(b, "\x48\x8b\x08", 3);	/* mov rcx, [rax] */
	mov_rsp(b, 0x89, RCX, R_AX);
	hook_emit(b, "\x48\x8b\x48\x08", 4);	/* mov rcx, [rax+8] */
	mov_rsp(b, 0x89, RCX, R_FLAGS);
	hook_emit(b, "\x48\x8d\x48", 3);	/* lea rcx, [rax+sp_adj] */
	hook_emit1(b, (uint8_t)sp_adj);
	mov_rsp(b, 0x89, RCX, R_SP);
	movq_imm(b, R_ORIG_AX, -1);
	movabs(b, RCX, ip);			/* mov rcx, ip */
	mov_rsp(b, 0x89, RCX, R_IP);
	movq_imm(b, R_CS, 0x33);
	movq_imm(b, R_SS, 0x2b);
	for (int x = 0; x < nxmm; x++)
		movaps_rsp(b, 0x29, x, XMM_BASE + 16 * x);
}

/*
 * Every general register and the arithmetic flags come back from the frame,
 * at function entries and returns too: the SysV ABI calls them dead there,
 * but gcc's -fipa-ra keeps values in call-clobbered registers across a call
 * to a function of the same unit that it knows leaves them alone (a test
 * caught a caller holding an argument of its next call in rsi across the
 * hooked function). xmm0-15 likewise, unless the hook is HOOK_F_NO_VECTOR:
 * then the handlers touch no vector register and the stubs save none.
 *
 * Restore, rsp = regs->sp last; redirect also stores regs->ip at
 * [regs->sp - 8] (red zone: signal delivery skips it) for the jump or ret
 * the caller emits next.
 *
 * The arithmetic flags come back without popfq (microcoded, ~20 cycles):
 *   al = OF; add al, 0x7f sets OF exactly when al was 1; then
 *   ah = flags[7:0] and sahf sets SF ZF AF PF CF, leaving OF alone.
 * DF is clear on both sides of any call (ABI); TF/AC/IF are not ours to
 * change, and a handler does not change them.
 */
static void restore(struct hook_buf *b, int nxmm, bool redirect)
{
	static const uint8_t flags[] = {
		0x89, 0xc8,			/* mov eax, ecx */
		0xc1, 0xe8, 0x0b,		/* shr eax, 11 */
		0x83, 0xe0, 0x01,		/* and eax, 1 */
		0x04, 0x7f,			/* add al, 0x7f (OF) */
		0x88, 0xcc,			/* mov ah, cl */
		0x9e,				/* sahf */
	};

	for (int x = 0; x < nxmm; x++)
		movaps_rsp(b, 0x28, x, XMM_BASE + 16 * x);
	if (redirect) {
		mov_rsp(b, 0x8b, RAX, R_SP);	/* rax = new sp */
		mov_rsp(b, 0x8b, RCX, R_IP);
		hook_emit(b, "\x48\x89\x48\xf8", 4); /* mov [rax-8], rcx */
	}
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		mov_rsp(b, 0x8b, gprs[i].reg, gprs[i].off);
	mov_rsp(b, 0x8b, RCX, R_FLAGS);
	hook_emit(b, flags, sizeof(flags));
	mov_rsp(b, 0x8b, RCX, R_CX);		/* mov keeps the flags */
	mov_rsp(b, 0x8b, RAX, R_AX);
	mov_rsp(b, 0x8b, RSP, R_SP);		/* mov rsp, [rsp+sp] */
}

/* Leave a redirect by an indirect jmp, not ret: an entry handler's new ip
 * was not pushed by a call, and the BTB learns the target. */
static void jmp_ip(struct hook_buf *b)
{
	hook_emit(b, "\xff\x64\x24\xf8", 4);	/* jmp [rsp-8] */
}

/* mov rax, fn; call rax */
static void call_abs(struct hook_buf *b, void *fn)
{
	movabs(b, RAX, (uint64_t)(uintptr_t)fn);
	hook_emit(b, "\xff\xd0", 2);		/* call rax */
}

/* The first hit on a thread registers it (libc code: mutex, syscalls).
 * A stub without an xmm area keeps xmm0-15 around that call itself. */
static void call_register(struct hook_buf *b, int nxmm)
{
	if (nxmm) {
		call_abs(b, (void *)hook_thread_register);
		return;
	}
	hook_emit(b, "\x48\x81\xec", 3);	/* sub rsp, 256 (16-aligned) */
	hook_emit4(b, 256);
	for (int x = 0; x < 16; x++)
		movaps_rsp(b, 0x29, x, 16 * x);
	call_abs(b, (void *)hook_thread_register);
	for (int x = 0; x < 16; x++)
		movaps_rsp(b, 0x28, x, 16 * x);
	hook_emit(b, "\x48\x81\xc4", 3);	/* add rsp, 256 */
	hook_emit4(b, 256);
}

int hook_tramp_build(struct hook *h, char *why, size_t whylen)
{
	const struct hook_plan *p = &h->plan;
	struct hook_buf b = { 0 };
	uint64_t lo = 0, hi = UINT64_MAX, f = p->site, reach = (1ull << 31) -
		(16u << 20);
	int nxmm = h->novec ? 0 : 16, err;
	size_t reg, skip, other, through, go;
	uint64_t ret = hook_ret_stub(h->novec);

	if (!ret)
		return hook_why(why, whylen, -ENOMEM,
				"cannot build the return stub");

	/* Window where rel32 reaches the function and every RIP-relative
	 * operand of the displaced instructions. */
	if (f > reach)
		lo = f - reach;
	hi = f + reach;
	if (p->rip_lo <= p->rip_hi) {
		if (p->rip_hi > reach && p->rip_hi - reach > lo)
			lo = p->rip_hi - reach;
		if (p->rip_lo + reach < hi)
			hi = p->rip_lo + reach;
	}
	err = hook_mem_alloc(lo, hi, SLOT_SIZE, &h->mem);
	if (err)
		return hook_why(why, whylen, err,
			"no free address space for a trampoline within +-2 GiB");
	b.p = h->mem.rw;
	b.base = h->mem.exec;
	b.cap = h->mem.size;

	h->entry = hook_pc(&b);
	save(&b, nxmm, 16, p->func);
	fs_op(&b, 7, hook_tls_reg_off, 0);	/* cmp qword fs:[reg], 0 */
	reg = jcc_hole(&b, 0x4);		/* je .reg */
	go = b.len;
	hook_emit1(&b, 0x64);			/* test byte fs:[seq], 1 */
	hook_emit(&b, "\xf6\x04\x25", 3);
	hook_emit4(&b, (uint32_t)(int32_t)hook_tls_seq_off);
	hook_emit1(&b, 1);
	skip = jcc_hole(&b, 0x5);		/* jnz .skip */
	fs_op(&b, 0, hook_tls_seq_off, 1);	/* add qword fs:[seq], 1 */
	movabs(&b, RAX, (uint64_t)(uintptr_t)h); /* mov rax, h */
	hook_emit(&b, "\x4c\x8b\x18", 3);	/* mov r11, [rax] */
	hook_emit(&b, "\x48\x8b\x78\x08", 4);	/* mov rdi, [rax+8] */
	hook_emit(&b, "\x48\x89\xe6", 3);	/* mov rsi, rsp */
	hook_emit(&b, "\x41\xff\xd3", 3);	/* call r11 */
	fs_op(&b, 0, hook_tls_seq_off, 1);	/* add qword fs:[seq], 1 */
	hook_emit(&b, "\x85\xc0", 2);		/* test eax, eax */
	other = jcc_hole(&b, 0x5);		/* jnz .other */
	fill(&b, skip, b.len);
	restore(&b, nxmm, false);		/* .skip */
	h->reloc = hook_pc(&b);
	{
		struct hook_buf rb = b;

		rb.p = b.p + b.len;
		rb.base = hook_pc(&b);
		rb.cap = b.cap - b.len;
		rb.len = 0;
		err = hook_relocate(p, &rb, h->roff, why, whylen);
		if (err)
			return err;
		b.len += rb.len;
	}
	fill(&b, other, b.len);			/* .other */
	hook_emit(&b, "\x83\xf8", 2);		/* cmp eax, HOOK_CALL_THROUGH */
	hook_emit1(&b, HOOK_CALL_THROUGH);
	through = jcc_hole(&b, 0x4);		/* je .through */
	restore(&b, nxmm, true);		/* .redirect */
	jmp_ip(&b);
	fill(&b, through, b.len);
	restore(&b, nxmm, false);		/* .through */
	hook_emit(&b, "\x48\x8d\x64\x24\x08", 5); /* lea rsp, [rsp+8] */
	hook_emit1(&b, 0xe8);			/* call reloc */
	hook_emit4(&b, (uint32_t)(int32_t)((int64_t)h->reloc -
					   (int64_t)(hook_pc(&b) + 4)));
	hook_emit_jmp(&b, ret);			/* the landing */
	fill(&b, reg, b.len);
	call_register(&b, nxmm);		/* .reg */
	hook_emit1(&b, 0xe9);			/* jmp .go */
	hook_emit4(&b, (uint32_t)(int32_t)((int64_t)go - (int64_t)(b.len + 4)));
	if (b.err)
		return hook_why(why, whylen, b.err, "trampoline too large");
	hook_mem_trim(&h->mem, b.len);

	/* jmp rel32 from the site to the entry stub */
	h->jmp[0] = 0xe9;
	{
		int32_t d = (int32_t)(h->entry - (p->site + HOOK_JMP_LEN));

		memcpy(h->jmp + 1, &d, 4);
	}
	return 0;
}

static uint64_t ret_stubs[2];	/* [novec] */
static pthread_once_t ret_once = PTHREAD_ONCE_INIT;

static uint64_t build_ret_stub(int nxmm)
{
	struct hook_mem m;
	struct hook_buf b = { 0 };
	size_t reg, nested, out, go;

	/* anywhere: landings reach it by rel32 or by `jmp [rip]` */
	if (hook_mem_alloc(0, USER_TOP, SLOT_SIZE, &m))
		return 0;
	b.p = m.rw;
	b.base = m.exec;
	b.cap = m.size;
	hook_emit1(&b, 0x50);			/* push rax (placeholder) */
	save(&b, nxmm, 24, 0);
	fs_op(&b, 7, hook_tls_reg_off, 0);	/* cmp qword fs:[reg], 0 */
	reg = jcc_hole(&b, 0x4);		/* je .reg */
	go = b.len;
	hook_emit1(&b, 0x64);			/* test byte fs:[seq], 1 */
	hook_emit(&b, "\xf6\x04\x25", 3);
	hook_emit4(&b, (uint32_t)(int32_t)hook_tls_seq_off);
	hook_emit1(&b, 1);
	nested = jcc_hole(&b, 0x5);		/* jnz .nested */
	fs_op(&b, 0, hook_tls_seq_off, 1);	/* add qword fs:[seq], 1 */
	hook_emit(&b, "\x48\x89\xe7", 3);	/* mov rdi, rsp */
	call_abs(&b, (void *)hook_dispatch_return);
	fs_op(&b, 0, hook_tls_seq_off, 1);	/* add qword fs:[seq], 1 */
	hook_emit1(&b, 0xe9);			/* jmp .out */
	out = b.len;
	hook_emit4(&b, 0);
	fill(&b, nested, b.len);		/* .nested */
	hook_emit(&b, "\x48\x89\xe7", 3);	/* mov rdi, rsp */
	call_abs(&b, (void *)hook_dispatch_return);
	fill(&b, out, b.len);			/* .out */
	restore(&b, nxmm, true);
	/* back to the caller by `ret`, which the return-stack predictor
	 * expects: the caller's call pushed it, the entry stub's call and
	 * the function's ret (to the landing) matched each other */
	hook_emit(&b, "\x48\x8d\x64\x24\xf8", 5); /* lea rsp, [rsp-8] */
	hook_emit1(&b, 0xc3);			/* ret */
	fill(&b, reg, b.len);			/* .reg */
	call_register(&b, nxmm);
	hook_emit1(&b, 0xe9);			/* jmp .go */
	hook_emit4(&b, (uint32_t)(int32_t)((int64_t)go - (int64_t)(b.len + 4)));
	if (b.err)
		return 0;
	hook_mem_trim(&m, b.len);
	return m.exec;
}

static void build_ret_stubs(void)
{
	uint64_t vec = build_ret_stub(16), novec = build_ret_stub(0);

	__atomic_store_n(&ret_stubs[0], vec, __ATOMIC_RELEASE);
	__atomic_store_n(&ret_stubs[1], novec, __ATOMIC_RELEASE);
}

uint64_t hook_ret_stub(bool novec)
{
	pthread_once(&ret_once, build_ret_stubs);
	return __atomic_load_n(&ret_stubs[novec], __ATOMIC_ACQUIRE);
}
