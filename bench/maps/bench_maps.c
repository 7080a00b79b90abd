/* SPDX-License-Identifier: MIT */
/*
 * bench_maps - ns per map operation through bpfx's helper functions
 * (called through the helper table's function pointers, as JIT code
 * calls them), 1 and 2 threads, beside the kernel's own map doing the same
 * operation in the same run: an XDP program of K unrolled helper calls run
 * by BPF_PROG_TEST_RUN (duration / K). Kernel columns are skipped, with
 * the reason, where bpf(2) is not permitted.
 *
 *   bench_maps [iterations]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helpers/helpers.h"
#include "vm/vm_internal.h"

#include "maps/maps.h"

enum op { LOOKUP, UPDATE, UPD_DEL, RB_RESERVE_SUBMIT };

struct bcase {
	const char *name;
	uint32_t type, ks, vs, max;
	enum op op;
};

static const struct bcase cases[] = {
	{ "array lookup", BPF_MAP_TYPE_ARRAY, 4, 8, 1024, LOOKUP },
	{ "array update", BPF_MAP_TYPE_ARRAY, 4, 8, 1024, UPDATE },
	{ "percpu_array lookup", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1024, LOOKUP },
	{ "percpu_array update", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1024, UPDATE },
	{ "hash lookup", BPF_MAP_TYPE_HASH, 4, 8, 1024, LOOKUP },
	{ "hash update", BPF_MAP_TYPE_HASH, 4, 8, 1024, UPDATE },
	{ "hash update+delete", BPF_MAP_TYPE_HASH, 4, 8, 1024, UPD_DEL },
	{ "percpu_hash lookup", BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 1024, LOOKUP },
	{ "percpu_hash update", BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 1024, UPDATE },
	{ "lru_hash lookup", BPF_MAP_TYPE_LRU_HASH, 4, 8, 1024, LOOKUP },
	{ "lru_hash update", BPF_MAP_TYPE_LRU_HASH, 4, 8, 1024, UPDATE },
	{ "ringbuf reserve+submit", BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 24,
	  RB_RESERVE_SUBMIT },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define REPS 5

static long iters = 2000000;
static bpfx_helper_fn h_lookup, h_update, h_delete, h_reserve, h_submit;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n);

/* bpf_probe_read_user of 8 bytes through the helper (fault-tolerant copy) */
static void probe_read_row(long n)
{
	const struct helper_def *d = helper_find(112);
	static volatile uint64_t src = 0x1122334455667788ull;
	uint64_t dst = 0;
	double v[REPS];
	int r;

	if (!d)
		return;
	vm_nofault_init();
	for (r = 0; r < REPS; r++) {
		double t0 = now_ns();

		for (long i = 0; i < n; i++) {
			d->fn((uintptr_t)&dst, 8, (uintptr_t)&src, 0, 0);
			__asm__ volatile("" ::: "memory");
		}
		v[r] = (now_ns() - t0) / (double)n;
	}
	printf("probe_read_user 8 bytes: %.2f ns (helper call, fault-tolerant copy)\n",
	       median(v, REPS));
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/* ---- bpfx ---- */

#define U(p) ((uint64_t)(uintptr_t)(p))

struct run {
	const struct bcase *c;
	struct bpfx_map *m;
	uint32_t key;
	double ns;
};

static void *bpfx_loop(void *arg)
{
	struct run *r = arg;
	uint64_t m = U(r->m), val = 1, sink = 0;
	uint32_t key = r->key, dkey = 100000 + r->key;
	struct ringbuf_view v;
	double t0;
	long i;

	if (r->c->op == RB_RESERVE_SUBMIT)
		ringbuf_view(r->m, &v);
	t0 = now_ns();
	switch (r->c->op) {
	case LOOKUP:
		for (i = 0; i < iters; i++)
			sink += h_lookup(m, U(&key), 0, 0, 0);
		break;
	case UPDATE:
		for (i = 0; i < iters; i++)
			sink += h_update(m, U(&key), U(&val), BPF_ANY, 0);
		break;
	case UPD_DEL:
		for (i = 0; i < iters; i++) {
			sink += h_update(m, U(&dkey), U(&val), BPF_ANY, 0);
			sink += h_delete(m, U(&dkey), 0, 0, 0);
		}
		break;
	case RB_RESERVE_SUBMIT:
		for (i = 0; i < iters; i++) {
			uint64_t p = h_reserve(m, 8, 0, 0, 0);

			if (p)
				h_submit(p, 0, 0, 0, 0);
			if ((i & 1023) == 0) /* the consumer keeps up */
				__atomic_store_n(v.consumer_pos,
						 __atomic_load_n(v.producer_pos,
								 __ATOMIC_ACQUIRE),
						 __ATOMIC_RELEASE);
		}
		break;
	}
	r->ns = (now_ns() - t0) / (double)iters;
	__asm__ volatile("" : : "r"(sink));
	return NULL;
}

static double bpfx_run(struct bpfx_map *m, const struct bcase *c, int nthr)
{
	double res[REPS];
	int rep, t;

	for (rep = 0; rep < REPS; rep++) {
		struct run r[2];
		pthread_t th[2];
		double sum = 0;

		for (t = 0; t < nthr; t++) {
			r[t] = (struct run){ c, m, (uint32_t)t, 0 };
			pthread_create(&th[t], NULL, bpfx_loop, &r[t]);
		}
		for (t = 0; t < nthr; t++) {
			pthread_join(th[t], NULL);
			sum += r[t].ns;
		}
		res[rep] = sum / nthr;
	}
	return median(res, REPS);
}

/* ---- kernel ---- */

#define K_UNROLL 32

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

struct kmap {
	int fd;
	void *cons; /* ring buffer consumer page */
	void *prod;
};

static int kmap_create(const struct bcase *c, struct kmap *km)
{
	union bpf_attr a;
	uint32_t k;
	uint8_t val[8 * 512];

	memset(&a, 0, sizeof(a));
	a.map_type = c->type;
	a.key_size = c->ks;
	a.value_size = c->vs;
	a.max_entries = c->max;
	km->fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (km->fd < 0)
		return -errno;
	memset(val, 0, sizeof(val));
	for (k = 0; k < 2 && c->type != BPF_MAP_TYPE_RINGBUF; k++) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)km->fd;
		a.key = U(&k);
		a.value = U(val);
		sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
	}
	if (c->type == BPF_MAP_TYPE_RINGBUF) {
		km->cons = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
				km->fd, 0);
		km->prod = mmap(NULL, 4096, PROT_READ, MAP_SHARED, km->fd, 4096);
		if (km->cons == MAP_FAILED || km->prod == MAP_FAILED)
			return -errno;
	}
	return 0;
}

