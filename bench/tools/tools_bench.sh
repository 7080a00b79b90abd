#!/usr/bin/env bash
# bench/tools: what a bpftrace uprobe costs the probed process, bpfx against
# the kernel, side by side in one run. The probed function (tools_hot in
# tests/tools/tools_target) starts with a `lea`, which the kernel's uprobes
# cannot emulate: each kernel hit traps and single-steps out of line. The
# same bpftrace one-liner runs once under `bpfx load` (target started with
# `bpfx start`) and once normally against the kernel.
#
#   tools_bench.sh BPFX BUILD_DIR
set -euo pipefail
BPFX=${1:?bpfx path}
BUILD=$(cd "${2:?build dir}" && pwd)
TT="$BUILD/tests/tools/tools_target"
export BPFX_SESSION="bench-tools-$$"
N_FAST=${BENCH_TOOLS_N_FAST:-2000000} # calls per batch: no probe, bpfx
N_KERN=${BENCH_TOOLS_N_KERN:-200000}  # calls per batch: kernel uprobe
REPS=5
ONE_LINER="uprobe:$TT:tools_hot { @hits = count(); }"
bt=""
# stop_bt: SIGINT to bpftrace (bpftrace prints its maps and exits); under
# `bpfx load` it is the child of $bt, which waits for it
stop_bt() {
	local c
	for c in $(cat /proc/"$bt"/task/*/children 2>/dev/null); do kill -INT "$c" 2>/dev/null || true; done
	kill -INT "$bt" 2>/dev/null || true
	wait "$bt" 2>/dev/null || true
	bt=""
}
cleanup() {
	[ -n "$bt" ] && stop_bt
	"$BPFX" reset >/dev/null 2>&1 || true
	rm -f "/tmp/$BPFX_SESSION".*
}
trap cleanup EXIT
command -v bpftrace >/dev/null || { echo "bench/tools: bpftrace is not installed (scripts/deps.sh)"; exit 0; }

# best of REPS batches of $2 calls in target coprocess $1 (fds T[0], T[1])
measure() {
	local best="" line i
	for i in $(seq $REPS); do
		echo "$2" >&"${T[1]}"
		read -r line <&"${T[0]}"
		line=${line#ns/call }
		if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$line
		fi
	done
	echo "$best"
}

start_target() { # start_target CMD...: coprocess T, waits for "ready"
	local line
	coproc T { exec "$@" --bench 1; }
	read -r line <&"${T[0]}"
	[ "$line" = ready ] || { echo "bench/tools: target did not start" >&2; exit 1; }
}
stop_target() {
	exec {T[1]}>&-
	wait "$T_PID" 2>/dev/null || true
}

wait_line() { # wait_line FILE PATTERN
	local i
	for i in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench/tools: '$2' never appeared in $1:" >&2
	cat "$1" >&2
	exit 1
}

# 1. no probe
start_target "$TT"
base=$(measure T "$N_FAST")
stop_target

# 2. bpfx: bpftrace under `bpfx load`, target under `bpfx start`
start_target "$BPFX" start -- "$TT"
"$BPFX" load -- bpftrace -e "$ONE_LINER" > "/tmp/$BPFX_SESSION.bpfx" 2>&1 &
bt=$!
for i in $(seq 300); do "$BPFX" link list | grep -q " uprobe " && break; sleep 0.1; done
sleep 1 # the agent attaches on its inotify wake-up
bpfx=$(measure T "$N_FAST")
stop_bt
stop_target
bpfx_hits=$(sed -n 's/^@hits: //p' "/tmp/$BPFX_SESSION.bpfx")

# 3. kernel: the same one-liner, bpftrace run normally
bpftrace -e "$ONE_LINER" > "/tmp/$BPFX_SESSION.kern" 2>&1 &
bt=$!
wait_line "/tmp/$BPFX_SESSION.kern" "Attaching"
sleep 1
start_target "$TT"
kern=$(measure T "$N_KERN")
stop_target
stop_bt
kern_hits=$(sed -n 's/^@hits: //p' "/tmp/$BPFX_SESSION.kern")

awk -v base="$base" -v bpfx="$bpfx" -v kern="$kern" -v bh="${bpfx_hits:-0}" \
    -v kh="${kern_hits:-0}" -v nf="$N_FAST" -v nk="$N_KERN" -v reps="$REPS" 'BEGIN {
	ob = bpfx - base; ok = kern - base
	printf "bench/tools: bpftrace uprobe { @hits = count(); } on tools_hot (first insn: lea, single-stepped by the kernel)\n"
	printf "best of %d batches; %d calls per batch (no probe, bpfx), %d (kernel)\n\n", reps, nf, nk
	printf "%-34s %12s %16s %12s\n", "probe", "ns/call", "cost/hit (ns)", "@hits"
	printf "%-34s %12.2f %16s %12s\n", "none", base, "-", "-"
	printf "%-34s %12.2f %16.2f %12d\n", "bpfx (bpfx load -- bpftrace)", bpfx, ob, bh
	printf "%-34s %12.2f %16.2f %12d\n", "kernel uprobe (bpftrace)", kern, ok, kh
	if (ob <= 0) ob = 0.01
	printf "\nkernel/bpfx cost ratio: %.0fx  (target: >= 100x: %s)\n", ok / ob, (ok / ob >= 100 ? "yes" : "NO")
}'
