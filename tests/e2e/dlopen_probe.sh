#!/usr/bin/env bash
# Probes on a library that is not mapped when tracing starts: the links
# stay pending until the target's dlopen maps it, then every call counts.
. "$(dirname "$0")/lib.sh"
cd "$BUILD" # the sections name ./tests/targets/libbpfxdemo.so
out=$("$BPFX" run tests/progs/dlopen.bpf.o -- ./tests/targets/dlopen_loop \
	./tests/targets/libbpfxdemo.so 500)
echo "$out"
grep -q "dlopen_loop: 500 calls" <<<"$out" || fail "target did not finish"
[ "$(map_value dlopen_hits 0)" = 500 ] || fail "uprobe hits"
[ "$(map_value dlopen_hits 1)" = 500 ] || fail "uretprobe hits"
echo PASS
