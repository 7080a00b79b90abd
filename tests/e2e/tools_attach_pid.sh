#!/usr/bin/env bash
# Routed tools against a process that was started without bpfx: `bpfx
# attach PID` injects the agent, then bpftrace -p PID (uprobe count +
# uretprobe histogram) and the libbpf skeleton tool with -p PID probe it
# while it runs; the target finishes with its own output and status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
need_bpftrace
"$TT" 6000 1000 > "$TMPD/tt.out" &
t=$!
sleep 0.2
a=$("$BPFX" attach "$t") || fail "attach: $a"
echo "$a"
"$BPFX" load -- "$RBTOOL" "$TT" tools_work -p "$t" -n 20 -t 30 > "$TMPD/rb.out" 2>&1 &
rb=$!
"$BPFX" load -- bpftrace -p "$t" -e "
uprobe:$TT:tools_work { @calls = count(); }
uretprobe:$TT:tools_work { @r = lhist(retval, 0, 800, 100); }
interval:s:1 { exit(); }" > "$TMPD/bt.out" 2>&1 &
bt=$!
wait_pid $rb 40 || fail "rbtool exit status $?"
wait_pid $bt 40 || fail "bpftrace exit status $?"
cat "$TMPD/rb.out" "$TMPD/bt.out"
[ "$(grep -c "^event pid=$t arg=" "$TMPD/rb.out")" -eq 20 ] || fail "rbtool: want 20 events of pid $t"
n=$(sed -n 's/^@calls: //p' "$TMPD/bt.out")
[ -n "$n" ] && [ "$n" -gt 50 ] && [ "$n" -le 6000 ] || fail "@calls = '$n'"
grep -Eq '^\[700, 800\) +[1-9]' "$TMPD/bt.out" || fail "no histogram"
wait $t || fail "target exit status $?"
grep -q "^tools_target: 6000 calls, sum 2100000" "$TMPD/tt.out" || fail "target output"
echo PASS
