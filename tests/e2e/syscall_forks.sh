#!/usr/bin/env bash
# A shell forking 40 command substitutions and 10 programs under syscount:
# every child is traced (clone's sys_exit fires in parent and child: at
# least 2 x 50) and nothing hangs (a fork while the agent's watcher held
# attach's lock once left children stuck).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/syscall_lib.bash"
ensure_tracefs
out=$(timeout 60 "$BPFX" run "$BUILD/examples/syscount.bpf.o" -- \
	bash -c 'for i in $(seq 40); do x=$(echo $i); done; for i in $(seq 10); do /bin/true; done; echo forks done') ||
	fail "exit status $? (124: hung)"
echo "$out" | grep -v '^@latency'
grep -q '^forks done$' <<<"$out" || fail "the shell did not finish"
clones=$(map_value counts 56)
[ -n "$clones" ] && [ "$clones" -ge 100 ] || fail "@counts[56] (clone) = $clones, want >= 100"
echo PASS
