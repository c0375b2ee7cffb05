/*
 * tests/host/test_slab_stress.cpp — seeded stress of the slab layer against
 * a reference model: random kmem_cache and kmalloc allocations, frees,
 * kreallocs, bulk calls, shrinks and injected double frees over a private
 * SlabAllocator, with validate() as it goes.
 *
 * The model knows every live block (address, size, fill byte) and, for the
 * ctor cache, the last contents of every freed object; it checks that no two
 * live blocks overlap, that a block's contents survive until it is freed,
 * that a ctor object comes back constructed or exactly as it was left, and
 * that each cache's active object count matches. At the end everything is
 * freed and shrunk, and the buddy allocator must be as right after init.
 *
 * Seed: printed; override with KMM_SEED=<n>. Operations: KMM_STRESS_OPS
 * (default 1,200,000).
 */
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "slub.h"
#include "support/slab_fixture.h"

namespace {

constexpr unsigned char kCtorByte = 0xC7;
constexpr unsigned kCtorSize = 40;

void stress_ctor(void *p) { std::memset(p, kCtorByte, kCtorSize); }

struct Block {
	void *ptr;
	size_t size;      /* bytes the model owns and fills */
	int cache;        /* index into caches, or -1 for kmalloc */
	unsigned char fill;
};

class SlabStress : public ::testing::Test, public kmm_test::SlabWorld {
protected:
	struct CacheSpec {
		const char *name;
		unsigned size, align;
		slab_flags_t flags;
		bool ctor;
	};
	static constexpr CacheSpec kSpecs[] = {
		{"stress-ctor", kCtorSize, 0, 0, true},
		{"stress-100", 100, 0, 0, false},
		{"stress-a64", 200, 64, SLAB_HWCACHE_ALIGN, false},
		{"stress-checked", 72, 0, SLAB_CONSISTENCY_CHECKS, false},
		{"stress-page", static_cast<unsigned>(kmm::kPageSize) + 8, 0, 0, false},
	};
	std::vector<kmem_cache *> caches;
	std::vector<Block> live;
	std::map<uintptr_t, size_t> by_addr; /* start -> size, for overlap checks */
	/* Freed ctor objects: their last fill byte, and the ctor cache's
	 * slabs_freed then — if slabs were freed since, the object may come
	 * back freshly constructed in a new slab at the same address. */
	struct Left {
		unsigned char fill;
		unsigned long slabs_freed;
	};
	std::unordered_map<void *, Left> ctor_state;
	std::vector<unsigned long> model_active;
	kmm_test::Rng rng{0};
	kmm_test::BuddySnapshot after_init;

	void SetUp() override
	{
		boot();
		after_init = kmm_test::snapshot(pa);
		for (const CacheSpec &c : kSpecs) {
			caches.push_back(slab.create(c.name, c.size, c.align, c.flags, c.ctor ? &stress_ctor : nullptr));
			ASSERT_NE(caches.back(), nullptr);
		}
		model_active.assign(caches.size(), 0);
	}

	void track(void *p, size_t size, int cache)
	{
		uintptr_t a = reinterpret_cast<uintptr_t>(p);
		auto next = by_addr.lower_bound(a);
		ASSERT_TRUE(next == by_addr.end() || next->first >= a + size) << "overlaps a live block";
		if (next != by_addr.begin()) {
			auto prev = std::prev(next);
			ASSERT_LE(prev->first + prev->second, a) << "overlaps a live block";
		}
		by_addr.emplace(a, size);
		unsigned char fill = static_cast<unsigned char>(rng.next());
		std::memset(p, fill, size);
		live.push_back(Block{p, size, cache, fill});
		if (cache >= 0)
			++model_active[static_cast<size_t>(cache)];
	}
	static bool filled(const void *ptr, size_t size, unsigned char fill)
	{
		const auto *p = static_cast<const unsigned char *>(ptr);
		for (size_t i = 0; i < size; ++i)
			if (p[i] != fill)
				return false;
		return true;
	}
	void check_contents(const Block &b)
	{
		ASSERT_TRUE(filled(b.ptr, b.size, b.fill)) << "block " << b.ptr << " of " << b.size << " bytes changed";
	}
	/* Constructed, or exactly as its last user left it. */
	void check_ctor_object(size_t ci, void *p)
	{
		auto it = ctor_state.find(p);
		if (it == ctor_state.end()) {
			ASSERT_TRUE(filled(p, kCtorSize, kCtorByte)) << "ctor object " << p << " not constructed";
			return;
		}
		if (filled(p, kCtorSize, it->second.fill))
			return;
		ASSERT_GT(info(caches[ci]).slabs_freed, it->second.slabs_freed)
			<< "ctor object " << p << " not as its last user left it";
		ASSERT_TRUE(filled(p, kCtorSize, kCtorByte)) << "ctor object " << p << " in a new slab not constructed";
	}
	void remember_ctor_object(const Block &b)
	{
		ctor_state[b.ptr] = Left{b.fill, info(caches[static_cast<size_t>(b.cache)]).slabs_freed};
	}
	Block untrack(size_t idx)
	{
		Block b = live[idx];
		live[idx] = live.back();
		live.pop_back();
		by_addr.erase(reinterpret_cast<uintptr_t>(b.ptr));
		if (b.cache >= 0)
			--model_active[static_cast<size_t>(b.cache)];
		return b;
	}

