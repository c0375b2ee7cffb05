/*
 * tests/host/support/global_kmm.h — a GoogleTest fixture for tests of kmm's
 * global C API (kmm_add_region … kmm_shutdown): boots the global
 * allocator over a private arena with reports captured and refused
 * (KMM_BUG_REFUSE), and at the end checks kmm_slab_validate() and
 * kmm_validate() and shuts it down. Arena size: the constructor's argument.
 */
#ifndef KMM_TESTS_HOST_SUPPORT_GLOBAL_KMM_H
#define KMM_TESTS_HOST_SUPPORT_GLOBAL_KMM_H

#include <gtest/gtest.h>

#include <kmm/kmm.h>

#include "arena.h"

namespace kmm_test {

class GlobalKmm : public ::testing::Test {
protected:
	explicit GlobalKmm(size_t arena_bytes) : arena{arena_bytes, size_t{PAGE_SIZE} << KMM_MAX_ORDER} {}

	Arena arena;
	ReportCapture cap;

	void SetUp() override
	{
		kmm_set_report_hook(&ReportCapture::hook, &cap);
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		ASSERT_EQ(kmm_add_region(arena.base(), arena.size(), KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(kmm_init(), 0);
	}
	void TearDown() override
	{
		kmm_kmalloc_guard_pages(0);
		EXPECT_EQ(kmm_slab_validate(), 0u);
		EXPECT_EQ(kmm_validate(), 0u);
		kmm_shutdown();
		kmm_set_report_hook(nullptr, nullptr);
	}
	static kmem_cache_info info(kmem_cache *s)
	{
		kmem_cache_info i{};
		EXPECT_EQ(kmem_cache_get_info(s, &i), 0);
		return i;
	}
};

} // namespace kmm_test

#endif
