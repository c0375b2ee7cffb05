/*
 * tests/cross/bench/bench_suite.cpp — the target benchmark suite (issue #7):
 * kmm against newlib's malloc and newlib-nano's malloc on mps2-an385, in
 * otherwise identical images (one per allocator, KMM_BENCH_ALLOCATOR_*).
 * A program that prints figures, never a pass/fail on a number: it exits
 * non-zero only if the instrument is wrong (calibration) or an allocator
 * broke (kmm's validate(), a failure where none may happen).
 *
 * Every allocator gets the same memory: the arena at 0x21000000 (PSRAM),
 * 8 MiB for the speed workloads, `ram` bytes in the utilisation mode — kmm
 * as its only region (its page descriptors are carved from it, as on any
 * board), newlib through _sbrk over exactly that range.
 *
 * Workloads (one op = one alloc or one free; sizes random, fixed seeds):
 *   a-slot256, a-slot1024  slots of 8…512 B, each step frees the slot's
 *                          block or allocates one (random free order)
 *   b-churn<N>             N-byte objects (32, 200) in a pool of 256: free a
 *                          random one, allocate a new one; kmm as kmem_cache
 *                          and as kmalloc
 *   c-frag                 16 B…4 KiB, log-uniform: 1 step in 8 on 256
 *                          long-lived slots, the rest on a 64-slot ring of
 *                          short-lived ones
 *   d-pages                orders 0…4 (kmm alloc_pages, newlib memalign of
 *                          4 KiB << order at 4 KiB alignment), 64 slots
 * For each: the loop with a null allocator (harness), the loop with the
 * allocator (instructions per step incl. the loop), then the same loop with
 * every op bracketed by the counter (bench_probe.h): mean and worst
 * instructions per alloc and per free, the empty bracket subtracted, over
 * the ops of the counted loop only (not the churn pool's fill, nor the
 * free_all() after the loop).
 *
 * Utilisation mode (c-util): workload c where the long-lived objects are
 * never freed, until the first allocation fails; live (requested) bytes at
 * that moment over the arena size, plus the curve of live bytes. Besides
 * the board's kmm (4 KiB pages) there are kmm images with 1 KiB and 256 B
 * pages (named kmm-p1k, kmm-p256), run in this mode only: what a firmware
 * with little RAM would configure.
 *
 * Parameters come from a block QEMU's loader device writes at
 * kParamsAddr (see tools/bench_suite.sh): magic, mode (0 speed, 1 util),
 * scale (steps in 1/1000 of the full run) or the util RAM size in KiB.
 * Without the block: the full speed run.
 */
#include <stddef.h>
#include <stdint.h>

#include <arch/arch.h>
#include <arch/target.h>
#include <kernel/board.h>
#include <kmm/kmm.h>

#include "bench_probe.h"

#if defined(KMM_BENCH_ALLOCATOR_NEWLIB) || defined(KMM_BENCH_ALLOCATOR_NANO)
#define KMM_BENCH_LIBC 1
extern "C" void *malloc(size_t size);
extern "C" void free(void *p);
extern "C" void *memalign(size_t align, size_t size);
extern "C" int malloc_trim(size_t pad);
extern "C" size_t malloc_usable_size(void *p);
#if defined(KMM_BENCH_ALLOCATOR_NEWLIB)
#define KMM_BENCH_NAME "newlib"
#else
#define KMM_BENCH_NAME "newlib-nano"
#endif
#elif defined(KMM_BENCH_ALLOCATOR_KMM) && defined(KMM_BENCH_KMM_VARIANT)
/* kmm with the board's other settings but another page size (boards/
 * CMakeLists.txt, kmm_board_suite_images): utilisation runs only */
#define KMM_BENCH_NAME "kmm-" KMM_BENCH_KMM_VARIANT
#elif defined(KMM_BENCH_ALLOCATOR_KMM)
#define KMM_BENCH_NAME "kmm"
#else
#error "define KMM_BENCH_ALLOCATOR_KMM, _NEWLIB or _NANO"
#endif

using bench::emit;
using bench::emit_ratio;
using bench::OpStat;
using bench::say;

