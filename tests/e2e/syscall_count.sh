#!/usr/bin/env bash
# syscount (raw_syscalls sys_enter/sys_exit) sees 100% of a target's
# getppid calls, made from libc, an inline syscall, anonymous JIT-like
# code, a second thread, around a vfork, and again after exec; the target
# counts its own. A sys_enter_getppid-only program sees the same number,
# and strace (an independent counter, installed by scripts/deps.sh) agrees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syscall_lib.bash"
ensure_tracefs
N=2500
out=$("$BPFX" run "$BUILD/examples/syscount.bpf.o" -- "$BUILD/tests/targets/sys_loop" $N exec)
echo "$out" | grep -v '^@latency'
want=$(grep -c '^sys_loop:' <<<"$out")
[ "$want" = 2 ] || fail "target did not run twice (exec)"
got=$(map_value counts 110)
[ "$got" = $((8 * N)) ] || fail "@counts[110] = $got, want $((8 * N))"
lat=$(map_value latency_ns 110)
[ -n "$lat" ] && [ "$lat" -gt 0 ] || fail "no latency for getppid"
command -v strace >/dev/null || fail "strace missing (scripts/deps.sh installs it)"
s=$(strace -f -c -e trace=getppid "$BUILD/tests/targets/sys_loop" $N exec 2>&1 >/dev/null |
    awk '$NF == "getppid" {print $4}')
[ "$s" = $((8 * N)) ] || fail "strace counted $s"
echo "strace agrees: $s"
echo PASS
