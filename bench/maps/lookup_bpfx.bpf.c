#include "lookup.h"

SEC("uprobe") int lk0(void *ctx) { return LOOKUPS(arr, 0); }
SEC("uprobe") int lk32(void *ctx) { return LOOKUPS(arr, 32); }
SEC("uprobe") int plk0(void *ctx) { return LOOKUPS(pcpu, 0); }
SEC("uprobe") int plk32(void *ctx) { return LOOKUPS(pcpu, 32); }
