/*
 * tests/host/test_kmm_hpp.cpp — the C++ wrappers of kmm/kmm.hpp over the
 * global allocator: ObjectCache<T> (constructor/destructor per make/destroy),
 * PreservingCache<T> (constructor once per object at slab creation, state
 * kept across uses), KmallocAllocator<T> under standard containers.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <list>
#include <map>
#include <string>
#include <vector>

#include <kmm/kmm.h>
#include <kmm/kmm.hpp>

#include "support/arena.h"

namespace {

class KmmHpp : public ::testing::Test {
protected:
	kmm_test::Arena arena{size_t{8} << 20, size_t{PAGE_SIZE} << KMM_MAX_ORDER};
	kmm_test::ReportCapture cap;

	void SetUp() override
	{
		kmm_set_report_hook(&kmm_test::ReportCapture::hook, &cap);
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		ASSERT_EQ(kmm_add_region(arena.base(), arena.size(), KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(kmm_init(), 0);
	}
	void TearDown() override
	{
		EXPECT_EQ(kmm_slab_validate(), 0u);
		kmm_shutdown();
		kmm_set_report_hook(nullptr, nullptr);
	}
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

TEST_F(KmmHpp, KmallocAllocatorThrowsOnFailure)
{
	kmm::KmallocAllocator<char> a;
	EXPECT_THROW(a.allocate(size_t{1} << 40), std::bad_alloc);
	EXPECT_THROW(kmm::KmallocAllocator<long>().allocate(SIZE_MAX / 4), std::bad_alloc) << "overflow";
}

} // namespace
