#!/usr/bin/env bash
# error-inject: bpf_override_return on sys_enter_openat makes opening one
# path fail with EACCES (the syscall is not made); other paths open; the
# same command works again once bpfx is gone (sites restored with it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syscall_lib.bash"
ensure_tracefs
echo secret > /tmp/bpfx-denied
trap 'rm -f /tmp/bpfx-denied; cleanup' EXIT
set +e
out=$("$BPFX" run "$BUILD/examples/error_inject.bpf.o" -- sh -c 'cat /tmp/bpfx-denied; echo "rc=$?"; cat /etc/hostname' 2>&1)
set -e
echo "$out"
grep -q "cat: /tmp/bpfx-denied: Permission denied" <<<"$out" || fail "open was not denied"
grep -q "^rc=1" <<<"$out" || fail "cat did not fail"
grep -q "$(cat /etc/hostname)" <<<"$out" || fail "other opens broken"
[ "$(map_value denied 0)" = 1 ] || fail "@denied[0] != 1"
[ "$(cat /tmp/bpfx-denied)" = secret ] || fail "file unreadable afterwards"
echo PASS
