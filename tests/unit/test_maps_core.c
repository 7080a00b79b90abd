/* SPDX-License-Identifier: MIT */
/* Arrays, hashes, per-CPU and LRU variants: semantics, flags, errors,
 * iteration, the per-CPU syscall layout, mmap layout, cross-process. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maps/maps.h"

static char sess[64];

static struct shm_session *open_sess(void)
{
	struct shm_session *s;

	snprintf(sess, sizeof(sess), "test-maps-%d", (int)getpid());
	s = shm_session_open(sess);
	assert_non_null(s);
	return s;
}

static void done(struct shm_session *s)
{
	shm_session_close(s);
	shm_session_reset(sess);
}

static struct bpfx_map *mk(struct shm_session *s, uint32_t type, uint32_t ks,
			   uint32_t vs, uint32_t max, uint32_t flags)
{
	struct map_def d = { .type = type, .key_size = ks, .value_size = vs,
			     .max_entries = max, .map_flags = flags };
	struct bpfx_map *m = NULL;

	assert_int_equal(map_create(s, &d, &m), 0);
	return m;
}

static int try_create(struct shm_session *s, uint32_t type, uint32_t ks,
		      uint32_t vs, uint32_t max, uint32_t flags)
{
	struct map_def d = { .type = type, .key_size = ks, .value_size = vs,
			     .max_entries = max, .map_flags = flags };
	struct bpfx_map *m = NULL;
	int err = map_create(s, &d, &m);

	map_close(m);
	return err;
}

static void test_create_validation(void **state)
{
	struct shm_session *s = open_sess();
	static const struct {
		uint32_t type, ks, vs, max, flags;
		int err;
	} cases[] = {
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, 0 },
		{ BPF_MAP_TYPE_ARRAY, 8, 8, 16, 0, -EINVAL },
		{ BPF_MAP_TYPE_ARRAY, 4, 0, 16, 0, -EINVAL },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0, -EINVAL },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_NO_PREALLOC, -EINVAL },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY,
		  -EINVAL },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 16,
		  BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, -EINVAL },
		{ BPF_MAP_TYPE_ARRAY, 4, (1u << 22) + 1, 1, 0, -E2BIG },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPF_F_MMAPABLE, -EINVAL },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 4, 0, -E2BIG },
		{ BPF_MAP_TYPE_HASH, 4, 8, 16, 0, 0 },
		{ BPF_MAP_TYPE_HASH, 0, 8, 16, 0, -EINVAL },
		{ BPF_MAP_TYPE_HASH, 4, 0, 16, 0, -EINVAL },
		{ BPF_MAP_TYPE_HASH, 4, 8, 0, 0, -EINVAL },
		{ BPF_MAP_TYPE_HASH, 513, 8, 16, 0, -E2BIG },
		{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_MMAPABLE, -EINVAL },
		{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU, -EINVAL },
		{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, -524 },
		{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU, 0 },
		{ BPF_MAP_TYPE_PERCPU_HASH, 4, 40000, 16, 0, -E2BIG },
		{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 0 },
		{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 * 3, 0, -EINVAL },
		{ BPF_MAP_TYPE_RINGBUF, 0, 0, 1024, 0, -EINVAL },
		{ BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0, -EINVAL },
		{ BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_QUEUE, 4, 8, 4, 0, -EINVAL },
		{ BPF_MAP_TYPE_STACK, 0, 0, 4, 0, -EINVAL },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 100, 0, 0 },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 4, 8, 100, 0, -EINVAL },
		{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, 0, -EINVAL },
		{ BPF_MAP_TYPE_LPM_TRIE, 4, 8, 16, BPF_F_NO_PREALLOC, -EINVAL },
		{ BPF_MAP_TYPE_LPM_TRIE, 4 + 257, 8, 16, BPF_F_NO_PREALLOC,
		  -EINVAL },
		{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8, 0, 0 },
		{ BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 8, 0, -EINVAL },
		{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0, 0 },
		{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, BPF_F_RDONLY_PROG,
		  -EINVAL },
		{ BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 16, 64, 0, 0 },
		{ BPF_MAP_TYPE_STACK_TRACE, 4, 12, 64, 0, -EINVAL },
		{ BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 128, 64, 0, -EINVAL },
		{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, 0, -EBADF },
		{ BPF_MAP_TYPE_SOCKMAP, 4, 4, 4, 0, -EOPNOTSUPP },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = try_create(s, cases[i].type, cases[i].ks,
				     cases[i].vs, cases[i].max,
				     cases[i].flags);

		if (err != cases[i].err)
			fail_msg("case %zu (%s): got %d, want %d", i,
				 map_type_name(cases[i].type), err,
				 cases[i].err);
	}
	done(s);
}

static void test_array(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_ARRAY, 4, 12, 8, 0);
	uint32_t k = 3, nk;
	uint8_t v[12], out[12];
	uint64_t *p;

	memset(v, 0xab, sizeof(v));
	assert_int_equal(map_sys_lookup(m, &k, out, 0), 0); /* zeroed */
	assert_int_equal(out[0], 0);
	assert_int_equal(map_sys_update(m, &k, v, BPF_ANY), 0);
	assert_int_equal(map_sys_update(m, &k, v, BPF_EXIST), 0);
	assert_int_equal(map_sys_update(m, &k, v, BPF_NOEXIST), -EEXIST);
	assert_int_equal(map_sys_update(m, &k, v, 7), -EINVAL);
	assert_int_equal(map_sys_update(m, &k, v, BPF_F_LOCK), -EINVAL);
	assert_int_equal(map_sys_lookup(m, &k, out, 0), 0);
	assert_memory_equal(out, v, 12);
	assert_int_equal(map_sys_lookup(m, &k, out, 99), -EINVAL);
	k = 8;
	assert_int_equal(map_sys_update(m, &k, v, 0), -E2BIG);
	assert_int_equal(map_sys_lookup(m, &k, out, 0), -ENOENT);
	assert_null(map_lookup(m, &k));
	assert_int_equal(map_sys_delete(m, &k), -EINVAL);
	k = 3;
	p = map_lookup(m, &k);
	assert_non_null(p);
	assert_int_equal(((uintptr_t)p) % 8, 0);
	assert_int_equal(map_sys_value_size(m), 12);
	/* get_next_key: NULL and out-of-range restart at 0 */
	assert_int_equal(map_sys_get_next_key(m, NULL, &nk), 0);
	assert_int_equal(nk, 0);
	k = 100;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), 0);
	assert_int_equal(nk, 0);
	k = 6;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), 0);
	assert_int_equal(nk, 7);
	k = 7;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), -ENOENT);
	/* program side */
	k = 1;
	assert_int_equal(map_update(m, &k, v, BPF_ANY), 0);
	assert_memory_equal(map_lookup(m, &k), v, 12);
	assert_int_equal(map_delete(m, &k), -EINVAL);
	/* freeze */
	assert_int_equal(map_sys_freeze(m), 0);
	assert_int_equal(map_sys_freeze(m), -EBUSY);
	assert_int_equal(map_sys_update(m, &k, v, 0), -EPERM);
	assert_int_equal(map_update(m, &k, v, 0), 0); /* programs may */
	map_close(m);
	done(s);
}

