/*
 * tests/host/test_slab_smp_pressure.cpp — the slab layer and the page
 * allocator out of memory under concurrency (the 4-CPU mm; host threads
 * stand in for CPUs, more threads than CPUs share slots), over a small
 * arena with the per-CPU page lists on:
 *
 *   - exhaustion: 2, 4 and 8 threads allocate kmalloc blocks of every
 *     class and large ones, objects of a ctor cache and a plain cache, and
 *     page blocks of orders 0…3 until the allocator says no, while they
 *     hand a share to the next thread to free (remote frees), and another
 *     CPU shrinks, drains, reads the figures and validates. Every failed
 *     allocation is a clean NULL (no report, nothing lost or handed out
 *     twice); at the end, everything freed, shrunk and drained, the buddy
 *     state is the one after init and validate() is 0;
 *   - bulk: kmem_cache_alloc_bulk batches (some of which fail for want of
 *     pages and must give back what they got) freed whole by another
 *     thread with kmem_cache_free_bulk, kmalloc batches with kfree_bulk;
 *   - krealloc: threads grow and shrink blocks (slab and large, in place
 *     or moved), hand them on, and the next thread reallocates or frees
 *     them; contents survive every move, a failed krealloc leaves the
 *     block as it was.
 *
 * Seeds: KMM_SEED; steps per thread: KMM_SMP_STEPS (scaled per test).
 * Runs under host-asan and host-tsan too.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "support/slab_fixture.h"
#include "support/smp_items.h"

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

constexpr gfp_t kGfp = GFP_KERNEL | __GFP_NOWARN;
constexpr uint32_t kCtorMagic = 0x0C7055EDu;
constexpr uint32_t kCtorBytes = 96;

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

/* A slab world over `bytes` of its arena with the per-CPU page lists on,
 * two caches, and the buddy state after init (every cache empty, the page
 * lists drained) to come back to. */
