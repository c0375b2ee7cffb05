#!/usr/bin/env bash
# tools/bench_target.sh — the slot benchmark on a target, kmm against
# newlib's malloc: builds the two otherwise identical mps2-an385 images
# (tests/cross/bench/bench_slot.cpp; kmalloc/kfree vs newlib malloc/free
# over a static _sbrk heap), boots each under QEMU with -icount shift=0
# (the CMSDK timer then counts one tick per 40 instructions, exactly), and
# prints instructions per step: including the loop, the harness alone, and
# the difference (the allocator). A benchmark, not a test: nothing passes
# or fails on a number. Figures: docs/BARE_METAL.md.
#
#   tools/bench_target.sh            uses the cross-m3 preset (build/cross-m3)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${KMM_JOBS:-2}"
cmake --preset cross-m3 >/dev/null
cmake --build --preset cross-m3 -j "$JOBS" --target kmm-mps2-an385-bench-kmm kmm-mps2-an385-bench-newlib >/dev/null
out=$(cmake --build --preset cross-m3 --target bench-slot 2>&1)
echo "$out" | grep -E '^(bench-slot|\{)'
echo
printf '%-8s %14s %14s %14s\n' allocator "instr/step" "harness" "allocator"
echo "$out" | sed -nE 's/^bench-slot: ([a-z]+): ([0-9.]+) instructions per step incl. the loop; harness alone ([0-9.]+); allocator ([0-9.]+).*/\1 \2 \3 \4/p' |
	while read -r name total harness alloc; do
		printf '%-8s %14s %14s %14s\n' "$name" "$total" "$harness" "$alloc"
	done
