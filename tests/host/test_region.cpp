/*
 * tests/host/test_region.cpp — the memory map (mm/region.cpp and
 * PageAllocator::add_region/reserve/init): regions of any size and
 * alignment, holes, reserved ranges, where the descriptor array goes, and
 * maps too small to hold their own descriptors.
 *
 * Expected free blocks come from carve() below, the specification written
 * out: each run of usable pages is cut into naturally aligned blocks of the
 * largest order that fits. Built once per page-size variant of mm.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "page_alloc.h"
#include "support/arena.h"
#include "support/buddy_state.h"

using kmm::kMaxOrder;
using kmm::kPageShift;
using kmm::kPageSize;
using kmm_test::Arena;
using kmm_test::BuddySnapshot;
using kmm_test::FreeBlock;
using kmm_test::hex;
using kmm_test::kBlockBytes;
using kmm_test::kBlockPages;
using kmm_test::memmap_pages_for;
using kmm_test::snapshot;

namespace {

/* A region as the test expects it: whole pages [first, first + n), and
 * which of them the buddy allocator may hand out. */
struct ExpectedRegion {
	uintptr_t first;
	size_t n;
	unsigned zone;
	std::vector<bool> usable;
};

/* Whole pages of [start, start + size); memmap at the top; `reserved`
 * holds page indices (relative to the first whole page) kept back. */
ExpectedRegion expect_region(uintptr_t start, size_t size, unsigned zone, const std::vector<size_t> &reserved = {})
{
	uintptr_t first = (start + kmm::kPageMask) & ~kmm::kPageMask;
	uintptr_t last = (start + size) & ~kmm::kPageMask;
	ExpectedRegion e{first, (last - first) >> kPageShift, zone, {}};
	e.usable.assign(e.n, true);
	for (size_t i : reserved)
		e.usable[i] = false;
	size_t m = memmap_pages_for(e.n);
	for (size_t i = e.n - m; i < e.n; ++i)
		e.usable[i] = false;
	return e;
}

/* The specification of init's carving. */
std::set<FreeBlock> carve(const std::vector<ExpectedRegion> &regions)
{
	std::set<FreeBlock> blocks;
	for (const auto &r : regions) {
		size_t i = 0;
		while (i < r.n) {
			if (!r.usable[i]) {
				++i;
				continue;
			}
			size_t end = i;
			while (end < r.n && r.usable[end])
				++end;
			while (i < end) {
				uintptr_t pfn = (r.first >> kPageShift) + i;
				unsigned o = kMaxOrder;
				while (o > 0 && ((pfn & ((uintptr_t{1} << o) - 1)) != 0 || i + (size_t{1} << o) > end))
					--o;
				blocks.insert(FreeBlock{r.first + (uintptr_t{i} << kPageShift), o, r.zone});
				i += size_t{1} << o;
			}
		}
	}
	return blocks;
}

size_t usable_pages(const std::vector<ExpectedRegion> &regions)
{
	size_t n = 0;
	for (const auto &r : regions)
		for (bool u : r.usable)
			n += u ? 1 : 0;
	return n;
}

class Region : public ::testing::Test {
protected:
	Arena arena{kBlockBytes * 8, kBlockBytes};
	kmm_test::TestAllocator t;
	kmm::PageAllocator &pa = t.pa;

	/* Allocates order-0 pages until none is left; checks each lies on a
	 * usable page of the expected map and none comes twice. */
	std::vector<struct page *> take_every_page(const std::vector<ExpectedRegion> &regions)
	{
		std::set<uintptr_t> usable;
		for (const auto &r : regions)
			for (size_t i = 0; i < r.n; ++i)
				if (r.usable[i])
					usable.insert(r.first + (uintptr_t{i} << kPageShift));
		std::vector<struct page *> pages;
		std::set<uintptr_t> seen;
		while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0)) {
			uintptr_t a = reinterpret_cast<uintptr_t>(pa.page_address(p));
			EXPECT_EQ(usable.count(a), 1u) << hex(a) << " is not a usable page";
			EXPECT_TRUE(seen.insert(a).second) << hex(a) << " handed out twice";
			pages.push_back(p);
		}
		EXPECT_EQ(seen, usable);
		return pages;
	}
	void free_all(const std::vector<struct page *> &pages)
	{
		for (struct page *p : pages)
			ASSERT_TRUE(pa.free(p, 0));
	}
	/* Init matches the map: free blocks, counts, validate, and a full
	 * drain and refill gives the same state back. */
	void expect_map(const std::vector<ExpectedRegion> &regions)
	{
		BuddySnapshot s = snapshot(pa);
		EXPECT_EQ(s.blocks, carve(regions));
		EXPECT_EQ(pa.totals().managed, usable_pages(regions));
		EXPECT_EQ(pa.totals().free, usable_pages(regions));
		EXPECT_EQ(pa.validate(), 0u);
		std::vector<struct page *> pages = take_every_page(regions);
		EXPECT_EQ(pages.size(), usable_pages(regions));
		EXPECT_EQ(pa.totals().free, 0u);
		free_all(pages);
		EXPECT_EQ(pa.validate(), 0u);
		EXPECT_EQ(snapshot(pa), s);
	}
};

