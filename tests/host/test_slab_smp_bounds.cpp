/*
 * tests/host/test_slab_smp_bounds.cpp — what keeps the slab layer's per-CPU
 * caching bounded on SMP (the 4-CPU mm, host threads standing in for CPUs;
 * a kmm_test::JobThread keeps its CPU slot while it idles between jobs):
 *
 *   - per-CPU partial slabs: a refill puts slabs on a CPU's partial list, at
 *     most kCpuPartialMax (the rest stays on the cache's partial list); the
 *     next refill takes them first; kmem_cache_shrink from another CPU
 *     gives them back to the cache's lists, or to the buddy when empty;
 *   - memory pressure: an allocation that runs out of pages gets back what
 *     an idle CPU caches (magazine, CPU slab, CPU partial slabs — through the
 *     cross-CPU call — and its per-CPU page lists), to the last page;
 *   - one-sided producer/consumer: threads that only allocate hand objects
 *     through a bounded queue to threads that only free; the pages the slab
 *     layer holds stay under a bound derived from the queue depth and the
 *     per-CPU limits all along — and, with the page allocator's per-CPU
 *     lists on, the pages parked there under their high marks — and
 *     everything comes back at the end.
 *
 * Runs under host-tsan too (test.sh: ctest -R "^kmm_mm_smp4:").
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/job_thread.h"
#include "support/slab_fixture.h"

namespace kmm {
/* GoogleTest prints the parameter of SlabSmpPressure by this. */
inline void PrintTo(SlabAllocator::RemoteDrain mode, std::ostream *os)
{
	*os << (mode == SlabAllocator::RemoteDrain::kSync ? "kSync" : "kRequest");
}
} // namespace kmm

namespace {

using kmm_test::JobThread;
using kmm_test::SlabWorld;

static_assert(KMM_NR_CPUS == 4, "this test is built against the 4-CPU variant");
static_assert(kmm::kCpuPartialMax >= 1, "SMP builds keep per-CPU partial slabs");

/* The slabs on c's partial list, in chain order. */
std::vector<struct page *> cpu_partial_slabs(const kmm::CacheCpu &c)
{
	std::vector<struct page *> v;
	for (struct page *p = c.partial; p != nullptr && v.size() <= kmm::kCpuPartialMax + 1; p = p->next)
		v.push_back(p);
	return v;
}

bool on_list(const kmm::PageList &l, const struct page *slab)
{
	for (const struct page *p = l.head; p != nullptr; p = p->next)
		if (p == slab)
			return true;
	return false;
}

/* ---- per-CPU partial slabs ---- */

class SlabSmpCpuPartial : public ::testing::Test {
protected:
	void SetUp() override
	{
		w.boot();
		s = w.slab.create("cpu-partial", 256, 0, 0, nullptr);
		ASSERT_NE(s, nullptr);
		ASSERT_GE(s->objects, 2u);
	}
	void TearDown() override { EXPECT_EQ(w.problems(), 0u); }
	const kmm::CacheCpu &helper_cpu() const { return s->cpu[cpu]; }