#define INSN(c, d, s, o, i)                                                 \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s),    \
			    .off = (o), .imm = (i) })

static int prog_load(const struct bcase *c, int map_fd, char *why,
		     size_t whylen)
{
	struct bpf_insn p[16 + K_UNROLL * 16];
	union bpf_attr a;
	static char log[65536];
	int n = 0, k, fd;

#define LD_MAP(r)                                                           \
	do {                                                                \
		p[n++] = INSN(BPF_LD | BPF_DW | BPF_IMM, r, BPF_PSEUDO_MAP_FD,  \
			      0, map_fd);                                   \
		p[n++] = INSN(0, 0, 0, 0, 0);                               \
	} while (0)
	/* *(u64 *)(r10 - 8) = key (per thread key 0), *(u64 *)(r10-16) = 1 */
	p[n++] = INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0);
	p[n++] = INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -16, 1);
	p[n++] = INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -24, 100000);
	for (k = 0; k < K_UNROLL; k++) {
		switch (c->op) {
		case LOOKUP:
		case UPDATE:
		case UPD_DEL:
			LD_MAP(BPF_REG_1);
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2,
				      BPF_REG_10, 0, 0);
			p[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0,
				      0, c->op == UPD_DEL ? -24 : -8);
			if (c->op == LOOKUP) {
				p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
					      BPF_FUNC_map_lookup_elem);
				break;
			}
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3,
				      BPF_REG_10, 0, 0);
			p[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0,
				      0, -16);
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0,
				      0, BPF_ANY);
			p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
				      BPF_FUNC_map_update_elem);
			if (c->op == UPD_DEL) {
				LD_MAP(BPF_REG_1);
				p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X,
					      BPF_REG_2, BPF_REG_10, 0, 0);
				p[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K,
					      BPF_REG_2, 0, 0, -24);
				p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
					      BPF_FUNC_map_delete_elem);
			}
			break;
		case RB_RESERVE_SUBMIT:
			LD_MAP(BPF_REG_1);
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0,
				      0, 8);
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0,
				      0, 0);
			p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
				      BPF_FUNC_ringbuf_reserve);
			p[n++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 3,
				      0);
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1,
				      BPF_REG_0, 0, 0);
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0,
				      0, 0);
			p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
				      BPF_FUNC_ringbuf_submit);
			break;
		}
	}
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = U(p);
	a.insn_cnt = (uint32_t)n;
	a.license = U("GPL");
	a.log_buf = U(log);
	a.log_size = sizeof(log);
	a.log_level = 1;
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0)
		snprintf(why, whylen, "BPF_PROG_LOAD: %s", strerror(errno));
	return fd;
}

