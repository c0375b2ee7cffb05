/*
 * tests/host/test_slab_smp.cpp — the slab layer under concurrency, on a
 * build with KMM_NR_CPUS=4 where host threads stand in for CPUs (arch/host:
 * a thread gets the slot with the fewest live threads and keeps it until it
 * exits; more threads than CPUs share slots, and the slot hold emulates
 * "IRQs masked" for them). Runs under the host-tsan preset too.
 *
 *   - stress: 2, 4 and 8 threads churn a ctor cache, a plain cache (bulk
 *     alloc/free), a SLAB_CONSISTENCY_CHECKS cache and kmalloc of mixed
 *     sizes, handing a share of their objects to the next thread, which
 *     frees them (remote frees). Then: validate() == 0, every cache's
 *     active_objs equals the objects the threads still hold, and after
 *     freeing them, shrink and destroy, the buddy state equals the one
 *     after init;
 *   - shrink's guarantees for other CPUs in both RemoteDrain modes;
 *   - memory-pressure reclaim walking the cache table against a concurrent
 *     kmem_cache_destroy;
 *   - the host CPU model (slots dealt, kept, shared, given back).
 */
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "slub_fast.h"
#include "support/job_thread.h"
#include "support/slab_fixture.h"

extern "C" unsigned int kmm_host_cpu_threads(unsigned int cpu);