namespace {

constexpr uintptr_t kArena = 0x21000000u;
constexpr size_t kSpeedArenaBytes = size_t{8} << 20;
constexpr uintptr_t kParamsAddr = 0x21ffff00u;
constexpr uint32_t kParamsMagic = 0x424d4d4bu; /* "KMMB" */

struct Params {
	uint32_t magic, mode, arg;
};

uint32_t g_scale = 1000; /* steps in 1/1000 of the full run */
uint32_t steps(uint32_t full) { return full * g_scale / 1000u > 16 ? full * g_scale / 1000u : 16; }

} // namespace

#if defined(KMM_BENCH_LIBC)
/* ---- the arena for newlib: _sbrk over [kArena, kArena + g_heap_bytes) ---- */
namespace {
size_t g_heap_bytes;
size_t g_heap_used;
uint32_t g_sbrk_calls; /* heap growth, the libc "special" op */
} // namespace

extern "C" void *_sbrk(ptrdiff_t increment)
{
	++g_sbrk_calls;
	if (increment < 0 ? static_cast<size_t>(-increment) > g_heap_used
			  : static_cast<size_t>(increment) > g_heap_bytes - g_heap_used)
		return reinterpret_cast<void *>(-1);
	void *old = reinterpret_cast<void *>(kArena + g_heap_used);
	g_heap_used = static_cast<size_t>(static_cast<ptrdiff_t>(g_heap_used) + increment);
	return old;
}
#endif

