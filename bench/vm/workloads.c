/* SPDX-License-Identifier: MIT */
/*
 * workloads.c - the bench/vm workloads, compiled twice from this one file:
 *   clang -O2 -target bpf -mcpu=v3 -c    -> eBPF for bpfx (each wl_*
 *                                          function with its callees
 *                                          becomes one program)
 *   gcc -O2                               -> native, linked into the bench
 *
 * Every workload is `uint64_t wl_NAME(uint8_t *mem, uint64_t len)`: r1 =
 * memory prepared by the bench (the same buffer for every engine), r2 =
 * its length. Self-contained: no maps, no helpers, no globals, no
 * relocations; noinline static functions become bpf-to-bpf calls. Sizes
 * and counts come from the memory, so no compiler folds the work away.
 */
/* no libc headers: the BPF target has none */
#ifdef __bpf__
#define WL_EXPORT __attribute__((section(".text"), used))
#else
#define WL_EXPORT
#endif
#define NOINLINE __attribute__((noinline))
/* the native build is linked twice (scalar, vectorized) under two names */
#ifdef WL_VEC
#define WL_NAME(n) wlv_##n
#else
#define WL_NAME(n) wl_##n
#endif

typedef __UINT64_TYPE__ u64;
typedef __UINT32_TYPE__ u32;
typedef __UINT16_TYPE__ u16;
typedef __UINT8_TYPE__ u8;
typedef __INT64_TYPE__ s64;

/* first 8 bytes of every buffer: a parameter (count or size) */
static inline u64 param(const u8 *mem)
{
	return *(const u64 *)mem;
}

/* a + b from memory */
WL_EXPORT u64 WL_NAME(add)(u8 *mem, u64 len)
{
	return *(const u64 *)mem + *(const u64 *)(mem + 8);
}

/* sum of floor(log2(x)) over an array of u64 (n = param) */
WL_EXPORT u64 WL_NAME(log2)(u8 *mem, u64 len)
{
	const u64 *a = (const u64 *)(mem + 8);
	u64 n = param(mem), sum = 0, i;

	for (i = 0; i < n; i++) {
		u64 v = a[i], r = 0;

		if (v >> 32) { v >>= 32; r += 32; }
		if (v >> 16) { v >>= 16; r += 16; }
		if (v >> 8) { v >>= 8; r += 8; }
		if (v >> 4) { v >>= 4; r += 4; }
		if (v >> 2) { v >>= 2; r += 2; }
		if (v >> 1) r += 1;
		sum += r;
	}
	return sum;
}

/* copy param bytes from mem+8 to mem+8+param, one byte at a time */
WL_EXPORT u64 WL_NAME(memcpy)(u8 *mem, u64 len)
{
	u64 n = param(mem), i;
	const u8 *src = mem + 8;
	u8 *dst = mem + 8 + n;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
	return dst[n - 1];
}

/* number of primes below param, by trial division */
WL_EXPORT u64 WL_NAME(primes)(u8 *mem, u64 len)
{
	u32 n = (u32)param(mem), count = 0, i, d;

	for (i = 2; i < n; i++) {
		int prime = 1;

		for (d = 2; d * d <= i; d++) {
			if (i % d == 0) {
				prime = 0;
				break;
			}
		}
		count += prime;
	}
	return count;
}

/* strcmp of two NUL-terminated strings at mem+8 and mem+8+param */
WL_EXPORT u64 WL_NAME(strcmp)(u8 *mem, u64 len)
{
	const u8 *a = mem + 8, *b = mem + 8 + param(mem);

	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (u64)(s64)((int)*a - (int)*b);
}

/* dense switch over the bytes of an array */
WL_EXPORT u64 WL_NAME(switch)(u8 *mem, u64 len)
{
	u64 n = param(mem), acc = 0, i;
	const u8 *a = mem + 8;

	for (i = 0; i < n; i++) {
		switch (a[i] & 15) {
		case 0: acc += 3; break;
		case 1: acc ^= 0x55; break;
		case 2: acc = acc * 3 + 1; break;
		case 3: acc -= 7; break;
		case 4: acc += i; break;
		case 5: acc >>= 1; break;
		case 6: acc |= 0x100; break;
		case 7: acc += acc << 2; break;
		case 8: acc ^= i << 3; break;
		case 9: acc += 99; break;
		case 10: acc &= 0xffffffffffull; break;
		case 11: acc -= i; break;
		case 12: acc += 12345; break;
		case 13: acc ^= acc >> 7; break;
		case 14: acc += a[i]; break;
		default: acc = ~acc; break;
		}
	}
	return acc;
}

/* total set bits of an array of u64 (Kernighan's loop) */
WL_EXPORT u64 WL_NAME(bitcount)(u8 *mem, u64 len)
{
	const u64 *a = (const u64 *)(mem + 8);
	u64 n = param(mem), c = 0, i;

	for (i = 0; i < n; i++) {
		u64 v = a[i];

		while (v) {
			v &= v - 1;
			c++;
		}
	}
	return c;
}

/* 8192 lookups of pseudo-random keys in a sorted u32 array */
WL_EXPORT u64 WL_NAME(bsearch)(u8 *mem, u64 len)
{
	const u32 *a = (const u32 *)(mem + 8);
	u32 n = (u32)param(mem), key = 12345, k;
	u64 found = 0;

	for (k = 0; k < 8192; k++) {
		u32 lo = 0, hi = n;

		key = key * 1103515245u + 12345u;
		while (lo < hi) {
			u32 mid = lo + (hi - lo) / 2;

			if (a[mid] < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		found += lo;
	}
	return found;
}

/* Internet (ones' complement) checksum of param bytes */
WL_EXPORT u64 WL_NAME(checksum)(u8 *mem, u64 len)
{
	const u16 *p = (const u16 *)(mem + 8);
	u64 n = param(mem) / 2, sum = 0, i;

	for (i = 0; i < n; i++)
		sum += p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

/* fib(param) mod 2^64, iteratively */
WL_EXPORT u64 WL_NAME(fib)(u8 *mem, u64 len)
{
	u64 n = param(mem), a = 0, b = 1, i;

	for (i = 0; i < n; i++) {
		u64 t = a + b;

		a = b;
		b = t;
	}
	return a;
}

/* two nested loops of param iterations each */
WL_EXPORT u64 WL_NAME(nested)(u8 *mem, u64 len)
{
	u64 n = param(mem), acc = 0, i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			acc += (i * j) ^ (acc >> 3);
	return acc;
}

/* a 3-deep chain of noinline calls per element */
static NOINLINE u64 call3(u64 x)
{
	return (x ^ (x >> 7)) * 0x2545f491u;
}

static NOINLINE u64 call2(u64 x)
{
	return call3(x + 17) + 1;
}

static NOINLINE u64 call1(u64 x)
{
	return call2(x * 3) ^ x;
}

WL_EXPORT u64 WL_NAME(calls)(u8 *mem, u64 len)
{
	const u64 *a = (const u64 *)(mem + 8);
	u64 n = param(mem), acc = 0, i;

	for (i = 0; i < n; i++)
		acc += call1(a[i] + acc);
	return acc;
}
