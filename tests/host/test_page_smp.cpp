/*
 * tests/host/test_page_smp.cpp — the page allocator under concurrency, on a
 * build with KMM_NR_CPUS=4 where host threads stand in for CPUs (arch/host
 * gives a thread the slot with the fewest live threads; with more threads
 * than CPUs, threads share a slot and its per-CPU lock). 2, 4 and 8 threads allocate and free
 * pages of orders 0…3, a share of them handed to another thread to free
 * (remote frees land on the freeing CPU's lists). Afterwards nothing is lost:
 * validate() is clean and, drained, the buddy state equals the one after
 * init. PageSmpPressure: an allocation that finds no free page drains an
 * idle CPU's lists too; PageSmpZones: so does a Normal request before it
 * falls back to the DMA zone. PageSmpDoubleFree: two CPUs freeing one block
 * above the per-CPU orders at once: one succeeds, one is reported.
 * PageSmpPcp: threads that only allocate and threads that only free blocks
 * of mixed orders (plain and compound, in and above the per-CPU orders)
 * while validate(), the counts and drains run on another CPU: the per-CPU
 * lists stay within their high marks all along. Runs under the host-tsan
 * preset too.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "support/buddy_state.h"
#include "support/job_thread.h"

namespace {

using kmm::kPageSize;
using kmm_test::Arena;
using kmm_test::kBlockBytes;

static_assert(KMM_NR_CPUS == 4, "this test is built against the 4-CPU variant");

/* A page allocator over `blocks` max-order blocks of one Normal region,
 * initialised (the setup of most tests below). */
struct NormalPages {
	Arena arena;
	kmm_test::TestAllocator t{KMM_PCP_HIGH};
	kmm::PageAllocator &pa = t.pa;
	explicit NormalPages(size_t blocks) : arena(kBlockBytes * blocks, kBlockBytes)
	{
		EXPECT_EQ(pa.add_region(arena.at(0), kBlockBytes * blocks, KMM_ZONE_NORMAL), 0);
		EXPECT_EQ(pa.init(), 0);
	}
};

struct Handoff {
	std::mutex lock;
	std::deque<std::pair<struct page *, unsigned>> queue;
};

void worker(kmm::PageAllocator &pa, unsigned id, unsigned nthreads, uint64_t seed, unsigned ops,
	    std::vector<Handoff> &handoffs, std::atomic<unsigned long> &failures, std::atomic<unsigned long> &bad)
{
	kmm_test::Rng rng(seed + id);
	std::vector<std::pair<struct page *, unsigned>> mine;
	for (unsigned i = 0; i < ops; ++i) {
		unsigned action = static_cast<unsigned>(rng.next() % 8);
		if ((action < 4 && mine.size() < 48) || mine.empty()) {
			unsigned order = static_cast<unsigned>(rng.next() % 4); /* <= 8 pages */
			struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, order);
			if (p == nullptr) {
				failures.fetch_add(1, std::memory_order_relaxed);
				continue;
			}
			/* Stamp the block: an overlap with another live block shows. */
			auto *mem = static_cast<uint32_t *>(pa.page_address(p));
			mem[0] = id;
			mem[(kPageSize << order) / 4 - 1] = id;
			mine.emplace_back(p, order);
		} else if (action < 7) {
			size_t k = rng.next() % mine.size();
			auto [p, order] = mine[k];
			mine[k] = mine.back();
			mine.pop_back();
			auto *mem = static_cast<uint32_t *>(pa.page_address(p));
			if (mem[0] != id || mem[(kPageSize << order) / 4 - 1] != id)
				bad.fetch_add(1, std::memory_order_relaxed);
			if (!pa.free(p, order))
				bad.fetch_add(1, std::memory_order_relaxed);
		} else {
			/* Hand a block to the next thread; take what was handed to us. */
			size_t k = rng.next() % mine.size();
			Handoff &to = handoffs[(id + 1) % nthreads];
			{
				/* Bounded: a thread that has finished drains nothing. */
				std::lock_guard<std::mutex> g(to.lock);
				if (to.queue.size() < 16)
					to.queue.push_back(mine[k]);
				else if (!pa.free(mine[k].first, mine[k].second))
					bad.fetch_add(1, std::memory_order_relaxed);
			}
			mine[k] = mine.back();
			mine.pop_back();
			Handoff &from = handoffs[id];
			std::lock_guard<std::mutex> g(from.lock);
			while (!from.queue.empty()) {
				auto [p, order] = from.queue.front();
				from.queue.pop_front();
				if (!pa.free(p, order)) /* a remote free */
					bad.fetch_add(1, std::memory_order_relaxed);
			}
		}
	}
	for (auto [p, order] : mine)
		if (!pa.free(p, order))
			bad.fetch_add(1, std::memory_order_relaxed);
}