	SlabWorld w;
	kmem_cache *s = nullptr;
	unsigned cpu = 0;
	JobThread helper;
};

/* Partial slabs reach a CPU's partial list only through a refill that finds
 * that list empty (slub.cpp refill_cpu_slab): one slab for the CPU, up to
 * kCpuPartialMax more for the list. So: kSlabs slabs with one free object
 * each on the cache's partial list, then one allocation on the helper. */
TEST_F(SlabSmpCpuPartial, RefillFillsTheListToItsLimitAndShrinkFromAnotherCpuTakesItBack)
{
	constexpr unsigned kSlabs = kmm::kCpuPartialMax + 4; /* more than one refill may take */
	const size_t free_before = w.free_pages();
	std::map<struct page *, std::vector<void *>> by_slab;
	helper.run([&] {
		cpu = kmm_arch_cpu_id();
		for (unsigned i = 0; i < kSlabs * s->objects; ++i) {
			void *p = w.slab.alloc(s, GFP_KERNEL);
			ASSERT_NE(p, nullptr);
			by_slab[w.head_of(p)].push_back(p);
		}
		/* One object of each slab back (into the magazine), then the
		 * helper's own shrink flushes the magazine into the slabs and
		 * retires the CPU slab: kSlabs partial slabs, one free object
		 * each, none cached by any CPU. */
		for (auto &[slab, objs] : by_slab) {
			w.slab.free(s, objs.back());
			objs.pop_back();
		}
		w.slab.shrink(s);
	});
	ASSERT_NE(cpu, kmm_arch_cpu_id()) << "the helper has a CPU slot of its own";
	ASSERT_EQ(by_slab.size(), size_t{kSlabs});
	ASSERT_EQ(s->partial.count, size_t{kSlabs});
	ASSERT_EQ(s->nr_slabs, kSlabs);
	ASSERT_EQ(helper_cpu().slab, nullptr);
	ASSERT_EQ(helper_cpu().nr_partial, 0u);
	const std::vector<struct page *> node_order = [&] {
		std::vector<struct page *> v;
		for (struct page *p = s->partial.head; p != nullptr; p = p->next)
			v.push_back(p);
		return v;
	}();

	/* One allocation: a refill. The CPU slab and exactly kCpuPartialMax
	 * partial slabs come off the head of the cache's list; the rest stays. */
	void *extra = nullptr;
	helper.run([&] { extra = w.slab.alloc(s, GFP_KERNEL); });
	ASSERT_NE(extra, nullptr);
	EXPECT_EQ(helper_cpu().slab, node_order[0]);
	EXPECT_EQ(helper_cpu().nr_partial, kmm::kCpuPartialMax) << "filled to the limit, not past it";
	EXPECT_EQ(s->partial.count, size_t{kSlabs - 1 - kmm::kCpuPartialMax}) << "the overflow stays on the cache's list";
	std::vector<struct page *> mine = cpu_partial_slabs(helper_cpu());
	ASSERT_EQ(mine.size(), size_t{kmm::kCpuPartialMax}) << "the chain and its count agree";
	for (struct page *p : mine) {
		EXPECT_TRUE(std::find(node_order.begin() + 1, node_order.begin() + 1 + kmm::kCpuPartialMax, p) !=
			    node_order.begin() + 1 + kmm::kCpuPartialMax)
			<< "taken from the head of the cache's partial list";
		EXPECT_EQ(int{kmm::page_state(p)}, int{kmm::kSlabCpu});
		EXPECT_FALSE(on_list(s->partial, p));
	}
	for (unsigned i = 1 + kmm::kCpuPartialMax; i < kSlabs; ++i)
		EXPECT_TRUE(on_list(s->partial, node_order[i]));
	EXPECT_EQ(w.problems(), 0u);

	/* The CPU slab had one free object, now taken: the next allocation
	 * retires it and takes the CPU partial list's head, not the cache's. */
	struct page *next = mine.front();
	void *extra2 = nullptr;
	helper.run([&] { extra2 = w.slab.alloc(s, GFP_KERNEL); });
	ASSERT_NE(extra2, nullptr);
	EXPECT_EQ(w.head_of(extra2), next);
	EXPECT_EQ(helper_cpu().slab, next);
	EXPECT_EQ(helper_cpu().nr_partial, kmm::kCpuPartialMax - 1);
	EXPECT_EQ(s->partial.count, size_t{kSlabs - 1 - kmm::kCpuPartialMax}) << "the cache's list untouched";

	/* Shrink from this (another) CPU: a cross-CPU call drains the helper.
	 * Its partial slabs hold live objects, so they go back to the cache's
	 * partial list; no page moves. */
	std::vector<struct page *> left = cpu_partial_slabs(helper_cpu());
	const size_t free_mid = w.free_pages();
	const unsigned long requests = w.slab.remote_drain_requests();
	EXPECT_EQ(w.slab.shrink(s), 1) << "slabs with live objects remain";
	EXPECT_EQ(w.slab.remote_drain_requests(), requests) << "drained by a call, not asked";
	EXPECT_EQ(helper_cpu().nr_partial, 0u);
	EXPECT_EQ(helper_cpu().partial, nullptr);
	EXPECT_EQ(helper_cpu().slab, nullptr);
	for (struct page *p : left) {
		EXPECT_TRUE(on_list(s->partial, p)) << "a CPU partial slab is back on the cache's list";
		EXPECT_EQ(int{kmm::page_state(p)}, int{kmm::kSlab});
	}
	EXPECT_EQ(s->partial.count, size_t{kSlabs - 2}) << "all but the two slabs the helper filled up";
	EXPECT_EQ(s->nr_full, 2u);
	EXPECT_EQ(s->nr_slabs, kSlabs);
	EXPECT_EQ(w.free_pages(), free_mid);
	EXPECT_EQ(w.problems(), 0u);

	/* Again to the limit; then every object is freed from this CPU (the
	 * frees never touch another CPU's partial list), and a shrink from
	 * here frees every slab, the helper's CPU partial slabs included. */
	void *extra3 = nullptr;
	helper.run([&] { extra3 = w.slab.alloc(s, GFP_KERNEL); });
	ASSERT_NE(extra3, nullptr);
	ASSERT_EQ(helper_cpu().nr_partial, kmm::kCpuPartialMax);
	for (auto &[slab, objs] : by_slab)
		for (void *p : objs)
			w.slab.free(s, p);
	for (void *p : {extra, extra2, extra3})
		w.slab.free(s, p);
	EXPECT_EQ(helper_cpu().nr_partial, kmm::kCpuPartialMax) << "remote frees leave the list alone";
	EXPECT_EQ(w.info(s).active_objs, 0u);
	EXPECT_EQ(w.slab.shrink(s), 0);
	EXPECT_EQ(helper_cpu().nr_partial, 0u);
	EXPECT_EQ(s->nr_slabs, 0u);
	EXPECT_EQ(w.free_pages(), free_before) << "every page of every slab back in the buddy allocator";
}

/* ---- memory pressure ---- */

/* A slab world whose page allocator has per-CPU page lists (SlabWorld's has
 * none), over 2 MiB: small enough to exhaust one page at a time. */
struct PcpSlabWorld {
	static constexpr size_t kBytes = size_t{2} << 20;
	kmm_test::Arena arena{kBytes, kmm_test::kBlockBytes};
	kmm_test::TestAllocator t{KMM_PCP_HIGH};
	kmm::PageAllocator &pa = t.pa;
	kmm::SlabAllocator slab{t.pa, t.rep};

