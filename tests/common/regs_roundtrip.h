/* SPDX-License-Identifier: MIT */
/*
 * regs_roundtrip.h - shared by tests that check a probe gives every
 * register back (tests/unit/test_hook.c, tests/progs/test_progs.c).
 *
 * regs_roundtrip(fn, out): every general register but rax/rsp and xmm0-15
 * get known values, fn() is called, and what they hold after it is stored
 * in out[0..13] (rbx rcx rdx rsi rdi rbp r8-r15) and out[15..46] (xmm0-15,
 * two qwords each). That is what gcc's -fipa-ra does to a caller: it keeps
 * values in call-clobbered registers across a call to a function of the
 * same unit it knows leaves them alone, so a hook must hand back every
 * register, not only the ABI's callee-saved ones. tgt_leaf: a function
 * that touches nothing (a 5-byte nop, ret), to hook.
 *
 * Include once per test program (it defines the functions in assembly).
 */
#ifndef BPFX_TESTS_REGS_ROUNDTRIP_H
#define BPFX_TESTS_REGS_ROUNDTRIP_H

#include <stdint.h>

void regs_roundtrip(void (*fn)(void), uint64_t *out);
void tgt_leaf(void);

#define RT_GPR(i) (0x1111111111111111ull * (uint64_t)((i) + 1))
#define RT_XMM(i) (0x0101010101010101ull * (uint64_t)(0x20 + (i)))

__asm__(
	".text\n"
	".p2align 4\n"
	".globl tgt_leaf\n"
	".type tgt_leaf, @function\n"
	"tgt_leaf:\n"			/* touches nothing */
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	"	ret\n"
	".p2align 4\n"
	"regs_roundtrip:\n"
	"	push %rbx\n push %rbp\n push %r12\n push %r13\n"
	"	push %r14\n push %r15\n push %rsi\n"	/* rsp % 16 == 0 */
	"	mov %rdi, %rax\n"
	"	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movabs $(0x0101010101010101 * (0x20 + \\i)), %r11\n"
	"	movq %r11, %xmm\\i\n"
	"	pinsrq $1, %r11, %xmm\\i\n"
	"	.endr\n"
	"	movabs $0x1111111111111111, %rbx\n"
	"	movabs $0x2222222222222222, %rcx\n"
	"	movabs $0x3333333333333333, %rdx\n"
	"	movabs $0x4444444444444444, %rsi\n"
	"	movabs $0x5555555555555555, %rdi\n"
	"	movabs $0x6666666666666666, %rbp\n"
	"	movabs $0x7777777777777777, %r8\n"
	"	movabs $0x8888888888888888, %r9\n"
	"	movabs $0x9999999999999999, %r10\n"
	"	movabs $0xaaaaaaaaaaaaaaaa, %r11\n"
	"	movabs $0xbbbbbbbbbbbbbbbb, %r12\n"
	"	movabs $0xcccccccccccccccc, %r13\n"
	"	movabs $0xdddddddddddddddd, %r14\n"
	"	movabs $0xeeeeeeeeeeeeeeee, %r15\n"
	"	call *%rax\n"
	"	mov (%rsp), %rax\n"		/* out */
	"	mov %rbx, 0(%rax)\n mov %rcx, 8(%rax)\n mov %rdx, 16(%rax)\n"
	"	mov %rsi, 24(%rax)\n mov %rdi, 32(%rax)\n mov %rbp, 40(%rax)\n"
	"	mov %r8, 48(%rax)\n mov %r9, 56(%rax)\n mov %r10, 64(%rax)\n"
	"	mov %r11, 72(%rax)\n mov %r12, 80(%rax)\n mov %r13, 88(%rax)\n"
	"	mov %r14, 96(%rax)\n mov %r15, 104(%rax)\n"
	"	movq $0, 112(%rax)\n"
	"	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movdqu %xmm\\i, 120+16*\\i(%rax)\n"
	"	.endr\n"
	"	pop %rsi\n pop %r15\n pop %r14\n pop %r13\n pop %r12\n"
	"	pop %rbp\n pop %rbx\n"
	"	ret\n");

#endif
