#!/usr/bin/env bash
# bpftrace under `bpfx load`: a uretprobe histogram (lhist of the return
# value), sum(), a filtered printf from a uprobe in the target, and an
# interval probe that runs in bpftrace itself (a timer, not the kernel).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
need_bpftrace
"$BPFX" load -- bpftrace -e "
uretprobe:$TT:tools_work { @r = lhist(retval, 0, 800, 100); @s = sum(retval); }
uprobe:$TT:tools_work /arg0 < 3/ { printf(\"work %d from %s\\n\", arg0, comm); }
uretprobe:$TT:main { @done = 1; }
interval:ms:100 { @ticks = count(); if (@done) { exit(); } }" > "$TMPD/bt.out" 2>&1 &
bt=$!
wait_links 2 uretprobe
"$BPFX" start -- "$TT" 800 > "$TMPD/tt.out" || fail "target exit status $?"
wait_pid $bt 30 || fail "bpftrace exit status $?"
out=$(cat "$TMPD/bt.out")
echo "$out"
grep -q "^tools_target: 800 calls, sum 280000" "$TMPD/tt.out" || fail "target output"
for i in 0 1 2; do
	grep -q "^work $i from tools_target" <<<"$out" || fail "printf for arg $i missing"
done
[ "$(grep -c '^work ' <<<"$out")" -eq 3 ] || fail "printf count"
for lo in 0 100 200 300 400 500 600 700; do
	grep -Eq "^\[$lo, $((lo + 100))\) +100 " <<<"$out" || fail "lhist slot [$lo, $((lo + 100))) != 100"
done
[ "$(sed -n 's/^@s: //p' <<<"$out")" = 280000 ] || fail "@s != 280000"
t=$(sed -n 's/^@ticks: //p' <<<"$out")
[ -n "$t" ] && [ "$t" -ge 1 ] || fail "interval probe did not run (@ticks = '$t')"
echo PASS