struct PressureWorld {
	explicit PressureWorld(size_t bytes)
	{
		w.boot(bytes);
		w.slab.shrink_all();
		initial = kmm_test::snapshot(w.pa);
		ctor_cache = w.slab.create("press-ctor", kCtorBytes, 0, 0, ctor);
		plain = w.slab.create("press-plain", 200, 0, 0, nullptr);
	}
	/* Frees what is left in the mailboxes. */
	void drain(std::vector<Mailbox> &boxes, std::atomic<unsigned long> &bad)
	{
		for (Mailbox &m : boxes)
			for (const Item &it : m.take()) {
				if (!kmm_test::stamped(it))
					bad.fetch_add(1);
				kmm_test::release(w.slab, it);
			}
	}
	/* After the threads: no report, nothing lost — destroyed, shrunk and
	 * drained, the buddy state is the one after init. */
	void expect_all_back()
	{
		/* __GFP_NOWARN: a failure says nothing at all, a report even less */
		EXPECT_EQ(w.t.rep.bugs(), 0u);
		EXPECT_EQ(w.t.cap.lines.size(), 0u) << (w.t.cap.lines.empty() ? "" : w.t.cap.lines.front());
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
};

struct Tally {
	std::atomic<unsigned long> bad{0}, failures{0}, allocs{0}, remote{0}, unclean{0};
};

/* One allocation of a random kind and size, stamped; p NULL on failure. */
Item alloc_random(PressureWorld &pw, Rng &rng, uint32_t tag, Tally &tally)
{
	SlabWorld &w = pw.w;
	Item it;
	it.tag = tag;
	unsigned k = static_cast<unsigned>(rng.below(16));
	if (k < 6) {
		it.bytes = static_cast<uint32_t>(8 + rng.below(1017)); /* 8 … 1024 */
		it.p = w.slab.kmalloc(it.bytes, kGfp);
	} else if (k < 8) {
		it.bytes = static_cast<uint32_t>(1025 + rng.below(2 * kmm::kPageSize - 1024)); /* … two pages */
		it.p = w.slab.kmalloc(it.bytes, kGfp);
	} else if (k < 9) {
		it.bytes = static_cast<uint32_t>(2 * kmm::kPageSize + 1 + rng.below(6 * kmm::kPageSize)); /* large */
		it.p = w.slab.kmalloc(it.bytes, kGfp);
	} else if (k < 11) {
		it.kind = ItemKind::kCache;
		it.cache = pw.ctor_cache;
		it.bytes = kCtorBytes;
		it.skip = sizeof kCtorMagic;
		it.p = w.slab.alloc(it.cache, kGfp);
		if (it.p != nullptr && !constructed(it.p))
			tally.bad.fetch_add(1); /* ctor state lost */
	} else if (k < 13) {
		it.kind = ItemKind::kCache;
		it.cache = pw.plain;
		it.bytes = 200;
		it.p = w.slab.alloc(it.cache, kGfp);
	} else {
		it.kind = ItemKind::kPages;
		it.order = static_cast<uint8_t>(rng.below(kmm::kPcpMaxOrder + 1));
		it.bytes = static_cast<uint32_t>(kmm::kPageSize << it.order);
		struct page *pg = w.pa.alloc(kGfp, it.order);
		it.p = pg != nullptr ? w.pa.page_address(pg) : nullptr;
	}
	if (it.p != nullptr) {
		kmm_test::stamp(it);
		tally.allocs.fetch_add(1, std::memory_order_relaxed);
	} else {
		tally.failures.fetch_add(1, std::memory_order_relaxed);
	}
	return it;
}

void free_checked(SlabWorld &w, const Item &it, Tally &tally)
{
	if (!kmm_test::stamped(it) || (it.kind == ItemKind::kCache && it.skip != 0 && !constructed(it.p)))
		tally.bad.fetch_add(1, std::memory_order_relaxed);
	kmm_test::release(w.slab, it);
}

/* ---- exhaustion ---- */

class SlabSmpExhaustion : public ::testing::TestWithParam<unsigned> {};

/* Each thread fills memory until a few allocations in a row fail, then
 * gives back about half of what it holds — a third of that posted to the
 * next thread, which frees it — and fills again; it frees what was posted
 * to it at every step. A failure must be a plain NULL: no report, and the
 * pages a failed call took on its way (a new slab, a refill, a reclaim)
 * are all accounted for at the end. */
TEST_P(SlabSmpExhaustion, ThreadsRunOutOfPagesWhileOthersFreeAndEveryFailureIsClean)
{
	const unsigned nthreads = GetParam();
	const uint64_t seed = kmm_test::test_seed(0xe8a5u);
	const unsigned steps = static_cast<unsigned>(kmm_test::env_u64("KMM_SMP_STEPS", 30000)) / (3 * kStepDivisor);
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u threads on %u CPUs, %u steps each\n",
		    static_cast<unsigned long long>(seed), nthreads, KMM_NR_CPUS, steps);
	auto pw = std::make_unique<PressureWorld>(size_t{2} << 20);
	SlabWorld &w = pw->w;
	ASSERT_NE(pw->ctor_cache, nullptr);
	ASSERT_NE(pw->plain, nullptr);
	const size_t managed = w.pa.totals().managed;