static void test_array_access_flags(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *ro = mk(s, BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY);
	struct bpfx_map *wo = mk(s, BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_WRONLY);
	uint32_t k = 0;
	uint64_t v = 1;

	assert_int_equal(map_sys_update(ro, &k, &v, 0), -EPERM);
	assert_int_equal(map_sys_lookup(ro, &k, &v, 0), 0);
	assert_int_equal(map_sys_update(wo, &k, &v, 0), 0);
	assert_int_equal(map_sys_lookup(wo, &k, &v, 0), -EPERM);
	assert_int_equal(map_sys_get_next_key(wo, NULL, &k), -EPERM);
	map_close(ro);
	map_close(wo);
	done(s);
}

static void test_array_mmap(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_ARRAY, 4, 4, 2000,
				BPF_F_MMAPABLE);
	struct bpfx_map *plain = mk(s, BPF_MAP_TYPE_ARRAY, 4, 4, 4, 0);
	struct map_mmap_seg seg[2];
	uint32_t k = 1500, v = 0xdeadbeef, got;
	int fd, n;

	assert_int_equal(map_sys_update(m, &k, &v, 0), 0);
	n = map_mmap_region(m, 0, 8192, 0, seg, 2);
	assert_int_equal(n, 1);
	assert_int_equal(seg[0].file_off % 4096, 0);
	assert_int_equal(seg[0].len, 8192);
	fd = shm_obj_open_fd(s, SHM_MAP, m->id, 0);
	assert_true(fd >= 0);
	/* the kernel's layout: value i at i * round_up(value_size, 8) */
	assert_int_equal(pread(fd, &got, 4, (off_t)(seg[0].file_off + 1500 * 8)),
			 4);
	assert_int_equal(got, v);
	close(fd);
	assert_int_equal(map_mmap_region(m, 0, 5 * 4096, 0, seg, 2), -EINVAL);
	assert_int_equal(map_mmap_region(plain, 0, 4096, 0, seg, 2), -EINVAL);
	assert_int_equal(map_sys_freeze(m), 0);
	assert_int_equal(map_mmap_region(m, 0, 4096, MAP_PROT_WRITE, seg, 2),
			 -EPERM);
	map_close(m);
	map_close(plain);
	done(s);
}

