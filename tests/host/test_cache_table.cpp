/*
 * tests/host/test_cache_table.cpp — a cache table too small for both
 * kmalloc class sets (built against mm with KMM_MAX_CACHES=16): with a DMA
 * zone, init still succeeds; the dma-kmalloc classes that do not fit are
 * left out with one warning, kmalloc(GFP_DMA) of their sizes fails with a
 * report and nothing taken, and the classes that fit work.
 */
#include <gtest/gtest.h>

#include "slub.h"
#include "support/slab_fixture.h"

namespace {

static_assert(KMM_MAX_CACHES == 16, "built against the KMM_MAX_CACHES=16 variant of mm");

TEST(CacheTable, DmaClassesThatDoNotFitAreLeftOutWithOneWarning)
{
	kmm_test::SlabWorld w;
	size_t half = w.arena.size() / 2;
	ASSERT_EQ(w.pa.add_region(w.arena.base(), half, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(w.pa.add_region(w.arena.base() + half, half, KMM_ZONE_DMA), 0);
	ASSERT_EQ(w.pa.init(), 0);
	ASSERT_EQ(w.slab.init(), 0) << "a full table does not fail init";
	/* 16 slots: the boot cache, 13 kmalloc classes, two dma twins */
	EXPECT_EQ(w.t.cap.count_containing("dma-kmalloc-32 and larger not created"), 1u) << w.t.cap.last();
	EXPECT_EQ(w.t.rep.bugs(), 0u);
	uintptr_t dma_start = w.arena.base() + half;
	for (size_t size : {8u, 16u}) {
		void *x = w.slab.kmalloc(size, GFP_DMA);
		ASSERT_NE(x, nullptr) << size;
		EXPECT_GE(reinterpret_cast<uintptr_t>(x), dma_start);
		w.slab.kfree(x);
	}
	kmm_test::BuddySnapshot before = kmm_test::snapshot(w.pa);
	w.t.cap.clear();
	EXPECT_EQ(w.slab.kmalloc(64, GFP_DMA), nullptr);
	EXPECT_EQ(w.t.cap.count_containing("no dma-kmalloc-64 cache (not created at init)"), 1u) << w.t.cap.last();
	EXPECT_EQ(w.slab.kmalloc(64, GFP_DMA | __GFP_NOWARN), nullptr);
	EXPECT_EQ(w.t.cap.lines.size(), 1u);
	EXPECT_EQ(kmm_test::snapshot(w.pa), before);
	void *n = w.slab.kmalloc(64, GFP_KERNEL); /* the Normal classes are whole */
	EXPECT_NE(n, nullptr);
	w.slab.kfree(n);
	EXPECT_EQ(w.problems(), 0u);
}

} // namespace