namespace {

using kmm_test::Rng;
using kmm_test::SlabWorld;

static_assert(KMM_NR_CPUS == 4, "this test is built against the 4-CPU variant");

constexpr uint32_t kCtorMagic = 0xC7012345u;

struct CtorObject {
	uint32_t magic; /* the ctor's; users leave it as found */
	uint32_t owner; /* stamped by the user */
	uint64_t payload[4];
};
std::atomic<unsigned long> ctor_calls{0};
void ctor(void *p)
{
	auto *o = static_cast<CtorObject *>(p);
	o->magic = kCtorMagic;
	o->owner = 0;
	ctor_calls.fetch_add(1, std::memory_order_relaxed);
}

enum Kind : uint8_t { kCtorCache, kPlainCache, kCheckedCache, kKmalloc, kNrKinds };

struct Obj {
	void *p;
	Kind kind;
	uint32_t size; /* kmalloc: the size asked for */
};

/* Marks the first and last byte of an object with its owner's tag; a
 * block handed out twice shows as a wrong tag. */
uint32_t obj_bytes(const Obj &o)
{
	switch (o.kind) {
	case kCtorCache: return sizeof(CtorObject);
	case kPlainCache: return 64;
	case kCheckedCache: return 40;
	default: return o.size;
	}
}
void stamp(const Obj &o, uint8_t tag)
{
	auto *b = static_cast<uint8_t *>(o.p);
	if (o.kind == kCtorCache) {
		static_cast<CtorObject *>(o.p)->owner = tag;
		return;
	}
	b[0] = tag;
	b[obj_bytes(o) - 1] = tag;
}
bool stamped(const Obj &o, uint8_t tag)
{
	auto *b = static_cast<uint8_t *>(o.p);
	if (o.kind == kCtorCache) {
		auto *c = static_cast<CtorObject *>(o.p);
		return c->magic == kCtorMagic && c->owner == tag;
	}
	return b[0] == tag && b[obj_bytes(o) - 1] == tag;
}

struct Handoff {
	std::mutex lock;
	std::deque<Obj> queue;
};

struct World {
	SlabWorld w;
	kmem_cache *caches[3] = {};
	/* the buddy state before the caches existed */
	kmm_test::BuddySnapshot before_caches;
	World()
	{
		w.boot();
		before_caches = kmm_test::snapshot(w.pa);
		caches[kCtorCache] = w.slab.create("smp-ctor", sizeof(CtorObject), 0, 0, ctor);
		caches[kPlainCache] = w.slab.create("smp-plain", 64, 0, 0, nullptr);
		caches[kCheckedCache] = w.slab.create("smp-checked", 40, 0, SLAB_CONSISTENCY_CHECKS, nullptr);
	}
	void free(const Obj &o)
	{
		if (o.kind == kKmalloc)
			w.slab.kfree(o.p);
		else
			w.slab.free(caches[o.kind], o.p);
	}
};

struct Counts {
	std::atomic<unsigned long> bad{0}, failures{0}, ops{0};
};

/* One thread: a random mix of allocations (held in `mine`), frees, bulk
 * pairs and hand-offs to the next thread. Returns what it still holds. */
void worker(World &world, unsigned id, unsigned nthreads, uint64_t seed, unsigned steps,
	    std::vector<Handoff> &handoffs, Counts &counts, std::vector<Obj> &left)
{
	Rng rng(seed * 31 + id);
	const uint8_t tag = static_cast<uint8_t>(id + 1);
	std::vector<Obj> mine;
	auto alloc_one = [&]() {
		Obj o{};
		unsigned k = static_cast<unsigned>(rng.below(10));
		if (k < 2) {
			o.kind = kCtorCache;
			o.p = world.w.slab.alloc(world.caches[kCtorCache], GFP_KERNEL);
			if (o.p != nullptr && static_cast<CtorObject *>(o.p)->magic != kCtorMagic)
				counts.bad.fetch_add(1, std::memory_order_relaxed); /* ctor state lost */
		} else if (k < 4) {
			o.kind = kPlainCache;
			o.p = world.w.slab.alloc(world.caches[kPlainCache], GFP_KERNEL);
		} else if (k < 5) {
			o.kind = kCheckedCache;
			o.p = world.w.slab.alloc(world.caches[kCheckedCache], GFP_KERNEL);
		} else {
			o.kind = kKmalloc;
			o.size = static_cast<uint32_t>(8 + rng.below(1017)); /* 8 … 1024 */
			o.p = world.w.slab.kmalloc(o.size, GFP_KERNEL);
		}
		if (o.p == nullptr) {
			counts.failures.fetch_add(1, std::memory_order_relaxed);
			return;
		}
		stamp(o, tag);
		mine.push_back(o);
	};
	auto free_one = [&](size_t k, uint8_t expect) {
		Obj o = mine[k];
		mine[k] = mine.back();
		mine.pop_back();
		if (!stamped(o, expect))
			counts.bad.fetch_add(1, std::memory_order_relaxed);
		world.free(o);
	};
	for (unsigned i = 0; i < steps; ++i) {
		unsigned action = static_cast<unsigned>(rng.below(16));
		if ((action < 7 && mine.size() < 256) || mine.empty()) {
			alloc_one();
		} else if (action < 12) {
			free_one(rng.below(mine.size()), tag);
		} else if (action < 13) {
			/* bulk: a batch of the plain cache, stamped, freed in one call */
			void *batch[16];
			size_t n = 1 + rng.below(16);
			kmem_cache *s = world.caches[kPlainCache];
			if (world.w.slab.alloc_bulk(s, GFP_KERNEL, n, batch) != static_cast<int>(n)) {
				counts.failures.fetch_add(1, std::memory_order_relaxed);
				continue;
			}
			for (size_t j = 0; j < n; ++j)
				stamp(Obj{batch[j], kPlainCache, 0}, tag);
			for (size_t j = 0; j < n; ++j)
				if (!stamped(Obj{batch[j], kPlainCache, 0}, tag))
					counts.bad.fetch_add(1, std::memory_order_relaxed);
			world.w.slab.free_bulk(s, n, batch);
		} else {
			/* hand one to the next thread; free what was handed to us */
			size_t k = rng.below(mine.size());
			Obj o = mine[k];
			mine[k] = mine.back();
			mine.pop_back();
			Handoff &to = handoffs[(id + 1) % nthreads];
			{
				std::lock_guard<std::mutex> g(to.lock);
				if (to.queue.size() < 64) {
					to.queue.push_back(o);
					o.p = nullptr;
				}
			}
			if (o.p != nullptr) {
				mine.push_back(o);
				free_one(mine.size() - 1, tag);
			}
			Handoff &from = handoffs[id];
			std::lock_guard<std::mutex> g(from.lock);
			const uint8_t prev = static_cast<uint8_t>((id + nthreads - 1) % nthreads + 1);
			while (!from.queue.empty()) {
				Obj r = from.queue.front();
				from.queue.pop_front();
				if (!stamped(r, prev))
					counts.bad.fetch_add(1, std::memory_order_relaxed);
				world.free(r); /* a remote free, mostly */
			}
		}
		counts.ops.fetch_add(1, std::memory_order_relaxed);
	}
	for (Obj &o : mine)
		stamp(o, 0xEE); /* from now on the main thread owns them */
	left = std::move(mine);
}

unsigned long active(SlabWorld &w, kmem_cache *s)
{
	kmem_cache_info i{};
	EXPECT_EQ(w.slab.info(s, &i), 0);
	return i.active_objs;
}

class SlabSmp : public ::testing::TestWithParam<unsigned> {};

/* The figures and validate() stop the other CPUs while they read: run
 * them over and over while three threads churn, with remote frees. */
TEST(SlabSmpLive, ValidateInfoAndSlabinfoWhileOtherCpusAllocate)
{
	World world;
	constexpr unsigned kThreads = 3;
	std::vector<Handoff> handoffs(kThreads);
	Counts counts;
	std::vector<std::vector<Obj>> left(kThreads);
	std::atomic<bool> done{false};
	std::vector<std::thread> threads;
	for (unsigned id = 0; id < kThreads; ++id)
		threads.emplace_back([&, id] {
			while (!done.load(std::memory_order_relaxed)) {
				std::vector<Obj> held;
				worker(world, id, kThreads, 7, 2000, handoffs, counts, held);
				for (const Obj &o : held)
					world.free(o);
			}
		});
	unsigned long rounds = 0, problems = 0, insane = 0, lines = 0;
	const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
	while (std::chrono::steady_clock::now() < until || rounds < 20) {
#if !defined(__SANITIZE_THREAD__)
		/* Not under TSan: on the host a "stopped" CPU is only kept out of
		 * its slot-held sections, while a target CPU stops entirely; the
		 * page allocator runs outside them here (its irq_save is a
		 * barrier), so validate()'s walk of every page descriptor reads
		 * fields (page::order) that another thread's buddy split writes:
		 * a race TSan reports, which a target cannot have. */
		problems += world.w.slab.validate();
#endif
		for (kmem_cache *s : world.caches) {
			kmem_cache_info i{};
			ASSERT_EQ(world.w.slab.info(s, &i), 0);
			if (i.active_objs > i.num_objs || i.active_slabs > i.num_slabs ||
			    i.magazine_objs > KMM_NR_CPUS * kmm::kMagazineMax)
				++insane;
		}
		world.w.slab.slabinfo(
			[](void *ctx, const char *text, size_t len) {
				for (size_t k = 0; k < len; ++k)
					*static_cast<unsigned long *>(ctx) += text[k] == '\n';
			},
			&lines);
		++rounds;
		std::this_thread::sleep_for(std::chrono::microseconds(200)); /* let them run between stops */
	}
	done = true;
	for (auto &t : threads)
		t.join();
	for (auto &h : handoffs)
		for (const Obj &o : h.queue)
			world.free(o);
	EXPECT_EQ(problems, 0u) << "validate() found problems while the others ran";
	if (problems != 0)
		for (const auto &l : world.w.t.cap.lines)
			ADD_FAILURE() << l;
	EXPECT_EQ(insane, 0u);
	EXPECT_GT(lines, rounds * 4) << "slabinfo wrote every cache each round";
	EXPECT_EQ(counts.bad.load(), 0u);
	EXPECT_EQ(counts.failures.load(), 0u);
	EXPECT_EQ(world.w.problems(), 0u);
	EXPECT_EQ(world.w.slab.validate(), 0u);
	std::printf("[          ] %lu rounds of figures (validate too, outside TSan) during %lu operations\n", rounds,
		    counts.ops.load());
}

/* validate_slab_cache walks every CPU's CPU freelist and cuts one whose
 * free pointer looks corrupt. Another CPU pops its own CPU freelist with
 * no lock, so the walk must stop it first: else it follows a pointer into
 * an object that CPU just handed out and is filling, and its "repair"
 * writes NULL into that live object. */
TEST(SlabSmpLive, ValidateSlabCacheWhileAnotherCpuAllocates)
{
	SlabWorld w;
	w.boot();
	constexpr unsigned kSize = 64;
	kmem_cache *s = w.slab.create("smp-vsc", kSize, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	w.slab.set_magazine_size(s, 0); /* every alloc and free on the CPU freelist */
	std::atomic<bool> done{false};
	std::atomic<unsigned long> bad{0}, failures{0}, rounds{0};
	std::thread churn([&] {
		constexpr unsigned kBatch = 48;
		void *batch[kBatch];
		while (!done.load(std::memory_order_relaxed)) {
			for (void *&p : batch) {
				p = w.slab.alloc(s, GFP_KERNEL);
				if (p == nullptr)
					failures.fetch_add(1, std::memory_order_relaxed);
				else
					std::memset(p, 0xA5, kSize); /* over the free pointer too */
			}
			for (void *p : batch) {
				if (p == nullptr)
					continue;
				for (unsigned k = 0; k < kSize; ++k)
					if (static_cast<unsigned char *>(p)[k] != 0xA5) {
						bad.fetch_add(1, std::memory_order_relaxed);
						break;
					}
				w.slab.free(s, p);
			}
			rounds.fetch_add(1, std::memory_order_relaxed);
		}
	});
	unsigned long problems = 0, walks = 0;
	const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
	while (std::chrono::steady_clock::now() < until || walks < 200 || rounds.load() < 20) {
		problems += w.slab.validate_slab_cache(s);
		++walks;
	}
	done = true;
	churn.join();
	EXPECT_EQ(problems, 0u) << "validate_slab_cache reported objects another CPU had handed out";
	EXPECT_EQ(bad.load(), 0u) << "a live object was written by validate_slab_cache's repair";
	EXPECT_EQ(failures.load(), 0u);
	if (problems != 0)
		for (size_t k = 0; k < w.t.cap.lines.size() && k < 6; ++k)
			ADD_FAILURE() << w.t.cap.lines[k];
	w.slab.destroy(s);
	EXPECT_EQ(w.problems(), 0u);
	std::printf("[          ] %lu walks during %lu rounds of %u objects\n", walks, rounds.load(), 48u);
}

TEST_P(SlabSmp, ThreadsChurnCachesAndKmallocWithRemoteFreesAndNothingIsLost)
{
	const unsigned nthreads = GetParam();
	const uint64_t seed = kmm_test::test_seed(0x5eed5u);
	const unsigned steps = static_cast<unsigned>(kmm_test::env_u64("KMM_SMP_STEPS", 30000));
	std::printf("[   SEED   ] KMM_SEED=%#llx, %u threads on %u CPUs, %u steps each\n",
		    static_cast<unsigned long long>(seed), nthreads, KMM_NR_CPUS, steps);
	auto world = std::make_unique<World>();
	SlabWorld &w = world->w;
	for (kmem_cache *s : world->caches)
		ASSERT_NE(s, nullptr);
	kmem_cache *const *caches = world->caches;
	const unsigned long ctor_before = ctor_calls.load();

	std::vector<Handoff> handoffs(nthreads);
	std::vector<std::vector<Obj>> left(nthreads);
	Counts counts;
	std::vector<std::thread> threads;
	for (unsigned i = 0; i < nthreads; ++i)
		threads.emplace_back(worker, std::ref(*world), i, nthreads, seed, steps, std::ref(handoffs),
				     std::ref(counts), std::ref(left[i]));
	for (auto &th : threads)
		th.join();
	std::vector<Obj> held;
	for (auto &l : left)
		held.insert(held.end(), l.begin(), l.end());
	for (auto &h : handoffs)
		for (Obj &o : h.queue) {
			stamp(o, 0xEE);
			held.push_back(o);
		}

	EXPECT_EQ(counts.bad.load(), 0u) << "an object handed out twice, or its ctor state lost";
	EXPECT_EQ(counts.failures.load(), 0u);
	EXPECT_EQ(counts.ops.load(), static_cast<unsigned long>(nthreads) * steps);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
	EXPECT_EQ(w.problems(), 0u);

	/* Live-object counts are exact: what the threads still hold. */
	unsigned long by_kind[kNrKinds] = {};
	std::set<void *> distinct;
	for (const Obj &o : held) {
		++by_kind[o.kind];
		distinct.insert(o.p);
	}
	EXPECT_EQ(distinct.size(), held.size()) << "an object held twice";
	for (unsigned k = 0; k < 3; ++k)
		EXPECT_EQ(active(w, caches[k]), by_kind[k]) << caches[k]->name;
	unsigned long kmalloc_active = 0;
	for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id) {
		kmem_cache *k = w.slab.cache(id);
		if (k != nullptr && k->kmalloc && k != w.slab.boot_cache())
			kmalloc_active += active(w, k);
	}
	EXPECT_EQ(kmalloc_active, by_kind[kKmalloc]);

	/* Per-CPU caching stayed within its bounds on every CPU. */
	for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id) {
		kmem_cache *k = w.slab.cache(id);
		if (k == nullptr)
			continue;
		for (const kmm::CacheCpu &c : k->cpu) {
			EXPECT_LE(kmm::mag_count(c), kmm::kMagazineMax) << k->name;
			EXPECT_LE(c.nr_partial, kmm::kCpuPartialMax) << k->name;
		}
	}

