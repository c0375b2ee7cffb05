/*
 * tests/host/support/buddy_fixture.h — the GoogleTest fixture of the buddy
 * allocator's white-box tests (test_buddy.cpp, test_buddy_misuse.cpp,
 * test_buddy_validate.cpp): a private kmm::PageAllocator over an arena of
 * eight max-order blocks, the pristine one-max-block state most tests start
 * from, and address/page lookups. Sizes are in kPageSize / kMaxOrder, so the
 * same tests run on every page-size variant of mm.
 */
#ifndef KMM_TESTS_SUPPORT_BUDDY_FIXTURE_H
#define KMM_TESTS_SUPPORT_BUDDY_FIXTURE_H

#include <gtest/gtest.h>

#include <vector>

#include "page_alloc.h"
#include "support/arena.h"
#include "support/buddy_state.h"

namespace kmm_test {

class BuddyTest : public ::testing::Test {
protected:
	Arena arena{kBlockBytes * 8, kBlockBytes};
	TestAllocator t;
	kmm::PageAllocator &pa = t.pa;
	std::vector<Held> held;

	/* One region of `pages` pages at `offset` bytes into the arena. */
	void init_region(size_t pages, size_t offset = 0, unsigned zone = KMM_ZONE_NORMAL)
	{
		ASSERT_EQ(pa.add_region(arena.at(offset), pages * kmm::kPageSize, zone), 0);
		ASSERT_EQ(pa.init(), 0);
		ASSERT_EQ(pa.validate(), 0u);
	}
	/* Two max-order blocks, then everything below max order allocated:
	 * the zone's lists hold exactly one pristine max-order block at base. */
	void init_pristine_block()
	{
		init_region(2 * kBlockPages);
		held = drain_below_max(pa, KMM_ZONE_NORMAL);
		size_t blocks[KMM_NR_ORDERS];
		pa.free_blocks(KMM_ZONE_NORMAL, blocks);
		for (unsigned o = 0; o < kmm::kMaxOrder; ++o)
			ASSERT_EQ(blocks[o], 0u) << "order " << o;
		ASSERT_EQ(blocks[kmm::kMaxOrder], 1u);
		ASSERT_EQ(pa.validate(), 0u);
	}
	uintptr_t addr(const struct page *p) const { return reinterpret_cast<uintptr_t>(pa.page_address(p)); }
	struct page *page_at(uintptr_t a) const { return pa.virt_to_page(reinterpret_cast<void *>(a)); }
	size_t free_count(unsigned order, unsigned zone = KMM_ZONE_NORMAL) const
	{
		size_t blocks[KMM_NR_ORDERS];
		pa.free_blocks(zone, blocks);
		return blocks[order];
	}
	void free_held()
	{
		for (const Held &h : held)
			ASSERT_TRUE(pa.free(h.page, h.order));
		held.clear();
	}
};

} // namespace kmm_test

#endif
