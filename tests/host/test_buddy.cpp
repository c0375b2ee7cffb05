/*
 * tests/host/test_buddy.cpp — white-box tests of the buddy allocator core
 * (mm/buddy.h, mm/page_alloc.cpp, mm/page_check.cpp) over private
 * kmm::PageAllocator instances on arenas the test owns.
 *
 * Built once per page-size variant of mm (4 KiB, 256 B, 64 KiB): every size
 * is written in terms of kmm::kPageSize / kMaxOrder, never 4096.
 *
 * Suites: BuddyConfig (page size and order), Buddy (split, merge, exact,
 * compound, exhaustion, OOM), BuddyZones (GFP_DMA and the fallback to DMA),
 * BuddyInfo (the dump's text). Misuse is in test_buddy_misuse.cpp,
 * corruption injection in test_buddy_validate.cpp; the three share the
 * fixture in support/buddy_fixture.h and are built into one binary.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <kmm/page_alloc.h>

#include "page_alloc.h"
#include "support/arena.h"
#include "support/buddy_fixture.h"
#include "support/buddy_state.h"

using kmm::kMaxOrder;
using kmm::kPageShift;
using kmm::kPageSize;
using kmm_test::BuddySnapshot;
using kmm_test::Held;
using kmm_test::hex;
using kmm_test::kBlockBytes;
using kmm_test::kBlockPages;
using kmm_test::memmap_pages_for;
using kmm_test::snapshot;

namespace {

class Buddy : public kmm_test::BuddyTest {};

TEST(BuddyConfig, PageSizeAndOrderComeFromTheBuild)
{
	EXPECT_EQ(kPageSize, uintptr_t{KMM_PAGE_SIZE});
	EXPECT_EQ(kPageSize, uintptr_t{1} << KMM_PAGE_SHIFT);
	EXPECT_EQ(kMaxOrder, unsigned{KMM_MAX_ORDER});
	EXPECT_GE(kPageSize, 256u);
	EXPECT_LE(kPageSize, 65536u);
}

TEST(BuddyConfig, SizeToOrderIsLinuxGetOrder)
{
	EXPECT_EQ(kmm::size_to_order(0), 0u);
	EXPECT_EQ(kmm::size_to_order(1), 0u);
	EXPECT_EQ(kmm::size_to_order(kPageSize), 0u);
	EXPECT_EQ(kmm::size_to_order(kPageSize + 1), 1u);
	EXPECT_EQ(kmm::size_to_order(2 * kPageSize), 1u);
	EXPECT_EQ(kmm::size_to_order(2 * kPageSize + 1), 2u);
	EXPECT_EQ(kmm::size_to_order(3 * kPageSize), 2u);
	EXPECT_EQ(kmm::size_to_order(kBlockBytes), kMaxOrder);
	EXPECT_EQ(kmm::size_to_order(kBlockBytes + 1), kMaxOrder + 1);
	EXPECT_EQ(get_order(5 * kPageSize), 3u);
}

TEST_F(Buddy, InitCarvesTheLargestNaturallyAlignedBlocks)
{
	init_region(4 * kBlockPages);
	size_t m = memmap_pages_for(4 * kBlockPages);
	ASSERT_LT(m, kBlockPages);
	const kmm::Region &r = pa.region(0);
	EXPECT_EQ(r.nr_pages, 4 * kBlockPages);
	EXPECT_EQ(r.memmap_pages, m);
	/* The descriptors sit in the region's highest pages, marked reserved. */
	EXPECT_EQ(reinterpret_cast<uintptr_t>(r.pages), arena.at((4 * kBlockPages - m) * kPageSize));
	for (size_t i = 4 * kBlockPages - m; i < 4 * kBlockPages; ++i)
		EXPECT_EQ(r.pages[i].state, kmm::kReserved) << "memmap page " << i;
	/* Three whole max-order blocks; the fourth minus the memmap splits
	 * into one block per set bit of its length. */
	size_t rest = kBlockPages - m;
	for (unsigned o = 0; o < kMaxOrder; ++o)
		EXPECT_EQ(free_count(o), (rest >> o) & 1u) << "order " << o;
	EXPECT_EQ(free_count(kMaxOrder), 3u);
	kmm::ZoneCounts c = pa.counts(KMM_ZONE_NORMAL);
	EXPECT_EQ(c.managed, 4 * kBlockPages - m);
	EXPECT_EQ(c.free, 4 * kBlockPages - m);
	EXPECT_EQ(c.memmap, m);
	EXPECT_EQ(c.reserved, 0u);
	/* Every free block is naturally aligned by pfn. */
	for (const auto &b : snapshot(pa).blocks)
		EXPECT_EQ((b.addr >> kPageShift) & ((size_t{1} << b.order) - 1), 0u) << hex(b.addr);
}

