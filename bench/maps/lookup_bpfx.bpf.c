#include <linux/ptrace.h>

#include "lookup.h"

/* constant keys (folded at load) */
SEC("uprobe") int lk0(void *ctx) { return LOOKUPS(arr, 0); }
SEC("uprobe") int lk32(void *ctx) { return LOOKUPS(arr, 32); }
SEC("uprobe") int plk0(void *ctx) { return LOOKUPS(pcpu, 0); }
SEC("uprobe") int plk32(void *ctx) { return LOOKUPS(pcpu, 32); }
/* variable keys: di of the zero-filled context */
#define BASE(ctx) ((__u32)((struct pt_regs *)(ctx))->rdi)
SEC("uprobe") int vlk0(void *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(arr, 0, b); }
SEC("uprobe") int vlk32(void *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(arr, 32, b); }
SEC("uprobe") int vplk0(void *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(pcpu, 0, b); }
SEC("uprobe") int vplk32(void *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(pcpu, 32, b); }