TEST_F(Region, AddRegionRejectsBadArguments)
{
	EXPECT_EQ(pa.add_region(arena.at(0), kPageSize, KMM_NR_ZONES), -KMM_EINVAL);
	EXPECT_EQ(pa.add_region(arena.at(0), 0, KMM_ZONE_NORMAL), -KMM_EINVAL);
	EXPECT_EQ(pa.add_region(UINTPTR_MAX - kPageSize, 2 * kPageSize, KMM_ZONE_NORMAL), -KMM_EINVAL); /* wraps */
	/* Less than one whole page inside: nothing to manage. */
	EXPECT_EQ(pa.add_region(arena.at(1), kPageSize, KMM_ZONE_NORMAL), -KMM_EINVAL);
	EXPECT_EQ(pa.add_region(arena.at(1), kPageSize - 1, KMM_ZONE_NORMAL), -KMM_EINVAL);
	EXPECT_EQ(pa.nr_regions(), 0u);
	EXPECT_EQ(pa.add_region(arena.at(kPageSize), 8 * kPageSize, KMM_ZONE_NORMAL), 0);
	/* Overlaps, even by one byte at either end. */
	EXPECT_EQ(pa.add_region(arena.at(0), kPageSize + 1, KMM_ZONE_DMA), -KMM_EINVAL);
	EXPECT_EQ(pa.add_region(arena.at(9 * kPageSize - 1), 4 * kPageSize, KMM_ZONE_DMA), -KMM_EINVAL);
	EXPECT_EQ(pa.nr_regions(), 1u);
	/* Touching is fine. */
	EXPECT_EQ(pa.add_region(arena.at(9 * kPageSize), 4 * kPageSize, KMM_ZONE_DMA), 0);
	for (unsigned i = 2; i < KMM_MAX_REGIONS; ++i)
		EXPECT_EQ(pa.add_region(arena.at((16 + 4 * i) * kPageSize), 4 * kPageSize, KMM_ZONE_NORMAL), 0) << i;
	EXPECT_EQ(pa.add_region(arena.at(200 * kPageSize), 4 * kPageSize, KMM_ZONE_NORMAL), -KMM_ENOSPC);
	EXPECT_EQ(pa.nr_regions(), unsigned{KMM_MAX_REGIONS});
	EXPECT_EQ(pa.init(), 0);
	EXPECT_EQ(pa.add_region(arena.at(300 * kPageSize), 4 * kPageSize, KMM_ZONE_NORMAL), -KMM_EBUSY);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(t.rep.bugs(), 0u); /* bad arguments are return codes, not BUG reports */
}

/* A range that ends exactly at the top of the address space (start + size
 * = 2^N, which has no uintptr_t) is accepted: the region drops its last
 * page, the reservation its last byte. One byte more wraps: refused. (No
 * init: there is no memory up there on the host.) */
