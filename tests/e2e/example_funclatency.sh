#!/usr/bin/env bash
# examples/funclatency: the latency histogram of libbpfxdemo.so's
# bpfxdemo_work, probed by soname (uprobe + uretprobe on one function),
# in a target that makes 20 calls of 2.1 ms then 5 of 17 ms: 25 calls in
# all, none under 2048 us, most in [2048, 4095], the 5 long ones at
# 16384 us or more, no entry left unmatched. Then funclatency.sh retargets
# the same program: libc's nanosleep in `sleep 0.2` (one call in
# [131072, 262143] us, exit status passed through) and, in nanoseconds,
# bpfxdemo_work again.
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
targets=$BUILD/tests/targets
# slot VALUE of "[LO, HI]   N |...|" lines in $out: N, or 0 when absent
slot() { awk -v lo="[$1," '$1 == lo { print $3; f = 1 } END { if (!f) print 0 }' <<<"$out"; }
# sum of the counts of every histogram line in $out
total() { awk '/^\[[0-9]+, [0-9]+\] / { n += $3 } END { print n + 0 }' <<<"$out"; }

out=$(LD_LIBRARY_PATH=$targets timeout 30 "$BPFX" run "$BUILD/examples/funclatency.bpf.o" \
	-- "$targets/funclat_loop" 2100:20 17000:5)
echo "$out"
grep -q "^funclat_loop: 20 calls of 2100 us$" <<<"$out" || fail "target output missing"
grep -q "^@usecs_hist:$" <<<"$out" || fail "no @usecs_hist"
[ "$(total)" -eq 25 ] || fail "histogram holds $(total) calls, want 25"
first=$(grep -m1 -E '^\[[0-9]+, [0-9]+\] ' <<<"$out")
[[ "$first" == "[2048, 4095] "* ]] || fail "first slot is '$first', want [2048, 4095]"
short=$(slot 2048)
[ "$short" -ge 15 ] || fail "[2048, 4095] holds $short calls, want most of 20"
long=$(($(slot 16384) + $(slot 32768) + $(slot 65536)))
[ "$long" -eq 5 ] || fail "$long calls at 16384 us or more, want 5"
! grep -q "^@start\[" <<<"$out" || fail "entries left in @start: a return was missed"

out=$(BPFX=$BPFX timeout 30 "$src/examples/funclatency/funclatency.sh" libc.so.6:nanosleep \
	-- sleep 0.2)
echo "$out"
[ "$(total)" -eq 1 ] && [ "$(slot 131072)" -eq 1 ] ||
	fail "nanosleep in sleep 0.2: want one call in [131072, 262143]"

out=$(LD_LIBRARY_PATH=$targets BPFX=$BPFX timeout 30 \
	"$src/examples/funclatency/funclatency.sh" -n libbpfxdemo.so:bpfxdemo_work \
	-- "$targets/funclat_loop" 2500:4)
echo "$out"
grep -q "^@nsecs_hist:$" <<<"$out" || fail "no @nsecs_hist with -n"
[ "$(total)" -eq 4 ] && [ "$(slot 2097152)" -ge 3 ] ||
	fail "-n: want 4 calls, most in [2097152, 4194303] ns"
first=$(grep -m1 -E '^\[[0-9]+, [0-9]+\] ' <<<"$out")
[[ "$first" == "[2097152, 4194303] "* ]] || fail "-n: first slot is '$first'"

set +e
BPFX=$BPFX "$src/examples/funclatency/funclatency.sh" libc.so.6:nanosleep \
	-- sh -c 'exit 7' >/dev/null
rc=$?
set -e
[ $rc -eq 7 ] || fail "exit status $rc, want 7"
"$BPFX" link list | grep -q "no links" || fail "links left behind"
echo PASS
