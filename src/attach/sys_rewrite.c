/* SPDX-License-Identifier: MIT */
/*
 * sys_rewrite.c - bring every `syscall` of the process to one stub.
 *
 * zpoline. Each `syscall` (0f 05) found in the process's code is rewritten
 * into `call *%rax` (ff d0): same length, so no instruction moves and no
 * branch target changes. rax holds the syscall number, so the call lands
 * at address nr, on page 0, where every byte starts a way to the stub:
 *
 *   0x000..0x1ff  eb 4x eb 64 ...  a jump chain (emit_chain): entry 0 takes
 *                                  6 instructions, getppid (110) 5, where
 *                                  a sled of 5-byte cmps took 103 and 80
 *   0x200..0x253  3d 3d 3d ...     cmp eax, 0x3d3d3d3d (5 bytes from any
 *                                  offset): where the chain lands
 *   0x254..0x257  90 90 90 90      nop x4: the last cmp ends inside these
 *   0x258         49 bb <imm64>    movabs r11, sys_stub
 *   0x262         41 ff e3         jmp r11
 *   0x265..       the same cmp sled to an exit at the page's end, for
 *                 numbers above (invalid ones: -ENOSYS); entries inside
 *                 the first exit's 13 bytes run garbage (numbers 600-612)
 *
 * r11 and rcx are free: `syscall` destroys them. The page needs
 * CAP_SYS_RAWIO below vm.mmap_min_addr (root has it); it is mapped once,
 * execute-only where the CPU has protection keys (readable otherwise), and
 * stays mapped (a thread may sit in the stub), but after uninstall no site
 * calls it any more. Without it, per-site trampolines (below) take its
 * place.
 *
 * The stub (assembly below, in its own page-aligned section so SUD can let
 * exactly it through). Fast path, no program on this syscall:
 *
 *   cmp rax, 512; jae plain          ; x32 / unknown numbers
 *   lea rcx, [rip+sys_active]
 *   cmp byte [rcx+rax], 0; jne notfast
 * plain: syscall; ret               ; or pop rcx; jmp rcx (pick_return())
 *
 * Slow path: save rax, the six argument registers and xmm0-15 into a
 * struct sys_frame below the caller's red zone, call sys_enter_hook,
 * syscall, sys_exit_hook, restore, return. The frame's first 64 bytes are
 * the sys_enter context itself. Where sys_active[nr] lacks SYS_A_VEC
 * (every program of the syscall is JIT code calling only vector-free
 * helpers, and no code is watched), the same without xmm0-15: the hook
 * path touches none (syscall.c is built -mgeneral-regs-only); frame.vec
 * tells the dispatch which path ran. That path calls the hooks only where
 * programs are (SYS_A_ENTER, SYS_A_EXIT), sys_enter_one for a single
 * enter program (SYS_A_ONE), and calls a single one that calls no helper
 * itself (SYS_A_PLAIN). Only the red zone's top 8 bytes are lost, to
 * the call's return address (as in zpoline): code that keeps data there
 * across an inline `syscall` is not supported.
 *
 * Special numbers (SYS_A_SPECIAL): rt_sigreturn must run with the
 * caller's exact rsp (the return address is popped first); clone/clone3
 * return in the child on a new stack, which gets the return address pushed
 * by sys_clone_prepare; vfork's child shares the parent's stack and would
 * overwrite the return address, so it is kept in TLS (sys_self.vfork_ret)
 * across the syscall, as glibc keeps it in a register.
 *
 * Sites are found by a linear sweep (Zydis) of every readable, executable,
 * file-backed private mapping: the main binary, ld.so, libc, every
 * library but bpfx's own; the offsets found are kept per file version
 * (sys_cache.c) for the next process. Anonymous code (JITs) is left alone; Syscall User Dispatch
 * (sys_sud.c) catches what was not rewritten and rewrites sites of
 * libraries mapped later on their first syscall (sys_rewrite_lazy). The
 * 2-byte store is atomic for a site that does not cross a cache line;
 * the few that do (1 in 64) go int3-first (see straddling()). Uninstall
 * writes 0f 05 back.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "attach/sys_internal.h"
#include "hook/hook_internal.h"

_Static_assert(offsetof(struct sys_frame, hdr) == 0, "stub: F_HDR");
_Static_assert(offsetof(struct sys_frame, nr) == 8, "stub: F_NR");
_Static_assert(offsetof(struct sys_frame, args) == 16, "stub: F_ARGS");
_Static_assert(offsetof(struct sys_frame, ret) == 64, "stub: F_RET");
_Static_assert(offsetof(struct sys_frame, ip) == 72, "stub: F_IP");
_Static_assert(offsetof(struct sys_frame, sp) == 80, "stub: F_SP");
_Static_assert(offsetof(struct sys_frame, vec) == 88, "stub: F_VEC");
_Static_assert(offsetof(struct sys_frame, xmm) == 96, "stub: F_XMM");
_Static_assert(sizeof(struct sys_frame) == 352, "stub: frame size");
_Static_assert(offsetof(struct sys_thread, vfork_ret) == 8, "stub: vfork_ret");
_Static_assert(SYS_NR_MAX == 512, "stub: cmp rax, 512");
_Static_assert(SYS_A_SPECIAL == 2 && SYS_A_VEC == 4 && SYS_A_EXIT == 8 &&
	       SYS_A_ENTER == 16 && SYS_A_ONE == 32 && SYS_A_PLAIN == 64,
	       "stub: sys_active bits");
_Static_assert(offsetof(struct sys_thread, busy) == 1, "stub: busy");
_Static_assert(offsetof(struct sys_thread, tid) == 4, "stub: tid");

/* clang-format off */
__asm__(
	"	.pushsection .text.bpfx_sys, \"ax\", @progbits\n"
	"	.balign 4096\n"
	"	.globl sys_stub_start\n"
	"	.hidden sys_stub_start\n"
	"sys_stub_start:\n"

	/* SYS_SAVE_GPR: frame below the red zone (nr, args, sp); r11 = the
	 * caller's rsp; general registers only (frame.vec = 0). The result
	 * slot is written after the syscall, ip only where SYS_SAVE runs. */
	"	.macro SYS_SAVE_GPR\n"
	"	movq %rsp, %r11\n"
	"	leaq -128(%rsp), %rsp\n"
	"	andq $-16, %rsp\n"
	"	subq $352, %rsp\n"
	"	movq %rax, 8(%rsp)\n"
	"	movq %rdi, 16(%rsp)\n"
	"	movq %rsi, 24(%rsp)\n"
	"	movq %rdx, 32(%rsp)\n"
	"	movq %r10, 40(%rsp)\n"
	"	movq %r8, 48(%rsp)\n"
	"	movq %r9, 56(%rsp)\n"
	"	movq %r11, 80(%rsp)\n"
	"	movq $0, 88(%rsp)\n"
	"	cld\n"
	"	.endm\n"

	/* SYS_SAVE: the same and xmm0-15 (frame.vec = 1) */
	"	.macro SYS_SAVE\n"
	"	SYS_SAVE_GPR\n"
	"	movq %rax, 64(%rsp)\n"
	"	movq (%r11), %rcx\n"
	"	movq %rcx, 72(%rsp)\n"
	"	movq $1, 88(%rsp)\n"
	"	movaps %xmm0, 96(%rsp)\n"
	"	movaps %xmm1, 112(%rsp)\n"
	"	movaps %xmm2, 128(%rsp)\n"
	"	movaps %xmm3, 144(%rsp)\n"
	"	movaps %xmm4, 160(%rsp)\n"
	"	movaps %xmm5, 176(%rsp)\n"
	"	movaps %xmm6, 192(%rsp)\n"
	"	movaps %xmm7, 208(%rsp)\n"
	"	movaps %xmm8, 224(%rsp)\n"
	"	movaps %xmm9, 240(%rsp)\n"
	"	movaps %xmm10, 256(%rsp)\n"
	"	movaps %xmm11, 272(%rsp)\n"
	"	movaps %xmm12, 288(%rsp)\n"
	"	movaps %xmm13, 304(%rsp)\n"
	"	movaps %xmm14, 320(%rsp)\n"
	"	movaps %xmm15, 336(%rsp)\n"
	"	.endm\n"

	/* SYS_ARGS: rax = nr and the argument registers from the frame */
	"	.macro SYS_ARGS\n"
	"	movq 8(%rsp), %rax\n"
	"	movq 16(%rsp), %rdi\n"
	"	movq 24(%rsp), %rsi\n"
	"	movq 32(%rsp), %rdx\n"
	"	movq 40(%rsp), %r10\n"
	"	movq 48(%rsp), %r8\n"
	"	movq 56(%rsp), %r9\n"
	"	.endm\n"

	"	.macro SYS_XMM\n"
	"	movaps 96(%rsp), %xmm0\n"
	"	movaps 112(%rsp), %xmm1\n"
	"	movaps 128(%rsp), %xmm2\n"
	"	movaps 144(%rsp), %xmm3\n"
	"	movaps 160(%rsp), %xmm4\n"
	"	movaps 176(%rsp), %xmm5\n"
	"	movaps 192(%rsp), %xmm6\n"
	"	movaps 208(%rsp), %xmm7\n"
	"	movaps 224(%rsp), %xmm8\n"
	"	movaps 240(%rsp), %xmm9\n"
	"	movaps 256(%rsp), %xmm10\n"
	"	movaps 272(%rsp), %xmm11\n"
	"	movaps 288(%rsp), %xmm12\n"
	"	movaps 304(%rsp), %xmm13\n"
	"	movaps 320(%rsp), %xmm14\n"
	"	movaps 336(%rsp), %xmm15\n"
	"	.endm\n"

	/* SYS_RET: back to the site, by `ret` or, where the kernel leaves
	 * the return predictor's stack in pieces after every syscall, by a
	 * jump that needs no prediction from it (see pick_return()); rcx is
	 * then the return address, as after a real `syscall` */
	"	.macro SYS_RET jmp\n"
	"	.if \\jmp\n"
	"	popq %rcx\n"
	"	jmp *%rcx\n"
	"	.else\n"
	"	ret\n"
	"	.endif\n"
	"	.endm\n"

	"	.macro SYS_LEAVE_GPR jmp\n"
	"	SYS_ARGS\n"
	"	movq 64(%rsp), %rax\n"
	"	movq 80(%rsp), %rsp\n"
	"	SYS_RET \\jmp\n"
	"	.endm\n"

	/* SYS_LEAVE: everything back, rax = ret, return to the site */
	"	.macro SYS_LEAVE jmp\n"
	"	SYS_XMM\n"
	"	SYS_LEAVE_GPR \\jmp\n"
	"	.endm\n"

	/* SYS_STUB name, jmp: the stub; page 0 leads to one of two copies
	 * that differ only in SYS_RET */
	"	.macro SYS_STUB name, jmp\n"
	"	.globl \\name\n"
	"	.hidden \\name\n"
	"	.type \\name, @function\n"
	"\\name:\n"
	"	cmpq $512, %rax\n"
	"	jae 1f\n"
	"	leaq sys_active(%rip), %rcx\n"
	"	cmpb $0, (%rcx,%rax)\n"
	"	jne .Lnotfast\\name\n"
	"1:	syscall\n"
	"	SYS_RET \\jmp\n"

	".Lnotfast\\name:\n"
	"	testb $2, (%rcx,%rax)\n"
	"	jnz .Lspecial\\name\n"
	"	testb $4, (%rcx,%rax)\n"
	"	jnz .Lvec\\name\n"
	"	SYS_SAVE_GPR\n"
	"	leaq sys_active(%rip), %rcx\n"
	"	movzbl (%rcx,%rax), %ecx\n"
	"	testb $16, %cl\n"		/* SYS_A_ENTER */
	"	jz 2f\n"
	"	testb $64, %cl\n"		/* SYS_A_PLAIN */
	"	jnz 8f\n"
	"6:	movq %rsp, %rdi\n"
	"	leaq sys_active(%rip), %rcx\n"
	"	testb $32, (%rcx,%rax)\n"	/* SYS_A_ONE */
	"	jz 4f\n"
	"	call sys_enter_one\n"
	"	jmp 5f\n"
	"4:	call sys_enter_hook\n"
	"5:	testl %eax, %eax\n"
	"	jnz 3f\n"
	"7:	SYS_ARGS\n"
	"2:	syscall\n"
	"	movq 8(%rsp), %rcx\n"
	"	leaq sys_active(%rip), %r11\n"
	"	testb $8, (%r11,%rcx)\n"	/* SYS_A_EXIT */
	"	jnz 9f\n"
	/* the syscall kept the argument registers: rax is all there is */
	"	movq 80(%rsp), %rsp\n"
	"	SYS_RET \\jmp\n"
	"9:	movq %rax, 64(%rsp)\n"
	"	movq %rsp, %rdi\n"
	"	call sys_exit_hook\n"
	"3:	SYS_LEAVE_GPR \\jmp\n"
	/* SYS_A_PLAIN: the one enter program calls no helper, so it needs
	 * no run state and makes no syscall: called from here, on the frame
	 * (its first 64 bytes are the context). The thread's syscalls while
	 * bpfx's own code runs (busy) pass untraced, registers intact. */
	"8:	movq sys_self@gottpoff(%rip), %r11\n"
	"	cmpb $0, %fs:1(%r11)\n"	/* busy */
	"	jne 2b\n"
	"	movl %fs:4(%r11), %edx\n"	/* tid, 0 not known yet */
	"	testl %edx, %edx\n"
	"	jz 6b\n"
	"	leaq sys_plain_fn(%rip), %rcx\n"
	"	movq (%rcx,%rax,8), %rcx\n"
	"	testq %rcx, %rcx\n"		/* detached meanwhile */
	"	jz 6b\n"
	"	shlq $32, %rdx\n"
	"	leaq sys_plain_type(%rip), %rdi\n"
	"	movzwl (%rdi,%rax,2), %edi\n"
	"	orq %rdi, %rdx\n"
	"	movq %rdx, (%rsp)\n"		/* common_type, common_pid */
	"	movq %rsp, %rdi\n"
	"	movl $64, %esi\n"
	"	call *%rcx\n"
	"	jmp 7b\n"

	".Lvec\\name:\n"
	"	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_enter_hook\n"
	"	testl %eax, %eax\n"
	"	jnz .Ldone\\name\n"
	"	SYS_ARGS\n"
	"	syscall\n"
	"	movq %rax, 64(%rsp)\n"
	"	movq %rsp, %rdi\n"
	"	call sys_exit_hook\n"
	".Ldone\\name:\n"
	"	SYS_LEAVE \\jmp\n"

	".Lspecial\\name:\n"
	"	cmpl $15, %eax\n"
	"	je .Lsigreturn\\name\n"
	"	cmpl $58, %eax\n"
	"	je .Lvfork\\name\n"
	/* clone / clone3 */
	"	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_clone_prepare\n"
	"	testl %eax, %eax\n"
	"	jnz .Ldone\\name\n"
	"	SYS_XMM\n"
	"	SYS_ARGS\n"
	"	movq 80(%rsp), %rsp\n"		/* rsp = S, [S] = return address */
	"	syscall\n"
	"	testq %rax, %rax\n"
	"	jnz .Lclone_parent\\name\n"
	/* child: rsp = its new stack - 8 (holding the return address) or S */
	"	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_clone_child\n"
	"	SYS_LEAVE \\jmp\n"
	".Lclone_parent\\name:\n"
	"	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_clone_parent\n"
	"	SYS_LEAVE \\jmp\n"

	".Lvfork\\name:\n"
	"	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_enter_hook\n"
	"	testl %eax, %eax\n"
	"	jnz .Ldone\\name\n"
	"	SYS_XMM\n"
	"	SYS_ARGS\n"
	"	movq 80(%rsp), %rsp\n"
	"	movq sys_self@gottpoff(%rip), %rcx\n"
	"	popq %fs:8(%rcx)\n"		/* return address off the shared stack */
	"	syscall\n"
	"	movq sys_self@gottpoff(%rip), %rcx\n"
	"	pushq %fs:8(%rcx)\n"
	"	testq %rax, %rax\n"
	"	jz 2f\n"			/* the child just returns */
	"	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_vfork_parent\n"
	"	SYS_LEAVE \\jmp\n"
	/* the child, on the parent's stack below its rsp (the parent waits) */
	"2:	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_vfork_child\n"
	"	SYS_LEAVE \\jmp\n"

	".Lsigreturn\\name:\n"
	"	SYS_SAVE\n"
	"	movq %rsp, %rdi\n"
	"	call sys_enter_hook\n"		/* an override cannot apply here */
	"	SYS_XMM\n"
	"	SYS_ARGS\n"
	"	movq 80(%rsp), %rsp\n"
	"	addq $8, %rsp\n"		/* the caller's rsp: the signal frame */
	"	syscall\n"
	"	ud2\n"
	"	.size \\name, .-\\name\n"
	"	.endm\n"

	"	SYS_STUB sys_stub, 0\n"
	"	SYS_STUB sys_stub_jmp, 1\n"

	/* long sys_return_probe(long n, void *stub_ret): n times, two calls
	 * deep, close(-1) through the fast path's last instructions of one
	 * stub copy (pick_return() times both) */
	"	.macro SYS_PROBE jmp\n"
	"	syscall\n"
	"	SYS_RET \\jmp\n"
	"	.endm\n"
	"sys_probe_ret:\n"
	"	SYS_PROBE 0\n"
	"sys_probe_jmp:\n"
	"	SYS_PROBE 1\n"
	"	.globl sys_return_probe\n"
	"	.hidden sys_return_probe\n"
	"	.type sys_return_probe, @function\n"
	"sys_return_probe:\n"
	"	leaq sys_probe_ret(%rip), %rax\n"
	"	leaq sys_probe_jmp(%rip), %rcx\n"
	"	testq %rsi, %rsi\n"
	"	cmovnz %rcx, %rax\n"
	"	movq %rax, %rsi\n"
	"1:	call 2f\n"
	"	decq %rdi\n"
	"	jnz 1b\n"
	"	ret\n"
	"2:	call 3f\n"
	"	ret\n"
	"3:	pushq %rdi\n"
	"	movl $3, %eax\n"		/* close(-1): EBADF */
	"	movq $-1, %rdi\n"
	"	call *%rsi\n"
	"	popq %rdi\n"
	"	ret\n"
	"	.size sys_return_probe, .-sys_return_probe\n"

	/* the SIGSYS handler's restorer, and rt_sigreturn for SUD */
	"	.globl sys_sigreturn_gadget\n"
	"	.hidden sys_sigreturn_gadget\n"
	"sys_sigreturn_gadget:\n"
	"	movl $15, %eax\n"
	"	syscall\n"
	"	ud2\n"

	/* long sys_raw6(nr, a1..a6): a syscall SUD always lets through */
	"	.globl sys_raw6\n"
	"	.hidden sys_raw6\n"
	"	.type sys_raw6, @function\n"
	"sys_raw6:\n"
	"	movq %rdi, %rax\n"
	"	movq %rsi, %rdi\n"
	"	movq %rdx, %rsi\n"
	"	movq %rcx, %rdx\n"
	"	movq %r8, %r10\n"
	"	movq %r9, %r8\n"
	"	movq 8(%rsp), %r9\n"
	"	syscall\n"
	"	ret\n"
	"	.size sys_raw6, .-sys_raw6\n"

	"	.balign 64\n"
	"	.globl sys_stub_end\n"
	"	.hidden sys_stub_end\n"
	"sys_stub_end:\n"
	"	.popsection\n");