struct locked_val {
	uint64_t a;
	uint32_t lock;
	uint32_t b;
};

static void test_spin_lock_flag(void **state)
{
	struct shm_session *s = open_sess();
	struct map_def d = { .type = BPF_MAP_TYPE_HASH, .key_size = 4,
			     .value_size = sizeof(struct locked_val),
			     .max_entries = 4, .has_spin_lock = 1,
			     .spin_lock_off = 8 };
	struct locked_val v = { 1, 77, 2 }, out;
	struct bpfx_map *m;
	uint32_t k = 5;

	assert_int_equal(map_create(s, &d, &m), 0);
	assert_int_equal(map_sys_update(m, &k, &v, BPF_F_LOCK | BPF_EXIST),
			 -ENOENT);
	assert_int_equal(map_sys_update(m, &k, &v, BPF_ANY), 0);
	assert_int_equal(((struct locked_val *)map_lookup(m, &k))->lock, 0);
	v.a = 10;
	assert_int_equal(map_sys_update(m, &k, &v, BPF_F_LOCK), 0);
	assert_int_equal(map_sys_lookup(m, &k, &out, BPF_F_LOCK), 0);
	assert_int_equal(out.a, 10);
	assert_int_equal(out.lock, 0);
	d.spin_lock_off = 6;
	assert_int_equal(map_create(s, &d, &m), -EINVAL);
	map_close(m);
	done(s);
}

static void test_hash(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_HASH, 8, 16, 64, 0);
	uint64_t k, v[2], out[2], seen[64] = { 0 }, nk;
	int i, n;

	k = 1;
	v[0] = 11;
	v[1] = 12;
	assert_int_equal(map_sys_lookup(m, &k, out, 0), -ENOENT);
	assert_int_equal(map_sys_update(m, &k, v, BPF_EXIST), -ENOENT);
	assert_int_equal(map_sys_update(m, &k, v, BPF_NOEXIST), 0);
	assert_int_equal(map_sys_update(m, &k, v, BPF_NOEXIST), -EEXIST);
	v[0] = 21;
	assert_int_equal(map_sys_update(m, &k, v, BPF_EXIST), 0);
	assert_int_equal(map_sys_lookup(m, &k, out, 0), 0);
	assert_int_equal(out[0], 21);
	assert_int_equal(map_sys_update(m, &k, v, 4), -EINVAL);
	assert_int_equal(map_sys_update(m, &k, v, BPF_F_LOCK), -EINVAL);
	assert_int_equal(map_sys_delete(m, &k), 0);
	assert_int_equal(map_sys_delete(m, &k), -ENOENT);
	/* fill: the 65th key is -E2BIG, replacing a key still works */
	for (i = 0; i < 64; i++) {
		k = (uint64_t)i * 7919;
		v[0] = (uint64_t)i;
		assert_int_equal(map_update(m, &k, v, BPF_ANY), 0);
	}
	k = 1;
	assert_int_equal(map_sys_update(m, &k, v, BPF_ANY), -E2BIG);
	k = 7919;
	v[0] = 1000;
	assert_int_equal(map_sys_update(m, &k, v, BPF_ANY), 0);
	assert_int_equal(((uint64_t *)map_lookup(m, &k))[0], 1000);
	/* iteration visits every key once */
	n = 0;
	assert_int_equal(map_sys_get_next_key(m, NULL, &nk), 0);
	do {
		assert_int_equal(nk % 7919, 0);
		seen[nk / 7919]++;
		n++;
		k = nk;
	} while (map_sys_get_next_key(m, &k, &nk) == 0);
	assert_int_equal(n, 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(seen[i], 1);
	/* a missing key restarts from the first */
	k = 3;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), 0);
	/* lookup_and_delete */
	k = 7919 * 5;
	assert_int_equal(map_sys_lookup_and_delete(m, &k, out, 0), 0);
	assert_int_equal(out[0], 5);
	assert_int_equal(map_sys_lookup_and_delete(m, &k, out, 0), -ENOENT);
	assert_null(map_lookup(m, &k));
	/* program side delete */
	k = 0;
	assert_int_equal(map_delete(m, &k), 0);
	assert_null(map_lookup(m, &k));
	k = 99;
	assert_int_equal(map_update(m, &k, v, BPF_NOEXIST), 0);
	assert_int_equal(map_update(m, &k, v, BPF_NOEXIST), -EEXIST);
	map_close(m);
	done(s);
}

