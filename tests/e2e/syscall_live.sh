#!/usr/bin/env bash
# Interception only while a link exists: a process started with the agent
# and no program runs unpatched; attaching syscount to it later patches
# it (its later getppid calls are counted), and detaching restores it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syscall_lib.bash"
ensure_tracefs
fifo=$(mktemp -u /tmp/bpfx-e2e-XXXXXX)
mkfifo "$fifo"
trap 'rm -f "$fifo"; cleanup' EXIT
# the target: waits for a line on the fifo, then makes 1000 getppid
"$BPFX" start -- sh -c "read x < $fifo; exec $BUILD/tests/targets/sys_loop 250" > /tmp/bpfx-e2e-live.$$ &
start_pid=$!
sleep 0.5
pid=$(pgrep -n -f "read x < $fifo" || true)
[ -n "$pid" ] || fail "target not running"
maps_before=$(grep -c '^0*-' /proc/$pid/maps || true)
[ "$maps_before" = 0 ] || fail "page 0 mapped before any syscall link"
"$BPFX" run "$BUILD/examples/syscount.bpf.o" --pid "$pid" > /tmp/bpfx-e2e-live-run.$$ 2>&1 &
run_pid=$!
sleep 1
echo go > "$fifo"
wait $start_pid || true
wait $run_pid || true
out=$(cat /tmp/bpfx-e2e-live-run.$$)
cat /tmp/bpfx-e2e-live.$$
rm -f /tmp/bpfx-e2e-live.$$ /tmp/bpfx-e2e-live-run.$$
echo "$out" | grep -v '^@latency'
got=$(map_value counts 110)
[ "$got" = 1000 ] || fail "@counts[110] = $got, want 1000"
echo PASS
