/*
 * tests/cross/bench/bench_slot.cpp — the slot benchmark on a target (a
 * program that prints figures, never a pass/fail on a number): 256 slots;
 * each step draws a slot with a fixed-seed xorshift32 and frees its block
 * if it holds one, else allocates 8…512 random bytes into it (touching the
 * first and last byte). So blocks are freed in random order with
 * overlapping lifetimes. Compiled twice into otherwise identical images:
 *
 *   KMM_BENCH_ALLOCATOR_KMM     kmalloc / kfree      (kmm-<board>-bench-kmm.elf)
 *   KMM_BENCH_ALLOCATOR_NEWLIB  newlib malloc / free (kmm-<board>-bench-newlib.elf,
 *                               libc.a + a static-heap _sbrk)
 *
 * Both boot kmm from the board's memory map (so the images differ only in
 * the allocator the loop calls), run the loop once with a null allocator
 * (the harness alone) and once with the real one, and print the
 * instructions per step from the board counter (mps2-an385 with -icount
 * shift=0: CMSDK timer ticks x 40 = instructions, exact). Steps:
 * KMM_BENCH_STEPS (200000). Run both: tools/bench_target.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>
#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/kmm.h>

#include "format.h" /* mm/format.h: kmm::format */

#ifndef KMM_BENCH_STEPS
#define KMM_BENCH_STEPS 200000u
#endif

#if defined(KMM_BENCH_ALLOCATOR_NEWLIB)
extern "C" void *malloc(size_t size);
extern "C" void free(void *p);
#define KMM_BENCH_NAME "newlib"
#elif defined(KMM_BENCH_ALLOCATOR_KMM)
#define KMM_BENCH_NAME "kmm"
#else
#error "define KMM_BENCH_ALLOCATOR_KMM or KMM_BENCH_ALLOCATOR_NEWLIB"
#endif

namespace {

constexpr unsigned kSlots = 256;
constexpr uint32_t kSeed = 0x2545f491u;

struct Real {
#if defined(KMM_BENCH_ALLOCATOR_NEWLIB)
	static void *alloc(size_t n) { return malloc(n); }
	static void release(void *p) { free(p); }
#else
	static void *alloc(size_t n) { return kmalloc(n, GFP_KERNEL); }
	static void release(void *p) { kfree(p); }
#endif
};

/* The harness alone: a fixed 512-byte block per slot, nothing allocated. */
unsigned char g_null_blocks[kSlots][512];
struct Null {
	static void *alloc(size_t n) { return g_null_blocks[n & (kSlots - 1)]; }
	static void release(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }
};

void *g_slots[kSlots];

struct Result {
	uint64_t instructions;
	unsigned long allocs, frees, failures;
};

template <typename A> __attribute__((noinline)) Result run(uint32_t steps)
{
	Result r = {};
	uint32_t x = kSeed;
	uint64_t t0 = kmm_arch_counter();
	for (uint32_t step = 0; step < steps; ++step) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		void *&slot = g_slots[x & (kSlots - 1)];
		if (slot != nullptr) {
			A::release(slot);
			slot = nullptr;
			++r.frees;
		} else {
			size_t size = 8 + (x >> 8) % 505; /* 8 … 512 */
			unsigned char *p = static_cast<unsigned char *>(A::alloc(size));
			if (p == nullptr) {
				++r.failures;
				continue;
			}
			p[0] = 1;
			p[size - 1] = 2;
			slot = p;
			++r.allocs;
		}
	}
	r.instructions = kmm_arch_counter() - t0;
	for (void *&slot : g_slots) {
		if (slot != nullptr)
			A::release(slot);
		slot = nullptr;
	}
	return r;
}

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	size_t n = kmm::vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	kmm_arch_console_write(line, n < sizeof(line) ? n : sizeof(line) - 1);
}

/* value * 100 / steps, for two decimals without floating point. */
unsigned long centi(uint64_t value, uint32_t steps) { return static_cast<unsigned long>(value * 100 / steps); }

} // namespace

extern "C" int kmm_main(void)
{
	kmm_board_init();
	struct kmm_board_region regions[8];
	size_t n = kmm_board_memory_map(regions, 8);
	for (size_t i = 0; i < n; ++i)
		if (kmm_add_region(regions[i].start, regions[i].size, regions[i].zone) != 0)
			return KMM_EXIT_PANIC;
	if (kmm_init() != 0)
		return KMM_EXIT_PANIC;
	(void)kmalloc_max_cache_size(); /* slab layer up, as in the kernel */

	const uint32_t steps = KMM_BENCH_STEPS;
	Result harness = run<Null>(steps);
	Result real = run<Real>(steps);
	uint64_t net = real.instructions > harness.instructions ? real.instructions - harness.instructions : 0;
	say("bench-slot: allocator %s, %u steps (%lu allocs, %lu frees, %lu failures), 256 slots, 8-512 B\n",
	    KMM_BENCH_NAME, static_cast<unsigned>(steps), real.allocs, real.frees, real.failures);
	say("bench-slot: %s: %lu.%02lu instructions per step incl. the loop; harness alone %lu.%02lu; "
	    "allocator %lu.%02lu (%s)\n",
	    KMM_BENCH_NAME, centi(real.instructions, steps) / 100, centi(real.instructions, steps) % 100,
	    centi(harness.instructions, steps) / 100, centi(harness.instructions, steps) % 100,
	    centi(net, steps) / 100, centi(net, steps) % 100, kmm_board_counter_unit());
	say("{\"bench\": \"slot\", \"allocator\": \"%s\", \"steps\": %u, \"instructions\": %llu, "
	    "\"harness_instructions\": %llu, \"failures\": %lu}\n",
	    KMM_BENCH_NAME, static_cast<unsigned>(steps), static_cast<unsigned long long>(real.instructions),
	    static_cast<unsigned long long>(harness.instructions), real.failures);
	bool ok = real.failures == 0 && kmm_validate() == 0 && kmm_slab_validate() == 0;
	return ok ? KMM_EXIT_OK : KMM_EXIT_TEST_FAILED;
}
