/* SPDX-License-Identifier: MIT */
/* Session registry, holds/pins/refs/gc, cross-process locks, CPU ids. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/shm.h"

static char sess[64];

static struct shm_session *open_sess(void)
{
	struct shm_session *s;

	snprintf(sess, sizeof(sess), "test-shm-%d", (int)getpid());
	s = shm_session_open(sess);
	assert_non_null(s);
	return s;
}

static int new_obj(struct shm_session *s, size_t size, int publish)
{
	void *mem;
	int id = shm_obj_create(s, SHM_MAP, size, "obj", &mem);

	assert_true(id > 0);
	if (publish)
		shm_obj_publish(mem);
	shm_obj_unmap(mem, size);
	return id;
}

static void test_session_dir(void **state)
{
	struct shm_session *s = open_sess();
	char want[128];
	struct stat st;

	snprintf(want, sizeof(want), "/dev/shm/bpfx-%u-%s", (unsigned)getuid(),
		 sess);
	assert_string_equal(shm_session_dir(s), want);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_null(shm_session_open("bad/name"));
	assert_int_equal(errno, EINVAL);
	shm_session_close(s);
	assert_int_equal(shm_session_reset(sess), 0);
	assert_int_not_equal(stat(want, &st), 0);
}

static void test_obj_publish_map(void **state)
{
	struct shm_session *s = open_sess();
	struct shm_obj_hdr *h;
	void *mem, *m2;
	size_t size;
	int id;

	id = shm_obj_create(s, SHM_MAP, 8192, "hello", &mem);
	assert_true(id > 0);
	assert_int_equal(shm_obj_map(s, SHM_MAP, (uint32_t)id, &m2, &size),
			 -ENOENT); /* not yet published */
	strcpy((char *)mem + 4096, "payload");
	shm_obj_publish(mem);
	assert_int_equal(shm_obj_map(s, SHM_MAP, (uint32_t)id, &m2, &size), 0);
	assert_int_equal(size, 8192);
	h = m2;
	assert_int_equal(h->magic, SHM_OBJ_MAGIC);
	assert_int_equal(h->id, (uint32_t)id);
	assert_string_equal(h->name, "hello");
	assert_int_equal(h->creator, getpid());
	assert_string_equal((char *)m2 + 4096, "payload");
	assert_int_equal(shm_obj_map(s, SHM_PROG, (uint32_t)id, &m2, &size),
			 -ENOENT);
	shm_obj_unmap(mem, 8192);
	shm_session_close(s);
	shm_session_reset(sess);
}

static void test_ids_next(void **state)
{
	struct shm_session *s = open_sess();
	uint32_t next;
	int a, b, c;

	a = new_obj(s, 4096, 1);
	b = new_obj(s, 4096, 0); /* unpublished: not listed */
	c = new_obj(s, 4096, 1);
	assert_true(a < b && b < c);
	assert_int_equal(shm_obj_next_id(s, SHM_MAP, 0, &next), 0);
	assert_int_equal(next, (uint32_t)a);
	assert_int_equal(shm_obj_next_id(s, SHM_MAP, next, &next), 0);
	assert_int_equal(next, (uint32_t)c);
	assert_int_equal(shm_obj_next_id(s, SHM_MAP, next, &next), -ENOENT);
	assert_int_equal(shm_obj_next_id(s, SHM_PROG, 0, &next), -ENOENT);
	shm_session_close(s);
	shm_session_reset(sess);
}