struct krun {
	int prog;
	struct kmap *km;
	double ns;
	int err;
};

static void *kernel_loop(void *arg)
{
	struct krun *r = arg;
	uint8_t pkt[64] = { 0 };
	union bpf_attr a;
	long done = 0, rounds = 0;
	double sum = 0;
	uint32_t repeat = 1000;

	while (done < iters) {
		if (r->km->cons) /* consume everything between runs */
			__atomic_store_n((uint64_t *)r->km->cons,
					 __atomic_load_n((uint64_t *)r->km->prod,
							 __ATOMIC_ACQUIRE),
					 __ATOMIC_RELEASE);
		memset(&a, 0, sizeof(a));
		a.test.prog_fd = (uint32_t)r->prog;
		a.test.data_in = U(pkt);
		a.test.data_size_in = sizeof(pkt);
		a.test.repeat = repeat;
		if (sys_bpf(BPF_PROG_TEST_RUN, &a)) {
			r->err = -errno;
			return NULL;
		}
		sum += a.test.duration; /* ns per run, averaged */
		rounds++;
		done += (long)repeat * K_UNROLL;
	}
	r->ns = sum / rounds / K_UNROLL;
	return NULL;
}

static double kernel_run(const struct bcase *c, int nthr, char *why,
			 size_t whylen)
{
	double res[REPS];
	struct kmap km = { -1, NULL, NULL };
	int prog, rep, t, err;

	err = kmap_create(c, &km);
	if (err) {
		snprintf(why, whylen, "BPF_MAP_CREATE: %s", strerror(-err));
		return -1;
	}
	prog = prog_load(c, km.fd, why, whylen);
	if (prog < 0) {
		close(km.fd);
		return -1;
	}
	for (rep = 0; rep < REPS; rep++) {
		struct krun r[2];
		pthread_t th[2];
		double sum = 0;

		for (t = 0; t < nthr; t++) {
			r[t] = (struct krun){ prog, &km, 0, 0 };
			pthread_create(&th[t], NULL, kernel_loop, &r[t]);
		}
		for (t = 0; t < nthr; t++) {
			pthread_join(th[t], NULL);
			if (r[t].err) {
				snprintf(why, whylen, "BPF_PROG_TEST_RUN: %s",
					 strerror(-r[t].err));
				close(prog);
				close(km.fd);
				return -1;
			}
			sum += r[t].ns;
		}
		res[rep] = sum / nthr;
	}
	close(prog);
	close(km.fd);
	return median(res, REPS);
}