static void test_hash_no_prealloc_full(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_HASH, 4, 4, 10,
				BPF_F_NO_PREALLOC);
	uint32_t k, v = 1;

	for (k = 0; k < 10; k++)
		assert_int_equal(map_update(m, &k, &v, BPF_ANY), 0);
	assert_int_equal(map_update(m, &k, &v, BPF_ANY), -E2BIG);
	k = 3;
	assert_int_equal(map_delete(m, &k), 0);
	k = 50;
	assert_int_equal(map_update(m, &k, &v, BPF_ANY), 0);
	/* churn: delete + insert many times never leaks elements */
	for (v = 0; v < 10000; v++) {
		k = 50;
		assert_int_equal(map_delete(m, &k), 0);
		assert_int_equal(map_update(m, &k, &v, BPF_NOEXIST), 0);
		assert_int_equal(map_update(m, &k, &v, BPF_ANY), 0);
	}
	map_close(m);
	done(s);
}

static void test_percpu_array_layout(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 4, 0);
	unsigned n = shm_ncpus(), c;
	size_t vsz = map_sys_value_size(m);
	uint8_t *in = calloc(1, vsz), *out = calloc(1, vsz);
	uint32_t k = 2;
	uint8_t *p;

	assert_int_equal(vsz, 16 * n);
	for (c = 0; c < n; c++)
		memset(in + 16 * c, (int)(c + 1), 12);
	assert_int_equal(map_sys_update(m, &k, in, 0), 0);
	memset(out, 0xff, vsz);
	assert_int_equal(map_sys_lookup(m, &k, out, 0), 0);
	for (c = 0; c < n; c++) {
		assert_int_equal(out[16 * c], c + 1);
		assert_int_equal(out[16 * c + 11], c + 1);
		assert_int_equal(out[16 * c + 12], 0); /* padding zeroed */
		p = map_lookup_percpu(m, &k, c);
		assert_non_null(p);
		assert_int_equal(p[0], c + 1);
	}
	assert_null(map_lookup_percpu(m, &k, n));
	/* program side writes only this CPU's slot */
	{
		cpu_set_t set;
		uint8_t nv[12];

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
		memset(nv, 0x55, 12);
		assert_int_equal(map_update(m, &k, nv, 0), 0);
		assert_int_equal(((uint8_t *)map_lookup(m, &k))[0], 0x55);
		assert_int_equal(map_sys_lookup(m, &k, out, 0), 0);
		assert_int_equal(out[0], 0x55);
		if (n > 1)
			assert_int_equal(out[16], 2);
		CPU_ZERO(&set);
		for (c = 0; c < n; c++)
			CPU_SET(c, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	free(in);
	free(out);
	map_close(m);
	done(s);
}

static void test_percpu_hash(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 8, 0);
	unsigned n = shm_ncpus(), c;
	size_t vsz = map_sys_value_size(m);
	uint64_t *in = calloc(1, vsz), *out = calloc(1, vsz), v = 5;
	uint32_t k = 9;
	uint64_t *p;

	for (c = 0; c < n; c++)
		in[c] = 100 + c;
	assert_int_equal(map_sys_update(m, &k, in, BPF_NOEXIST), 0);
	assert_int_equal(map_sys_lookup(m, &k, out, 0), 0);
	assert_memory_equal(in, out, vsz);
	for (c = 0; c < n; c++) {
		p = map_lookup_percpu(m, &k, c);
		assert_int_equal(*p, 100 + c);
	}
	/* a new element from the program side: this CPU = v, others 0 */
	k = 10;
	assert_int_equal(map_update(m, &k, &v, BPF_ANY), 0);
	p = map_lookup(m, &k);
	assert_int_equal(*p, 5);
	assert_int_equal(map_sys_lookup(m, &k, out, 0), 0);
	{
		uint64_t sum = 0;

		for (c = 0; c < n; c++)
			sum += out[c];
		assert_int_equal(sum, 5);
	}
	assert_int_equal(map_sys_lookup_and_delete(m, &k, out, 0), 0);
	assert_null(map_lookup(m, &k));
	free(in);
	free(out);
	map_close(m);
	done(s);
}