class PageSmp : public ::testing::TestWithParam<unsigned> {};

TEST_P(PageSmp, ThreadsAllocateAndFreeAcrossCpusAndNothingIsLost)
{
	const unsigned nthreads = GetParam();
	const uint64_t seed = kmm_test::test_seed(0x5eedu);
	const unsigned ops = 40000;
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u threads on %u CPUs, %u ops each\n",
		    static_cast<unsigned long long>(seed), nthreads, KMM_NR_CPUS, ops);
	Arena arena(kBlockBytes * 4, kBlockBytes);
	kmm_test::TestAllocator t(KMM_PCP_HIGH);
	kmm::PageAllocator &pa = t.pa;
	ASSERT_EQ(pa.add_region(arena.at(0), kBlockBytes * 3, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(arena.at(kBlockBytes * 3), kBlockBytes, KMM_ZONE_DMA), 0);
	ASSERT_EQ(pa.init(), 0);
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(pa);

	std::vector<Handoff> handoffs(nthreads);
	std::atomic<unsigned long> failures{0}, bad{0};
	std::vector<std::thread> threads;
	for (unsigned i = 0; i < nthreads; ++i)
		threads.emplace_back(worker, std::ref(pa), i, nthreads, seed, ops, std::ref(handoffs),
				     std::ref(failures), std::ref(bad));
	for (auto &th : threads)
		th.join();
	for (auto &h : handoffs)
		for (auto [p, order] : h.queue)
			ASSERT_TRUE(pa.free(p, order));

	EXPECT_EQ(bad.load(), 0u) << "overlapping blocks or refused frees";
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.totals().free, pa.totals().managed) << "every page is free again";
	EXPECT_EQ(kmm_test::snapshot(pa), initial) << "drained, the buddy state is the one after init";
	/* No pressure here: 8 threads hold at most 48 + 16 queued blocks each,
	 * 3.75 pages a block on average (orders 0…3): about 1,900 of the 4072
	 * pages, plus 4 CPUs' lists of at most 128 pages each. So in practice
	 * no allocation fails unless pages went missing (only the vanishingly
	 * unlikely all-order-3 case, 4096 pages, would not fit). Draining other
	 * CPUs' lists under pressure is PageSmpPressure's. */
	EXPECT_EQ(failures.load(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Threads, PageSmp, ::testing::Values(2u, 4u, 8u));

/* Two CPUs free the same block above the per-CPU orders at the same
 * moment (a double free): the free checks and claims the block under the
 * zone lock, so in every round exactly one free succeeds and the other is
 * reported and refused; nothing is lost or listed twice. (With the checks
 * outside the lock both passed and the block went onto a free list
 * twice.) Plain and compound blocks in turn. */
TEST(PageSmpDoubleFree, RacingFreesOfOneBlockAboveThePerCpuOrders)
{
	NormalPages np(2);
	kmm_test::TestAllocator &t = np.t;
	kmm::PageAllocator &pa = np.pa;
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(pa);
	constexpr unsigned kOrder = kmm::kPcpMaxOrder + 2 <= kmm::kMaxOrder ? kmm::kPcpMaxOrder + 2 : kmm::kMaxOrder;
	static_assert(kOrder > kmm::kPcpMaxOrder, "an order without a per-CPU list");
	constexpr unsigned kRounds = 1000;
	unsigned wrong_rounds = 0;
	for (unsigned round = 0; round < kRounds; ++round) {
		const bool compound = (round & 1) != 0;
		struct page *p = pa.alloc(GFP_KERNEL | (compound ? __GFP_COMP : 0), kOrder,
					  compound ? kmm::kCompound : kmm::kAllocated);
		ASSERT_NE(p, nullptr);
		std::atomic<int> ready{0};
		std::atomic<unsigned> freed{0};
		auto racer = [&] {
			ready.fetch_add(1);
			while (ready.load() < 2) {
			}
			if (pa.free(p, kOrder))
				freed.fetch_add(1);
		};
		std::thread other(racer);
		racer();
		other.join();
		wrong_rounds += freed.load() != 1;
	}
	EXPECT_EQ(wrong_rounds, 0u) << "rounds where not exactly one of the two frees succeeded";
	EXPECT_EQ(t.rep.bugs(), static_cast<unsigned long>(kRounds)) << "one report per round: the losing free";
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), initial) << "every block back, none listed twice";
}

