#!/usr/bin/env bash
# Syscall programs that go wrong never break the target's syscalls: one
# that writes its context is refused at load with the verifier's reason
# (nothing attached, the command not harmed), and opensnoop meeting a
# syscall whose path pointer is bad reports the call with errno 14 and an
# empty path while the target gets the kernel's -EFAULT and goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syscall_lib.bash"
ensure_tracefs
set +e
msg=$("$BPFX" run "$BUILD/tests/progs/bad_syscall.bpf.o" -- true 2>&1)
rc=$?
set -e
echo "$msg" | head -5
[ $rc -ne 0 ] || fail "a program writing its context was accepted"
grep -q "read-only" <<<"$msg" || fail "the verifier's reason is missing"
"$BPFX" link list | grep -q "no links" || fail "links left behind"
out=$("$BPFX" start -- "$BUILD/tests/targets/sys_loop" 10)
grep -q "sys_loop: 40 getppid" <<<"$out" || fail "target harmed: $out"

# the target's own findings go to a file: its stdout is shared with bpfx's
res="/tmp/$BPFX_SESSION.res"
py='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(257, -100, ctypes.c_void_p(4096), 0)
e = ctypes.get_errno()
fd = os.open("/etc/hostname", os.O_RDONLY)
ok = len(os.read(fd, 100)) > 0
open(sys.argv[1], "w").write("bad pointer: %d %d\nthen: %s\n" % (r, e, ok))'
out=$("$BPFX" run "$BUILD/examples/opensnoop.bpf.o" -- python3 -c "$py" "$res")
echo "$out" | grep -E "python3 .*(/etc/hostname| 14 *)$" || true
cat "$res"
grep -q '^bad pointer: -1 14$' "$res" || fail "the target did not get -EFAULT"
grep -q '^then: True$' "$res" || fail "the target's next open failed"
rm -f "$res"
grep -Eq '^[0-9]+ +python3 +-1 +14 *$' <<<"$out" || fail "no EFAULT line for the bad pointer"
grep -Eq '^[0-9]+ +python3 +[0-9]+ +0 /etc/hostname$' <<<"$out" || fail "no line for the next open"
echo PASS
