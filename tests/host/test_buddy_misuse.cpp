/*
 * tests/host/test_buddy_misuse.cpp — the buddy allocator's misuse contract
 * (mm/page_alloc.cpp): every bad alloc or free (double free, a page inside a
 * block or a compound tail, a wrong order or kind, an address or descriptor
 * kmm does not manage, alloc_pages_exact/free_pages_exact mixed up) is
 * refused, reported once with its address, and leaves the state unchanged
 * and usable. Suite BuddyMisuse, on the shared fixture
 * (support/buddy_fixture.h); built per page-size variant of mm with
 * test_buddy.cpp. Suite BuddyMisuseFuzz: the same contract under seeded
 * traffic, per-CPU lists and poisoning, checked descriptor by descriptor.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include <kmm/page_alloc.h>

#include "page_alloc.h"
#include "support/buddy_fixture.h"

using kmm::kMaxOrder;
using kmm::kPageShift;
using kmm::kPageSize;
using kmm_test::BuddySnapshot;
using kmm_test::hex;
using kmm_test::kBlockBytes;
using kmm_test::kBlockPages;
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

/* Named as what it is (it used to read "size does not match the
 * allocation", whatever the size). */
TEST_F(BuddyMisuse, FreePagesExactOfABlockFromAllocPages)
{
	struct page *p = pa.alloc(GFP_KERNEL, 1);
	expect_refused([&] { return pa.free_exact(pa.page_address(p), 2 * kPageSize); }, hex(addr(p)),
		       "free_pages_exact of " + hex(addr(p)) + " size " + std::to_string(2 * kPageSize) + ": page " +
			       hex(addr(p)) + " (pfn ");
	EXPECT_EQ(t.cap.count_containing("order 1) belongs to alloc_pages: use free_pages or __free_pages"), 1u);
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

/* Seeded misuse among ordinary traffic, with the per-CPU page lists on (a
 * small high mark, so they refill and drain often) and off, and with page
 * poisoning: every refused call must leave every descriptor (state, order,
 * links), every per-CPU list and every count exactly as it was. The cases
 * above compare a snapshot that drains the per-CPU lists first, and
 * test_page_stress only the free count, so neither would see a refused
 * call that moved a parked page. Maps: Normal and DMA regions touching at
 * an unaligned boundary plus a region of a few pages; or KMM_MAX_REGIONS
 * small touching regions of alternating zones. KMM_SEED replays a run. */
uint64_t fingerprint(const kmm::PageAllocator &pa)
{
	uint64_t h = 1469598103934665603ull;
	auto mix = [&](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
	for (unsigned i = 0; i < pa.nr_regions(); ++i) {
		const kmm::Region &r = pa.region(i);
		for (size_t k = 0; k < r.nr_pages; ++k) {
			const struct page &p = r.pages[k];
			mix(p.state);
			mix(p.order);
			mix(reinterpret_cast<uintptr_t>(p.next));
			mix(reinterpret_cast<uintptr_t>(p.prev));
		}
	}
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		kmm::ZoneCounts c = pa.counts(z);
		mix(c.free);
		mix(c.pcp);
		size_t blocks[KMM_NR_ORDERS];
		pa.free_blocks(z, blocks);
		for (size_t b : blocks)
			mix(b);
	}
	return h;
}

enum class Kind { kPages, kCompound, kExact };
struct Live {
	uintptr_t addr;
	size_t pages;
	unsigned order;
	size_t size; /* kExact: the size asked for */
	Kind kind;
};

/* (per-CPU high mark, poison, map) */
class BuddyMisuseFuzz : public ::testing::TestWithParam<std::tuple<uint32_t, bool, int>> {};

TEST_P(BuddyMisuseFuzz, EveryRefusedCallLeavesEveryDescriptorAsItWas)
{
	const uint32_t pcp_high = std::get<0>(GetParam());
	const bool poison = std::get<1>(GetParam());
	const int map = std::get<2>(GetParam());
	const uint64_t seed = kmm_test::test_seed(0x6d15f5eull + pcp_high * 7 + (poison ? 3 : 0) + static_cast<uint64_t>(map));
	std::printf("[   SEED   ] KMM_SEED=%#" PRIx64 "\n", seed);
	SCOPED_TRACE("KMM_SEED=" + std::to_string(seed));
	kmm_test::Rng rng(seed);
	kmm_test::Arena arena(std::max<size_t>(kBlockBytes * 8, 256 * kPageSize), kBlockBytes);
	kmm_test::TestAllocator t(pcp_high);
	kmm::PageAllocator &pa = t.pa;
	if (map == 0) {
		const size_t dma_pages = kBlockPages + 5;
		ASSERT_EQ(pa.add_region(arena.at(3 * kPageSize), dma_pages * kPageSize, KMM_ZONE_DMA), 0);
		ASSERT_EQ(pa.add_region(arena.at((3 + dma_pages) * kPageSize), (2 * kBlockPages + 13) * kPageSize,
					KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.add_region(arena.at((3 * kBlockPages + 40) * kPageSize + 1),
					(kmm_test::memmap_pages_for(8) + 3) * kPageSize, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(pa.reserve(arena.at(kBlockBytes + 1), 10), 0);
	} else {
		uintptr_t at = arena.at(kPageSize);
		for (unsigned i = 0; i < KMM_MAX_REGIONS; ++i) {
			size_t pages = kmm_test::memmap_pages_for(40) + 1 + rng.below(kBlockPages / 2 + 3);
			ASSERT_EQ(pa.add_region(at, pages * kPageSize, i % 2 != 0 ? KMM_ZONE_DMA : KMM_ZONE_NORMAL), 0);
			at += pages * kPageSize;
		}
	}
	ASSERT_EQ(pa.init(), 0);
	pa.set_poison(poison);
	ASSERT_EQ(pa.validate(), 0u);
	const size_t managed = pa.totals().managed;

	std::vector<Live> live;
	size_t live_pages = 0;
	unsigned long bugs = 0;
	auto live_at = [&](uintptr_t a) -> const Live * {
		for (const Live &l : live)
			if (l.addr == a)
				return &l;
		return nullptr;
	};
	auto release = [&](const Live &l) {
		return l.kind == Kind::kExact ? pa.free_exact(reinterpret_cast<void *>(l.addr), l.size)
					      : pa.free_addr(l.addr, l.order);
	};
	for (int op = 0; op < 3000; ++op) {
		unsigned roll = static_cast<unsigned>(rng.below(100));
		if (roll < 45) {
			Live l{};
			uint64_t k = rng.below(10);
			l.kind = k < 6 ? Kind::kPages : k < 8 ? Kind::kCompound : Kind::kExact;
			gfp_t gfp = __GFP_NOWARN | (rng.chance(20) ? GFP_DMA : 0);
			void *mem;
			if (l.kind == Kind::kExact) {
				l.size = 1 + rng.below(kPageSize << rng.below(kMaxOrder + 1));
				l.pages = (l.size + kmm::kPageMask) >> kPageShift;
				mem = pa.alloc_exact(l.size, gfp);
			} else {
				l.order = rng.chance(60) ? std::min<unsigned>(static_cast<unsigned>(rng.below(2)), kMaxOrder)
							 : static_cast<unsigned>(rng.below(kMaxOrder + 1));
				l.pages = size_t{1} << l.order;
				struct page *p = l.kind == Kind::kCompound ? pa.alloc(gfp | __GFP_COMP, l.order, kmm::kCompound)
									  : pa.alloc(gfp, l.order);
				mem = p != nullptr ? pa.page_address(p) : nullptr;
			}
			ASSERT_EQ(t.rep.bugs(), bugs) << "op " << op << ": " << t.cap.last();
			if (mem == nullptr)
				continue;
			l.addr = reinterpret_cast<uintptr_t>(mem);
			live.push_back(l);
			live_pages += l.pages;
		} else if (roll < 85) {
			if (live.empty())
				continue;
			size_t i = rng.below(live.size());
			Live l = live[i];
			live[i] = live.back();
			live.pop_back();
			ASSERT_TRUE(release(l)) << "op " << op << ": " << t.cap.last();
			live_pages -= l.pages;
		} else {
			/* A bad call at a random page (or byte) of a random region:
			 * free_pages with any order, a free expecting a slab, or
			 * free_pages_exact with any size; skipped when it happens to
			 * be the right call for a live block. */
			const kmm::Region &r = pa.region(static_cast<unsigned>(rng.below(pa.nr_regions())));
			uintptr_t a = r.start + (uintptr_t{rng.below(r.nr_pages + 2)} << kPageShift);
			if (rng.chance(10))
				a += 1 + rng.below(kPageSize - 1);
			const unsigned call = static_cast<unsigned>(rng.below(3));
			const unsigned order = static_cast<unsigned>(rng.below(kMaxOrder + 2));
			const size_t size = 1 + rng.below(kPageSize << rng.below(kMaxOrder + 1));
			const Live *l = live_at(a);
			if (l != nullptr && call == 0 && l->kind != Kind::kExact && l->order == order)
				continue;
			if (l != nullptr && call == 2 && l->kind == Kind::kExact &&
			    ((size + kmm::kPageMask) >> kPageShift) == l->pages)
				continue;
			struct page *desc = pa.virt_to_page(reinterpret_cast<void *>(a));
			if (call == 1 && ((a & kmm::kPageMask) != 0 || desc == nullptr))
				continue;
			const uint64_t before = fingerprint(pa);
			t.cap.clear();
			bool ok = call == 0   ? pa.free_addr(a, order)
				  : call == 1 ? pa.free(desc, order, kmm::kSlab)
					      : pa.free_exact(reinterpret_cast<void *>(a), size);
			ASSERT_FALSE(ok) << "op " << op << " call " << call << " at " << hex(a);
			ASSERT_EQ(t.rep.bugs(), ++bugs) << "op " << op << " call " << call;
			ASSERT_EQ(t.cap.count_containing("BUG page_alloc: "), 1u) << "op " << op;
			ASSERT_EQ(fingerprint(pa), before) << "op " << op << " call " << call << ": " << t.cap.last();
		}
		if (op % 256 == 0) {
			ASSERT_EQ(pa.validate(), 0u) << "op " << op << ": " << t.cap.last();
			ASSERT_EQ(pa.totals().free, managed - live_pages) << "op " << op;
		}
	}
	EXPECT_GT(bugs, 100u);
	for (const Live &l : live)
		ASSERT_TRUE(release(l)) << t.cap.last();
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(pa.totals().free, managed);
	EXPECT_EQ(t.rep.bugs(), bugs);
}

INSTANTIATE_TEST_SUITE_P(Maps, BuddyMisuseFuzz,
			 ::testing::Combine(::testing::Values(0u, 4u), ::testing::Values(false, true), ::testing::Values(0, 1)),
			 [](const ::testing::TestParamInfo<BuddyMisuseFuzz::ParamType> &info) {
				 return std::string(std::get<0>(info.param) != 0 ? "Pcp" : "BuddyOnly") +
					(std::get<1>(info.param) ? "Poison" : "") +
					(std::get<2>(info.param) == 0 ? "TouchingZones" : "ManySmallRegions");
			 });

} // namespace
