#!/usr/bin/env bash
# Build ngx_http_bpfx_module.so against Debian's nginx-dev sources, with the
# configure flags Debian's nginx was built with (conf_flags, --with-compat),
# so the module's signature matches the installed nginx.
# usage: build-module.sh SRC_DIR OUT_DIR BPFX_INCLUDE BPFX_LIBDIR
set -euo pipefail
src=$1 out=$2 inc=$3 lib=$4
ngx=/usr/share/nginx/src
work=$out/nginx-build
[ -f "$ngx/configure" ] || { echo "nginx-dev sources not found ($ngx)" >&2; exit 1; }
if [ ! -f "$work/objs/Makefile" ] || [ "$src/config" -nt "$work/objs/Makefile" ]; then
  rm -rf "$work"; mkdir -p "$work"
  cp -a "$ngx/." "$work/"
  # shellcheck disable=SC1091
  source "$ngx/conf_flags"
  (cd "$work" && BPFX_INCLUDE="$inc" BPFX_LIBDIR="$lib" \
     ./configure "${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$src" >configure.log 2>&1) ||
    { tail -20 "$work/configure.log" >&2; exit 1; }
fi
make -C "$work" -f objs/Makefile modules >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
cp "$work/objs/ngx_http_bpfx_module.so" "$out/ngx_http_bpfx_module.so"
