#!/usr/bin/env bash
# A process started without bpfx: `bpfx attach` loads the agent by ptrace
# (and reports how long it took), `bpfx run --pid` then probes it; the
# target finishes normally with its own output and exit status.
. "$(dirname "$0")/lib.sh"
"$BUILD/tests/targets/alloc_loop" 4000 500 > "/tmp/$BPFX_SESSION.out" &
t=$!
sleep 0.3
a=$("$BPFX" attach "$t") || fail "attach: $a"
echo "$a"
grep -q "agent loaded into process $t" <<<"$a" || fail "attach output"
"$BPFX" attach "$t" | grep -q "already has the agent" || fail "second attach"
out=$("$BPFX" run "$BUILD/examples/malloc.bpf.o" --pid "$t" 2>&1)
wait $t || fail "target exit status $?"
grep -q "4000 mallocs" "/tmp/$BPFX_SESSION.out" || fail "target output"
rm -f "/tmp/$BPFX_SESSION.out"
n=$(map_value calls "$t")
[ -n "$n" ] && [ "$n" -gt 100 ] || fail "@calls[$t] = '$n'"
# run --pid on a process without the agent injects it by itself
sleep 30 & s=$!
"$BPFX" run "$BUILD/examples/malloc.bpf.o" --pid "$s" >/dev/null 2>&1 &
r=$!
sleep 1
grep -q libbpfx-agent.so /proc/$s/maps || fail "run --pid did not inject"
kill $s; wait $s 2>/dev/null || true
wait $r || true
echo PASS
