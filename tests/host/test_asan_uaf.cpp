/*
 * tests/host/test_asan_uaf.cpp — on an AddressSanitizer build, kmm marks
 * free objects and the bytes past a kmalloc request unaddressable
 * (mm/sanitize.h), so ASan itself stops a use after free or an overflow in
 * code that uses kmm. Built only in AddressSanitizer configurations
 * (tests/host/CMakeLists.txt), so it never shows up as skipped.
 */
#include <gtest/gtest.h>

#include "sanitize.h"
#include "slub.h"
#include "support/slab_fixture.h"

namespace {

static_assert(KMM_ASAN_ON, "test_asan_uaf is built only with -fsanitize=address");

class AsanThroughKmm : public kmm_test::SlabCacheTest {};

TEST_F(AsanThroughKmm, UseAfterFreeOfAKmallocObject)
{
	auto *p = static_cast<volatile char *>(slab.kmalloc(64, GFP_KERNEL));
	p[16] = 1; /* fine while allocated */
	slab.kfree(const_cast<char *>(p));
	EXPECT_DEATH(p[16] = 2, "AddressSanitizer: use-after-poison");
}

TEST_F(AsanThroughKmm, UseAfterFreeOfACacheObject)
{
	kmem_cache *s = make("asan-objs", 48);
	auto *p = static_cast<volatile char *>(slab.alloc(s, GFP_KERNEL));
	slab.free(s, const_cast<char *>(p));
	EXPECT_DEATH((void)p[40], "AddressSanitizer: use-after-poison");
	slab.destroy(s);
}

TEST_F(AsanThroughKmm, OverflowPastTheRequestedSize)
{
	auto *p = static_cast<volatile char *>(slab.kmalloc(18, GFP_KERNEL));
	p[17] = 1;
	EXPECT_DEATH(p[20] = 1, "AddressSanitizer: use-after-poison");
	slab.kfree(const_cast<char *>(p));
}

/* krealloc in place, shrinking or growing inside the object, with or
 * without __GFP_ZERO: addressable up to the new size (Linux's KASAN
 * alike); ksize() opens the whole object again. */
TEST_F(AsanThroughKmm, InPlaceKreallocMovesTheAddressableEnd)
{
	auto *p = static_cast<char *>(slab.kmalloc(120, GFP_KERNEL));
	ASSERT_EQ(slab.ksize(p), 128u);
	auto *shrunk = static_cast<volatile char *>(slab.krealloc(p, 40, GFP_KERNEL));
	ASSERT_EQ(shrunk, p) << "in place";
	EXPECT_FALSE(__asan_address_is_poisoned(p + 39));
	EXPECT_TRUE(__asan_address_is_poisoned(p + 40));
	EXPECT_DEATH(shrunk[100] = 1, "AddressSanitizer: use-after-poison");
	auto *grown = static_cast<char *>(slab.krealloc(p, 100, __GFP_ZERO));
	ASSERT_EQ(grown, p) << "in place";
	EXPECT_FALSE(__asan_address_is_poisoned(p + 99));
	EXPECT_TRUE(__asan_address_is_poisoned(p + 100));
	EXPECT_EQ(slab.ksize(p), 128u);
	EXPECT_FALSE(__asan_address_is_poisoned(p + 127));
	slab.kfree(p);
}

TEST_F(AsanThroughKmm, ReuseAfterFreeIsAddressableAgain)
{
	auto *p = static_cast<char *>(slab.kmalloc(64, GFP_KERNEL));
	slab.kfree(p);
	auto *q = static_cast<char *>(slab.kmalloc(64, GFP_KERNEL));
	EXPECT_EQ(p, q) << "LIFO reuse";
	std::memset(q, 0, 64); /* no report: allocated again */
	slab.kfree(q);
}

} // namespace