	/* Free everything from this thread (remote frees again), then shrink:
	 * every CPU's caches come back (RemoteDrain::kSync on the host). */
	for (const Obj &o : held) {
		if (!stamped(o, 0xEE) && o.kind != kCtorCache)
			ADD_FAILURE() << "object changed after its thread ended";
		if (o.kind == kCtorCache)
			static_cast<CtorObject *>(o.p)->owner = 0;
		world->free(o);
	}
	EXPECT_EQ(w.problems(), 0u);
	for (unsigned k = 0; k < 3; ++k) {
		w.slab.shrink(caches[k]);
		kmem_cache_info i{};
		ASSERT_EQ(w.slab.info(caches[k], &i), 0);
		EXPECT_EQ(i.num_slabs, 0u) << caches[k]->name << ": shrink left slabs on some CPU";
		EXPECT_EQ(i.magazine_objs, 0u);
		EXPECT_EQ(i.cpu_slabs, 0u);
	}
	EXPECT_GE(ctor_calls.load() - ctor_before, 1u);
	for (unsigned k = 0; k < 3; ++k)
		w.slab.destroy(caches[k]);
	EXPECT_EQ(w.t.rep.bugs(), 0u) << "destroy found objects: some CPU kept them";
	w.slab.shrink_all();
	EXPECT_EQ(w.problems(), 0u);
	/* Their three kmem_cache descriptors are free again: the boot cache
	 * slab that took them is either the one it had before they existed,
	 * or a new one, empty now and given back by shrink_all. Either way the
	 * state before they were created. */
	EXPECT_EQ(kmm_test::snapshot(w.pa), world->before_caches) << "drained, the buddy state is the one after init";
}

