/*
 * tests/host/test_cache_table.cpp — a cache table too small for both
 * kmalloc class sets (built against mm with KMM_MAX_CACHES=16): with a DMA
 * zone, init still succeeds; dma-kmalloc twins are made only while a
 * quarter of the table stays free for kmem_cache_create (here: none, with
 * one warning), kmalloc(GFP_DMA) of a class without its twin fails with a
 * report and nothing taken, and the users' caches and the Normal classes
 * work.
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
	ASSERT_EQ(w.slab.init(), 0) << "a small table does not fail init";
	/* 16 slots: the boot cache and 13 kmalloc classes leave 2, fewer than
	 * the quarter (4) kept for kmem_cache_create: no dma twin at all */
	EXPECT_EQ(w.t.cap.lines.size(), 1u) << w.t.cap.last();
	EXPECT_EQ(w.t.cap.count_containing("dma-kmalloc-8 and larger not created (KMM_MAX_CACHES 16: 2 slots free, "
					   "4 kept for kmem_cache_create)"),
		  1u)
		<< w.t.cap.last();
	EXPECT_EQ(w.t.rep.bugs(), 0u);
	/* the free slots are the users' */
	kmem_cache *a = w.slab.create("user-a", 40, 0, 0, nullptr);
	kmem_cache *b = w.slab.create("user-b", 40, 0, SLAB_CACHE_DMA, nullptr);
	ASSERT_NE(a, nullptr);
	ASSERT_NE(b, nullptr);
	void *x = w.slab.alloc(b, GFP_DMA);
	ASSERT_NE(x, nullptr);
	EXPECT_GE(reinterpret_cast<uintptr_t>(x), w.arena.base() + half) << "a SLAB_CACHE_DMA cache still works";
	w.slab.free(b, x);
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
	w.slab.destroy(a);
	w.slab.destroy(b);
	EXPECT_EQ(w.problems(), 0u);
}

} // namespace
