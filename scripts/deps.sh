#!/usr/bin/env bash
# Install every Debian package that bpfx's build, tests and benchmarks need.
# Idempotent and non-interactive: installs only what is missing. Run as root.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config
  clang llvm lld                    # BPF target, libFuzzer, llvm-objdump
  libelf-dev zlib1g-dev libbpf-dev bpftool linux-libc-dev
  libcmocka-dev libzydis-dev libcapstone-dev libyaml-dev
  liblzma-dev xz-utils              # .gnu_debugdata (MiniDebugInfo) symbols
  systemtap-sdt-dev                 # sys/sdt.h: USDT probes in test targets
  redis-server python3              # tests/e2e/attach_redis.sh, JSON checks
  hyperfine valgrind
  strace util-linux                 # tests/e2e/syscall_count.sh: an independent count; setpriv
  bpftrace                          # tests/e2e/tools_*.sh, bench/tools
  openssl                           # examples/sslsniff test: s_server, s_client, req
  nginx nginx-dev libnginx-mod-http-lua wrk curl  # examples/nginx-firewall, bench/nginx (EIM)
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# servers (nginx, redis) must not start as services while installing: the
# tests start their own instances on loopback
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
trap '[ $made_policy = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
