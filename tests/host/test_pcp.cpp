/*
 * tests/host/test_pcp.cpp — white-box tests of the per-CPU page lists
 * (mm/page_alloc.h): batched refill, the high mark, drains, the kPcp state
 * and its misuse checks, zones, and memory pressure.
 */
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "support/buddy_state.h"

namespace {

using kmm::kPageSize;
using kmm_test::Arena;
using kmm_test::kBlockBytes;

constexpr uint32_t kHigh = 8; /* order 0 holds 8, order 1 4, order 2 2, order 3 1 */

struct PcpFixture : ::testing::Test {
	Arena arena{kBlockBytes * 4, kBlockBytes};
	kmm_test::TestAllocator t{kHigh};
	kmm::PageAllocator &pa = t.pa;
	kmm_test::BuddySnapshot initial;

	void SetUp() override
	{
		ASSERT_EQ(pa.add_region(arena.at(0), kBlockBytes * 2, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.add_region(arena.at(kBlockBytes * 3), kBlockBytes, KMM_ZONE_DMA), 0);
		ASSERT_EQ(pa.init(), 0);
		initial = kmm_test::snapshot(pa);
	}
	size_t parked() const { return pa.totals().pcp; }
	/* Every page taken one by one (Normal, then DMA), until NULL. */
	std::vector<struct page *> take_every_page()
	{
		std::vector<struct page *> pages;
		while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0))
			pages.push_back(p);
		return pages;
	}
};

TEST_F(PcpFixture, FirstAllocRefillsHalfTheHighMarkAndKeepsTheRestParked)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->state, kmm::kAllocated);
	EXPECT_EQ(p->next, nullptr);
	EXPECT_EQ(parked(), kHigh / 2 - 1); /* a batch of 4, one handed out */
	EXPECT_EQ(pa.totals().free + 1, pa.totals().managed); /* parked pages count as free */
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_TRUE(pa.free(p, 0));
	EXPECT_EQ(p->state, kmm::kPcp);
	EXPECT_EQ(parked(), kHigh / 2);
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(PcpFixture, FreeingPastTheHighMarkGivesHalfBack)
{
	std::vector<struct page *> pages;
	for (unsigned i = 0; i < 3 * kHigh; ++i)
		pages.push_back(pa.alloc(GFP_KERNEL, 0));
	for (struct page *p : pages)
		ASSERT_NE(p, nullptr);
	size_t max_parked = 0;
	for (struct page *p : pages) {
		ASSERT_TRUE(pa.free(p, 0));
		max_parked = std::max(max_parked, parked());
		ASSERT_LE(parked(), kHigh) << "a list never holds more than its high mark";
	}
	EXPECT_EQ(max_parked, kHigh);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), initial); /* snapshot drains first */
	EXPECT_EQ(parked(), 0u);
}

