/*
 * tests/host/test_buddy.cpp — white-box tests of the buddy allocator core
 * (mm/buddy.h, mm/page_alloc.cpp, mm/page_check.cpp) over private
 * kmm::PageAllocator instances on arenas the test owns.
 *
 * Built once per page-size variant of mm (4 KiB, 256 B, 64 KiB): every size
 * is written in terms of kmm::kPageSize / kMaxOrder, never 4096.
 *
 * Suites: Buddy (split, merge, zones, exact, compound, OOM), BuddyMisuse
 * (every bad call is refused, reported once with its address, and leaves the
 * state unchanged), BuddyValidate (corruption injection with exact problem
 * counts), BuddyInfo (the dump's text).
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <kmm/page_alloc.h>

#include "page_alloc.h"
#include "support/arena.h"
#include "support/buddy_state.h"

using kmm::kMaxOrder;
using kmm::kPageShift;
using kmm::kPageSize;
using kmm_test::Arena;
using kmm_test::BuddySnapshot;
using kmm_test::Held;
using kmm_test::hex;
using kmm_test::kBlockBytes;
using kmm_test::kBlockPages;
using kmm_test::memmap_pages_for;
using kmm_test::snapshot;

namespace {

class Buddy : public ::testing::Test {
protected:
	Arena arena{kBlockBytes * 8, kBlockBytes};
	kmm_test::TestAllocator t;
	kmm::PageAllocator &pa = t.pa;
	std::vector<Held> held;

	/* One region of `pages` pages at `offset` bytes into the arena. */
	void init_region(size_t pages, size_t offset = 0, unsigned zone = KMM_ZONE_NORMAL)
	{
		ASSERT_EQ(pa.add_region(arena.at(offset), pages * kPageSize, zone), 0);
		ASSERT_EQ(pa.init(), 0);
		ASSERT_EQ(pa.validate(), 0u);
	}
	/* Two max-order blocks, then everything below max order allocated:
	 * the zone's lists hold exactly one pristine max-order block at base. */
	void init_pristine_block()
	{
		init_region(2 * kBlockPages);
		held = kmm_test::drain_below_max(pa, KMM_ZONE_NORMAL);
		size_t blocks[KMM_NR_ORDERS];
		pa.free_blocks(KMM_ZONE_NORMAL, blocks);
		for (unsigned o = 0; o < kMaxOrder; ++o)
			ASSERT_EQ(blocks[o], 0u) << "order " << o;
		ASSERT_EQ(blocks[kMaxOrder], 1u);
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

/* ---------------- misuse: refused, reported once, nothing changed ---------------- */

class BuddyMisuse : public Buddy {
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

/* ---------------- validate(): corruption injection, exact counts ---------------- */

class BuddyValidate : public Buddy {
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
