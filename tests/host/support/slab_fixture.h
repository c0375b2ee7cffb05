/*
 * tests/host/support/slab_fixture.h — a private SlabAllocator over a private
 * PageAllocator on an arena the test owns, with captured, refused reports;
 * plus small helpers the slab tests share (cache figures, page states).
 * Every size is written in terms of kmm::kPageSize so the same tests run on
 * the page-size variants of mm.
 */
#ifndef KMM_TESTS_SUPPORT_SLAB_FIXTURE_H
#define KMM_TESTS_SUPPORT_SLAB_FIXTURE_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "slub.h"
#include "support/arena.h"
#include "support/buddy_state.h"

namespace kmm_test {

/* At least 4 MiB and at least 8 max-order blocks. */
inline constexpr size_t kSlabArenaBytes = std::max<size_t>(size_t{4} << 20, kBlockBytes * 8);

struct SlabWorld {
	/* pcp_high: the page allocator's per-CPU lists, off (0) unless a test
	 * asks for them (test_pcp.cpp covers them; slab paths that use them
	 * on the fast path pass KMM_PCP_HIGH). */
	explicit SlabWorld(uint32_t pcp_high = 0) : t(pcp_high) {}

	Arena arena{kSlabArenaBytes, kBlockBytes};
	TestAllocator t;
	kmm::PageAllocator &pa = t.pa;
	kmm::SlabAllocator slab{t.pa, t.rep};

	/* Page allocator over `bytes` of the arena (0: all of it), slab layer up. */
	void boot(size_t bytes = 0)
	{
		ASSERT_EQ(pa.add_region(arena.base(), bytes == 0 ? arena.size() : bytes, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.init(), 0);
		ASSERT_EQ(slab.init(), 0);
		ASSERT_EQ(slab.validate(), 0u);
	}
	kmem_cache_info info(kmem_cache *s)
	{
		kmem_cache_info i{};
		EXPECT_EQ(slab.info(s, &i), 0);
		return i;
	}
	struct page *head_of(const void *x) { return kmm::page_head(pa.virt_to_page(x)); }
	size_t free_pages() { return pa.totals().free; }
	/* validate() of both layers; prints captured lines on failure. */
	unsigned long problems()
	{
		unsigned long n = slab.validate() + pa.validate();
		/* At a quiet point no slab is being built or given back. */
		for (unsigned id = 1; id <= KMM_MAX_CACHES; ++id)
			if (kmem_cache *s = slab.cache(id); s != nullptr && s->slabs_in_flight != 0) {
				ADD_FAILURE() << s->name << ": " << s->slabs_in_flight << " slabs in flight at a quiet point";
				++n;
			}
		if (n != 0)
			for (const auto &l : t.cap.lines)
				ADD_FAILURE() << l;
		return n;
	}
};

/* A booted SlabWorld as a GoogleTest fixture: both layers must validate
 * cleanly when each test ends. */
class SlabCacheTest : public ::testing::Test, public SlabWorld {
protected:
	explicit SlabCacheTest(uint32_t pcp_high = 0) : SlabWorld(pcp_high) {}
	void SetUp() override { boot(); }
	void TearDown() override { EXPECT_EQ(problems(), 0u); }

	kmem_cache *make(const char *name, unsigned size, unsigned align = 0, slab_flags_t flags = 0,
			 void (*ctor)(void *) = nullptr)
	{
		kmem_cache *s = slab.create(name, size, align, flags, ctor);
		EXPECT_NE(s, nullptr) << name;
		return s;
	}
	/* validate() with the captured lines cleared first. */
	unsigned long quiet_validate()
	{
		t.cap.clear();
		return slab.validate();
	}
	/* A cache without a magazine: frees go straight to the CPU freelist. */
	kmem_cache *make_unbuffered(const char *name, unsigned size)
	{
		kmem_cache *s = make(name, size);
		slab.set_magazine_size(s, 0);
		return s;
	}
	/* n objects of s, each checked non-NULL. */
	std::vector<void *> alloc_n(kmem_cache *s, size_t n)
	{
		std::vector<void *> v;
		for (size_t k = 0; k < n; ++k) {
			v.push_back(slab.alloc(s, GFP_KERNEL));
			EXPECT_NE(v.back(), nullptr);
		}
		return v;
	}
	/* The allocator still works (after a caught corruption): three slabs'
	 * worth of objects out, each handed out once and usable to its last
	 * byte, back again, then no report and no problem anywhere. */
	void still_works(kmem_cache *s)
	{
		std::vector<void *> v;
		std::set<void *> seen;
		for (unsigned k = 0; k < 3u * s->objects; ++k) {
			void *p = slab.alloc(s, GFP_KERNEL);
			ASSERT_NE(p, nullptr);
			ASSERT_TRUE(seen.insert(p).second) << "handed out twice: " << p;
			std::memset(p, 0x5a, s->object_size);
			v.push_back(p);
		}
		for (void *p : v)
			slab.free(s, p);
		t.cap.clear();
		EXPECT_EQ(slab.validate_slab_cache(s), 0u);
		EXPECT_EQ(t.cap.bug_lines(), 0u);
		EXPECT_EQ(quiet_validate(), 0u);
	}
	/* The objects in CPU 0's magazine of s, oldest first. */
	std::vector<void *> magazine(const kmem_cache *s) const
	{
		const kmm::CacheCpu &c = s->cpu[0];
		std::vector<void *> v;
		for (uint32_t j = 1; j <= kmm::mag_count(c); ++j)
			v.push_back(c.mag[kmm::mag_slot(c, j)]);
		return v;
	}
};

} // namespace kmm_test

#endif
