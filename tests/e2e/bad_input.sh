#!/usr/bin/env bash
# Clear errors, and targets unharmed: a missing symbol, a missing object,
# a malformed object, a vanished pid.
. "$(dirname "$0")/lib.sh"
expect_fail() {
	local what=$1; shift
	set +e
	msg=$("$@" 2>&1)
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "$what: exit 0"
	echo "$what: $msg" | head -3
}
expect_fail "missing symbol" "$BPFX" run "$BUILD/tests/progs/bad_attach.bpf.o" -- true
grep -q "no_such_function" <<<"$msg" || fail "missing symbol not named"
expect_fail "missing object" "$BPFX" run /nonexistent.bpf.o -- true
head -c 1000 /dev/urandom > "/tmp/$BPFX_SESSION.o"
expect_fail "garbage object" "$BPFX" run "/tmp/$BPFX_SESSION.o" -- true
rm -f "/tmp/$BPFX_SESSION.o"
expect_fail "vanished pid" "$BPFX" run "$BUILD/examples/malloc.bpf.o" --pid 999999
# the target still runs normally under the agent with nothing attached
out=$("$BPFX" start -- "$BUILD/tests/targets/alloc_loop" 100)
grep -q "100 mallocs" <<<"$out" || fail "target harmed"
echo PASS
