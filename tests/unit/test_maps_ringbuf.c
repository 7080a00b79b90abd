/* SPDX-License-Identifier: MIT */
/* Ring buffer (kernel record layout, double mapping, wrap-around, full,
 * query, wake-ups, mmap segments) and perf event arrays. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers/helpers.h"
#include "maps/maps.h"

#define BUSY (1u << 31)
#define DISCARD (1u << 30)

static char sess[64];

static struct shm_session *open_sess(void)
{
	struct shm_session *s;

	snprintf(sess, sizeof(sess), "test-rb-%d", (int)getpid());
	s = shm_session_open(sess);
	assert_non_null(s);
	return s;
}

static void done(struct shm_session *s)
{
	shm_session_close(s);
	shm_session_reset(sess);
}

static struct bpfx_map *mk_rb(struct shm_session *s, uint32_t size)
{
	struct map_def d = { .type = BPF_MAP_TYPE_RINGBUF, .max_entries = size };
	struct bpfx_map *m = NULL;

	assert_int_equal(map_create(s, &d, &m), 0);
	return m;
}

static void test_record_layout(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk_rb(s, 4 * 4096);
	struct ringbuf_view v;
	uint32_t *hdr;
	uint8_t *a, *b;

	assert_int_equal(ringbuf_view(m, &v), 0);
	assert_int_equal(v.size, 4 * 4096);
	a = ringbuf_reserve(m, 10, 0);
	assert_non_null(a);
	assert_ptr_equal(a, v.data + 8);
	hdr = (uint32_t *)(a - 8);
	assert_int_equal(hdr[0], 10 | BUSY);
	assert_int_equal(hdr[1], 3); /* page offset from struct bpf_ringbuf */
	assert_int_equal(*v.producer_pos, 24); /* round_up(10 + 8, 8) */
	b = ringbuf_reserve(m, 4096, 0);
	assert_non_null(b);
	assert_int_equal(((uint32_t *)(b - 8))[1], 3);
	memset(a, 1, 10);
	ringbuf_submit(m, a, 0);
	assert_int_equal(hdr[0], 10);
	ringbuf_discard(NULL, b, 0); /* finds its ring from the header */
	assert_int_equal(((uint32_t *)(b - 8))[0], 4096 | DISCARD);
	/* the next record lands on page 1 of the data: pg_off 4 */
	a = ringbuf_reserve(m, 8, 0);
	assert_int_equal(((uint32_t *)(a - 8))[1], 4);
	ringbuf_submit(m, a, BPF_RB_NO_WAKEUP);
	assert_int_equal(ringbuf_query(m, BPF_RB_RING_SIZE), 4 * 4096);
	assert_int_equal(ringbuf_query(m, BPF_RB_PROD_POS), 24 + 4104 + 16);
	assert_int_equal(ringbuf_query(m, BPF_RB_CONS_POS), 0);
	assert_int_equal(ringbuf_query(m, BPF_RB_AVAIL_DATA), 24 + 4104 + 16);
	assert_int_equal(ringbuf_query(m, 99), 0);
	assert_null(ringbuf_reserve(m, 8, 1));
	assert_null(ringbuf_reserve(m, 4 * 4096, 0));
	assert_int_equal(ringbuf_output(m, "x", 1, 4), -EINVAL);
	map_close(m);
	done(s);
}

struct collect {
	uint32_t n;
	uint32_t sizes[64];
	uint8_t first[64];
};

static int collect_cb(void *ctx, void *data, uint32_t size)
{
	struct collect *c = ctx;

	c->sizes[c->n] = size;
	c->first[c->n] = size ? *(uint8_t *)data : 0;
	c->n++;
	return 0;
}

