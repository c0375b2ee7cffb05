/*
 * tests/host/test_kmm_hpp.cpp — the C++ wrappers of kmm/kmm.hpp over the
 * global allocator: ObjectCache<T> (constructor/destructor per make/destroy,
 * make_gfp's flags reaching kmem_cache_alloc, a throwing constructor),
 * PreservingCache<T> (constructor once per object at slab creation, state
 * kept across uses), KmallocAllocator<T> under standard containers.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <kmm/kmm.h>
#include <kmm/kmm.hpp>

#include "support/arena.h"
#include "support/global_kmm.h"

namespace {

class KmmHpp : public kmm_test::GlobalKmm {
protected:
	KmmHpp() : GlobalKmm(size_t{8} << 20) {}

	static unsigned long active(struct kmem_cache *s)
	{
		kmem_cache_info i{};
		EXPECT_EQ(kmem_cache_get_info(s, &i), 0);
		return i.active_objs;
	}
};

struct Tracked {
	static inline int constructed = 0, destroyed = 0;
	int a;
	std::string s;
	Tracked(int v, const char *text) : a(v), s(text) { ++constructed; }
	~Tracked() { ++destroyed; }
};

TEST_F(KmmHpp, ObjectCacheRunsCtorOnMakeAndDtorOnDestroy)
{
	Tracked::constructed = Tracked::destroyed = 0;
	{
		kmm::ObjectCache<Tracked> cache("tracked");
		ASSERT_TRUE(cache.valid());
		EXPECT_EQ(kmem_cache_size(cache.cache()), sizeof(Tracked));
		std::vector<Tracked *> v;
		for (int k = 0; k < 100; ++k)
			v.push_back(cache.make(k, "a string long enough to live on the heap"));
		EXPECT_EQ(Tracked::constructed, 100);
		EXPECT_EQ(active(cache.cache()), 100u);
		for (int k = 0; k < 100; ++k) {
			EXPECT_EQ(v[static_cast<size_t>(k)]->a, k);
			EXPECT_EQ(reinterpret_cast<uintptr_t>(v[static_cast<size_t>(k)]) % alignof(Tracked), 0u);
		}
		for (Tracked *p : v)
			cache.destroy(p);
		cache.destroy(nullptr);
		EXPECT_EQ(Tracked::destroyed, 100);
		EXPECT_EQ(active(cache.cache()), 0u);
	} /* destroys the cache: no leak report */
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(KmmHpp, ObjectCacheDestructionWithLiveObjectsIsReported)
{
	struct Pod {
		long x[3];
	};
	Pod *leak;
	struct kmem_cache *raw;
	{
		kmm::ObjectCache<Pod> cache("pods");
		raw = cache.cache();
		leak = cache.make();
		ASSERT_NE(leak, nullptr);
	}
	EXPECT_EQ(kmm_bug_count(), 1u);
	EXPECT_EQ(cap.count_containing("Objects remaining in pods on destroy"), 1u);
	kmem_cache_free(raw, leak); /* the cache was kept */
	kmem_cache_destroy(raw);
	EXPECT_EQ(kmem_cache_name(raw), nullptr);
}

/* GFP_DMA from a cache without SLAB_CACHE_DMA is refused (NULL and a BUG
 * report). That makes the flags that reach kmem_cache_alloc visible. */
constexpr gfp_t kDmaProbe = GFP_DMA | __GFP_NOWARN | __GFP_NORETRY;

/* A cache that could not be created (here: an object larger than any
 * slab) is not valid(), and make() on it returns NULL with a report, as the
 * header promises, instead of dereferencing the NULL cache. */
TEST_F(KmmHpp, MakeOnACacheThatCouldNotBeCreatedReturnsNull)
{
	struct Huge {
		char bytes[size_t{PAGE_SIZE} << (KMM_MAX_ORDER + 1)];
	};
	cap.clear();
	kmm::ObjectCache<Huge> c("hpp-huge");
	EXPECT_FALSE(c.valid());
	const unsigned long bugs = kmm_bug_count();
	EXPECT_EQ(c.make(), nullptr);
	EXPECT_EQ(kmm_bug_count(), bugs + 1u);
	EXPECT_EQ(cap.count_containing("kmem_cache_alloc: 0x0 is not a live cache"), 1u);
}

TEST_F(KmmHpp, MakeGfpPassesItsFlagsToTheCache)
{
	Tracked::constructed = Tracked::destroyed = 0;
	kmm::ObjectCache<Tracked> cache("tracked_gfp");
	ASSERT_TRUE(cache.valid());
	EXPECT_EQ(cache.make_gfp(kDmaProbe, 1, "never built"), nullptr) << "GFP_DMA did not reach the cache";
	EXPECT_EQ(kmm_bug_count(), 1u);
	EXPECT_EQ(Tracked::constructed, 0) << "no object, no constructor";
	EXPECT_EQ(active(cache.cache()), 0u);

	Tracked *atomic = cache.make_gfp(GFP_ATOMIC, 7, "atomic");
	ASSERT_NE(atomic, nullptr);
	EXPECT_EQ(atomic->a, 7);
	EXPECT_EQ(atomic->s, "atomic");
	EXPECT_EQ(active(cache.cache()), 1u);
	cache.destroy(atomic);
	EXPECT_EQ(Tracked::destroyed, 1);
	EXPECT_EQ(kmm_bug_count(), 1u);
}

