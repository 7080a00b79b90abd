#!/usr/bin/env bash
# A function named only by the target's .gnu_debugdata (MiniDebugInfo):
# .symtab is stripped and .dynsym does not have it, yet `bpfx run` probes
# it by name; every call and argument counts.
. "$(dirname "$0")/lib.sh"
cd "$BUILD" # the section names ./tests/targets/minidebug_target
t=./tests/targets/minidebug_target
[ -x "$t" ] || fail "$t not built"
sections=$(readelf -SW "$t")
! grep -q ' \.symtab ' <<<"$sections" || fail "$t still has .symtab"
grep -q ' \.gnu_debugdata ' <<<"$sections" || fail "no .gnu_debugdata"
! readelf -sW --dyn-syms "$t" | grep -q hidden_work || fail "hidden_work is in .dynsym"
out=$("$BPFX" run tests/progs/minidebug.bpf.o -- "$t" 100)
echo "$out"
grep -q "minidebug_target: 100 calls, sum 4950" <<<"$out" || fail "target output"
[ "$(map_value hidden 0)" = 100 ] || fail "calls"
[ "$(map_value hidden 1)" = 4950 ] || fail "argument sum"
echo PASS
