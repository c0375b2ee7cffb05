/*
 * tests/host/test_buddy_misuse.cpp — the buddy allocator's misuse contract
 * (mm/page_alloc.cpp): every bad alloc or free (double free, a page inside a
 * block or a compound tail, a wrong order or kind, an address or descriptor
 * kmm does not manage, alloc_pages_exact/free_pages_exact mixed up) is
 * refused, reported once with its address, and leaves the state unchanged
 * and usable. Suite BuddyMisuse, on the shared fixture
 * (support/buddy_fixture.h); built per page-size variant of mm with
 * test_buddy.cpp.
 */
#include <gtest/gtest.h>

#include <string>

#include <kmm/page_alloc.h>

#include "page_alloc.h"
#include "support/buddy_fixture.h"

using kmm::kMaxOrder;
using kmm::kPageSize;
using kmm_test::BuddySnapshot;
using kmm_test::hex;
using kmm_test::kBlockBytes;
using kmm_test::snapshot;

namespace {

class BuddyMisuse : public kmm_test::BuddyTest {
protected:
	void SetUp() override { init_pristine_block(); }

	/* Runs a bad call and checks the contract: refused, one BUG line that
	 * names `needle` (and `what`), the state unchanged and usable. */
	template <typename Call> void expect_refused(Call call, const std::string &needle, const std::string &what = "")
	{
		BuddySnapshot before = snapshot(pa);
		unsigned long bugs = t.rep.bugs();
		t.cap.clear();
		EXPECT_FALSE(call());
		EXPECT_EQ(t.rep.bugs(), bugs + 1);
		ASSERT_EQ(t.cap.lines.size(), 1u) << t.cap.last();
		const std::string &line = t.cap.lines[0];
		EXPECT_EQ(line.rfind("BUG page_alloc: ", 0), 0u) << line;
		EXPECT_NE(line.find(needle), std::string::npos) << line << " lacks " << needle;
		EXPECT_NE(line.find(what), std::string::npos) << line << " lacks " << what;
		EXPECT_EQ(pa.validate(), 0u);
		EXPECT_EQ(snapshot(pa), before);
		/* Normal allocation still works and leaves the same state. */
		struct page *p = pa.alloc(GFP_KERNEL, 0);
		ASSERT_NE(p, nullptr);
		EXPECT_TRUE(pa.free(p, 0));
		EXPECT_EQ(snapshot(pa), before);
		EXPECT_EQ(t.rep.bugs(), bugs + 1);
	}
};

TEST_F(BuddyMisuse, DoubleFreeOfAnOrder0Page)
{
	struct page *a = pa.alloc(GFP_KERNEL, 0);
	struct page *b = pa.alloc(GFP_KERNEL, 0); /* a's buddy: keeps a unmerged */
	ASSERT_TRUE(pa.free(a, 0));
	expect_refused([&] { return pa.free(a, 0); }, hex(addr(a)), "double free");
	EXPECT_TRUE(pa.free(b, 0));
	EXPECT_EQ(t.rep.bugs(), 1u);
}

TEST_F(BuddyMisuse, DoubleFreeOfAPageThatMergedIntoItsBuddy)
{
	struct page *a = pa.alloc(GFP_KERNEL, 0);
	struct page *b = pa.alloc(GFP_KERNEL, 0);
	ASSERT_TRUE(pa.free(a, 0));
	ASSERT_TRUE(pa.free(b, 0)); /* b is now inside a's free block */
	expect_refused([&] { return pa.free(b, 0); }, hex(addr(b)), "inside a block");
	expect_refused([&] { return pa.free(a, 0); }, hex(addr(a)), "double free");
}

TEST_F(BuddyMisuse, DoubleFreeOfAHigherOrderBlock)
{
	struct page *p = pa.alloc(GFP_KERNEL, 3);
	struct page *q = pa.alloc(GFP_KERNEL, 3);
	ASSERT_TRUE(pa.free(p, 3));
	expect_refused([&] { return pa.free(p, 3); }, hex(addr(p)), "double free");
	EXPECT_TRUE(pa.free(q, 3));
}

TEST_F(BuddyMisuse, FreeOfAPageInsideAnAllocatedBlock)
{
	struct page *p = pa.alloc(GFP_KERNEL, 2);
	expect_refused([&] { return pa.free(p + 1, 0); }, hex(addr(p) + kPageSize), "inside a block");
	expect_refused([&] { return pa.free_addr(addr(p) + 2 * kPageSize, 1); }, hex(addr(p) + 2 * kPageSize));
	EXPECT_TRUE(pa.free(p, 2));
}

TEST_F(BuddyMisuse, FreeOfAPageInsideAFreeBlock)
{
	struct page *inside = page_at(arena.base() + 5 * kPageSize);
	ASSERT_EQ(inside->state, kmm::kInterior);
	expect_refused([&] { return pa.free(inside, 0); }, hex(arena.base() + 5 * kPageSize));
}

TEST_F(BuddyMisuse, FreeOfACompoundTail)
{
	struct page *head = pa.alloc(__GFP_COMP, 2, kmm::kCompound);
	ASSERT_NE(head, nullptr);
	expect_refused([&] { return pa.free(head + 1, 0); }, hex(addr(head) + kPageSize), "compound tail");
	EXPECT_TRUE(pa.free(head, 2));
}

TEST_F(BuddyMisuse, FreeWithTheWrongOrder)
{
	struct page *p = pa.alloc(GFP_KERNEL, 2);
	expect_refused([&] { return pa.free(p, 1); }, hex(addr(p)), "with order 1, allocated with order 2");
	expect_refused([&] { return pa.free(p, 3); }, hex(addr(p)), "with order 3, allocated with order 2");
	expect_refused([&] { return pa.free_addr(addr(p), 0); }, hex(addr(p)), "with order 0");
	EXPECT_TRUE(pa.free(p, 2));
}

TEST_F(BuddyMisuse, FreeWithAnOrderAboveTheMaximum)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	expect_refused([&] { return pa.free(p, kMaxOrder + 1); }, hex(addr(p)), "above the maximum");
	expect_refused([&] { return pa.free_addr(addr(p), 200); }, hex(addr(p)), "order 200");
	EXPECT_TRUE(pa.free(p, 0));
}

