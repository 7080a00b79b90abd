#!/usr/bin/env bash
# opensnoop (sys_enter_openat + sys_exit_openat, ring buffer) on a real
# command: each open it makes prints with pid, comm, fd or errno, path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syscall_lib.bash"
ensure_tracefs
out=$("$BPFX" run "$BUILD/examples/opensnoop.bpf.o" -- sh -c 'cat /etc/hostname; cat /nonexistent-bpfx 2>/dev/null; exit 0')
echo "$out"
grep -Eq '^[0-9]+ +cat +[0-9]+ +0 /etc/hostname$' <<<"$out" || fail "no successful open of /etc/hostname by cat"
grep -Eq '^[0-9]+ +cat +-1 +2 /nonexistent-bpfx$' <<<"$out" || fail "no ENOENT line for /nonexistent-bpfx"
grep -q "$(cat /etc/hostname)" <<<"$out" || fail "command output missing"
"$BPFX" link list | grep -q "no links" || fail "links left behind"
echo PASS
