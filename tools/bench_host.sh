#!/usr/bin/env bash
# tools/bench_host.sh — the host half of the benchmark suite: builds
# bench_compare (tests/bench/bench_compare.cpp, preset host-release) and
# runs kmm against glibc, jemalloc, tcmalloc and mimalloc, 1 and 2 threads,
# workloads a–c; then the x86-64 instruction counts of
# tests/bench/slab_instructions.sh (callgrind: kmem_cache and kmalloc pairs,
# slot step, kmm vs glibc); writes tests/bench/results/host-x86_64.json
# (tools/bench_report.py host, callgrind). Logs: build/bench/host/.
#
# kmm's 2-thread runs are gated: a ThreadSanitizer build of bench_compare
# (build/bench-tsan) runs them first; only if that run is clean (no race
# report, exit 0) does the real run include them (--kmm_smp). Otherwise
# they are reported "pending a clean ThreadSanitizer run".
#
#   tools/bench_host.sh            full run (~2 min)
#   tools/bench_host.sh --smoke    tiny min time, results not written
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${KMM_JOBS:-2}"
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
LOGS=build/bench/host
mkdir -p "$LOGS"

cmake --preset host-release >/dev/null
cmake --build --preset host-release -j "$JOBS" --target bench_compare >/dev/null
BIN=build/host-release/tests/bench/bench_compare

if [ $SMOKE -eq 1 ]; then
	"$BIN" --benchmark_min_time=0.001 >"$LOGS/smoke.log" 2>&1 || { cat "$LOGS/smoke.log"; exit 1; }
	exit 0
fi

# The SMP gate.
smp=()
cmake -S . -B build/bench-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKMM_BUILD_TESTS=OFF -DKMM_BUILD_BENCH=ON \
	"-DCMAKE_CXX_FLAGS=-fsanitize=thread" "-DCMAKE_C_FLAGS=-fsanitize=thread" \
	"-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread" >/dev/null
cmake --build build/bench-tsan -j "$JOBS" --target bench_compare >/dev/null
if timeout 300 build/bench-tsan/tests/bench/bench_compare --only_kmm --kmm_smp \
	--benchmark_filter='threads:2' --benchmark_min_time=0.01 >"$LOGS/tsan.log" 2>&1 &&
	! grep -q "WARNING: ThreadSanitizer" "$LOGS/tsan.log"; then
	echo "bench_host: kmm 2-thread runs are clean under ThreadSanitizer: included"
	smp=(--kmm_smp)
else
	echo "bench_host: kmm 2-thread runs race under ThreadSanitizer ($(grep -c 'WARNING: ThreadSanitizer' "$LOGS/tsan.log" || true) reports, $LOGS/tsan.log): pending a clean ThreadSanitizer run"
fi

"$BIN" "${smp[@]}" --benchmark_min_time=0.2 --benchmark_repetitions=3 \
	--benchmark_report_aggregates_only=true --benchmark_out="$LOGS/bench_compare.json" \
	--benchmark_out_format=json | tee "$LOGS/bench_compare.txt"
mkdir -p tests/bench/results
python3 tools/bench_report.py host "$LOGS/bench_compare.json" tests/bench/results/host-x86_64.json

# Instruction counts (callgrind, exact, load-independent): kmem_cache pair,
# kmalloc+kfree pairs at 16/64/256/1024 against glibc's malloc+free, the
# slot step (tests/bench/slab_instructions.sh over bench_slab, ~1 min).
cmake --build --preset host-release -j "$JOBS" --target bench_slab >/dev/null
tests/bench/slab_instructions.sh build/host-release/tests/bench/bench_slab | tee "$LOGS/callgrind.txt"
python3 tools/bench_report.py callgrind "$LOGS/callgrind.txt" tests/bench/results/host-x86_64.json