static bpfx_helper_fn helper(uint32_t id)
{
	const struct helper_def *h;

	for (h = helpers_maps_table; h->name; h++)
		if (h->id == id)
			return h->fn;
	return NULL;
}

int main(int argc, char **argv)
{
	char sess[64], why[256] = "";
	double res[NCASES][2][2]; /* [case][bpfx/kernel][threads-1] */
	struct shm_session *s;
	size_t i;
	int t, kernel_ok = 1;

	if (argc > 1)
		iters = atol(argv[1]);
	h_lookup = helper(BPF_FUNC_map_lookup_elem);
	h_update = helper(BPF_FUNC_map_update_elem);
	h_delete = helper(BPF_FUNC_map_delete_elem);
	h_reserve = helper(BPF_FUNC_ringbuf_reserve);
	h_submit = helper(BPF_FUNC_ringbuf_submit);
	snprintf(sess, sizeof(sess), "bench-maps-%d", (int)getpid());
	s = shm_session_open(sess);
	if (!s) {
		fprintf(stderr, "bench_maps: session: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < NCASES; i++) {
		const struct bcase *c = &cases[i];
		struct map_def d = { .type = c->type, .key_size = c->ks,
				     .value_size = c->vs,
				     .max_entries = c->max };
		struct bpfx_map *m;
		uint64_t zero[512] = { 0 };
		uint32_t k;

		if (map_create(s, &d, &m)) {
			fprintf(stderr, "bench_maps: map_create %s failed\n",
				c->name);
			return 1;
		}
		for (k = 0; k < 2 && c->type != BPF_MAP_TYPE_RINGBUF; k++)
			map_sys_update(m, &k, zero, BPF_ANY);
		for (t = 0; t < 2; t++) {
			res[i][0][t] = bpfx_run(m, c, t + 1);
			res[i][1][t] = -1;
			if (kernel_ok) {
				res[i][1][t] = kernel_run(c, t + 1, why,
							  sizeof(why));
				if (res[i][1][t] < 0 &&
				    (strstr(why, "not permitted") ||
				     strstr(why, "ENOSYS") ||
				     strstr(why, "Function not impl")))
					kernel_ok = 0;
			}
		}
		map_close(m);
	}
	shm_session_close(s);
	shm_session_reset(sess);

	printf("bench/maps: ns per operation (median of %d runs of %ld ops), "
	       "bpfx helpers vs kernel maps (XDP BPF_PROG_TEST_RUN, %d calls "
	       "per run)\n",
	       REPS, iters, K_UNROLL);
	printf("%-24s %9s %9s %7s | %9s %9s %7s\n", "operation", "bpfx 1T",
	       "kern 1T", "k/b", "bpfx 2T", "kern 2T", "k/b");
	for (i = 0; i < NCASES; i++) {
		printf("%-24s", cases[i].name);
		for (t = 0; t < 2; t++) {
			double b = res[i][0][t], k = res[i][1][t];

			if (k > 0)
				printf(" %9.2f %9.2f %6.2fx", b, k, k / b);
			else
				printf(" %9.2f %9s %7s", b, "-", "-");
			if (t == 0)
				printf(" |");
		}
		printf("\n");
	}
	printf("per-CPU / plain (1T): array lookup %.2fx, array update %.2fx, "
	       "hash lookup %.2fx, hash update %.2fx\n",
	       res[2][0][0] / res[0][0][0], res[3][0][0] / res[1][0][0],
	       res[7][0][0] / res[4][0][0], res[8][0][0] / res[5][0][0]);
	if (why[0])
		printf("kernel columns: %s%s\n", why,
		       kernel_ok ? "" : " (skipped from then on)");
	probe_read_row(iters);
	return 0;
}
