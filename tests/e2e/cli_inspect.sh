#!/usr/bin/env bash
# The inspection CLI on a live session: prog list/show/dump (xlated code
# with source lines), map list/dump/lookup/update/delete (tables and
# --json), link list, trace, prog run, reset.
. "$(dirname "$0")/lib.sh"
"$BPFX" run "$BUILD/examples/malloc.bpf.o" -- "$BUILD/tests/targets/alloc_loop" 4000 1000 \
	> "/tmp/$BPFX_SESSION.run" 2>&1 &
r=$!
trap 'kill $r 2>/dev/null; wait $r 2>/dev/null; cleanup' EXIT
for i in $(seq 50); do "$BPFX" link list | grep -q uprobe && break; sleep 0.1; done

out=$("$BPFX" prog list)
echo "$out"
grep -q "kprobe  name malloc_enter" <<<"$out" || fail "prog list"
pid=$(sed -n 's/^\([0-9]*\): kprobe  name malloc_enter.*/\1/p' <<<"$out")
"$BPFX" prog show "$pid" | grep -q "malloc_enter" || fail "prog show"
dump=$("$BPFX" prog dump "$pid")
grep -q "^; .*bpf_get_current_pid_tgid" <<<"$dump" || fail "dump has no source lines"
grep -q "call 14" <<<"$dump" || fail "dump has no code"

out=$("$BPFX" map list)
grep -q "hash  name calls" <<<"$out" || fail "map list"
mid=$(sed -n 's/^\([0-9]*\): hash  name calls.*/\1/p' <<<"$out")
"$BPFX" map list --json | python3 -m json.tool >/dev/null || fail "map list --json"
sleep 0.5
"$BPFX" map dump "$mid" | grep -q "Found 1 element" || fail "map dump"
"$BPFX" map dump "$mid" --json | python3 -m json.tool >/dev/null || fail "map dump --json"
"$BPFX" map update "$mid" 77 1234 || fail "map update"
"$BPFX" map lookup "$mid" 77 | grep -q "(1234)" || fail "map lookup"
"$BPFX" map update "$mid" 77 1 noexist 2>/dev/null && fail "noexist on an existing key"
"$BPFX" map delete "$mid" 77 || fail "map delete"
"$BPFX" map lookup "$mid" 77 2>/dev/null && fail "lookup after delete"
"$BPFX" link list | grep -q "uprobe  prog $pid" || fail "link list"
wait $r || fail "bpfx run exit status"
trap cleanup EXIT
grep -q "^@calls\[" "/tmp/$BPFX_SESSION.run" || fail "maps at exit"
rm -f "/tmp/$BPFX_SESSION.run"

# prog run with a context; trace_printk output through bpfx trace
head -c 168 /dev/zero > "/tmp/$BPFX_SESSION.ctx"
out=$("$BPFX" prog run "$BUILD/tests/progs/helpers.bpf.o" printk_and_strings \
	--ctx-in "/tmp/$BPFX_SESSION.ctx" --repeat 3)
echo "$out"
grep -q "^retval: 0" <<<"$out" || fail "prog run retval"
grep -q "duration (average)" <<<"$out" || fail "prog run duration"
"$BPFX" trace --once | grep -q "hello from bpfx 7 bpfx" || fail "trace"
out=$("$BPFX" prog run "$BUILD/tests/progs/maps.bpf.o" array_add --engine interp)
grep -q "^retval: 0" <<<"$out" || fail "prog run --engine interp"
rm -f "/tmp/$BPFX_SESSION.ctx"
"$BPFX" reset | grep -q "reset" || fail "reset"
[ ! -d "/dev/shm/bpfx-$(id -u)-$BPFX_SESSION" ] || fail "session left"
echo PASS