TEST_F(PcpFixture, HigherOrdersHaveSmallerListsAndOrdersAboveThreeBypassThem)
{
	struct page *o3a = pa.alloc(GFP_KERNEL, 3);
	struct page *o3b = pa.alloc(GFP_KERNEL, 3);
	ASSERT_NE(o3a, nullptr);
	ASSERT_NE(o3b, nullptr);
	EXPECT_TRUE(pa.free(o3a, 3));
	EXPECT_EQ(parked(), 8u); /* one order-3 block parked: high mark 8 >> 3 = 1 */
	EXPECT_TRUE(pa.free(o3b, 3)); /* over the mark: half of it (none kept) goes back */
	EXPECT_EQ(parked(), 0u);
	struct page *o4 = pa.alloc(GFP_KERNEL, 4);
	ASSERT_NE(o4, nullptr);
	EXPECT_TRUE(pa.free(o4, 4));
	EXPECT_EQ(parked(), 0u);
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(PcpFixture, DoubleFreeOfAParkedPageIsRefusedAndChangesNothing)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	ASSERT_TRUE(pa.free(p, 0));
	size_t before = parked();
	EXPECT_FALSE(pa.free(p, 0));
	EXPECT_EQ(t.rep.bugs(), 1u);
	EXPECT_EQ(t.cap.count_containing("double free of page"), 1u) << t.cap.last();
	char addr[32];
	std::snprintf(addr, sizeof(addr), "%#lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(pa.page_address(p))));
	EXPECT_NE(t.cap.last().find(addr), std::string::npos) << t.cap.last();
	EXPECT_EQ(parked(), before);
	EXPECT_EQ(pa.validate(), 0u);
	struct page *q = pa.alloc(GFP_KERNEL, 0);
	EXPECT_EQ(q, p) << "LIFO: the parked page comes back first";
	EXPECT_TRUE(pa.free(q, 0));
	EXPECT_EQ(kmm_test::snapshot(pa), initial);
}

TEST_F(PcpFixture, WrongOrderOrWrongKindIsRefusedOnTheFastPathToo)
{
	struct page *p = pa.alloc(GFP_KERNEL, 1);
	ASSERT_NE(p, nullptr);
	EXPECT_FALSE(pa.free(p, 0));
	EXPECT_FALSE(pa.free(p, 1, kmm::kSlab));
	EXPECT_EQ(t.rep.bugs(), 2u);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_TRUE(pa.free(p, 1));
	EXPECT_EQ(kmm_test::snapshot(pa), initial);
}

TEST_F(PcpFixture, ZonesHaveTheirOwnLists)
{
	const kmm::Region &dma = pa.region(1);
	std::vector<struct page *> pages;
	for (int i = 0; i < 20; ++i) {
		struct page *p = pa.alloc(GFP_DMA, 0);
		ASSERT_NE(p, nullptr);
		EXPECT_TRUE(dma.holds_page(p)) << "GFP_DMA must come from the DMA zone";
		pages.push_back(p);
	}
	for (struct page *p : pages)
		ASSERT_TRUE(pa.free(p, 0));
	EXPECT_GT(pa.counts(KMM_ZONE_DMA).pcp, 0u);
	EXPECT_LE(pa.counts(KMM_ZONE_DMA).pcp, kHigh);
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).pcp, 0u);
	struct page *n = pa.alloc(GFP_KERNEL, 0);
	ASSERT_NE(n, nullptr);
	EXPECT_FALSE(dma.holds_page(n)) << "a normal request prefers the Normal zone";
	EXPECT_TRUE(pa.free(n, 0));
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(PcpFixture, MemoryPressureDrainsTheListsBeforeFailing)
{
	/* Take every page one by one, then give them all back: up to the high
	 * mark stays parked. A max-order request must still succeed. */
	std::vector<struct page *> pages = take_every_page();
	EXPECT_EQ(pages.size(), initial.free_pages);
	EXPECT_EQ(pa.totals().free, 0u);
	for (struct page *p : pages)
		ASSERT_TRUE(pa.free(p, 0));
	EXPECT_GT(pa.counts(KMM_ZONE_NORMAL).pcp, 0u);
	const size_t dma_parked = pa.counts(KMM_ZONE_DMA).pcp;
	EXPECT_GT(dma_parked, 0u);
	struct page *big = pa.alloc(GFP_KERNEL, kmm::kMaxOrder);
	ASSERT_NE(big, nullptr) << "parked pages must be drained under pressure";
	/* Normal's lists were enough: the DMA lists stay as they were. */
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).pcp, 0u);
	EXPECT_EQ(pa.counts(KMM_ZONE_DMA).pcp, dma_parked);
	EXPECT_TRUE(pa.free(big, kmm::kMaxOrder));
	EXPECT_EQ(pa.alloc_failures(), 1u); /* the one NULL that ended the loop */
	EXPECT_EQ(kmm_test::snapshot(pa), initial);
}

TEST_F(PcpFixture, ADmaRequestUnderPressureDrainsEveryList)
{
	/* The same, with pages of both zones parked, and a GFP_DMA request for
	 * the DMA zone's largest block (its page descriptors take part of its
	 * region): no Normal fallback, so memory pressure gives back every
	 * zone's lists (drain_pcp of all zones), then the block is whole. */
	unsigned top = 0;
	for (unsigned o = 0; o <= kmm::kMaxOrder; ++o)
		if (initial.counts[KMM_ZONE_DMA][o] != 0)
			top = o;
	ASSERT_GT(top, kmm::kPcpMaxOrder) << "a block no per-CPU list holds";
	std::vector<struct page *> pages = take_every_page();
	for (struct page *p : pages)
		ASSERT_TRUE(pa.free(p, 0));
	ASSERT_GT(pa.counts(KMM_ZONE_DMA).pcp, 0u);
	ASSERT_GT(pa.counts(KMM_ZONE_NORMAL).pcp, 0u);
	struct page *dma = pa.alloc(GFP_DMA, top);
	ASSERT_NE(dma, nullptr) << "the DMA zone's parked pages must be drained under pressure";
	EXPECT_EQ(pa.counts(KMM_ZONE_DMA).pcp, 0u);
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).pcp, 0u) << "memory pressure drains every list";
	EXPECT_TRUE(pa.free(dma, top));
	EXPECT_EQ(pa.validate(), 0u);
	pa.drain_pcp();
	EXPECT_EQ(kmm_test::snapshot(pa), initial);
}

TEST_F(PcpFixture, ValidateCatchesACorruptParkedPage)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	ASSERT_TRUE(pa.free(p, 0));
	ASSERT_EQ(p->state, kmm::kPcp);
	p->order = 2; /* a parked head claims the wrong order */
	/* Four problems: the walk takes the next page for the inside of an
	 * order-2 block (it is not interior); the order-0 list entry has the
	 * wrong order; and the parked-head counts differ from the list lengths
	 * for order 0 (one missing) and order 2 (one extra). */
	t.cap.clear();
	EXPECT_EQ(pa.validate(), 4u);
	EXPECT_EQ(t.cap.count_containing("page inside a block is not interior"), 1u);
	EXPECT_EQ(t.cap.count_containing("per-CPU list entry is not a parked block"), 1u);
	EXPECT_EQ(t.cap.count_containing("parked blocks and per-CPU list entries differ"), 2u);
	p->order = 0;
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(PcpFixture, ResetForgetsTheLists)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	ASSERT_TRUE(pa.free(p, 0));
	ASSERT_GT(parked(), 0u);
	pa.reset();
	EXPECT_EQ(parked(), 0u);
}

} // namespace
