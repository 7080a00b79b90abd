/* SPDX-License-Identifier: MIT */
/*
 * hostfn.c - host functions as helpers: a fixed set of thunks, one per
 * slot, each calling the bound C function and then checking what it
 * returned.
 *
 * The verifier has assumed each `ret OP x` constraint after the call (it
 * may have used it to bound a buffer index), so a host function that breaks
 * its own contract must not reach the extension: the thunk evaluates every
 * return constraint with the actual arguments, counts and reports a
 * violation (the first few per function, through the print callback) and
 * clamps the value into the declared range. It also widens the return
 * value to 64 bits as its declared C type says (an `int` leaves garbage in
 * the upper half of rax).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "eim/host_internal.h"
#include "vm/vm_internal.h"

#define REPORT_MAX 5

struct slot {
	struct eim_func f;
	bpfx_helper_fn fn;
	uint64_t reported;
};

static struct slot slots[HOSTFN_MAX];
static uint32_t nslots;
static uint64_t violations;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t widen(const struct eim_type *t, uint64_t v)
{
	if (t->kind != EIM_T_INT || t->size >= 8)
		return (int64_t)v;
	if (t->is_signed) {
		unsigned sh = 64 - 8u * t->size;

		return (int64_t)(v << sh) >> sh;
	}
	return (int64_t)(v & ((1ull << (8u * t->size)) - 1));
}

static uint64_t invoke(uint32_t k, uint64_t a1, uint64_t a2, uint64_t a3,
		       uint64_t a4, uint64_t a5)
{
	struct slot *s = &slots[k];
	const struct eim_func *f = &s->f;
	uint64_t a[5] = { a1, a2, a3, a4, a5 };
	int64_t r, lo = INT64_MIN, hi = INT64_MAX;
	uint32_t c;

	if (!s->fn) {
		if (__atomic_fetch_add(&s->reported, 1, __ATOMIC_RELAXED) < REPORT_MAX)
			vm_log(BPFX_WARN, "bpfx: EIM: host function '%s' is not bound; it returns 0\n",
			       f->name);
		return 0;
	}
	r = widen(&f->proto.ret, s->fn(a1, a2, a3, a4, a5));
	for (c = 0; c < f->ncons; c++) {
		const struct eim_constraint *cn = &f->cons[c];
		int64_t b;
		uint8_t op = cn->op;

		if (cn->kind != EIM_C_CMP)
			continue;
		if (cn->lhs.arg == EIM_OPND_RET) {
			b = cn->rhs.arg == EIM_OPND_CONST ? cn->rhs.value :
			    cn->rhs.arg >= 0 ? widen(&f->proto.params[cn->rhs.arg].t,
						     a[cn->rhs.arg]) : r;
		} else if (cn->rhs.arg == EIM_OPND_RET) {
			b = cn->lhs.arg == EIM_OPND_CONST ? cn->lhs.value :
			    widen(&f->proto.params[cn->lhs.arg].t, a[cn->lhs.arg]);
			op = op == EIM_LT ? EIM_GT : op == EIM_LE ? EIM_GE :
			     op == EIM_GT ? EIM_LT : op == EIM_GE ? EIM_LE : op;
		} else {
			continue;
		}
		switch (op) {
		case EIM_LT: if (b - 1 < hi) hi = b - 1; break;
		case EIM_LE: if (b < hi) hi = b; break;
		case EIM_GT: if (b + 1 > lo) lo = b + 1; break;
		case EIM_GE: if (b > lo) lo = b; break;
		case EIM_EQ: lo = hi = b; break;
		default: break;
		}
	}
	if (r < lo || r > hi) {
		int64_t fixed = r < lo ? lo : hi;

		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
		if (__atomic_fetch_add(&s->reported, 1, __ATOMIC_RELAXED) < REPORT_MAX)
			vm_log(BPFX_WARN,
			       "bpfx: EIM: host function '%s' returned %lld, outside its declared constraints (allowed [%lld, %lld] for these arguments); the extension sees %lld\n",
			       f->name, (long long)r, (long long)lo, (long long)hi,
			       (long long)fixed);
		r = fixed;
	}
	return (uint64_t)r;
}

#define THUNK(k)                                                              \
	static uint64_t thunk##k(uint64_t a1, uint64_t a2, uint64_t a3,       \
				 uint64_t a4, uint64_t a5)                    \
	{                                                                     \
		return invoke(8 * ((k) / 10) + (k) % 10, a1, a2, a3, a4, a5); \
	}
#define THUNK8(k)                                                             \
	THUNK(k##0) THUNK(k##1) THUNK(k##2) THUNK(k##3) THUNK(k##4)           \
	THUNK(k##5) THUNK(k##6) THUNK(k##7)
THUNK8(0) THUNK8(1) THUNK8(2) THUNK8(3) THUNK8(4) THUNK8(5) THUNK8(6) THUNK8(7)

#define REF8(k) thunk##k##0, thunk##k##1, thunk##k##2, thunk##k##3, \
		thunk##k##4, thunk##k##5, thunk##k##6, thunk##k##7
/* octal-looking names: thunk00..thunk77, slot index = 8 * tens + units */
static const bpfx_helper_fn thunks[HOSTFN_MAX] = {
	REF8(0), REF8(1), REF8(2), REF8(3), REF8(4), REF8(5), REF8(6), REF8(7)
};

int hostfn_slot(const struct eim_func *f, void *fn, bpfx_helper_fn *thunk)
{
	uint32_t k;
	int err = 0;

	pthread_mutex_lock(&lock);
	for (k = 0; k < nslots; k++)
		if (!strcmp(slots[k].f.name, f->name))
			break;
	if (k == nslots) {
		if (nslots == HOSTFN_MAX) {
			err = -ENOSPC;
			goto out;
		}
		nslots++;
	}
	slots[k].f = *f;
	if (fn)
		__atomic_store_n(&slots[k].fn, (bpfx_helper_fn)fn, __ATOMIC_RELEASE);
	*thunk = thunks[k];
out:
	pthread_mutex_unlock(&lock);
	return err;
}

uint64_t hostfn_violations(void)
{
	return __atomic_load_n(&violations, __ATOMIC_RELAXED);
}
