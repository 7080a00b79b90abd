/* SPDX-License-Identifier: MIT */
/*
 * decode.c - prologue analysis with Zydis: can this function be hooked?
 *
 * hook_can_patch() decodes instructions from the function's entry (past an
 * endbr64, which stays in place so indirect-branch tracking keeps a landing
 * pad) until at least 5 bytes are covered: those are displaced to the
 * trampoline, and the first 5 are overwritten with `jmp rel32`. It refuses,
 * with a reason, when:
 *   - the entry already holds int3 (a debugger or a kernel uprobe) or our
 *     own jmp (already hooked);
 *   - the function ends (ret, jmp, ud2, int3...) before 5 bytes;
 *   - a displaced instruction cannot run elsewhere: loop/jrcxz/xbegin,
 *     an indirect call whose return would land inside the patched bytes,
 *     any other instruction with a relative operand we do not rewrite;
 *   - some branch in the function targets the inside of the displaced
 *     bytes (found by a linear scan from the entry to the first ret/jmp
 *     past every forward branch seen, at most 4 KiB);
 *   - the RIP-relative operands are too far apart for one trampoline
 *     address to reach them all with disp32.
 * Nothing is written; reading stays inside the function's mapping.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>

#include <Zydis/Zydis.h>

#include "hook/hook_internal.h"

#define SCAN_MAX 4096
#define GiB2 ((uint64_t)1 << 31)

int hook_why(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static ZydisDecoder *decoder(void)
{
	static ZydisDecoder dec;
	static int ready;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64,
				 ZYDIS_STACK_WIDTH_64);
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return &dec;
}

static bool decode(const uint8_t *p, size_t max, ZydisDecodedInstruction *in,
		   ZydisDecodedOperand *ops)
{
	return ZYAN_SUCCESS(ZydisDecoderDecodeFull(decoder(), p, max, in, ops));
}

/* Lengths only (the syscall sweep of every mapping): Zydis's minimal
 * mode without operands, several times faster than a full decode. */
unsigned hook_insn_len(const uint8_t *p, size_t max)
{
	static ZydisDecoder dec;
	static int ready;
	ZydisDecodedInstruction in;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		ZydisDecoderEnableMode(&dec, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE);
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, ZYAN_NULL, p, max, &in)) ?
		       in.length : 0;
}

/* Absolute target of a relative branch, or of a RIP-relative operand;
 * false when the instruction has neither. */
static bool rel_target(const ZydisDecodedInstruction *in,
		       const ZydisDecodedOperand *ops, uint64_t pc,
		       uint64_t *target, bool *is_mem)
{
	for (unsigned i = 0; i < in->operand_count; i++) {
		const ZydisDecodedOperand *o = &ops[i];
		bool mem = o->type == ZYDIS_OPERAND_TYPE_MEMORY &&
			   o->mem.base == ZYDIS_REGISTER_RIP;
		bool imm = o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
			   o->imm.is_relative;

		if (!mem && !imm)
			continue;
		if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(in, o, pc, target)))
			return false;
		*is_mem = mem;
		return true;
	}
	return false;
}

static bool ends_flow(const ZydisDecodedInstruction *in)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_RET:
	case ZYDIS_MNEMONIC_JMP:
	case ZYDIS_MNEMONIC_UD2:
	case ZYDIS_MNEMONIC_INT3:
	case ZYDIS_MNEMONIC_HLT:
		return true;
	default:
		return false;
	}
}

unsigned hook_insn_flow(const uint8_t *p, size_t max, uint64_t pc,
			struct hook_insn_flow *f)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint64_t t = 0;
	bool mem = false, rel;

	memset(f, 0, sizeof(*f));
	if (!decode(p, max, &in, ops))
		return 0;
	rel = rel_target(&in, ops, pc, &t, &mem);
	if (rel)
		f->target = t;
	f->ends = ends_flow(&in);
	f->pad = in.mnemonic == ZYDIS_MNEMONIC_NOP || in.mnemonic == ZYDIS_MNEMONIC_INT3;
	switch (in.meta.category) {
	case ZYDIS_CATEGORY_COND_BR:
	case ZYDIS_CATEGORY_UNCOND_BR:
	case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_RET:
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_SYSTEM:
	case ZYDIS_CATEGORY_INTERRUPT:
		break;
	default:
		f->pic = !rel && !(in.attributes & ZYDIS_ATTRIB_IS_RELATIVE);
	}
	return in.length;
}