/* clang-format on */

long sys_return_probe(long n, long jmp);

static bool env_says(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

/* ------------------------------------------------------------- state */

#define MAX_SITES 32768
#define MAX_MAPS 1024

/* A rewritten site: @len bytes at @at were @orig, are @patch now. */
struct site {
	uint64_t addr;	/* the syscall instruction */
	uint64_t at;	/* the patch: addr, or the instruction before it */
	uint64_t trap;	/* where a thread meeting our int3 at @at goes
			 * (0: as `call *%rax` from @addr would) */
	int prot;	/* its mapping's protection */
	uint8_t len;	/* 2, or 5 (a jmp over the previous instruction) */
	uint8_t orig[5], patch[5];
};

static struct site sites[MAX_SITES];
static uint32_t nsites;
static volatile int rw_lock;	/* spinlock: install/uninstall/lazy */
static bool page0;		/* the sled is mapped */
static bool per_site;		/* no page 0: per-site trampolines */
static struct sys_stats stats;
static long page_size = 4096;

static bool lock_try(void)
{
	return !__atomic_exchange_n(&rw_lock, 1, __ATOMIC_ACQUIRE);
}

static void lock_take(void)
{
	while (!lock_try())
		sys_raw6(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
}

static void lock_drop(void)
{
	__atomic_store_n(&rw_lock, 0, __ATOMIC_RELEASE);
}

void sys_rewrite_after_fork(void)
{
	lock_drop(); /* its holder, if any, stayed in the parent */
}

void sys_get_stats(struct sys_stats *out)
{
	*out = stats;
	out->sites = nsites;
	out->sud = sys_sud_ready();
	out->sud_traps = __atomic_load_n(&sys_sud_trap_count, __ATOMIC_RELAXED);
}

/* ----------------------------------- /proc/self/maps, signal-safe */


static uint64_t hex(const char **p)
{
	uint64_t v = 0;

	for (;; (*p)++) {
		char c = **p;

		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* "start-end perms offset dev inode path": the fields we need. */
static bool parse_line(const char *s, struct sys_map *v)
{
	const char *p = s;
	uint64_t ino;

	v->start = hex(&p);
	if (*p++ != '-')
		return false;
	v->end = hex(&p);
	if (*p++ != ' ' || !p[0] || !p[1] || !p[2] || !p[3])
		return false;
	v->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
		  (p[2] == 'x' ? PROT_EXEC : 0);
	v->priv = p[3] == 'p';
	p += 4;
	while (*p == ' ')
		p++;
	v->off = hex(&p);
	while (*p == ' ')
		p++;
	while (*p && *p != ' ')
		p++; /* dev */
	while (*p == ' ')
		p++;
	ino = 0;
	while (*p >= '0' && *p <= '9')
		ino = ino * 10 + (uint64_t)(*p++ - '0');
	v->ino = ino;
	v->file = ino != 0;
	while (*p == ' ')
		p++;
	v->special = *p == '[';
	v->path[0] = '\0';
	if (*p == '/' && strlen(p) < sizeof(v->path))
		memcpy(v->path, p, strlen(p) + 1);
	return true;
}

/* Read every mapping into @out (at most @max); count, or -errno. Only
 * raw syscalls and the stack: safe in a signal handler. */
static int read_vmas(struct sys_map *out, int max)
{
	char buf[4096], line[512];
	size_t ll = 0;
	int fd, n = 0;
	long r;

	fd = (int)sys_raw6(SYS_open, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC,
			   0, 0, 0, 0);
	if (fd < 0)
		return fd;
	while ((r = sys_raw6(SYS_read, fd, (long)buf, sizeof(buf), 0, 0, 0)) > 0) {
		for (long i = 0; i < r; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			if (n < max && parse_line(line, &out[n]))
				n++;
		}
	}
	sys_raw6(SYS_close, fd, 0, 0, 0, 0, 0);
	return n;
}

/* ------------------------------------------------------------ page 0 */

#define SLED_EXIT 17	/* 4 nops + movabs + jmp */
#define SLED_CHAIN 512	/* entries below: the jump chain */
#define SLED_CMP 84	/* then this much cmp sled, nops, the exit */

/* [from, to) slides to an exit at to: 0x3d..., nop x4, movabs, jmp */
static void emit_sled(uint8_t *b, size_t from, size_t to, uint64_t stub)
{
	size_t k = to;

	memset(b + from, 0x3d, to - from);	/* cmp eax, 0x3d3d3d3d */
	memset(b + k, 0x90, 4);			/* nop x4 */
	k += 4;
	b[k++] = 0x49;				/* movabs r11, sys_stub */
	b[k++] = 0xbb;
	memcpy(b + k, &stub, 8);
	k += 8;
	b[k++] = 0x41;				/* jmp r11 */
	b[k++] = 0xff;
	b[k++] = 0xe3;
}

/* Instructions from @t, inside the cmp sled that ends at @n, to the exit
 * (n + 4, after the nops). */
static unsigned sled_cost(size_t t, size_t n)
{
	unsigned c = 0;

	for (; t < n; t += 5)
		c++;
	return c + (unsigned)(n + 4 - t);
}

/*
 * The jump chain over [0, z), in front of a cmp sled [z, n) (emitted
 * already). Even bytes are eb (jmp rel8), odd ones a prefix that doubles
 * as the displacement: a REX (40..4f: +64..+79) or an FS/GS override
 * (64, 65: +100, +101), both ignored by a jmp. An even entry e decodes
 * `eb d`, an odd entry e - 1 decodes `p eb d` (p, its own byte, a prefix),
 * so both go to e + 2 + d. d is chosen from the end
 * backwards, each to the target with the fewest instructions left to the
 * exit: entry 0 takes 6 instructions and getppid (110) 5, where a sled
 * of 5-byte cmps took 103 and 80.
 */
static const uint8_t chain_disp[] = {
	0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
	0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x64, 0x65,
};

static void emit_chain(uint8_t *b, size_t z, size_t n)
{
	uint8_t cost[SLED_CHAIN + SLED_CMP + 5];
	size_t t, o, k;

	/* o: the odd bytes, from the last down to 1 (then o wraps past z) */
	for (t = z; t <= n + 4; t++)
		cost[t] = (uint8_t)sled_cost(t, n);
	cost[z - 1] = (uint8_t)(1 + sled_cost(z + 5, n)); /* p 3d imm32 */
	for (o = z - 1; o < z; o -= 2) {
		unsigned best = 255, bv = chain_disp[0];

		for (k = 0; k < sizeof(chain_disp); k++) {
			unsigned v = chain_disp[k];

			if (o + 1 + v <= n + 4 && cost[o + 1 + v] <= best) {
				best = cost[o + 1 + v];
				bv = v;
			}
		}
		b[o - 1] = 0xeb;
		b[o] = (uint8_t)bv;
		cost[o - 1] = (uint8_t)(best + 1);
		if (o >= 2)
			cost[o - 2] = (uint8_t)(best + 1); /* its odd twin */
	}
}

/*
 * Which copy of the stub page 0 leads to. After a syscall, a kernel with
 * return-stack mitigations (this machine's: SRSO "safe RET") leaves the
 * CPU's stack of predicted return addresses full of its own entries, so
 * the stub's `ret` to the site mispredicts on every syscall (~4 ns here).
 * The jmp copy goes back by an indirect jump, which the branch target
 * buffer predicts; but where the kernel keeps that stack intact, the call
 * into page 0 leaves an entry no `ret` pops and every return of the
 * callers mispredicts. So both are timed, two calls deep, on close(-1)
 * (best of 9 rounds of 64): jmp is taken only if it saves 1 ns a call.
 * $BPFX_SYSCALL_RETURN=ret|jmp decides instead.
 */
#define PROBE_CALLS 64

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool pick_return(void)
{
	uint64_t best[2] = { UINT64_MAX, UINT64_MAX };
	int r, v;

	if (env_says("BPFX_SYSCALL_RETURN", "ret") || env_says("BPFX_SYSCALL_RETURN", "jmp"))
		return env_says("BPFX_SYSCALL_RETURN", "jmp");
	for (r = 0; r < 9; r++) {
		for (v = 0; v < 2; v++) {
			uint64_t t0 = mono_ns(), t;

			sys_return_probe(PROBE_CALLS, v);
			t = mono_ns() - t0;
			if (t < best[v])
				best[v] = t;
		}
	}
	return best[1] + PROBE_CALLS < best[0];
}

static int map_page0(void)
{
	static uint8_t sled[4096];
	uint8_t *p;
	uint64_t stub;
	size_t k;

	if (page0)
		return 0;
	if (page_size != sizeof(sled))
		return -EOPNOTSUPP;
	stats.jmp_return = pick_return();
	stub = (uint64_t)(uintptr_t)(stats.jmp_return ? sys_stub_jmp : sys_stub);
	p = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (p != NULL) { /* an old kernel took it as a hint */
		munmap(p, (size_t)page_size);
		return -EPERM;
	}
	/* page 0 is memory here, whatever C (and UBSan) thinks of NULL:
	 * built aside, then byte stores through a volatile pointer */
	emit_sled(sled, SLED_CHAIN, SLED_CHAIN + SLED_CMP, stub);
	emit_chain(sled, SLED_CHAIN, SLED_CHAIN + SLED_CMP);
	/* numbers above (invalid ones) slide to a second exit at the page's
	 * end, so the stub answers -ENOSYS as the kernel would */
	emit_sled(sled, SLED_CHAIN + SLED_CMP + SLED_EXIT, sizeof(sled) - SLED_EXIT,
		  stub);
	for (k = 0; k < sizeof(sled); k++)
		*(volatile uint8_t *)((uintptr_t)p + k) = sled[k];
	/* execute-only where the CPU can (protection keys); readable here */
	if (mprotect(p, (size_t)page_size, PROT_EXEC)) {
		int err = -errno;

		munmap(p, (size_t)page_size);
		return err;
	}
	page0 = true;
	return 0;
}

/* ---------------------------------------------------------- patching */

static bool in_stub(uint64_t a)
{
	return a + 2 > (uint64_t)(uintptr_t)sys_stub_start &&
	       a < (uint64_t)(uintptr_t)sys_stub_end;
}

static void store2(uint64_t a, uint16_t v)
{
	/* one 16-bit store (mov word): atomic on x86 when it does not cross
	 * a cache line; sites are rarely 2-aligned, hence asm, not C */
	__asm__ volatile("movw %1, (%0)" : : "r"(a), "r"(v) : "memory");
}

static void store1(uint64_t a, uint8_t v)
{
	__atomic_store_n((uint8_t *)(uintptr_t)a, v, __ATOMIC_RELEASE);
}

static int set_prot(uint64_t a, uint64_t len, int prot)
{
	uint64_t s = a & ~(uint64_t)(page_size - 1);
	uint64_t e = (a + len + (uint64_t)page_size - 1) & ~(uint64_t)(page_size - 1);

	return (int)sys_raw6(SYS_mprotect, (long)s, (long)(e - s), prot, 0, 0, 0);
}

/* Does a 2-byte store at @a cross a cache line (1 site in 64)? */
static bool straddling(uint64_t a)
{
	return (a & 63) == 63;
}

/*
 * Where one 2-byte store cannot do (a 5-byte patch, or 2 bytes across a
 * cache line), the int3 protocol of src/hook/patch.c: int3 at the first
 * byte, serialize, the other bytes, serialize, the first byte, serialize
 * (back the same way). A thread that meets the int3 meanwhile gets
 * SIGTRAP and site_trap() sends it where the patched code would: to the
 * trampoline, or as `call *%rax` would. Such places are remembered for
 * good (the list only grows), so a late SIGTRAP is still recognised.
 */
#define MAX_TRAPS 4096
struct trap_site {
	uint64_t at, to;
	bool call; /* push at + 2 first (as `call` from the site would) */
};
static struct trap_site traps[MAX_TRAPS];
static uint32_t ntraps;

/* SIGTRAP fallback of src/hook: an int3 of ours? */
static bool site_trap(void *uc)
{
	greg_t *g = ((ucontext_t *)uc)->uc_mcontext.gregs;
	uint64_t a = (uint64_t)g[REG_RIP] - 1;
	uint32_t i, n = __atomic_load_n(&ntraps, __ATOMIC_ACQUIRE);

	for (i = 0; i < n && traps[i].at != a; i++)
		;
	if (i == n)
		return false;
	if (*(volatile uint8_t *)(uintptr_t)a != 0xcc) {
		g[REG_RIP] = (greg_t)a;	/* patched since: run what is there */
		return true;
	}
	if (traps[i].to && !traps[i].call) {
		g[REG_RIP] = (greg_t)traps[i].to;
		return true;
	}
	g[REG_RSP] -= 8;		/* call *%rax, or call to */
	*(uint64_t *)(uintptr_t)g[REG_RSP] = a + 2;
	g[REG_RIP] = traps[i].to ? (greg_t)traps[i].to : g[REG_RAX];
	return true;
}

static bool remember_trap(uint64_t at, uint64_t to, bool call)
{
	uint32_t i;

	for (i = 0; i < ntraps; i++) {
		if (traps[i].at == at) {
			traps[i].call = call;
			__atomic_store_n(&traps[i].to, to, __ATOMIC_RELEASE);
			return true;
		}
	}
	if (ntraps == MAX_TRAPS || hook_runtime_init())
		return false;
	hook_set_trap_fallback(site_trap);
	traps[ntraps].at = at;
	traps[ntraps].to = to;
	traps[ntraps].call = call;
	__atomic_store_n(&ntraps, ntraps + 1, __ATOMIC_RELEASE);
	return true;
}

static bool needs_int3(const struct site *s)
{
	return s->len > 2 || (s->len == 2 && straddling(s->at));
}

/* Write @restore ? orig : patch of sites [first, first + n) (their pages
 * writable), serializing the cores three times for all of them. */
static void write_sites(uint32_t first, uint32_t n, bool restore)
{
	uint32_t i, k, slow = 0;

	for (i = first; i < first + n; i++) {
		const struct site *s = &sites[i];
		const uint8_t *b = restore ? s->orig : s->patch;

		if (s->len == 1) {
			store1(s->at, b[0]);
			continue;
		}
		if (!needs_int3(s)) {
			store2(s->at, (uint16_t)(b[0] | b[1] << 8));
			continue;
		}
		store1(s->at, 0xcc);
		slow++;
	}
	if (!slow)
		return;
	hook_sync_core();
	for (i = first; i < first + n; i++) {
		const struct site *s = &sites[i];

		if (needs_int3(s))
			for (k = 1; k < s->len; k++)
				store1(s->at + k, (restore ? s->orig : s->patch)[k]);
	}
	hook_sync_core();
	for (i = first; i < first + n; i++)
		if (needs_int3(&sites[i]))
			store1(sites[i].at, (restore ? sites[i].orig : sites[i].patch)[0]);
	hook_sync_core();
}

/* ------------------------------------------------ per-site trampolines */

/*
 * Without page 0 (no CAP_SYS_RAWIO; $BPFX_SYSCALL_REWRITE=sites forces
 * it) a site cannot become `call *%rax`: it jumps to a trampoline of its
 * own instead, found one of two ways:
 *
 *   island: the 2-byte `syscall` becomes `jmp rel8` to an island, 5 bytes
 *           of dead padding (nops or int3s right after a ret or jmp, no
 *           branch into them) within reach, which become `jmp rel32
 *           tramp`; one atomic store switches the site, as with zpoline;
 *   pre:    where no island is in reach, the instruction right before the
 *           syscall, if it is 5 bytes or more, position independent and
 *           no branch target (glibc's `mov eax, NR`), becomes `jmp rel32
 *           tramp`, and the trampoline runs a copy of it first. The
 *           syscall's own bytes stay: a thread stopped between the two
 *           instructions makes that one syscall untraced.
 *
 *   tramp:  [the copied instruction]  call *[rip+slot]  jmp site+2
 *
 * So the stub is entered as from page 0: rax the number, the return
 * address pushed (into the red zone, as zpoline's call). Sites with
 * neither are left to SUD (the net goes on). In Debian 12's libc, 473 of
 * 526 sites get an island, 34 a pre trampoline, 19 stay with SUD.
 * Trampolines and islands are made once per site and kept: a thread may
 * sit in one after uninstall; the next install reuses them while the
 * bytes around are unchanged.
 */
#define TRAMP_SIZE 32
#define MAX_TRAMPS 16384
#define ISLAND_REACH 127

struct tramp {
	uint64_t site;	 /* the syscall */
	uint64_t island; /* its island, 0: pre */
	uint64_t entry;	 /* the trampoline */
	uint8_t plen;	 /* pre: the copied instruction's length */
	uint8_t prev[15]; /* pre: its bytes */
};
static struct tramp tramps[MAX_TRAMPS];
static uint32_t ntramps;
static uint64_t tramp_stub; /* the stub copy the trampolines call */

/* What the sweep of one mapping learnt (heap: sites_scan frees it). */
struct sweep {
	uint64_t *targets; /* branch / RIP-relative targets, sorted */
	size_t ntargets, cap;
	uint64_t (*pads)[2]; /* dead padding runs [start, end), in order */
	size_t npads, pcap;
};

static bool push_u64(uint64_t **a, size_t *n, size_t *cap, uint64_t v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		uint64_t *na = realloc(*a, nc * sizeof(**a));

		if (!na)
			return false;
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = v;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Is some branch target inside (lo, hi)? */
static bool target_inside(const struct sweep *w, uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = w->ntargets;

	while (a < b) { /* first target > lo */
		size_t m = (a + b) / 2;

		if (w->targets[m] <= lo)
			a = m + 1;
		else
			b = m;
	}
	return a < w->ntargets && w->targets[a] < hi;
}

/* Take 5 bytes of padding within rel8 reach of the jmp at @site (which
 * ends at site + 2); 0 if none. */
static uint64_t take_island(struct sweep *w, uint64_t site)
{
	uint64_t from = site + 2;
	size_t i;

	for (i = 0; i < w->npads; i++) {
		uint64_t s = w->pads[i][0], e = w->pads[i][1], a;

		if (e < from - 128 + 5 || s > from + ISLAND_REACH)
			continue;
		a = s > from - 128 ? s : from - 128;
		if (a + 5 > e || a > from + ISLAND_REACH)
			continue;
		if (target_inside(w, a - 1, a + 5))
			continue;
		w->pads[i][0] = a + 5; /* the run's bytes before a stay dead */
		return a;
	}
	return 0;
}

static struct tramp *tramp_find(uint64_t site)
{
	uint32_t i;

	for (i = ntramps; i-- > 0;)
		if (tramps[i].site == site)
			return &tramps[i];
	return NULL;
}

/* Build the trampoline of @t (prev/plen set for pre); 0 or -errno. */
static int tramp_build(struct tramp *t)
{
	uint64_t lo = t->site > (1ull << 31) - (64ull << 20) ?
			      t->site - (1ull << 31) + (64ull << 20) : 0;
	uint64_t hi = t->site + (1ull << 31) - (64ull << 20);
	struct hook_mem m;
	struct hook_buf b;
	int err = hook_mem_alloc(lo, hi, TRAMP_SIZE, &m);

	if (err)
		return err;
	b = (struct hook_buf){ .p = m.rw, .base = m.exec, .cap = TRAMP_SIZE };
	hook_emit(&b, t->prev, t->plen);
	hook_emit1(&b, 0xff);			/* call *[rip+slot] */
	hook_emit1(&b, 0x15);
	hook_emit4(&b, 5);			/* slot: after the jmp */
	hook_emit1(&b, 0xe9);			/* jmp site+2 */
	hook_emit4(&b, (uint32_t)(t->site + 2 - (hook_pc(&b) + 4)));
	hook_emit8(&b, tramp_stub);
	if (b.err)
		return b.err;
	t->entry = m.exec;
	return 0;
}

/* The site at @a, whose previous instruction is [pa, a) (@ppic: movable),
 * as a struct site with its trampoline; false: left to SUD. */
static bool plan_site(struct sweep *w, uint64_t a, uint64_t pa, bool ppic,
		      struct site *s)
{
	struct tramp *t = tramp_find(a);
	uint64_t island = 0;
	unsigned plen = (unsigned)(a - pa);

	if (t && t->island && t->entry) {
		/* ours from an earlier install, if its island still jumps to
		 * its trampoline (else the library changed: start again) */
		int64_t j = (int64_t)(t->entry - (t->island + 5));
		uint8_t jmp[5] = { 0xe9 };

		memcpy(jmp + 1, &j, 4);
		if (!memcmp((const void *)(uintptr_t)t->island, jmp, 5))
			island = t->island;
		else
			t->entry = t->island = 0;
	}
	if (island) {
		/* reused */
	} else if (!t || !t->entry) {
		if (!t) {
			if (ntramps == MAX_TRAMPS)
				return false;
			t = &tramps[ntramps];
			memset(t, 0, sizeof(*t));
			t->site = a;
		}
		t->plen = 0; /* (re)built from scratch */
		island = take_island(w, a);
		if (!island) {
			if (!pa || !ppic || plen < 5 || plen > sizeof(t->prev) ||
			    target_inside(w, pa, a + 2))
				return false;
			t->plen = (uint8_t)plen;
			memcpy(t->prev, (const void *)(uintptr_t)pa, plen);
		}
		t->island = island;
		if (tramp_build(t))
			return false;
		if (t == &tramps[ntramps])
			ntramps++;
	} else if (!pa || a - pa != t->plen ||
		   memcmp((const void *)(uintptr_t)pa, t->prev, t->plen)) {
		return false; /* not the code it was built for */
	}
	memset(s, 0, sizeof(*s));
	s->addr = a;
	if (island) {
		int64_t d = (int64_t)(island - (a + 2));
		int64_t j = (int64_t)(t->entry - (island + 5));
		uint8_t jmp[5] = { 0xe9 };

		if (!hook_rel32_ok(j))
			return false;
		memcpy(jmp + 1, &j, 4);
		/* the island is dead code: written as is, before the site */
		if (memcmp((const void *)(uintptr_t)island, jmp, 5))
			memcpy((void *)(uintptr_t)island, jmp, 5);
		s->at = a;
		s->len = 2;
		s->patch[0] = 0xeb;
		s->patch[1] = (uint8_t)(int8_t)d;
		s->trap = island;
	} else {
		int64_t j = (int64_t)(t->entry - (pa + 5));

		if (!hook_rel32_ok(j))
			return false;
		s->at = pa;
		s->len = 5;
		s->patch[0] = 0xe9;
		memcpy(s->patch + 1, &j, 4);
		s->trap = t->entry;
	}
	memcpy(s->orig, (const void *)(uintptr_t)s->at, s->len);
	return true;
}

/*
 * The last resort for a site with no trampoline: int3 on its first byte
 * (one atomic store), SIGTRAP sending the thread into the stub as a call
 * from the site would: a signal per syscall there (as SUD would cost),
 * but no SUD net making every other syscall slower. Only where every
 * thread takes SIGTRAP (threads_take_sigtrap(), at install); from then on
 * SIGTRAP is kept unblocked and the application's SIGTRAP action becomes
 * the one chained to, as for SIGSYS (syscall.c keep_sigsys_open).
 */
static bool trap_ok;		/* every thread took SIGTRAP at install */
static uint32_t ntrapped;	/* such sites in place */

static bool plan_trap(uint64_t a, struct site *s)
{
	if (!trap_ok || !remember_trap(a, tramp_stub, true))
		return false;
	memset(s, 0, sizeof(*s));
	s->addr = s->at = a;
	s->len = 1;
	s->orig[0] = 0x0f;
	s->patch[0] = 0xcc;
	s->trap = tramp_stub;
	return true;
}

/* Does any thread of the process block SIGTRAP? (/proc/self/task/N/status
 * SigBlk.) */
static bool threads_take_sigtrap(void)
{
	char path[300], line[256];
	struct dirent *de;
	bool ok = true;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return false;
	while (ok && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue; /* gone */
		while (fgets(line, sizeof(line), f)) {
			unsigned long long blk;

			if (sscanf(line, "SigBlk: %llx", &blk) == 1) {
				ok = !(blk & 1ull << (SIGTRAP - 1));
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
	return ok;
}

bool sys_rewrite_trap_sites(void)
{
	return __atomic_load_n(&ntrapped, __ATOMIC_RELAXED) != 0;
}

/* The sweep for per-site trampolines: sites, branch targets, padding. */
static void scan_vma_sites(const struct sys_map *v)
{
	const uint8_t *base = (const uint8_t *)(uintptr_t)v->start;
	size_t off = 0, size = v->end - v->start, i, nfound = 0;
	uint64_t *found = NULL, prev_at = 0, pad_at = 0;
	size_t fcap = 0;
	bool prev_pic = false, after_end = false;
	struct sweep w = { 0 };
	uint32_t first = nsites;

	while (off < size) {
		struct hook_insn_flow f;
		uint64_t pc = v->start + off;
		unsigned len = hook_insn_flow(base + off, size - off, pc, &f);

		if (!len) {
			off++;
			prev_at = 0;
			after_end = false;
			continue;
		}
		if (f.target >= v->start && f.target < v->end)
			push_u64(&w.targets, &w.ntargets, &w.cap, f.target);
		if (after_end && f.pad) {
			if (!pad_at)
				pad_at = pc;
		} else {
			if (pad_at && pc - pad_at >= 5 &&
			    push_u64((uint64_t **)&w.pads, &w.npads, &w.pcap, pad_at))
				push_u64((uint64_t **)&w.pads, &w.npads, &w.pcap, pc);
			pad_at = 0;
			after_end = f.ends;
		}
		if (len == 2 && base[off] == 0x0f && base[off + 1] == 0x05 &&
		    !in_stub(pc)) {
			/* the site, then the start of the instruction before
			 * it (0 if unknown or not movable) */
			push_u64(&found, &nfound, &fcap, pc);
			push_u64(&found, &nfound, &fcap, prev_pic ? prev_at : 0);
		}
		prev_at = pc;
		prev_pic = f.pic;
		off += len;
	}
	w.npads /= 2;
	if (w.ntargets)
		qsort(w.targets, w.ntargets, sizeof(uint64_t), cmp_u64);
	/* writable from here: islands are written while planning */
	if (nfound && set_prot(v->start, v->end - v->start, v->prot | PROT_WRITE)) {
		stats.skipped += (uint32_t)(nfound / 2);
		nfound = 0;
	}
	for (i = 0; i + 1 < nfound; i += 2) {
		if (nsites == MAX_SITES ||
		    (!plan_site(&w, found[i], found[i + 1], found[i + 1] != 0,
				&sites[nsites]) &&
		     !plan_trap(found[i], &sites[nsites]))) {
			stats.skipped++;
			continue;
		}
		sites[nsites].prot = v->prot;
		if (sites[nsites].len == 1) {
			__atomic_fetch_add(&ntrapped, 1, __ATOMIC_RELAXED);
			stats.trapped++;
			nsites++;
			continue;
		}
		if (needs_int3(&sites[nsites]) &&
		    !remember_trap(sites[nsites].at, sites[nsites].trap, false)) {
			stats.skipped++;
			continue;
		}
		nsites++;
	}
	if (nsites > first) {
		hook_sync_core(); /* islands, trampolines: seen before the sites */
		write_sites(first, nsites - first, false);
	}
	if (nfound)
		set_prot(v->start, v->end - v->start, v->prot);
	free(found);
	free(w.targets);
	free(w.pads);
}

/* ------------------------------------------------------------ zpoline */

static bool add_site(uint64_t a, int prot)
{
	struct site *s;

	if (nsites == MAX_SITES)
		return false;
	s = &sites[nsites++];
	memset(s, 0, sizeof(*s));
	s->addr = s->at = a;
	s->prot = prot;
	s->len = 2;
	memcpy(s->orig, "\x0f\x05", 2);
	memcpy(s->patch, "\xff\xd0", 2);	/* call *%rax */
	return true;
}

/* Linear sweep of one mapping: record and rewrite its syscall sites. */
#define MAX_CACHED 8192 /* sites of one mapping (libc: ~530) */

static void scan_vma(const struct sys_map *v)
{
	static uint32_t offs[MAX_CACHED]; /* under rw_lock */
	const uint8_t *p = (const uint8_t *)(uintptr_t)v->start;
	const uint8_t *end = (const uint8_t *)(uintptr_t)v->end;
	uint32_t first = nsites;
	int i, n;

	/* most libraries make no syscall themselves: not one byte pair */
	if (!memmem(p, (size_t)(end - p), "\x0f\x05", 2))
		return;
	if (per_site) {
		/* not from inside the SIGSYS handler (it allocates): SUD
		 * watches what that code runs */
		if (sys_self.in_sud)
			stats.skipped++;
		else
			scan_vma_sites(v);
		return;
	}
	n = sys_cache_load(v, offs, MAX_CACHED);
	if (n >= 0)
		stats.cached++;
	if (n < 0) { /* sweep, and leave the answer for the next process */
		n = 0;
		while (p < end) {
			unsigned len = hook_insn_len(p, (size_t)(end - p));

			if (!len) {
				p++;
				continue;
			}
			if (len == 2 && p[0] == 0x0f && p[1] == 0x05 && n < MAX_CACHED)
				offs[n++] = (uint32_t)((uint64_t)(uintptr_t)p - v->start);
			p += len;
		}
		if (n < MAX_CACHED)
			sys_cache_store(v, offs, (uint32_t)n);
	}
	for (i = 0; i < n; i++) {
		uint64_t a = v->start + offs[i];

		if (!in_stub(a) &&
		    ((straddling(a) && !remember_trap(a, 0, false)) || !add_site(a, v->prot)))
			stats.skipped++;
	}
	if (nsites == first)
		return;
	if (set_prot(v->start, v->end - v->start, v->prot | PROT_WRITE)) {
		stats.skipped += nsites - first;
		nsites = first;
		return;
	}
	write_sites(first, nsites - first, false);
	set_prot(v->start, v->end - v->start, v->prot);
}

/* Is bpfx linked into the main program (tests, benchmarks) rather than a
 * library of its own (the agent)? dl_iterate_phdr lists the program
 * first. */
static int in_main_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t a = (uint64_t)(uintptr_t)sys_stub_start;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && a >= lo && a < lo + ph->p_memsz)
			*(bool *)arg = true;
	}
	return 1; /* the program only */
}

/* Our own library's text (the stub's mapping): its syscalls are bpfx's,
 * never traced, so it is not swept (the agent's library is the largest a
 * process maps: sweeping it cost every process ~25 ms). Linked into the
 * program, the mapping is the program's and is swept. */
static bool own_text(const struct sys_map *v)
{
	static int in_lib = -1;

	if (!(v->start <= (uint64_t)(uintptr_t)sys_stub_start &&
	      v->end >= (uint64_t)(uintptr_t)sys_stub_end))
		return false;
	if (in_lib < 0) {
		bool in_main = false;

		dl_iterate_phdr(in_main_cb, &in_main);
		in_lib = !in_main;
	}
	return in_lib;
}

static bool scannable(const struct sys_map *v)
{
	return v->file && v->priv && (v->prot & PROT_EXEC) && (v->prot & PROT_READ) &&
	       v->end <= 0x800000000000ull && !own_text(v);
}

/* Executable memory that is not a file's code (a JIT's): could it make
 * syscalls we do not see? Writable+executable: any time. Otherwise if it
 * holds the bytes of a `syscall` anywhere. */
static bool dynamic_code_risk(const struct sys_map *v)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)v->start;
	const uint8_t *end = (const uint8_t *)(uintptr_t)v->end;

	if (!(v->prot & PROT_EXEC) || v->special || scannable(v) ||
	    v->end > 0x800000000000ull || !v->start)
		return false;
	if (v->start < (uint64_t)(uintptr_t)sys_stub_end &&
	    v->end > (uint64_t)(uintptr_t)sys_stub_start)
		return false; /* our own text */
	if ((v->prot & PROT_WRITE) || !(v->prot & PROT_READ))
		return true;
	return memmem(p, (size_t)(end - p), "\x0f\x05", 2) != NULL;
}

bool sys_rewrite_new_code(uint64_t start, uint64_t len)
{
	static struct sys_map vmas[MAX_MAPS];
	bool rewriting = page0 || per_site, risk = false;
	uint32_t skipped;
	int n, i;

	if (!rewriting && !len)
		return false;
	lock_take();
	skipped = stats.skipped;
	n = read_vmas(vmas, MAX_MAPS);
	for (i = 0; i < n; i++) {
		struct sys_map v = vmas[i];

		if (len && (v.end <= start || v.start >= start + len))
			continue;
		if (rewriting && scannable(&v))
			scan_vma(&v); /* rewritten sites decode as calls now */
		else if (dynamic_code_risk(&v))
			risk = true;
	}
	risk |= stats.skipped != skipped; /* sites left to SUD */
	lock_drop();
	return risk;
}

int sys_rewrite_install(void)
{
	static struct sys_map vmas[MAX_MAPS];
	int n, i, err;

	page_size = sysconf(_SC_PAGESIZE);
	/* "none": SUD alone; "sites": per-site trampolines (both what an
	 * unprivileged process gets, for tests) */
	if (env_says("BPFX_SYSCALL_REWRITE", "none"))
		return 1;
	err = env_says("BPFX_SYSCALL_REWRITE", "sites") ? -EPERM : map_page0();
	stats.zpoline = !err;
	if (err) {
		if (!tramp_stub) {
			stats.jmp_return = pick_return();
			tramp_stub = (uint64_t)(uintptr_t)(stats.jmp_return ? sys_stub_jmp :
									      sys_stub);
		}
		per_site = true;
		trap_ok = !env_says("BPFX_SYSCALL_TRAPS", "never") &&
			  threads_take_sigtrap() && !hook_runtime_init();
	}
	stats.trampolines = per_site;
	lock_take();
	n = read_vmas(vmas, MAX_MAPS);
	for (i = 0; i < n; i++) {
		if (scannable(&vmas[i]))
			scan_vma(&vmas[i]);
		else if (dynamic_code_risk(&vmas[i]))
			err = 1;
	}
	err = err > 0 || stats.skipped ? 1 : 0;
	lock_drop();
	return err;
}

void sys_rewrite_uninstall(void)
{
	uint32_t i;

	lock_take();
	for (i = 0; i < nsites; i++) {
		struct site *s = &sites[i];

		if (set_prot(s->at, s->len, s->prot | PROT_WRITE))
			continue; /* unmapped since (dlclose) */
		if (!memcmp((const void *)(uintptr_t)s->at, s->patch, s->len))
			write_sites(i, 1, true);
		set_prot(s->at, s->len, s->prot);
	}
	nsites = 0;
	stats.lazy = 0;
	stats.skipped = 0;
	stats.trapped = 0;
	stats.cached = 0;
	__atomic_store_n(&ntrapped, 0, __ATOMIC_RELAXED);
	lock_drop();
}

bool sys_rewrite_lazy(uint64_t ip)
{
	struct sys_map v = { 0 };
	uint64_t a = ip - 2;
	bool done = false;
	char buf[4096], line[512];
	size_t ll = 0;
	long r;
	int fd;

	if (!page0 || straddling(a) || in_stub(a) || !lock_try())
		return false;
	if (memcmp((const void *)(uintptr_t)a, "\x0f\x05", 2))
		goto out;
	/* find @a's mapping (streamed: the stack here is the host's) */
	fd = (int)sys_raw6(SYS_open, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC,
			   0, 0, 0, 0);
	if (fd < 0)
		goto out;
	while (!done && (r = sys_raw6(SYS_read, fd, (long)buf, sizeof(buf), 0, 0, 0)) > 0) {
		for (long i = 0; i < r && !done; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			if (parse_line(line, &v) && a >= v.start && a + 2 <= v.end)
				done = true;
		}
	}
	sys_raw6(SYS_close, fd, 0, 0, 0, 0, 0);
	if (!done || !scannable(&v)) {
		done = false;
		goto out;
	}
	done = false;
	if (set_prot(a, 2, v.prot | PROT_WRITE))
		goto out;
	if (add_site(a, v.prot)) {
		store2(a, 0xd0ff);			/* call *%rax */
		stats.lazy++;
		done = true;
	}
	set_prot(a, 2, v.prot);
out:
	lock_drop();
	return done;
}
