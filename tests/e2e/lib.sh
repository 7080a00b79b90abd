# Shared by the e2e scripts: $BPFX (the CLI), $BUILD (build dir), a fresh
# session per script removed at exit, and small assertions.
set -euo pipefail
BPFX=$(realpath "${1:?bpfx path}")
BUILD=$(realpath "${2:?build dir}")
export BPFX_SESSION="e2e-$(basename "$0" .sh)-$$"
cleanup() { "$BPFX" reset >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# value of "@map[key]: N" lines in $out
map_value() { sed -n "s/^@$1\[$2\]: //p" <<<"$out"; }