INSTANTIATE_TEST_SUITE_P(Threads, SlabSmp, ::testing::Values(2u, 4u, 8u));

using Helper = kmm_test::JobThread; /* keeps its CPU slot until the end of the test */

class SlabSmpDrain : public ::testing::Test {
protected:
	void SetUp() override
	{
		w.boot();
		s = w.slab.create("smp-drain", 128, 0, 0, nullptr);
		ASSERT_NE(s, nullptr);
	}
	/* On the helper: allocates n objects and frees them all, leaving its
	 * magazine full and a CPU slab (and maybe CPU partial slabs). */
	void fill_helper_caches(unsigned n)
	{
		helper.run([&] {
			cpu = kmm_arch_cpu_id();
			std::vector<void *> v;
			for (unsigned i = 0; i < n; ++i)
				v.push_back(w.slab.alloc(s, GFP_KERNEL));
			for (void *p : v)
				w.slab.free(s, p);
		});
	}
	SlabWorld w;
	kmem_cache *s = nullptr;
	unsigned cpu = 0;
	Helper helper;
};

TEST_F(SlabSmpDrain, SyncShrinkDrainsALiveThreadsCpuAtOnce)
{
	fill_helper_caches(200);
	ASSERT_NE(cpu, kmm_arch_cpu_id()) << "the helper has a CPU slot of its own";
	EXPECT_GT(kmm::mag_count(s->cpu[cpu]), 0u);
	EXPECT_NE(s->cpu[cpu].slab, nullptr);
	ASSERT_EQ(w.slab.remote_drain(), kmm::SlabAllocator::RemoteDrain::kSync);
	const unsigned long requests = w.slab.remote_drain_requests();
	EXPECT_EQ(w.slab.shrink(s), 0);
	EXPECT_EQ(w.slab.remote_drain_requests(), requests) << "every other CPU drained by a call";
	EXPECT_EQ(kmm::mag_count(s->cpu[cpu]), 0u);
	EXPECT_EQ(s->cpu[cpu].slab, nullptr);
	EXPECT_EQ(s->cpu[cpu].nr_partial, 0u);
	EXPECT_EQ(s->nr_slabs, 0u);
	EXPECT_EQ(w.problems(), 0u);
	w.slab.destroy(s);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
}

