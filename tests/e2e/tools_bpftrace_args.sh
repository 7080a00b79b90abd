#!/usr/bin/env bash
# bpftrace reads syscall tracepoint arguments (args->filename) through the
# kernel's BTF, which the session lists read only beside its own objects:
# every openat of a `bpfx start` target is printed with its path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
need_bpftrace
need_tracefs
"$BPFX" load -- bpftrace -e '
tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { printf("open %s\n", str(args->filename)); }
tracepoint:syscalls:sys_exit_openat /comm == "cat"/ { @ret = hist(args->ret); }
uretprobe:'"$BUILD/tests/targets/alloc_loop"':main { exit(); }' > "$TMPD/bt.out" 2>&1 &
bt=$!
wait_links 2 tracepoint
wait_links 1 uretprobe
"$BPFX" start -- cat /etc/hostname > /dev/null || fail "cat failed"
"$BPFX" start -- "$BUILD/tests/targets/alloc_loop" 1 > /dev/null
wait_pid $bt 30 || fail "bpftrace exit status $?"
out=$(cat "$TMPD/bt.out")
echo "$out"
grep -q '^open /etc/hostname$' <<<"$out" || fail "path of openat not read"
grep -q '^@ret:' <<<"$out" || fail "sys_exit args"
echo PASS
