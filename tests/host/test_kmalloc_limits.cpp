/*
 * tests/host/test_kmalloc_limits.cpp — kmm/slab.h's compile-time limits
 * KMALLOC_MAX_CACHE_SIZE and KMALLOC_MAX_SIZE against what the global
 * kmalloc really does, built for each page-size variant of mm (their
 * formula has a branch per variant: 4 KiB pages cap the classes at 8 KiB,
 * 256 B pages at two pages). Public C API only.
 */
#include <gtest/gtest.h>

#include <kmm/kmm.h>

#include "support/arena.h"
#include "support/global_kmm.h"

/* Usable by the preprocessor, as Linux code uses them. */
#if !(KMALLOC_MAX_CACHE_SIZE >= 256 && KMALLOC_MAX_SIZE >= KMALLOC_MAX_CACHE_SIZE)
#error "KMALLOC_MAX_CACHE_SIZE / KMALLOC_MAX_SIZE out of range"
#endif

namespace {

constexpr size_t kBlock = size_t{PAGE_SIZE} << KMM_MAX_ORDER;

class KmallocLimits : public kmm_test::GlobalKmm {
protected:
	KmallocLimits() : GlobalKmm(4 * kBlock) {}
};

TEST_F(KmallocLimits, LargestClassIsKmallocMaxCacheSize)
{
	EXPECT_EQ(kmalloc_max_cache_size(), KMALLOC_MAX_CACHE_SIZE);
	void *c = kmalloc(KMALLOC_MAX_CACHE_SIZE, GFP_KERNEL);
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(ksize(c), KMALLOC_MAX_CACHE_SIZE);
	EXPECT_EQ(kmalloc_size_roundup(KMALLOC_MAX_CACHE_SIZE), KMALLOC_MAX_CACHE_SIZE);
	/* one byte more: whole pages, no longer a class */
	EXPECT_EQ(kmalloc_size_roundup(KMALLOC_MAX_CACHE_SIZE + 1),
		  size_t{PAGE_SIZE} << get_order(KMALLOC_MAX_CACHE_SIZE + 1));
	kfree(c);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(KmallocLimits, LargestKmallocIsKmallocMaxSize)
{
	EXPECT_EQ(KMALLOC_MAX_SIZE, kBlock);
	void *big = kmalloc(KMALLOC_MAX_SIZE, GFP_KERNEL);
	ASSERT_NE(big, nullptr);
	EXPECT_EQ(ksize(big), KMALLOC_MAX_SIZE);
	EXPECT_EQ(kmalloc_size_roundup(KMALLOC_MAX_SIZE), KMALLOC_MAX_SIZE);
	cap.clear();
	EXPECT_EQ(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL), nullptr);
	EXPECT_EQ(cap.count_containing("more than the largest block"), 1u);
	EXPECT_EQ(kmalloc_size_roundup(KMALLOC_MAX_SIZE + 1), KMALLOC_MAX_SIZE + 1); /* kmalloc fails there */
	kfree(big);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

/* The guard pages come out of the largest block. */
TEST_F(KmallocLimits, GuardPagesLowerTheLargestKmalloc)
{
	if (!KMM_SLAB_DEBUG)
		GTEST_SKIP() << "guard pages need KMM_SLAB_DEBUG";
	kmm_kmalloc_guard_pages(1);
	EXPECT_EQ(kmalloc(KMALLOC_MAX_SIZE, GFP_KERNEL | __GFP_NOWARN), nullptr);
	void *g = kmalloc(KMALLOC_MAX_SIZE - 2 * PAGE_SIZE, GFP_KERNEL);
	ASSERT_NE(g, nullptr);
	EXPECT_EQ(ksize(g), KMALLOC_MAX_SIZE - 2 * PAGE_SIZE);
	kfree(g);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

} // namespace
