#!/usr/bin/env bash
# EIM end to end: nginx hosts a firewall extension through bpfx's host API.
# nginx on 127.0.0.1:<random high port> with a temp prefix/conf; curl on
# loopback: "/" passes, "/admin..." and dot-segments ("/.env") are refused with 403, decisions
# are counted in the extension's map (read with `bpfx map`). Extensions
# outside their class never load: nginx refuses to start and its log names
# the missing capability (a write of the request argument, an ungranted host
# function, an ungranted helper group).
source "$(dirname "$0")/lib.sh"
FW=$BUILD/examples/nginx-firewall
MOD=$FW/ngx_http_bpfx_module.so
SRC=$(cd "$(dirname "$0")/../../examples/nginx-firewall" && pwd)
command -v nginx >/dev/null || { echo "SKIP: nginx not installed (scripts/deps.sh)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed (scripts/deps.sh)"; exit 77; }
[ -f "$MOD" ] || { echo "SKIP: $MOD not built (needs nginx-dev)"; exit 77; }

T=$(mktemp -d /tmp/bpfx-eim-nginx.XXXXXX)
NGX_PID=
stop_nginx() {
  if [ -n "$NGX_PID" ]; then
    kill "$NGX_PID" 2>/dev/null || true
    wait "$NGX_PID" 2>/dev/null || true
    NGX_PID=
  fi
}
trap 'stop_nginx; rm -rf "$T"; cleanup' EXIT
mkdir -p "$T/html/admin" "$T/logs"
echo ok >"$T/html/index.html"
echo secret >"$T/html/admin/index.html"

write_conf() { # OBJ CLASS PORT
  cat >"$T/nginx.conf" <<CONF
load_module $MOD;
daemon off;
user root;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/logs/error.log notice;
events { worker_connections 64; }
http {
  access_log off;
  bpfx_session $BPFX_SESSION;
  bpfx_classes $SRC/classes.yaml;
  bpfx_extension $1 $2;
  server {
    listen 127.0.0.1:$3;
    root $T/html;
  }
}
CONF
}

start_nginx() { # OBJ CLASS -> sets PORT, NGX_PID; returns 1 if nginx exits
  local tries
  for tries in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    : >"$T/logs/error.log"
    write_conf "$1" "$2" "$PORT"
    nginx -p "$T" -c "$T/nginx.conf" 2>>"$T/logs/error.log" &
    NGX_PID=$!
    for _ in $(seq 50); do
      kill -0 "$NGX_PID" 2>/dev/null || break
      curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
      sleep 0.1
    done
    if ! kill -0 "$NGX_PID" 2>/dev/null; then
      wait "$NGX_PID" 2>/dev/null || true
      NGX_PID=
      grep -q "Address already in use" "$T/logs/error.log" && continue
      return 1
    fi
    stop_nginx
  done
  return 1
}

status() { curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$1"; }

# the development side is recorded in the module binary
out=$("$BPFX" eim show "$MOD")
grep -q 'name: request' <<<"$out" || fail "eim show: no request entry: $out"
grep -q 'ngx_req_uri(ctx c, char \*buf, u32 size)' <<<"$out" || fail "eim show: no ngx_req_uri: $out"

# 1. the firewall
start_nginx "$FW/firewall.bpf.o" firewall || { cat "$T/logs/error.log"; fail "nginx did not start with the firewall"; }
grep -q "attached to 'request' as class 'firewall'" "$T/logs/error.log" || fail "no attach line"
[ "$(status /)" = 200 ] || fail "/ should pass"
[ "$(status /index.html)" = 200 ] || fail "/index.html should pass"
[ "$(status /admin/)" = 403 ] || fail "/admin/ should be refused"
[ "$(status /.env)" = 403 ] || fail "/.env should be refused"
id=$("$BPFX" map list | awk '/decisions/ {sub(":", "", $1); print $1; exit}')
[ -n "$id" ] || { "$BPFX" map list; fail "no decisions map in the session"; }
out=$("$BPFX" map dump "$id")
echo "$out"
grep -q "^key: 01 00 00 00 .*(2)$" <<<"$out" || fail "expected 2 denials: $out"
stop_nginx

# 2. extensions outside their class never load; the log names the capability
expect_refused() { # OBJ CLASS TEXT
  if start_nginx "$1" "$2"; then fail "$(basename "$1") loaded as class $2"; fi
  grep -qF "$3" "$T/logs/error.log" || { cat "$T/logs/error.log"; fail "$(basename "$1") as $2: no '$3' in the log"; }
  echo "refused as expected: $(basename "$1") as $2 ($3)"
}
expect_refused "$FW/firewall_write.bpf.o" firewall "args: {write: [r]}"
expect_refused "$FW/firewall_rewrite.bpf.o" firewall "functions: [ngx_req_set_uri]"
expect_refused "$FW/firewall.bpf.o" observer "helpers: [maps]"

# 3. the observer may read, and lets everything through
start_nginx "$FW/observer.bpf.o" observer || { cat "$T/logs/error.log"; fail "observer did not load"; }
[ "$(status /admin/)" = 200 ] || fail "the observer must not refuse"
stop_nginx
echo "PASS"
