#!/usr/bin/env bash
# A stock libbpf tool on syscall tracepoints (tests/tools/statsnoop: the
# shape of libbpf-tools' statsnoop, perf buffer, .rodata set before load)
# under `bpfx load`, against a target started with `bpfx start`: it reports
# the target's stat-family calls, and every one with a path is the same
# (result, errno, path, in order) as the same binary reports against the
# kernel for the same command. (The dynamic loader's fstat calls before
# the agent's constructor, path "", are the kernel's alone: docs/syscalls.md.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/tools_lib.sh"
need_tracefs
SN="$BUILD/tests/tools/statsnoop"
CMD=(sh -c '[ -e /etc/hostname ]; [ -e /nonexistent-bpfx ]; [ -d / ]; cd /tmp; ls -d /etc /nonexistent-bpfx >/dev/null 2>&1; exit 0')

# the lines of sh (of PID, if given) that name a path, without pid and comm
lines_of() {
	awk -v p="${2:-}" '(p == "" || $1 == p) && $2 == "sh" && NF == 5 {print $3, $4, $5}' "$1"
}

# under bpfx: the tool in the session, the target started into it
"$BPFX" load -- "$SN" -t 30 > "$TMPD/bpfx.out" 2>&1 &
sn=$!
wait_for "$TMPD/bpfx.out" '^statsnoop: attached'
"$BPFX" start -- "${CMD[@]}" > /dev/null 2>&1 || fail "target failed"
sleep 0.5
kill -TERM "$(cat /proc/$sn/task/*/children)" 2>/dev/null || true
wait_pid $sn 10 || fail "statsnoop under bpfx: exit status $?"
cat "$TMPD/bpfx.out"
got=$(lines_of "$TMPD/bpfx.out") # only the target runs in the session
grep -q '^0 0 /etc/hostname$' <<<"$got" || fail "no successful stat of /etc/hostname"
grep -q '^-1 2 /nonexistent-bpfx$' <<<"$got" || fail "no ENOENT for /nonexistent-bpfx"
grep -q '^0 0 /usr/bin/ls$' <<<"$got" || fail "no stat of /usr/bin/ls (PATH search)"

# the kernel's verdict, where bpf(2) is permitted
"$SN" -t 30 > "$TMPD/kernel.out" 2>&1 &
sk=$!
for i in $(seq 100); do
	grep -q '^statsnoop: attached' "$TMPD/kernel.out" && break
	kill -0 $sk 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^statsnoop: attached' "$TMPD/kernel.out"; then
	echo "kernel comparison skipped: $(cat "$TMPD/kernel.out")"
	echo PASS
	exit 0
fi
"${CMD[@]}" > /dev/null 2>&1 &
kp=$!
wait $kp || true
sleep 0.5
kill -TERM $sk
wait $sk || true
want=$(lines_of "$TMPD/kernel.out" $kp)
[ -n "$want" ] || fail "the kernel reported nothing for the command"
if [ "$got" != "$want" ]; then
	diff <(echo "$want") <(echo "$got") >&2 || true
	fail "bpfx's lines differ from the kernel's (< kernel, > bpfx)"
fi
echo "the same $(wc -l <<<"$got") lines as the kernel"
echo PASS