TEST_F(Buddy, Order0AllocSplitsTheMaxBlockAndFreeMergesItBack)
{
	init_pristine_block();
	BuddySnapshot before = snapshot(pa);
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(addr(p), arena.base()); /* lowest half kept at every split */
	EXPECT_EQ(p->state, kmm::kAllocated);
	EXPECT_EQ(p->order, 0u);
	for (unsigned o = 0; o < kMaxOrder; ++o) {
		EXPECT_EQ(free_count(o), 1u) << "order " << o;
		/* The upper half split off at order o is that order's free block. */
		struct page *upper = page_at(arena.base() + (kPageSize << o));
		EXPECT_EQ(upper->state, kmm::kFree);
		EXPECT_EQ(upper->order, o);
	}
	EXPECT_EQ(free_count(kMaxOrder), 0u);
	EXPECT_EQ(pa.validate(), 0u);
	ASSERT_TRUE(pa.free(p, 0));
	EXPECT_EQ(snapshot(pa), before);
	EXPECT_EQ(page_at(arena.base())->order, kMaxOrder);
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(Buddy, BuddiesAreFoundByXorAndMergeOnlyWhenBothAreFree)
{
	init_pristine_block();
	BuddySnapshot before = snapshot(pa);
	struct page *a = pa.alloc(GFP_KERNEL, 0);
	struct page *b = pa.alloc(GFP_KERNEL, 0);
	ASSERT_NE(a, nullptr);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(addr(b), addr(a) ^ kPageSize); /* b is a's buddy */
	EXPECT_EQ(free_count(0), 0u);
	ASSERT_TRUE(pa.free(a, 0));
	EXPECT_EQ(free_count(0), 1u); /* its buddy is in use: no merge */
	EXPECT_EQ(a->state, kmm::kFree);
	EXPECT_EQ(pa.validate(), 0u);
	ASSERT_TRUE(pa.free(b, 0));
	EXPECT_EQ(free_count(0), 0u);
	EXPECT_EQ(b->state, kmm::kInterior); /* merged into a's block */
	EXPECT_EQ(snapshot(pa), before);
}

TEST_F(Buddy, FreeingInAnyOrderMergesBackToOneMaxBlock)
{
	init_pristine_block();
	BuddySnapshot before = snapshot(pa);
	std::vector<struct page *> pages;
	for (size_t i = 0; i < kBlockPages; ++i) {
		struct page *p = pa.alloc(GFP_KERNEL, 0);
		ASSERT_NE(p, nullptr) << i;
		pages.push_back(p);
	}
	EXPECT_EQ(pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0), nullptr);
	uint64_t seed = kmm_test::test_seed(0xb0dd1e5);
	RecordProperty("seed", std::to_string(seed));
	kmm_test::Rng rng(seed);
	for (size_t i = pages.size(); i > 1; --i)
		std::swap(pages[i - 1], pages[rng.below(i)]);
	for (struct page *p : pages) {
		ASSERT_TRUE(pa.free(p, 0));
		ASSERT_EQ(pa.validate(), 0u) << "seed " << seed;
	}
	EXPECT_EQ(snapshot(pa), before);
}

