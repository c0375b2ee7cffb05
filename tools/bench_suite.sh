#!/usr/bin/env bash
# tools/bench_suite.sh — the target half of the benchmark suite: builds the
# three otherwise identical mps2-an385 images (kmm, newlib's malloc,
# newlib-nano's malloc; tests/cross/bench/bench_suite.cpp), boots each under
# QEMU with -icount shift=7 (bench_probe.h: the CMSDK timer then resolves
# one instruction), once for the speed workloads and once per RAM size for
# the utilisation at first failure (kmm also with 1 KiB and 256 B pages),
# and writes the figures to
# tests/bench/results/mps2-an385.json (tools/bench_report.py target). Logs:
# build/bench/target/. A benchmark, not a test: nothing fails on a number.
#
#   tools/bench_suite.sh             full run (~10 s of QEMU)
#   tools/bench_suite.sh --smoke     1/200 of the steps, one RAM size;
#                                    logs in build/bench/target-smoke and
#                                    its JSON in build/bench/smoke/results,
#                                    tests/bench/results untouched (./test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${KMM_JOBS:-2}"
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
BOARD=mps2-an385
SHIFT=7
LOGS=build/bench/target
[ $SMOKE -eq 1 ] && LOGS=build/bench/target-smoke
rm -f "$LOGS"/*.log
mkdir -p "$LOGS"

cmake --preset cross-m3 -DKMM_BENCH_ICOUNT_SHIFT=$SHIFT >/dev/null
allocs=(kmm newlib newlib-nano)
# kmm with 1 KiB and 256 B pages: utilisation runs only (boards/CMakeLists.txt)
util_only=(kmm-p1k kmm-p256)
targets=()
for a in "${allocs[@]}" "${util_only[@]}"; do targets+=("kmm-$BOARD-suite-$a"); done
cmake --build --preset cross-m3 -j "$JOBS" --target "${targets[@]}" >/dev/null

# boot <alloc> <mode> <arg> <log>: mode 0 = speed (arg: steps in 1/1000),
# 1 = utilisation (arg: RAM in KiB); the parameter block goes in through
# QEMU's loader device (bench_suite.cpp, kParamsAddr).
boot() {
	timeout 600 qemu-system-arm -M $BOARD -nographic -semihosting-config enable=on,target=native \
		-icount shift=$SHIFT \
		-device loader,addr=0x21ffff00,data=0x424d4d4b,data-len=4 \
		-device loader,addr=0x21ffff04,data="$2",data-len=4 \
		-device loader,addr=0x21ffff08,data="$3",data-len=4 \
		-kernel "build/cross-m3/boards/kmm-$BOARD-suite-$1.elf" >"$4" 2>&1
}

scale=1000
rams=(64 128 256 512 1024 2048)
if [ $SMOKE -eq 1 ]; then
	scale=5
	rams=(64)
fi
rc=0
for a in "${allocs[@]}"; do
	echo "bench_suite: $a: speed workloads (scale $scale/1000)"
	boot "$a" 0 $scale "$LOGS/$a-speed.log" || { echo "bench_suite: $a speed run failed, see $LOGS/$a-speed.log" >&2; rc=1; }
	grep -E '^bench: (calibration|bracket|[abcd]-)' "$LOGS/$a-speed.log" || true
	for r in "${rams[@]}"; do
		boot "$a" 1 "$r" "$LOGS/$a-util-$r.log" || { echo "bench_suite: $a util $r KiB failed, see $LOGS/$a-util-$r.log" >&2; rc=1; }
		grep -E '^bench: c-util' "$LOGS/$a-util-$r.log" || true
	done
done
for a in "${util_only[@]}"; do
	echo "bench_suite: $a: utilisation only"
	for r in "${rams[@]}"; do
		boot "$a" 1 "$r" "$LOGS/$a-util-$r.log" || { echo "bench_suite: $a util $r KiB failed, see $LOGS/$a-util-$r.log" >&2; rc=1; }
		grep -E '^bench: c-util' "$LOGS/$a-util-$r.log" || true
	done
done
[ $rc -eq 0 ] || exit $rc
if [ $SMOKE -eq 0 ]; then
	mkdir -p tests/bench/results
	python3 tools/bench_report.py target "$LOGS" tests/bench/results/$BOARD.json
else
	mkdir -p build/bench/smoke/results
	python3 tools/bench_report.py target "$LOGS" build/bench/smoke/results/$BOARD.json
fi
