/*
 * tests/host/support/buddy_state.h — white-box helpers for tests of the page
 * allocator core: a private PageAllocator with a capturing reporter, a
 * snapshot of its free state (per-order counts and the exact set of free
 * blocks) to compare before/after, and PageAllocatorPeer, the test-only door
 * to the zones for corruption injection.
 */
#ifndef KMM_TESTS_SUPPORT_BUDDY_STATE_H
#define KMM_TESTS_SUPPORT_BUDDY_STATE_H

#include <array>
#include <compare>
#include <ostream>
#include <set>
#include <vector>

#include "page_alloc.h"
#include "support/arena.h"

namespace kmm {

/* Declared a friend in page_alloc.h: reaches the zones of an instance. */
struct PageAllocatorPeer {
	static Zone &zone(PageAllocator &pa, unsigned z) { return pa.zones_[z]; }
};

} // namespace kmm

namespace kmm_test {

inline constexpr size_t kBlockPages = size_t{1} << kmm::kMaxOrder; /* pages of a max-order block */
inline constexpr size_t kBlockBytes = kmm::kPageSize << kmm::kMaxOrder;

/* Pages of descriptors for a region of n whole pages. */
inline size_t memmap_pages_for(size_t n) { return (n * sizeof(struct page) + kmm::kPageMask) >> kmm::kPageShift; }

/* A private allocator whose misuse reports are captured and refused.
 * Per-CPU page lists are off unless asked for: the white-box tests pin the
 * buddy core's exact split/merge behaviour. */
struct TestAllocator {
	kmm::Reporter rep;
	ReportCapture cap;
	kmm::PageAllocator pa;

	explicit TestAllocator(uint32_t pcp_high = 0) : pa(&rep, pcp_high)
	{
		rep.set_hook(&ReportCapture::hook, &cap);
		rep.set_policy(KMM_BUG_REFUSE);
	}
	TestAllocator(const TestAllocator &) = delete;
	TestAllocator &operator=(const TestAllocator &) = delete;
};

struct FreeBlock {
	uintptr_t addr;
	unsigned order;
	unsigned zone;
	auto operator<=>(const FreeBlock &) const = default;
};

/* The free state of an allocator as seen two ways: the per-order counts of
 * its lists and the free heads found by walking every descriptor. */
struct BuddySnapshot {
	std::array<std::array<size_t, KMM_NR_ORDERS>, KMM_NR_ZONES> counts{};
	std::set<FreeBlock> blocks;
	size_t free_pages = 0;
	bool operator==(const BuddySnapshot &) const = default;
};

inline std::ostream &operator<<(std::ostream &os, const BuddySnapshot &s)
{
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		os << "zone " << z << ":";
		for (size_t c : s.counts[z])
			os << ' ' << c;
		os << "; ";
	}
	return os << s.blocks.size() << " free blocks, " << s.free_pages << " free pages";
}

/* Drains the per-CPU page lists first: the buddy state is compared with
 * every free page back on the buddy lists (as after init). */
inline BuddySnapshot snapshot(const kmm::PageAllocator &pa)
{
	const_cast<kmm::PageAllocator &>(pa).drain_pcp();
	BuddySnapshot s;
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z)
		pa.free_blocks(z, s.counts[z].data());
	for (unsigned i = 0; i < pa.nr_regions(); ++i) {
		const kmm::Region &r = pa.region(i);
		for (size_t k = 0; k < r.nr_pages; ++k)
			if (r.pages[k].state == kmm::kFree)
				s.blocks.insert(FreeBlock{r.address(&r.pages[k]), r.pages[k].order, r.zone});
	}
	s.free_pages = pa.totals().free;
	return s;
}

/* Allocates (and returns) every free block below the maximum order of a
 * zone, leaving only max-order blocks on its lists. */
struct Held {
	struct page *page;
	unsigned order;
};
inline std::vector<Held> drain_below_max(kmm::PageAllocator &pa, unsigned zone)
{
	std::vector<Held> held;
	gfp_t gfp = (zone == KMM_ZONE_DMA ? GFP_DMA : GFP_KERNEL) | __GFP_NOWARN;
	for (unsigned o = 0; o < kmm::kMaxOrder; ++o) {
		size_t blocks[KMM_NR_ORDERS];
		pa.free_blocks(zone, blocks);
		for (size_t n = blocks[o]; n > 0; --n)
			held.push_back(Held{pa.alloc(gfp, o), o});
	}
	return held;
}

} // namespace kmm_test

#endif