TEST_F(Buddy, AllocTakesTheSmallestSufficientBlock)
{
	init_pristine_block();
	struct page *p0 = pa.alloc(GFP_KERNEL, 0); /* leaves one block of each order < max */
	ASSERT_NE(p0, nullptr);
	struct page *p2 = pa.alloc(GFP_KERNEL, 2);
	ASSERT_NE(p2, nullptr);
	EXPECT_EQ(addr(p2), arena.base() + 4 * kPageSize); /* the order-2 block, not a split one */
	EXPECT_EQ(free_count(2), 0u);
	for (unsigned o = 0; o < kMaxOrder; ++o) {
		if (o != 2) {
			EXPECT_EQ(free_count(o), 1u) << "order " << o;
		}
	}
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_TRUE(pa.free(p2, 2));
	EXPECT_TRUE(pa.free(p0, 0));
	EXPECT_EQ(free_count(kMaxOrder), 1u);
}

TEST_F(Buddy, EveryOrderIsNaturallyAligned)
{
	init_region(3 * kBlockPages);
	BuddySnapshot before = snapshot(pa);
	for (unsigned o = 0; o <= kMaxOrder; ++o) {
		struct page *p = pa.alloc(GFP_KERNEL, o);
		ASSERT_NE(p, nullptr) << "order " << o;
		EXPECT_EQ(p->order, o);
		EXPECT_EQ(addr(p) & ((kPageSize << o) - 1), 0u) << "order " << o;
		EXPECT_EQ(page_at(addr(p)), p);
		held.push_back(Held{p, o});
	}
	EXPECT_EQ(pa.validate(), 0u);
	free_held();
	EXPECT_EQ(snapshot(pa), before);
}

TEST_F(Buddy, VirtToPageAndPageAddressRoundTrip)
{
	init_region(kBlockPages + 3);
	const kmm::Region &r = pa.region(0);
	for (size_t i = 0; i < r.nr_pages; ++i) {
		uintptr_t a = arena.at(i * kPageSize);
		ASSERT_EQ(page_at(a), &r.pages[i]);
		ASSERT_EQ(page_at(a + kPageSize - 1), &r.pages[i]);
		ASSERT_EQ(addr(&r.pages[i]), a);
	}
	EXPECT_EQ(page_at(arena.at(r.nr_pages * kPageSize)), nullptr);
	EXPECT_EQ(page_at(arena.base() - 1), nullptr);
	int local = 0;
	EXPECT_EQ(pa.virt_to_page(&local), nullptr);
	struct page stray {};
	EXPECT_EQ(pa.page_address(&stray), nullptr);
	EXPECT_EQ(t.rep.bugs(), 0u); /* lookups never report */
}

TEST_F(Buddy, GfpZeroClearsTheWholeBlock)
{
	init_pristine_block();
	const size_t bytes = kPageSize << 2;
	struct page *p = pa.alloc(GFP_KERNEL, 2);
	ASSERT_NE(p, nullptr);
	uintptr_t a = addr(p);
	std::memset(reinterpret_cast<void *>(a), 0xa5, bytes);
	ASSERT_TRUE(pa.free(p, 2));
	/* LIFO lists give the same block back; without __GFP_ZERO it still
	 * holds the pattern, so the zeroes below come from the flag. */
	p = pa.alloc(GFP_KERNEL, 2);
	ASSERT_EQ(addr(p), a);
	EXPECT_EQ(reinterpret_cast<unsigned char *>(a)[bytes - 1], 0xa5);
	ASSERT_TRUE(pa.free(p, 2));
	p = pa.alloc(GFP_KERNEL | __GFP_ZERO, 2);
	ASSERT_EQ(addr(p), a);
	std::vector<unsigned char> zero(bytes, 0);
	EXPECT_EQ(std::memcmp(reinterpret_cast<void *>(a), zero.data(), bytes), 0);
	EXPECT_TRUE(pa.free(p, 2));
}

