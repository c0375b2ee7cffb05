#!/usr/bin/env bash
# test.sh — build and run every kmm test: host Debug, host ASan+UBSan, the
# cross builds (-nostdlib images for Cortex-M3, Cortex-M33, Cortex-A15 and
# RISC-V 64) with their QEMU boot tests, and a seconds-long smoke run of
# the benchmarks. Installs missing Debian packages
# first. Exit status 0 only if everything passed.
#
#   ./test.sh            everything
#   ./test.sh host       one stage: host | asan | tsan | cross | bench | fuzz
#
# fuzz: builds tests/fuzz with clang (libFuzzer + ASan + UBSan) and runs
# fuzz_kmm for KMM_FUZZ_SECONDS (default 50) from the committed seed corpus
# (tests/fuzz/corpus; new inputs go to build/fuzz/corpus). docs/DEBUGGING.md.
#
# tsan: the whole host-tsan preset (every host test, ThreadSanitizer on;
# the concurrency tests are the 4-CPU builds, kmm_mm_smp4:*).
set -euo pipefail
cd "$(dirname "$0")"
JOBS="${KMM_JOBS:-$(nproc)}"

tools/deps.sh cmake make g++ libgtest-dev libgmock-dev libbenchmark-dev \
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib \
  qemu-system-arm gcc-riscv64-unknown-elf qemu-system-misc \
  libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev gnuplot-nox python3 \
  clang libclang-rt-14-dev valgrind

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(host asan tsan cross bench fuzz)

total_pass=0
total_fail=0
failed_stages=()

# run_ctest <preset>: runs CTest for a preset and adds its counts.
run_ctest() {
  local preset="$1" log
  shift
  log="build/ctest-$preset.log"
  local rc=0
  ctest --preset "$preset" -j "$JOBS" "$@" 2>&1 | tee "$log" || rc=$?
  local line pass=0 fail=0 all=0
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1 || true)
  if [ -n "$line" ]; then
    fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    all=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    pass=$((all - fail))
  fi
  if [ "$all" -eq 0 ]; then
    echo "test.sh: no tests ran in preset $preset" >&2
    rc=1
  fi
  # CTest counts a skipped test (GTEST_SKIP, SKIP_RETURN_CODE,
  # SKIP_REGULAR_EXPRESSION) as passed in its summary, and leaves a
  # disabled one (DISABLED_, DISABLED property) out of it: both are listed
  # only under "The following tests did not run". A green run must have
  # run every test, so either fails the stage.
  local skipped disabled
  skipped=$(awk '/^[[:space:]]*[0-9]+ - .* \(Skipped\)$/ { n++ } END { print n + 0 }' "$log")
  disabled=$(awk '/^[[:space:]]*[0-9]+ - .* \(Disabled\)$/ { n++ } END { print n + 0 }' "$log")
  if [ "$skipped" -ne 0 ] || [ "$disabled" -ne 0 ]; then
    echo "test.sh: preset $preset: $skipped tests skipped, $disabled disabled:" >&2
    grep -E '^[[:space:]]*[0-9]+ - .* \((Skipped|Disabled)\)$' "$log" >&2
    pass=$((pass - skipped))
    fail=$((fail + skipped + disabled))
    rc=1
  fi
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  return $rc
}

stage() {
  local name="$1"
  shift
  echo "==== test.sh: stage $name ===="
  local fail_before=$total_fail
  if ! "$@"; then
    failed_stages+=("$name")
    # a stage that failed with no failed test counted (configure, build,
    # setup) counts as one failure of its own in the summary
    if [ "$total_fail" -eq "$fail_before" ]; then
      echo "test.sh: stage $name failed outside its test counts (configure, build or setup)" >&2
      total_fail=$((total_fail + 1))
    fi
  fi
}

build_and_test() {
  local preset="$1"
  shift
  cmake --preset "$preset" >/dev/null &&
    cmake --build --preset "$preset" -j "$JOBS" &&
    run_ctest "$preset" "$@"
}

# cross_all: every cross preset; all run even if one fails, each counted.
cross_all() {
  local preset rc=0
  for preset in cross-m3 cross-m33 cross-a15 cross-rv64; do
    build_and_test "$preset" || rc=1
  done
  return $rc
}

