#!/bin/sh
# tests/bench/slab_instructions.sh — instructions per operation of the slab
# layer and glibc malloc, counted by valgrind (callgrind): each mode of
# `bench_slab --count <mode> <n>` runs for two n and the instruction delta is
# divided by the difference, so setup and teardown cancel. Two columns:
#   total      everything the loop executes per operation (incl. the loop,
#              the calls and, for slot_*, the workload itself)
#   allocator  only the instructions inside the allocator's functions
#              (inclusive: kmem_cache_alloc/free, kmalloc/kfree, malloc/free)
#
#   tests/bench/slab_instructions.sh [path/to/bench_slab] [modes...]
#
# KMM_CALLGRIND_N1 / KMM_CALLGRIND_N2 override the two n (1M, 2M): the
# smoke run of ./test.sh bench uses tiny ones (pipeline only, not figures).
# ./run.sh bench (tools/bench_host.sh) records the output in
# tests/bench/results/host-x86_64.json (tools/bench_report.py callgrind).
set -eu
BIN=${1:-build-bench-slab/tests/bench/bench_slab}
[ $# -gt 0 ] && shift
MODES=${*:-kmem_cache kmalloc16 kmalloc64 kmalloc256 kmalloc1024 malloc16 malloc64 malloc256 malloc1024 slot_kmm slot_glibc slot_harness}
N1=${KMM_CALLGRIND_N1:-1000000}
N2=${KMM_CALLGRIND_N2:-2000000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# run mode n -> "total allocator". A run that fails, or output that lacks
# the counts, stops the script: a figure computed from a missing count
# would be printed as if measured.
run() {
	if ! valgrind --tool=callgrind --callgrind-out-file="$TMP/out" "$BIN" --count "$1" "$2" 2>"$TMP/log" >/dev/null; then
		echo "slab_instructions: valgrind $BIN --count $1 $2 failed:" >&2
		cat "$TMP/log" >&2
		return 1
	fi
	total=$(sed -n 's/^==[0-9]*== Collected : //p' "$TMP/log")
	case $total in
	'' | *[!0-9]*)
		echo "slab_instructions: no instruction count in valgrind's output for $1 $2" >&2
		return 1 ;;
	esac
	if ! callgrind_annotate --inclusive=yes --threshold=100 "$TMP/out" >"$TMP/annotate" 2>"$TMP/annotate.err"; then
		echo "slab_instructions: callgrind_annotate failed for $1 $2:" >&2
		cat "$TMP/annotate.err" >&2
		return 1
	fi
	alloc=$(awk '
		{ gsub(",", "", $1) }
		/:kmem_cache_alloc |:kmem_cache_free |:kmalloc |:kfree |:malloc |:free / { s += $1 }
		END { print s + 0 }' "$TMP/annotate")
	echo "$total $alloc"
}
printf '%-14s %10s %10s\n' mode total allocator
for m in $MODES; do
	# assignments, so that set -e sees a failed run (set -- $(run) would not)
	r1=$(run "$m" $N1)
	r2=$(run "$m" $N2)
	set -- $r1 $r2
	awk -v m="$m" -v t1="$1" -v a1="$2" -v t2="$3" -v a2="$4" -v d=$((N2 - N1)) \
		'BEGIN { printf "%-14s %10.2f %10.2f\n", m, (t2 - t1) / d, (a2 - a1) / d }'
done
