#!/usr/bin/env bash
# bpfx run OBJ -- CMD: counts every malloc of the command (its own count
# of 5000, plus libc's few), the histogram has the sizes it asked for, the
# command's output passes through, and bpfx exits with its status.
. "$(dirname "$0")/lib.sh"
out=$("$BPFX" run "$BUILD/examples/malloc.bpf.o" -- "$BUILD/tests/targets/alloc_loop" 5000)
echo "$out"
grep -q "^alloc_loop: 5000 mallocs" <<<"$out" || fail "target output missing"
pid_line=$(grep '^@calls\[' <<<"$out") || fail "no @calls"
n=${pid_line##*: }
[ "$n" -ge 5000 ] && [ "$n" -le 5010 ] || fail "@calls = $n, want 5000..5010"
# 625 of the command's own in each slot, plus at most a few of libc's and
# the agent's start-up mallocs, whose sizes and timing vary.
slot() { sed -n "s/^\[$1] *\([0-9]*\) .*/\1/p" <<<"$out"; }
for b in "16, 31" "2048, 4095"; do
	v=$(slot "$b")
	[ -n "$v" ] && [ "$v" -ge 625 ] && [ "$v" -le 630 ] ||
		fail "histogram slot [$b] = '$v', want 625..630"
done
set +e
"$BPFX" run "$BUILD/examples/malloc.bpf.o" -- sh -c 'exit 7' >/dev/null
rc=$?
set -e
[ $rc -eq 7 ] || fail "exit status $rc, want 7"
"$BPFX" link list | grep -q "no links" || fail "links left behind"
echo PASS
