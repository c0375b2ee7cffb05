/*
 * tests/host/test_page_stress.cpp — seeded random stress of the page
 * allocator against a reference model, on an odd memory map (unaligned
 * edges, three regions with holes, two zones, reserved pages).
 *
 * The model is the set of live blocks by address. Every allocation is
 * checked against it (inside a region of an allowed zone, naturally
 * aligned, overlapping no live block) and stamped page by page with its
 * tag; every free checks the stamps first, so any overlap the model missed
 * shows up as a clobbered stamp. A NULL is accepted only when the zones
 * really hold no block of the order. validate() and the free counts are
 * checked every kCheckEvery operations, and misuse is injected now and then
 * (wrong order, double free) and must be refused without a trace.
 *
 * KMM_SEED=<n> replays a run; KMM_STRESS_OPS=<n> changes its length.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <vector>

#include "page_alloc.h"
#include "support/arena.h"
#include "support/buddy_state.h"

using kmm::kMaxOrder;
using kmm::kPageShift;
using kmm::kPageSize;
using kmm_test::Arena;
using kmm_test::kBlockBytes;
using kmm_test::kBlockPages;
using kmm_test::Rng;

namespace {

constexpr uint64_t kDefaultSeed = 0x6b6d6d5eedull;
constexpr uint64_t kDefaultOps = 1000000;
constexpr uint64_t kCheckEvery = 4096;
constexpr uint64_t kMisuseEvery = 4999;
constexpr uint64_t kPhase = 8192; /* ops per phase; each picks its alloc:free mix */

enum class Kind { kPages, kCompound, kExact };

struct Block {
	uintptr_t addr;
	size_t pages;   /* pages the caller owns */
	unsigned order; /* kPages / kCompound */
	size_t size;    /* kExact: the size asked for */
	Kind kind;
	uint64_t tag;
	unsigned zone;
};

class Model {
public:
	bool overlaps(uintptr_t addr, size_t bytes) const
	{
		auto next = by_addr_.lower_bound(addr);
		if (next != by_addr_.end() && next->first < addr + bytes)
			return true;
		if (next != by_addr_.begin()) {
			const Block &prev = live_[std::prev(next)->second];
			if (prev.addr + (prev.pages << kPageShift) > addr)
				return true;
		}
		return false;
	}
	void add(const Block &b)
	{
		by_addr_[b.addr] = live_.size();
		live_.push_back(b);
		pages_ += b.pages;
	}
	Block take(size_t i)
	{
		Block b = live_[i];
		by_addr_.erase(b.addr);
		if (i + 1 != live_.size()) {
			live_[i] = live_.back();
			by_addr_[live_[i].addr] = i;
		}
		live_.pop_back();
		pages_ -= b.pages;
		return b;
	}
	size_t size() const { return live_.size(); }
	size_t pages() const { return pages_; }
	const Block &at(size_t i) const { return live_[i]; }

private:
	std::map<uintptr_t, size_t> by_addr_;
	std::vector<Block> live_;
	size_t pages_ = 0;
};

/* Stamps: the tag and the page's address at its start, the tag at its end. */
void stamp(const Block &b)
{
	for (size_t i = 0; i < b.pages; ++i) {
		auto *p = reinterpret_cast<unsigned char *>(b.addr + (i << kPageShift));
		uint64_t head[2] = {b.tag, b.addr + (i << kPageShift)};
		std::memcpy(p, head, sizeof head);
		std::memcpy(p + kPageSize - sizeof b.tag, &b.tag, sizeof b.tag);
	}
}

bool stamps_intact(const Block &b)
{
	for (size_t i = 0; i < b.pages; ++i) {
		auto *p = reinterpret_cast<unsigned char *>(b.addr + (i << kPageShift));
		uint64_t head[2], tail;
		std::memcpy(head, p, sizeof head);
		std::memcpy(&tail, p + kPageSize - sizeof tail, sizeof tail);
		if (head[0] != b.tag || head[1] != b.addr + (i << kPageShift) || tail != b.tag)
			return false;
	}
	return true;
}

bool zeroed(const Block &b)
{
	for (size_t i = 0; i < b.pages; ++i) {
		auto *p = reinterpret_cast<const unsigned char *>(b.addr + (i << kPageShift));
		for (size_t k = 0; k < 32; ++k)
			if (p[k] != 0 || p[kPageSize - 1 - k] != 0)
				return false;
	}
	return true;
}

unsigned random_order(Rng &rng)
{
	uint64_t r = rng.below(100);
	unsigned o = r < 55 ? 0 : r < 72 ? 1 : r < 84 ? 2 : r < 92 ? 3 : r < 97 ? 4 : static_cast<unsigned>(rng.below(kMaxOrder + 1));
	return o > kMaxOrder ? kMaxOrder : o;
}

