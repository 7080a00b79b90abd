#!/usr/bin/env bash
# USDT probes through libbpf's usdt support: arguments read with
# bpf_usdt_arg (spec maps + attach cookies), and the semaphore of a gated
# probe raised while attached (and only then).
. "$(dirname "$0")/lib.sh"
cd "$BUILD" # the sections name ./tests/targets/usdt_target
out=$("$BPFX" run tests/progs/usdt.bpf.o -- ./tests/targets/usdt_target 100)
echo "$out"
grep -q "gated enabled 100 times" <<<"$out" || fail "semaphore not raised"
[ "$(map_value usdt_sums 0)" = 100 ] || fail "tick hits"
[ "$(map_value usdt_sums 1)" = 4950 ] || fail "arg0 sum"
[ "$(map_value usdt_sums 2)" = 14850 ] || fail "arg1 sum"
[ "$(map_value usdt_sums 3)" = 100 ] || fail "gated hits"
./tests/targets/usdt_target 10 | grep -q "gated enabled 0 times" || fail "semaphore raised without a tracer"
echo PASS