static void test_holds_gc(void **state)
{
	struct shm_session *s = open_sess();
	void *mem;
	size_t size;
	int a, b;

	a = new_obj(s, 4096, 1);
	b = new_obj(s, 4096, 1);
	assert_int_equal(shm_obj_hold(s, SHM_MAP, (uint32_t)a), 0); /* 2 */
	assert_int_equal(shm_gc(s), 0);
	assert_int_equal(shm_obj_release(s, SHM_MAP, (uint32_t)a), 0);
	assert_int_equal(shm_obj_release(s, SHM_MAP, (uint32_t)b), 0);
	assert_int_equal(shm_obj_release(s, SHM_MAP, (uint32_t)b), -ENOENT);
	assert_int_equal(shm_gc(s), 1); /* b: nothing holds it */
	assert_int_equal(shm_obj_map(s, SHM_MAP, (uint32_t)b, &mem, &size),
			 -ENOENT);
	assert_int_equal(shm_obj_map(s, SHM_MAP, (uint32_t)a, &mem, &size), 0);
	shm_obj_unmap(mem, size);
	assert_int_equal(shm_obj_hold(s, SHM_MAP, 9999), -ENOENT);
	assert_int_equal(shm_obj_release(s, SHM_MAP, (uint32_t)a), 0);
	assert_int_equal(shm_gc(s), 1);
	shm_session_close(s);
	shm_session_reset(sess);
}

static void test_dead_process_gc(void **state)
{
	struct shm_session *s = open_sess();
	int fds[2], id = 0, st;
	void *mem;
	size_t size;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct shm_session *c = shm_session_open(sess);
		int cid = new_obj(c, 4096, 1);

		if (write(fds[1], &cid, sizeof(cid)) != sizeof(cid))
			_exit(2);
		_exit(0); /* dies holding it */
	}
	assert_int_equal(read(fds[0], &id, sizeof(id)), sizeof(id));
	waitpid(pid, &st, 0);
	assert_int_equal(shm_obj_map(s, SHM_MAP, (uint32_t)id, &mem, &size), 0);
	shm_obj_unmap(mem, size);
	assert_int_equal(shm_gc(s), 1);
	assert_int_equal(shm_obj_map(s, SHM_MAP, (uint32_t)id, &mem, &size),
			 -ENOENT);
	close(fds[0]);
	close(fds[1]);
	shm_session_close(s);
	shm_session_reset(sess);
}

static void test_pins(void **state)
{
	struct shm_session *s = open_sess();
	enum shm_kind kind;
	uint32_t id;
	int a;

	a = new_obj(s, 4096, 1);
	assert_int_equal(shm_pin(s, SHM_MAP, (uint32_t)a, "/sys/fs/bpf/m"), 0);
	assert_int_equal(shm_pin(s, SHM_MAP, (uint32_t)a, "/sys/fs/bpf/m2"), 0);
	assert_int_equal(shm_pin(s, SHM_MAP, (uint32_t)a, "/sys/fs/bpf/m"),
			 -EEXIST);
	assert_int_equal(shm_pin(s, SHM_MAP, 4242, "/x"), -ENOENT);
	assert_int_equal(shm_pin_lookup(s, "/sys/fs/bpf/m2", &kind, &id), 0);
	assert_int_equal(id, (uint32_t)a);
	assert_int_equal(kind, SHM_MAP);
	assert_int_equal(shm_obj_release(s, SHM_MAP, (uint32_t)a), 0);
	assert_int_equal(shm_gc(s), 0); /* pinned */
	assert_int_equal(shm_unpin(s, "/sys/fs/bpf/m"), 0);
	assert_int_equal(shm_unpin(s, "/sys/fs/bpf/m"), -ENOENT);
	assert_int_equal(shm_gc(s), 0); /* still pinned as m2 */
	assert_int_equal(shm_unpin(s, "/sys/fs/bpf/m2"), 0);
	assert_int_equal(shm_pin_lookup(s, "/sys/fs/bpf/m2", &kind, &id),
			 -ENOENT);
	assert_int_equal(shm_gc(s), 1);
	shm_session_close(s);
	shm_session_reset(sess);
}

static void test_refs(void **state)
{
	struct shm_session *s = open_sess();
	int outer = new_obj(s, 4096, 1), inner = new_obj(s, 4096, 1);

	assert_int_equal(shm_obj_ref(s, (uint32_t)inner, (uint32_t)outer), 0);
	assert_int_equal(shm_obj_release(s, SHM_MAP, (uint32_t)inner), 0);
	assert_int_equal(shm_gc(s), 0); /* outer is held and refers to it */
	assert_int_equal(shm_obj_release(s, SHM_MAP, (uint32_t)outer), 0);
	assert_int_equal(shm_gc(s), 2);
	shm_session_close(s);
	shm_session_reset(sess);
}