	void boot()
	{
		ASSERT_EQ(pa.add_region(arena.base(), kBytes, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.init(), 0);
		ASSERT_EQ(slab.init(), 0);
	}
	size_t free_pages() { return pa.totals().free; }
	unsigned long problems()
	{
		unsigned long n = slab.validate() + pa.validate();
		if (n != 0)
			for (const auto &l : t.cap.lines)
				ADD_FAILURE() << l;
		return n;
	}
};

class SlabSmpPressure : public ::testing::TestWithParam<kmm::SlabAllocator::RemoteDrain> {};

/* Helper A fills its caches — magazine, CPU slab, CPU partial slabs of a
 * cache, and its per-CPU page lists — holds no object, and idles (alive:
 * it keeps its CPU). Helper B allocates one-page slab objects until the
 * allocator says no. With kSync (the default), reclaim drains A through a
 * cross-CPU call and the page allocator drains A's page lists: B gets every
 * page that was free before A started. With kRequest, A's slab caches wait
 * for A's next slow path, which never comes: B gets exactly the pages of
 * the slabs A caches fewer (its page lists are still drained) — which also
 * shows that the kSync figure depends on the cross-CPU drain. */
TEST_P(SlabSmpPressure, AllocatingUntilFailureGetsWhatAnIdleCpuCaches)
{
	const kmm::SlabAllocator::RemoteDrain mode = GetParam();
	PcpSlabWorld w;
	w.boot();
	kmem_cache *cached = w.slab.create("pressure-cached", 256, 0, 0, nullptr);
	kmem_cache *pagey = w.slab.create("pressure-page", kmm::kPageSize, 0, 0, nullptr);
	ASSERT_NE(cached, nullptr);
	ASSERT_NE(pagey, nullptr);
	ASSERT_EQ(pagey->objects, 1u) << "one object per one-page slab: B counts pages";
	ASSERT_EQ(pagey->order, 0u);
	ASSERT_EQ(cached->order, 0u);
	/* Nothing reclaimable anywhere: the pages B can hope for. */
	w.slab.shrink_all();
	w.pa.drain_pcp();
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(w.pa);
	const size_t free0 = w.free_pages();

	JobThread a, b;
	unsigned cpu_a = 0, cpu_b = 0;
	a.run([&] {
		cpu_a = kmm_arch_cpu_id();
		const unsigned n = (kmm::kCpuPartialMax + 4) * cached->objects;
		std::map<struct page *, std::vector<void *>> by_slab;
		for (unsigned i = 0; i < n; ++i) {
			void *p = w.slab.alloc(cached, GFP_KERNEL);
			ASSERT_NE(p, nullptr);
			by_slab[kmm::page_head(w.pa.virt_to_page(p))].push_back(p);
		}
		for (auto &[slab, objs] : by_slab) { /* every slab partial ... */
			w.slab.free(cached, objs.back());
			objs.pop_back();
		}
		w.slab.shrink(cached);
		void *p = w.slab.alloc(cached, GFP_KERNEL); /* ... so a refill fills the CPU partial list */
		ASSERT_NE(p, nullptr);
		w.slab.free(cached, p);
		for (auto &[slab, objs] : by_slab) /* and free everything: the magazine fills */
			for (void *q : objs)
				w.slab.free(cached, q);
		/* Blocks of every per-CPU order onto this CPU's page lists. */
		std::vector<std::pair<struct page *, unsigned>> blocks;
		for (unsigned order = 0; order <= kmm::kPcpMaxOrder; ++order)
			for (unsigned k = 0; k < 4; ++k) {
				struct page *pg = w.pa.alloc(GFP_KERNEL, order);
				ASSERT_NE(pg, nullptr);
				blocks.emplace_back(pg, order);
			}
		for (auto [pg, order] : blocks)
			ASSERT_TRUE(w.pa.free(pg, order));
	});
	if (HasFatalFailure())
		return;
	b.run([&] { cpu_b = kmm_arch_cpu_id(); });
	ASSERT_NE(cpu_a, cpu_b);
	ASSERT_NE(cpu_a, kmm_arch_cpu_id());

	/* What A caches now: its CPU partial list at the limit, a magazine, a
	 * CPU slab — the slabs of those (the objects are all free) — and pages
	 * on its page lists. */
	const kmm::CacheCpu &ca = cached->cpu[cpu_a];
	ASSERT_EQ(ca.nr_partial, kmm::kCpuPartialMax);
	ASSERT_NE(ca.slab, nullptr);
	ASSERT_GT(kmm::mag_count(ca), 0u);
	const std::vector<struct page *> partial_a = cpu_partial_slabs(ca);
	std::set<struct page *> held_by_a(partial_a.begin(), partial_a.end());
	held_by_a.insert(ca.slab);
	for (uint32_t j = 1; j <= kmm::mag_count(ca); ++j)
		held_by_a.insert(kmm::page_head(w.pa.virt_to_page(ca.mag[kmm::mag_slot(ca, j)])));
	const size_t slab_pages_a = held_by_a.size(); /* order-0 slabs */
	ASSERT_GE(slab_pages_a, size_t{1 + kmm::kCpuPartialMax});
	ASSERT_GE(w.pa.totals().pcp, size_t{4 * (1 + 2 + 4 + 8)}) << "A's blocks parked on its page lists";
	EXPECT_EQ(w.problems(), 0u);

	w.slab.set_remote_drain(mode);
	const unsigned long requests = w.slab.remote_drain_requests();
	std::vector<void *> got;
	b.run([&] {
		got.reserve(free0);
		while (void *p = w.slab.alloc(pagey, GFP_KERNEL | __GFP_NOWARN))
			got.push_back(p);
	});
	EXPECT_EQ(w.t.rep.bugs(), 0u);
	if (mode == kmm::SlabAllocator::RemoteDrain::kSync) {
		EXPECT_EQ(got.size(), free0) << "B got every free page: A's caches and page lists were drained";
		EXPECT_EQ(w.free_pages(), 0u);
		EXPECT_EQ(ca.nr_partial, 0u);
		EXPECT_EQ(ca.slab, nullptr);
		EXPECT_EQ(kmm::mag_count(ca), 0u);
		EXPECT_EQ(cached->nr_slabs, 0u);
		EXPECT_EQ(w.slab.remote_drain_requests(), requests) << "every drain done by a call";
	} else {
		EXPECT_EQ(got.size(), free0 - slab_pages_a)
			<< "only A's per-CPU slab caches (" << slab_pages_a << " pages) stayed out of reach";
		EXPECT_EQ(w.free_pages(), 0u);
		EXPECT_EQ(ca.nr_partial, kmm::kCpuPartialMax) << "asked, not drained: A is idle";
		EXPECT_EQ(cached->nr_slabs, slab_pages_a);
		EXPECT_GT(w.slab.remote_drain_requests(), requests);
	}
	EXPECT_EQ(w.problems(), 0u);

	/* Everything back: B's objects, A's caches (a sync shrink_all), the
	 * page lists; then the buddy state is the one before A started. */
	b.run([&] {
		for (void *p : got)
			w.slab.free(pagey, p);
	});
	w.slab.set_remote_drain(kmm::SlabAllocator::RemoteDrain::kSync);
	w.slab.shrink_all();
	w.pa.drain_pcp();
	EXPECT_EQ(cached->nr_slabs, 0u);
	EXPECT_EQ(pagey->nr_slabs, 0u);
	EXPECT_EQ(w.problems(), 0u);
	EXPECT_EQ(kmm_test::snapshot(w.pa), initial);
}

INSTANTIATE_TEST_SUITE_P(Drain, SlabSmpPressure,
			 ::testing::Values(kmm::SlabAllocator::RemoteDrain::kSync,
					   kmm::SlabAllocator::RemoteDrain::kRequest),
			 [](const auto &info) {
				 return info.param == kmm::SlabAllocator::RemoteDrain::kSync ? "Sync" : "Request";
			 });

/* ---- one-sided producer/consumer ---- */

struct Item {
	void *p;
	uint64_t tag; /* producer << 32 | sequence, also written into the object */
	uint32_t size; /* kmalloc: the size asked for; 0: the cache */
};

/* A blocking FIFO of at most `depth` items. */
class BoundedQueue {
public:
	BoundedQueue(size_t depth, unsigned producers) : depth_(depth), producers_(producers) {}
	void push(const Item &it)
	{
		std::unique_lock<std::mutex> g(lock_);
		not_full_.wait(g, [&] { return q_.size() < depth_; });
		q_.push_back(it);
		not_empty_.notify_one();
	}
	/* False once every producer is done and the queue is empty. */
	bool pop(Item &it)
	{
		std::unique_lock<std::mutex> g(lock_);
		not_empty_.wait(g, [&] { return !q_.empty() || producers_ == 0; });
		if (q_.empty())
			return false;
		it = q_.front();
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

private:
	std::mutex lock_;
	std::condition_variable not_full_, not_empty_;
	std::deque<Item> q_;
	size_t depth_;
	unsigned producers_;
};

constexpr uint32_t kCacheObject = 192;

void put_tag(void *p, uint32_t bytes, uint64_t tag)
{
	std::memcpy(p, &tag, sizeof tag);
	std::memcpy(static_cast<char *>(p) + bytes - sizeof tag, &tag, sizeof tag);
}
bool has_tag(const void *p, uint32_t bytes, uint64_t tag)
{
	uint64_t head, tail;
	std::memcpy(&head, p, sizeof head);
	std::memcpy(&tail, static_cast<const char *>(p) + bytes - sizeof tail, sizeof tail);
	return head == tag && tail == tag;
}

/* (threads, per-CPU page lists on) */
class SlabSmpProducerConsumer : public ::testing::TestWithParam<std::tuple<unsigned, bool>> {};

/* Half the threads only allocate (a private cache and kmalloc 513…1024, the
 * kmalloc-1k class), half only free what comes out of the queue, each
 * keeping a few and freeing a random one, so frees scatter over many
 * slabs: every free is of an object another thread allocated, and the
 * freeing CPUs never allocate, so their magazines fill and overflow to the
 * slabs while the producers' CPUs refill from the cache's partial lists
 * (and fill their CPU partial lists).
 *
 * The bound on the pages the slab layer holds at any moment, per cache s
 * (order o_s), comes from where a slab can be (slub.cpp's state table):
 *   - a CPU slab or CPU partial slab: at most (1 + kCpuPartialMax) per CPU;
 *   - on the empty list: at most min_partial;
 *   - partial or full: it has an object in use, which is either handed out
 *     (at most depth in the queue, one per producer between alloc and
 *     push, kept + 1 per consumer between pop and free) or in a magazine
 *     (at most mag_capacity per CPU);
 *   - in transit (being built, or counted out and not yet freed): at most
 *     one per thread.
 * So pages <= sum_s 2^o_s * (CPUs * (mag_capacity_s + 1 + kCpuPartialMax)
 *                           + min_partial_s)
 *           + 2^max(o_s) * (depth + producers + consumers * (kept + 1)
 *                           + threads),
 * whatever the number of operations; a leak of one slab in a few thousand
 * operations would cross it long before the end. With the page allocator's
 * per-CPU lists on, the pages parked there (free, but not on the buddy
 * lists) stay within CPUs x sum over the per-CPU orders of high(o) << o as
 * well, so the memory out of the buddy lists is bounded by the sum. */
TEST_P(SlabSmpProducerConsumer, AllocateOnlyAndFreeOnlyThreadsStayBoundedAndLoseNothing)
{
	const unsigned nthreads = std::get<0>(GetParam());
	const bool pcp = std::get<1>(GetParam());
	const unsigned producers = nthreads / 2, consumers = nthreads - producers;
	const uint64_t seed = kmm_test::test_seed(0xc0ffeeu);
	const unsigned per_producer =
		static_cast<unsigned>(kmm_test::env_u64("KMM_SMP_STEPS", 30000)) * 8 / producers;
	constexpr size_t kDepth = 64;
	constexpr size_t kKept = 16; /* a consumer frees a random one of the last kKept + 1 it took */
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u producers + %u consumers on %u CPUs, %u objects each, "
		    "per-CPU page lists %s\n",
		    static_cast<unsigned long long>(seed), producers, consumers, KMM_NR_CPUS, per_producer,
		    pcp ? "on" : "off");