TEST_F(Buddy, CompoundPagesLinkTailsToTheirHead)
{
	init_pristine_block();
	BuddySnapshot before = snapshot(pa);
	struct page *head = pa.alloc(GFP_KERNEL | __GFP_COMP, 3, kmm::kCompound);
	ASSERT_NE(head, nullptr);
	EXPECT_EQ(head->state, kmm::kCompound);
	EXPECT_EQ(head->order, 3u);
	EXPECT_EQ(compound_head(head), head);
	EXPECT_EQ(compound_order(head), 3u);
	for (size_t i = 1; i < 8; ++i) {
		EXPECT_EQ(head[i].state, kmm::kTail) << i;
		EXPECT_EQ(compound_head(&head[i]), head) << i;
		EXPECT_EQ(compound_order(&head[i]), 0u) << i;
		EXPECT_EQ(page_at(addr(head) + i * kPageSize), &head[i]);
	}
	EXPECT_EQ(pa.validate(), 0u); /* validate checks the tail links */
	struct page *plain = pa.alloc(GFP_KERNEL, 3);
	ASSERT_NE(plain, nullptr);
	EXPECT_EQ(compound_order(plain), 0u);
	EXPECT_EQ(plain[1].state, kmm::kInterior);
	EXPECT_TRUE(pa.free(plain, 3));
	EXPECT_TRUE(pa.free(head, 3)); /* public free accepts compound heads */
	for (size_t i = 1; i < 8; ++i)
		EXPECT_EQ(head[i].state, kmm::kInterior) << i;
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(snapshot(pa), before);
}

TEST_F(Buddy, AllocExactReturnsTheUnusedTailPages)
{
	init_pristine_block();
	BuddySnapshot before = snapshot(pa);
	/* 5 pages: an order-3 block keeps [0,4) and [4], returns [5] and [6,8). */
	void *v = pa.alloc_exact(4 * kPageSize + 1, GFP_KERNEL);
	ASSERT_NE(v, nullptr);
	uintptr_t a = reinterpret_cast<uintptr_t>(v);
	EXPECT_EQ(a, arena.base());
	struct page *h = page_at(a);
	EXPECT_EQ(h[0].state, kmm::kExact);
	EXPECT_EQ(h[0].order, 2u);
	EXPECT_EQ(h[4].state, kmm::kExact);
	EXPECT_EQ(h[4].order, 0u);
	EXPECT_EQ(h[5].state, kmm::kFree);
	EXPECT_EQ(h[5].order, 0u);
	EXPECT_EQ(h[6].state, kmm::kFree);
	EXPECT_EQ(h[6].order, 1u);
	EXPECT_EQ(pa.totals().free, before.free_pages - 5);
	EXPECT_EQ(free_count(0), 1u);
	EXPECT_EQ(free_count(1), 1u);
	EXPECT_EQ(free_count(2), 0u);
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_TRUE(pa.free_exact(v, 4 * kPageSize + 1));
	EXPECT_EQ(snapshot(pa), before);
	EXPECT_EQ(t.rep.bugs(), 0u);
}

TEST_F(Buddy, AllocExactTakesExactlyTheNeededPagesForEverySize)
{
	init_region(2 * kBlockPages);
	BuddySnapshot before = snapshot(pa);
	for (size_t n = 1; n <= kBlockPages; ++n) {
		/* Odd n: a size just over n-1 pages; even n: exactly n pages. */
		size_t size = (n & 1) != 0 ? (n - 1) * kPageSize + 1 : n * kPageSize;
		void *v = pa.alloc_exact(size, GFP_KERNEL);
		ASSERT_NE(v, nullptr) << n;
		uintptr_t a = reinterpret_cast<uintptr_t>(v);
		ASSERT_EQ(a & ((kPageSize << kmm::size_to_order(size)) - 1), 0u) << n;
		ASSERT_EQ(pa.totals().free, before.free_pages - n) << n;
		ASSERT_EQ(pa.validate(), 0u) << n;
		ASSERT_TRUE(pa.free_exact(v, size)) << n;
		ASSERT_EQ(snapshot(pa), before) << n;
	}
	EXPECT_EQ(t.rep.bugs(), 0u);
}