bench_smoke() {
  cmake --preset host-release >/dev/null &&
    cmake --build --preset host-release -j "$JOBS" || return 1
  # The bench_* programs this tree defines (not a glob of the build
  # folder, which keeps binaries of targets an older commit had).
  local b benches
  benches=$(cmake --build --preset host-release --target help | sed -n 's/^\.\.\. \(bench_[A-Za-z0-9_]*\).*/\1/p') || return 1
  [ -n "$benches" ] || { echo "test.sh: host-release defines no bench_* program" >&2; return 1; }
  for b in $benches; do
    b=build/host-release/tests/bench/$b
    echo "-- smoke: $b"
    if [ -x "$b" ] && "$b" --benchmark_min_time=0.01 >/dev/null; then
      total_pass=$((total_pass + 1))
    else
      total_fail=$((total_fail + 1))
      return 1
    fi
  done
  # The comparison suite (./run.sh bench), tiny: the target images booted
  # with 1/200 of the steps and one RAM size, the host binary with a tiny
  # min time (bench_compare ran above with the other bench_* binaries).
  echo "-- smoke: tools/bench_suite.sh --smoke"
  if KMM_JOBS="$JOBS" tools/bench_suite.sh --smoke >build/bench-suite-smoke.log 2>&1; then
    total_pass=$((total_pass + 1))
  else
    cat build/bench-suite-smoke.log
    total_fail=$((total_fail + 1))
    return 1
  fi
  # The rest of ./run.sh bench's pipeline on those figures: the host
  # results JSON (bench_compare with kmm's 2-thread runs, the callgrind
  # counts at tiny n), then the report and its plots, into build/bench/smoke
  # (docs/ untouched).
  echo "-- smoke: tools/bench_report.py host + report"
  if report_smoke >build/bench-report-smoke.log 2>&1; then
    total_pass=$((total_pass + 1))
  else
    cat build/bench-report-smoke.log
    total_fail=$((total_fail + 1))
    return 1
  fi
}

report_smoke() {
  local d=build/bench/smoke png
  rm -rf "$d/docs" "$d/results/host-x86_64.json" "$d/compare.json" "$d/callgrind.txt"
  # repetitions + aggregates: the JSON shape tools/bench_host.sh writes
  build/host-release/tests/bench/bench_compare --kmm_smp --benchmark_min_time=0.001 \
    --benchmark_repetitions=2 --benchmark_report_aggregates_only=true \
    --benchmark_out="$d/compare.json" --benchmark_out_format=json >/dev/null &&
    python3 tools/bench_report.py host "$d/compare.json" "$d/results/host-x86_64.json" &&
    KMM_CALLGRIND_N1=100 KMM_CALLGRIND_N2=200 tests/bench/slab_instructions.sh \
      build/host-release/tests/bench/bench_slab >"$d/callgrind.txt" &&
    python3 tools/bench_report.py callgrind "$d/callgrind.txt" "$d/results/host-x86_64.json" &&
    python3 tools/bench_report.py check "$d/results" &&
    python3 tools/bench_report.py report "$d/results" "$d/docs" || return 1
  grep -q '^# kmm performance' "$d/docs/PERFORMANCE.md" || { echo "no report in $d/docs" >&2; return 1; }
  for png in bench-target-per-op bench-target-alloc-free bench-utilization bench-utilization-curve bench-host; do
    [ -s "$d/docs/img/$png.png" ] || { echo "plot $png.png missing" >&2; return 1; }
  done
}

# fuzz_run: the libFuzzer target for about a minute; one pass or one fail.
fuzz_run() {
  CC=clang CXX=clang++ cmake -S tests/fuzz -B build/fuzz -DCMAKE_BUILD_TYPE=Debug >/dev/null &&
    cmake --build build/fuzz -j "$JOBS" || return 1
  mkdir -p build/fuzz/corpus
  if build/fuzz/fuzz_kmm -max_total_time="${KMM_FUZZ_SECONDS:-50}" -print_final_stats=1 \
    build/fuzz/corpus tests/fuzz/corpus >build/fuzz/fuzz.log 2>&1; then
    grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec" build/fuzz/fuzz.log || true
    total_pass=$((total_pass + 1))
  else
    tail -40 build/fuzz/fuzz.log
    total_fail=$((total_fail + 1))
    return 1
  fi
}

mkdir -p build
for s in "${stages[@]}"; do
  case "$s" in
    host) stage host build_and_test host ;;
    asan) stage asan build_and_test host-asan ;;
    tsan) stage tsan build_and_test host-tsan ;;
    cross) stage cross cross_all ;;
    bench) stage bench bench_smoke ;;
    fuzz) stage fuzz fuzz_run ;;
    *) echo "test.sh: unknown stage $s" >&2; exit 2 ;;
  esac
done

echo
if [ ${#failed_stages[@]} -ne 0 ]; then
  echo "test.sh: FAILED stages: ${failed_stages[*]}"
  echo "$total_pass passed, $total_fail failed"
  exit 1
fi
echo "test.sh: all stages passed (${stages[*]})"
echo "$total_pass passed, $total_fail failed"