TEST_F(KmmHpp, MakeGfpZeroesBeforeTheConstructorRuns)
{
	struct Partial {
		unsigned set;
		unsigned char untouched[60];
		Partial() : set(0x5eedu) {} /* leaves untouched[] alone */
	};
	kmm::ObjectCache<Partial> cache("partial");
	ASSERT_TRUE(cache.valid());
	Partial *first = cache.make();
	ASSERT_NE(first, nullptr);
	std::memset(first->untouched, 0xab, sizeof(first->untouched));
	cache.destroy(first);
	Partial *again = cache.make_gfp(GFP_KERNEL | __GFP_ZERO);
	ASSERT_EQ(again, first) << "the fast path hands the same object back";
	EXPECT_EQ(again->set, 0x5eedu);
	unsigned char bytes[sizeof(again->untouched)];
	std::memcpy(bytes, again->untouched, sizeof(bytes));
	for (unsigned char b : bytes)
		ASSERT_EQ(b, 0u) << "__GFP_ZERO reached kmem_cache_alloc";
	cache.destroy(again);
}

/* A T built from an unsigned integer, the type gfp_t is: make() must give
 * every argument to T, never read the first one as flags. */
TEST_F(KmmHpp, MakeNeverTakesAnIntegerArgumentForFlags)
{
	static_assert(sizeof(gfp_t) == sizeof(unsigned) && static_cast<gfp_t>(-1) > 0, "gfp_t is unsigned int");
	kmm::ObjectCache<unsigned> cache("unsigned");
	ASSERT_TRUE(cache.valid());
	/* Were the GFP_DMA value taken for flags, the cache would refuse it. */
	unsigned *dma_value = cache.make(static_cast<unsigned>(kDmaProbe));
	ASSERT_NE(dma_value, nullptr);
	EXPECT_EQ(*dma_value, static_cast<unsigned>(kDmaProbe));
	unsigned *seven = cache.make(7u);
	ASSERT_NE(seven, nullptr);
	EXPECT_EQ(*seven, 7u);
	unsigned *atomic_seven = cache.make_gfp(GFP_ATOMIC, 7u);
	ASSERT_NE(atomic_seven, nullptr);
	EXPECT_EQ(*atomic_seven, 7u);
	unsigned *zero = cache.make_gfp(GFP_ATOMIC);
	ASSERT_NE(zero, nullptr);
	EXPECT_EQ(*zero, 0u) << "no argument: value-initialised";
	EXPECT_EQ(active(cache.cache()), 4u);
	for (unsigned *p : {dma_value, seven, atomic_seven, zero})
		cache.destroy(p);
	EXPECT_EQ(active(cache.cache()), 0u);
}

TEST_F(KmmHpp, MakeForwardsValueCategories)
{
	struct Sink {
		int moved_from_rvalue;
		explicit Sink(std::string &&s) : moved_from_rvalue(1) { std::string taken(std::move(s)); }
		explicit Sink(const std::string &) : moved_from_rvalue(0) {}
	};
	kmm::ObjectCache<Sink> cache("sink");
	std::string text(64, 'x');
	Sink *copied = cache.make(text);
	Sink *moved = cache.make(std::string(64, 'y'));
	Sink *moved_gfp = cache.make_gfp(GFP_ATOMIC, std::move(text));
	ASSERT_NE(copied, nullptr);
	ASSERT_NE(moved, nullptr);
	ASSERT_NE(moved_gfp, nullptr);
	EXPECT_EQ(copied->moved_from_rvalue, 0);
	EXPECT_EQ(moved->moved_from_rvalue, 1) << "make() forwards an rvalue as one";
	EXPECT_EQ(moved_gfp->moved_from_rvalue, 1) << "make_gfp() forwards an rvalue as one";
	cache.destroy(copied);
	cache.destroy(moved);
	cache.destroy(moved_gfp);
}