TEST_F(Buddy, AllocExactZeroesOnlyWhatItKeeps)
{
	init_pristine_block();
	struct page *p = pa.alloc(GFP_KERNEL, 2);
	ASSERT_NE(p, nullptr);
	uintptr_t a = addr(p);
	std::memset(reinterpret_cast<void *>(a), 0x5a, kPageSize << 2);
	ASSERT_TRUE(pa.free(p, 2));
	void *v = pa.alloc_exact(3 * kPageSize, GFP_KERNEL | __GFP_ZERO);
	ASSERT_EQ(reinterpret_cast<uintptr_t>(v), a);
	auto *bytes = static_cast<unsigned char *>(v);
	EXPECT_EQ(std::count(bytes, bytes + 3 * kPageSize, 0), static_cast<long>(3 * kPageSize));
	EXPECT_EQ(bytes[3 * kPageSize], 0x5a); /* the returned 4th page is not touched */
	EXPECT_TRUE(pa.free_exact(v, 3 * kPageSize));
}

TEST_F(Buddy, AllocExactRefusesSizesNoBlockHolds)
{
	init_region(2 * kBlockPages);
	size_t free0 = pa.totals().free;
	EXPECT_EQ(pa.alloc_exact(0, GFP_KERNEL), nullptr);
	EXPECT_EQ(pa.alloc_exact(kBlockBytes + 1, GFP_KERNEL), nullptr);
	EXPECT_EQ(t.rep.warnings(), 2u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	EXPECT_EQ(pa.alloc_exact(kBlockBytes + 1, GFP_KERNEL | __GFP_NOWARN), nullptr);
	EXPECT_EQ(t.rep.warnings(), 2u);
	EXPECT_EQ(pa.totals().free, free0);
}

class BuddyZones : public Buddy {
protected:
	static constexpr size_t kNormalPages = kBlockPages + 5;
	static constexpr size_t kDmaPages = kBlockPages / 2 + 3;
	void SetUp() override
	{
		ASSERT_EQ(pa.add_region(arena.at(0), kNormalPages * kPageSize, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.add_region(arena.at(4 * kBlockBytes), kDmaPages * kPageSize, KMM_ZONE_DMA), 0);
		ASSERT_EQ(pa.init(), 0);
	}
	bool in_normal(uintptr_t a) const { return a >= arena.at(0) && a < arena.at(kNormalPages * kPageSize); }
	bool in_dma(uintptr_t a) const
	{
		return a >= arena.at(4 * kBlockBytes) && a < arena.at(4 * kBlockBytes + kDmaPages * kPageSize);
	}
};

TEST_F(BuddyZones, GfpDmaUsesOnlyTheDmaZone)
{
	BuddySnapshot before = snapshot(pa);
	size_t dma_free = pa.counts(KMM_ZONE_DMA).free;
	ASSERT_EQ(dma_free, kDmaPages - memmap_pages_for(kDmaPages));
	for (size_t i = 0; i < dma_free; ++i) {
		struct page *p = pa.alloc(GFP_DMA, 0);
		ASSERT_NE(p, nullptr) << i;
		ASSERT_TRUE(in_dma(addr(p))) << hex(addr(p));
		held.push_back(Held{p, 0});
	}
	/* DMA exhausted: GFP_DMA fails although Normal is untouched. */
	EXPECT_EQ(pa.alloc(GFP_DMA | __GFP_NOWARN, 0), nullptr);
	EXPECT_EQ(pa.counts(KMM_ZONE_NORMAL).free, before.free_pages - dma_free);
	free_held();
	EXPECT_EQ(snapshot(pa), before);
}

TEST_F(BuddyZones, NormalRequestsFallBackToDmaOnlyWhenNormalIsExhausted)
{
	BuddySnapshot before = snapshot(pa);
	size_t normal_free = pa.counts(KMM_ZONE_NORMAL).free;
	size_t dma_free = pa.counts(KMM_ZONE_DMA).free;
	for (size_t i = 0; i < normal_free + dma_free; ++i) {
		struct page *p = pa.alloc(GFP_KERNEL, 0);
		ASSERT_NE(p, nullptr) << i;
		if (i < normal_free) {
			ASSERT_TRUE(in_normal(addr(p))) << i << " " << hex(addr(p));
		} else {
			ASSERT_TRUE(in_dma(addr(p))) << i << " " << hex(addr(p));
		}
		held.push_back(Held{p, 0});
	}
	EXPECT_EQ(pa.totals().free, 0u);
	EXPECT_EQ(pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0), nullptr);
	EXPECT_EQ(pa.validate(), 0u);
	free_held();
	EXPECT_EQ(snapshot(pa), before);
	EXPECT_EQ(pa.validate(), 0u);
}

TEST_F(Buddy, ExhaustionDownToTheLastPageAndFullRecovery)
{
	/* An odd map: unaligned start and end, a reserved page mid-region. */
	ASSERT_EQ(pa.add_region(arena.at(kPageSize / 2), (3 * kBlockPages + 7) * kPageSize, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.reserve(arena.at(kBlockBytes + 3 * kPageSize + 1), 1), 0);
	ASSERT_EQ(pa.init(), 0);
	BuddySnapshot before = snapshot(pa);
	size_t free0 = before.free_pages;
	ASSERT_GT(free0, 0u);
	/* Largest blocks first, then smaller ones, down to order 0. */
	uint64_t seed = kmm_test::test_seed(0xe4a05);
	RecordProperty("seed", std::to_string(seed));
	kmm_test::Rng rng(seed);
	size_t taken = 0;
	for (unsigned o = kMaxOrder + 1; o-- > 0;) {
		while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, o)) {
			std::memset(pa.page_address(p), static_cast<int>(held.size() & 0xff), kPageSize << o);
			held.push_back(Held{p, o});
			taken += size_t{1} << o;
		}
	}
	EXPECT_EQ(taken, free0);
	EXPECT_EQ(pa.totals().free, 0u);
	for (unsigned o = 0; o <= kMaxOrder; ++o)
		EXPECT_EQ(free_count(o), 0u);
	EXPECT_EQ(pa.validate(), 0u);
	/* A failing allocation warns (unless __GFP_NOWARN) and is counted. */
	unsigned long failures = pa.alloc_failures();
	EXPECT_EQ(pa.alloc(GFP_KERNEL, 0), nullptr);
	EXPECT_EQ(pa.alloc_failures(), failures + 1);
	EXPECT_EQ(t.rep.warnings(), 1u);
	EXPECT_EQ(t.cap.count_containing("page allocation failure: order:0"), 1u);
	EXPECT_EQ(t.rep.bugs(), 0u);
	/* Every held block still carries its own pattern: nothing overlapped. */
	for (size_t i = 0; i < held.size(); ++i) {
		auto *b = static_cast<unsigned char *>(pa.page_address(held[i].page));
		size_t n = kPageSize << held[i].order;
		ASSERT_EQ(std::count(b, b + n, static_cast<unsigned char>(i & 0xff)), static_cast<long>(n)) << i;
	}
	for (size_t i = held.size(); i > 1; --i)
		std::swap(held[i - 1], held[rng.below(i)]);
	free_held();
	EXPECT_EQ(pa.validate(), 0u);
	/* Identical to right after init: counts and the set of free blocks. */
	EXPECT_EQ(snapshot(pa), before) << "seed " << seed;
}

