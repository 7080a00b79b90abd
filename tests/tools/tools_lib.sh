# Sourced by tests/e2e/tools_*.sh after tests/e2e/lib.sh: what the tests of
# `bpfx load -- TOOL` share. $BUILD, $BPFX and $BPFX_SESSION come from lib.sh.
TT="$BUILD/tests/tools/tools_target"
RBTOOL="$BUILD/tests/tools/rbtool"
LIBC=$(ldd "$BUILD/tests/targets/alloc_loop" | sed -n 's/.*libc\.so\.6 => \([^ ]*\).*/\1/p')
TMPD=$(mktemp -d "/tmp/$BPFX_SESSION.XXXX")
tools_cleanup() {
	local p c
	# `bpfx load` waits for its tool: end the tool (its child) too
	for p in $(jobs -p); do
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do kill "$c" 2>/dev/null || true; done
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$TMPD"
	cleanup
}
trap tools_cleanup EXIT

need_bpftrace() {
	command -v bpftrace >/dev/null || { echo "SKIP: bpftrace is not installed (scripts/deps.sh)"; exit 77; }
}

# Syscall tracepoints need tracefs for their ids and formats.
need_tracefs() {
	[ -e /sys/kernel/tracing/events/syscalls ] && return 0
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
	[ -e /sys/kernel/tracing/events/syscalls ] ||
		{ echo "SKIP: tracefs with syscall events is not available"; exit 77; }
}

# wait_links N KIND: until the session has N links of KIND (bpftrace takes a
# few seconds to compile before it attaches).
wait_links() {
	local i
	for i in $(seq 300); do
		[ "$("$BPFX" link list | grep -c " $2 ")" -ge "$1" ] && return 0
		sleep 0.1
	done
	"$BPFX" link list >&2
	fail "no $1 $2 link(s) after 30 s"
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN.
wait_for() {
	local i
	for i in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1" >&2
	fail "'$2' did not appear in $1"
}

# wait_pid PID SECONDS: wait for a background job, failing if it overruns.
wait_pid() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
		sleep 0.1
	done
	kill "$1" 2>/dev/null
	fail "process $1 still running after $2 s"
}
