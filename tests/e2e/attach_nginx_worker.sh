#!/usr/bin/env bash
# A running nginx worker (with a thread pool: `aio threads`, so the worker
# is multi-threaded): bpfx attach loads the agent into it by ptrace while
# the master and worker serve, `bpfx run --pid` counts its requests under
# curl, every request is answered, and after bpfx ends the function's
# bytes are the original ones again.
. "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || { echo "SKIP: nginx not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
T=$(mktemp -d /tmp/bpfx-ngx-attach.XXXXXX)
master=
trap '[ -n "$master" ] && kill "$master" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; cleanup' EXIT
mkdir -p "$T/html" "$T/logs"
echo hello >"$T/html/index.html"
for tries in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	cat >"$T/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/logs/error.log notice;
events { worker_connections 64; }
http {
  access_log off;
  aio threads;
  server { listen 127.0.0.1:$port; root $T/html; }
}
CONF
	nginx -p "$T" -c "$T/nginx.conf" 2>>"$T/logs/error.log" &
	master=$!
	for i in $(seq 50); do
		curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
	kill "$master" 2>/dev/null; wait "$master" 2>/dev/null; master=
done
[ -n "$master" ] || fail "nginx did not start: $(cat "$T/logs/error.log")"
worker=$(pgrep -P "$master" | head -1)
[ -n "$worker" ] || fail "no worker"
[ "$(ls /proc/$worker/task | wc -l)" -gt 1 ] || fail "the worker is not multi-threaded"
fn_bytes() { # the first 16 bytes of ngx_http_process_request in the worker
	python3 - "$worker" <<'PY'
import subprocess, sys
pid = sys.argv[1]
off = None
for line in subprocess.check_output(["nm", "-D", "/usr/sbin/nginx"]).decode().splitlines():
    p = line.split()
    if len(p) == 3 and p[2] == "ngx_http_process_request":
        off = int(p[0], 16)
base = None
for l in open(f"/proc/{pid}/maps"):
    f = l.split()
    if len(f) > 5 and f[5] == "/usr/sbin/nginx" and f[2] == "00000000":
        base = int(f[0].split("-")[0], 16)
        break
with open(f"/proc/{pid}/mem", "rb") as m:
    m.seek(base + off)
    print(m.read(16).hex())
PY
}
orig=$(fn_bytes)
"$BPFX" attach "$worker" | tee /dev/stderr | grep -q "agent loaded" || fail "attach"
"$BPFX" run "$BUILD/tests/progs/nginx_req.bpf.o" --pid "$worker" > "$T/run" 2>&1 &
b=$!
sleep 1
for i in $(seq 200); do
	curl -sf "http://127.0.0.1:$port/" | grep -q hello || fail "request $i not answered"
done
kill -INT "$b"; sleep 0.2
wait "$b" || true
cat "$T/run"
n=$(sed -n "s/^@ngx_requests\[$worker\]: //p" "$T/run")
[ "$n" = 200 ] || fail "@ngx_requests[$worker] = '$n', want 200"
sleep 1.5 # the agent unpatches when the link goes
curl -sf "http://127.0.0.1:$port/" | grep -q hello || fail "nginx stopped answering"
[ "$(fn_bytes)" = "$orig" ] || fail "ngx_http_process_request's bytes differ after detach"
kill -0 "$worker" || fail "the worker died"
echo PASS