struct OomState {
	kmm::PageAllocator *pa;
	struct page *to_free = nullptr;
	unsigned order = 0;
	int calls = 0;
	static void hook(void *ctx, gfp_t, unsigned)
	{
		auto *s = static_cast<OomState *>(ctx);
		++s->calls;
		if (s->to_free != nullptr) {
			s->pa->free(s->to_free, s->order);
			s->to_free = nullptr;
		}
	}
};

TEST_F(Buddy, OomHookRunsOnceAndTheAllocationRetriesOnce)
{
	init_region(kBlockPages);
	while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0))
		held.push_back(Held{p, 0});
	const unsigned long failures = pa.alloc_failures(); /* the loop's last call */
	OomState s{&pa};
	pa.set_oom_hook(&OomState::hook, &s);
	/* The hook frees a page: the retry gets it. */
	struct page *freed = held.back().page;
	s.to_free = freed;
	held.pop_back();
	struct page *p = pa.alloc(GFP_KERNEL, 0);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p, freed);
	EXPECT_EQ(s.calls, 1);
	EXPECT_EQ(pa.oom_count(), 1u);
	EXPECT_EQ(pa.alloc_failures(), failures);
	held.push_back(Held{p, 0});
	/* The hook frees nothing: exactly one call, then NULL. */
	EXPECT_EQ(pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0), nullptr);
	EXPECT_EQ(s.calls, 2);
	EXPECT_EQ(pa.oom_count(), 2u);
	EXPECT_EQ(pa.alloc_failures(), failures + 1);
	/* The hook frees an order-0 page, but order 1 is wanted: no loop. */
	s.to_free = held.back().page;
	held.pop_back();
	EXPECT_EQ(pa.alloc(GFP_KERNEL | __GFP_NOWARN, 1), nullptr);
	EXPECT_EQ(s.calls, 3);
	/* __GFP_NORETRY skips the hook. */
	EXPECT_EQ(pa.alloc(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, 1), nullptr);
	EXPECT_EQ(s.calls, 3);
	EXPECT_EQ(pa.oom_count(), 3u);
	pa.set_oom_hook(nullptr, nullptr);
	free_held();
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.totals().free, pa.totals().managed);
}

