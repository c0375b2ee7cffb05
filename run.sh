#!/usr/bin/env bash
# run.sh — the main job: build the firmware for the default board
# (mps2-an385, Cortex-M3), boot it under QEMU, run the self-tests and the
# workload, and print the report. Installs missing Debian packages first.
#
#   ./run.sh                  default board
#   KMM_BOARD=lm3s6965evb ./run.sh   another Cortex-M3 board of the cross-m3 build
#   ./run.sh bench            the benchmark suite (a few minutes): kmm vs
#                             newlib/newlib-nano on mps2-an385 (QEMU,
#                             instructions) and vs glibc/jemalloc/tcmalloc/
#                             mimalloc on the host; writes bench/results/*.json
#                             and regenerates docs/PERFORMANCE.md + docs/img/
#
# Exit status is the firmware's: 0 = self-tests and workload passed.
set -euo pipefail
cd "$(dirname "$0")"
JOBS="${KMM_JOBS:-$(nproc)}"
BOARD="${KMM_BOARD:-mps2-an385}"

tools/deps.sh cmake make g++ gcc-arm-none-eabi libnewlib-arm-none-eabi \
  libstdc++-arm-none-eabi-newlib qemu-system-arm

case "${1:-}" in
  "") ;;
  bench)
    tools/deps.sh libbenchmark-dev libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev \
      gnuplot-nox python3
    KMM_JOBS="${KMM_JOBS:-2}" tools/bench_suite.sh
    KMM_JOBS="${KMM_JOBS:-2}" tools/bench_host.sh
    exec python3 tools/bench_report.py report bench/results docs ;;
  *) echo "run.sh: unknown mode '$1'" >&2; exit 2 ;;
esac

cmake --preset cross-m3 >/dev/null
cmake --build --preset cross-m3 -j "$JOBS" --target "kmm-$BOARD" >/dev/null
echo "run.sh: booting build/cross-m3/boards/kmm-$BOARD.elf under QEMU"
# The run-<board> target holds the board's QEMU command line (board.cmake).
exec cmake --build --preset cross-m3 --target "run-$BOARD"
