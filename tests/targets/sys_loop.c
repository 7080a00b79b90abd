/* SPDX-License-Identifier: MIT */
/*
 * sys_loop N [exec] - makes exactly 4*N getppid syscalls, each way a
 * program can: libc's wrapper, an inline `syscall` in this binary, code
 * generated at run time in an anonymous page (as a JIT's), and from a
 * second thread; a vfork child in between. With "exec" it then execs
 * itself once more (so 8*N in all). It prints its own count, for the e2e
 * tests to compare with what syscall tracepoints saw.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int n;

static long inline_getppid(void)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
	return r;
}

static void *thread_main(void *arg)
{
	int i;

	for (i = 0; i < n; i++)
		getppid();
	return arg;
}

int main(int argc, char **argv)
{
	static const unsigned char code[] = {
		0xb8, 0x6e, 0x00, 0x00, 0x00,	/* mov eax, 110 (getppid) */
		0x0f, 0x05,			/* syscall */
		0xc3,				/* ret */
	};
	long (*jit)(void);
	pthread_t t;
	pid_t pid;
	void *p;
	int i;

	if (argc < 2)
		return 2;
	n = atoi(argv[1]);
	for (i = 0; i < n; i++)
		getppid();
	for (i = 0; i < n; i++)
		inline_getppid();
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memcpy(p, code, sizeof(code));
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	jit = (long (*)(void))p;
	for (i = 0; i < n; i++)
		jit();
	pid = vfork();
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	pthread_create(&t, NULL, thread_main, NULL);
	pthread_join(t, NULL);
	printf("sys_loop: %d getppid\n", 4 * n);
	fflush(stdout);
	if (argc > 2 && !strcmp(argv[2], "exec"))
		execl("/proc/self/exe", "sys_loop", argv[1], (char *)NULL);
	return 0;
}
