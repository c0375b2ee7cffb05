/*
 * tests/host/test_slab_smp_maint.cpp — the slab layer's maintenance calls
 * and figures racing with allocations on other CPUs (the 4-CPU mm; host
 * threads stand in for CPUs), with the per-CPU page lists on:
 *
 *   - kmem_cache_shrink, kmm_slab_shrink_all, kmm_drain_pages,
 *     set_magazine_size and set_min_partial from one thread while others
 *     allocate and free (with remote frees) on the same caches, in both
 *     RemoteDrain modes: nothing handed out twice, no ctor state lost, no
 *     report, and everything back at the end;
 *   - slabinfo, slabstats, kmem_cache_get_info, buddyinfo and the page
 *     counts taken while others allocate: every figure possible (no count
 *     above its total, slabs add up, per-CPU caching within its bounds);
 *   - the lazy start of the slab layer: several CPUs make their first
 *     kmalloc/kfree at once on an allocator nobody started.
 *
 * Seeds: KMM_SEED; steps: KMM_SMP_STEPS. Runs under host-asan and
 * host-tsan too.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/slab_fixture.h"
#include "support/smp_items.h"

namespace kmm {
inline void PrintTo(SlabAllocator::RemoteDrain mode, std::ostream *os)
{
	*os << (mode == SlabAllocator::RemoteDrain::kSync ? "kSync" : "kRequest");
}
} // namespace kmm

namespace {

using kmm_test::Item;
using kmm_test::ItemKind;
using kmm_test::Mailbox;
using kmm_test::Rng;
using kmm_test::SlabWorld;
using kmm_test::StartGate;

static_assert(KMM_NR_CPUS == 4, "this test is built against the 4-CPU variant");

/* ThreadSanitizer runs these about ten times slower: fewer steps there,
 * so each test still takes a few seconds. */
#if defined(__SANITIZE_THREAD__)
constexpr unsigned kStepDivisor = 3;
#else
constexpr unsigned kStepDivisor = 1;
#endif

constexpr uint32_t kCtorMagic = 0xC7A11ED5u;
void ctor(void *p)
{
	std::memcpy(p, &kCtorMagic, sizeof kCtorMagic);
}
bool constructed(const void *p)
{
	uint32_t m;
	std::memcpy(&m, p, sizeof m);
	return m == kCtorMagic;
}

/* Slab world with the per-CPU page lists, a ctor cache and a plain cache,
 * and churning threads that allocate, free and post objects to each
 * other. */
