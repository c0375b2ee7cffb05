/*
 * tests/host/test_kmm_pmr.cpp — kmm/kmm_pmr.hpp: KmallocResource under
 * std::pmr containers (every block a kmalloc block: ksize, slab counts),
 * alignment from 1 to a max-order block, bad alignments and exhaustion as
 * std::bad_alloc with nothing lost, is_equal (by zone: a move into a
 * GFP_DMA container stays in the DMA zone), 0-byte requests, and the
 * allocator's state after all of it (validate, free pages back).
 */
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory_resource>
#include <new>
#include <string>
#include <vector>

#include <kmm/kmm.h>
#include <kmm/kmm_pmr.hpp>

#include "support/arena.h"

namespace {

class KmmPmr : public ::testing::Test {
protected:
	kmm_test::Arena arena{size_t{8} << 20, size_t{PAGE_SIZE} << KMM_MAX_ORDER};
	kmm_test::ReportCapture cap;
	size_t free_after_init = 0;

	void SetUp() override
	{
		kmm_set_report_hook(&kmm_test::ReportCapture::hook, &cap);
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		ASSERT_EQ(kmm_add_region(arena.base(), arena.size(), KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(kmm_init(), 0);
		kfree(kmalloc(1, GFP_KERNEL)); /* the slab layer starts on first use */
		kmm_slab_shrink_all();
		kmm_drain_pages();
		free_after_init = kmm_free_pages();
	}
	void TearDown() override
	{
		EXPECT_EQ(kmm_validate(), 0u);
		EXPECT_EQ(kmm_slab_validate(), 0u);
		kmm_slab_shrink_all();
		kmm_drain_pages();
		EXPECT_EQ(kmm_free_pages(), free_after_init) << "pages lost";
		kmm_shutdown();
		kmm_set_report_hook(nullptr, nullptr);
	}
};

TEST_F(KmmPmr, ContainersAllocateThroughKmalloc)
{
	kmm::KmallocResource res;
	unsigned long bugs = kmm_bug_count();
	{
		std::pmr::vector<int> v(&res);
		for (int i = 0; i < 10000; ++i)
			v.push_back(i);
		/* the vector's buffer is a kmalloc block: ksize knows it */
		EXPECT_GE(ksize(v.data()), v.capacity() * sizeof(int));
		std::pmr::map<int, std::pmr::string> m(&res);
		for (int i = 0; i < 500; ++i)
			m.emplace(i, std::pmr::string(64, static_cast<char>('a' + i % 26), &res));
		for (int i = 0; i < 500; ++i) {
			ASSERT_EQ(m.at(i).size(), 64u);
			EXPECT_EQ(m.at(i)[63], static_cast<char>('a' + i % 26));
		}
		EXPECT_LT(kmm_free_pages(), free_after_init); /* they hold kmm memory */
		EXPECT_EQ(v[9999], 9999);
	}
	EXPECT_EQ(kmm_bug_count(), bugs);
	EXPECT_TRUE(cap.lines.empty()) << cap.last();
}

TEST_F(KmmPmr, EveryAlignmentUpToAMaxOrderBlockIsHonoured)
{
	kmm::KmallocResource res;
	const size_t max_block = size_t{PAGE_SIZE} << KMM_MAX_ORDER;
	for (size_t align = 1; align <= max_block; align <<= 1) {
		for (size_t bytes : {size_t{1}, size_t{3}, size_t{24}, size_t{96}, size_t{100}, size_t{192}, align,
				     align + 1, 3 * align}) {
			if (bytes > max_block)
				continue;
			void *p = nullptr;
			ASSERT_NO_THROW(p = res.allocate(bytes, align)) << bytes << " bytes, align " << align;
			ASSERT_NE(p, nullptr);
			EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << bytes << " bytes, align " << align;
			EXPECT_GE(ksize(p), bytes);
			std::memset(p, 0x5a, bytes); /* all of it is ours (ASan would say otherwise) */
			res.deallocate(p, bytes, align);
		}
	}
	EXPECT_TRUE(cap.lines.empty()) << cap.last();
}

/* Blocks held together, so they come from different slots: a small
 * power-of-two size (kmalloc-8's objects are 8 apart) must still meet
 * the default alignment, alignof(max_align_t). */
TEST_F(KmmPmr, SmallBlocksHeldTogetherMeetTheDefaultAlignment)
{
	kmm::KmallocResource res;
	constexpr size_t kAlign = alignof(std::max_align_t);
	void *held[64];
	for (size_t bytes : {size_t{1}, size_t{2}, size_t{4}, size_t{8}, size_t{12}, size_t{16}}) {
		for (void *&p : held) {
			p = res.allocate(bytes); /* the default alignment */
			EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kAlign, 0u) << bytes << " bytes";
		}
		for (void *p : held)
			res.deallocate(p, bytes);
	}
}

TEST_F(KmmPmr, ZeroBytesIsAUniqueRealBlock)
{
	kmm::KmallocResource res;
	void *a = res.allocate(0, 1);
	void *b = res.allocate(0, 1);
	EXPECT_NE(a, b);
	EXPECT_NE(a, ZERO_SIZE_PTR);
	EXPECT_GE(ksize(a), 1u);
	res.deallocate(a, 0, 1);
	res.deallocate(b, 0, 1);
}

TEST_F(KmmPmr, BadAlignmentsAndExhaustionThrowAndLoseNothing)
{
	kmm::KmallocResource res(GFP_KERNEL | __GFP_NOWARN);
	const size_t max_block = size_t{PAGE_SIZE} << KMM_MAX_ORDER;
	size_t free_before = kmm_free_pages();
	/* volatile: the compiler must not see the sizes (it warns about them) */
	volatile size_t huge = SIZE_MAX - 8;
	EXPECT_THROW((void)res.allocate(64, 24), std::bad_alloc);           /* not a power of two */
	EXPECT_THROW((void)res.allocate(64, max_block * 2), std::bad_alloc); /* above any block */
	EXPECT_THROW((void)res.allocate(huge, 64), std::bad_alloc);         /* the round-up overflows */
	EXPECT_THROW((void)res.allocate(max_block * 4, 8), std::bad_alloc);  /* larger than kmalloc serves */
	EXPECT_EQ(kmm_free_pages(), free_before);

	/* exhaustion: take max-order blocks until it throws, then give them back */
	std::vector<void *> held;
	for (;;) {
		try {
			held.push_back(res.allocate(max_block, max_block));
		} catch (const std::bad_alloc &) {
			break;
		}
		ASSERT_LT(held.size(), size_t{1} << 20);
	}
	EXPECT_FALSE(held.empty());
	for (void *p : held)
		res.deallocate(p, max_block, max_block);
	EXPECT_EQ(kmm_validate(), 0u);
	void *p = res.allocate(max_block, max_block); /* works again */
	res.deallocate(p, max_block, max_block);
}

TEST_F(KmmPmr, AnyTwoKmallocResourcesOfOneZoneAreEqual)
{
	kmm::KmallocResource a, b(GFP_ATOMIC), dma(GFP_DMA), dma_atomic(GFP_DMA | GFP_ATOMIC);
	EXPECT_TRUE(a.is_equal(b));
	EXPECT_TRUE(b.is_equal(a));
	EXPECT_TRUE(dma.is_equal(dma_atomic));
	EXPECT_FALSE(a.is_equal(dma)); /* a DMA container must not take a's blocks */
	EXPECT_FALSE(dma.is_equal(b));
	EXPECT_TRUE(*kmm::kmalloc_resource() == a);
	EXPECT_EQ(kmm::kmalloc_resource(), kmm::kmalloc_resource());
	EXPECT_EQ(kmm::kmalloc_resource()->gfp(), GFP_KERNEL);
	EXPECT_FALSE(a.is_equal(*std::pmr::new_delete_resource()));
	/* a block from one is freed through the other */
	void *p = a.allocate(200, 8);
	b.deallocate(p, 200, 8);
}

/* A container over a GFP_DMA resource keeps its elements in the DMA zone
 * when a container over a plain resource is moved into it: the resources
 * are unequal, so the move goes element by element into a DMA block
 * instead of taking over the other's buffer. */
TEST(KmmPmrZones, AMoveIntoADmaContainerStaysInTheDmaZone)
{
	kmm_test::Arena normal{size_t{4} << 20, size_t{PAGE_SIZE} << KMM_MAX_ORDER};
	kmm_test::Arena dma{size_t{1} << 20, size_t{PAGE_SIZE} << KMM_MAX_ORDER};
	kmm_test::ReportCapture cap;
	kmm_set_report_hook(&kmm_test::ReportCapture::hook, &cap);
	ASSERT_EQ(kmm_add_region(normal.base(), normal.size(), KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(kmm_add_region(dma.base(), dma.size(), KMM_ZONE_DMA), 0);
	ASSERT_EQ(kmm_init(), 0);
	auto in_dma = [&](const void *p) {
		auto a = reinterpret_cast<uintptr_t>(p);
		return a >= dma.base() && a < dma.base() + dma.size();
	};
	{
		kmm::KmallocResource plain_res, dma_res(GFP_DMA);
		std::pmr::vector<int> plain(&plain_res), in_zone(&dma_res);
		for (int i = 0; i < 300; ++i)
			plain.push_back(i);
		in_zone.push_back(-1);
		ASSERT_FALSE(in_dma(plain.data()));
		ASSERT_TRUE(in_dma(in_zone.data()));
		in_zone = std::move(plain);
		ASSERT_EQ(in_zone.size(), 300u);
		EXPECT_EQ(in_zone[299], 299);
		EXPECT_TRUE(in_dma(in_zone.data())) << "the DMA container took over a buffer outside the DMA zone";
	}
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_slab_validate(), 0u);
	EXPECT_EQ(kmm_bug_count(), 0u);
	kmm_shutdown();
	kmm_set_report_hook(nullptr, nullptr);
}

TEST_F(KmmPmr, AForeignPointerIsReportedAndRefusedAsByKfree)
{
	kmm::KmallocResource res;
	int local = 0;
	unsigned long bugs = kmm_bug_count();
	res.deallocate(&local, sizeof(local), alignof(int));
	EXPECT_EQ(kmm_bug_count(), bugs + 1);
	EXPECT_EQ(cap.bug_lines(), 1u);
	EXPECT_EQ(cap.count_containing("kfree"), 1u) << cap.last();
	cap.clear();
}

} // namespace
