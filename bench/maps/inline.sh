#!/bin/bash
# bench/maps inline: ns per array and per-CPU array lookup made inside a
# program, bpfx with the lookup inlined at load, bpfx through the helper
# (BPFX_NO_INLINE=1), and the kernel (its verifier inlines both), in one
# run. Per lookup = (program with 32 lookups - the same program with none)
# / 32, so the per-run cost of each harness cancels out. Medians of RUNS
# runs.
# usage: inline.sh BPFX OBJDIR [REPEAT]
set -u
bpfx=$1 dir=$2 repeat=${3:-2000000} runs=${RUNS:-15}

dur() { sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p'; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# per_lookup P CMD... : median over runs of (t(P32) - t(P0)) / 32 (P: lk
# for the array, plk for the per-CPU array); the command gets the program
# name appended.
per_lookup() {
	local i t0 t32 v="" p=$1
	shift
	for ((i = 0; i < runs; i++)); do
		t0=$("$@" "${p}0" | dur) t32=$("$@" "${p}32" | dur)
		[ -n "$t0" ] && [ -n "$t32" ] || return 1
		v+="$(awk -v a="$t0" -v b="$t32" 'BEGIN {printf "%.3f", (b - a) / 32}')"$'\n'
	done
	printf '%s' "$v" | median
}

bx() { "$bpfx" prog run "$dir/lookup_bpfx.bpf.o" "$1" --repeat "$repeat" 2>&1; }
bx_noinl() { BPFX_NO_INLINE=1 bx "$@"; }
fail() { echo "bench/maps inline: bpfx prog run failed" >&2; exit 1; }
inl=$(per_lookup lk bx) || fail
hlp=$(per_lookup lk bx_noinl) || fail
pinl=$(per_lookup plk bx) || fail
phlp=$(per_lookup plk bx_noinl) || fail
vinl=$(per_lookup vlk bx) || fail
vpinl=$(per_lookup vplk bx) || fail

kern="-" pkern="-" vkern="-" vpkern="-" why=""
pin=/sys/fs/bpf/bpfx_bench_lookup
pkt=$(mktemp)
head -c 64 /dev/zero >"$pkt"
if ! mountpoint -q /sys/fs/bpf && ! mount -t bpf bpf /sys/fs/bpf 2>/dev/null; then
	why="no bpffs at /sys/fs/bpf"
else
	rm -rf "$pin"
	if ! bpftool prog loadall "$dir/lookup_kernel.bpf.o" "$pin" 2>/dev/null; then
		why="bpf(BPF_PROG_LOAD) not permitted here"
	else
		kx() { bpftool prog run pinned "$pin/$1" data_in "$pkt" repeat "$repeat" 2>&1; }
		kern=$(per_lookup lk kx) || { kern="-"; why="BPF_PROG_TEST_RUN failed"; }
		pkern=$(per_lookup plk kx) || { pkern="-"; why="BPF_PROG_TEST_RUN failed"; }
		vkern=$(per_lookup vlk kx) || { vkern="-"; why="BPF_PROG_TEST_RUN failed"; }
		vpkern=$(per_lookup vplk kx) || { vpkern="-"; why="BPF_PROG_TEST_RUN failed"; }
		rm -rf "$pin"
	fi
fi
rm -f "$pkt"

echo
echo "lookups inside a program: ns per lookup, median of $runs runs x $repeat"
printf '%-22s %10s %10s %10s\n' "" "bpfx" "kernel" "kernel/bpfx"
row() {
	if [ "$3" = "-" ]; then
		printf '%-22s %10s %10s %10s\n' "$1" "$2" "-" "-"
	else
		printf '%-22s %10s %10s %10s\n' "$1" "$2" "$3" \
			"$(awk -v a="$2" -v b="$3" 'BEGIN {printf "%.2fx", (a > 0) ? b / a : 0}')"
	fi
}
row "array, const key" "$inl" "$kern"
row "array, variable key" "$vinl" "$vkern"
row "array, helper" "$hlp" "$kern"
row "percpu, const key" "$pinl" "$pkern"
row "percpu, variable key" "$vpinl" "$vpkern"
row "percpu, helper" "$phlp" "$pkern"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", (a > 0) ? b / a : 0}'; }
echo "per-CPU / plain: const key $(ratio "$inl" "$pinl"), variable key $(ratio "$vinl" "$vpinl")"
[ -n "$why" ] && echo "(kernel column skipped: $why)"
exit 0
