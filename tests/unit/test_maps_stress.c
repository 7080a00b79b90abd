/* SPDX-License-Identifier: MIT */
/* Concurrency across processes and threads: a hash map hammered by
 * 2 processes x 2 threads (no lost updates), a ring buffer with producers
 * in both processes and one consumer (no lost or duplicated records), and
 * a writer killed while holding a bucket lock. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maps/htab.h"

#define ITERS 200000
#define SHARED_KEYS 16
#define RB_RECORDS 20000

static char sess[64];

static struct shm_session *open_sess(void)
{
	struct shm_session *s;

	snprintf(sess, sizeof(sess), "test-stress-%d", (int)getpid());
	s = shm_session_open(sess);
	assert_non_null(s);
	return s;
}

static void done(struct shm_session *s)
{
	shm_session_close(s);
	shm_session_reset(sess);
}

struct worker {
	struct bpfx_map *m;
	uint32_t id; /* 0..3: process * 2 + thread */
	int err;
};

/* lookup, insert if missing (racing others), atomic add */
static int bump(struct bpfx_map *m, uint32_t k)
{
	uint64_t zero[2] = { 0, 0 }, *v;
	long r;

	v = map_lookup(m, &k);
	if (!v) {
		r = map_update(m, &k, zero, BPF_NOEXIST);
		if (r && r != -EEXIST)
			return (int)r;
		v = map_lookup(m, &k);
		if (!v)
			return -ENOENT;
	}
	__atomic_fetch_add(&v[0], 1, __ATOMIC_RELAXED);
	return 0;
}

static void *hash_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t val[2];
	uint32_t i, k, own = 1000 + w->id, churn;

	for (i = 0; i < ITERS && !w->err; i++) {
		w->err = bump(w->m, i % SHARED_KEYS);
		if (!w->err)
			w->err = bump(w->m, own);
		/* churn on private keys: delete + reinsert reuses elements */
		churn = 2000 + w->id * 8 + i % 8;
		val[0] = churn;
		val[1] = i;
		if (!w->err && map_update(w->m, &churn, val, BPF_ANY))
			w->err = -EIO;
		if (!w->err && i % 3 == 0 && map_delete(w->m, &churn))
			w->err = -EIO;
		k = 2000 + w->id * 8 + (i + 4) % 8;
		{
			uint64_t *p = map_lookup(w->m, &k);

			/* a reader racing reuse must never see another key */
			if (p && p[0] != k)
				w->err = -EBADMSG;
		}
	}
	return NULL;
}

static int run_hash_workers(struct bpfx_map *m, uint32_t base)
{
	struct worker w[2] = { { m, base, 0 }, { m, base + 1, 0 } };
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, hash_worker, &w[i]);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return w[0].err ? w[0].err : w[1].err;
}

