/* SPDX-License-Identifier: MIT */
/*
 * reloc.c - rewrite displaced prologue instructions to run in a trampoline.
 *
 * Each instruction the plan classified is emitted at the trampoline's
 * address (b->base + b->len) so that it has the same effect as at its
 * original address:
 *
 *   COPY          bytes as they are (no position dependence)
 *   RIPREL        bytes with disp32 re-aimed at the same absolute target
 *                 (the trampoline was placed so that it reaches)
 *   JCC           0f 8x rel32                      ; jcc target
 *                 or, out of reach:
 *                 7x^1 0e                          ; j!cc skip
 *                 ff 25 00000000 <target>          ; jmp [rip+0]
 *   JMP           e9 rel32 or ff 25 00000000 <target>
 *   CALL          48 8d 64 24 f8                   ; lea rsp, [rsp-8]
 *                 c7 04 24 <lo32>                  ; mov dword [rsp], lo
 *                 c7 44 24 04 <hi32>               ; mov dword [rsp+4], hi
 *                 jmp target                       ; (as JMP)
 *                 The pushed return address is the original one (past the
 *                 call, in unpatched code), so the callee returns into the
 *                 function itself and backtraces never show the trampoline.
 *                 lea/mov leave the flags alone, as a real call does.
 *   CALL_RIPMEM   the same push, then ff 25 <disp32> ; jmp [rip+d']
 *
 * After the last instruction: jmp site + len (back into the function).
 */
#include "hook/hook_internal.h"

void hook_emit_jmp(struct hook_buf *b, uint64_t target)
{
	int64_t d = (int64_t)(target - (hook_pc(b) + 5));

	if (hook_rel32_ok(d)) {
		hook_emit1(b, 0xe9);		/* jmp rel32 */
		hook_emit4(b, (uint32_t)d);
		return;
	}
	hook_emit1(b, 0xff);			/* jmp [rip+0] */
	hook_emit1(b, 0x25);
	hook_emit4(b, 0);
	hook_emit8(b, target);			/* .quad target */
}

static void emit_push_imm64(struct hook_buf *b, uint64_t v)
{
	static const uint8_t lea[] = { 0x48, 0x8d, 0x64, 0x24, 0xf8 };

	hook_emit(b, lea, sizeof(lea));		/* lea rsp, [rsp-8] */
	hook_emit1(b, 0xc7);			/* mov dword [rsp], lo32 */
	hook_emit1(b, 0x04);
	hook_emit1(b, 0x24);
	hook_emit4(b, (uint32_t)v);
	hook_emit1(b, 0xc7);			/* mov dword [rsp+4], hi32 */
	hook_emit1(b, 0x44);
	hook_emit1(b, 0x24);
	hook_emit1(b, 0x04);
	hook_emit4(b, (uint32_t)(v >> 32));
}

static int emit_riprel(struct hook_buf *b, const uint8_t *src, unsigned len,
		       unsigned dispoff, uint64_t target, char *why,
		       size_t whylen)
{
	int64_t d = (int64_t)(target - (hook_pc(b) + len));
	int32_t d32 = (int32_t)d;

	if (!hook_rel32_ok(d))
		return hook_why(why, whylen, -ENOTSUP,
			"RIP-relative target %#llx is out of +-2 GiB of the "
			"trampoline at %#llx", (unsigned long long)target,
			(unsigned long long)hook_pc(b));
	if (b->err || b->len + len > b->cap)
		return b->err ? b->err : -ENOSPC;
	memcpy(b->p + b->len, src, len);
	memcpy(b->p + b->len + dispoff, &d32, 4);
	b->len += len;
	return 0;
}

int hook_relocate(const struct hook_plan *p, struct hook_buf *b,
		  uint16_t roff[HOOK_MAX_INSNS], char *why, size_t whylen)
{
	const uint8_t *src;
	uint64_t orig_pc;
	int64_t d;
	int err = 0;

	for (unsigned i = 0; i < p->ninsn && !err; i++) {
		src = p->orig + p->off[i];
		orig_pc = p->site + p->off[i];
		roff[i] = (uint16_t)b->len;
		switch (p->kind[i]) {
		case HOOK_RELOC_COPY:
			hook_emit(b, src, p->ilen[i]);
			break;
		case HOOK_RELOC_RIPREL:
			err = emit_riprel(b, src, p->ilen[i], p->aux[i],
					  p->target[i], why, whylen);
			break;
		case HOOK_RELOC_JCC:
			d = (int64_t)(p->target[i] - (hook_pc(b) + 6));
			if (hook_rel32_ok(d)) {
				hook_emit1(b, 0x0f);	/* jcc rel32 */
				hook_emit1(b, (uint8_t)(0x80 | p->aux[i]));
				hook_emit4(b, (uint32_t)d);
				break;
			}
			/* j!cc +14 over an absolute jmp */
			hook_emit1(b, (uint8_t)(0x70 | (p->aux[i] ^ 1)));
			hook_emit1(b, 14);
			hook_emit1(b, 0xff);		/* jmp [rip+0] */
			hook_emit1(b, 0x25);
			hook_emit4(b, 0);
			hook_emit8(b, p->target[i]);
			break;
		case HOOK_RELOC_JMP:
			hook_emit_jmp(b, p->target[i]);
			break;
		case HOOK_RELOC_CALL:
			emit_push_imm64(b, orig_pc + p->ilen[i]);
			hook_emit_jmp(b, p->target[i]);
			break;
		case HOOK_RELOC_CALL_RIPMEM: {
			/* ff 15 disp32 (call [rip+d]) -> ff 25 (jmp [rip+d']) */
			uint8_t jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 };

			emit_push_imm64(b, orig_pc + p->ilen[i]);
			err = emit_riprel(b, jmp, 6, 2, p->target[i], why,
					  whylen);
			break;
		}
		default:
			err = hook_why(why, whylen, -EINVAL,
				       "bad relocation kind %u", p->kind[i]);
		}
	}
	if (!err)
		hook_emit_jmp(b, p->site + p->len);	/* jmp back */
	if (!err && b->err)
		err = hook_why(why, whylen, b->err,
			       "trampoline slot too small");
	return err;
}