/* A caller with "IRQs masked" (its CPU slot held) cannot wait for a
 * cross-CPU call: the call is refused and the shrink asks instead. */
TEST_F(SlabSmpDrain, SyncShrinkWithIrqsMaskedOnlyAsks)
{
	fill_helper_caches(200);
	const uint32_t cached = kmm::mag_count(s->cpu[cpu]);
	ASSERT_GT(cached, 0u);
	int probe = 0;
	EXPECT_EQ(kmm_arch_cpu_call(cpu, [](void *p) { ++*static_cast<int *>(p); }, &probe), 0);
	EXPECT_EQ(probe, 1) << "a call from a caller with IRQs on runs";
	const unsigned long requests = w.slab.remote_drain_requests();
	kmm_host_cpu_hold();
	EXPECT_EQ(kmm_arch_cpu_call(cpu, [](void *p) { ++*static_cast<int *>(p); }, &probe), -1);
	EXPECT_EQ(probe, 1) << "a refused call runs nothing";
	EXPECT_EQ(w.slab.shrink(s), 1) << "the asked CPU still holds its slabs";
	kmm_host_cpu_unhold();
	EXPECT_EQ(w.slab.remote_drain_requests(), requests + (KMM_NR_CPUS - 1));
	EXPECT_EQ(kmm::mag_count(s->cpu[cpu]), cached) << "asked, not drained";
	EXPECT_EQ(s->cpu[cpu].mag_limit, 0u) << "the trigger for its next free";
	EXPECT_NE(s->cpu[cpu].slab, nullptr);
	EXPECT_EQ(w.problems(), 0u);
	/* IRQs on again: the next shrink drains it at once. */
	EXPECT_EQ(w.slab.shrink(s), 0);
	EXPECT_EQ(w.slab.remote_drain_requests(), requests + (KMM_NR_CPUS - 1));
	EXPECT_EQ(kmm::mag_count(s->cpu[cpu]), 0u);
	EXPECT_EQ(s->cpu[cpu].slab, nullptr);
	EXPECT_EQ(s->nr_slabs, 0u);
	EXPECT_EQ(w.problems(), 0u);
	w.slab.destroy(s);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
}