/* ---------------- buddyinfo ---------------- */

class BuddyInfo : public Buddy {
protected:
	std::string dump()
	{
		kmm_test::TextSink s;
		pa.buddyinfo(&kmm_test::TextSink::sink, &s);
		return s.text;
	}
	/* Normal: 64 pages, page 10 reserved, 1+ memmap page; DMA: 16 pages. */
	void init_known_map()
	{
		ASSERT_EQ(pa.add_region(arena.at(0), 64 * kPageSize, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.add_region(arena.at(2 * kBlockBytes), 16 * kPageSize, KMM_ZONE_DMA), 0);
		ASSERT_EQ(pa.reserve(arena.at(10 * kPageSize), kPageSize), 0);
		ASSERT_EQ(pa.init(), 0);
	}
};

/* The known map's dump, computed by hand for each page-size variant.
 * Normal [0,64): memmap at the top (1 page; 6 with 256 B pages), page 10
 * reserved; DMA [0,16): memmap at the top (1 page; 2 with 256 B pages).
 * extfrag at an order with no free block: 1000 - (1000 + free*1000/2^o) / blocks. */
const char *known_map_text()
{
	if (kPageSize == 4096 && kMaxOrder == 10)
		/* Normal free: [0,8) [8,10) | [11] [12,16) [16,32) [32,48) [48,56) [56,60) [60,62) [62]
		 * DMA free: [0,8) [8,12) [12,14) [14] */
		return "Node 0, zone   Normal      2      2      2      2      2      0      0      0      0      0      0 \n"
		       "Node 0, zone      DMA      1      1      1      1      0      0      0      0      0      0      0 \n"
		       "zone Normal page 4096 B, managed 62, free 62, reserved 1, memmap 1 pages (4096 B)\n"
		       "zone DMA    page 4096 B, managed 15, free 15, reserved 0, memmap 1 pages (4096 B)\n"
		       "extfrag Node 0, zone   Normal -1.000 -1.000 -1.000 -1.000 -1.000 0.707 0.804 0.852 0.876 0.888 0.894 \n"
		       "extfrag Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 0.516 0.633 0.692 0.721 0.736 0.743 0.747 \n";
	if (kPageSize == 65536 && kMaxOrder == 5) /* the same blocks, fewer orders */
		return "Node 0, zone   Normal      2      2      2      2      2      0 \n"
		       "Node 0, zone      DMA      1      1      1      1      0      0 \n"
		       "zone Normal page 65536 B, managed 62, free 62, reserved 1, memmap 1 pages (65536 B)\n"
		       "zone DMA    page 65536 B, managed 15, free 15, reserved 0, memmap 1 pages (65536 B)\n"
		       "extfrag Node 0, zone   Normal -1.000 -1.000 -1.000 -1.000 -1.000 0.707 \n"
		       "extfrag Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 0.516 0.633 \n";
	if (kPageSize == 256 && kMaxOrder == 6)
		/* Normal free: [0,8) [8,10) | [11] [12,16) [16,32) [32,48) [48,56) [56,58)
		 * DMA free: [0,8) [8,12) [12,14) */
		return "Node 0, zone   Normal      1      2      1      2      2      0      0 \n"
		       "Node 0, zone      DMA      0      1      1      1      0      0      0 \n"
		       "zone Normal page 256 B, managed 57, free 57, reserved 1, memmap 6 pages (1536 B)\n"
		       "zone DMA    page 256 B, managed 14, free 14, reserved 0, memmap 2 pages (512 B)\n"
		       "extfrag Node 0, zone   Normal -1.000 -1.000 -1.000 -1.000 -1.000 0.653 0.764 \n"
		       "extfrag Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 0.375 0.521 0.594 \n";
	return nullptr;
}

TEST_F(BuddyInfo, ExactTextForAKnownMap)
{
	const char *expected = known_map_text();
	ASSERT_NE(expected, nullptr) << "add the literal text for this page size / max order";
	init_known_map();
	EXPECT_EQ(dump(), expected);
}

TEST_F(BuddyInfo, ColumnsMatchTheFreeListsInEveryConfiguration)
{
	init_known_map();
	struct page *p = pa.alloc(GFP_KERNEL, 1);
	ASSERT_NE(p, nullptr);
	std::string expected;
	char buf[256];
	const char *names[] = {"Normal", "DMA"};
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		size_t blocks[KMM_NR_ORDERS];
		pa.free_blocks(z, blocks);
		std::snprintf(buf, sizeof buf, "Node 0, zone %8s ", names[z]);
		expected += buf;
		for (unsigned o = 0; o <= kMaxOrder; ++o) {
			std::snprintf(buf, sizeof buf, "%6zu ", blocks[o]);
			expected += buf;
		}
		expected += "\n";
	}
	kmm::ZoneCounts n = pa.counts(KMM_ZONE_NORMAL);
	size_t m = memmap_pages_for(64);
	EXPECT_EQ(n.memmap, m);
	EXPECT_EQ(n.reserved, 1u);
	EXPECT_EQ(n.managed, 64 - m - 1);
	EXPECT_EQ(n.free, n.managed - 2);
	std::snprintf(buf, sizeof buf, "zone Normal page %zu B, managed %zu, free %zu, reserved 1, memmap %zu pages (%zu B)\n",
		      size_t{kPageSize}, n.managed, n.free, m, m * kPageSize);
	expected += buf;
	std::string text = dump();
	EXPECT_EQ(text.substr(0, expected.size()), expected);
	EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6);
	EXPECT_TRUE(pa.free(p, 1));
}

TEST_F(BuddyInfo, EmptyZonesAreLeftOutAndFullZonesShowNoFreeBlocks)
{
	init_region(kBlockPages);
	std::string text = dump();
	EXPECT_EQ(text.find("DMA"), std::string::npos);
	/* Pristine: every order up to the largest free block is available. */
	EXPECT_NE(text.find("extfrag Node 0, zone   Normal -1.000 "), std::string::npos) << text;
	while (struct page *p = pa.alloc(GFP_KERNEL | __GFP_NOWARN, 0))
		held.push_back(Held{p, 0});
	text = dump();
	std::string zeros = "Node 0, zone   Normal ";
	std::string index = "extfrag Node 0, zone   Normal ";
	for (unsigned o = 0; o <= kMaxOrder; ++o) {
		zeros += "     0 ";
		index += "0.000 "; /* no free blocks at all: index 0 */
	}
	EXPECT_EQ(text.rfind(zeros + "\n", 0), 0u) << text;
	EXPECT_NE(text.find(", free 0, "), std::string::npos) << text;
	EXPECT_NE(text.find(index + "\n"), std::string::npos) << text;
	free_held();
}

} // namespace