static void test_consume_discard_full(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk_rb(s, 4096);
	struct collect c = { 0 };
	uint8_t buf[1000];
	void *r;
	int n = 0;

	memset(buf, 7, sizeof(buf));
	r = ringbuf_reserve(m, 5, 0);
	ringbuf_discard(m, r, 0);
	while (ringbuf_output(m, buf, sizeof(buf), 0) == 0)
		n++;
	assert_int_equal(n, 4); /* 16 + 4 * 1008 < 4096, a fifth won't fit */
	assert_int_equal(ringbuf_output(m, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(ringbuf_consume(m, collect_cb, &c), 4);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.sizes[0], 1000);
	assert_int_equal(c.first[3], 7);
	assert_int_equal(ringbuf_query(m, BPF_RB_AVAIL_DATA), 0);
	assert_int_equal(ringbuf_output(m, buf, sizeof(buf), 0), 0);
	/* a reserved (BUSY) record stops the consumer */
	r = ringbuf_reserve(m, 8, 0);
	assert_int_equal(ringbuf_output(m, buf, 8, 0), 0);
	c.n = 0;
	assert_int_equal(ringbuf_consume(m, collect_cb, &c), 1);
	assert_int_equal(ringbuf_consume(m, collect_cb, &c), 0);
	ringbuf_submit(m, r, 0);
	assert_int_equal(ringbuf_consume(m, collect_cb, &c), 2);
	map_close(m);
	done(s);
}

static void test_wraparound_double_map(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk_rb(s, 4096);
	struct ringbuf_view v;
	uint8_t buf[1500];
	int i, wrapped = 0;

	assert_int_equal(ringbuf_view(m, &v), 0);
	for (i = 0; i < 40; i++) {
		uint64_t cons = *v.consumer_pos, off = cons & (v.size - 1);
		const uint32_t *hdr;
		const uint8_t *p;
		int j;

		memset(buf, i, sizeof(buf));
		buf[0] = 0xa5;
		buf[sizeof(buf) - 1] = 0x5a;
		assert_int_equal(ringbuf_output(m, buf, sizeof(buf), 0), 0);
		hdr = (const uint32_t *)(v.data + off);
		assert_int_equal(hdr[0], sizeof(buf));
		/* read it in one piece even when it wraps */
		p = (const uint8_t *)(hdr + 2);
		if (off + 8 + sizeof(buf) > v.size)
			wrapped++;
		assert_int_equal(p[0], 0xa5);
		assert_int_equal(p[sizeof(buf) - 1], 0x5a);
		for (j = 1; j < (int)sizeof(buf) - 1; j++)
			if (p[j] != (uint8_t)i)
				fail_msg("record %d byte %d", i, j);
		*v.consumer_pos = cons + 1512;
	}
	assert_true(wrapped > 0);
	map_close(m);
	done(s);
}

static void test_mmap_segments(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk_rb(s, 8192);
	struct map_mmap_seg seg[3];
	uint8_t *base;
	uint64_t len = 2 * 4096 + 2 * 8192, off = 0;
	int fd, n, i;

	assert_int_equal(map_mmap_region(m, 0, 4096, MAP_PROT_WRITE, seg, 3),
			 1);
	assert_int_equal(map_mmap_region(m, 4096, 4096, MAP_PROT_WRITE, seg, 3),
			 -EPERM);
	assert_int_equal(map_mmap_region(m, 0, len + 4096, 0, seg, 3),
			 -EINVAL);
	n = map_mmap_region(m, 0, len, 0, seg, 3);
	assert_int_equal(n, 2);
	fd = shm_obj_open_fd(s, SHM_MAP, m->id, 0);
	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < n; off += seg[i].len, i++)
		assert_true(mmap(base + off, seg[i].len, PROT_READ,
				 MAP_SHARED | MAP_FIXED, fd,
				 (off_t)seg[i].file_off) != MAP_FAILED);
	close(fd);
	assert_int_equal(ringbuf_output(m, "hello", 6, 0), 0);
	/* as libbpf sees it: consumer page, producer page, data twice */
	assert_int_equal(*(uint64_t *)base, 0);
	assert_int_equal(*(uint64_t *)(base + 4096), 16);
	assert_int_equal(*(uint32_t *)(base + 8192), 6);
	assert_string_equal((char *)base + 8192 + 8, "hello");
	assert_string_equal((char *)base + 8192 + 8192 + 8, "hello");
	munmap(base, len);
	map_close(m);
	done(s);
}

static void *late_producer(void *arg)
{
	usleep(50000);
	ringbuf_output(arg, "wake", 5, 0);
	return NULL;
}

static void test_wait(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk_rb(s, 4096);
	struct collect c = { 0 };
	pthread_t t;

	assert_int_equal(ringbuf_wait(m, 10), -ETIMEDOUT);
	pthread_create(&t, NULL, late_producer, m);
	assert_int_equal(ringbuf_wait(m, 5000), 0);
	pthread_join(t, NULL);
	assert_int_equal(ringbuf_consume(m, collect_cb, &c), 1);
	assert_int_equal(ringbuf_wait_pos(m, 0, 0), 0); /* prod moved */
	map_close(m);
	done(s);
}

