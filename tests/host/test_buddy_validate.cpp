/*
 * tests/host/test_buddy_validate.cpp — PageAllocator::validate()
 * (mm/page_check.cpp) under corruption injection: each injected fault
 * (page state, free-list links and counts, the non-empty bitmap, unmerged
 * buddies, compound tails) is found with an exact problem count and one
 * detail line per problem, and the count is back to 0 once it is repaired.
 * Suite BuddyValidate, on the shared fixture (support/buddy_fixture.h);
 * built per page-size variant of mm with test_buddy.cpp.
 */
#include <gtest/gtest.h>

#include <string>

#include <kmm/page_alloc.h>

#include "page_alloc.h"
#include "support/buddy_fixture.h"

using kmm::kMaxOrder;
using kmm::kPageSize;
using kmm_test::hex;
using kmm_test::kBlockPages;

namespace {

class BuddyValidate : public kmm_test::BuddyTest {
protected:
	void SetUp() override { init_pristine_block(); }
	kmm::Zone &zone() { return kmm::PageAllocatorPeer::zone(pa, KMM_ZONE_NORMAL); }
	/* validate() with its detail lines counted: one line per problem. */
	unsigned long problems()
	{
		t.cap.clear();
		unsigned long n = pa.validate();
		EXPECT_EQ(t.cap.count_containing("validate: page_alloc: "), n);
		EXPECT_EQ(t.cap.lines.size(), n);
		return n;
	}
	/* Four order-0 pages a0..a3 with a0 and a2 free (their buddies a1, a3
	 * held): the order-0 list is a2 -> a0. */
	void two_free_order0(struct page *out[4])
	{
		for (int i = 0; i < 4; ++i)
			out[i] = pa.alloc(GFP_KERNEL, 0);
		ASSERT_TRUE(pa.free(out[0], 0));
		ASSERT_TRUE(pa.free(out[2], 0));
		ASSERT_EQ(zone().free_area[0].head, out[2]);
		ASSERT_EQ(out[2]->next, out[0]);
		ASSERT_EQ(problems(), 0u);
	}
};

TEST_F(BuddyValidate, CleanStateHasNoProblems)
{
	EXPECT_EQ(problems(), 0u);
	struct page *p = pa.alloc(__GFP_COMP, 3, kmm::kCompound);
	struct page *q = pa.alloc(GFP_KERNEL, 1);
	EXPECT_EQ(problems(), 0u);
	pa.free(p, 3);
	pa.free(q, 1);
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, GarbageStateInAnAllocatedHead)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	p->state = 0xee;
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.cap.count_containing("corrupt page state at " + hex(addr(p))), 1u);
	p->state = kmm::kAllocated;
	EXPECT_EQ(problems(), 0u);
	EXPECT_TRUE(pa.free(p, 0));
}

TEST_F(BuddyValidate, AllocatedHeadMarkedInteriorOrphansItsWholeBlock)
{
	struct page *p = pa.alloc(GFP_KERNEL, 2);
	p->state = kmm::kInterior;
	/* All four pages are now block pages outside any block. */
	EXPECT_EQ(problems(), 4u);
	EXPECT_EQ(t.cap.count_containing("block page outside any block"), 4u);
	p->state = kmm::kAllocated;
	EXPECT_EQ(problems(), 0u);
	EXPECT_TRUE(pa.free(p, 2));
}

TEST_F(BuddyValidate, FreeHeadMarkedAllocated)
{
	struct page *p0 = pa.alloc(GFP_KERNEL, 0);
	struct page *f = page_at(arena.base() + 4 * kPageSize); /* the free order-2 block */
	ASSERT_EQ(f->state, kmm::kFree);
	f->state = kmm::kAllocated;
	/* The list entry is not a free head; the walk finds one free block
	 * fewer than the lists, and four free pages fewer than the counter. */
	EXPECT_EQ(problems(), 3u);
	EXPECT_EQ(t.cap.count_containing("free list entry is not a free head"), 1u);
	EXPECT_EQ(t.cap.count_containing("free blocks and free-list entries differ"), 1u);
	EXPECT_EQ(t.cap.count_containing("free page counter wrong"), 1u);
	f->state = kmm::kFree;
	EXPECT_EQ(problems(), 0u);
	EXPECT_TRUE(pa.free(p0, 0));
}

