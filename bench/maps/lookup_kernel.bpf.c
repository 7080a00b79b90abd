#include "lookup.h"

SEC("xdp") int lk0(struct xdp_md *ctx) { return LOOKUPS(arr, 0) + XDP_PASS; }
SEC("xdp") int lk32(struct xdp_md *ctx) { return LOOKUPS(arr, 32) + XDP_PASS; }
SEC("xdp") int plk0(struct xdp_md *ctx) { return LOOKUPS(pcpu, 0) + XDP_PASS; }
SEC("xdp") int plk32(struct xdp_md *ctx) { return LOOKUPS(pcpu, 32) + XDP_PASS; }
