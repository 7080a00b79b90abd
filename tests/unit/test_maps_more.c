/* SPDX-License-Identifier: MIT */
/* Queue/stack, bloom filter, LPM trie, prog array, map-in-map, stack
 * traces and the map helpers table. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers/helpers.h"
#include "maps/maps.h"

static char sess[64];

static struct shm_session *open_sess(void)
{
	struct shm_session *s;

	snprintf(sess, sizeof(sess), "test-maps2-%d", (int)getpid());
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

static void test_queue(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *q = mk(s, BPF_MAP_TYPE_QUEUE, 0, 4, 3, 0);
	uint32_t v, k = 0;

	assert_int_equal(map_pop(q, &v), -ENOENT);
	assert_int_equal(map_peek(q, &v), -ENOENT);
	for (v = 1; v <= 3; v++)
		assert_int_equal(map_push(q, &v, BPF_ANY), 0);
	assert_int_equal(map_push(q, &v, BPF_ANY), -E2BIG);
	assert_int_equal(map_push(q, &v, BPF_NOEXIST), -EINVAL);
	assert_int_equal(map_push(q, &v, BPF_EXIST), 0); /* drops 1 */
	assert_int_equal(map_peek(q, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(map_sys_lookup_and_delete(q, NULL, &v, 0), 0);
	assert_int_equal(v, 2);
	assert_int_equal(map_pop(q, &v), 0);
	assert_int_equal(v, 3);
	v = 9;
	assert_int_equal(map_sys_update(q, NULL, &v, 0), 0); /* push */
	assert_int_equal(map_sys_lookup(q, NULL, &v, 0), 0); /* peek */
	assert_int_equal(v, 4);
	assert_int_equal(map_sys_delete(q, &k), -EINVAL);
	assert_int_equal(map_sys_get_next_key(q, NULL, &k), -EINVAL);
	assert_null(map_lookup(q, &k));
	map_close(q);
	done(s);
}

static void test_stack(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *st = mk(s, BPF_MAP_TYPE_STACK, 0, 8, 2, 0);
	uint64_t v;

	v = 1;
	assert_int_equal(map_push(st, &v, 0), 0);
	v = 2;
	assert_int_equal(map_push(st, &v, 0), 0);
	assert_int_equal(map_push(st, &v, 0), -E2BIG);
	v = 3;
	assert_int_equal(map_push(st, &v, BPF_EXIST), 0); /* drops oldest */
	assert_int_equal(map_pop(st, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(map_pop(st, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(map_pop(st, &v), -ENOENT);
	map_close(st);
	done(s);
}

static void test_bloom(void **state)
{
	struct shm_session *s = open_sess();
	struct map_def d = { .type = BPF_MAP_TYPE_BLOOM_FILTER,
			     .value_size = 8, .max_entries = 1000,
			     .map_extra = 3 };
	struct bpfx_map *b;
	uint64_t v;
	int fp = 0;

	assert_int_equal(map_create(s, &d, &b), 0);
	for (v = 0; v < 1000; v++)
		assert_int_equal(map_push(b, &v, BPF_ANY), 0);
	for (v = 0; v < 1000; v++)
		assert_int_equal(map_peek(b, &v), 0);
	for (v = 100000; v < 110000; v++)
		fp += map_peek(b, &v) == 0;
	assert_true(fp < 1500); /* ~ 10% at 3 hashes, ~1.4 bits/.. */
	assert_int_equal(map_push(b, &v, BPF_EXIST), -EINVAL);
	assert_int_equal(map_pop(b, &v), -EOPNOTSUPP);
	assert_int_equal(map_sys_lookup(b, NULL, &v, 0), -ENOENT);
	v = 5;
	assert_int_equal(map_sys_lookup(b, NULL, &v, 0), 0);
	assert_int_equal(map_sys_delete(b, &v), -EOPNOTSUPP);
	d.map_extra = 16;
	assert_int_equal(map_create(s, &d, &b), -EINVAL);
	map_close(b);
	done(s);
}

struct lpm_key {
	uint32_t plen;
	uint8_t a[4];
};

static void test_lpm(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4,
				BPF_F_NO_PREALLOC);
	struct lpm_key k, nk;
	uint32_t v, *p;
	int n;

	k = (struct lpm_key){ 8, { 10, 0, 0, 0 } };
	v = 8;
	assert_int_equal(map_sys_update(m, &k, &v, BPF_NOEXIST), 0);
	k = (struct lpm_key){ 16, { 10, 1, 99, 99 } }; /* stored masked */
	v = 16;
	assert_int_equal(map_sys_update(m, &k, &v, 0), 0);
	k = (struct lpm_key){ 24, { 10, 1, 2, 0 } };
	v = 24;
	assert_int_equal(map_sys_update(m, &k, &v, 0), 0);
	assert_int_equal(map_sys_update(m, &k, &v, BPF_NOEXIST), -EEXIST);
	k = (struct lpm_key){ 33, { 1, 2, 3, 4 } };
	assert_int_equal(map_sys_update(m, &k, &v, 0), -EINVAL);
	/* longest match */
	k = (struct lpm_key){ 32, { 10, 1, 2, 3 } };
	p = map_lookup(m, &k);
	assert_non_null(p);
	assert_int_equal(*p, 24);
	k = (struct lpm_key){ 32, { 10, 1, 3, 3 } };
	assert_int_equal(*(uint32_t *)map_lookup(m, &k), 16);
	k = (struct lpm_key){ 32, { 10, 9, 3, 3 } };
	assert_int_equal(*(uint32_t *)map_lookup(m, &k), 8);
	k = (struct lpm_key){ 12, { 10, 1, 2, 3 } }; /* key prefix caps */
	assert_int_equal(*(uint32_t *)map_lookup(m, &k), 8);
	k = (struct lpm_key){ 32, { 11, 1, 2, 3 } };
	assert_null(map_lookup(m, &k));
	assert_int_equal(map_sys_lookup(m, &k, &v, 0), -ENOENT);
	/* post-order iteration: 10.1.2/24, 10.1/16, 10/8 */
	k = (struct lpm_key){ 32, { 192, 1, 2, 3 } };
	v = 32;
	assert_int_equal(map_sys_update(m, &k, &v, 0), 0);
	k = (struct lpm_key){ 32, { 1, 1, 1, 1 } };
	assert_int_equal(map_sys_update(m, &k, &v, 0), -ENOSPC);
	assert_int_equal(map_sys_get_next_key(m, NULL, &nk), 0);
	assert_int_equal(nk.plen, 24);
	k = nk;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), 0);
	assert_int_equal(nk.plen, 16);
	assert_int_equal(nk.a[2], 0);
	k = nk;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), 0);
	assert_int_equal(nk.plen, 8);
	k = nk;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), 0);
	assert_int_equal(nk.plen, 32);
	assert_int_equal(nk.a[0], 192);
	k = nk;
	assert_int_equal(map_sys_get_next_key(m, &k, &nk), -ENOENT);
	/* delete is exact */
	k = (struct lpm_key){ 16, { 10, 1, 0, 0 } };
	assert_int_equal(map_sys_delete(m, &k), 0);
	assert_int_equal(map_sys_delete(m, &k), -ENOENT);
	k = (struct lpm_key){ 32, { 10, 1, 3, 3 } };
	assert_int_equal(*(uint32_t *)map_lookup(m, &k), 8);
	n = 0;
	if (map_sys_get_next_key(m, NULL, &nk) == 0)
		do {
			n++;
			k = nk;
		} while (map_sys_get_next_key(m, &k, &nk) == 0);
	assert_int_equal(n, 3);
	map_close(m);
	done(s);
}