static void test_hash_two_procs(void **state)
{
	struct shm_session *s = open_sess();
	struct map_def d = { .type = BPF_MAP_TYPE_HASH, .key_size = 4,
			     .value_size = 16, .max_entries = 256 };
	struct bpfx_map *m;
	uint64_t v[2], total = 0;
	uint32_t k;
	int st, err;
	pid_t pid;

	assert_int_equal(map_create(s, &d, &m), 0);
	pid = fork();
	if (pid == 0) {
		struct shm_session *c = shm_session_open(sess);
		struct bpfx_map *cm = NULL;

		if (!c || map_open(c, m->id, &cm))
			_exit(100);
		err = run_hash_workers(cm, 2);
		_exit(err ? (-err) & 0x7f : 0);
	}
	err = run_hash_workers(m, 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(err, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (k = 0; k < SHARED_KEYS; k++) {
		assert_int_equal(map_sys_lookup(m, &k, v, 0), 0);
		total += v[0];
	}
	assert_int_equal(total, 4ull * ITERS);
	for (k = 1000; k < 1004; k++) {
		assert_int_equal(map_sys_lookup(m, &k, v, 0), 0);
		assert_int_equal(v[0], ITERS);
	}
	map_close(m);
	done(s);
}

struct rec {
	uint32_t producer;
	uint32_t seq;
	uint64_t check;
};

static void *rb_producer(void *arg)
{
	struct worker *w = arg;
	struct rec r;
	uint32_t i;

	for (i = 0; i < RB_RECORDS; i++) {
		r.producer = w->id;
		r.seq = i;
		r.check = (uint64_t)w->id * 1000003u + i;
		if (i % 2) {
			while (ringbuf_output(w->m, &r, sizeof(r), 0))
				sched_yield();
		} else {
			struct rec *p;

			while (!(p = ringbuf_reserve(w->m, sizeof(r), 0)))
				sched_yield();
			*p = r;
			if (i % 10 == 4) { /* a discarded twin */
				ringbuf_discard(NULL, p, 0);
				while (!(p = ringbuf_reserve(w->m, sizeof(r),
							     0)))
					sched_yield();
				*p = r;
			}
			ringbuf_submit(NULL, p, 0);
		}
	}
	return NULL;
}

static void run_producers(struct bpfx_map *m, uint32_t base)
{
	struct worker w[2] = { { m, base, 0 }, { m, base + 1, 0 } };
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, rb_producer, &w[i]);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

struct consumer {
	uint32_t next[4];
	uint64_t total;
	int bad;
};

static int consume_cb(void *ctx, void *data, uint32_t size)
{
	struct consumer *c = ctx;
	struct rec *r = data;

	if (size != sizeof(*r) || r->producer >= 4 ||
	    r->seq != c->next[r->producer] ||
	    r->check != (uint64_t)r->producer * 1000003u + r->seq) {
		if (!c->bad++)
			print_message("bad record: size %u producer %u seq %u "
				      "(want %u) check %llu\n",
				      size, r->producer, r->seq,
				      r->producer < 4 ? c->next[r->producer]
						      : 0,
				      (unsigned long long)r->check);
		return 0;
	}
	c->next[r->producer]++;
	c->total++;
	return 0;
}

static void test_ringbuf_two_procs(void **state)
{
	struct shm_session *s = open_sess();
	struct map_def d = { .type = BPF_MAP_TYPE_RINGBUF,
			     .max_entries = 4 * 4096 };
	struct consumer c = { { 0 }, 0, 0 };
	struct bpfx_map *m;
	int st, i, idle = 0;
	pthread_t t[2];
	struct worker w[2];
	pid_t pid;

	assert_int_equal(map_create(s, &d, &m), 0);
	pid = fork();
	if (pid == 0) {
		struct shm_session *cs = shm_session_open(sess);
		struct bpfx_map *cm = NULL;

		if (!cs || map_open(cs, m->id, &cm))
			_exit(100);
		run_producers(cm, 2);
		_exit(0);
	}
	for (i = 0; i < 2; i++) {
		w[i] = (struct worker){ m, (uint32_t)i, 0 };
		pthread_create(&t[i], NULL, rb_producer, &w[i]);
	}
	/* one consumer: this thread */
	while (c.total < 4ull * RB_RECORDS && idle < 20000) {
		int n = ringbuf_consume(m, consume_cb, &c);

		if (n > 0) {
			idle = 0;
			continue;
		}
		/* nothing ready: empty (sleep), or a record still BUSY in
		 * its producer (wait returns at once: yield) */
		idle++;
		if (ringbuf_wait(m, 10) == 0)
			sched_yield();
		if (idle % 256 == 0)
			usleep(1000);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ringbuf_consume(m, consume_cb, &c);
	assert_int_equal(c.bad, 0);
	assert_int_equal(c.total, 4ull * RB_RECORDS);
	for (i = 0; i < 4; i++)
		assert_int_equal(c.next[i], RB_RECORDS);
	assert_int_equal(ringbuf_query(m, BPF_RB_AVAIL_DATA), 0);
	map_close(m);
	done(s);
}

static void test_kill_holding_bucket_lock(void **state)
{
	struct shm_session *s = open_sess();
	struct map_def d = { .type = BPF_MAP_TYPE_HASH, .key_size = 4,
			     .value_size = 8, .max_entries = 64 };
	struct bpfx_map *m;
	struct htab *t;
	struct htab_bucket *b;
	uint32_t k = 42;
	uint64_t v = 1, out;
	int fds[2], st;
	char ch;
	pid_t pid;

	assert_int_equal(map_create(s, &d, &m), 0);
	assert_int_equal(map_sys_update(m, &k, &v, 0), 0);
	t = (struct htab *)m;
	b = &t->buckets[map_hash(&k, 4, t->seed) & t->mask];
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct shm_session *cs = shm_session_open(sess);
		struct bpfx_map *cm = NULL;
		struct htab *ct;

		if (!cs || map_open(cs, m->id, &cm))
			_exit(100);
		ct = (struct htab *)cm;
		/* the writer's critical section, frozen mid-way */
		shm_lock(&ct->buckets[map_hash(&k, 4, ct->seed) & ct->mask]
				  .lock);
		if (write(fds[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	assert_int_equal(read(fds[0], &ch, 1), 1);
	assert_int_equal(b->lock.owner, (uint32_t)pid);
	/* lookups never take the lock */
	assert_int_equal(*(uint64_t *)map_lookup(m, &k), 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	v = 2;
	assert_int_equal(map_sys_update(m, &k, &v, BPF_EXIST), 0);
	assert_int_equal(map_sys_lookup(m, &k, &out, 0), 0);
	assert_int_equal(out, 2);
	assert_int_equal(map_sys_delete(m, &k), 0);
	assert_int_equal(b->lock.owner, 0);
	close(fds[0]);
	close(fds[1]);
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
		cmocka_unit_test(test_hash_two_procs),
		cmocka_unit_test(test_ringbuf_two_procs),
		cmocka_unit_test(test_kill_holding_bucket_lock),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
