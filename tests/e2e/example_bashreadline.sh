#!/usr/bin/env bash
# examples/bashreadline: the real /bin/bash, interactive (-i) on a pipe,
# reads four command lines through readline(); the uretprobe sends each
# returned line through the ring buffer as "PID COMM LINE". Checks: the
# four records, in order, exactly as typed (unexpanded), all with the pid
# that bash itself reports and comm "bash"; the commands still run; and
# bpfx exits with bash's status.
. "$(dirname "$0")/lib.sh"
nm -D /bin/bash 2>/dev/null | grep -w readline >/dev/null || { echo "SKIP: /bin/bash does not export readline"; exit 77; }
err=$(mktemp)
trap 'rm -f "$err"; cleanup' EXIT

lines=('echo "pid=$$"' 'echo hello from   bashreadline' 'x=42; echo "x is $x"' 'exit 3')
set +e
out=$(printf '%s\n' "${lines[@]}" |
	timeout 30 "$BPFX" run "$BUILD/examples/bashreadline.bpf.o" -- bash --norc --noprofile -i \
	2>"$err")
rc=$?
set -e
echo "$out"
[ $rc -eq 3 ] || { cat "$err" >&2; fail "exit status $rc, want 3 (bash's)"; }
pid=$(sed -n 's/^pid=\([0-9][0-9]*\)$/\1/p' <<<"$out")
[ -n "$pid" ] || fail "bash did not run 'echo pid=\$\$'"
grep -qx "hello from bashreadline" <<<"$out" || fail "bash did not run the second line"
grep -qx "x is 42" <<<"$out" || fail "bash did not run the third line"
records=$(grep -E '^[0-9]+ +bash +' <<<"$out" || true)
want=$(for l in "${lines[@]}"; do printf '%-7u %-16s %s\n' "$pid" bash "$l"; done)
[ "$records" = "$want" ] || fail "records differ: want
$want
got
$records"
"$BPFX" link list | grep -q "no links" || fail "links left behind"
echo PASS
