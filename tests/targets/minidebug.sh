#!/usr/bin/env bash
# minidebug.sh IN OUT: OUT = IN with .symtab stripped and the symbols of
# the functions .dynsym lacks kept in .gnu_debugdata (xz), the way
# distributions build MiniDebugInfo (gdb's "MiniDebugInfo" recipe).
set -euo pipefail
in=$1 out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D "$in" --format=posix --defined-only | awk '{print $1}' | sort -u >"$tmp/dynsyms"
nm "$in" --format=posix --defined-only | awk '$2 ~ /^[TtWw]$/ {print $1}' | sort -u >"$tmp/funcsyms"
comm -13 "$tmp/dynsyms" "$tmp/funcsyms" >"$tmp/keep"
objcopy --only-keep-debug "$in" "$tmp/debug"
objcopy -S --remove-section .gdb_index --remove-section .comment \
	--keep-symbols="$tmp/keep" "$tmp/debug" "$tmp/mini"
xz -f "$tmp/mini"
strip --strip-all -R .comment -o "$tmp/stripped" "$in"
objcopy --add-section .gnu_debugdata="$tmp/mini.xz" "$tmp/stripped" "$out"