/* On the helper's thread (its own CPU slot): `per_order` blocks of every
 * per-CPU order taken and given back, so they stay parked on that CPU's
 * lists while the helper idles. Returns the helper's CPU. */
unsigned park_blocks_on(kmm_test::JobThread &helper, kmm::PageAllocator &pa, unsigned per_order)
{
	unsigned cpu = 0;
	helper.run([&] {
		cpu = kmm_arch_cpu_id();
		std::vector<std::pair<struct page *, unsigned>> blocks;
		for (unsigned order = 0; order <= kmm::kPcpMaxOrder; ++order)
			for (unsigned k = 0; k < per_order; ++k) {
				struct page *p = pa.alloc(GFP_KERNEL, order);
				ASSERT_NE(p, nullptr);
				blocks.emplace_back(p, order);
			}
		for (auto [p, order] : blocks)
			ASSERT_TRUE(pa.free(p, order));
	});
	return cpu;
}

/* Memory pressure drains every CPU's page lists, not only the caller's: a
 * helper parks blocks of every per-CPU order on its CPU's lists and stays
 * alive, idle; this thread then takes single pages until none is left and
 * must get every free page, those parked on the helper's CPU included. */
TEST(PageSmpPressure, AllocatingUntilFailureGetsThePagesParkedOnAnIdleCpu)
{
	Arena arena(kBlockBytes, kBlockBytes);
	kmm_test::TestAllocator t(KMM_PCP_HIGH);
	kmm::PageAllocator &pa = t.pa;
	ASSERT_EQ(pa.add_region(arena.at(0), size_t{1} << 20, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(pa);
	const size_t free0 = pa.totals().free;

	kmm_test::JobThread helper;
	const unsigned helper_cpu = park_blocks_on(helper, pa, 4);
	const size_t parked = pa.totals().pcp; /* only the helper's CPU has used its lists */
	ASSERT_NE(helper_cpu, kmm_arch_cpu_id());
	ASSERT_GE(parked, size_t{4 * (1 + 2 + 4 + 8)}) << "the helper's blocks are on its lists";
	ASSERT_EQ(pa.totals().free, free0);

	std::vector<struct page *> got;
	while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0))
		got.push_back(p);
	EXPECT_EQ(got.size(), free0) << "every free page, the " << parked << " parked on the idle CPU too";
	EXPECT_EQ(pa.totals().free, 0u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	for (struct page *p : got)
		ASSERT_TRUE(pa.free(p, 0));
	pa.drain_pcp();
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), initial);
}

/* Zone fallback looks at every CPU's lists too: a Normal request that finds
 * the Normal buddy lists empty gets the Normal pages parked on an idle CPU
 * before it takes DMA memory (gfp.h), and GFP_DMA still finds its zone
 * untouched afterwards. */
