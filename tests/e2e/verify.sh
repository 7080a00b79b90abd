#!/usr/bin/env bash
# bpfx verify: every bundled program is accepted (exit 0); a program that
# uses a map value without the NULL check is refused (exit 1) with the
# instruction, the source line and the reason; bpfx run refuses it too and
# the target is never started.
. "$(dirname "$0")/lib.sh"
for o in "$BUILD"/examples/*.bpf.o; do
	"$BPFX" verify "$o" >/dev/null || fail "$(basename "$o") rejected"
done
out=$("$BPFX" verify "$BUILD/examples/malloc.bpf.o" --stats)
grep -q "malloc_enter (uprobe/libc.so.6:malloc): accepted" <<<"$out" || fail "verdict"
grep -q "processed [0-9]* insns" <<<"$out" || fail "stats"
set +e
out=$("$BPFX" verify "$BUILD/tests/progs/reject_null.bpf.o" 2>&1)
rc=$?
set -e
echo "$out"
[ $rc -eq 1 ] || fail "exit $rc for a rejected program"
grep -q "REJECTED" <<<"$out" || fail "no verdict"
grep -q "reject_null.bpf.c:21" <<<"$out" || fail "no source line"
grep -qi "null" <<<"$out" || fail "reason does not mention NULL"
set +e
"$BPFX" run "$BUILD/tests/progs/reject_null.bpf.o" -- touch "/tmp/$BPFX_SESSION.ran" 2>/dev/null
rc=$?
set -e
[ $rc -ne 0 ] || fail "bpfx run accepted it"
[ ! -e "/tmp/$BPFX_SESSION.ran" ] || fail "target ran"
echo PASS
