#!/usr/bin/env bash
# funclatency.sh [-n] BINARY:FUNC -- CMD ARGS...
#
# Latency histogram of any function: compiles funclatency.bpf.c for
# BINARY:FUNC (a soname such as libc.so.6, an executable name in $PATH, or
# a path) into a temporary object, then runs CMD under `bpfx run` with it.
# -n: nanoseconds instead of microseconds. The bpfx used is $BPFX, else
# bpfx in $PATH, else build/bpfx of this source tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: funclatency.sh [-n] BINARY:FUNC -- CMD ARGS..." >&2; exit 2; }

ns=()
if [ "${1:-}" = "-n" ]; then
	ns=(-DFUNCLAT_NS)
	shift
fi
[ $# -ge 3 ] && [ "$2" = "--" ] || usage
target=$1
shift 2
# The target goes into a C string literal and a section name: keep it plain.
[[ "$target" =~ ^[A-Za-z0-9_./+-]+:[A-Za-z_][A-Za-z0-9_.]*(\+[0-9a-fA-Fx]+)?$ ]] ||
	{ echo "funclatency.sh: '$target' is not BINARY:FUNC[+OFF]" >&2; exit 2; }

bpfx=${BPFX:-$(command -v bpfx || echo "$here/../../build/bpfx")}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"/usr/include/$(uname -m)-linux-gnu" \
	-DFUNCLAT_TARGET="\"$target\"" "${ns[@]}" \
	-c "$here/funclatency.bpf.c" -o "$tmp/funclatency.bpf.o"
# Not exec: the trap removes the object when bpfx is done.
set +e
"$bpfx" run "$tmp/funclatency.bpf.o" -- "$@"