TEST(PageSmpZones, NormalRequestsGetPagesParkedOnAnIdleCpuBeforeTheDmaZone)
{
	Arena arena(kBlockBytes * 2, kBlockBytes);
	kmm_test::TestAllocator t(KMM_PCP_HIGH);
	kmm::PageAllocator &pa = t.pa;
	ASSERT_EQ(pa.add_region(arena.at(0), 256 * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(arena.at(kBlockBytes), 32 * kPageSize, KMM_ZONE_DMA), 0);
	ASSERT_EQ(pa.init(), 0);
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(pa);
	const size_t normal0 = pa.counts(KMM_ZONE_NORMAL).free;
	const size_t dma0 = pa.counts(KMM_ZONE_DMA).free;
	const kmm::Region &dma = pa.region(1);

	kmm_test::JobThread helper;
	const unsigned helper_cpu = park_blocks_on(helper, pa, 2);
	ASSERT_NE(helper_cpu, kmm_arch_cpu_id());
	const size_t parked = pa.counts(KMM_ZONE_NORMAL).pcp;
	ASSERT_GE(parked, size_t{2 * (1 + 2 + 4 + 8)}) << "the helper's blocks are on its lists";

	std::vector<struct page *> got;
	size_t while_normal_free = 0;
	for (size_t i = 0; i < normal0 + 4; ++i) {
		struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0);
		ASSERT_NE(p, nullptr) << i;
		got.push_back(p);
		if (dma.holds_page(p) && pa.counts(KMM_ZONE_NORMAL).free != 0)
			++while_normal_free;
	}
	EXPECT_EQ(while_normal_free, 0u) << "DMA pages went to GFP_KERNEL while " << parked
					 << " Normal pages were parked on CPU " << helper_cpu;
	EXPECT_EQ(pa.counts(KMM_ZONE_DMA).free, dma0 - 4);
	struct page *d = pa.alloc(GFP_DMA | __GFP_NOWARN, 0);
	ASSERT_NE(d, nullptr);
	EXPECT_TRUE(dma.holds_page(d));
	got.push_back(d);
	EXPECT_EQ(t.rep.bugs(), 0u);
	for (struct page *p : got)
		ASSERT_TRUE(pa.free(p, 0));
	pa.drain_pcp();
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), initial);
}

/* counts()/totals() read every per-CPU list and the zone counter under
 * all their locks at once: while another CPU moves pages between its
 * per-CPU list and the buddy lists (refills, high-mark drains), free stays
 * within [managed - what that CPU holds, managed]. Read list by list, a
 * refill between two reads counted its pages twice (free 2051 of 2036). */
TEST(PageSmpCounts, FreeCountIsASnapshotWhileAnotherCpuMovesPages)
{
	NormalPages np(2);
	kmm::PageAllocator &pa = np.pa;
	const size_t managed = pa.totals().managed;
	constexpr size_t kHeld = 40;
	std::atomic<bool> stop{false};
	std::thread worker([&] {
		struct page *held[kHeld];
		while (!stop.load()) {
			for (auto &p : held)
				p = pa.alloc(GFP_KERNEL, 0);
			for (auto &p : held)
				pa.free(p, 0);
		}
	});
	size_t lo = managed, hi = 0;
	for (unsigned i = 0; i < 100000; ++i) {
		size_t f = pa.totals().free;
		lo = std::min(lo, f);
		hi = std::max(hi, f);
	}
	stop = true;
	worker.join();
	EXPECT_LE(hi, managed);
	EXPECT_GE(lo, managed - kHeld);
	EXPECT_EQ(pa.totals().free, managed);
	EXPECT_EQ(pa.validate(), 0u);
}

/* validate() while another CPU allocates and frees blocks whose work
 * outside the locks leaves them half-way for a moment: compound tails
 * linked after the alloc's lock (finish_alloc), unlinked before the free's
 * per-CPU push, a head claimed by a free above the per-CPU orders until
 * its merge. Each is counted in transit, so validate() accepts it (and
 * only as many as are in flight: a quiescent corrupt block is still
 * reported, BuddyValidate in test_buddy_validate.cpp). Before the transit
 * count, each of these failed within a few thousand runs. */
class PageSmpValidate : public ::testing::TestWithParam<std::pair<unsigned, kmm::PageState>> {};