static void test_helpers(void **state)
{
	struct shm_session *s = open_sess();
	struct bpfx_map *m = mk_rb(s, 4096);
	const struct helper_def *h, *reserve = NULL, *submit = NULL,
				    *output = NULL;
	struct collect c = { 0 };
	uint64_t p;

	for (h = helpers_maps_table; h->name; h++) {
		if (h->id == BPF_FUNC_ringbuf_reserve)
			reserve = h;
		if (h->id == BPF_FUNC_ringbuf_submit)
			submit = h;
		if (h->id == BPF_FUNC_ringbuf_output)
			output = h;
	}
	p = reserve->fn((uintptr_t)m, 16, 0, 0, 0);
	assert_true(p != 0);
	memset((void *)(uintptr_t)p, 3, 16);
	submit->fn(p, 0, 0, 0, 0);
	assert_int_equal(output->fn((uintptr_t)m, (uintptr_t) "ab", 3, 0, 0),
			 0);
	assert_int_equal(ringbuf_consume(m, collect_cb, &c), 2);
	assert_int_equal(c.sizes[0], 16);
	assert_int_equal(c.first[0], 3);
	assert_int_equal(c.first[1], 'a');
	map_close(m);
	done(s);
}

struct perf_collect {
	int samples, lost;
	uint32_t last_raw;
	uint8_t first;
};

static int perf_cb(void *ctx, void *rec, uint32_t size)
{
	struct perf_collect *c = ctx;
	struct perf_event_header *h = rec;

	if (h->type == PERF_RECORD_SAMPLE) {
		c->samples++;
		memcpy(&c->last_raw, h + 1, 4);
		c->first = *((uint8_t *)(h + 1) + 4);
		assert_int_equal(h->size % 8, 0);
	} else if (h->type == PERF_RECORD_LOST) {
		c->lost += (int)((uint64_t *)(h + 1))[1];
	}
	return 0;
}

static void test_perf_event_array(void **state)
{
	struct shm_session *s = open_sess();
	struct map_def d = { .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY,
			     .key_size = 4, .value_size = 4, .max_entries = 2 };
	struct perf_collect c = { 0 };
	struct bpfx_map *m;
	uint32_t id, k = 1;
	uint8_t data[100];
	int n = 0;

	assert_int_equal(map_create(s, &d, &m), 0);
	assert_int_equal(perf_ring_create(s, 3, &id), -EINVAL);
	assert_int_equal(perf_ring_create(s, 1, &id), 0);
	assert_int_equal(perf_event_output(m, 1, data, 10), -ENOENT);
	assert_int_equal(perf_event_output(m, 2, data, 10), -E2BIG);
	assert_int_equal(perf_event_output(m, 1ull << 40, data, 10), -EINVAL);
	assert_int_equal(map_sys_update(m, &k, &id, 0), 0);
	assert_int_equal(map_sys_lookup(m, &k, &id, 0), -524);
	memset(data, 9, sizeof(data));
	while (perf_event_output(m, 1, data, sizeof(data)) == 0)
		n++;
	assert_int_equal(n, 4096 / 112); /* 8 + 4 + 100 -> 112 */
	assert_int_equal(perf_event_output(m, 1, data, sizeof(data)), -ENOSPC);
	assert_int_equal(perf_ring_consume(s, id, perf_cb, &c), n);
	assert_int_equal(c.samples, n);
	assert_int_equal(c.last_raw, 100); /* round_up(100 + 4, 8) - 4 */
	assert_int_equal(c.first, 9);
	assert_int_equal(perf_event_output(m, 1, data, 4), 0);
	c.samples = 0;
	assert_int_equal(perf_ring_consume(s, id, perf_cb, &c), 2);
	assert_int_equal(c.lost, 2);
	assert_int_equal(c.samples, 1);
	/* wraps around many times */
	for (n = 0; n < 500; n++) {
		data[0] = (uint8_t)n;
		assert_int_equal(perf_event_output(m, 1, data, 50 + n % 40), 0);
		c.samples = 0;
		assert_int_equal(perf_ring_consume(s, id, perf_cb, &c), 1);
		assert_int_equal(c.first, (uint8_t)n);
	}
	map_close(m);
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
		cmocka_unit_test(test_record_layout),
		cmocka_unit_test(test_consume_discard_full),
		cmocka_unit_test(test_wraparound_double_map),
		cmocka_unit_test(test_mmap_segments),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_perf_event_array),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
