#!/usr/bin/env bash
# bpftrace, unmodified, under `bpfx load`: a uprobe on libc's malloc counts
# every malloc of a `bpfx start` target (its own 5000 and libc's few), a
# uretprobe on the target's main ends bpftrace through exit() (a perf buffer
# record from the target), BEGIN/END run in bpftrace itself, and bpftrace's
# own mallocs are not probed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
need_bpftrace
AL="$BUILD/tests/targets/alloc_loop"
"$BPFX" load -- bpftrace -e "
BEGIN { printf(\"begin\\n\"); }
uprobe:$LIBC:malloc { @n[comm] = count(); @sz = hist(arg0); }
uretprobe:$AL:main { exit(); }
END { printf(\"end\\n\"); }" > "$TMPD/bt.out" 2>&1 &
bt=$!
wait_links 1 uprobe
wait_links 1 uretprobe
wait_for "$TMPD/bt.out" '^begin'
"$BPFX" start -- "$AL" 5000 > "$TMPD/al.out" || fail "target exit status $?"
wait_pid $bt 30 || fail "bpftrace exit status $?"
out=$(cat "$TMPD/bt.out")
echo "$out"
grep -q "^alloc_loop: 5000 mallocs" "$TMPD/al.out" || fail "target output"
grep -q '^end' <<<"$out" || fail "END did not run"
n=$(map_value n alloc_loop)
[ -n "$n" ] && [ "$n" -ge 5000 ] && [ "$n" -le 5010 ] || fail "@n[alloc_loop] = '$n', want 5000..5010"
grep -q '^@n\[bpftrace\]' <<<"$out" && fail "bpftrace probed its own mallocs"
# 625 of the target's own in each slot, plus at most a few of libc's and
# the agent's start-up mallocs, whose sizes and timing vary.
slot() { sed -n "s/^\[$1) *\([0-9]*\) .*/\1/p" <<<"$out"; }
for b in "16, 32" "2K, 4K"; do
	v=$(slot "$b")
	[ -n "$v" ] && [ "$v" -ge 625 ] && [ "$v" -le 630 ] ||
		fail "histogram slot [$b) = '$v', want 625..630"
done
"$BPFX" link list | grep -q "no links" || fail "links left behind"
echo PASS