namespace {

/* ---- allocators: alloc(size) / release(p, size) ----
 * alloc_call / release_call: the same op as a function and its arguments,
 * for the bracketed run (bench::bracket_call: only the call is counted). */
struct Call {
	const void *fn;
	uintptr_t a0, a1;
};
template <typename F> const void *fn_addr(F *f) { return reinterpret_cast<const void *>(f); }
inline uintptr_t word(const void *p) { return reinterpret_cast<uintptr_t>(p); }

#if defined(KMM_BENCH_LIBC)
struct Heap {
	static void *alloc(size_t n) { return malloc(n); }
	static void release(void *p, size_t) { free(p); }
	static Call alloc_call(size_t n) { return {fn_addr(&malloc), n, 0}; }
	static Call release_call(void *p, size_t) { return {fn_addr(&free), word(p), 0}; }
	static size_t usable(void *p) { return malloc_usable_size(p); }
};
struct Pages { /* size = order */
	static void *alloc(size_t order) { return memalign(4096, size_t{4096} << order); }
	static void release(void *p, size_t) { free(p); }
	static Call alloc_call(size_t order) { return {fn_addr(&memalign), 4096, size_t{4096} << order}; }
	static Call release_call(void *p, size_t) { return {fn_addr(&free), word(p), 0}; }
};
/* Something changed at the page level during the op: heap growth. */
struct SpecialProbe {
	uint32_t before = g_sbrk_calls;
	bool changed() const { return g_sbrk_calls != before; }
};
constexpr const char *kSpecialAlloc = "heap_growth";
constexpr const char *kSpecialFree = "heap_trim";
#else
struct Heap {
	static void *alloc(size_t n) { return kmalloc(n, GFP_KERNEL); }
	static void release(void *p, size_t) { kfree(p); }
	static Call alloc_call(size_t n) { return {fn_addr(&kmalloc), n, static_cast<uintptr_t>(GFP_KERNEL)}; }
	static Call release_call(void *p, size_t) { return {fn_addr(&kfree), word(p), 0}; }
	static size_t usable(void *p) { return ksize(p); }
};
struct Cache {
	struct kmem_cache *s;
	void *alloc(size_t) const { return kmem_cache_alloc(s, GFP_KERNEL); }
	void release(void *p, size_t) const { kmem_cache_free(s, p); }
	Call alloc_call(size_t) const
	{
		return {fn_addr(&kmem_cache_alloc), word(s), static_cast<uintptr_t>(GFP_KERNEL)};
	}
	Call release_call(void *p, size_t) const { return {fn_addr(&kmem_cache_free), word(s), word(p)}; }
};
struct Pages {
	static void *alloc(size_t order) { return alloc_pages(GFP_KERNEL, static_cast<unsigned>(order)); }
	static void release(void *p, size_t order)
	{
		__free_pages(static_cast<struct page *>(p), static_cast<unsigned>(order));
	}
	static Call alloc_call(size_t order) { return {fn_addr(&alloc_pages), static_cast<uintptr_t>(GFP_KERNEL), order}; }
	static Call release_call(void *p, size_t order) { return {fn_addr(&__free_pages), word(p), order}; }
};
/* The op went to the buddy allocator: a new slab (alloc) or a slab given
 * back (free). Page-workload ops always do; there it is not reported. */
struct SpecialProbe {
	size_t before = kmm_free_pages();
	bool changed() const { return kmm_free_pages() != before; }
};
constexpr const char *kSpecialAlloc = "new_slab";
constexpr const char *kSpecialFree = "slab_release";
#endif

/* The harness alone: no allocation, a fixed block per size. */
unsigned char g_null_blocks[2][4096];
struct Null {
	static void *alloc(size_t n) { return g_null_blocks[n & 1]; }
	static void release(void *p, size_t) { __asm__ volatile("" : : "r"(p) : "memory"); }
};

/* ---- how each op is issued: plainly, or bracketed by the counter ---- */

template <typename A> struct Plain {
	A &a;
	void *alloc(size_t n) { return a.alloc(n); }
	void release(void *p, size_t n) { a.release(p, n); }
	void recording(bool) {}
};

uint32_t g_empty_bracket; /* ticks */

template <typename A> struct Timed {
	A &a;
	OpStat alloc_stat{}, free_stat{};
	bool classify = true;
	/* Only the ops of the counted loop go into the statistics, as into
	 * "per op incl. the loop": not the churn pool's fill before it, nor
	 * free_all() after it (index order, where slabs are given back). */
	bool record = false;
	void recording(bool on) { record = on; }
	__attribute__((noinline)) void *alloc(size_t n)
	{
		if (!record)
			return a.alloc(n);
		Call c = a.alloc_call(n);
		SpecialProbe probe;
		bench::Bracketed b = bench::bracket_call(c.fn, c.a0, c.a1);
		alloc_stat.add(net(b.ticks), classify && probe.changed());
		return reinterpret_cast<void *>(b.ret);
	}
	__attribute__((noinline)) void release(void *p, size_t n)
	{
		if (!record) {
			a.release(p, n);
			return;
		}
		Call c = a.release_call(p, n);
		SpecialProbe probe;
		bench::Bracketed b = bench::bracket_call(c.fn, c.a0, c.a1);
		free_stat.add(net(b.ticks), classify && probe.changed());
	}
	static uint32_t net(uint32_t d)
	{
		uint64_t insn = bench::ticks_to_instructions(d);
		uint64_t empty = bench::ticks_to_instructions(g_empty_bracket);
		return static_cast<uint32_t>(insn > empty ? insn - empty : 0);
	}
};

/* ---- workloads ---- */

struct Rng {
	uint32_t x;
	uint32_t next()
	{
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		return x;
	}
};

struct Run {
	uint32_t ticks;
	uint32_t steps;
	unsigned long allocs, frees, failures;
	unsigned long ops() const { return allocs + frees + failures; }
};

constexpr unsigned kMaxSlots = 1024;
void *g_slot[kMaxSlots];
uint32_t g_slot_size[kMaxSlots];

template <typename Op> void free_all(Op &op, unsigned n)
{
	for (unsigned i = 0; i < n; ++i) {
		if (g_slot[i] != nullptr)
			op.release(g_slot[i], g_slot_size[i]);
		g_slot[i] = nullptr;
	}
}

/* Operation counts of a run, kept in locals by the loop (registers, not
 * stores through the returned Run: the harness is part of the "per op incl.
 * the loop" figure, so it stays lean). */
struct Counts {
	unsigned long allocs = 0, frees = 0, failures = 0;
};

/* One step on slot i: free its block, or allocate `size` into it and touch
 * the first and last byte (touch = false for pages). kKeepSize: remember
 * the size for release (pages: the order); kmalloc, malloc and kmem_cache
 * frees do not need it. */
template <bool kKeepSize, typename Op>
inline void slot_step(Op &op, Counts &n, unsigned i, uint32_t size, bool touch)
{
	void *&slot = g_slot[i];
	if (slot != nullptr) {
		op.release(slot, kKeepSize ? g_slot_size[i] : 0);
		slot = nullptr;
		++n.frees;
		return;
	}
	unsigned char *p = static_cast<unsigned char *>(op.alloc(size));
	if (p == nullptr) {
		++n.failures;
		return;
	}
	if (touch) {
		p[0] = 1;
		p[size - 1] = 2;
	}
	slot = p;
	if (kKeepSize)
		g_slot_size[i] = size;
	++n.allocs;
}

/* 8 … 512 from 16 random bits, by multiply and shift (no division). */
inline uint32_t slot_size(uint32_t bits16) { return 8 + ((bits16 * 505u) >> 16); }

/* 16 B … 4095 B, log-uniform by octave. */
inline uint32_t frag_size(uint32_t x)
{
	uint32_t lo = 16u << (x & 7);
	return lo + (x >> 3) % lo;
}

enum class Kind { kSlot, kChurn, kFrag, kPages };

struct Workload {
	const char *name;
	Kind kind;
	unsigned slots;
	uint32_t size;      /* churn: object size */
	uint32_t full_steps;
};

/* The loop of every workload, specialised per kind so the harness stays
 * lean (it is part of the "per op incl. the loop" figure). */
template <Kind K, typename Op> __attribute__((noinline)) Run run_kind(const Workload &w, Op &op)
{
	Run r = {};
	Counts n;
	Rng rng{0x2545f491u};
	const uint32_t steps_n = steps(w.full_steps);
	const unsigned mask = w.slots - 1;
	const uint32_t size = w.size;
	constexpr bool kKeepSize = K == Kind::kPages;
	if (K == Kind::kChurn) { /* fill the pool first, outside the count */
		for (unsigned i = 0; i < w.slots; ++i)
			slot_step<kKeepSize>(op, n, i, size, true);
		n.allocs = 0;
	}
	op.recording(true);
	const uint32_t t0 = bench::ticks();
	for (uint32_t step = 0; step < steps_n; ++step) {
		uint32_t x = rng.next();
		if constexpr (K == Kind::kSlot) {
			slot_step<kKeepSize>(op, n, x & mask, slot_size((x >> 8) & 0xffff), true);
		} else if constexpr (K == Kind::kChurn) { /* free a random object, allocate its successor */
			slot_step<kKeepSize>(op, n, x & mask, size, true);
			slot_step<kKeepSize>(op, n, x & mask, size, true);
		} else if constexpr (K == Kind::kFrag) {
			/* slots 0..255 long-lived (1 step in 8), 256..319 a ring of
			 * short-lived ones (each lives one lap of the ring) */
			unsigned i = (x & 7) == 0 ? (x >> 3) & 255 : 256 + (step & 63);
			slot_step<kKeepSize>(op, n, i, frag_size(x >> 11), true);
		} else {
			slot_step<kKeepSize>(op, n, x & mask, (x >> 8) % 5, false);
		}
	}
	r.ticks = bench::ticks() - t0;
	op.recording(false);
	r.steps = steps_n;
	r.allocs = n.allocs;
	r.frees = n.frees;
	r.failures = n.failures;
	free_all(op, kMaxSlots); /* sizes are stale unless kKeepSize; only pages read them */
	return r;
}

/* Give cached memory back before each run, so every run starts the same way
 * and the timed one sees the page-level ops (new slabs, heap growth). */
void release_cached_memory()
{
#if defined(KMM_BENCH_ALLOCATOR_NEWLIB)
	malloc_trim(0);
#elif !defined(KMM_BENCH_LIBC)
	kmm_slab_shrink_all();
	kmm_drain_pages();
#endif
}

template <typename Op> Run run(const Workload &w, Op &op)
{
	release_cached_memory();
	switch (w.kind) {
	case Kind::kSlot:
		return run_kind<Kind::kSlot>(w, op);
	case Kind::kChurn:
		return run_kind<Kind::kChurn>(w, op);
	case Kind::kFrag:
		return run_kind<Kind::kFrag>(w, op);
	case Kind::kPages:
		break;
	}
	return run_kind<Kind::kPages>(w, op);
}

template <typename A> void measure(const Workload &w, A &a)
{
	Null null;
	Plain<Null> harness{null};
	Plain<A> plain{a};
	Timed<A> timed{a};
#if !defined(KMM_BENCH_LIBC)
	timed.classify = w.kind != Kind::kPages; /* every page op is a page op */
#endif
	Run h = run(w, harness);
	Run p = run(w, plain);
	Run t = run(w, timed);

	const char *name = w.name;
	uint64_t total = bench::ticks_to_instructions(p.ticks);
	uint64_t loop = bench::ticks_to_instructions(h.ticks);
	emit(name, KMM_BENCH_NAME, "ops", p.ops());
	emit(name, KMM_BENCH_NAME, "failures", p.failures + t.failures);
	emit_ratio(name, KMM_BENCH_NAME, "per_op_incl_loop", total, p.ops());
	emit_ratio(name, KMM_BENCH_NAME, "per_op_harness", loop, h.ops());
	emit_ratio(name, KMM_BENCH_NAME, "per_op_allocator", total > loop ? total - loop : 0, p.ops());
	timed.alloc_stat.emit_all(name, KMM_BENCH_NAME, "alloc", kSpecialAlloc);
	timed.free_stat.emit_all(name, KMM_BENCH_NAME, "free", kSpecialFree);
	say("bench: %-12s %-11s %6lu allocs %6lu frees: %llu instr/op incl. loop (harness %llu); "
	    "alloc mean %llu worst %u, free mean %llu worst %u\n",
	    name, KMM_BENCH_NAME, t.allocs, t.frees, static_cast<unsigned long long>(total / p.ops()),
	    static_cast<unsigned long long>(loop / h.ops()),
	    static_cast<unsigned long long>(timed.alloc_stat.n ? timed.alloc_stat.sum / timed.alloc_stat.n : 0),
	    static_cast<unsigned>(timed.alloc_stat.max),
	    static_cast<unsigned long long>(timed.free_stat.n ? timed.free_stat.sum / timed.free_stat.n : 0),
	    static_cast<unsigned>(timed.free_stat.max));
}

/* Bytes one object of n bytes takes: the smallest distance between the
 * addresses of 24 consecutive allocations (header, rounding, class size). */
template <typename A> uint32_t footprint(A &a, uint32_t n)
{
	constexpr unsigned k = 24;
	void *p[k];
	for (unsigned i = 0; i < k; ++i)
		p[i] = a.alloc(n);
	uint32_t best = ~0u;
	for (unsigned i = 0; i < k; ++i)
		for (unsigned j = 0; j < k; ++j) {
			uintptr_t pi = reinterpret_cast<uintptr_t>(p[i]), pj = reinterpret_cast<uintptr_t>(p[j]);
			if (p[i] != nullptr && p[j] != nullptr && pj > pi && pj - pi < best)
				best = static_cast<uint32_t>(pj - pi);
		}
	for (unsigned i = 0; i < k; ++i)
		if (p[i] != nullptr)
			a.release(p[i], n);
	return best;
}

void footprints()
{
	static const uint32_t sizes[] = {8, 16, 24, 32, 48, 64, 100, 128, 200, 256, 500, 512, 1000, 1024, 2000, 2048, 4000};
	Heap heap;
	for (uint32_t n : sizes) {
		char metric[32];
		kmm::format(metric, sizeof(metric), "bytes_per_object_%u", static_cast<unsigned>(n));
		emit("footprint", KMM_BENCH_NAME, metric, footprint(heap, n));
	}
}

/* ---- utilisation at first failure (workload c, long-lived never freed) ---- */

constexpr unsigned kLongMax = 16384;
constexpr unsigned kRing = 64;
void *g_long[kLongMax];
constexpr unsigned kCurvePoints = 64;

int utilisation(size_t ram)
{
	char workload[32];
	kmm::format(workload, sizeof(workload), "c-util-%uk", static_cast<unsigned>(ram >> 10));
	Heap heap;
	Rng rng{0x9e3779b9u};
	uint64_t live = 0, peak = 0, usable = 0; /* usable: what the allocator reserved for them */
	unsigned nlong = 0;
	uint32_t op = 0;
	uint32_t curve_op[kCurvePoints * 2], curve_live[kCurvePoints * 2];
	unsigned ncurve = 0, every = 16;
	bool failed = false;
	for (uint32_t step = 0; !failed && nlong < kLongMax; ++step) {
		uint32_t x = rng.next();
		uint32_t size = frag_size(x >> 11);
		unsigned i = step % kRing;
		bool long_lived = (x & 3) == 0;
		if (!long_lived && g_slot[i] != nullptr) { /* the ring slot's object dies */
			usable -= heap.usable(g_slot[i]);
			heap.release(g_slot[i], g_slot_size[i]);
			live -= g_slot_size[i];
			g_slot[i] = nullptr;
			++op;
		}
		void *p = heap.alloc(size);
		++op;
		if (p == nullptr) {
			failed = true;
			break;
		}
		static_cast<unsigned char *>(p)[size - 1] = 1;
		live += size;
		usable += heap.usable(p);
		if (live > peak)
			peak = live;
		if (long_lived) {
			g_long[nlong++] = p;
		} else {
			g_slot[i] = p;
			g_slot_size[i] = size;
		}
		if (op % every == 0) {
			if (ncurve == kCurvePoints * 2) { /* halve the resolution */
				for (unsigned j = 0; j < kCurvePoints; ++j) {
					curve_op[j] = curve_op[2 * j + 1];
					curve_live[j] = curve_live[2 * j + 1];
				}
				ncurve = kCurvePoints;
				every *= 2;
			}
			if (op % every == 0) {
				curve_op[ncurve] = op;
				curve_live[ncurve++] = static_cast<uint32_t>(live);
			}
		}
	}
	emit(workload, KMM_BENCH_NAME, "ram_bytes", ram);
	emit(workload, KMM_BENCH_NAME, "ops_to_first_failure", op);
	emit(workload, KMM_BENCH_NAME, "live_bytes_at_first_failure", live);
	emit(workload, KMM_BENCH_NAME, "usable_bytes_at_first_failure", usable);
	emit(workload, KMM_BENCH_NAME, "long_lived_objects", nlong);
	emit_ratio(workload, KMM_BENCH_NAME, "utilization_pct", live * 100, ram);
	for (unsigned j = 0; j < ncurve; ++j)
		say("BENCH {\"workload\": \"%s\", \"allocator\": \"%s\", \"metric\": \"live_bytes_at_op\", "
		    "\"x\": %u, \"value\": %u}\n",
		    workload, KMM_BENCH_NAME, static_cast<unsigned>(curve_op[j]), static_cast<unsigned>(curve_live[j]));
	say("bench: %s %s: first failure after %u ops, live %llu of %u bytes\n", workload, KMM_BENCH_NAME,
	    static_cast<unsigned>(op), static_cast<unsigned long long>(live), static_cast<unsigned>(ram));
	return failed ? KMM_EXIT_OK : KMM_EXIT_TEST_FAILED;
}

#if !defined(KMM_BENCH_LIBC)
/* Metadata: page descriptors per managed page, the slab layer's own pages,
 * and every cache's layout (slabinfo lines, read by bench_report.py). */
void memory_figures(size_t slab_boot_pages)
{
	size_t managed = kmm_managed_pages();
	emit("memory", KMM_BENCH_NAME, "page_size", PAGE_SIZE);
	emit("memory", KMM_BENCH_NAME, "managed_pages", managed);
	emit("memory", KMM_BENCH_NAME, "memmap_bytes", kmm_memmap_bytes());
	emit_ratio("memory", KMM_BENCH_NAME, "memmap_bytes_per_page", kmm_memmap_bytes(), managed);
	emit("memory", KMM_BENCH_NAME, "slab_boot_bytes", slab_boot_pages * PAGE_SIZE);
	kmm_slabinfo([](void *, const char *text, size_t len) {
		/* one line per call or several: prefix each line */
		size_t start = 0;
		for (size_t i = 0; i < len; ++i)
			if (text[i] == '\n') {
				kmm_arch_console_write("SLABINFO ", 9);
				kmm_arch_console_write(text + start, i + 1 - start);
				start = i + 1;
			}
	}, nullptr);
}
#endif

int speed()
{
	if (!bench::calibrate())
		return KMM_EXIT_TEST_FAILED;
	g_empty_bracket = bench::empty_bracket_ticks();
	if (!bench::check_bracket(g_empty_bracket))
		return KMM_EXIT_TEST_FAILED;
	emit("bracket", KMM_BENCH_NAME, "empty_bracket_instructions", bench::ticks_to_instructions(g_empty_bracket));

	static const Workload slot[] = {
		{"a-slot256", Kind::kSlot, 256, 0, 200000},
		{"a-slot1024", Kind::kSlot, 1024, 0, 200000},
	};
	static const Workload churn[] = {
		{"b-churn32", Kind::kChurn, 256, 32, 100000},
		{"b-churn200", Kind::kChurn, 256, 200, 100000},
	};
	static const Workload frag = {"c-frag", Kind::kFrag, 320, 0, 200000};
	static const Workload pages = {"d-pages", Kind::kPages, 64, 0, 50000};

	Heap heap;
	for (const Workload &w : slot)
		measure(w, heap);
#if defined(KMM_BENCH_LIBC)
	for (const Workload &w : churn)
		measure(w, heap);
#else
	for (const Workload &w : churn) {
		Workload k = w;
		char name[32];
		kmm::format(name, sizeof(name), "%s-kmalloc", w.name);
		k.name = name;
		measure(k, heap);
		Cache cache{kmem_cache_create(w.name, w.size, 0, 0, nullptr)};
		if (cache.s == nullptr)
			return KMM_EXIT_TEST_FAILED;
		measure(w, cache);
		kmem_cache_info info;
		if (kmem_cache_get_info(cache.s, &info) == 0) {
			emit(w.name, "kmm", "cache_object_size", info.object_size);
			emit(w.name, "kmm", "cache_stride", info.size);
			emit(w.name, "kmm", "cache_objects_per_slab", info.objects_per_slab);
			emit(w.name, "kmm", "cache_pages_per_slab", info.pages_per_slab);
		}
		kmem_cache_destroy(cache.s);
	}
#endif
	measure(frag, heap);
	Pages page_alloc;
	measure(pages, page_alloc);
	footprints();
	return KMM_EXIT_OK;
}

} // namespace

