# Sourced by the syscall tracepoint e2e tests (after lib.sh): tracefs
# must be mounted for libbpf to find the event ids (root may mount it).
ensure_tracefs() {
	[ -r /sys/kernel/tracing/events/syscalls/sys_enter_openat/id ] && return 0
	if [ "$(id -u)" = 0 ]; then
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
	fi
	if [ ! -r /sys/kernel/tracing/events/syscalls/sys_enter_openat/id ]; then
		echo "SKIP: tracefs is not mounted at /sys/kernel/tracing (needs root)"
		exit 0
	fi
}