static const void *resolve(uint32_t id, void *ctx)
{
	return id == 77 ? ctx : NULL;
}

static void test_prog_array(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
	static int prog;
	uint32_t k = 1, id = 77, out;

	assert_null(map_prog_array_get(m, 1));
	assert_int_equal(map_sys_lookup(m, &k, &out, 0), -ENOENT);
	assert_int_equal(map_sys_update(m, &k, &id, BPF_NOEXIST), -EINVAL);
	assert_int_equal(map_sys_update(m, &k, &id, BPF_ANY), 0);
	assert_int_equal(map_sys_lookup(m, &k, &out, 0), 0);
	assert_int_equal(out, 77);
	assert_int_equal(map_array_get_id(m, 1), 77);
	assert_null(map_prog_array_get(m, 1)); /* no resolver yet */
	map_set_prog_resolver(resolve, &prog);
	assert_ptr_equal(map_prog_array_get(m, 1), &prog);
	assert_ptr_equal(map_prog_array_get(m, 1), &prog); /* cached */
	assert_null(map_prog_array_get(m, 4));
	assert_null(map_lookup(m, &k));
	k = 4;
	assert_int_equal(map_sys_update(m, &k, &id, 0), -E2BIG);
	k = 1;
	assert_int_equal(map_sys_delete(m, &k), 0);
	assert_int_equal(map_sys_delete(m, &k), -ENOENT);
	assert_null(map_prog_array_get(m, 1));
	assert_int_equal(map_sys_freeze(m), -ENOTSUP);
	map_set_prog_resolver(NULL, NULL);
	map_close(m);
	done(s);
}

