#!/usr/bin/env bash
# What bpfx does not emulate is refused loudly, never faked: a bpftrace
# probe on a kernel event (a page-fault software event) under `bpfx load`
# fails with a log line naming the call, and the tool's other syscalls
# keep working (bpftool still lists the session's objects through the same
# shim afterwards).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
need_bpftrace
set +e
out=$(timeout 60 "$BPFX" load -- bpftrace -e 'software:page-faults:100 { @x = count(); }' 2>&1)
rc=$?
set -e
echo "$out"
[ $rc -ne 0 ] || fail "bpftrace with a page-fault probe succeeded under bpfx load"
grep -q 'bpfx: ioctl(PERF_EVENT_IOC_SET_BPF): fd [0-9]* is a kernel perf event' <<<"$out" ||
	fail "no log line naming PERF_EVENT_IOC_SET_BPF"
# a plain libbpf tool asking for a function that does not exist: clean error
set +e
out=$(timeout 30 "$BPFX" load -- "$RBTOOL" "$TT" no_such_function -t 1 2>&1)
rc=$?
set -e
echo "$out"
[ $rc -eq 1 ] && grep -q 'rbtool: attach' <<<"$out" || fail "rbtool on a missing function: rc $rc"
"$BPFX" load -- bpftool prog list >/dev/null || fail "bpftool under bpfx load"
echo PASS
