/*
 * tests/cross/bench/bench_probe.h — the instruments of the target benchmark
 * suite (bench_suite.cpp): the instruction counter, per-operation
 * statistics, and the BENCH output lines that tools/bench_report.py reads.
 *
 * Counter. mps2-an385's CMSDK timer0 (0x40000000) counts down at 25 MHz of
 * QEMU virtual time. Under `-icount shift=S` every instruction is 2^S ns of
 * virtual time, so the timer advances 2^S / 40 ticks per instruction:
 *   S = 0: one tick per 40 instructions (exact over long runs, but a single
 *          bracketed operation is known only to +-40 instructions);
 *   S = 7: 3.2 ticks per instruction, so a tick difference D over n
 *          instructions is within 1 of 3.2 n and n = round(D * 40 / 128)
 *          exactly — one-instruction resolution per bracketed operation.
 * The suite runs at KMM_BENCH_ICOUNT_SHIFT (7); calibrate() checks the
 * claim on every boot by bracketing 0…16 `nop`s and refuses to report if
 * the counts are not exactly consecutive. Only virtual time changes with S:
 * QEMU executes the same instructions at the same speed.
 *
 * A bracket is one asm statement (bracket_call): counter read, `blx` to
 * the allocator function, counter read. Nothing else can land between the
 * reads: in a C bracket (`t0 = ticks(); op; t1 = ticks();`) GCC scheduled
 * other work between them — for newlib the heap-growth probe's load and
 * net()'s constants (1 instruction per alloc, 3 per free), for kmm nothing
 * (its probe is a call) — so the allocators were not counted alike. The
 * empty bracket (two back-to-back reads, the same asm shape) is measured
 * and subtracted, so a figure is the instructions of the call instruction,
 * the allocator and its return; argument set-up is outside the bracket.
 */
#ifndef KMM_BENCH_PROBE_H
#define KMM_BENCH_PROBE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>

#include "cmsdk.h"
#include "format.h" /* mm/format.h: kmm::vformat */

#ifndef KMM_BENCH_ICOUNT_SHIFT
#define KMM_BENCH_ICOUNT_SHIFT 7
#endif

namespace bench {

constexpr uintptr_t kTimer0 = 0x40000000u;

/* Raw timer ticks (an up-count; differences are wrap-safe in uint32_t). */
static inline uint32_t ticks() { return board::cmsdk::timer_ticks(kTimer0); }

/* Ticks -> instructions, rounded (exact for one bracket when S >= 7). */
static inline uint64_t ticks_to_instructions(uint64_t d)
{
	constexpr unsigned s = KMM_BENCH_ICOUNT_SHIFT;
	if constexpr (s == 0)
		return d * 40u;
	else
		return (d * 40u + (uint64_t{1} << (s - 1))) >> s;
}

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
inline void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	size_t n = kmm::vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	kmm_arch_console_write(line, n < sizeof(line) ? n : sizeof(line) - 1);
}

/* One result line: BENCH {"workload": …, "allocator": …, "metric": …,
 * "value": v} with v = centi / 100 printed with two decimals. */
inline void emit_centi(const char *workload, const char *allocator, const char *metric, uint64_t centi)
{
	say("BENCH {\"workload\": \"%s\", \"allocator\": \"%s\", \"metric\": \"%s\", \"value\": %llu.%02llu}\n",
	    workload, allocator, metric, static_cast<unsigned long long>(centi / 100),
	    static_cast<unsigned long long>(centi % 100));
}
inline void emit(const char *workload, const char *allocator, const char *metric, uint64_t value)
{
	emit_centi(workload, allocator, metric, value * 100);
}
/* num / den with two decimals. */
inline void emit_ratio(const char *workload, const char *allocator, const char *metric, uint64_t num, uint64_t den)
{
	emit_centi(workload, allocator, metric, den == 0 ? 0 : (num * 100 + den / 2) / den);
}

/* Per-operation statistics. `special` ops are the ones that went to the
 * page level: a new slab (kmm alloc), a slab returned to the buddy
 * allocator (kmm free), heap growth through _sbrk (newlib). Mean and worst
 * are over all ops; worst_regular leaves the special ones out. */
struct OpStat {
	uint64_t sum = 0, special_sum = 0;
	uint32_t n = 0, max = 0, max_regular = 0, special_n = 0, special_max = 0;

	void add(uint32_t insn, bool special)
	{
		sum += insn;
		++n;
		if (insn > max)
			max = insn;
		if (special) {
			special_sum += insn;
			++special_n;
			if (insn > special_max)
				special_max = insn;
		} else if (insn > max_regular) {
			max_regular = insn;
		}
	}

	/* "<op>_mean", "<op>_worst", "<op>_worst_regular", "<op>_special_*". */
	void emit_all(const char *workload, const char *allocator, const char *op, const char *special_name) const
	{
		char metric[64];
		kmm::format(metric, sizeof(metric), "%s_ops", op);
		emit(workload, allocator, metric, n);
		kmm::format(metric, sizeof(metric), "%s_mean", op);
		emit_ratio(workload, allocator, metric, sum, n);
		kmm::format(metric, sizeof(metric), "%s_worst", op);
		emit(workload, allocator, metric, max);
		kmm::format(metric, sizeof(metric), "%s_worst_excl_%s", op, special_name);
		emit(workload, allocator, metric, max_regular);
		kmm::format(metric, sizeof(metric), "%s_%s_ops", op, special_name);
		emit(workload, allocator, metric, special_n);
		if (special_n != 0) {
			kmm::format(metric, sizeof(metric), "%s_%s_mean", op, special_name);
			emit_ratio(workload, allocator, metric, special_sum, special_n);
			kmm::format(metric, sizeof(metric), "%s_%s_worst", op, special_name);
			emit(workload, allocator, metric, special_max);
		}
	}
};

