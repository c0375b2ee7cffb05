/*
 * tests/host/test_oom_smp.cpp — allocation failures on the 4-CPU build
 * (KMM_NR_CPUS=4, host threads standing in for CPUs; mm with
 * KMM_FAULT_INJECT=1): threads churn kmalloc, a cache, bulk calls,
 * krealloc and pages (some with IRQs masked, GFP_ATOMIC), handing objects
 * to each other (remote frees), while
 * every 5th page request fails. Every NULL must be an injected failure's,
 * every object keeps its contents, and at the end, everything freed and
 * shrunk, both layers validate and no page is missing.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <arch/arch.h>
#include <kmm/kmm.h>

#include "support/fault_walk.h"

namespace {

using kmm_test::FaultMode;
using kmm_test::FaultWalk;
using kmm_test::WalkParam;

struct Held {
	enum Kind { kKmalloc, kCache, kPages } kind;
	void *p;
	size_t size; /* bytes filled (kPages: the order) */
	unsigned char tag;
};

class OomSmp : public FaultWalk {};

TEST_P(OomSmp, ThreadsUnderInjectedFailures)
{
	constexpr unsigned kThreads = 4;
	const unsigned iterations = static_cast<unsigned>(kmm_test::env_u64("KMM_OOM_SMP_ITERS", 1500));
	const uint64_t seed = kmm_test::test_seed(0x00a11c0f);
	std::printf("seed %#llx\n", static_cast<unsigned long long>(seed));
	boot();
	kmem_cache *s = kmem_cache_create("oom-smp", 72, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	std::mutex exchange_lock;
	std::vector<Held> exchange; /* objects one thread leaves for another to free */
	std::atomic<unsigned long> unexplained{0}, corrupt{0}, nulls{0};

	auto fill_obj = [](Held &h) { std::memset(h.p, h.tag, h.size); };
	auto check_free = [&](const Held &h) {
		if (h.kind == Held::kPages) {
			__free_pages(virt_to_page(h.p), static_cast<unsigned>(h.size));
			return;
		}
		const auto *b = static_cast<const unsigned char *>(h.p);
		for (size_t i = 0; i < h.size; ++i)
			if (b[i] != h.tag) {
				++corrupt;
				break;
			}
		if (h.kind == Held::kCache)
			kmem_cache_free(s, h.p);
		else
			kfree(h.p);
	};

	fault().arm(1, kmm::FaultInjector<true>::kForever, 5);
	auto worker = [&](unsigned id) {
		kmm_test::Rng rng(seed + id);
		std::vector<Held> held;
		/* a NULL is fine only if some request failed meanwhile (any thread's) */
		auto got = [&](void *p, unsigned long failed_before) {
			if (p == nullptr) {
				++nulls;
				if (fault().failed() == failed_before)
					++unexplained;
			}
			return p != nullptr;
		};
		for (unsigned it = 0; it < iterations; ++it) {
			const unsigned char tag = static_cast<unsigned char>(rng.below(255) + 1);
			const unsigned long f0 = fault().failed();
			/* bounded: at most ~200 objects a thread, so memory never
			 * really runs out (a NULL is an injected failure's) */
			switch (held.size() > 200 ? 7 : rng.below(8)) {
			case 0:
			case 1: {
				size_t size = 1 + rng.below(rng.chance(10) ? 5 * PAGE_SIZE : 2000);
				Held h{Held::kKmalloc, kmalloc(size, GFP_KERNEL | (rng.chance(50) ? __GFP_NOWARN : 0)), size, tag};
				if (got(h.p, f0)) {
					fill_obj(h);
					held.push_back(h);
				}
				break;
			}
			case 2: {
				/* half of them with IRQs masked (on the host: the CPU
				 * slot held), GFP_ATOMIC: the reclaim under pressure
				 * cannot call the other CPUs then, it asks them */
				const bool masked = rng.chance(50);
				const unsigned long flags = masked ? kmm_arch_irq_save() : 0;
				void *o = kmem_cache_alloc(s, masked ? GFP_ATOMIC : GFP_KERNEL);
				if (masked)
					kmm_arch_irq_restore(flags);
				Held h{Held::kCache, o, 72, tag};
				if (got(h.p, f0)) {
					fill_obj(h);
					held.push_back(h);
				}
				break;
			}
			case 3: {
				void *v[24];
				int n = kmem_cache_alloc_bulk(s, GFP_KERNEL, 24, v);
				if (got(n != 0 ? v[0] : nullptr, f0))
					for (int i = 0; i < n; ++i) {
						Held h{Held::kCache, v[i], 72, tag};
						fill_obj(h);
						held.push_back(h);
					}
				break;
			}
			case 4: {
				if (held.empty() || held.back().kind != Held::kKmalloc)
					break;
				Held &h = held.back();
				if (h.size > 3 * PAGE_SIZE)
					break;
				size_t want = h.size + 1 + rng.below(3000);
				void *q = krealloc(h.p, want, GFP_KERNEL);
				if (got(q, f0)) {
					h.p = q;
					h.size = want;
				}
				fill_obj(h); /* q, or the old block, still the caller's */
				break;
			}
			case 5: {
				unsigned order = static_cast<unsigned>(rng.below(3));
				struct page *pg = alloc_pages(GFP_KERNEL, order);
				if (got(pg, f0))
					held.push_back(Held{Held::kPages, page_address(pg), order, tag});
				break;
			}
			default: {
				/* free a few: some here, some left to the next thread */
				for (int k = 0; k < 3 && !held.empty(); ++k) {
					size_t i = rng.below(held.size());
					Held h = held[i];
					held[i] = held.back();
					held.pop_back();
					if (rng.chance(30)) {
						std::lock_guard<std::mutex> g(exchange_lock);
						exchange.push_back(h);
					} else {
						check_free(h);
					}
				}
				std::vector<Held> take;
				{
					std::lock_guard<std::mutex> g(exchange_lock);
					if (exchange.size() > 16)
						take.swap(exchange);
				}
				for (const Held &h : take)
					check_free(h);
			}
			}
		}
		for (const Held &h : held)
			check_free(h);
	};
	std::vector<std::thread> threads;
	for (unsigned t = 0; t < kThreads; ++t)
		threads.emplace_back(worker, t);
	for (auto &t : threads)
		t.join();
	const unsigned long failed = fault().failed();
	fault().disarm();
	for (const Held &h : exchange)
		check_free(h);
	kmem_cache_destroy(s);
	EXPECT_GT(failed, 0u) << "no request failed: the test tested nothing";
	EXPECT_GT(nulls.load(), 0u);
	EXPECT_EQ(unexplained.load(), 0u) << "NULL without a failed page request";
	EXPECT_EQ(corrupt.load(), 0u) << "an object lost its contents";
	/* warnings only: a failure's */
	for (const auto &l : cap.lines)
		EXPECT_TRUE(l.find("allocation failure") != std::string::npos ||
			    l.find("out of memory") != std::string::npos) << l;
	check_clean("4 threads, every 5th request failing");
	shutdown();
}

INSTANTIATE_TEST_SUITE_P(Smp, OomSmp,
			 ::testing::Values(WalkParam{false, FaultMode::kFromOn}, WalkParam{true, FaultMode::kFromOn}),
			 kmm_test::walk_param_name);

} // namespace
