#include "lookup.h"

SEC("xdp") int lk0(struct xdp_md *ctx) { return LOOKUPS(0) + XDP_PASS; }
SEC("xdp") int lk32(struct xdp_md *ctx) { return LOOKUPS(32) + XDP_PASS; }
