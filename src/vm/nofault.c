/* SPDX-License-Identifier: MIT */
/*
 * nofault.c - memory reads that survive bad pointers, as the kernel's
 * copy_from_kernel_nofault: a fault inside the copy routines returns -EFAULT
 * instead of killing the process.
 *
 * The copy routines are a few lines of assembly between two labels. A
 * SIGSEGV/SIGBUS handler, installed once and chained to whatever handler
 * was there before, checks whether the faulting instruction lies between
 * the labels; if so it resumes at the routine's fixup, which returns
 * -EFAULT. Any other fault goes to the previous handler (or the default
 * action), so the host's own crash handling is untouched. The fast path is
 * a plain load/store loop: no syscall, no setjmp.
 *
 * Only the source may fault: destinations are memory the verifier proved
 * writable (stack, map values).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "vm/vm_internal.h"

/* long vm_nofault_copy(void *dst, const void *src, size_t n): 0 / -EFAULT
 * long vm_nofault_strncpy(void *dst, const void *src, size_t n): bytes
 *   copied including the NUL (n when truncated; dst[n-1] = 0) / -EFAULT,
 *   n > 0 */
__asm__(".text\n"
	".p2align 4\n"
	".globl vm_nofault_begin\n"
	".hidden vm_nofault_begin\n"
	"vm_nofault_begin:\n"
	".globl vm_nofault_copy\n"
	".hidden vm_nofault_copy\n"
	".type vm_nofault_copy, @function\n"
	"vm_nofault_copy:\n"
	"	xor %eax, %eax\n"
	"	cmp $8, %rdx\n"
	"	jb 2f\n"
	"1:	mov (%rsi), %rcx\n"		/* 8 bytes at a time */
	"	mov %rcx, (%rdi)\n"
	"	add $8, %rsi\n"
	"	add $8, %rdi\n"
	"	sub $8, %rdx\n"
	"	cmp $8, %rdx\n"
	"	jae 1b\n"
	"2:	test %rdx, %rdx\n"
	"	jz 3f\n"
	"4:	movb (%rsi), %cl\n"		/* tail bytes */
	"	movb %cl, (%rdi)\n"
	"	inc %rsi\n"
	"	inc %rdi\n"
	"	dec %rdx\n"
	"	jnz 4b\n"
	"3:	ret\n"
	".size vm_nofault_copy, .-vm_nofault_copy\n"
	".globl vm_nofault_strncpy\n"
	".hidden vm_nofault_strncpy\n"
	".type vm_nofault_strncpy, @function\n"
	"vm_nofault_strncpy:\n"
	"	xor %eax, %eax\n"
	"1:	cmp %rdx, %rax\n"
	"	je 5f\n"
	"	movb (%rsi,%rax), %cl\n"
	"	movb %cl, (%rdi,%rax)\n"
	"	inc %rax\n"
	"	test %cl, %cl\n"
	"	jnz 1b\n"
	"	ret\n"
	"5:	movb $0, -1(%rdi,%rdx)\n"	/* truncated: keep it a string */
	"	ret\n"
	".size vm_nofault_strncpy, .-vm_nofault_strncpy\n"
	".globl vm_nofault_end\n"
	".hidden vm_nofault_end\n"
	"vm_nofault_end:\n"
	"vm_nofault_fixup:\n"
	"	mov $-14, %rax\n"		/* -EFAULT */
	"	ret\n");

extern const char vm_nofault_begin[], vm_nofault_end[];
void vm_nofault_fixup(void);

static struct sigaction old_segv, old_bus;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile int installed;

static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
	} else if (old->sa_handler == SIG_IGN) {
		return;
	} else if (old->sa_handler != SIG_DFL) {
		old->sa_handler(sig);
	} else {
		/* default action: let the fault happen again without us */
		signal(sig, SIG_DFL);
	}
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];

	if (ip >= (uintptr_t)vm_nofault_begin && ip < (uintptr_t)vm_nofault_end) {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)vm_nofault_fixup;
		return;
	}
	chain(sig, si, ucv);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	installed = 1;
}

/*
 * A host that installs its own SIGSEGV/SIGBUS handler after us would
 * unhook fault recovery. The interposers of sigaction()/signal() (in the
 * agent and in the shim) call this first: with our handler in place the
 * host's handler becomes the one we chain to, and ours stays. Returns 0
 * when it handled the call, 1 when the caller should go to libc.
 */
int vm_nofault_sigaction(int sig, const struct sigaction *act,
			 struct sigaction *old)
{
	struct sigaction *slot;

	if (!installed || (sig != SIGSEGV && sig != SIGBUS))
		return 1;
	slot = sig == SIGBUS ? &old_bus : &old_segv;
	if (old)
		*old = *slot;
	if (act)
		*slot = *act;
	return 0;
}

void vm_thread_block_signals(void)
{
	static const int sync_sigs[] = { SIGSEGV, SIGBUS, SIGTRAP, SIGILL, SIGFPE,
					 SIGSYS };
	sigset_t set;
	size_t i;
	int sig;

	/* async signals are the host's: never deliver them to our threads;
	 * synchronous ones must stay open (blocked, the kernel kills the
	 * process), and so must real-time ones (code patching uses one) */
	sigemptyset(&set);
	for (sig = 1; sig < SIGRTMIN; sig++)
		sigaddset(&set, sig);
	for (i = 0; i < sizeof(sync_sigs) / sizeof(sync_sigs[0]); i++)
		sigdelset(&set, sync_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void vm_nofault_init(void)
{
	pthread_once(&once, install);
}