static void test_map_in_map(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *tmpl = mk(s, BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	struct bpfx_map *in1 = mk(s, BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	struct bpfx_map *bad = mk(s, BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0);
	struct map_def d = { .type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .key_size = 4,
			     .value_size = 4, .max_entries = 2,
			     .inner_map_id = tmpl->id };
	struct bpfx_map *aom, *hom, *got;
	uint32_t k = 0, id = in1->id, out;
	uint64_t key64 = 5;

	assert_int_equal(map_create(s, &d, &aom), 0);
	d.type = BPF_MAP_TYPE_HASH_OF_MAPS;
	d.key_size = 8;
	assert_int_equal(map_create(s, &d, &hom), 0);
	d.inner_map_id = aom->id; /* no maps of maps of maps */
	assert_int_equal(map_create(s, &d, &got), -EINVAL);
	d.inner_map_id = 0;
	assert_int_equal(map_create(s, &d, &got), -EBADF);

	assert_null(map_lookup(aom, &k));
	assert_int_equal(map_sys_update(aom, &k, &id, 0), 0);
	got = map_lookup(aom, &k);
	assert_non_null(got);
	assert_int_equal(got->id, in1->id);
	assert_int_equal(map_sys_lookup(aom, &k, &out, 0), 0);
	assert_int_equal(out, in1->id);
	id = bad->id;
	assert_int_equal(map_sys_update(aom, &k, &id, 0), -EINVAL);
	id = 123456;
	assert_int_equal(map_sys_update(aom, &k, &id, 0), -EBADF);

	id = in1->id;
	assert_int_equal(map_sys_update(hom, &key64, &id, 0), 0);
	got = map_lookup(hom, &key64);
	assert_non_null(got);
	assert_int_equal(got->id, in1->id);
	/* the inner map is usable through the returned pointer */
	k = 2;
	key64 = 0xfeed;
	assert_int_equal(map_update(got, &k, &key64, 0), 0);
	assert_int_equal(*(uint64_t *)map_lookup(in1, &k), 0xfeed);
	key64 = 5;
	assert_int_equal(map_sys_lookup(hom, &key64, &out, 0), 0);
	assert_int_equal(out, in1->id);
	assert_int_equal(map_sys_delete(hom, &key64), 0);
	assert_null(map_lookup(hom, &key64));
	/* the outer map keeps the inner one alive */
	id = in1->id;
	map_close(in1);
	shm_gc(s);
	assert_non_null(map_get_cached(s, id));
	map_close(aom);
	map_close(hom);
	map_close(tmpl);
	map_close(bad);
	done(s);
}

static __attribute__((noinline)) long depth3(struct bpfx_map *m,
					     uint64_t flags)
{
	long r = map_stack_get_id(NULL, m, flags);

	__asm__ volatile("" ::: "memory");
	return r;
}

static __attribute__((noinline)) long depth2(struct bpfx_map *m,
					     uint64_t flags)
{
	long r = depth3(m, flags);

	__asm__ volatile("" ::: "memory");
	return r;
}

static void test_stack_trace(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 16, 64, 0);
	uint64_t ips[16], buf[8];
	uint32_t id, nk;
	long r = -1, r2;

	assert_int_equal(map_stack_get_id(NULL, m, 0), -EFAULT);
	assert_int_equal(map_stack_get_id(NULL, m, 1ull << 20), -EINVAL);
	for (int i = 0; i < 2; i++) { /* one call site: the same stack */
		r2 = r;
		r = depth2(m, BPF_F_USER_STACK);
		assert_true(r >= 0 && r < 64);
	}
	assert_int_equal(r, r2); /* same stack, same id */
	id = (uint32_t)r;
	assert_int_equal(map_sys_lookup(m, &id, ips, 0), 0);
	assert_true(ips[0] != 0);
	assert_int_equal(map_sys_get_next_key(m, NULL, &nk), 0);
	assert_int_equal(nk, id);
	assert_int_equal(map_sys_update(m, &id, ips, 0), -EINVAL);
	assert_int_equal(map_sys_delete(m, &id), 0);
	assert_int_equal(map_sys_delete(m, &id), -ENOENT);
	assert_int_equal(map_sys_lookup(m, &id, ips, 0), -ENOENT);
	/* get_stack: bytes written, rest zeroed */
	memset(buf, 0xff, sizeof(buf));
	r = map_stack_get(NULL, buf, sizeof(buf), BPF_F_USER_STACK);
	assert_true(r >= 8 && r <= (long)sizeof(buf) && r % 8 == 0);
	if (r < (long)sizeof(buf))
		assert_int_equal(buf[r / 8], 0);
	assert_int_equal(map_stack_get(NULL, buf, 12, BPF_F_USER_STACK),
			 -EINVAL);
	assert_int_equal(map_stack_get(NULL, buf, sizeof(buf), 0), -EFAULT);
	assert_int_equal(buf[0], 0);
	map_close(m);
	done(s);
}

static const struct helper_def *find(uint32_t id)
{
	const struct helper_def *h;

	for (h = helpers_maps_table; h->name; h++)
		if (h->id == id)
			return h;
	return NULL;
}

static void test_helpers_table(void **state)
{
	static const struct {
		uint32_t id;
		const char *name;
	} want[] = {
		{ 1, "map_lookup_elem" },	{ 2, "map_update_elem" },
		{ 3, "map_delete_elem" },	{ 87, "map_push_elem" },
		{ 88, "map_pop_elem" },		{ 89, "map_peek_elem" },
		{ 195, "map_lookup_percpu_elem" }, { 130, "ringbuf_output" },
		{ 131, "ringbuf_reserve" },	{ 132, "ringbuf_submit" },
		{ 133, "ringbuf_discard" },	{ 134, "ringbuf_query" },
		{ 25, "perf_event_output" },	{ 8, "get_smp_processor_id" },
		{ 27, "get_stackid" },		{ 67, "get_stack" },
		{ 93, "spin_lock" },		{ 94, "spin_unlock" },
	};
	const struct helper_def *h;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		h = find(want[i].id);
		assert_non_null(h);
		assert_string_equal(h->name, want[i].name);
		assert_non_null(h->fn);
	}
	h = find(BPF_FUNC_map_lookup_elem);
	assert_int_equal(h->ret, RET_PTR_TO_MAP_VALUE_OR_NULL);
	assert_int_equal(h->args[0], ARG_CONST_MAP_PTR);
	assert_int_equal(h->args[1], ARG_PTR_TO_MAP_KEY);
	assert_int_equal(h->args[2], ARG_NONE);
	h = find(BPF_FUNC_ringbuf_submit);
	assert_int_equal(h->flags & HELPER_F_RELEASES_RINGBUF,
			 HELPER_F_RELEASES_RINGBUF);
	h = find(BPF_FUNC_perf_event_output);
	assert_int_equal(h->args[0], ARG_PTR_TO_CTX);
	assert_int_equal(h->args[4], ARG_CONST_SIZE_OR_ZERO);
	h = find(BPF_FUNC_get_smp_processor_id);
	assert_true(h->fn(0, 0, 0, 0, 0) < shm_ncpus());
}