	std::vector<Mailbox> boxes(nthreads);
	Tally tally;
	std::atomic<unsigned long> exhaustions{0};
	StartGate gate(nthreads);
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < nthreads; ++id)
		threads.emplace_back([&, id] {
			Rng rng(seed * 977 + id);
			std::vector<Item> mine;
			uint32_t seq = 0;
			unsigned in_a_row = 0;
			gate.arrive_and_wait();
			for (unsigned i = 0; i < steps; ++i) {
				for (const Item &it : boxes[id].take()) {
					free_checked(w, it, tally);
					tally.remote.fetch_add(1, std::memory_order_relaxed);
				}
				if (in_a_row < 3) {
					Item it = alloc_random(*pw, rng, (id << 24) | (++seq & 0xFFFFFF), tally);
					if (it.p != nullptr) {
						mine.push_back(it);
						in_a_row = 0;
					} else {
						++in_a_row;
					}
					continue;
				}
				/* out of memory: about half back, a third of it by the next thread */
				exhaustions.fetch_add(1, std::memory_order_relaxed);
				in_a_row = 0;
				for (size_t n = mine.size() / 2; n > 0 && !mine.empty(); --n) {
					size_t k = rng.below(mine.size());
					Item it = mine[k];
					mine[k] = mine.back();
					mine.pop_back();
					if (rng.below(3) != 0 || !boxes[(id + 1) % nthreads].post(it, 512))
						free_checked(w, it, tally);
				}
			}
			for (const Item &it : mine)
				free_checked(w, it, tally);
		});
	/* Meanwhile on another CPU: shrinks and drains, the figures and
	 * (outside TSan, see test_slab_smp.cpp SlabSmpLive) validate(), with
	 * slabs built and given back, reclaim walks and cross-CPU drains all
	 * around. */
	std::atomic<bool> done{false};
	unsigned long rounds = 0, problems = 0, impossible = 0;
	std::thread monitor([&] {
		Rng rng(seed);
		while (!done.load()) {
			switch (rng.below(4)) {
			case 0: impossible += w.slab.shrink(rng.below(2) == 0 ? pw->ctor_cache : pw->plain) > 1; break;
			case 1: w.slab.shrink_all(); break;
			case 2: w.pa.drain_pcp(); break;
			default: break;
			}
#if !defined(__SANITIZE_THREAD__)
			problems += w.slab.validate();
#endif
			for (kmem_cache *s : {pw->ctor_cache, pw->plain, w.slab.kmalloc_cache(512)}) {
				kmem_cache_info i{};
				impossible += w.slab.info(s, &i) != 0 || i.active_objs > i.num_objs ||
					      i.cpu_slabs + i.partial_slabs + i.empty_slabs + i.full_slabs != i.num_slabs;
			}
			kmm::ZoneCounts c = w.pa.totals();
			impossible += c.free > c.managed || c.pcp > c.free;
			++rounds;
			std::this_thread::sleep_for(std::chrono::microseconds(300));
		}
	});
	for (auto &t : threads)
		t.join();
	done = true;
	monitor.join();
	pw->drain(boxes, tally.bad);
	EXPECT_EQ(problems, 0u) << "validate() under pressure, in " << rounds << " rounds";
	EXPECT_EQ(impossible, 0u) << "figures out of their bounds under pressure";

	std::printf("[          ] %lu allocations, %lu failures, %lu exhaustions, %lu remote frees; %zu pages\n",
		    tally.allocs.load(), tally.failures.load(), exhaustions.load(), tally.remote.load(), managed);
	EXPECT_EQ(tally.bad.load(), 0u) << "a block handed out twice, written while held, or a ctor state lost";
	EXPECT_GT(exhaustions.load(), 0u) << "the threads never ran out of memory: no pressure tested";
	EXPECT_GT(tally.remote.load(), 0u);
	pw->expect_all_back();
}

INSTANTIATE_TEST_SUITE_P(Threads, SlabSmpExhaustion, ::testing::Values(2u, 4u, 8u));

/* ---- bulk ---- */

struct Batch {
	std::vector<void *> objs;
	std::vector<uint32_t> tags;
	kmem_cache *cache; /* NULL: kmalloc objects of `bytes`, freed with kfree_bulk */
	uint32_t bytes;
};

class BatchBox {
public:
	bool post(Batch &&b)
	{
		std::lock_guard<std::mutex> g(lock_);
		if (q_.size() >= 8)
			return false;
		q_.push_back(std::move(b));
		return true;
	}
	std::vector<Batch> take()
	{
		std::lock_guard<std::mutex> g(lock_);
		std::vector<Batch> v = std::move(q_);
		q_.clear();
		return v;
	}

private:
	std::mutex lock_;
	std::vector<Batch> q_;
};

/* Batches of a ctor cache, a plain cache (kmem_cache_alloc_bulk, 1…64
 * objects) and of kmalloc blocks (allocated one by one) go to the next
 * thread, which checks and frees each batch in one call: free_bulk(s, …)
 * or kfree_bulk (free_bulk(NULL, …)). The arena is small enough that some
 * bulk allocations fail; a failed one returns 0 and keeps nothing. */
