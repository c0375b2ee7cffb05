/*
 * tests/bench/bench_slab.cpp — the slab layer against glibc malloc in one
 * binary: a kmem_cache alloc+free pair, kmalloc+kfree pairs at 16/64/256/
 * 1024 bytes, and a slot workload (1024 slots; each step picks a slot with a
 * fixed-seed xorshift PRNG and frees it if occupied, else allocates 8…512
 * random bytes into it, touching the first and last byte).
 *
 *   bench_slab [google-benchmark flags]      ns/op, side by side
 *   bench_slab --count <mode> <n>            n operations of one mode and
 *                                            nothing else, for callgrind:
 *                                            run two n and divide the
 *                                            instruction delta (setup cancels)
 *   modes: kmem_cache, kmalloc16, kmalloc64, kmalloc256, kmalloc1024,
 *          malloc16, malloc64, malloc256, malloc1024, slot_kmm, slot_glibc,
 *          slot_harness (the workload with a null allocator)
 * See tests/bench/slab_instructions.sh and docs/SLAB.md.
 */
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <kmm/kmm.h>

namespace {

constexpr size_t kArenaBytes = size_t{64} << 20;
struct kmem_cache *g_cache;

void boot_kmm()
{
	size_t align = size_t{PAGE_SIZE} << KMM_MAX_ORDER;
	void *arena = std::aligned_alloc(align, kArenaBytes);
	if (arena == nullptr || kmm_add_region(reinterpret_cast<uintptr_t>(arena), kArenaBytes, KMM_ZONE_NORMAL) != 0 ||
	    kmm_init() != 0) {
		std::fprintf(stderr, "bench_slab: cannot boot kmm\n");
		std::exit(1);
	}
	g_cache = kmem_cache_create("bench-64", 64, 0, 0, nullptr);
	/* warm every path once so the first measured op is no slab creation */
	for (size_t size = 8; size <= 1024; size *= 2)
		kfree(kmalloc(size, GFP_KERNEL));
	kmem_cache_free(g_cache, kmem_cache_alloc(g_cache, GFP_KERNEL));
}

inline void escape(void *p) { asm volatile("" : : "g"(p) : "memory"); }

/* ---- the slot workload, shared by both allocators ---- */

struct Xorshift32 {
	uint32_t state = 2463534242u;
	uint32_t next()
	{
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		return state;
	}
};

struct KmmAlloc {
	static void *alloc(size_t n) { return kmalloc(n, GFP_KERNEL); }
	static void release(void *p) { kfree(p); }
};
struct GlibcAlloc {
	static void *alloc(size_t n) { return std::malloc(n); }
	static void release(void *p) { std::free(p); }
};
/* The harness alone: a fixed block per slot, nothing allocated. */
struct NullAlloc {
	static inline unsigned char blocks[1024][512];
	static inline unsigned next = 0;
	static void *alloc(size_t) { return blocks[next++ % 1024]; }
	static void release(void *p) { escape(p); }
};

template <typename A> struct Slots {
	static constexpr unsigned kSlots = 1024;
	void *slot[kSlots] = {};
	Xorshift32 rng;

	inline void step()
	{
		uint32_t r = rng.next();
		unsigned i = r % kSlots;
		if (slot[i] != nullptr) {
			A::release(slot[i]);
			slot[i] = nullptr;
			return;
		}
		/* 8 ... 512 from the upper 22 bits by multiply-shift (no division) */
		size_t size = 8 + static_cast<size_t>((uint64_t{r >> 10} * 505) >> 22);
		auto *p = static_cast<unsigned char *>(A::alloc(size));
		p[0] = 1;
		p[size - 1] = 2;
		slot[i] = p;
	}
	void clear()
	{
		for (void *&p : slot) {
			A::release(p);
			p = nullptr;
		}
	}
};

/* ---- Google Benchmark ---- */

void BM_kmem_cache_pair(benchmark::State &state)
{
	for (auto _ : state) {
		void *p = kmem_cache_alloc(g_cache, GFP_KERNEL);
		benchmark::DoNotOptimize(p);
		kmem_cache_free(g_cache, p);
	}
}
BENCHMARK(BM_kmem_cache_pair);

void BM_malloc_pair_64(benchmark::State &state)
{
	for (auto _ : state) {
		void *p = std::malloc(64);
		benchmark::DoNotOptimize(p);
		std::free(p);
	}
}
BENCHMARK(BM_malloc_pair_64);

void BM_kmalloc_pair(benchmark::State &state)
{
	size_t size = static_cast<size_t>(state.range(0));
	for (auto _ : state) {
		void *p = kmalloc(size, GFP_KERNEL);
		benchmark::DoNotOptimize(p);
		kfree(p);
	}
}
BENCHMARK(BM_kmalloc_pair)->Arg(16)->Arg(64)->Arg(256)->Arg(1024);

void BM_malloc_pair(benchmark::State &state)
{
	size_t size = static_cast<size_t>(state.range(0));
	for (auto _ : state) {
		void *p = std::malloc(size);
		benchmark::DoNotOptimize(p);
		std::free(p);
	}
}
BENCHMARK(BM_malloc_pair)->Arg(16)->Arg(64)->Arg(256)->Arg(1024);

template <typename A> void BM_slots(benchmark::State &state)
{
	static Slots<A> slots; /* same seed, same sequence for both allocators */
	slots = Slots<A>{};
	for (auto _ : state)
		slots.step();
	slots.clear();
}
void BM_slot_workload_kmm(benchmark::State &state) { BM_slots<KmmAlloc>(state); }
void BM_slot_workload_glibc(benchmark::State &state) { BM_slots<GlibcAlloc>(state); }
void BM_slot_workload_harness(benchmark::State &state) { BM_slots<NullAlloc>(state); }
BENCHMARK(BM_slot_workload_kmm);
BENCHMARK(BM_slot_workload_glibc);
BENCHMARK(BM_slot_workload_harness);

/* ---- --count mode ---- */

template <typename Fn> void repeat(unsigned long n, Fn fn)
{
	for (unsigned long i = 0; i < n; ++i)
		fn();
}

int count_mode(const std::string &mode, unsigned long n)
{
	auto pair_kmalloc = [n](size_t size) {
		repeat(n, [size] {
			void *p = kmalloc(size, GFP_KERNEL);
			escape(p);
			kfree(p);
		});
	};
	auto pair_malloc = [n](size_t size) {
		repeat(n, [size] {
			void *p = std::malloc(size);
			escape(p);
			std::free(p);
		});
	};
	if (mode == "kmem_cache") {
		repeat(n, [] {
			void *p = kmem_cache_alloc(g_cache, GFP_KERNEL);
			escape(p);
			kmem_cache_free(g_cache, p);
		});
	} else if (mode.rfind("kmalloc", 0) == 0) {
		pair_kmalloc(std::strtoul(mode.c_str() + 7, nullptr, 10));
	} else if (mode.rfind("malloc", 0) == 0) {
		pair_malloc(std::strtoul(mode.c_str() + 6, nullptr, 10));
	} else if (mode == "slot_kmm") {
		static Slots<KmmAlloc> s;
		repeat(n, [] { s.step(); });
	} else if (mode == "slot_glibc") {
		static Slots<GlibcAlloc> s;
		repeat(n, [] { s.step(); });
	} else if (mode == "slot_harness") {
		static Slots<NullAlloc> s;
		repeat(n, [] { s.step(); });
	} else {
		std::fprintf(stderr, "bench_slab: unknown mode %s\n", mode.c_str());
		return 2;
	}
	if (std::getenv("KMM_BENCH_STATS") != nullptr)
		kmm_slabstats([](void *, const char *text, size_t len) { std::fwrite(text, 1, len, stderr); }, nullptr);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	boot_kmm();
	if (argc == 4 && std::strcmp(argv[1], "--count") == 0)
		return count_mode(argv[2], std::strtoul(argv[3], nullptr, 0));
	benchmark::Initialize(&argc, argv);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	if (kmm_slab_validate() != 0 || kmm_bug_count() != 0) {
		std::fprintf(stderr, "bench_slab: allocator state is inconsistent\n");
		return 1;
	}
	return 0;
}