	auto world = std::make_unique<SlabWorld>(pcp ? KMM_PCP_HIGH : 0u);
	SlabWorld &w = *world;
	w.boot();
	kmem_cache *cache = w.slab.create("pc-cache", kCacheObject, 0, 0, nullptr);
	ASSERT_NE(cache, nullptr);
	kmem_cache *k1k = w.slab.kmalloc_cache(1024);
	ASSERT_NE(k1k, nullptr);
	ASSERT_EQ(w.slab.kmalloc_cache(513), k1k);
	w.pa.drain_pcp();
	const size_t free0 = w.free_pages(); /* pages on per-CPU lists count as free */
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(w.pa);

	size_t bound = 0;
	unsigned max_order = 0;
	for (const kmem_cache *s : {cache, k1k}) {
		bound += (size_t{KMM_NR_CPUS} * (s->mag_capacity + 1 + kmm::kCpuPartialMax) + s->min_partial) << s->order;
		max_order = std::max<unsigned>(max_order, s->order);
	}
	bound += (kDepth + producers + consumers * (kKept + 1) + nthreads) << max_order;
	size_t pcp_bound = 0;
	if (pcp)
		for (unsigned o = 0; o <= kmm::kPcpMaxOrder; ++o)
			pcp_bound += size_t{KMM_NR_CPUS} * (size_t{std::max(1u, unsigned{KMM_PCP_HIGH} >> o)} << o);