struct counter {
	struct shm_lock lock;
	uint64_t n;
};

static void *bump(void *arg)
{
	struct counter *c = arg;
	int i;

	for (i = 0; i < 100000; i++) {
		shm_lock(&c->lock);
		c->n++;
		shm_unlock(&c->lock);
	}
	return NULL;
}

static void test_lock_threads(void **state)
{
	static struct counter c;
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, bump, &c);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(c.n, 400000);
	assert_int_equal(c.lock.owner, 0);
	assert_int_equal(shm_trylock(&c.lock), 0);
	assert_int_equal(c.lock.owner, shm_tid());
	shm_unlock(&c.lock);
}

static void test_lock_owner_death(void **state)
{
	struct shm_session *s = open_sess();
	struct shm_lock *l;
	uint32_t *word;
	int id, fds[2], st;
	size_t size;
	void *mem;
	char c;
	pid_t pid;

	id = new_obj(s, 4096, 1);
	assert_int_equal(shm_obj_map(s, SHM_MAP, (uint32_t)id, &mem, &size), 0);
	l = (struct shm_lock *)((uint8_t *)mem + 1024);
	word = (uint32_t *)((uint8_t *)mem + 2048);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		shm_lock(l);
		shm_spin_lock(word);
		if (write(fds[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(l->owner, (uint32_t)pid);
	assert_int_equal(shm_trylock(l), -EBUSY);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	shm_lock(l); /* takes over from the dead owner */
	assert_int_equal(l->owner, shm_tid());
	shm_unlock(l);
	shm_spin_lock(word);
	assert_int_equal(*word, shm_tid());
	shm_spin_unlock(word);
	shm_obj_unmap(mem, size);
	close(fds[0]);
	close(fds[1]);
	shm_session_close(s);
	shm_session_reset(sess);
}

static void test_tid_fork(void **state)
{
	uint32_t me = shm_tid();
	int fds[2], st;
	uint32_t child = 0;
	pid_t pid;

	assert_int_equal(me, (uint32_t)gettid());
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		uint32_t t = shm_tid();

		if (write(fds[1], &t, sizeof(t)) != sizeof(t))
			_exit(2);
		_exit(0);
	}
	assert_int_equal(read(fds[0], &child, sizeof(child)), sizeof(child));
	waitpid(pid, &st, 0);
	assert_int_equal(child, (uint32_t)pid);
	close(fds[0]);
	close(fds[1]);
}

static void test_cpu_ids(void **state)
{
	cpu_set_t set, old;
	unsigned n = shm_ncpus(), cpu;
	FILE *f;
	char buf[64];

	assert_true(n >= 1);
	f = fopen("/sys/devices/system/cpu/possible", "r");
	if (f) {
		unsigned lo, hi;

		assert_non_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		if (sscanf(buf, "%u-%u", &lo, &hi) == 2)
			assert_int_equal(n, hi + 1);
	}
#ifdef SHM_HAVE_RSEQ
	if (__rseq_size == 0)
		print_message("note: glibc did not register rseq; "
			      "shm_cpu uses sched_getcpu\n");
#endif
	sched_getaffinity(0, sizeof(old), &old);
	for (cpu = 0; cpu < n; cpu++) {
		if (!CPU_ISSET(cpu, &old))
			continue;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
		sched_yield();
		assert_int_equal(shm_cpu(), cpu);
		assert_int_equal(shm_cpu_fast(), cpu);
	}
	sched_setaffinity(0, sizeof(old), &old);
}

static int teardown(void **state)
{
	shm_session_reset(sess);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_dir),
		cmocka_unit_test(test_obj_publish_map),
		cmocka_unit_test(test_ids_next),
		cmocka_unit_test(test_holds_gc),
		cmocka_unit_test(test_dead_process_gc),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_lock_threads),
		cmocka_unit_test(test_lock_owner_death),
		cmocka_unit_test(test_tid_fork),
		cmocka_unit_test(test_cpu_ids),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
