/* SPDX-License-Identifier: MIT */
/*
 * stack_trace.c - BPF_MAP_TYPE_STACK_TRACE, bpf_get_stackid, bpf_get_stack.
 *
 * The map is the kernel's stackmap: key u32 stack id, value an array of
 * u64 instruction pointers (value_size / 8 deep, at most 127). A stack's
 * id is hash(ips) & (n_buckets - 1), n_buckets = roundup_pow_of_two(
 * max_entries); a bucket holding another stack gives -EEXIST unless
 * BPF_F_REUSE_STACKID. Buckets carry a sequence number (odd while
 * written); writers claim it with a CAS, syscall-side readers retry.
 *
 * Stacks are user stacks only (there is no kernel stack in a user
 * process): without BPF_F_USER_STACK the helpers answer -EFAULT, as the
 * kernel does when it has no callchain. The walk follows frame pointers
 * from the context's struct pt_regs (rip, rbp) or from the caller, and
 * reads only inside the current thread's stack (bounds from
 * pthread_getattr_np, cached per thread), so a bad frame pointer ends the
 * walk instead of faulting. Code built without frame pointers gives short
 * stacks, as it does for the kernel's user stack walker.
 * BPF_F_STACK_BUILD_ID is not supported (-EOPNOTSUPP at creation).
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <pthread.h>

#include "maps/map_internal.h"

#define MAX_DEPTH 127u /* sysctl kernel.perf_event_max_stack */

struct st_hdr {
	uint32_t n_buckets;
	uint32_t depth;
	uint64_t seed;
};

struct st_bucket {
	uint32_t seq;
	uint32_t hash;
	uint32_t nr;
	uint32_t pad;
	uint64_t ips[];
};

struct stmap {
	struct bpfx_map map;
	struct st_hdr *h;
	uint8_t *buckets;
	uint32_t bsize, mask, depth;
};

static uint32_t pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int st_check(const struct map_def *d)
{
	if (d->key_size != 4 || d->value_size < 8 || d->value_size % 8 ||
	    d->value_size / 8 > MAX_DEPTH || !d->max_entries ||
	    (d->map_flags & ~(BPF_F_NUMA_NODE | MAP_ACCESS_MASK |
			      BPF_F_STACK_BUILD_ID)))
		return -EINVAL;
	if (d->map_flags & BPF_F_STACK_BUILD_ID)
		return -EOPNOTSUPP;
	if (d->max_entries > (1u << 28))
		return -E2BIG;
	return 0;
}

static int st_layout(const struct map_def *d, struct map_layout *l)
{
	l->local_size = sizeof(struct stmap);
	l->type_hdr_size = sizeof(struct st_hdr);
	l->data_size = (uint64_t)pow2(d->max_entries) *
		       (sizeof(struct st_bucket) + d->value_size);
	return 0;
}

static int st_init(struct bpfx_map *m)
{
	struct st_hdr *h = map_type_hdr(m);

	h->n_buckets = pow2(m->max_entries);
	h->depth = m->value_size / 8;
	h->seed = map_random_seed();
	return 0;
}

static int st_attach(struct bpfx_map *m)
{
	struct stmap *s = (struct stmap *)m;

	s->h = map_type_hdr(m);
	if (s->h->n_buckets != pow2(m->max_entries) ||
	    s->h->depth != m->value_size / 8)
		return -EINVAL;
	s->buckets = m->data;
	s->bsize = (uint32_t)sizeof(struct st_bucket) + m->value_size;
	s->mask = s->h->n_buckets - 1;
	s->depth = s->h->depth;
	return 0;
}

static struct st_bucket *bucket(struct stmap *s, uint32_t id)
{
	return (struct st_bucket *)(s->buckets + (uint64_t)id * s->bsize);
}

/* ---- the walk ---- */

static __thread uintptr_t stk_lo, stk_hi;

static void stack_bounds(void)
{
	pthread_attr_t a;
	size_t size;
	void *addr;

	if (pthread_getattr_np(pthread_self(), &a))
		return;
	if (!pthread_attr_getstack(&a, &addr, &size)) {
		stk_lo = (uintptr_t)addr;
		stk_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&a);
}

static __attribute__((noinline)) uint32_t walk(const struct pt_regs *regs,
					       uint64_t *ips, uint32_t max,
					       uint32_t skip)
{
	uintptr_t fp, ip;
	uint32_t nr = 0;

	if (!stk_hi)
		stack_bounds();
	if (regs) {
		ip = regs->rip;
		fp = regs->rbp;
	} else {
		fp = (uintptr_t)__builtin_frame_address(0);
		ip = (uintptr_t)__builtin_return_address(0);
		fp = (fp >= stk_lo && fp + 16 <= stk_hi) ? *(uintptr_t *)fp
							 : 0;
	}
	while (nr < max) {
		uintptr_t next;

		if (skip)
			skip--;
		else
			ips[nr++] = ip;
		if (fp < stk_lo || fp + 16 > stk_hi || (fp & 7))
			break;
		next = ((uintptr_t *)fp)[0];
		ip = ((uintptr_t *)fp)[1];
		if (!ip || next <= fp)
			break;
		fp = next;
	}
	return nr;
}

