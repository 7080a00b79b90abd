// SPDX-License-Identifier: MIT
/* Every map type, driven through uprobe-type programs: PARM1..PARM3 of the
 * context select the key and value; the return value reports the result. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u64);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} lru_pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 4);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner0 SEC(".maps"), inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { &inner0, &inner1 },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [1] = &inner1 },
};

/* arr[PARM1] += PARM2; return the new value */
SEC("uprobe")
int array_add(struct pt_regs *ctx)
{
	__u32 key = (__u32)PT_REGS_PARM1(ctx);
	__u64 *v = bpf_map_lookup_elem(&arr, &key);

	if (!v)
		return -1;
	__sync_fetch_and_add(v, PT_REGS_PARM2(ctx));
	return (int)*v;
}

/* PARM3: 0 = update(PARM1 -> PARM2, BPF_ANY), 1 = NOEXIST, 2 = EXIST,
 * 3 = lookup, 4 = delete; returns the helper's result or the value */
SEC("uprobe")
int hash_op(struct pt_regs *ctx)
{
	__u64 key = PT_REGS_PARM1(ctx), val = PT_REGS_PARM2(ctx);
	__u64 *v;

	switch (PT_REGS_PARM3(ctx)) {
	case 0: return bpf_map_update_elem(&hash, &key, &val, BPF_ANY);
	case 1: return bpf_map_update_elem(&hash, &key, &val, BPF_NOEXIST);
	case 2: return bpf_map_update_elem(&hash, &key, &val, BPF_EXIST);
	case 3:
		v = bpf_map_lookup_elem(&hash, &key);
		return v ? (int)*v : -2;
	default: return bpf_map_delete_elem(&hash, &key);
	}
}

/* Constant keys (folded at load to the element's address) beside keys that
 * only look constant: returns arr[2] + arr[PARM1] (the slot rewritten
 * through a pointer after its constant store) + 1000 per NULL lookup of
 * the out-of-range constant 16, and adds 1 to this CPU's pcpu_arr[1]. */
SEC("uprobe")
int const_keys(struct pt_regs *ctx)
{
	__u32 k = 2, k2 = 0, *p = &k2;
	__u64 s = 0, *v;

	v = bpf_map_lookup_elem(&arr, &k);
	if (v)
		s += *v;
	k = 16;
	v = bpf_map_lookup_elem(&arr, &k);
	if (!v)
		s += 1000;
	asm volatile("" : "+r"(p));	/* the compiler forgets p == &k2 */
	*p = (__u32)PT_REGS_PARM1(ctx);
	v = bpf_map_lookup_elem(&arr, &k2);
	if (v)
		s += *v;
	k = 1;
	v = bpf_map_lookup_elem(&pcpu_arr, &k);
	if (v)
		*v += 1;
	return (int)s;
}

/* per-CPU: add PARM2 to this CPU's slot of key PARM1 in all four per-CPU
 * or LRU maps; returns this CPU's new value in pcpu_arr */
SEC("uprobe")
int percpu_add(struct pt_regs *ctx)
{
	__u32 key = (__u32)PT_REGS_PARM1(ctx);
	__u64 add = PT_REGS_PARM2(ctx), *v;

	v = bpf_map_lookup_elem(&pcpu_hash, &key);
	if (v)
		*v += add;
	else
		bpf_map_update_elem(&pcpu_hash, &key, &add, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&lru, &key);
	if (v)
		*v += add;
	else
		bpf_map_update_elem(&lru, &key, &add, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&lru_pcpu, &key);
	if (v)
		*v += add;
	else
		bpf_map_update_elem(&lru_pcpu, &key, &add, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&pcpu_arr, &key);
	if (!v)
		return -1;
	*v += add;
	return (int)*v;
}

/* push PARM1 to queue and stack; PARM2 != 0: pop one from each and
 * return queue_value * 1000 + stack_value */
SEC("uprobe")
int queue_stack(struct pt_regs *ctx)
{
	__u32 v = (__u32)PT_REGS_PARM1(ctx), q = 0, s = 0;

	if (!PT_REGS_PARM2(ctx)) {
		if (bpf_map_push_elem(&queue, &v, 0) || bpf_map_push_elem(&stack, &v, 0))
			return -1;
		return 0;
	}
	if (bpf_map_pop_elem(&queue, &q) || bpf_map_pop_elem(&stack, &s))
		return -2;
	return (int)(q * 1000 + s);
}

/* PARM2 == 0: add PARM1 to the bloom filter; else: 1 if maybe present */
SEC("uprobe")
int bloom_op(struct pt_regs *ctx)
{
	__u32 v = (__u32)PT_REGS_PARM1(ctx);

	if (!PT_REGS_PARM2(ctx))
		return bpf_map_push_elem(&bloom, &v, 0);
	return bpf_map_peek_elem(&bloom, &v) == 0;
}

/* longest-prefix match of the IPv4 address in PARM1 (network order bytes) */
SEC("uprobe")
int lpm_match(struct pt_regs *ctx)
{
	struct lpm_key k = { .prefixlen = 32 };
	__u32 addr = (__u32)PT_REGS_PARM1(ctx), *v;

	__builtin_memcpy(k.addr, &addr, 4);
	v = bpf_map_lookup_elem(&lpm, &k);
	return v ? (int)*v : -1;
}

/* outer[PARM1] -> inner map; inner[0] += 1; returns the new value */
SEC("uprobe")
int map_in_map(struct pt_regs *ctx)
{
	__u32 idx = (__u32)PT_REGS_PARM1(ctx), zero = 0;
	void *in = PT_REGS_PARM2(ctx) ? bpf_map_lookup_elem(&outer_hash, &idx)
				      : bpf_map_lookup_elem(&outer, &idx);
	__u64 *v;

	if (!in)
		return -1;
	v = bpf_map_lookup_elem(in, &zero);
	if (!v)
		return -2;
	*v += 1;
	return (int)*v;
}

char LICENSE[] SEC("license") = "GPL";