TEST_F(BuddyMisuse, AllocWithAnOrderAboveTheMaximumOrBadFlags)
{
	BuddySnapshot before = snapshot(pa);
	EXPECT_EQ(pa.alloc(GFP_KERNEL, kMaxOrder + 1), nullptr);
	EXPECT_EQ(t.rep.bugs(), 1u);
	EXPECT_EQ(t.cap.count_containing("BUG page_alloc: alloc_pages: invalid order"), 1u);
	EXPECT_EQ(pa.alloc(0x4000u, 0), nullptr);
	EXPECT_EQ(t.rep.bugs(), 2u);
	EXPECT_EQ(t.cap.count_containing("invalid gfp flags"), 1u);
	/* __GFP_NOWARN silences allocation failures, not misuse: reported too
	 * (it used to be refused without a word, so a KMM_BUG_PANIC build let
	 * it through) */
	EXPECT_EQ(pa.alloc(0x4000u | __GFP_NOWARN, 0), nullptr);
	EXPECT_EQ(t.rep.bugs(), 3u);
	EXPECT_EQ(t.cap.count_containing("invalid gfp flags (order 0, gfp 0x4010;"), 1u);
	EXPECT_EQ(snapshot(pa), before);
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(BuddyMisuse, FreeOfTheMemmapPages)
{
	const kmm::Region &r = pa.region(0);
	uintptr_t memmap = reinterpret_cast<uintptr_t>(r.pages);
	struct page *p = page_at(memmap);
	ASSERT_EQ(p->state, kmm::kReserved);
	expect_refused([&] { return pa.free(p, 0); }, hex(memmap), "reserved");
	expect_refused([&] { return pa.free_addr(memmap, 0); }, hex(memmap), "reserved");
}

TEST_F(BuddyMisuse, FreeOfADescriptorKmmDoesNotManage)
{
	struct page stray {};
	stray.state = kmm::kAllocated;
	expect_refused([&] { return pa.free(&stray, 0); }, hex(reinterpret_cast<uintptr_t>(&stray)), "does not manage");
	/* A pointer into the descriptor array but not at a descriptor. */
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	auto *skewed = reinterpret_cast<struct page *>(reinterpret_cast<char *>(p) + 4);
	expect_refused([&] { return pa.free(skewed, 0); }, hex(reinterpret_cast<uintptr_t>(skewed)), "does not manage");
	EXPECT_TRUE(pa.free(p, 0));
}

TEST_F(BuddyMisuse, FreePagesOfAnAddressKmmDoesNotManage)
{
	int local = 0;
	uintptr_t a = reinterpret_cast<uintptr_t>(&local);
	expect_refused([&] { return pa.free_addr(a, 0); }, hex(a), "not managed by kmm");
	uintptr_t past = arena.at(2 * kBlockBytes);
	expect_refused([&] { return pa.free_addr(past, 0); }, hex(past), "not managed by kmm");
}

TEST_F(BuddyMisuse, FreePagesOfAnUnalignedAddress)
{
	struct page *p = pa.alloc(GFP_KERNEL, 1);
	expect_refused([&] { return pa.free_addr(addr(p) + 8, 1); }, hex(addr(p) + 8), "not page-aligned");
	EXPECT_EQ(p->state, kmm::kAllocated);
	EXPECT_TRUE(pa.free_addr(addr(p), 1));
}

TEST_F(BuddyMisuse, FreeExpectingTheWrongKindOfBlock)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	expect_refused([&] { return pa.free(p, 0, kmm::kSlab); }, hex(addr(p)), "not a slab block");
	struct page *c = pa.alloc(__GFP_COMP, 1, kmm::kCompound);
	expect_refused([&] { return pa.free(c, 1, kmm::kLargeKmalloc); }, hex(addr(c)), "compound head");
	EXPECT_TRUE(pa.free(c, 1));
	EXPECT_TRUE(pa.free(p, 0));
}

