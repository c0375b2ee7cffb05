/*
 * tests/bench/bench_smp.cpp — kmm's slot workload (1024 slots; each step
 * frees the slot's block if it has one, else kmallocs 8…512 bytes and
 * touches both ends; bench_slab.cpp's workload) on 1 and on 2 threads at
 * once, each thread with its own slots, against one kmm built for two CPUs
 * (threads get a CPU slot each: arch/host). Prints steps per second and the
 * 2-thread speedup (the concurrency issue's goal: >= 1.8x). A plain
 * program, not Google Benchmark: it times whole threads.
 *
 *   bench_smp [steps-per-thread]        default 20,000,000
 *   bench_smp --benchmark_min_time=...  (test.sh smoke run: 200,000 steps)
 */
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <kmm/kmm.h>

namespace {

constexpr size_t kArenaBytes = size_t{64} << 20;

struct Xorshift32 {
	uint32_t state;
	uint32_t next()
	{
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		return state;
	}
};

struct Slots {
	static constexpr unsigned kSlots = 1024;
	void *slot[kSlots] = {};
	Xorshift32 rng;

	explicit Slots(uint32_t seed) : rng{seed} {}
	void step()
	{
		uint32_t r = rng.next();
		unsigned i = r % kSlots;
		if (slot[i] != nullptr) {
			kfree(slot[i]);
			slot[i] = nullptr;
			return;
		}
		size_t size = 8 + static_cast<size_t>((uint64_t{r >> 10} * 505) >> 22);
		auto *p = static_cast<unsigned char *>(kmalloc(size, GFP_KERNEL));
		p[0] = 1;
		p[size - 1] = 2;
		slot[i] = p;
	}
	void clear()
	{
		for (void *&p : slot) {
			kfree(p);
			p = nullptr;
		}
	}
};

/* Runs `threads` threads of `steps` steps each; returns the wall time. */
double run(unsigned threads, uint64_t steps)
{
	std::vector<std::thread> pool;
	std::vector<double> seconds(threads);
	for (unsigned t = 0; t < threads; ++t)
		pool.emplace_back([t, steps, &seconds] {
			Slots slots(2463534242u + 7919u * t);
			for (uint64_t i = 0; i < steps / 10; ++i) /* warm up */
				slots.step();
			auto start = std::chrono::steady_clock::now();
			for (uint64_t i = 0; i < steps; ++i)
				slots.step();
			seconds[t] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
			slots.clear();
		});
	for (auto &th : pool)
		th.join();
	double worst = 0;
	for (double s : seconds)
		worst = s > worst ? s : worst;
	return worst;
}

} // namespace

int main(int argc, char **argv)
{
	uint64_t steps = 20000000;
	for (int i = 1; i < argc; ++i) {
		if (std::strncmp(argv[i], "--benchmark_", 12) == 0)
			steps = 200000;
		else
			steps = std::strtoull(argv[i], nullptr, 0);
	}
	size_t align = size_t{PAGE_SIZE} << KMM_MAX_ORDER;
	void *arena = std::aligned_alloc(align, kArenaBytes);
	if (arena == nullptr || kmm_add_region(reinterpret_cast<uintptr_t>(arena), kArenaBytes, KMM_ZONE_NORMAL) != 0 ||
	    kmm_init() != 0) {
		std::fprintf(stderr, "bench_smp: cannot boot kmm\n");
		return 1;
	}
	std::printf("kmm slot workload (1024 slots, 8...512 B), KMM_NR_CPUS=%d, %llu steps per thread\n",
		    KMM_NR_CPUS, static_cast<unsigned long long>(steps));
	std::printf("%-8s %14s %12s %10s\n", "threads", "Msteps/s", "ns/step/thr", "speedup");
	double one = 0;
	for (unsigned threads = 1; threads <= 2; ++threads) {
		double best = 1e30;
		for (int rep = 0; rep < 3; ++rep) {
			double s = run(threads, steps);
			best = s < best ? s : best;
		}
		double rate = static_cast<double>(steps) * threads / best;
		if (threads == 1)
			one = rate;
		std::printf("%-8u %14.1f %12.2f %9.2fx\n", threads, rate / 1e6, best * 1e9 / static_cast<double>(steps),
			    rate / one);
	}
	if (std::getenv("KMM_BENCH_STATS") != nullptr)
		kmm_slabstats([](void *, const char *text, size_t n) { std::fwrite(text, 1, n, stdout); }, nullptr);
	kmm_slab_shrink_all();
	unsigned long problems = kmm_slab_validate();
	if (problems != 0) {
		std::fprintf(stderr, "bench_smp: validate found %lu problems\n", problems);
		return 1;
	}
	return 0;
}