TEST_P(SlabSmpExhaustion, BulkBatchesFreedWholeByAnotherThread)
{
	const unsigned nthreads = GetParam();
	const uint64_t seed = kmm_test::test_seed(0xb01cu);
	const unsigned steps = static_cast<unsigned>(kmm_test::env_u64("KMM_SMP_STEPS", 30000)) / (10 * kStepDivisor);
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u threads on %u CPUs, %u steps each\n",
		    static_cast<unsigned long long>(seed), nthreads, KMM_NR_CPUS, steps);
	auto pw = std::make_unique<PressureWorld>(size_t{1} << 20);
	SlabWorld &w = pw->w;
	ASSERT_NE(pw->ctor_cache, nullptr);
	std::vector<BatchBox> boxes(nthreads);
	std::atomic<unsigned long> bad{0}, batches{0}, failed{0}, remote{0};
	auto check_and_free = [&](Batch &b) {
		for (size_t j = 0; j < b.objs.size(); ++j) {
			Item it{b.objs[j], b.cache != nullptr ? b.cache->object_size : b.bytes, 0, b.tags[j]};
			if (b.cache == pw->ctor_cache) {
				it.skip = sizeof kCtorMagic;
				if (!constructed(it.p))
					bad.fetch_add(1);
			}
			if (!kmm_test::stamped(it))
				bad.fetch_add(1);
		}
		w.slab.free_bulk(b.cache, b.objs.size(), b.objs.data());
	};
	StartGate gate(nthreads);
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < nthreads; ++id)
		threads.emplace_back([&, id] {
			Rng rng(seed * 131 + id);
			std::vector<Batch> held; /* a few kept, so memory runs short */
			uint32_t seq = 0;
			gate.arrive_and_wait();
			for (unsigned i = 0; i < steps; ++i) {
				for (Batch &b : boxes[id].take()) {
					check_and_free(b);
					remote.fetch_add(1, std::memory_order_relaxed);
				}
				Batch b;
				size_t n = 1 + rng.below(64);
				unsigned k = static_cast<unsigned>(rng.below(3));
				b.cache = k == 0 ? pw->ctor_cache : k == 1 ? pw->plain : nullptr;
				b.bytes = b.cache != nullptr ? b.cache->object_size : static_cast<uint32_t>(8 + rng.below(2041));
				b.objs.assign(n, nullptr);
				bool ok;
				if (b.cache != nullptr) {
					int got = w.slab.alloc_bulk(b.cache, kGfp, n, b.objs.data());
					ok = got == static_cast<int>(n);
					if (got != 0 && !ok)
						bad.fetch_add(1); /* all or nothing */
				} else {
					ok = true;
					for (size_t j = 0; j < n && ok; ++j)
						if ((b.objs[j] = w.slab.kmalloc(b.bytes, kGfp)) == nullptr) {
							w.slab.free_bulk(nullptr, j, b.objs.data());
							ok = false;
						}
				}
				if (!ok) {
					failed.fetch_add(1, std::memory_order_relaxed);
					if (!held.empty()) { /* make room */
						check_and_free(held.back());
						held.pop_back();
					}
					continue;
				}
				for (void *p : b.objs) {
					b.tags.push_back((id << 24) | (++seq & 0xFFFFFF));
					Item it{p, b.bytes, 0, b.tags.back()};
					it.skip = b.cache == pw->ctor_cache ? sizeof kCtorMagic : 0;
					if (b.cache == pw->ctor_cache && !constructed(p))
						bad.fetch_add(1);
					kmm_test::stamp(it);
				}
				batches.fetch_add(1, std::memory_order_relaxed);
				if (rng.below(4) == 0) {
					held.push_back(std::move(b));
					if (held.size() > 24) {
						check_and_free(held.front());
						held.erase(held.begin());
					}
				} else if (!boxes[(id + 1) % nthreads].post(std::move(b))) {
					check_and_free(b);
				}
			}
			for (Batch &b : held)
				check_and_free(b);
		});
	for (auto &t : threads)
		t.join();
	for (BatchBox &bx : boxes)
		for (Batch &b : bx.take())
			check_and_free(b);
	std::printf("[          ] %lu batches, %lu failed for want of memory, %lu freed by another thread\n",
		    batches.load(), failed.load(), remote.load());
	EXPECT_EQ(bad.load(), 0u);
	EXPECT_GT(remote.load(), 0u);
	pw->expect_all_back();
}

/* ---- krealloc ---- */

/* Fills [from, to) of p with the pattern of `tag`. */
void fill(void *p, uint32_t from, uint32_t to, uint32_t tag)
{
	auto *b = static_cast<uint8_t *>(p);
	for (uint32_t i = from; i < to; ++i)
		b[i] = static_cast<uint8_t>(tag * 131u + i * 7u);
}
bool filled(const void *p, uint32_t bytes, uint32_t tag)
{
	const auto *b = static_cast<const uint8_t *>(p);
	for (uint32_t i = 0; i < bytes; ++i)
		if (b[i] != static_cast<uint8_t>(tag * 131u + i * 7u))
			return false;
	return true;
}

uint32_t realloc_size(Rng &rng)
{
	switch (rng.below(8)) {
	case 0: return static_cast<uint32_t>(2 * kmm::kPageSize + 1 + rng.below(4 * kmm::kPageSize)); /* large */
	case 1: return static_cast<uint32_t>(1025 + rng.below(2 * kmm::kPageSize - 1024));
	default: return static_cast<uint32_t>(1 + rng.below(1024));
	}
}