TEST_F(SlabSmpDrain, RequestedShrinkDrainsAtTheOwnersNextSlowPath)
{
	fill_helper_caches(200);
	w.slab.set_remote_drain(kmm::SlabAllocator::RemoteDrain::kRequest);
	const uint32_t capacity = s->cpu[cpu].mag_limit;
	const uint32_t cached = kmm::mag_count(s->cpu[cpu]);
	ASSERT_GT(cached, 0u);
	EXPECT_EQ(w.slab.shrink(s), 1) << "the asked CPU still holds its slabs";
	/* Not drained yet: asked. Its caches are still bounded. */
	EXPECT_EQ(kmm::mag_count(s->cpu[cpu]), cached);
	EXPECT_NE(s->cpu[cpu].slab, nullptr);
	EXPECT_EQ(s->cpu[cpu].mag_limit, 0u) << "the trigger: its next free leaves the fast path";
	EXPECT_NE(s->cpu[cpu].flush_req, s->cpu[cpu].flush_done);
	EXPECT_EQ(w.problems(), 0u);
	/* The owner's next free: an object from its magazine (fast pop), freed
	 * (slow: honours the request, then keeps just that one object). */
	helper.run([&] {
		void *p = w.slab.alloc(s, GFP_KERNEL);
		w.slab.free(s, p);
	});
	EXPECT_EQ(s->cpu[cpu].flush_req, s->cpu[cpu].flush_done);
	EXPECT_EQ(s->cpu[cpu].mag_limit, capacity);
	EXPECT_EQ(kmm::mag_count(s->cpu[cpu]), 1u);
	EXPECT_EQ(s->cpu[cpu].slab, nullptr);
	EXPECT_EQ(s->cpu[cpu].nr_partial, 0u);
	EXPECT_EQ(w.problems(), 0u);
	/* Its own shrink drains the rest; destroy then finds nothing. */
	helper.run([&] { w.slab.shrink(s); });
	EXPECT_EQ(s->nr_slabs, 0u);
	w.slab.destroy(s);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
}

TEST_F(SlabSmpDrain, RemoteFreesGoToTheFreeingCpusMagazine)
{
	std::vector<void *> v;
	helper.run([&] {
		cpu = kmm_arch_cpu_id();
		for (unsigned i = 0; i < 8; ++i)
			v.push_back(w.slab.alloc(s, GFP_KERNEL));
	});
	const unsigned here = kmm_arch_cpu_id();
	ASSERT_NE(here, cpu);
	const uint32_t before = kmm::mag_count(s->cpu[here]);
	for (void *p : v)
		w.slab.free(s, p);
	EXPECT_EQ(kmm::mag_count(s->cpu[here]), before + 8) << "no lock, no slab touched";
	EXPECT_EQ(kmm::mag_count(s->cpu[cpu]), 0u);
	EXPECT_EQ(w.problems(), 0u);
	w.slab.destroy(s);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
}

/* SMP: a destroy from inside a reclaim walk on its own CPU (an IRQ
 * handler) is refused, not left waiting for the walk it interrupted;
 * meanwhile a walk on another CPU does not make it refuse: there it waits
 * (ReclaimWhileAnotherCpuDestroysCaches). The hook stands for the IRQ. */
TEST(SlabSmpReclaim, DestroyInsideAReclaimWalkOnItsCpuIsRefused)
{
	SlabWorld w;
	w.boot();
	kmem_cache *s = w.slab.create("smp-walk-victim", 64, 0, 0, nullptr);
	ASSERT_NE(s, nullptr);
	struct Ctx {
		kmm::SlabAllocator *slab;
		kmem_cache *s;
		std::atomic<unsigned> calls{0};
	} ctx{&w.slab, s};
	w.slab.set_reclaim_walk_hook(
		[](void *arg) {
			auto *c = static_cast<Ctx *>(arg);
			c->calls.fetch_add(1);
			c->slab->destroy(c->s);
		},
		&ctx);
	std::thread walker([&] { w.slab.shrink_all(); }); /* another CPU slot */
	walker.join();
	w.slab.set_reclaim_walk_hook(nullptr, nullptr);
	EXPECT_EQ(ctx.calls.load(), 1u);
	EXPECT_EQ(w.t.cap.count_containing("kmem_cache_destroy from interrupt context during a reclaim: refused"), 1u);
	EXPECT_TRUE(w.slab.is_live(s));
	void *x = w.slab.alloc(s, GFP_KERNEL);
	ASSERT_NE(x, nullptr);
	w.slab.free(s, x);
	w.slab.destroy(s);
	EXPECT_FALSE(w.slab.is_live(s));
	EXPECT_EQ(w.problems(), 0u);
}

/* Caches created and destroyed on two CPUs at once: each destroy frees a
 * descriptor into the boot cache, whose free checks it against the whole
 * cache table (is_live) while the other CPU's create writes a slot. The
 * table's lock-free reads are atomic (a data race under ThreadSanitizer
 * until the SMP audit); every cache works and nothing is lost. */
