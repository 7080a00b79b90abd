#!/usr/bin/env bash
# A routed tool creates no kernel BPF object: the kernel's program and map
# ids (bpftool run directly, not through bpfx) are the same before, while
# bpftrace (uprobe, interval, printf) and the libbpf skeleton tool run under
# `bpfx load`, and after. (Objects that someone else on this machine makes
# meanwhile would show up too: they are listed with their names.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
need_bpftrace
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
ids() { "$BPFTOOL" "$1" list 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n | tr '\n' ' '; }
"$BPFTOOL" prog list >/dev/null 2>&1 && "$BPFTOOL" map list >/dev/null 2>&1 ||
	{ echo "SKIP: bpf(2) is not permitted here, so kernel objects cannot be listed"; exit 77; }
p0=$(ids prog); m0=$(ids map)
"$BPFX" load -- bpftrace -e "
BEGIN { printf(\"go\\n\"); }
uprobe:$TT:tools_work { @n = count(); printf(\"w %d\\n\", arg0); }
interval:ms:200 { @t = count(); }
interval:s:3 { exit(); }" > "$TMPD/bt.out" 2>&1 &
bt=$!
"$BPFX" load -- "$RBTOOL" "$TT" tools_work -n 5 -t 30 > "$TMPD/rb.out" 2>&1 &
rb=$!
wait_links 1 uprobe
wait_for "$TMPD/rb.out" '^rbtool: attached'
wait_for "$TMPD/bt.out" '^go'
"$BPFX" start -- "$TT" 5 >/dev/null
p1=$(ids prog); m1=$(ids map)
wait_pid $rb 30 || fail "rbtool exit status $?"
wait_pid $bt 30 || fail "bpftrace exit status $?"
p2=$(ids prog); m2=$(ids map)
cat "$TMPD/bt.out" "$TMPD/rb.out"
echo "kernel prog ids: before [$p0] during [$p1] after [$p2]"
echo "kernel map ids:  before [$m0] during [$m1] after [$m2]"
grep -q '^w 4' "$TMPD/bt.out" || fail "bpftrace saw no calls"
grep -q '^rbtool: 5 events' "$TMPD/rb.out" || fail "rbtool saw no calls"
new=""
for id in $p1 $p2; do [[ " $p0 " == *" $id "* ]] || new="$new prog $id"; done
for id in $m1 $m2; do [[ " $m0 " == *" $id "* ]] || new="$new map $id"; done
if [ -n "$new" ]; then
	"$BPFTOOL" prog list >&2; "$BPFTOOL" map list >&2
	fail "kernel BPF objects appeared while routed tools ran:$new"
fi
echo PASS