	BoundedQueue queue(kDepth, producers);
	std::atomic<unsigned long> failures{0}, bad{0}, freed{0};
	std::atomic<size_t> peak{0}, parked_peak{0};
	auto raise = [](std::atomic<size_t> &to, size_t v) {
		size_t seen = to.load(std::memory_order_relaxed);
		while (v > seen && !to.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
		}
	};
	auto sample = [&] {
		kmm::ZoneCounts c = w.pa.totals(); /* a snapshot: every per-CPU lock held */
		raise(peak, free0 - c.free);
		raise(parked_peak, c.pcp);
	};
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < producers; ++id)
		threads.emplace_back([&, id] {
			kmm_test::Rng rng(seed * 131 + id);
			for (unsigned i = 0; i < per_producer; ++i) {
				Item it{nullptr, uint64_t{id} << 32 | i, 0};
				if (rng.below(2) == 0) {
					it.p = w.slab.alloc(cache, GFP_KERNEL);
				} else {
					it.size = static_cast<uint32_t>(513 + rng.below(512));
					it.p = w.slab.kmalloc(it.size, GFP_KERNEL);
				}
				if (it.p == nullptr) {
					failures.fetch_add(1, std::memory_order_relaxed);
					continue;
				}
				put_tag(it.p, it.size != 0 ? it.size : kCacheObject, it.tag);
				queue.push(it);
			}
			queue.producer_done();
		});
	for (unsigned id = 0; id < consumers; ++id)
		threads.emplace_back([&, id] {
			kmm_test::Rng rng(seed * 137 + id);
			std::vector<Item> kept; /* frees in a scrambled order: many partial slabs */
			unsigned long n = 0;
			auto free_one = [&](size_t k) {
				Item it = kept[k];
				kept[k] = kept.back();
				kept.pop_back();
				if (!has_tag(it.p, it.size != 0 ? it.size : kCacheObject, it.tag))
					bad.fetch_add(1, std::memory_order_relaxed); /* handed out twice */
				if (it.size != 0)
					w.slab.kfree(it.p);
				else
					w.slab.free(cache, it.p);
				if (++n % 64 == 0)
					sample();
			};
			Item it{};
			while (queue.pop(it)) {
				kept.push_back(it);
				if (kept.size() > kKept)
					free_one(rng.below(kept.size()));
			}
			while (!kept.empty())
				free_one(kept.size() - 1);
			freed.fetch_add(n, std::memory_order_relaxed);
		});
	for (auto &t : threads)
		t.join();
	sample();