TEST(SlabSmpReclaim, CreateAndDestroyOnTwoCpusAtOnce)
{
	SlabWorld w;
	w.boot();
	const size_t free_before = w.free_pages();
	std::atomic<unsigned> failures{0};
	auto cycle = [&](unsigned seed) {
		for (unsigned i = 0; i < 400; ++i) {
			kmem_cache *s = w.slab.create("smp-churn", 32 + 16 * ((seed + i) % 6), 0, 0, nullptr);
			void *x = s != nullptr ? w.slab.alloc(s, GFP_KERNEL) : nullptr;
			if (x == nullptr) {
				failures.fetch_add(1);
				if (s != nullptr)
					w.slab.destroy(s);
				continue;
			}
			w.slab.free(s, x);
			w.slab.destroy(s);
		}
	};
	std::thread other(cycle, 1u);
	cycle(4u);
	other.join();
	EXPECT_EQ(failures.load(), 0u);
	EXPECT_EQ(w.problems(), 0u);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
	w.slab.shrink_all();
	EXPECT_EQ(w.free_pages(), free_before);
}

/* Holds one reclaim walk at its hook (SlabAllocator's test hook) until
 * `go` is set: start(w, walk) runs walk on a thread of its own (another
 * CPU slot), returns once that walk waits at the hook, and takes the hook
 * away, so that no other walk is held. */
struct WalkGate {
	std::atomic<int> in{0}, go{0};
	static void hook(void *arg)
	{
		auto *g = static_cast<WalkGate *>(arg);
		g->in = 1;
		while (g->go.load() == 0)
			std::this_thread::yield();
	}
	template <typename F> std::thread start(SlabWorld &w, F walk)
	{
		w.slab.set_reclaim_walk_hook(&WalkGate::hook, this);
		std::thread walker(walk);
		while (in.load() == 0)
			std::this_thread::yield();
		w.slab.set_reclaim_walk_hook(nullptr, nullptr);
		return walker;
	}
};

/* Two destroys during one reclaim walk: the walk counted itself before
 * either flipped the epoch, and the first destroy's flip moved new walks
 * to the other side. The second destroy used to wait for the side before
 * its own flip only — not the walk's — and freed its cache while the walk
 * could still hold it (the audit's repro: the descriptor reused by the
 * next create, the walk discarding the old cache's slabs with the new
 * one's order). Now each destroy waits until it has seen both sides
 * drained, so neither returns before the walk ends. */
TEST(SlabSmpReclaim, ASecondDestroyAlsoWaitsForAWalkThatBeganBeforeTheFirst)
{
	SlabWorld w;
	w.boot();
	kmem_cache *a = w.slab.create("smp-destroy-a", 64, 0, 0, nullptr);
	kmem_cache *b = w.slab.create("smp-destroy-b", 512, 0, 0, nullptr);
	ASSERT_NE(a, nullptr);
	ASSERT_NE(b, nullptr);
	WalkGate gate;
	std::thread walker = gate.start(w, [&] { w.slab.shrink_all(); }); /* counted, then held */
	const unsigned long epoch = w.slab.reclaim_epoch();
	std::atomic<bool> a_done{false}, b_done{false};
	std::thread da([&] {
		w.slab.destroy(a);
		a_done = true;
	});
	while (w.slab.reclaim_epoch() == epoch) /* a's flip: new walks go to the other side */
		std::this_thread::yield();
	std::thread db([&] {
		w.slab.destroy(b);
		b_done = true;
	});
	std::this_thread::sleep_for(std::chrono::milliseconds(100)); /* room for a wrong early return */
	EXPECT_FALSE(a_done.load());
	EXPECT_FALSE(b_done.load()) << "destroy(b) returned while a walk that began before it still ran";
	gate.go = 1;
	walker.join();
	da.join();
	db.join();
	EXPECT_TRUE(a_done.load());
	EXPECT_TRUE(b_done.load());
	EXPECT_FALSE(w.slab.is_live(a));
	EXPECT_FALSE(w.slab.is_live(b));
	EXPECT_EQ(w.problems(), 0u);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
}

/* kmem_cache_destroy with IRQs masked (on the host: its CPU slot held)
 * waits for a reclaim walk on another CPU, and polls for calls meanwhile
 * (kmm_arch_cpu_call_poll), because that walk drains every CPU by cross-CPU
 * call, this one too. On the host the call takes the slot from outside, so
 * the poll must let it in: the walk's call to the destroyer's CPU and the
 * destroyer's wait for the walk used to wait for each other for good. */
