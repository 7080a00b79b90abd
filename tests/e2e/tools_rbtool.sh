#!/usr/bin/env bash
# A stock libbpf skeleton tool (tests/tools/rbtool: ring buffer, uprobe by
# function name, .rodata set before load) under `bpfx load`: it gets one
# event per call of the target's function, in order, with the target's pid;
# meanwhile bpftool (also under `bpfx load`) lists its program, maps and
# link from the session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
"$BPFX" load -- "$RBTOOL" "$TT" tools_work -n 50 -t 30 > "$TMPD/rb.out" 2>&1 &
rb=$!
wait_for "$TMPD/rb.out" '^rbtool: attached'
bt=$("$BPFX" load -- bpftool prog list) || fail "bpftool prog list"
grep -q 'kprobe  name on_call' <<<"$bt" || fail "bpftool prog list: $bt"
bt=$("$BPFX" load -- bpftool map list) || fail "bpftool map list"
grep -q 'ringbuf  name events' <<<"$bt" || fail "bpftool map list: $bt"
grep -q 'name rbtool.rodata' <<<"$bt" || fail "bpftool map list: $bt"
"$BPFX" load -- bpftool map dump name rbtool.rodata | grep -q '"cookie_tag": 42' ||
	fail "bpftool map dump of .rodata"
bt=$("$BPFX" load -- bpftool link list) || fail "bpftool link list"
grep -q 'perf_event  prog' <<<"$bt" || fail "bpftool link list: $bt"
"$BPFX" start -- "$TT" 50 > "$TMPD/tt.out" &
tt=$!
wait_pid $rb 30 || fail "rbtool exit status $?"
wait $tt || fail "target exit status $?"
out=$(cat "$TMPD/rb.out")
echo "$out"
[ "$(grep -c "^event pid=$tt arg=" <<<"$out")" -eq 50 ] ||
	[ "$(grep -c '^event pid=' <<<"$out")" -eq 50 ] || fail "want 50 events"
for i in 0 1 25 49; do
	grep -q "^event pid=[0-9]* arg=$i tag=42$" <<<"$out" || fail "event arg=$i missing"
done
grep -q '^rbtool: 50 events' <<<"$out" || fail "summary"
echo PASS
