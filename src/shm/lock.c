/* SPDX-License-Identifier: MIT */
/*
 * lock.c - cross-process locks, per-thread ids, CPU ids.
 *
 * struct shm_lock is one word holding the owner's tid (0 = free) and a
 * count of sleepers. Lock: CAS 0 -> tid; spin a little; then sleep on a
 * shared futex on the owner word with a timeout, so that a waiter wakes
 * now and then to ask whether the owner still lives (kill(tid, 0)); a dead
 * owner is replaced by CAS(dead tid -> my tid). That is what lets a
 * process killed in the middle of a map update leave the map usable.
 * Unlock: exchange 0 (a full barrier), then wake one sleeper if the count
 * says there is one; a waiter counts itself before it compares the word in
 * FUTEX_WAIT, so no wake-up is lost. A sleeper killed while counted only
 * costs later unlocks a spurious futex_wake.
 *
 * Limits: a tid reused by a new thread before a waiter notices the death
 * makes the lock look held until that thread ends (needs pid_max
 * wrap-around within the timeout: not seen in practice). Tids are compared
 * in the caller's pid namespace: every process of a session must share one.
 *
 * shm_cpu reads cpu_id from the thread's rseq area (registered by glibc
 * 2.35+), so per-CPU maps pay no syscall; shm_ncpus counts the possible
 * CPUs as libbpf does (/sys/devices/system/cpu/possible).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "shm/shm.h"

#define SPINS 2000 /* short critical sections: spin before sleeping */
#define WAIT_NS 20000000L /* 20 ms between owner liveness checks */

static __thread uint32_t tid_cache;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void child_reset(void)
{
	tid_cache = 0;
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, child_reset);
}

uint32_t shm_tid(void)
{
	if (__builtin_expect(tid_cache == 0, 0)) {
		pthread_once(&atfork_once, register_atfork);
		tid_cache = (uint32_t)syscall(SYS_gettid);
	}
	return tid_cache;
}

int shm_tid_dead(uint32_t tid)
{
	if (tid == 0)
		return 0;
	return kill((pid_t)tid, 0) == -1 && errno == ESRCH;
}

static void cpu_relax(void)
{
	__builtin_ia32_pause();
}

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

int shm_trylock(struct shm_lock *l)
{
	uint32_t me = shm_tid(), cur = 0;

	if (__atomic_compare_exchange_n(&l->owner, &cur, me, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if (shm_tid_dead(cur) &&
	    __atomic_compare_exchange_n(&l->owner, &cur, me, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	return -EBUSY;
}

static void lock_slow(struct shm_lock *l, uint32_t me)
{
	struct timespec ts = { 0, WAIT_NS };
	uint32_t cur;
	int i;

	for (i = 0; i < SPINS; i++) {
		cpu_relax();
		cur = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
		if (cur == 0 &&
		    __atomic_compare_exchange_n(&l->owner, &cur, me, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
	}
	for (;;) {
		cur = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
		if (cur == 0 || shm_tid_dead(cur)) {
			/* free, or its owner died: take it (over) */
			if (__atomic_compare_exchange_n(&l->owner, &cur, me,
							false, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				return;
			continue;
		}
		__atomic_fetch_add(&l->waiters, 1, __ATOMIC_SEQ_CST);
		futex(&l->owner, FUTEX_WAIT, cur, &ts);
		__atomic_fetch_sub(&l->waiters, 1, __ATOMIC_RELAXED);
	}
}

void shm_lock(struct shm_lock *l)
{
	uint32_t me = shm_tid(), cur = 0;

	if (__builtin_expect(__atomic_compare_exchange_n(&l->owner, &cur, me,
							 false, __ATOMIC_ACQUIRE,
							 __ATOMIC_RELAXED),
			     1))
		return;
	lock_slow(l, me);
}

void shm_unlock(struct shm_lock *l)
{
	__atomic_exchange_n(&l->owner, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&l->waiters, __ATOMIC_SEQ_CST))
		futex(&l->owner, FUTEX_WAKE, 1, NULL);
}

void shm_spin_lock(uint32_t *word)
{
	uint32_t me = shm_tid(), cur;
	unsigned i = 0;

	for (;;) {
		cur = 0;
		if (__atomic_compare_exchange_n(word, &cur, me, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (++i % 256 == 0) {
			if (shm_tid_dead(cur) &&
			    __atomic_compare_exchange_n(word, &cur, me, false,
							__ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				return;
			sched_yield();
		} else {
			cpu_relax();
		}
	}
}

void shm_spin_unlock(uint32_t *word)
{
	__atomic_store_n(word, 0, __ATOMIC_RELEASE);
}

unsigned shm_cpu(void)
{
	int cpu;

#ifdef SHM_HAVE_RSEQ
	if (__rseq_size != 0) {
		char *tp;
		uint32_t c;

		__asm__("mov %%fs:0, %0" : "=r"(tp));
		c = *(volatile uint32_t *)(tp + __rseq_offset +
					   offsetof(struct rseq, cpu_id));
		if (c < 0x80000000u)
			return c;
	}
#endif
	cpu = sched_getcpu();
	return cpu < 0 ? 0 : (unsigned)cpu;
}

/* "0-3,8-11" -> highest id + 1 (possible CPU ids are dense from 0). */
static unsigned parse_possible(const char *s)
{
	unsigned max = 0;
	char *end;

	while (*s) {
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			break;
		s = end;
		if (*s == '-') {
			b = strtoul(s + 1, &end, 10);
			s = end;
		}
		if (b + 1 > max)
			max = (unsigned)b + 1;
		if (*s == ',')
			s++;
		else
			break;
	}
	return max;
}

unsigned shm_ncpus(void)
{
	static unsigned cached;
	unsigned n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	char buf[256];
	ssize_t len;
	int fd;

	if (n)
		return n;
	fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len > 0) {
			buf[len] = 0;
			n = parse_possible(buf);
		}
	}
	if (n == 0) {
		int c = get_nprocs_conf();

		n = c > 0 ? (unsigned)c : 1;
	}
	__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	return n;
}