static void test_helpers_call(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk(s, BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	struct bpfx_map *q = mk(s, BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0);
	bpfx_helper_fn lookup = find(1)->fn, update = find(2)->fn,
		       del = find(3)->fn, push = find(87)->fn,
		       pop = find(88)->fn;
	uint32_t k = 3;
	uint64_t v = 17, out = 0;

#define U(p) ((uint64_t)(uintptr_t)(p))
	assert_int_equal(lookup(U(m), U(&k), 0, 0, 0), 0);
	assert_int_equal(update(U(m), U(&k), U(&v), BPF_NOEXIST, 0), 0);
	assert_int_equal((int64_t)update(U(m), U(&k), U(&v), BPF_NOEXIST, 0),
			 -EEXIST);
	assert_int_equal(*(uint64_t *)(uintptr_t)lookup(U(m), U(&k), 0, 0, 0),
			 17);
	assert_int_equal(del(U(m), U(&k), 0, 0, 0), 0);
	assert_int_equal((int64_t)del(U(m), U(&k), 0, 0, 0), -ENOENT);
	assert_int_equal(push(U(q), U(&v), 0, 0, 0), 0);
	assert_int_equal(pop(U(q), U(&out), 0, 0, 0), 0);
	assert_int_equal(out, 17);
	assert_int_equal((int64_t)pop(U(q), U(&out), 0, 0, 0), -ENOENT);
#undef U
	map_close(m);
	map_close(q);
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
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_bloom),
		cmocka_unit_test(test_lpm),
		cmocka_unit_test(test_prog_array),
		cmocka_unit_test(test_map_in_map),
		cmocka_unit_test(test_stack_trace),
		cmocka_unit_test(test_helpers_table),
		cmocka_unit_test(test_helpers_call),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