/* Threads krealloc blocks they hold (kept in place or moved, slab or
 * large, now and then to 0, which frees) and hand some to the next thread,
 * which reallocates them again before it keeps or frees them: a block is
 * moved and freed by a thread other than the one that allocated it. The
 * whole block is patterned; every krealloc must keep the first
 * min(old, new) bytes, and one that fails (the arena is small) returns
 * NULL and leaves the block as it was. */
TEST_P(SlabSmpExhaustion, KreallocOfBlocksThatOtherThreadsThenReallocateAndFree)
{
	const unsigned nthreads = GetParam();
	const uint64_t seed = kmm_test::test_seed(0x4ea1u);
	const unsigned steps = static_cast<unsigned>(kmm_test::env_u64("KMM_SMP_STEPS", 30000)) / (3 * kStepDivisor);
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u threads on %u CPUs, %u steps each\n",
		    static_cast<unsigned long long>(seed), nthreads, KMM_NR_CPUS, steps);
	auto pw = std::make_unique<PressureWorld>(size_t{2} << 20);
	SlabWorld &w = pw->w;
	std::vector<Mailbox> boxes(nthreads);
	std::atomic<unsigned long> bad{0}, moves{0}, failed{0}, remote{0}, ops{0};
	/* krealloc of it to n bytes: checked, repatterned; false if it failed
	 * (it is then unchanged) */
	auto grow = [&](Item &it, uint32_t n) {
		void *q = w.slab.krealloc(it.p, n, kGfp);
		if (q == nullptr) {
			failed.fetch_add(1, std::memory_order_relaxed);
			if (!filled(it.p, it.bytes, it.tag))
				bad.fetch_add(1); /* a failed krealloc changed the block */
			return false;
		}
		if (!filled(q, std::min(it.bytes, n), it.tag))
			bad.fetch_add(1);
		if (q != it.p)
			moves.fetch_add(1, std::memory_order_relaxed);
		if (n > it.bytes)
			fill(q, it.bytes, n, it.tag);
		it.p = q;
		it.bytes = n;
		return true;
	};
	auto drop = [&](const Item &it) {
		if (!filled(it.p, it.bytes, it.tag))
			bad.fetch_add(1);
		if (it.tag & 1) {
			w.slab.kfree(it.p);
		} else { /* krealloc to 0 frees too */
			if (w.slab.krealloc(it.p, 0, kGfp) != ZERO_SIZE_PTR)
				bad.fetch_add(1);
		}
	};
	StartGate gate(nthreads);
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < nthreads; ++id)
		threads.emplace_back([&, id] {
			Rng rng(seed * 733 + id);
			std::vector<Item> mine;
			uint32_t seq = 0;
			gate.arrive_and_wait();
			for (unsigned i = 0; i < steps; ++i) {
				for (Item it : boxes[id].take()) {
					remote.fetch_add(1, std::memory_order_relaxed);
					grow(it, realloc_size(rng)); /* another thread's block */
					if (rng.below(2) == 0)
						mine.push_back(it);
					else
						drop(it);
				}
				unsigned action = static_cast<unsigned>(rng.below(8));
				if (mine.empty() || (action < 3 && mine.size() < 96)) {
					Item it;
					it.tag = (id << 24) | (++seq & 0xFFFFFF);
					it.bytes = realloc_size(rng);
					it.p = rng.below(2) == 0 ? w.slab.kmalloc(it.bytes, kGfp)
								 : w.slab.krealloc(nullptr, it.bytes, kGfp);
					if (it.p == nullptr) {
						failed.fetch_add(1, std::memory_order_relaxed);
						continue;
					}
					fill(it.p, 0, it.bytes, it.tag);
					mine.push_back(it);
				} else {
					size_t k = rng.below(mine.size());
					if (action < 6) {
						grow(mine[k], realloc_size(rng));
					} else {
						Item it = mine[k];
						mine[k] = mine.back();
						mine.pop_back();
						if (action == 6 || !boxes[(id + 1) % nthreads].post(it, 64))
							drop(it);
					}
				}
				ops.fetch_add(1, std::memory_order_relaxed);
			}
			for (const Item &it : mine)
				drop(it);
		});
	for (auto &t : threads)
		t.join();
	for (Mailbox &m : boxes)
		for (const Item &it : m.take())
			drop(it);
	std::printf("[          ] %lu operations, %lu moves, %lu failed for want of memory, %lu handed on\n",
		    ops.load(), moves.load(), failed.load(), remote.load());
	EXPECT_EQ(bad.load(), 0u) << "contents lost in a krealloc, or a failed one changed its block";
	EXPECT_GT(moves.load(), 0u);
	EXPECT_GT(remote.load(), 0u);
	pw->expect_all_back();
}

