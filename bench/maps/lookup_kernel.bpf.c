#include "lookup.h"

/* constant keys */
SEC("xdp") int lk0(struct xdp_md *ctx) { return LOOKUPS(arr, 0) + XDP_PASS; }
SEC("xdp") int lk32(struct xdp_md *ctx) { return LOOKUPS(arr, 32) + XDP_PASS; }
SEC("xdp") int plk0(struct xdp_md *ctx) { return LOOKUPS(pcpu, 0) + XDP_PASS; }
SEC("xdp") int plk32(struct xdp_md *ctx) { return LOOKUPS(pcpu, 32) + XDP_PASS; }
/* variable keys: rx_queue_index, 0 in a test run */
#define BASE(ctx) ((ctx)->rx_queue_index)
SEC("xdp") int vlk0(struct xdp_md *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(arr, 0, b) + XDP_PASS; }
SEC("xdp") int vlk32(struct xdp_md *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(arr, 32, b) + XDP_PASS; }
SEC("xdp") int vplk0(struct xdp_md *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(pcpu, 0, b) + XDP_PASS; }
SEC("xdp") int vplk32(struct xdp_md *ctx) { __u32 b = BASE(ctx); return LOOKUPS_FROM(pcpu, 32, b) + XDP_PASS; }