/* Run twice: on the bare buddy core, and with the per-CPU page lists that
 * production instances use (pages parked there count as free). */
class PageStress : public ::testing::TestWithParam<uint32_t> {};

TEST_P(PageStress, RandomOperationsAgainstAReferenceModel)
{
	const uint64_t seed = kmm_test::test_seed(kDefaultSeed);
	const uint64_t ops = kmm_test::env_u64("KMM_STRESS_OPS", kDefaultOps);
	std::printf("[   SEED   ] KMM_SEED=%#" PRIx64 " (%" PRIu64 " operations, %zu-byte pages, max order %u)\n",
		    seed, ops, size_t{kPageSize}, kMaxOrder);
	RecordProperty("seed", std::to_string(seed));
	SCOPED_TRACE("KMM_SEED=" + std::to_string(seed));
	Rng rng(seed);

	Arena arena(kBlockBytes * 8, kBlockBytes);
	kmm_test::TestAllocator t(GetParam());
	kmm::PageAllocator &pa = t.pa;
	std::printf("[   PCP    ] per-CPU page lists high mark %u\n", static_cast<unsigned>(GetParam()));
	/* Normal: an unaligned region of ~1.5 max blocks and a quarter block
	 * after a hole; DMA: half a block plus a bit in between. */
	ASSERT_EQ(pa.add_region(arena.at(kPageSize / 2), (kBlockPages + kBlockPages / 2 + 3) * kPageSize + 77,
				KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.add_region(arena.at(3 * kBlockBytes + 5 * kPageSize), (kBlockPages / 2 + 11) * kPageSize,
				KMM_ZONE_DMA), 0);
	ASSERT_EQ(pa.add_region(arena.at(5 * kBlockBytes), kBlockBytes / 4, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(pa.reserve(arena.at(kBlockBytes / 2 + 3 * kPageSize), 1), 0);
	ASSERT_EQ(pa.reserve(arena.at(3 * kBlockBytes + 9 * kPageSize), kPageSize), 0);
	ASSERT_EQ(pa.init(), 0);
	ASSERT_EQ(pa.validate(), 0u);
	const kmm_test::BuddySnapshot initial = kmm_test::snapshot(pa);
	const size_t managed = pa.totals().managed;

	auto region_zone = [&](uintptr_t addr, size_t bytes, unsigned *zone) {
		for (unsigned i = 0; i < pa.nr_regions(); ++i) {
			const kmm::Region &r = pa.region(i);
			if (addr >= r.start && addr + bytes <= r.start + (r.nr_pages << kPageShift)) {
				*zone = r.zone;
				return true;
			}
		}
		return false;
	};
	auto no_block_at_or_above = [&](unsigned order, bool dma_only) {
		for (unsigned z = dma_only ? KMM_ZONE_DMA : 0; z < KMM_NR_ZONES; ++z) {
			size_t blocks[KMM_NR_ORDERS];
			pa.free_blocks(z, blocks);
			for (unsigned o = order; o <= kMaxOrder; ++o)
				if (blocks[o] != 0)
					return false;
		}
		return true;
	};

	Model model;
	uint64_t next_tag = 1;
	unsigned long expected_bugs = 0;
	uint64_t allocs = 0, frees = 0, nulls = 0, peak_pages = 0;

	unsigned alloc_percent = 50;
	for (uint64_t op = 0; op < ops; ++op) {
		if (op % kPhase == 0) /* from mostly freeing to mostly allocating */
			alloc_percent = 30 + static_cast<unsigned>(rng.below(41));
		bool do_alloc = model.size() == 0 || rng.chance(alloc_percent);
		if (do_alloc) {
			uint64_t kind_roll = rng.below(100);
			Kind kind = kind_roll < 80 ? Kind::kPages : kind_roll < 90 ? Kind::kCompound : Kind::kExact;
			gfp_t gfp = __GFP_NOWARN | (rng.chance(15) ? GFP_DMA : 0) | (rng.chance(10) ? __GFP_ZERO : 0);
			Block b{};
			b.kind = kind;
			b.tag = next_tag++ * 0x9e3779b97f4a7c15ull;
			void *mem = nullptr;
			if (kind == Kind::kExact) {
				unsigned o = static_cast<unsigned>(rng.below(kMaxOrder < 4 ? kMaxOrder + 1 : 5));
				b.size = 1 + rng.below(kPageSize << o);
				b.order = kmm::size_to_order(b.size);
				b.pages = (b.size + kmm::kPageMask) >> kPageShift;
				mem = pa.alloc_exact(b.size, gfp);
			} else {
				b.order = random_order(rng);
				b.pages = size_t{1} << b.order;
				struct page *p = pa.alloc(gfp | (kind == Kind::kCompound ? __GFP_COMP : 0), b.order,
							  kind == Kind::kCompound ? kmm::kCompound : kmm::kAllocated);
				mem = p != nullptr ? pa.page_address(p) : nullptr;
			}
			if (mem == nullptr) {
				++nulls;
				ASSERT_TRUE(no_block_at_or_above(b.order, (gfp & GFP_DMA) != 0))
					<< "NULL with a free block of order >= " << b.order << " at op " << op;
				continue;
			}
			b.addr = reinterpret_cast<uintptr_t>(mem);
			ASSERT_TRUE(region_zone(b.addr, b.pages << kPageShift, &b.zone)) << "op " << op;
			ASSERT_TRUE((gfp & GFP_DMA) == 0 || b.zone == KMM_ZONE_DMA) << "op " << op;
			ASSERT_EQ((b.addr >> kPageShift) & ((uintptr_t{1} << b.order) - 1), 0u) << "op " << op;
			ASSERT_FALSE(model.overlaps(b.addr, b.pages << kPageShift)) << "op " << op;
			ASSERT_TRUE((gfp & __GFP_ZERO) == 0 || zeroed(b)) << "op " << op;
			stamp(b);
			model.add(b);
			++allocs;
			peak_pages = std::max<uint64_t>(peak_pages, model.pages());
		} else {
			Block b = model.take(rng.below(model.size()));
			ASSERT_TRUE(stamps_intact(b)) << "block at op " << op << " was overwritten";
			bool ok = b.kind == Kind::kExact ? pa.free_exact(reinterpret_cast<void *>(b.addr), b.size)
							 : pa.free_addr(b.addr, b.order);
			ASSERT_TRUE(ok) << "op " << op << ": " << t.cap.last();
			++frees;
			if (op % kMisuseEvery == 0) {
				/* A double free of what was just freed. */
				size_t free_before = pa.totals().free;
				ASSERT_FALSE(pa.free_addr(b.addr, b.order));
				ASSERT_EQ(t.rep.bugs(), ++expected_bugs);
				ASSERT_EQ(pa.totals().free, free_before);
			}
		}
		if (op % kMisuseEvery == 1 && model.size() > 0) {
			/* A wrong order on a live block: refused, the block stays. */
			const Block &b = model.at(rng.below(model.size()));
			unsigned wrong = b.order == 0 ? 1 : b.order - 1;
			size_t free_before = pa.totals().free;
			bool refused = b.kind == Kind::kExact
					       ? !pa.free_exact(reinterpret_cast<void *>(b.addr), b.size + (kPageSize << kMaxOrder))
					       : !pa.free_addr(b.addr, wrong);
			ASSERT_TRUE(refused) << "op " << op;
			ASSERT_EQ(t.rep.bugs(), ++expected_bugs);
			ASSERT_EQ(pa.totals().free, free_before);
		}
		if (op % kCheckEvery == kCheckEvery - 1) {
			ASSERT_EQ(pa.validate(), 0u) << "op " << op << ": " << t.cap.last();
			ASSERT_EQ(pa.totals().free, managed - model.pages()) << "op " << op;
			t.cap.clear();
		}
	}

	std::printf("[   SEED   ] %" PRIu64 " allocations, %" PRIu64 " frees, %" PRIu64 " NULLs, peak %" PRIu64
		    " of %zu pages, %lu misuse reports\n",
		    allocs, frees, nulls, peak_pages, managed, expected_bugs);
	EXPECT_GT(nulls, 0u);                   /* the map ran full */
	EXPECT_GT(allocs, ops / 3);             /* and mostly did not */
	EXPECT_GT(expected_bugs, ops / kMisuseEvery / 2);

	/* Full recovery: free everything; the state equals the one after init. */
	while (model.size() > 0) {
		Block b = model.take(model.size() - 1);
		ASSERT_TRUE(stamps_intact(b));
		ASSERT_TRUE(b.kind == Kind::kExact ? pa.free_exact(reinterpret_cast<void *>(b.addr), b.size)
						   : pa.free_addr(b.addr, b.order));
	}
	EXPECT_EQ(pa.validate(), 0u);
	EXPECT_EQ(kmm_test::snapshot(pa), initial);
	EXPECT_EQ(t.rep.bugs(), expected_bugs);
}

} // namespace

INSTANTIATE_TEST_SUITE_P(Pcp, PageStress, ::testing::Values(0u, static_cast<uint32_t>(KMM_PCP_HIGH)),
			 [](const ::testing::TestParamInfo<uint32_t> &info) {
				 return info.param == 0 ? std::string("BuddyOnly") : std::string("WithPcp");
			 });