/* ---- out of memory with IRQs masked ---- */

extern "C" unsigned int kmm_host_cpu_hold(void);
extern "C" void kmm_host_cpu_unhold(void);

/* An interrupt handler's allocations (GFP_ATOMIC, IRQs masked: on the host
 * the CPU slot held) that run out of memory while other CPUs allocate and
 * free: reclaim cannot call other CPUs from there (the call is refused and
 * becomes a drain request), the page lists are drained under their locks,
 * and every failure is a clean NULL — nothing waits for a CPU that waits
 * for it, and nothing is lost. */
TEST(SlabSmpAtomicPressure, AllocationsWithIrqsMaskedRunOutWhileOthersChurn)
{
	const uint64_t seed = kmm_test::test_seed(0xa70u);
	const unsigned rounds = 60 / kStepDivisor;
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u rounds\n", static_cast<unsigned long long>(seed), rounds);
	auto pw = std::make_unique<PressureWorld>(size_t{1} << 20);
	SlabWorld &w = pw->w;
	constexpr unsigned kChurners = 2;
	std::vector<Mailbox> boxes(kChurners);
	Tally tally;
	std::atomic<bool> stop{false};
	std::vector<std::thread> churners;
	for (unsigned id = 0; id < kChurners; ++id)
		churners.emplace_back([&, id] {
			Rng rng(seed * 17 + id);
			std::vector<Item> mine;
			uint32_t seq = 0;
			while (!stop.load(std::memory_order_relaxed)) {
				if (mine.size() < 64 || rng.below(2) == 0) {
					Item it = alloc_random(*pw, rng, ((id + 8) << 24) | (++seq & 0xFFFFFF), tally);
					if (it.p != nullptr)
						mine.push_back(it);
				}
				if (!mine.empty() && (mine.size() >= 64 || rng.below(2) == 0)) {
					size_t k = rng.below(mine.size());
					free_checked(w, mine[k], tally);
					mine[k] = mine.back();
					mine.pop_back();
				}
			}
			for (const Item &it : mine)
				free_checked(w, it, tally);
		});
	unsigned long atomic_allocs = 0, atomic_failures = 0;
	const unsigned long requests_before = w.slab.remote_drain_requests();
	Rng rng(seed);
	std::vector<Item> held;
	uint32_t seq = 0;
	for (unsigned r = 0; r < rounds; ++r) {
		kmm_host_cpu_hold(); /* "IRQs masked" */
		for (;;) {
			Item it;
			it.tag = (1u << 30) | ++seq;
			if (rng.below(2) == 0) {
				it.bytes = static_cast<uint32_t>(8 + rng.below(4 * kmm::kPageSize));
				it.p = w.slab.kmalloc(it.bytes, GFP_ATOMIC | __GFP_NOWARN);
			} else {
				it.kind = ItemKind::kCache;
				it.cache = pw->plain;
				it.bytes = 200;
				it.p = w.slab.alloc(it.cache, GFP_ATOMIC | __GFP_NOWARN);
			}
			if (it.p == nullptr) {
				++atomic_failures;
				break;
			}
			kmm_test::stamp(it);
			held.push_back(it);
			++atomic_allocs;
		}
		for (const Item &it : held)
			free_checked(w, it, tally);
		held.clear();
		kmm_host_cpu_unhold();
	}
	stop = true;
	for (auto &t : churners)
		t.join();
	std::printf("[          ] %lu allocations with IRQs masked, %lu ran out; %lu drains asked for\n", atomic_allocs,
		    atomic_failures, w.slab.remote_drain_requests() - requests_before);
	EXPECT_EQ(atomic_failures, rounds) << "each round ends at its first failure";
	EXPECT_GT(w.slab.remote_drain_requests(), requests_before) << "reclaim with IRQs masked asks other CPUs";
	EXPECT_EQ(tally.bad.load(), 0u);
	pw->expect_all_back();
}

} // namespace
