#!/usr/bin/env bash
# bench/nginx: requests/s of nginx on loopback (wrk), side by side in one run:
#   none    no module
#   bpfx    the firewall extension (examples/nginx-firewall) through bpfx
#   native  the same firewall logic as C inside the module
#   lua     the same logic in access_by_lua_block (libnginx-mod-http-lua)
# Four nginx instances (1 worker each) on random high ports; ROUNDS rounds,
# each round runs wrk against every config in turn (interleaved, so drift
# hits all alike). Prints the median req/s and the overhead against none.
# usage: run.sh BUILD_DIR [ROUNDS] [SECONDS]
set -euo pipefail
BUILD=$(realpath "${1:?build dir}")
ROUNDS=${2:-10}
SECS=${3:-2}
FW=$BUILD/examples/nginx-firewall
MOD=$FW/ngx_http_bpfx_module.so
LUAMOD=/usr/lib/nginx/modules/ngx_http_lua_module.so
NDKMOD=/usr/lib/nginx/modules/ndk_http_module.so
for t in nginx wrk; do command -v $t >/dev/null || { echo "bench/nginx: $t missing (scripts/deps.sh)"; exit 0; }; done
[ -f "$MOD" ] || { echo "bench/nginx: $MOD not built (needs nginx-dev)"; exit 0; }
BPFX=$BUILD/bpfx
export BPFX_SESSION="bench-nginx-$$"
T=$(mktemp -d /tmp/bpfx-bench-nginx.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFX" reset >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/html"
echo ok >"$T/html/index.html"
CLASSES=$(cd "$(dirname "$0")/../../examples/nginx-firewall" && pwd)/classes.yaml

conf() { # NAME PORT
  local name=$1 port=$2 pre="" http=""
  case $name in
    bpfx) pre="load_module $MOD;"
          http="bpfx_session $BPFX_SESSION; bpfx_classes $CLASSES; bpfx_extension $FW/firewall.bpf.o firewall;" ;;
    native) pre="load_module $MOD;"; http="bpfx_native_firewall on;" ;;
    lua) pre="load_module $NDKMOD; load_module $LUAMOD;"
         http='init_by_lua_block { fw = { 0, 0 } }' ;;
  esac
  local loc=""
  [ "$name" = lua ] && loc='access_by_lua_block {
        local u = string.sub(ngx.var.uri, 1, 64)
        if string.sub(u, 1, 6) == "/admin" or string.find(u, "/.", 1, true) then
          fw[2] = fw[2] + 1
          return ngx.exit(403)
        end
        fw[1] = fw[1] + 1
      }'
  mkdir -p "$T/$name/logs"
  cat >"$T/$name/nginx.conf" <<CONF
$pre
daemon off;
user root;
worker_processes 1;
pid $T/$name/nginx.pid;
error_log $T/$name/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  $http
  server {
    listen 127.0.0.1:$port;
    root $T/html;
    location / { $loc }
  }
}
CONF
}

configs=(none bpfx native lua)
declare -A port
for c in "${configs[@]}"; do
  [ "$c" = lua ] && [ ! -f "$LUAMOD" ] && { echo "bench/nginx: no $LUAMOD, skipping lua"; continue; }
  port[$c]=$((20000 + RANDOM % 40000))
  conf "$c" "${port[$c]}"
  nginx -p "$T/$c" -c "$T/$c/nginx.conf" 2>>"$T/$c/logs/error.log" &
  pids+=($!)
done
for c in "${!port[@]}"; do
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:${port[$c]}/" && break
    sleep 0.1
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[$c]}/admin") || true
  want=403; [ "$c" = none ] && want=404
  [ "$code" = "$want" ] || { cat "$T/$c/logs/error.log"; echo "bench/nginx: $c answered $code to /admin (want $want)"; exit 1; }
done
order=()
for c in "${configs[@]}"; do [ -n "${port[$c]:-}" ] && order+=("$c"); done
declare -A res
for c in "${order[@]}"; do wrk -t2 -c32 -d1s "http://127.0.0.1:${port[$c]}/" >/dev/null; done # warm up
for r in $(seq "$ROUNDS"); do
  for c in "${order[@]}"; do
    v=$(wrk -t2 -c32 -d"${SECS}s" "http://127.0.0.1:${port[$c]}/" | awk '/Requests\/sec/ {print $2}')
    res[$c]="${res[$c]:-} $v"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
base=$(median <<<"${res[none]}")
echo "bench/nginx: wrk -t2 -c32 -d${SECS}s on loopback, $ROUNDS rounds each (interleaved), nginx 1 worker, GET / (static file)"
printf '%-8s %12s %12s %12s %10s\n' config "median req/s" min max overhead
for c in "${order[@]}"; do
  m=$(median <<<"${res[$c]}")
  mn=$(tr ' ' '\n' <<<"${res[$c]}" | grep -v '^$' | sort -g | head -1)
  mx=$(tr ' ' '\n' <<<"${res[$c]}" | grep -v '^$' | sort -g | tail -1)
  printf '%-8s %12.0f %12.0f %12.0f %9.2f%%\n' "$c" "$m" "$mn" "$mx" "$(awk -v a="$m" -v b="$base" 'BEGIN {print (b - a) / b * 100}')"
done