static void test_lru(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_LRU_HASH, 4, 8, 100, 0);
	uint32_t k, nk;
	uint64_t v;
	int n;

	for (k = 0; k < 100; k++) {
		v = k;
		assert_int_equal(map_update(m, &k, &v, BPF_NOEXIST), 0);
	}
	for (k = 0; k < 10; k++) /* the hot keys */
		assert_non_null(map_lookup(m, &k));
	for (k = 1000; k < 1050; k++) {
		v = k;
		assert_int_equal(map_update(m, &k, &v, BPF_ANY), 0);
		assert_non_null(map_lookup(m, &k));
	}
	for (k = 0; k < 10; k++)
		assert_non_null(map_lookup(m, &k));
	for (k = 1000; k < 1050; k++)
		assert_non_null(map_lookup(m, &k));
	n = 0;
	if (map_sys_get_next_key(m, NULL, &nk) == 0)
		do {
			n++;
			k = nk;
		} while (map_sys_get_next_key(m, &k, &nk) == 0);
	assert_int_equal(n, 100); /* never more than max_entries */
	k = 5;
	assert_int_equal(map_update(m, &k, &v, BPF_NOEXIST), -EEXIST);
	k = 5000;
	assert_int_equal(map_update(m, &k, &v, BPF_EXIST), -ENOENT);
	map_close(m);
	done(s);
}

static void test_lru_percpu(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 16, 0);
	uint32_t k;
	uint64_t v = 3;
	int found = 0;

	for (k = 0; k < 200; k++)
		assert_int_equal(map_update(m, &k, &v, BPF_ANY), 0);
	for (k = 0; k < 200; k++)
		found += map_lookup(m, &k) != NULL;
	assert_true(found <= 16 && found > 0);
	k = 199;
	assert_non_null(map_lookup_percpu(m, &k, 0));
	map_close(m);
	done(s);
}

static void test_cross_process(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *h = mk(s, BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	struct bpfx_map *a = mk(s, BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	uint32_t hid = h->id, aid = a->id, k = 7;
	uint64_t v = 0;
	int st;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		struct shm_session *c = shm_session_open(sess);
		struct bpfx_map *ch = NULL, *ca = NULL;
		uint64_t cv = 4242;
		uint32_t ck = 7, ak = 1;

		if (!c || map_open(c, hid, &ch) || map_open(c, aid, &ca))
			_exit(1);
		if (map_sys_update(ch, &ck, &cv, BPF_NOEXIST))
			_exit(2);
		*(uint64_t *)map_lookup(ca, &ak) = 99;
		map_close(ch);
		map_close(ca);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(map_sys_lookup(h, &k, &v, 0), 0);
	assert_int_equal(v, 4242);
	k = 1;
	assert_int_equal(*(uint64_t *)map_lookup(a, &k), 99);
	assert_int_equal(map_open(s, 999999, &h), -ENOENT);
	map_close(a);
	map_close(h);
	done(s);
}

static int teardown(void **state)
{
	shm_session_reset(sess);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_validation),
		cmocka_unit_test(test_array),
		cmocka_unit_test(test_array_access_flags),
		cmocka_unit_test(test_array_mmap),
		cmocka_unit_test(test_spin_lock_flag),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_hash_no_prealloc_full),
		cmocka_unit_test(test_percpu_array_layout),
		cmocka_unit_test(test_percpu_hash),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_lru_percpu),
		cmocka_unit_test(test_cross_process),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