long map_stack_get_id(void *regs, struct bpfx_map *m, uint64_t flags)
{
	struct stmap *s = (struct stmap *)m;
	uint64_t ips[MAX_DEPTH];
	struct st_bucket *b;
	uint32_t nr, hash, id, seq;

	if (flags & ~(uint64_t)(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK |
				BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID))
		return -EINVAL;
	if (!(flags & BPF_F_USER_STACK))
		return -EFAULT;
	nr = walk(regs, ips, s->depth, (uint32_t)(flags & BPF_F_SKIP_FIELD_MASK));
	if (!nr)
		return -EFAULT;
	hash = map_hash(ips, nr * 8, s->h->seed);
	id = hash & s->mask;
	b = bucket(s, id);
	seq = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
	if (!(seq & 1) && b->nr == nr && b->hash == hash &&
	    !memcmp(b->ips, ips, nr * 8ul))
		return id;
	if (b->nr && !(flags & BPF_F_REUSE_STACKID))
		return -EEXIST;
	/* claim: even -> odd; a writer that died leaves it odd, take over */
	for (int spins = 0;; spins++) {
		seq = __atomic_load_n(&b->seq, __ATOMIC_RELAXED);
		if ((!(seq & 1) || spins > 100000) &&
		    __atomic_compare_exchange_n(&b->seq, &seq, seq | 1, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		__builtin_ia32_pause();
	}
	b->hash = hash;
	b->nr = nr;
	memcpy(b->ips, ips, nr * 8ul);
	__atomic_store_n(&b->seq, (seq | 1) + 1, __ATOMIC_RELEASE);
	return id;
}

long map_stack_get(void *regs, void *buf, uint32_t size, uint64_t flags)
{
	uint32_t nr, max = size / 8;
	long err;

	if (flags & ~(uint64_t)(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK |
				BPF_F_USER_BUILD_ID) ||
	    (flags & BPF_F_USER_BUILD_ID) || size % 8) {
		err = -EINVAL;
		goto clear;
	}
	if (!(flags & BPF_F_USER_STACK)) {
		err = -EFAULT;
		goto clear;
	}
	if (max > MAX_DEPTH)
		max = MAX_DEPTH;
	nr = walk(regs, buf, max, (uint32_t)(flags & BPF_F_SKIP_FIELD_MASK));
	if (nr * 8 < size)
		memset((uint8_t *)buf + nr * 8, 0, size - nr * 8);
	return (long)nr * 8;
clear:
	memset(buf, 0, size);
	return err;
}

/* ---- syscall side ---- */

static void *st_lookup(struct bpfx_map *m, const void *key)
{
	return NULL; /* the kernel: -EOPNOTSUPP for programs */
}

static int st_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			 uint64_t flags)
{
	struct stmap *s = (struct stmap *)m;
	struct st_bucket *b;
	uint32_t id, seq, nr;

	memcpy(&id, key, 4);
	if (flags)
		return -EINVAL;
	if (id > s->mask)
		return -ENOENT;
	b = bucket(s, id);
	do {
		seq = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
		nr = b->nr;
		if (!nr)
			return -ENOENT;
		if (nr > s->depth)
			nr = s->depth;
		memcpy(value, b->ips, nr * 8ul);
		memset((uint8_t *)value + nr * 8, 0, m->value_size - nr * 8);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) ||
		 __atomic_load_n(&b->seq, __ATOMIC_RELAXED) != seq);
	return 0;
}

static int st_sys_update(struct bpfx_map *m, const void *key,
			 const void *value, uint64_t flags)
{
	return -EINVAL;
}

static int st_sys_delete(struct bpfx_map *m, const void *key)
{
	struct stmap *s = (struct stmap *)m;
	struct st_bucket *b;
	uint32_t id, seq;

	memcpy(&id, key, 4);
	if (id > s->mask)
		return -E2BIG;
	b = bucket(s, id);
	seq = __atomic_load_n(&b->seq, __ATOMIC_RELAXED);
	if ((seq & 1) || !b->nr ||
	    !__atomic_compare_exchange_n(&b->seq, &seq, seq | 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -ENOENT;
	b->nr = 0;
	__atomic_store_n(&b->seq, seq + 2, __ATOMIC_RELEASE);
	return 0;
}

static int st_next(struct bpfx_map *m, const void *key, void *next_key)
{
	struct stmap *s = (struct stmap *)m;
	uint32_t id = UINT32_MAX;

	if (key) {
		memcpy(&id, key, 4);
		if (id > s->mask || !bucket(s, id)->nr)
			id = UINT32_MAX;
	}
	for (id++; id <= s->mask; id++)
		if (__atomic_load_n(&bucket(s, id)->nr, __ATOMIC_RELAXED)) {
			memcpy(next_key, &id, 4);
			return 0;
		}
	return -ENOENT;
}

const struct map_ops map_stack_trace_ops = {
	.check = st_check,
	.layout = st_layout,
	.init = st_init,
	.attach = st_attach,
	.lookup = st_lookup,
	.sys_lookup = st_sys_lookup,
	.sys_update = st_sys_update,
	.sys_delete = st_sys_delete,
	.get_next_key = st_next,
};