TEST_P(PageSmpValidate, CleanWhileAnotherCpuAllocatesAndFrees)
{
	const unsigned order = GetParam().first;
	const kmm::PageState state = GetParam().second;
	NormalPages np(1);
	kmm_test::TestAllocator &t = np.t;
	kmm::PageAllocator &pa = np.pa;
	std::atomic<bool> stop{false};
	std::atomic<unsigned long> cycles{0};
	std::thread worker([&] {
		while (!stop.load()) {
			struct page *p = pa.alloc(GFP_KERNEL | (state != kmm::kAllocated ? __GFP_COMP : 0u), order, state);
			if (p == nullptr || !pa.free(p, order, state))
				std::abort();
			cycles.fetch_add(1);
		}
	});
	unsigned long problems = 0, runs = 0;
	for (; runs < 20000 && problems == 0; ++runs)
		problems += pa.validate();
	stop = true;
	worker.join();
	EXPECT_EQ(problems, 0u) << "after " << runs << " validate() runs; first: "
				<< (t.cap.lines.empty() ? "" : t.cap.lines[0]);
	EXPECT_GT(cycles.load(), 0u);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.totals().free, pa.totals().managed);
}

INSTANTIATE_TEST_SUITE_P(Blocks, PageSmpValidate,
			 ::testing::Values(std::make_pair(2u, kmm::kCompound), std::make_pair(5u, kmm::kCompound),
					   std::make_pair(5u, kmm::kAllocated)));

/* ---- per-CPU lists under one-sided traffic ---- */

/* A blocking queue of blocks between producers and consumers. */
class BlockQueue {
public:
	explicit BlockQueue(unsigned producers) : producers_(producers) {}
	void push(struct page *p, unsigned order, bool compound)
	{
		std::unique_lock<std::mutex> g(lock_);
		not_full_.wait(g, [&] { return q_.size() < kDepth; });
		q_.push_back(Block{p, order, compound});
		not_empty_.notify_one();
	}
	bool pop(struct page *&p, unsigned &order, bool &compound)
	{
		std::unique_lock<std::mutex> g(lock_);
		not_empty_.wait(g, [&] { return !q_.empty() || producers_ == 0; });
		if (q_.empty())
			return false;
		p = q_.front().p;
		order = q_.front().order;
		compound = q_.front().compound;
		q_.pop_front();
		not_full_.notify_one();
		return true;
	}
	void producer_done()
	{
		std::lock_guard<std::mutex> g(lock_);
		--producers_;
		not_empty_.notify_all();
	}
	static constexpr size_t kDepth = 48;

private:
	struct Block {
		struct page *p;
		unsigned order;
		bool compound;
	};
	std::mutex lock_;
	std::condition_variable not_full_, not_empty_;
	std::deque<Block> q_;
	unsigned producers_;
};

class PageSmpPcp : public ::testing::TestWithParam<unsigned> {};

/* Half the threads only allocate blocks of orders 0…5 (a third of those
 * above order 0 compound), half only free them, so the freeing CPUs' lists
 * fill to their high mark and drain a batch, and the allocating CPUs'
 * lists run empty and refill a batch, all the time. A monitor on another
 * CPU meanwhile takes the counts (every per-CPU lock held: a snapshot) and
 * runs validate() — which the docs allow while other CPUs work — and now
 * and then drains every CPU's lists. Each count must be possible: free
 * within managed, and the pages parked on per-CPU lists within
 * CPUs x sum over the per-CPU orders of high(o) << o (a list holds at most
 * high(o) blocks after any push or refill); the blocks out are within
 * the queue, one per producer and one per consumer. */
