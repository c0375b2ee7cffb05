/*
 * tests/host/test_rodata.cpp — kstrdup_const/kfree_const in a firmware whose
 * linker script defines kmm_rodata_start/kmm_rodata_end (kmm/slab.h): here
 * the two symbols are set around one test string, so that string stands
 * for the image's read-only data and every other string for the rest.
 * (test_slab_api.cpp has the build without them: always a copy.)
 */
#include <gtest/gtest.h>

#include <cstring>

#include <kmm/kmm.h>

#include "support/global_kmm.h"

extern "C" const char kmm_test_rodata[] = "rodata-name";
/* The range: exactly kmm_test_rodata's 12 bytes. */
__asm__(".globl kmm_rodata_start\n"
	".set kmm_rodata_start, kmm_test_rodata\n"
	".globl kmm_rodata_end\n"
	".set kmm_rodata_end, kmm_test_rodata + 12\n");

namespace {

class Rodata : public kmm_test::GlobalKmm {
protected:
	Rodata() : GlobalKmm(size_t{1} << 20) {}
};

TEST_F(Rodata, KstrdupConstReturnsReadOnlyDataAsItIsAndKfreeConstSkipsIt)
{
	const size_t free_before = kmm_free_pages();
	EXPECT_EQ(kstrdup_const(kmm_test_rodata, GFP_KERNEL), kmm_test_rodata);
	EXPECT_EQ(kstrdup_const(kmm_test_rodata + 7, GFP_KERNEL), kmm_test_rodata + 7) << "inside the range";
	kfree_const(kmm_test_rodata);
	kfree_const(kmm_test_rodata + 11);
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_TRUE(cap.lines.empty()) << cap.last();
	EXPECT_EQ(kmm_free_pages(), free_before) << "nothing was allocated";
	EXPECT_STREQ(kmm_test_rodata, "rodata-name");
}

TEST_F(Rodata, OutsideTheRangeItIsACopyAndAKfree)
{
	static const char elsewhere[] = "other";
	char stack[] = "on-stack";
	for (const char *s : {elsewhere, static_cast<const char *>(stack)}) {
		const char *c = kstrdup_const(s, GFP_KERNEL);
		ASSERT_NE(c, nullptr);
		EXPECT_NE(c, s);
		EXPECT_STREQ(c, s);
		EXPECT_GE(ksize(c), strlen(s) + 1);
		kfree_const(c);
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
	/* one past the range is not in it: kfree_const of it is kfree's misuse */
	kfree_const(kmm_test_rodata + 12);
	EXPECT_EQ(kmm_bug_count(), 1u);
	EXPECT_EQ(kstrdup_const(nullptr, GFP_KERNEL), nullptr);
	kfree_const(nullptr);
	EXPECT_EQ(kmm_bug_count(), 1u);
}

} // namespace
