#!/usr/bin/env bash
# run.sh — the main job: build the firmware for the default board
# (mps2-an385, Cortex-M3), boot it under QEMU, run the self-tests and the
# workload, and print the report. Installs missing Debian packages first.
#
#   ./run.sh                  default board
#   KMM_BOARD=lm3s6965evb ./run.sh   another Cortex-M3 board of the cross-m3 build
#   KMM_IMAGE=fault ./run.sh  a test image of the board instead: fault or
#                             hardfault (exit 3), selftest-fail (exit 1)
#   ./run.sh bench            the benchmark suite (a few minutes): kmm vs
#                             newlib/newlib-nano on mps2-an385 (QEMU,
#                             instructions) and vs glibc/jemalloc/tcmalloc/
#                             mimalloc on the host; writes tests/bench/results/*.json
#                             and regenerates docs/PERFORMANCE.md + docs/img/
#
# Exit status is the firmware's: 0 = self-tests and workload passed.
set -euo pipefail
cd "$(dirname "$0")"
JOBS="${KMM_JOBS:-$(nproc)}"
BOARD="${KMM_BOARD:-mps2-an385}"
IMAGE="kmm-$BOARD${KMM_IMAGE:+-$KMM_IMAGE}"

tools/deps.sh cmake make g++ gcc-arm-none-eabi libnewlib-arm-none-eabi \
  libstdc++-arm-none-eabi-newlib qemu-system-arm

case "${1:-}" in
  "") ;;
  bench)
    tools/deps.sh libbenchmark-dev libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev \
      gnuplot-nox python3 valgrind
    KMM_JOBS="${KMM_JOBS:-2}" tools/bench_suite.sh
    KMM_JOBS="${KMM_JOBS:-2}" tools/bench_host.sh
    exec python3 tools/bench_report.py report tests/bench/results docs ;;
  *) echo "run.sh: unknown mode '$1'" >&2; exit 2 ;;
esac

cmake --preset cross-m3 >/dev/null
cmake --build --preset cross-m3 -j "$JOBS" --target "$IMAGE" >/dev/null
echo "run.sh: booting build/cross-m3/boards/$IMAGE.elf under QEMU"
# The board's QEMU command line as CMake wrote it (boards/CMakeLists.txt),
# run directly: the run-<board> target would go through make, which turns
# the firmware's exit status into its own 2.
exec "build/cross-m3/boards/qemu-$IMAGE.sh"