struct ChurnWorld {
	explicit ChurnWorld(size_t bytes = 0)
	{
		w.boot(bytes);
		w.slab.shrink_all();
		initial = kmm_test::snapshot(w.pa);
		ctor_cache = w.slab.create("maint-ctor", 72, 0, 0, ctor);
		plain = w.slab.create("maint-plain", 320, 0, 0, nullptr);
	}
	Item alloc(Rng &rng, uint32_t tag)
	{
		Item it;
		it.tag = tag;
		switch (rng.below(4)) {
		case 0:
			it.kind = ItemKind::kCache;
			it.cache = ctor_cache;
			it.bytes = 72;
			it.skip = sizeof kCtorMagic;
			break;
		case 1:
			it.kind = ItemKind::kCache;
			it.cache = plain;
			it.bytes = 320;
			break;
		default:
			it.bytes = static_cast<uint32_t>(8 + rng.below(2 * kmm::kPageSize - 8));
			break;
		}
		it.p = it.kind == ItemKind::kCache ? w.slab.alloc(it.cache, GFP_KERNEL) : w.slab.kmalloc(it.bytes, GFP_KERNEL);
		if (it.p != nullptr) {
			if (it.cache == ctor_cache && !constructed(it.p))
				bad.fetch_add(1);
			kmm_test::stamp(it);
		} else {
			failures.fetch_add(1);
		}
		return it;
	}
	void free(const Item &it)
	{
		if (!kmm_test::stamped(it) || (it.cache == ctor_cache && !constructed(it.p)))
			bad.fetch_add(1, std::memory_order_relaxed);
		kmm_test::release(w.slab, it);
	}
	/* One churning thread: `steps` steps, or until `stop` when steps is 0. */
	void churn(unsigned id, unsigned nthreads, uint64_t seed, unsigned steps, std::vector<Mailbox> &boxes,
		   const std::atomic<bool> &stop)
	{
		Rng rng(seed * 613 + id);
		std::vector<Item> mine;
		uint32_t seq = 0;
		for (unsigned i = 0; steps != 0 ? i < steps : !stop.load(std::memory_order_relaxed); ++i) {
			for (const Item &it : boxes[id].take())
				free(it);
			unsigned action = static_cast<unsigned>(rng.below(8));
			if (mine.empty() || (action < 4 && mine.size() < 200)) {
				Item it = alloc(rng, (id << 24) | (++seq & 0xFFFFFF));
				if (it.p != nullptr)
					mine.push_back(it);
			} else {
				size_t k = rng.below(mine.size());
				Item it = mine[k];
				mine[k] = mine.back();
				mine.pop_back();
				if (action == 7 && boxes[(id + 1) % nthreads].post(it, 128))
					continue; /* freed by the next thread */
				free(it);
			}
			ops.fetch_add(1, std::memory_order_relaxed);
		}
		for (const Item &it : mine)
			free(it);
	}
	void free_posted(std::vector<Mailbox> &boxes)
	{
		for (Mailbox &m : boxes)
			for (const Item &it : m.take())
				free(it);
	}
	void expect_all_back()
	{
		w.slab.set_remote_drain(kmm::SlabAllocator::RemoteDrain::kSync);
		EXPECT_EQ(bad.load(), 0u) << "an object handed out twice, written while held, or a ctor state lost";
		EXPECT_EQ(failures.load(), 0u);
		EXPECT_EQ(w.t.rep.bugs(), 0u);
		EXPECT_EQ(w.t.cap.bug_lines(), 0u) << (w.t.cap.lines.empty() ? "" : w.t.cap.lines.front());
		EXPECT_EQ(w.problems(), 0u);
		EXPECT_EQ(w.info(ctor_cache).active_objs, 0u);
		EXPECT_EQ(w.info(plain).active_objs, 0u);
		w.slab.destroy(ctor_cache);
		w.slab.destroy(plain);
		EXPECT_EQ(w.t.rep.bugs(), 0u) << "destroy found objects left";
		w.slab.shrink_all();
		EXPECT_EQ(w.problems(), 0u);
		EXPECT_EQ(kmm_test::snapshot(w.pa), initial) << "drained, the buddy state is the one after init";
	}

	SlabWorld w{KMM_PCP_HIGH};
	kmm_test::BuddySnapshot initial;
	kmem_cache *ctor_cache = nullptr;
	kmem_cache *plain = nullptr;
	std::atomic<unsigned long> bad{0}, failures{0}, ops{0};
};

/* ---- maintenance against churn ---- */

class SlabSmpMaintenance : public ::testing::TestWithParam<kmm::SlabAllocator::RemoteDrain> {};