TEST_F(BuddyMisuse, FreePagesExactWithAWrongSize)
{
	void *v = pa.alloc_exact(3 * kPageSize, GFP_KERNEL); /* blocks [0,2) and [2] */
	ASSERT_NE(v, nullptr);
	uintptr_t a = reinterpret_cast<uintptr_t>(v);
	const std::string at = hex(a);
	expect_refused([&] { return pa.free_exact(v, kPageSize); }, at, "allocated with order 1");
	expect_refused([&] { return pa.free_exact(v, 2 * kPageSize); }, at, "size does not match");
	expect_refused([&] { return pa.free_exact(v, 4 * kPageSize); }, at, "allocated with order 1");
	expect_refused([&] { return pa.free_exact(v, 3 * kPageSize + 1); }, at);
	expect_refused([&] { return pa.free_exact(v, 0); }, at, "size does not fit");
	expect_refused([&] { return pa.free_exact(v, SIZE_MAX); }, at, "size does not fit");
	expect_refused([&] { return pa.free_exact(v, kBlockBytes + kPageSize); }, at, "size does not fit");
	/* The tail part alone is not the start of the allocation. */
	expect_refused([&] { return pa.free_exact(reinterpret_cast<void *>(a + 2 * kPageSize), kPageSize); },
		       hex(a + 2 * kPageSize), "size does not match");
	EXPECT_TRUE(pa.free_exact(v, 3 * kPageSize - 1)); /* same page count */
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(BuddyMisuse, FreePagesExactOfABadAddress)
{
	void *v = pa.alloc_exact(2 * kPageSize, GFP_KERNEL);
	uintptr_t a = reinterpret_cast<uintptr_t>(v);
	expect_refused([&] { return pa.free_exact(reinterpret_cast<void *>(a + 1), 2 * kPageSize); }, hex(a + 1),
		       "not page-aligned");
	int local = 0;
	expect_refused([&] { return pa.free_exact(&local, kPageSize); }, hex(reinterpret_cast<uintptr_t>(&local)),
		       "not managed by kmm");
	EXPECT_TRUE(pa.free_exact(v, 2 * kPageSize));
	expect_refused([&] { return pa.free_exact(v, 2 * kPageSize); }, hex(a), "double free");
}

TEST_F(BuddyMisuse, FreePagesExactOfABlockFromAllocPages)
{
	struct page *p = pa.alloc(GFP_KERNEL, 1);
	expect_refused([&] { return pa.free_exact(pa.page_address(p), 2 * kPageSize); }, hex(addr(p)),
		       "size does not match");
	EXPECT_TRUE(pa.free(p, 1));
}

TEST_F(BuddyMisuse, FreeOfABlockFromAllocPagesExact)
{
	const size_t free0 = pa.totals().free;
	void *v = pa.alloc_exact(3 * kPageSize, GFP_KERNEL); /* blocks [0,2) and [2] */
	ASSERT_NE(v, nullptr);
	uintptr_t a = reinterpret_cast<uintptr_t>(v);
	const std::string what = "belongs to alloc_pages_exact: use free_pages_exact";
	expect_refused([&] { return pa.free_addr(a, 1); }, hex(a), what);
	expect_refused([&] { return pa.free(pa.virt_to_page(v), 1); }, hex(a), what);
	expect_refused([&] { return pa.free_addr(a + 2 * kPageSize, 0); }, hex(a + 2 * kPageSize), what);
	EXPECT_TRUE(pa.free_exact(v, 3 * kPageSize));
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.totals().free, free0);
}

TEST_F(BuddyMisuse, NullFreesAreQuietNoOps)
{
	BuddySnapshot before = snapshot(pa);
	EXPECT_TRUE(pa.free(nullptr, 0));
	EXPECT_TRUE(pa.free_addr(0, 0));
	EXPECT_TRUE(pa.free_exact(nullptr, kPageSize));
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_TRUE(t.cap.lines.empty());
	EXPECT_EQ(snapshot(pa), before);
}

} // namespace