	unsigned cpu_partial = 0; /* quiet now: how far the stress reached */
	for (const kmem_cache *s : {cache, k1k})
		for (const kmm::CacheCpu &c : s->cpu)
			cpu_partial += c.nr_partial;
	std::printf("[          ] slab pages held: peak %zu, bound %zu; parked on per-CPU page lists: peak %zu, bound "
		    "%zu; CPU partial slabs left: %u\n",
		    peak.load(), bound, parked_peak.load(), pcp_bound, cpu_partial);
	EXPECT_LE(peak.load(), bound) << "per-CPU caching grew past its bound";
	EXPECT_LE(parked_peak.load(), pcp_bound) << "per-CPU page lists grew past their high marks";
	EXPECT_EQ(failures.load(), 0u);
	EXPECT_EQ(bad.load(), 0u);
	EXPECT_EQ(freed.load(), static_cast<unsigned long>(producers) * per_producer);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
	EXPECT_EQ(w.problems(), 0u);
	EXPECT_EQ(w.info(cache).active_objs, 0u);
	EXPECT_EQ(w.info(k1k).active_objs, 0u);
	for (const kmem_cache *s : {cache, k1k})
		for (const kmm::CacheCpu &c : s->cpu) {
			EXPECT_LE(kmm::mag_count(c), s->mag_capacity) << s->name;
			EXPECT_LE(c.nr_partial, kmm::kCpuPartialMax) << s->name;
		}

	EXPECT_EQ(w.slab.shrink(cache), 0);
	EXPECT_EQ(w.slab.shrink(k1k), 0);
	EXPECT_EQ(cache->nr_slabs, 0u);
	EXPECT_EQ(k1k->nr_slabs, 0u);
	EXPECT_EQ(w.free_pages(), free0) << "every slab page back";
	EXPECT_EQ(kmm_test::snapshot(w.pa), initial);
	EXPECT_EQ(w.problems(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Threads, SlabSmpProducerConsumer,
			 ::testing::Combine(::testing::Values(2u, 4u, 8u), ::testing::Bool()),
			 [](const auto &info) {
				 return std::to_string(std::get<0>(info.param)) + "Threads" +
					(std::get<1>(info.param) ? "PageLists" : "");
			 });

} // namespace