TEST_P(SlabSmpMaintenance, ShrinkDrainAndTuningWhileOtherCpusAllocateAndFree)
{
	const uint64_t seed = kmm_test::test_seed(0x5a1cu);
	const unsigned steps = static_cast<unsigned>(kmm_test::env_u64("KMM_SMP_STEPS", 30000)) / (2 * kStepDivisor);
	constexpr unsigned kThreads = 3;
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u churning threads and one maintainer, %u steps each\n",
		    static_cast<unsigned long long>(seed), kThreads, steps);
	auto cw = std::make_unique<ChurnWorld>();
	SlabWorld &w = cw->w;
	ASSERT_NE(cw->ctor_cache, nullptr);
	ASSERT_NE(cw->plain, nullptr);
	w.slab.set_remote_drain(GetParam());
	kmem_cache *k64 = w.slab.kmalloc_cache(64), *k1k = w.slab.kmalloc_cache(1024);
	std::vector<Mailbox> boxes(kThreads);
	std::atomic<bool> stop{false};
	std::atomic<unsigned long> maint_ops{0}, bad_returns{0};
	/* A fixed number of maintenance calls, and the churn goes on until
	 * they are done and each thread has made its steps (on a loaded
	 * machine either side may get little time). */
	constexpr unsigned kMaintCalls = 300;
	std::thread maintainer([&] {
		Rng rng(seed * 7919);
		for (unsigned i = 0; i < kMaintCalls; ++i) {
			switch (rng.below(8)) {
			case 0: bad_returns += w.slab.shrink(cw->ctor_cache) > 1; break;
			case 1: bad_returns += w.slab.shrink(cw->plain) > 1; break;
			case 2: bad_returns += w.slab.shrink(rng.below(2) == 0 ? k64 : k1k) > 1; break;
			case 3: w.slab.shrink_all(); break;
			case 4: w.pa.drain_pcp(); break;
			case 5: w.slab.set_magazine_size(cw->plain, static_cast<unsigned>(rng.below(kmm::kMagazineMax + 1))); break;
			case 6: w.slab.set_magazine_size(k64, static_cast<unsigned>(rng.below(kmm::kMagazineMax + 1))); break;
			default: w.slab.set_min_partial(cw->ctor_cache, static_cast<unsigned>(rng.below(6))); break;
			}
			maint_ops.fetch_add(1, std::memory_order_relaxed);
			std::this_thread::yield();
		}
	});
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < kThreads; ++id)
		threads.emplace_back([&, id] { cw->churn(id, kThreads, seed, 0, boxes, stop); });
	maintainer.join();
	while (cw->ops.load() < static_cast<unsigned long>(kThreads) * steps)
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	stop = true;
	for (auto &t : threads)
		t.join();
	cw->free_posted(boxes);
	std::printf("[          ] %lu operations against %lu maintenance calls, %lu drains asked for\n",
		    cw->ops.load(), maint_ops.load(), w.slab.remote_drain_requests());
	EXPECT_EQ(maint_ops.load(), kMaintCalls);
	EXPECT_EQ(bad_returns.load(), 0u) << "kmem_cache_shrink returns 0 or 1";
	/* the caches as they were, then everything back */
	w.slab.set_magazine_size(cw->plain, kmm::kMagazineMax);
	w.slab.set_magazine_size(k64, kmm::kMagazineMax);
	cw->expect_all_back();
}

INSTANTIATE_TEST_SUITE_P(Drain, SlabSmpMaintenance,
			 ::testing::Values(kmm::SlabAllocator::RemoteDrain::kSync,
					   kmm::SlabAllocator::RemoteDrain::kRequest),
			 [](const auto &info) {
				 return info.param == kmm::SlabAllocator::RemoteDrain::kSync ? "Sync" : "Request";
			 });

/* ---- figures against churn ---- */

/* slabinfo's data lines: problems with the figures of each. */
unsigned long check_slabinfo(const std::string &text, std::string &first)
{
	unsigned long problems = 0, lines = 0;
	std::istringstream in(text);
	std::string line;
	while (std::getline(in, line)) {
		if (line.empty() || line[0] == '#' || line.rfind("slabinfo", 0) == 0)
			continue;
		char name[64];
		unsigned long active, num, objsize, per_slab, pages, limit, batch, shared, active_slabs, num_slabs, avail;
		int n = std::sscanf(line.c_str(),
				    "%63s %lu %lu %lu %lu %lu : tunables %lu %lu %lu : slabdata %lu %lu %lu", name,
				    &active, &num, &objsize, &per_slab, &pages, &limit, &batch, &shared, &active_slabs,
				    &num_slabs, &avail);
		++lines;
		if (n != 12 || active > num || num != num_slabs * per_slab || active_slabs > num_slabs ||
		    limit > kmm::kMagazineMax || batch > limit) {
			if (problems++ == 0)
				first = line;
		}
	}
	return lines == 0 ? 1 : problems;
}

