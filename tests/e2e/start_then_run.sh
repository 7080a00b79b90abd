#!/usr/bin/env bash
# A target started with the agent (bpfx start) and already running gets the
# probes of a later `bpfx run --pid`; when bpfx run ends (the target exits)
# the counts print. Then a second target runs unprobed after detach.
. "$(dirname "$0")/lib.sh"
"$BPFX" start -- "$BUILD/tests/targets/alloc_loop" 3000 500 > /tmp/$BPFX_SESSION.target &
tpid=$!
sleep 0.3
# the target is alloc_loop (bpfx start execs it in a child)
child=$(pgrep -P $tpid -f alloc_loop | head -1)
[ -n "$child" ] || fail "target not found"
out=$("$BPFX" run "$BUILD/examples/malloc.bpf.o" --pid "$child" 2>&1)
echo "$out"
wait $tpid
n=$(map_value calls "$child")
[ -n "$n" ] && [ "$n" -gt 100 ] && [ "$n" -le 3003 ] || fail "@calls[$child] = '$n'"
"$BPFX" link list | grep -q "no links" || fail "links left behind"
rm -f /tmp/$BPFX_SESSION.target
echo PASS