TEST_F(Region, ARangeEndingAtTheTopOfTheAddressSpaceIsAccepted)
{
	const uintptr_t top_start = UINTPTR_MAX - 16 * kPageSize + 1; /* page-aligned */
	EXPECT_EQ(pa.add_region(top_start, 16 * kPageSize + 1, KMM_ZONE_NORMAL), -KMM_EINVAL);
	EXPECT_EQ(pa.reserve(top_start, 16 * kPageSize + 1), -KMM_EINVAL);
	EXPECT_EQ(pa.nr_regions(), 0u);
	EXPECT_EQ(pa.add_region(top_start, 16 * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.nr_regions(), 1u);
	EXPECT_EQ(pa.region(0).given.start, top_start);
	EXPECT_EQ(pa.region(0).given.end, UINTPTR_MAX);
	EXPECT_EQ(pa.reserve(UINTPTR_MAX - 9, 10), 0);
	/* the range still overlaps what lies below the top */
	EXPECT_EQ(pa.add_region(top_start - kPageSize, 2 * kPageSize, KMM_ZONE_NORMAL), -KMM_EINVAL);
	EXPECT_EQ(t.rep.bugs(), 0u);
}

TEST_F(Region, ReserveAndInitRejectBadCalls)
{
	EXPECT_EQ(pa.init(), -KMM_EINVAL); /* no region */
	EXPECT_EQ(pa.reserve(arena.at(0), 0), -KMM_EINVAL);
	EXPECT_EQ(pa.reserve(UINTPTR_MAX - 10, 100), -KMM_EINVAL);
	for (unsigned i = 0; i < KMM_MAX_RESERVED; ++i)
		EXPECT_EQ(pa.reserve(arena.at(i * kPageSize), 1), 0) << i;
	EXPECT_EQ(pa.reserve(arena.at(100 * kPageSize), 1), -KMM_ENOSPC);
	ASSERT_EQ(pa.add_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL), 0);
	EXPECT_EQ(pa.init(), 0);
	EXPECT_EQ(pa.init(), -KMM_EBUSY);
	EXPECT_EQ(pa.reserve(arena.at(0), kPageSize), -KMM_EBUSY);
	std::vector<size_t> reserved;
	for (size_t i = 0; i < KMM_MAX_RESERVED; ++i)
		reserved.push_back(i);
	expect_map({expect_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL, reserved)});
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).reserved, size_t{KMM_MAX_RESERVED});
}