TEST_F(KmmHpp, ThrowingConstructorFreesTheObject)
{
	struct Throws {
		int x;
		explicit Throws(int v) : x(v)
		{
			if (v < 0)
				throw std::invalid_argument("negative");
		}
	};
	kmm::ObjectCache<Throws> cache("throws");
	Throws *kept = cache.make(1);
	ASSERT_NE(kept, nullptr);
	EXPECT_THROW(cache.make_gfp(GFP_ATOMIC, -1), std::invalid_argument);
	EXPECT_THROW(cache.make(-2), std::invalid_argument);
	EXPECT_EQ(active(cache.cache()), 1u) << "the objects of the failed makes went back";
	cache.destroy(kept);
	EXPECT_EQ(active(cache.cache()), 0u);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

struct Session {
	static inline int constructed = 0;
	unsigned magic;
	unsigned uses;
	char buffer[40];
	Session() : magic(0xC0FFEEu), uses(0), buffer{} { ++constructed; }
};

TEST_F(KmmHpp, PreservingCacheConstructsPerSlabAndKeepsState)
{
	Session::constructed = 0;
	kmm::PreservingCache<Session> cache("sessions");
	ASSERT_TRUE(cache.valid());
	EXPECT_EQ(Session::constructed, 0);
	Session *s = cache.alloc();
	ASSERT_NE(s, nullptr);
	kmem_cache_info i{};
	kmem_cache_get_info(cache.cache(), &i);
	EXPECT_EQ(static_cast<unsigned>(Session::constructed), i.objects_per_slab) << "the whole slab, once";
	EXPECT_EQ(s->magic, 0xC0FFEEu);
	s->uses = 41;
	std::strcpy(s->buffer, "kept");
	cache.release(s);
	Session *again = cache.alloc();
	ASSERT_EQ(again, s);
	EXPECT_EQ(again->uses, 41u) << "as its last user left it";
	EXPECT_STREQ(again->buffer, "kept");
	EXPECT_EQ(static_cast<unsigned>(Session::constructed), i.objects_per_slab) << "no ctor on allocation";
	cache.release(again);
}

TEST_F(KmmHpp, KmallocAllocatorUnderContainers)
{
	{
		std::vector<int, kmm::KmallocAllocator<int>> v;
		for (int k = 0; k < 20000; ++k)
			v.push_back(k);
		long sum = 0;
		for (int x : v)
			sum += x;
		EXPECT_EQ(sum, 20000L * 19999 / 2);
		EXPECT_GE(ksize(v.data()), v.capacity() * sizeof(int));

		std::map<int, std::string, std::less<int>, kmm::KmallocAllocator<std::pair<const int, std::string>>> m;
		for (int k = 0; k < 1000; ++k)
			m.emplace(k, std::to_string(k));
		EXPECT_EQ(m.at(777), "777");

		std::list<double, kmm::KmallocAllocator<double>> l(500, 1.5);
		EXPECT_EQ(l.size(), 500u);
		EXPECT_EQ(kmm_slab_validate(), 0u);
	}
	kmm::KmallocAllocator<int> a;
	kmm::KmallocAllocator<long> b(a);
	EXPECT_TRUE(a == b);
	EXPECT_EQ(kmm_bug_count(), 0u);
	/* every container gave its memory back */
	size_t before = kmm_free_pages();
	kmm_slab_shrink_all();
	EXPECT_GE(kmm_free_pages(), before);
}

/* The Gfp parameter reaches kmalloc: __GFP_ZERO hands back zeroed memory
 * where the default allocator gets the same block as its last user left it. */
TEST_F(KmmHpp, KmallocAllocatorPassesItsFlags)
{
	constexpr size_t kBytes = 200;
	kmm::KmallocAllocator<unsigned char> plain;
	kmm::KmallocAllocator<unsigned char, GFP_KERNEL | __GFP_ZERO> zeroing;
	unsigned char *p = plain.allocate(kBytes);
	std::memset(p, 0xaa, kBytes);
	plain.deallocate(p, kBytes);
	unsigned char *q = plain.allocate(kBytes);
	ASSERT_EQ(q, p) << "the block just freed comes back (LIFO)";
	EXPECT_EQ(q[kBytes - 1], 0xaa) << "the default allocator does not zero";
	plain.deallocate(q, kBytes);
	unsigned char *z = zeroing.allocate(kBytes);
	ASSERT_EQ(z, p);
	for (size_t i = 0; i < kBytes; ++i)
		ASSERT_EQ(z[i], 0u) << "byte " << i;
	zeroing.deallocate(z, kBytes);
	/* rebinding keeps the flags; all instances compare equal */
	using Rebound = std::allocator_traits<decltype(zeroing)>::rebind_alloc<long>;
	static_assert(std::is_same_v<Rebound, kmm::KmallocAllocator<long, GFP_KERNEL | __GFP_ZERO>>);
	EXPECT_TRUE(zeroing == plain);
	std::vector<int, kmm::KmallocAllocator<int, GFP_ATOMIC>> v(100, 3);
	EXPECT_EQ(v[99], 3);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(KmmHpp, KmallocAllocatorThrowsOnFailure)
{
	kmm::KmallocAllocator<char> a;
	EXPECT_THROW(a.allocate(size_t{1} << 40), std::bad_alloc);
	EXPECT_THROW(kmm::KmallocAllocator<long>().allocate(SIZE_MAX / 4), std::bad_alloc) << "overflow";
}

} // namespace