/* Scan the function from its entry for a branch (or a RIP-relative
 * address computation) into (site, site + len). */
static int scan_targets(const uint8_t *func, size_t avail, uint64_t site,
			unsigned len, char *why, size_t whylen)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint64_t base = (uint64_t)(uintptr_t)func, furthest = 0;
	size_t off = 0, max = avail < SCAN_MAX ? avail : SCAN_MAX;

	while (off < max) {
		uint64_t pc = base + off, t;
		bool mem;

		if (!decode(func + off, max - off, &in, ops))
			break;
		if (rel_target(&in, ops, pc, &t, &mem)) {
			if (t > site && t < site + len)
				return hook_why(why, whylen, -EINVAL,
					"instruction at +%zu %s +%llu, inside the "
					"%u bytes the hook would displace", off,
					mem ? "takes the address" : "branches to",
					(unsigned long long)(t - base), len);
			if (!mem && t > pc && t < base + max && t > furthest)
				furthest = t;
		}
		off += in.length;
		if (ends_flow(&in) && base + off >= furthest)
			break;
	}
	return 0;
}

static int classify(const ZydisDecodedInstruction *in,
		    const ZydisDecodedOperand *ops, struct hook_plan *p,
		    unsigned i, uint64_t pc, char *why, size_t whylen)
{
	uint64_t t = 0, end = pc + in->length;
	bool mem = false, rel = rel_target(in, ops, pc, &t, &mem);
	unsigned off = p->off[i];

	p->target[i] = t;
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_LOOP:
	case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE:
	case ZYDIS_MNEMONIC_JRCXZ:
	case ZYDIS_MNEMONIC_JECXZ:
	case ZYDIS_MNEMONIC_XBEGIN:
		return hook_why(why, whylen, -ENOTSUP,
			"cannot relocate '%s' at +%u (rel8-only branch)",
			ZydisMnemonicGetString(in->mnemonic), off);
	case ZYDIS_MNEMONIC_INT3:
		return hook_why(why, whylen, -EBUSY,
			"int3 at +%u: a debugger or kernel uprobe already "
			"patched this function", off);
	default:
		break;
	}
	if (in->meta.category == ZYDIS_CATEGORY_COND_BR && rel && !mem) {
		p->kind[i] = HOOK_RELOC_JCC;
		p->aux[i] = in->opcode & 0xf;
		return 0;
	}
	if (in->mnemonic == ZYDIS_MNEMONIC_JMP && rel && !mem) {
		p->kind[i] = HOOK_RELOC_JMP;
		return 0;
	}
	if (in->mnemonic == ZYDIS_MNEMONIC_CALL) {
		/* The return address must land past the patched bytes, in
		 * unmodified original code. */
		if (end < p->site + HOOK_JMP_LEN)
			return hook_why(why, whylen, -ENOTSUP,
				"call at +%u returns into the bytes the hook "
				"overwrites", off);
		if (rel && !mem) {
			p->kind[i] = HOOK_RELOC_CALL;
			return 0;
		}
		if (rel && mem && in->raw.modrm.reg == 2 &&
		    in->raw.prefix_count == 0 && in->length == 6) {
			p->kind[i] = HOOK_RELOC_CALL_RIPMEM;
			p->aux[i] = in->raw.disp.offset;
			goto reach;
		}
		if (rel || in->raw.modrm.rm == 4)
			return hook_why(why, whylen, -ENOTSUP,
				"cannot relocate the indirect call at +%u", off);
		/* call reg / call [reg+d]: no stack-relative operand, so
		 * push-then-jmp keeps it exact. Rare; refuse for now. */
		return hook_why(why, whylen, -ENOTSUP,
			"cannot relocate the indirect call at +%u", off);
	}
	if (rel && mem) {
		if (in->raw.disp.size != 32)
			return hook_why(why, whylen, -ENOTSUP,
				"RIP-relative operand at +%u without disp32", off);
		p->kind[i] = HOOK_RELOC_RIPREL;
		p->aux[i] = in->raw.disp.offset;
reach:
		if (t < p->rip_lo)
			p->rip_lo = t;
		if (t > p->rip_hi)
			p->rip_hi = t;
		return 0;
	}
	if (rel || (in->attributes & ZYDIS_ATTRIB_IS_RELATIVE))
		return hook_why(why, whylen, -ENOTSUP,
			"cannot relocate '%s' at +%u (relative operand)",
			ZydisMnemonicGetString(in->mnemonic), off);
	if (ends_flow(in) && end < p->site + HOOK_JMP_LEN)
		return hook_why(why, whylen, -EINVAL,
			"function ends ('%s' at +%u) before the %d bytes a "
			"jmp needs", ZydisMnemonicGetString(in->mnemonic), off,
			HOOK_JMP_LEN);
	if (ends_flow(in) && in->mnemonic != ZYDIS_MNEMONIC_RET)
		return hook_why(why, whylen, -ENOTSUP,
			"cannot relocate '%s' at +%u",
			ZydisMnemonicGetString(in->mnemonic), off);
	p->kind[i] = HOOK_RELOC_COPY;
	return 0;
}