/* buddyinfo's "zone ... managed N, free N" line: free within managed. */
unsigned long check_buddyinfo(const std::string &text, std::string &first)
{
	unsigned long problems = 0, seen = 0;
	std::istringstream in(text);
	std::string line;
	while (std::getline(in, line)) {
		size_t at = line.find("managed ");
		if (line.rfind("zone ", 0) != 0 || at == std::string::npos)
			continue;
		unsigned long managed = 0, free = 0;
		++seen;
		if (std::sscanf(line.c_str() + at, "managed %lu, free %lu", &managed, &free) != 2 || free > managed) {
			if (problems++ == 0)
				first = line;
		}
	}
	return seen == 0 ? 1 : problems;
}

/* The figures stop the other CPUs (slab) or hold every per-CPU lock
 * (pages) while they read, so whatever the others do, each is a possible
 * state: an object count within its total, slabs that add up, per-CPU
 * caching within its bounds, free pages within the managed ones and
 * per-CPU list pages within the lists' high marks. validate() too, outside
 * TSan (test_slab_smp.cpp SlabSmpLive says why). */
TEST(SlabSmpFigures, EveryFigureIsPossibleWhileOtherCpusAllocate)
{
	const uint64_t seed = kmm_test::test_seed(0xf19u);
	std::printf("[   SEED   ] KMM_SEED=%#llx\n", static_cast<unsigned long long>(seed));
	auto cw = std::make_unique<ChurnWorld>();
	SlabWorld &w = cw->w;
	ASSERT_NE(cw->ctor_cache, nullptr);
	constexpr unsigned kThreads = 3;
	std::vector<Mailbox> boxes(kThreads);
	std::atomic<bool> stop{false};
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < kThreads; ++id)
		threads.emplace_back([&, id] { cw->churn(id, kThreads, seed, 0, boxes, stop); });

	size_t pcp_bound = 0;
	for (unsigned o = 0; o <= kmm::kPcpMaxOrder; ++o)
		pcp_bound += size_t{std::max(1u, unsigned{KMM_PCP_HIGH} >> o)} << o;
	pcp_bound *= KMM_NR_CPUS * KMM_NR_ZONES;
	const size_t managed = w.pa.totals().managed;
	unsigned long rounds = 0, problems = 0, validate_problems = 0;
	std::string first;
	auto note = [&](bool bad, const std::string &what) {
		if (bad && problems++ == 0)
			first = what;
	};
	const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
	while (std::chrono::steady_clock::now() < until || rounds < 30) {
		kmm_test::TextSink info, stats, buddy;
		w.slab.slabinfo(&kmm_test::TextSink::sink, &info);
		problems += check_slabinfo(info.text, first);
		w.slab.slabstats(&kmm_test::TextSink::sink, &stats);
		note(stats.text.find("maint-plain") == std::string::npos, "slabstats without a cache: " + stats.text);
		w.pa.buddyinfo(&kmm_test::TextSink::sink, &buddy);
		problems += check_buddyinfo(buddy.text, first);
		for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id) {
			kmem_cache *s = w.slab.cache(id);
			kmem_cache_info i{};
			if (s == nullptr || w.slab.info(s, &i) != 0)
				continue;
			note(i.active_objs > i.num_objs || i.active_slabs > i.num_slabs ||
				     i.num_objs != i.num_slabs * i.objects_per_slab ||
				     i.magazine_objs > size_t{KMM_NR_CPUS} * kmm::kMagazineMax ||
				     i.cpu_slabs > KMM_NR_CPUS * (1 + kmm::kCpuPartialMax) ||
				     i.cpu_slabs + i.partial_slabs + i.empty_slabs + i.full_slabs != i.num_slabs,
			     std::string("kmem_cache_get_info of ") + s->name);
		}
		kmm::ZoneCounts c = w.pa.totals();
		note(c.managed != managed || c.free > c.managed || c.pcp > c.free || c.pcp > pcp_bound,
		     "page counts");