TEST_F(Region, UnalignedStartAndEndDropThePartialPages)
{
	uintptr_t start = arena.at(3 * kPageSize + kPageSize / 3);
	size_t size = 37 * kPageSize + kPageSize / 2;
	ASSERT_EQ(pa.add_region(start, size, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	const kmm::Region &r = pa.region(0);
	EXPECT_EQ(r.start, arena.at(4 * kPageSize));
	EXPECT_EQ(r.nr_pages, 36u); /* pages 4..39; 40 is cut by the end */
	EXPECT_EQ(r.base_pfn, arena.at(4 * kPageSize) >> kPageShift);
	EXPECT_EQ(r.given.start, start);
	EXPECT_EQ(r.given.end, start + size);
	EXPECT_EQ(pa.virt_to_page(reinterpret_cast<void *>(arena.at(4 * kPageSize) - 1)), nullptr);
	EXPECT_EQ(pa.virt_to_page(reinterpret_cast<void *>(arena.at(40 * kPageSize))), nullptr);
	expect_map({expect_region(start, size, KMM_ZONE_NORMAL)});
}

TEST_F(Region, SizeNotAPowerOfTwoIsCarvedIntoTheLargestAlignedBlocks)
{
	const size_t pages = 3 * kBlockPages - 5;
	uintptr_t start = arena.at(11 * kPageSize); /* pfn not aligned to any large order */
	ASSERT_EQ(pa.add_region(start, pages * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	ExpectedRegion e = expect_region(start, pages * kPageSize, KMM_ZONE_NORMAL);
	std::set<FreeBlock> blocks = carve({e});
	/* A whole max-order block fits from pfn base + B up. */
	EXPECT_EQ(blocks.count(FreeBlock{arena.at(kBlockBytes), kMaxOrder, KMM_ZONE_NORMAL}), 1u);
	EXPECT_EQ(blocks.begin()->addr, start);
	EXPECT_EQ(blocks.begin()->order, 0u); /* pfn 11 is odd */
	expect_map({e});
}

TEST_F(Region, ThreeRegionsWithHolesAndReservedPages)
{
	uintptr_t a_start = arena.at(kPageSize / 3);
	size_t a_size = (2 * kBlockPages + kBlockPages / 2) * kPageSize + 100;
	uintptr_t b_start = arena.at(3 * kBlockBytes + 7 * kPageSize);
	size_t b_size = (kBlockPages + 13) * kPageSize;
	uintptr_t c_start = arena.at(5 * kBlockBytes + 5 * kPageSize + 17);
	size_t c_size = (kBlockPages / 4 + 9) * kPageSize;
	ASSERT_EQ(pa.add_region(a_start, a_size, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(b_start, b_size, KMM_ZONE_DMA), 0);
	ASSERT_EQ(pa.add_region(c_start, c_size, KMM_ZONE_NORMAL), 0);
	/* A: one page in the middle of a max-order block; C: a sub-page range
	 * straddling two pages reserves both; a range in a hole changes nothing. */
	ASSERT_EQ(pa.reserve(arena.at(kBlockBytes + 5 * kPageSize), kPageSize), 0);
	ASSERT_EQ(pa.reserve(arena.at(5 * kBlockBytes + 9 * kPageSize - 8), 16), 0);
	ASSERT_EQ(pa.reserve(arena.at(2 * kBlockBytes + kBlockBytes * 3 / 4), kPageSize), 0);
	ASSERT_EQ(pa.init(), 0);
	ASSERT_EQ(pa.nr_regions(), 3u);
	/* Relative page indices: A's first whole page is arena page 1, C's is 6. */
	std::vector<ExpectedRegion> map = {
		expect_region(a_start, a_size, KMM_ZONE_NORMAL, {kBlockPages + 4}),
		expect_region(b_start, b_size, KMM_ZONE_DMA),
		expect_region(c_start, c_size, KMM_ZONE_NORMAL, {2, 3}),
	};
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).reserved, 3u);
	EXPECT_EQ(pa.counts(KMM_ZONE_DMA).reserved, 0u);
	EXPECT_EQ(pa.counts(KMM_ZONE_DMA).managed, usable_pages({map[1]}));
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).managed, usable_pages({map[0], map[2]}));
	EXPECT_EQ(pa.virt_to_page(reinterpret_cast<void *>(arena.at(5 * kBlockBytes))), nullptr); /* a hole */
	expect_map(map);
}

TEST_F(Region, TouchingRegionsAreSeparateBuddySystems)
{
	uintptr_t a = arena.at(0);
	uintptr_t b = arena.at(kBlockBytes / 2);
	ASSERT_EQ(pa.add_region(a, kBlockBytes / 2, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(b, kBlockBytes / 2 + kBlockBytes, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	std::vector<ExpectedRegion> map = {expect_region(a, kBlockBytes / 2, KMM_ZONE_NORMAL),
					   expect_region(b, kBlockBytes / 2 + kBlockBytes, KMM_ZONE_NORMAL)};
	expect_map(map);
	/* No free block reaches past its region. */
	for (const FreeBlock &f : snapshot(pa).blocks) {
		uintptr_t end = f.addr + (kPageSize << f.order);
		bool in_a = f.addr >= a && end <= b;
		bool in_b = f.addr >= b && end <= b + kBlockBytes / 2 + kBlockBytes;
		EXPECT_TRUE(in_a || in_b) << hex(f.addr) << " order " << f.order;
	}
}

TEST_F(Region, MergingStopsAtTheRegionEdgesWhateverLiesBeyond)
{
	/* The region starts at an odd pfn, so the buddy of its first page lies
	 * before it; the memory around it and in every page is filled with
	 * images of a free order-0 descriptor, so any read past an edge would
	 * look like a free buddy. */
	uintptr_t start = arena.at(kPageSize);
	size_t pages = kBlockPages + kBlockPages / 2 + 1;
	struct page fake {};
	fake.state = kmm::kFree;
	fake.order = 0;
	auto fill = [&](uintptr_t from, size_t bytes) {
		for (size_t off = 0; off + sizeof fake <= bytes; off += sizeof fake)
			std::memcpy(reinterpret_cast<void *>(from + off), &fake, sizeof fake);
	};
	fill(arena.at(0), kPageSize);
	fill(start + pages * kPageSize, kBlockBytes);
	ASSERT_EQ(pa.add_region(start, pages * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	BuddySnapshot before = snapshot(pa);
	std::vector<ExpectedRegion> map = {expect_region(start, pages * kPageSize, KMM_ZONE_NORMAL)};
	std::vector<struct page *> all = take_every_page(map);
	for (struct page *p : all)
		fill(reinterpret_cast<uintptr_t>(pa.page_address(p)), kPageSize);
	free_all(all);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(snapshot(pa), before);
}

TEST_F(Region, RegionSmallerThanOneMaxOrderBlock)
{
	const size_t pages = kBlockPages / 2 + kBlockPages / 4 + 3;
	ASSERT_EQ(pa.add_region(arena.at(0), pages * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	ASSERT_GE(pages - memmap_pages_for(pages), kBlockPages / 2);
	size_t blocks[KMM_NR_ORDERS];
	pa.free_blocks(KMM_ZONE_NORMAL, blocks);
	EXPECT_EQ(blocks[kMaxOrder], 0u);
	EXPECT_EQ(blocks[kMaxOrder - 1], 1u);
	EXPECT_EQ(pa.alloc(GFP_KERNEL | __GFP_NOWARN, kMaxOrder), nullptr);
	EXPECT_EQ(t.rep.bugs(), 0u);
	expect_map({expect_region(arena.at(0), pages * kPageSize, KMM_ZONE_NORMAL)});
}

TEST_F(Region, MemmapTakesTheHighestPagesFreeOfReservations)
{
	const size_t pages = 2 * kBlockPages;
	size_t m = memmap_pages_for(pages);
	/* Reserve the top three pages: the descriptors go right below them. */
	ASSERT_EQ(pa.reserve(arena.at((pages - 3) * kPageSize), 3 * kPageSize), 0);
	ASSERT_EQ(pa.add_region(arena.at(0), pages * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	const kmm::Region &r = pa.region(0);
	EXPECT_EQ(r.memmap_pages, m);
	EXPECT_EQ(reinterpret_cast<uintptr_t>(r.pages), arena.at((pages - 3 - m) * kPageSize));
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).memmap, m);
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).reserved, 3u);
	for (size_t i = pages - 3 - m; i < pages; ++i)
		EXPECT_EQ(r.pages[i].state, kmm::kReserved) << i;
	ExpectedRegion e{arena.at(0), pages, KMM_ZONE_NORMAL, std::vector<bool>(pages, true)};
	for (size_t i = pages - 3 - m; i < pages; ++i)
		e.usable[i] = false;
	expect_map({e});
}

TEST_F(Region, RegionTooSmallForItsDescriptorsFailsInitCleanly)
{
	/* One whole page: its descriptor would need that very page. */
	ASSERT_EQ(pa.add_region(arena.at(kPageSize / 2), 2 * kPageSize, KMM_ZONE_NORMAL), 0);
	EXPECT_EQ(pa.init(), -KMM_ENOMEM);
	EXPECT_FALSE(pa.initialized());
	EXPECT_EQ(t.cap.count_containing("cannot hold its"), 1u);
	EXPECT_EQ(t.cap.count_containing(hex(arena.at(kPageSize / 2))), 1u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.totals().managed, 0u);
	EXPECT_EQ(pa.totals().free, 0u);
	EXPECT_EQ(pa.totals().memmap, 0u);
	EXPECT_EQ(pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0), nullptr);
	/* Nothing half-built: a reset and a usable map work. */
	pa.reset();
	ASSERT_EQ(pa.add_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	expect_map({expect_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL)});
}

TEST_F(Region, AFailingSecondRegionUndoesTheFirst)
{
	ASSERT_EQ(pa.add_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(arena.at(2 * kBlockBytes), kPageSize, KMM_ZONE_DMA), 0);
	EXPECT_EQ(pa.init(), -KMM_ENOMEM);
	EXPECT_FALSE(pa.initialized());
	EXPECT_EQ(pa.region(0).pages, nullptr);
	EXPECT_EQ(pa.region(0).nr_pages, 0u);
	EXPECT_EQ(pa.region(0).given.start, arena.at(0)); /* the map itself is kept */
	EXPECT_EQ(pa.totals().memmap, 0u);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.virt_to_page(reinterpret_cast<void *>(arena.at(0))), nullptr);
	EXPECT_EQ(pa.init(), -KMM_ENOMEM); /* still the same answer */
}

TEST_F(Region, NoUsablePageLeftBesideTheDescriptorsFailsInit)
{
	const size_t pages = 8;
	ASSERT_EQ(pa.add_region(arena.at(0), pages * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.reserve(arena.at(0), (pages - memmap_pages_for(pages)) * kPageSize), 0);
	EXPECT_EQ(pa.init(), -KMM_ENOMEM);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.totals().managed, 0u);
}

/* A region every page of which is reserved is a map that contradicts
 * itself: -EINVAL and a warning saying so. It used to be -ENOMEM with
 * "cannot hold its N-byte page descriptors and one page", which sends the
 * reader looking for a size problem. */
TEST_F(Region, ARegionReservedWholeIsReportedAsSuch)
{
	const size_t pages = 2 * kBlockPages;
	ASSERT_EQ(pa.add_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(arena.at(2 * kBlockBytes), pages * kPageSize, KMM_ZONE_DMA), 0);
	/* Two ranges, overhanging both ends of the second region. */
	ASSERT_EQ(pa.reserve(arena.at(2 * kBlockBytes) - 1, 2), 0);
	ASSERT_EQ(pa.reserve(arena.at(2 * kBlockBytes + kPageSize), pages * kPageSize), 0);
	EXPECT_EQ(pa.init(), -KMM_EINVAL);
	EXPECT_FALSE(pa.initialized());
	ASSERT_EQ(t.cap.lines.size(), 1u);
	EXPECT_EQ(t.cap.lines[0], "region 1 [" + hex(arena.at(2 * kBlockBytes)) + "-" +
					  hex(arena.at(2 * kBlockBytes + pages * kPageSize)) + "): all " +
					  std::to_string(pages) + " of its pages are reserved (kmm_reserve), nothing to manage");
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(pa.totals().managed, 0u);
	EXPECT_EQ(pa.totals().memmap, 0u);
	EXPECT_EQ(pa.validate(), 0u);
	/* A region not quite reserved whole is short of room: -ENOMEM, and the
	 * warning tells the reservations apart. */
	pa.reset();
	t.cap.clear();
	ASSERT_EQ(pa.add_region(arena.at(0), 8 * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.reserve(arena.at(0), 7 * kPageSize), 0);
	EXPECT_EQ(pa.init(), -KMM_ENOMEM);
	ASSERT_EQ(t.cap.lines.size(), 1u);
	EXPECT_NE(t.cap.lines[0].find("cannot hold its"), std::string::npos) << t.cap.lines[0];
	EXPECT_NE(t.cap.lines[0].find("(7 of 8 reserved)"), std::string::npos) << t.cap.lines[0];
	pa.reset();
	ASSERT_EQ(pa.add_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.init(), 0);
	expect_map({expect_region(arena.at(0), kBlockBytes, KMM_ZONE_NORMAL)});
}

/* With 64 KiB pages a region's descriptors fit in one page, so no run of
 * unreserved pages can be too short: the case does not exist there. */
#if KMM_PAGE_SHIFT < 16
TEST_F(Region, DescriptorsNeedARunOfUnreservedPages)
{
	/* Reservations every few pages leave no run long enough for the
	 * descriptors (which need more than one page here). */
	const size_t pages = 4 * kBlockPages;
	size_t m = memmap_pages_for(pages);
	ASSERT_GE(m, 2u) << "the premise: descriptors need more than one page";
	ASSERT_EQ(pa.add_region(arena.at(0), pages * kPageSize, KMM_ZONE_NORMAL), 0);
	size_t step = (pages + KMM_MAX_RESERVED - 1) / KMM_MAX_RESERVED;
	/* Each reservation leaves at most m-1 free pages in its stretch. */
	size_t len = step > m - 1 ? step - (m - 1) : 1;
	for (size_t i = 0; i < KMM_MAX_RESERVED; ++i)
		ASSERT_EQ(pa.reserve(arena.at(i * step * kPageSize), len * kPageSize), 0);
	EXPECT_EQ(pa.init(), -KMM_ENOMEM);
	EXPECT_EQ(t.cap.count_containing("cannot hold its"), 1u);
	EXPECT_EQ(pa.validate(), 0u);
}
#endif

TEST_F(Region, EveryPageOfEveryRegionIsDescribed)
{
	ASSERT_EQ(pa.add_region(arena.at(kPageSize + 1), 20 * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(arena.at(kBlockBytes), 9 * kPageSize, KMM_ZONE_DMA), 0);
	ASSERT_EQ(pa.init(), 0);
	for (unsigned i = 0; i < pa.nr_regions(); ++i) {
		const kmm::Region &r = pa.region(i);
		for (size_t k = 0; k < r.nr_pages; ++k) {
			uintptr_t a = r.start + k * kPageSize;
			struct page *p = pa.virt_to_page(reinterpret_cast<void *>(a + k % kPageSize));
			ASSERT_EQ(p, &r.pages[k]);
			ASSERT_EQ(reinterpret_cast<uintptr_t>(pa.page_address(p)), a);
			ASSERT_EQ(pa.region_of(p), &r);
			ASSERT_EQ(r.pfn(p), a >> kPageShift);
		}
	}
	EXPECT_EQ(pa.region(0).nr_pages, 19u); /* the page cut at the start is dropped */
	EXPECT_EQ(pa.region(1).nr_pages, 9u);
}

} // namespace
