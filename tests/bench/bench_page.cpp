/*
 * tests/bench/bench_page.cpp — figures for the buddy page allocator.
 *
 * Google Benchmark (ns per operation) over the public C API on the global
 * instance, which is what firmware calls:
 *   Order0PairSteady    alloc_page + __free_page where the page's buddy is
 *                       in use: alloc pops the order-0 list, free pushes it
 *                       back without merging (the common case);
 *   Order0PairPristine  the zone holds only max-order blocks: alloc splits
 *                       one all the way down, free merges all the way up;
 *   Order3PairSteady    the same as the first for order 3;
 *   RandomOrders        orders 0..4 from a fixed-seed PRNG over a working
 *                       set of 256 slots: each op frees a held block or
 *                       allocates a new one (one op = one call).
 *
 * Instruction counts: `bench_page --count <mode> <n>` runs n operations of a
 * mode (steady | pristine | order3 | random) after the same setup and exits,
 * for `valgrind --tool=callgrind`; (Ir(2n) - Ir(n)) / n is the cost of one
 * operation with the setup cancelled out. See docs/PAGE_ALLOC.md.
 */
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <kmm/kmm.h>

#include "global.h"
#include "support/arena.h"

namespace {

constexpr size_t kPage = PAGE_SIZE;
constexpr size_t kBlock = kPage << KMM_MAX_ORDER;
constexpr size_t kBlocks = 8;
constexpr size_t kSlots = 256;

/* The global allocator over 8 max-order blocks (plus room for the memmap). */
class Setup {
public:
	Setup() : arena_((kBlocks + 1) * kBlock, kBlock)
	{
		kmm_shutdown();
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		if (kmm_add_region(arena_.base(), (kBlocks + 1) * kBlock, KMM_ZONE_NORMAL) != 0 || kmm_init() != 0) {
			std::fprintf(stderr, "bench_page: kmm_init failed\n");
			std::exit(1);
		}
	}
	~Setup()
	{
		for (const auto &h : held_)
			__free_pages(h.first, h.second);
		kmm_shutdown();
	}
	void hold(struct page *p, unsigned order) { held_.emplace_back(p, order); }
	/* Takes every free block below the maximum order: what is left are
	 * whole max-order blocks. */
	void drain_below_max()
	{
		for (unsigned o = 0; o < KMM_MAX_ORDER; ++o) {
			size_t blocks[KMM_NR_ORDERS];
			kmm::global_pages().free_blocks(KMM_ZONE_NORMAL, blocks);
			for (size_t n = blocks[o]; n > 0; --n)
				hold(alloc_pages(GFP_KERNEL, o), o);
		}
	}

private:
	kmm_test::Arena arena_;
	std::vector<std::pair<struct page *, unsigned>> held_;
};

/* The loops measured, shared by the benchmarks and the --count mode. */
__attribute__((noinline)) void pairs(uint64_t n, unsigned order)
{
	for (uint64_t i = 0; i < n; ++i) {
		struct page *p = alloc_pages(GFP_KERNEL, order);
		benchmark::DoNotOptimize(p);
		__free_pages(p, order);
	}
}

struct RandomOps {
	kmm_test::Rng rng{0x5eed};
	struct page *slot_page[kSlots] = {};
	unsigned slot_order[kSlots] = {};

	__attribute__((noinline)) void run(uint64_t n)
	{
		for (uint64_t i = 0; i < n; ++i) {
			uint64_t r = rng.next();
			size_t s = r % kSlots;
			if (slot_page[s] != nullptr) {
				__free_pages(slot_page[s], slot_order[s]);
				slot_page[s] = nullptr;
			} else {
				unsigned order = static_cast<unsigned>((r >> 32) % 5);
				slot_page[s] = alloc_pages(GFP_KERNEL, order);
				slot_order[s] = order;
			}
		}
	}
	void release()
	{
		for (size_t s = 0; s < kSlots; ++s)
			if (slot_page[s] != nullptr)
				__free_pages(slot_page[s], slot_order[s]);
	}
};

/* Steady state: with only max-order blocks left, hold one block of the
 * order (split from a max block); its buddy is then the block the pair
 * takes and gives back, never merging. */
void prepare_steady(Setup &setup, unsigned order)
{
	setup.drain_below_max();
	setup.hold(alloc_pages(GFP_KERNEL, order), order);
}

void BM_Order0PairSteady(benchmark::State &state)
{
	Setup setup;
	prepare_steady(setup, 0);
	for (auto _ : state)
		pairs(1, 0);
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Order0PairSteady);

void BM_Order0PairPristine(benchmark::State &state)
{
	Setup setup;
	setup.drain_below_max();
	for (auto _ : state)
		pairs(1, 0);
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Order0PairPristine);

void BM_Order3PairSteady(benchmark::State &state)
{
	Setup setup;
	prepare_steady(setup, 3);
	for (auto _ : state)
		pairs(1, 3);
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Order3PairSteady);

void BM_RandomOrders(benchmark::State &state)
{
	Setup setup;
	RandomOps ops;
	ops.run(100000); /* reach a steady working set first */
	for (auto _ : state)
		ops.run(1);
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
	ops.release();
}
BENCHMARK(BM_RandomOrders);

int count_mode(const char *mode, uint64_t n)
{
	Setup setup;
	if (std::strcmp(mode, "steady") == 0) {
		prepare_steady(setup, 0);
		pairs(n, 0);
	} else if (std::strcmp(mode, "pristine") == 0) {
		setup.drain_below_max();
		pairs(n, 0);
	} else if (std::strcmp(mode, "order3") == 0) {
		prepare_steady(setup, 3);
		pairs(n, 3);
	} else if (std::strcmp(mode, "random") == 0) {
		RandomOps ops;
		ops.run(100000);
		ops.run(n);
		ops.release();
	} else {
		std::fprintf(stderr, "bench_page: unknown mode %s (steady | pristine | order3 | random)\n", mode);
		return 2;
	}
	if (kmm_validate() != 0 || kmm_bug_count() != 0) {
		std::fprintf(stderr, "bench_page: allocator state is not clean\n");
		return 1;
	}
	std::printf("bench_page: %s x %llu done\n", mode, static_cast<unsigned long long>(n));
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc == 4 && std::strcmp(argv[1], "--count") == 0)
		return count_mode(argv[2], std::strtoull(argv[3], nullptr, 0));
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
