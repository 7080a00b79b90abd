#include "lookup.h"

SEC("uprobe") int lk0(void *ctx) { return LOOKUPS(0); }
SEC("uprobe") int lk32(void *ctx) { return LOOKUPS(32); }