/* fn(a0, a1) between two reads of the counter, in one asm statement: the
 * ticks between the reads cover exactly the `blx`, the callee and its
 * return. fn is an AAPCS function of up to two word arguments returning a
 * word (or void). The callee may clobber r0-r3, r12, lr and the flags;
 * the reads' values live in callee-saved registers the compiler picks. */
struct Bracketed {
	uintptr_t ret;
	uint32_t ticks;
};
inline Bracketed bracket_call(const void *fn, uintptr_t a0, uintptr_t a1)
{
	register uintptr_t r0 __asm__("r0") = a0;
	register uintptr_t r1 __asm__("r1") = a1;
	uint32_t v0, v1;
	__asm__ volatile("ldr %[v0], [%[timer], #4]\n\t"
			 "blx %[fn]\n\t"
			 "ldr %[v1], [%[timer], #4]"
			 : [v0] "=&r"(v0), [v1] "=&r"(v1), "+r"(r0), "+r"(r1)
			 : [timer] "r"(kTimer0), [fn] "r"(fn)
			 : "r2", "r3", "r12", "lr", "cc", "memory");
	return {r0, v0 - v1}; /* VALUE counts down; ticks() is ~VALUE */
}

/* The empty bracket, in ticks: two back-to-back reads, in the asm shape of
 * bracket_call. Returns the minimum over a few tries (it is constant under
 * icount; the minimum guards the first read's translation). */
__attribute__((noinline)) inline uint32_t empty_bracket_ticks()
{
	uint32_t best = ~0u;
	for (int i = 0; i < 16; ++i) {
		uint32_t v0, v1;
		__asm__ volatile("ldr %[v0], [%[timer], #4]\n\t"
				 "ldr %[v1], [%[timer], #4]"
				 : [v0] "=&r"(v0), [v1] "=&r"(v1)
				 : [timer] "r"(kTimer0)
				 : "memory");
		if (v0 - v1 < best)
			best = v0 - v1;
	}
	return best;
}

/* A callee of known length for check_bracket(): 5 nops and the return. */
__attribute__((naked, noinline)) inline void bracket_probe_5nops()
{
	__asm__ volatile("nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tbx lr");
}

/* bracket_call() of bracket_probe_5nops, empty bracket subtracted, must
 * count exactly 7 (blx, 5 nops, bx lr). Returns false (and says why) if
 * not: the per-op figures would not be the allocator's call alone. */
__attribute__((noinline)) inline bool check_bracket(uint32_t empty_ticks)
{
	uint64_t best = ~uint64_t{0};
	for (int rep = 0; rep < 8; ++rep) { /* the first call translates the code */
		Bracketed b = bracket_call(reinterpret_cast<const void *>(&bracket_probe_5nops), 0, 0);
		uint64_t v = ticks_to_instructions(b.ticks) - ticks_to_instructions(empty_ticks);
		if (rep > 0 && v < best)
			best = v;
	}
	bool ok = KMM_BENCH_ICOUNT_SHIFT < 7 || best == 7;
	say("bench: bracket check %s: a call of 5 nops and a return counted %llu instructions (expected 7: blx, "
	    "5 nops, bx lr)\n",
	    ok ? "ok" : "FAILED", static_cast<unsigned long long>(best));
	return ok;
}

/* Brackets k nops (k = 0..16): the differences must be exactly 0..16 more
 * than the empty bracket. Returns false (and says why) if not. */
#define KMM_BENCH_NOPS(k)                                                                                  \
	[]() -> uint32_t {                                                                                 \
		uint32_t t0 = ticks();                                                                     \
		__asm__ volatile(".rept " #k "\n\tnop\n\t.endr" ::: "memory");                             \
		uint32_t t1 = ticks();                                                                     \
		return t1 - t0;                                                                            \
	}
__attribute__((noinline)) inline bool calibrate()
{
	uint32_t (*probes[])() = {KMM_BENCH_NOPS(0), KMM_BENCH_NOPS(1), KMM_BENCH_NOPS(2), KMM_BENCH_NOPS(3),
				  KMM_BENCH_NOPS(4), KMM_BENCH_NOPS(5), KMM_BENCH_NOPS(7), KMM_BENCH_NOPS(11),
				  KMM_BENCH_NOPS(16)};
	const uint32_t nops[] = {0, 1, 2, 3, 4, 5, 7, 11, 16};
	bool ok = true;
	uint64_t base = 0;
	for (unsigned i = 0; i < sizeof(nops) / sizeof(nops[0]); ++i) {
		uint64_t best = ~uint64_t{0};
		for (int rep = 0; rep < 8; ++rep) { /* first call translates the code */
			uint64_t v = ticks_to_instructions(probes[i]());
			if (rep > 0 && v < best)
				best = v;
		}
		if (i == 0)
			base = best;
		if (KMM_BENCH_ICOUNT_SHIFT >= 7 && best != base + nops[i]) {
			say("bench: calibration: %u nops measured %llu instructions (empty bracket %llu)\n",
			    static_cast<unsigned>(nops[i]), static_cast<unsigned long long>(best - base),
			    static_cast<unsigned long long>(base));
			ok = false;
		}
	}
	say("bench: calibration %s: icount shift %u, empty bracket %llu instruction(s), nops 0..16 counted %s\n",
	    ok ? "ok" : "FAILED", static_cast<unsigned>(KMM_BENCH_ICOUNT_SHIFT),
	    static_cast<unsigned long long>(base), ok ? "exactly" : "wrongly");
	return ok;
}
#undef KMM_BENCH_NOPS

} // namespace bench

#endif
