/* One program body for bpfx (uprobe) and the kernel (XDP, since the kernel
 * has no BPF_PROG_TEST_RUN for uprobes): N lookups in an array or a per-CPU
 * array, unrolled. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

/* base: 0 at run time, unknown at load (a context field): base + i is a
 * variable key; base 0 written as a literal makes every key a constant */
#define LOOKUPS_FROM(map, n, base)					\
	({								\
		__u64 s = 0;						\
		_Pragma("unroll")					\
		for (__u32 i = 0; i < (n); i++) {			\
			__u32 k = (base) + i;				\
			__u64 *v = bpf_map_lookup_elem(&map, &k);	\
			if (v)						\
				s += *v;				\
		}							\
		(int)s;							\
	})

#define LOOKUPS(map, n) LOOKUPS_FROM(map, n, 0)

char LICENSE[] SEC("license") = "GPL";