TEST(SlabSmpReclaim, DestroyWithIrqsMaskedServesTheCallOfTheWalkItWaitsFor)
{
	SlabWorld w;
	w.boot();
	kmem_cache *victim = w.slab.create("smp-masked-victim", 64, 0, 0, nullptr);
	kmem_cache *other = w.slab.create("smp-masked-other", 128, 0, 0, nullptr);
	ASSERT_NE(victim, nullptr);
	ASSERT_NE(other, nullptr);
	WalkGate gate;
	std::atomic<bool> walked{false}, destroyed{false};
	std::thread walker = gate.start(w, [&] {
		w.slab.shrink_all();
		walked = true;
	});
	const unsigned long epoch = w.slab.reclaim_epoch();
	std::thread destroyer([&] { /* another slot: "IRQs masked" there */
		kmm_host_cpu_hold();
		w.slab.destroy(victim);
		kmm_host_cpu_unhold();
		destroyed = true;
	});
	while (w.slab.reclaim_epoch() == epoch) /* destroy waits for the walk */
		std::this_thread::yield();
	gate.go = 1; /* the walk goes on: it drains the destroyer's CPU too */
	const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	while (!(walked.load() && destroyed.load()) && std::chrono::steady_clock::now() < until)
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	if (!(walked.load() && destroyed.load())) {
		ADD_FAILURE() << "the walk (done: " << walked.load() << ") and the IRQ-masked destroy (done: "
			      << destroyed.load() << ") wait for each other";
		std::fflush(stdout);
		std::_Exit(1); /* both threads are stuck for good */
	}
	walker.join();
	destroyer.join();
	EXPECT_FALSE(w.slab.is_live(victim));
	w.slab.destroy(other);
	EXPECT_EQ(w.problems(), 0u);
	EXPECT_EQ(w.t.rep.bugs(), 0u);
}

/* Memory-pressure reclaim (shrink_all) walks every cache while another
 * CPU creates and destroys caches: a cache destroyed under the walk is
 * neither reported as "not a live cache" nor touched after it is freed
 * (destroy waits for the walks that started before it; under ASan a
 * freed kmem_cache is poisoned), and nothing is lost. */
TEST(SlabSmpReclaim, ReclaimWhileAnotherCpuDestroysCaches)
{
	SlabWorld w;
	w.boot();
	std::atomic<bool> done{false};
	std::atomic<unsigned long> walks{0};
	std::thread reclaimer([&] {
		while (!done.load(std::memory_order_relaxed)) {
			w.slab.shrink_all();
			walks.fetch_add(1, std::memory_order_relaxed);
		}
	});
	unsigned long cycles = 0;
	const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
	while (std::chrono::steady_clock::now() < until || cycles < 500) {
		kmem_cache *s = w.slab.create("victim", 48 + 8 * (cycles % 8), 0, 0, nullptr);
		void *x = s != nullptr ? w.slab.alloc(s, GFP_KERNEL) : nullptr;
		if (x == nullptr) { /* stop the reclaimer before failing: no joinable thread left behind */
			done = true;
			reclaimer.join();
			for (const auto &l : w.t.cap.lines)
				ADD_FAILURE() << l;
			FAIL() << (s == nullptr ? "create" : "alloc") << " failed after " << cycles << " cycles";
		}
		w.slab.free(s, x);
		w.slab.destroy(s);
		++cycles;
	}
	done = true;
	reclaimer.join();
	EXPECT_GT(walks.load(), 10u);
	EXPECT_EQ(w.t.rep.bugs(), 0u) << (w.t.cap.lines.empty() ? std::string() : w.t.cap.lines.front());
	EXPECT_EQ(w.problems(), 0u);
	EXPECT_EQ(w.slab.validate(), 0u);
	std::printf("[          ] %lu create/destroy cycles against %lu reclaim walks\n", cycles, walks.load());
}

/* The host CPU model: live threads up to KMM_NR_CPUS get slots of their
 * own; beyond that they share; an exiting thread gives its slot back. */
TEST(HostCpuModel, ThreadsGetSlotsOfTheirOwnThenShareThenGiveThemBack)
{
	const unsigned main_cpu = kmm_arch_cpu_id();
	unsigned before[KMM_NR_CPUS];
	for (unsigned c = 0; c < KMM_NR_CPUS; ++c)
		before[c] = kmm_host_cpu_threads(c);
	{
		std::vector<std::unique_ptr<Helper>> helpers;
		std::set<unsigned> cpus{main_cpu};
		/* other test threads have exited: only this one holds a slot */
		for (unsigned c = 0; c < KMM_NR_CPUS; ++c)
			ASSERT_EQ(kmm_host_cpu_threads(c), c == main_cpu ? 1u : 0u);
		for (unsigned i = 1; i < KMM_NR_CPUS; ++i) {
			helpers.push_back(std::make_unique<Helper>());
			unsigned c = 0;
			helpers.back()->run([&] { c = kmm_arch_cpu_id(); });
			cpus.insert(c);
		}
		EXPECT_EQ(cpus.size(), size_t{KMM_NR_CPUS}) << "a slot each";
		helpers.push_back(std::make_unique<Helper>());
		unsigned shared = 0;
		helpers.back()->run([&] { shared = kmm_arch_cpu_id(); });
		EXPECT_EQ(kmm_host_cpu_threads(shared), 2u) << "one more thread shares";
	}
	for (unsigned c = 0; c < KMM_NR_CPUS; ++c)
		EXPECT_EQ(kmm_host_cpu_threads(c), before[c]) << "exited threads gave their slots back";
}

} // namespace