extern "C" int kmm_main(void)
{
	kmm_board_init();
	const volatile Params *params = reinterpret_cast<const volatile Params *>(kParamsAddr);
	Params prm = {};
	if (params->magic == kParamsMagic) {
		prm.magic = params->magic;
		prm.mode = params->mode;
		prm.arg = params->arg;
	}
	bool util = prm.magic == kParamsMagic && prm.mode == 1;
	if (prm.magic == kParamsMagic && prm.mode == 0 && prm.arg != 0)
		g_scale = prm.arg;
	size_t arena = util ? size_t{prm.arg} << 10 : kSpeedArenaBytes;
	say("bench: allocator %s, %s, arena %u KiB at %#lx, scale %u/1000\n", KMM_BENCH_NAME,
	    util ? "utilisation at first failure" : "speed", static_cast<unsigned>(arena >> 10),
	    static_cast<unsigned long>(kArena), static_cast<unsigned>(g_scale));

#if defined(KMM_BENCH_LIBC)
	g_heap_bytes = arena;
	int status = util ? utilisation(arena) : speed();
	say("bench: done, exit status %d\n", status);
	return status;
#else
	if (kmm_add_region(kArena, arena, KMM_ZONE_NORMAL) != 0 || kmm_init() != 0)
		return KMM_EXIT_PANIC;
	size_t free_before_slab = kmm_free_pages();
	(void)kmalloc_max_cache_size(); /* slab layer up, as in the kernel */
	size_t slab_boot_pages = free_before_slab - kmm_free_pages();
	int status = util ? utilisation(arena) : speed();
	if (!util)
		memory_figures(slab_boot_pages);
	if (util) { /* everything that is not long-lived is freed; validate */
		for (unsigned i = 0; i < kRing; ++i)
			if (g_slot[i] != nullptr)
				kfree(g_slot[i]);
		for (void *p : g_long)
			if (p != nullptr)
				kfree(p);
	}
	if (kmm_validate() != 0 || kmm_slab_validate() != 0)
		status = KMM_EXIT_TEST_FAILED;
	say("bench: done, exit status %d\n", status);
	return status;
#endif
}