TEST_P(PageSmpPcp, OneSidedTrafficOfMixedOrdersStaysWithinTheHighMarks)
{
	const unsigned nthreads = GetParam();
	const unsigned producers = nthreads / 2, consumers = nthreads - producers;
	const uint64_t seed = kmm_test::test_seed(0x9c9u);
#if defined(__SANITIZE_THREAD__)
	const unsigned per_producer = 8000 / producers;
#else
	const unsigned per_producer = 40000 / producers;
#endif
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u producers + %u consumers on %u CPUs, %u blocks each\n",
		    static_cast<unsigned long long>(seed), producers, consumers, KMM_NR_CPUS, per_producer);
	NormalPages np(4); /* room: the blocks out (at most out_bound pages) leave order-5 blocks free */
	kmm_test::TestAllocator &t = np.t;
	kmm::PageAllocator &pa = np.pa;
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(pa);
	const size_t managed = pa.totals().managed;
	size_t pcp_bound = 0;
	for (unsigned o = 0; o <= kmm::kPcpMaxOrder; ++o)
		pcp_bound += size_t{std::max(1u, unsigned{KMM_PCP_HIGH} >> o)} << o;
	pcp_bound *= KMM_NR_CPUS; /* one zone here */
	constexpr unsigned kMaxTestOrder = 5;
	const size_t out_bound = (BlockQueue::kDepth + nthreads) << kMaxTestOrder;

	BlockQueue queue(producers);
	std::atomic<unsigned long> failures{0}, bad{0}, freed{0};
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < producers; ++id)
		threads.emplace_back([&, id] {
			kmm_test::Rng rng(seed * 31 + id);
			for (unsigned i = 0; i < per_producer; ++i) {
				unsigned order = static_cast<unsigned>(rng.below(kMaxTestOrder + 1));
				bool compound = order > 0 && rng.below(3) == 0;
				struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN | (compound ? __GFP_COMP : 0u), order,
							  compound ? kmm::kCompound : kmm::kAllocated);
				if (p == nullptr) {
					failures.fetch_add(1, std::memory_order_relaxed);
					continue;
				}
				auto *mem = static_cast<uint32_t *>(pa.page_address(p));
				mem[0] = i;
				mem[(kPageSize << order) / 4 - 1] = ~i;
				queue.push(p, order, compound);
			}
			queue.producer_done();
		});
	for (unsigned id = 0; id < consumers; ++id)
		threads.emplace_back([&] {
			struct page *p;
			unsigned order;
			bool compound;
			while (queue.pop(p, order, compound)) {
				auto *mem = static_cast<uint32_t *>(pa.page_address(p));
				if (mem[0] != ~mem[(kPageSize << order) / 4 - 1])
					bad.fetch_add(1, std::memory_order_relaxed); /* overlapping blocks */
				if (!pa.free(p, order, compound ? kmm::kCompound : kmm::kAllocated))
					bad.fetch_add(1, std::memory_order_relaxed);
				freed.fetch_add(1, std::memory_order_relaxed);
			}
		});
	std::atomic<bool> done{false};
	unsigned long rounds = 0, problems = 0, impossible = 0;
	size_t pcp_peak = 0, out_peak = 0;
	std::thread monitor([&] {
		kmm_test::Rng rng(seed);
		while (!done.load()) {
			kmm::ZoneCounts c = pa.totals();
			pcp_peak = std::max(pcp_peak, c.pcp);
			out_peak = std::max(out_peak, managed - std::min(managed, c.free));
			impossible += c.managed != managed || c.free > c.managed || c.pcp > c.free || c.pcp > pcp_bound ||
				      managed - c.free > out_bound;
			problems += pa.validate();
			if (rng.below(8) == 0)
				pa.drain_pcp();
			++rounds;
			/* room between rounds: each holds every lock for O(pages) */
			std::this_thread::sleep_for(std::chrono::microseconds(50));
		}
	});
	for (auto &th : threads)
		th.join();
	done = true;
	monitor.join();
	std::printf("[          ] %lu monitor rounds; parked pages: peak %zu, bound %zu; pages out: peak %zu, bound %zu\n",
		    rounds, pcp_peak, pcp_bound, out_peak, out_bound);
	EXPECT_EQ(impossible, 0u) << "a count out of its bounds";
	EXPECT_EQ(problems, 0u) << "validate() while the others worked; first: "
				<< (t.cap.lines.empty() ? "" : t.cap.lines[0]);
	EXPECT_EQ(bad.load(), 0u);
	EXPECT_EQ(failures.load(), 0u);
	EXPECT_EQ(freed.load(), static_cast<unsigned long>(producers) * per_producer);
	EXPECT_GT(rounds, 0u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), initial) << "drained, the buddy state is the one after init";
}

INSTANTIATE_TEST_SUITE_P(Threads, PageSmpPcp, ::testing::Values(2u, 4u, 8u));

} // namespace