#if !defined(__SANITIZE_THREAD__)
		validate_problems += w.slab.validate();
#endif
		++rounds;
		std::this_thread::sleep_for(std::chrono::microseconds(200));
	}
	stop = true;
	for (auto &t : threads)
		t.join();
	cw->free_posted(boxes);
	std::printf("[          ] %lu rounds of figures during %lu operations\n", rounds, cw->ops.load());
	EXPECT_EQ(problems, 0u) << "first: " << first;
	EXPECT_EQ(validate_problems, 0u);
	cw->expect_all_back();
}

/* ---- the lazy start ---- */

/* An allocator that nobody started: the first kmalloc (or kfree) of each
 * CPU may find it unstarted, start it, or find it started by another CPU
 * meanwhile. Four CPUs make their first calls at once, round after round
 * on fresh allocators: each gets its blocks, the slab layer starts once
 * (one set of kmalloc caches), and under ThreadSanitizer no access races
 * with the start. */
TEST(SlabSmpLazyStart, FirstCallsOnSeveralCpusAtOnce)
{
	constexpr unsigned kRounds = 40, kThreads = 4;
	const size_t sizes[] = {8, 24, 96, 192, 256, 1000, 2048, 3 * kmm::kPageSize};
	for (unsigned round = 0; round < kRounds; ++round) {
		auto w = std::make_unique<SlabWorld>();
		ASSERT_EQ(w->pa.add_region(w->arena.base(), w->arena.size(), KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(w->pa.init(), 0);
		ASSERT_FALSE(w->slab.initialized());
		StartGate gate(kThreads);
		std::atomic<unsigned long> failures{0}, bad{0};
		std::vector<std::thread> threads;
		for (unsigned id = 0; id < kThreads; ++id)
			threads.emplace_back([&, id] {
				kmm_arch_cpu_id(); /* dealt a CPU before the start */
				gate.arrive_and_wait();
				if (id == 0)
					w->slab.kfree(nullptr); /* a kfree can come first too */
				std::vector<void *> held;
				for (size_t k = 0; k < std::size(sizes); ++k) {
					size_t n = sizes[(k + id) % std::size(sizes)];
					void *p = w->slab.kmalloc(n, GFP_KERNEL);
					if (p == nullptr) {
						failures.fetch_add(1);
						continue;
					}
					std::memset(p, static_cast<int>(id + 1), n);
					held.push_back(p);
				}
				for (void *p : held) {
					if (*static_cast<unsigned char *>(p) != id + 1)
						bad.fetch_add(1);
					w->slab.kfree(p);
				}
			});
		for (auto &t : threads)
			t.join();
		ASSERT_EQ(failures.load(), 0u) << "round " << round;
		ASSERT_EQ(bad.load(), 0u) << "round " << round;
		ASSERT_TRUE(w->slab.initialized());
		unsigned kmalloc_caches = 0;
		for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id)
			if (kmem_cache *s = w->slab.cache(id); s != nullptr && s->kmalloc && s != w->slab.boot_cache())
				++kmalloc_caches;
		unsigned classes = 0;
		for (size_t n = 8; n <= w->slab.kmalloc_max_cache_size(); n *= 2)
			++classes;
		ASSERT_EQ(kmalloc_caches, classes + 2) << "one set of classes (and 96, 192): the start ran once";
		ASSERT_EQ(w->t.rep.bugs(), 0u);
		ASSERT_EQ(w->problems(), 0u);
	}
}

} // namespace