TEST_F(BuddyValidate, PageInsideAFreeBlockIsNotInterior)
{
	struct page *inside = page_at(arena.base() + 3 * kPageSize);
	ASSERT_EQ(inside->state, kmm::kInterior);
	inside->state = kmm::kFree;
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.cap.count_containing("page inside a block is not interior at " + hex(arena.base() + 3 * kPageSize)), 1u);
	inside->state = kmm::kInterior;
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, BrokenBackLink)
{
	struct page *a[4];
	two_free_order0(a);
	a[0]->prev = nullptr;
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.cap.count_containing("back link broken at " + hex(addr(a[0]))), 1u);
	a[0]->prev = a[2];
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, TruncatedForwardLink)
{
	struct page *a[4];
	two_free_order0(a);
	a[2]->next = nullptr; /* a0 falls off the list */
	/* The list is shorter than its count; the walk finds a free block the
	 * lists lack; the listed pages differ from the counter. */
	EXPECT_EQ(problems(), 3u);
	EXPECT_EQ(t.cap.count_containing("free list count differs"), 1u);
	EXPECT_EQ(t.cap.count_containing("free blocks and free-list entries differ"), 1u);
	EXPECT_EQ(t.cap.count_containing("free page counter wrong"), 1u);
	a[2]->next = a[0];
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, WrongFreePageCounter)
{
	zone().free_pages += 1;
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.cap.count_containing("free page counter wrong"), 1u);
	zone().free_pages -= 1;
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, WrongListCount)
{
	zone().free_area[kMaxOrder].count += 2;
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.cap.count_containing("free list count differs from its length"), 1u);
	zone().free_area[kMaxOrder].count -= 2;
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, WrongNonEmptyBitmap)
{
	zone().nonempty |= 1u; /* order 0 is empty in the pristine state */
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.cap.count_containing("non-empty-order bitmap wrong"), 1u);
	zone().nonempty &= ~1u;
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, UnmergedBuddyPair)
{
	/* Split the pristine max block by hand into two free halves. */
	struct page *lo = page_at(arena.base());
	struct page *hi = lo + kBlockPages / 2;
	zone().del_free(lo, kMaxOrder);
	zone().add_free(lo, kMaxOrder - 1);
	zone().add_free(hi, kMaxOrder - 1);
	/* Each half sees its buddy free at the same order. */
	EXPECT_EQ(problems(), 2u);
	EXPECT_EQ(t.cap.count_containing("free buddies of equal order not merged"), 2u);
	EXPECT_EQ(t.cap.count_containing("not merged at " + hex(addr(lo))), 1u);
	EXPECT_EQ(t.cap.count_containing("not merged at " + hex(addr(hi))), 1u);
	zone().del_free(hi, kMaxOrder - 1);
	hi->state = kmm::kInterior;
	zone().del_free(lo, kMaxOrder - 1);
	zone().add_free(lo, kMaxOrder);
	EXPECT_EQ(problems(), 0u);
}

TEST_F(BuddyValidate, CompoundTailNotLinkedToItsHead)
{
	struct page *head = pa.alloc(__GFP_COMP, 2, kmm::kCompound);
	head[2].next = head + 1;
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.cap.count_containing("compound tail not linked to its head at " + hex(addr(head) + 2 * kPageSize)), 1u);
	head[2].next = head;
	EXPECT_EQ(problems(), 0u);
	EXPECT_TRUE(pa.free(head, 2));
}

TEST_F(BuddyValidate, IndependentCorruptionsAddUp)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	p->state = 0x7f;
	zone().free_area[1].count += 1;
	zone().nonempty ^= 1u << kMaxOrder; /* max order is empty now: bit wrongly set */
	EXPECT_EQ(problems(), 3u);
	p->state = kmm::kAllocated;
	zone().free_area[1].count -= 1;
	zone().nonempty ^= 1u << kMaxOrder;
	EXPECT_EQ(problems(), 0u);
	EXPECT_TRUE(pa.free(p, 0));
}

TEST_F(BuddyValidate, BugCountIsNotTouchedByValidate)
{
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	p->state = 0xee;
	EXPECT_EQ(problems(), 1u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	p->state = kmm::kAllocated;
	EXPECT_TRUE(pa.free(p, 0));
}

} // namespace
