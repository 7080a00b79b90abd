#!/usr/bin/env bash
# A running, multi-threaded server (redis-server, jemalloc): bpfx attach
# loads the agent by ptrace while it serves, `bpfx run --pid` counts
# jemalloc's mallocs under a redis-benchmark load, redis keeps answering
# with its data intact, and after bpfx ends malloc's bytes are the
# original ones again.
. "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null || { echo "SKIP: redis-server not installed"; exit 77; }
port=$((20000 + RANDOM % 20000))
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$dir" --io-threads 2 --daemonize no > "$dir/log" 2>&1 &
r=$!
trap 'kill $r 2>/dev/null; wait $r 2>/dev/null; rm -rf "$dir"; cleanup' EXIT
# up to 15 s: a loaded machine starts redis slowly
for i in $(seq 150); do
	redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
	kill -0 "$r" 2>/dev/null || fail "redis-server exited: $(cat "$dir/log")"
	sleep 0.1
done
redis-cli -p "$port" ping 2>/dev/null | grep -q PONG || fail "redis-server not answering: $(cat "$dir/log")"
redis-cli -p "$port" set before-attach 42 >/dev/null
[ "$(ls /proc/$r/task | wc -l)" -gt 1 ] || fail "redis is not multi-threaded"
je=$(grep -m1 libjemalloc /proc/$r/maps | awk '{print $6}')
orig=$(python3 - "$r" "$je" <<'PY'
import sys
pid, lib = sys.argv[1], sys.argv[2]
base = None
for l in open(f"/proc/{pid}/maps"):
    f = l.split()
    if len(f) > 5 and f[5] == lib and f[2] == "00000000":
        base = int(f[0].split("-")[0], 16)
        break
off = 0x23910
import subprocess
out = subprocess.check_output(["nm", "-D", lib]).decode()
for line in out.splitlines():
    p = line.split()
    if len(p) == 3 and p[2] == "malloc":
        off = int(p[0], 16)
with open(f"/proc/{pid}/mem", "rb") as m:
    m.seek(base + off)
    print(m.read(16).hex())
PY
)
"$BPFX" attach "$r" | tee /dev/stderr | grep -q "agent loaded" || fail "attach"
"$BPFX" run "$BUILD/tests/progs/jemalloc.bpf.o" --pid "$r" > "$dir/run" 2>&1 &
b=$!
sleep 1
redis-benchmark -p "$port" -q -n 20000 -c 8 -t set,get > "$dir/bench" 2>&1 || fail "benchmark"
cat "$dir/bench"
redis-cli -p "$port" get before-attach | grep -q 42 || fail "data lost"
kill -INT "$b"
wait "$b" || true
cat "$dir/run"
n=$(sed -n "s/^@je_calls\[$r\]: //p" "$dir/run")
[ -n "$n" ] && [ "$n" -gt 1000 ] || fail "@je_calls[$r] = '$n'"
sleep 1.5 # the agent unpatches when the link goes
redis-cli -p "$port" ping | grep -q PONG || fail "redis died"
now=$(python3 - "$r" "$je" <<'PY'
import sys, subprocess
pid, lib = sys.argv[1], sys.argv[2]
base = None
for l in open(f"/proc/{pid}/maps"):
    f = l.split()
    if len(f) > 5 and f[5] == lib and f[2] == "00000000":
        base = int(f[0].split("-")[0], 16)
        break
off = None
for line in subprocess.check_output(["nm", "-D", lib]).decode().splitlines():
    p = line.split()
    if len(p) == 3 and p[2] == "malloc":
        off = int(p[0], 16)
with open(f"/proc/{pid}/mem", "rb") as m:
    m.seek(base + off)
    print(m.read(16).hex())
PY
)
[ "$orig" = "$now" ] || fail "malloc bytes differ after detach: $orig vs $now"
echo PASS