int hook_can_patch(void *func, struct hook_plan *p, char *why, size_t whylen)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint64_t f = (uint64_t)(uintptr_t)func;
	const uint8_t *code = func;
	struct hook_vma vma;
	size_t avail;
	unsigned len = 0;
	int err;

	if (!func || !p)
		return hook_why(why, whylen, -EINVAL, "no function");
	memset(p, 0, sizeof(*p));
	p->rip_lo = UINT64_MAX;
	p->func = f;
	p->site = f;
	err = hook_vma_find(f, &vma);
	if (err)
		return hook_why(why, whylen, -EFAULT,
			"%p is not in any mapping", func);
	if (!(vma.prot & PROT_EXEC) || !(vma.prot & PROT_READ))
		return hook_why(why, whylen, -EFAULT,
			"%p is not in readable executable memory", func);
	avail = vma.end - f;

	if (code[0] == 0xcc)
		return hook_why(why, whylen, -EBUSY,
			"int3 at the entry: a debugger or kernel uprobe "
			"already patched this function");
	if (!decode(code, avail, &in, ops))
		return hook_why(why, whylen, -EINVAL,
			"cannot decode the first instruction");
	if (in.mnemonic == ZYDIS_MNEMONIC_ENDBR64)
		p->site = f + in.length;

	code = (const uint8_t *)(uintptr_t)p->site;
	avail = vma.end - p->site;
	if (code[0] == 0xcc)
		return hook_why(why, whylen, -EBUSY,
			"int3 after endbr64: a debugger or kernel uprobe "
			"already patched this function");
	while (len < HOOK_JMP_LEN) {
		if (p->ninsn == HOOK_MAX_INSNS)
			return hook_why(why, whylen, -ENOTSUP,
				"too many instructions to displace");
		if (!decode(code + len, avail - len, &in, ops))
			return hook_why(why, whylen, -EINVAL,
				"cannot decode the instruction at +%u", len);
		p->off[p->ninsn] = (uint8_t)len;
		p->ilen[p->ninsn] = in.length;
		err = classify(&in, ops, p, p->ninsn, p->site + len, why,
			       whylen);
		if (err)
			return err;
		p->ninsn++;
		len += in.length;
	}
	p->len = (uint8_t)len;
	if (avail < sizeof(p->orig))
		return hook_why(why, whylen, -EINVAL,
			"function too close to the end of its mapping");
	memcpy(p->orig, code, sizeof(p->orig));

	if (p->rip_lo <= p->rip_hi && p->rip_hi - p->rip_lo > GiB2 - (64 << 20))
		return hook_why(why, whylen, -ENOTSUP,
			"RIP-relative operands too far apart for one trampoline");
	/* The trampoline must also reach the function with rel32. */
	if (p->rip_lo <= p->rip_hi &&
	    ((p->rip_hi > f && p->rip_hi - f > GiB2 - (128 << 20)) ||
	     (p->rip_lo < f && f - p->rip_lo > GiB2 - (128 << 20))))
		return hook_why(why, whylen, -ENOTSUP,
			"a RIP-relative operand targets memory more than 2 GiB "
			"from the function; no trampoline can reach both");

	return scan_targets(func, vma.end - f, p->site, len, why, whylen);
}