	void alloc_one()
	{
		if (rng.chance(45)) {
			size_t ci = rng.below(caches.size());
			void *p = slab.alloc(caches[ci], GFP_KERNEL | __GFP_NOWARN);
			if (p == nullptr)
				return;
			if (kSpecs[ci].ctor)
				check_ctor_object(ci, p);
			ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % caches[ci]->align, 0u);
			track(p, kSpecs[ci].size, static_cast<int>(ci));
			return;
		}
		size_t max = slab.kmalloc_max_cache_size();
		size_t size = rng.chance(2) ? max + 1 + rng.below(3 * max) : 1 + rng.below(rng.chance(70) ? 256 : max);
		void *p = slab.kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
		if (p == nullptr)
			return;
		ASSERT_GE(slab.ksize(p), size);
		if ((size & (size - 1)) == 0) {
			ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % size, 0u);
		}
		track(p, size, -1);
	}

	void free_one()
	{
		size_t idx = rng.below(live.size());
		Block b = untrack(idx);
		check_contents(b);
		if (b.cache >= 0) {
			if (kSpecs[static_cast<size_t>(b.cache)].ctor)
				remember_ctor_object(b);
			slab.free(caches[static_cast<size_t>(b.cache)], b.ptr);
		} else {
			slab.kfree(b.ptr);
		}
	}

	void realloc_one()
	{
		size_t idx = 0;
		bool found = false;
		for (int tries = 0; tries < 8 && !found; ++tries) {
			idx = rng.below(live.size());
			found = live[idx].cache < 0;
		}
		if (!found)
			return;
		Block b = live[idx];
		check_contents(b);
		size_t max = slab.kmalloc_max_cache_size();
		size_t new_size = 1 + rng.below(rng.chance(10) ? 2 * max : max);
		void *n = slab.krealloc(b.ptr, new_size, GFP_KERNEL | __GFP_NOWARN);
		if (n == nullptr) {
			check_contents(b);
			return;
		}
		untrack(idx);
		const auto *c = static_cast<const unsigned char *>(n);
		for (size_t i = 0; i < std::min(b.size, new_size); ++i)
			ASSERT_EQ(c[i], b.fill) << "krealloc lost data";
		track(n, new_size, -1);
	}

	void double_free_one()
	{
		/* a free then the same free again: caught at the freelist head */
		size_t idx = rng.below(live.size());
		Block b = untrack(idx);
		unsigned long bugs = t.rep.bugs();
		if (b.cache >= 0) {
			if (kSpecs[static_cast<size_t>(b.cache)].ctor)
				remember_ctor_object(b);
			slab.free(caches[static_cast<size_t>(b.cache)], b.ptr);
			slab.free(caches[static_cast<size_t>(b.cache)], b.ptr);
		} else {
			slab.kfree(b.ptr);
			slab.kfree(b.ptr);
		}
		ASSERT_EQ(t.rep.bugs(), bugs + 1) << "double free of " << b.ptr << " not caught";
	}

	void check_model()
	{
		ASSERT_EQ(problems(), 0u);
		for (size_t ci = 0; ci < caches.size(); ++ci)
			ASSERT_EQ(info(caches[ci]).active_objs, model_active[ci]) << kSpecs[ci].name;
	}
};

TEST_F(SlabStress, AgainstAReferenceModel)
{
	const uint64_t seed = kmm_test::test_seed(0x5eed51ab);
	const uint64_t ops = kmm_test::env_u64("KMM_STRESS_OPS", 1200000);
	std::printf("[ seed     ] KMM_SEED=%#llx, %llu ops\n", static_cast<unsigned long long>(seed),
		    static_cast<unsigned long long>(ops));
	RecordProperty("seed", std::to_string(seed));
	rng = kmm_test::Rng(seed);

	size_t target = 2000;
	unsigned long double_frees = 0;
	for (uint64_t op = 0; op < ops; ++op) {
		if (op % 50000 == 0)
			target = 200 + rng.below(4000); /* grow and shrink the live set */
		unsigned r = static_cast<unsigned>(rng.below(1000));
		if (live.empty() || (live.size() < target && r < 600)) {
			alloc_one();
		} else if (r < 960) {
			free_one();
		} else if (r < 990) {
			realloc_one();
		} else if (r < 993) {
			void *p[16];
			size_t ci = rng.below(caches.size());
			if (slab.alloc_bulk(caches[ci], GFP_KERNEL | __GFP_NOWARN, 16, p) == 16)
				for (void *x : p) {
					if (kSpecs[ci].ctor)
						check_ctor_object(ci, x);
					track(x, kSpecs[ci].size, static_cast<int>(ci));
				}
		} else if (r < 995) {
			slab.shrink(caches[rng.below(caches.size())]);
		} else if (r < 996) {
			double_free_one();
			++double_frees;
		} else {
			free_one();
		}
		if (HasFatalFailure())
			FAIL() << "at op " << op << ", seed " << seed;
		if (op % 20000 == 0) {
			check_model();
			if (HasFatalFailure())
				FAIL() << "at op " << op << ", seed " << seed;
		}
	}
	check_model();
	EXPECT_EQ(t.rep.bugs(), double_frees);
	EXPECT_GT(double_frees, 0u);

	while (!live.empty())
		free_one();
	check_model();
	for (kmem_cache *s : caches)
		slab.destroy(s);
	slab.shrink_all();
	EXPECT_EQ(kmm_test::snapshot(pa), after_init) << "seed " << seed;
	EXPECT_EQ(t.rep.bugs(), double_frees) << "no leaks reported on destroy";
}

} // namespace
