/*
 * tests/host/test_page_poison.cpp — page allocator poisoning (free pages
 * hold 0xaa, checked on allocation) and guard pages around large kmalloc
 * blocks: a write after free / past the block is reported exactly once,
 * the pattern restored, and both allocators stay consistent.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "slub.h"
#include "support/poke.h"
#include "support/slab_fixture.h"

namespace {

using kmm_test::poke;

struct PagePoison : ::testing::Test {
	kmm_test::Arena arena{size_t{1} << 20, kmm_test::kBlockBytes};
	kmm_test::TestAllocator t{KMM_PCP_HIGH};
	kmm::PageAllocator &pa = t.pa;

	void SetUp() override
	{
		ASSERT_EQ(pa.add_region(arena.base(), arena.size(), KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.init(), 0);
		pa.set_poison(true);
	}
	void TearDown() override
	{
		t.cap.clear();
		EXPECT_EQ(pa.validate(), 0u);
	}
	uint8_t *addr(struct page *p) { return static_cast<uint8_t *>(pa.page_address(p)); }
};

TEST_F(PagePoison, FreePagesHoldThePattern)
{
	struct page *p = pa.alloc(GFP_KERNEL, 2);
	ASSERT_NE(p, nullptr);
	for (size_t i = 0; i < (kmm::kPageSize << 2); ++i)
		ASSERT_EQ(addr(p)[i], kmm::kPagePoisonByte) << i;
	std::memset(addr(p), 0, kmm::kPageSize << 2);
	EXPECT_TRUE(pa.free(p, 2));
	EXPECT_EQ(addr(p)[0], kmm::kPagePoisonByte) << "poisoned again on free";
	struct page *z = pa.alloc(GFP_KERNEL | __GFP_ZERO, 0);
	EXPECT_EQ(addr(z)[kmm::kPageSize - 1], 0) << "__GFP_ZERO still zeroes";
	pa.free(z, 0);
	EXPECT_EQ(t.rep.bugs(), 0u);
}

/* Poisoning switched on before init (a boot option): init poisons the
 * blocks it carves, so no first allocation reports a false overwrite. */
TEST(PagePoisonAtBoot, SwitchedOnBeforeInitReportsNothing)
{
	kmm_test::Arena arena{size_t{1} << 20, kmm_test::kBlockBytes};
	kmm_test::TestAllocator t{KMM_PCP_HIGH};
	std::memset(reinterpret_cast<void *>(arena.base()), 0x5a, arena.size()); /* not the pattern */
	t.pa.set_poison(true);
	ASSERT_EQ(t.pa.add_region(arena.base(), arena.size(), KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(t.pa.init(), 0);
	std::vector<struct page *> held;
	while (struct page *p = t.pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0))
		held.push_back(p); /* every page checked once */
	EXPECT_GT(held.size(), 0u);
	EXPECT_EQ(t.rep.bugs(), 0u) << t.cap.last();
	for (struct page *p : held)
		EXPECT_TRUE(t.pa.free(p, 0));
	EXPECT_EQ(t.pa.validate(), 0u);
}

TEST_F(PagePoison, WriteAfterFreeIsCaughtOnTheNextAllocation)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	uint8_t *a = addr(p);
	pa.free(p, 0);
	a[100] = 0x17; /* a write after free */
	struct page *q = pa.alloc(GFP_KERNEL, 0); /* LIFO: the same page */
	ASSERT_EQ(q, p);
	EXPECT_EQ(t.rep.bugs(), 1u);
	EXPECT_EQ(t.cap.count_containing("BUG page_alloc: Poison overwritten"), 1u);
	EXPECT_EQ(t.cap.count_containing("@offset=100 "), 1u);
	EXPECT_EQ(t.cap.count_containing("First byte 0x17 instead of 0xaa"), 1u);
	EXPECT_EQ(a[100], kmm::kPagePoisonByte) << "restored";
	pa.free(q, 0);
	for (int k = 0; k < 50; ++k) {
		struct page *r = pa.alloc(GFP_KERNEL, static_cast<unsigned>(k % 4));
		ASSERT_NE(r, nullptr);
		pa.free(r, static_cast<unsigned>(k % 4));
	}
	EXPECT_EQ(t.rep.bugs(), 1u);
}

TEST_F(PagePoison, SwitchingOffRestoresTheFastPath)
{
	pa.set_poison(false);
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	pa.free(p, 0);
	EXPECT_GT(pa.totals().pcp, 0u) << "per-CPU lists in use again";
	pa.drain_pcp();
}

class KmallocGuard : public kmm_test::SlabCacheTest {};

TEST_F(KmallocGuard, WritesPastEitherEndAreReportedOnKfree)
{
	size_t free_before = free_pages();
	slab.set_kmalloc_guard(true);
	size_t n = slab.kmalloc_max_cache_size() + 1;
	auto *p = static_cast<uint8_t *>(slab.kmalloc(n, GFP_KERNEL));
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kmm::kPageSize, 0u);
	EXPECT_GE(slab.ksize(p), n);
	std::memset(p, 1, n);
	t.cap.clear();
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 0u);

	p = static_cast<uint8_t *>(slab.kmalloc(n, GFP_KERNEL));
	poke(p - 1, 0);
	poke(p + slab.ksize(p), 0);
	t.cap.clear();
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 2u) << "one per guard page";
	EXPECT_EQ(t.cap.count_containing("BUG kmalloc: Guard page overwritten"), 2u);
	slab.shrink_all();
	EXPECT_EQ(free_pages(), free_before) << "the whole block went back";
}

/* The layout docs/DEBUGGING.md gives: the data pages (ksize), one guard
 * page before them, and every page after them to the end of the block of
 * the next power of two pages is guard, checked to its last byte. */
TEST_F(KmallocGuard, EveryPageAfterTheDataIsAGuard)
{
	slab.set_kmalloc_guard(true);
	size_t n = slab.kmalloc_max_cache_size() + 1;
	size_t data_pages = (n + kmm::kPageSize - 1) / kmm::kPageSize;
	auto *p = static_cast<uint8_t *>(slab.kmalloc(n, GFP_KERNEL));
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(slab.ksize(p), data_pages * kmm::kPageSize);
	struct page *head = head_of(p);
	EXPECT_EQ(head->order, kmm::size_to_order((data_pages + 2) * kmm::kPageSize));
	uint8_t *block_end = static_cast<uint8_t *>(pa.page_address(head)) + (kmm::kPageSize << head->order);
	ASSERT_GT(block_end, p + slab.ksize(p) + kmm::kPageSize) << "more than one page after the data";
	poke(block_end - 1, 0);
	t.cap.clear();
	slab.kfree(p);
	EXPECT_EQ(t.cap.bug_lines(), 1u);
	EXPECT_EQ(t.cap.count_containing("BUG kmalloc: Guard page overwritten"), 1u);
}

} // namespace
