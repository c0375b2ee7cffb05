/*
 * tests/host/test_page_alloc_api.cpp — the public C API of the page
 * allocator (kmm/page_alloc.h, kmm/report.h) over the global instance, as
 * firmware sees it: Linux names, the boot sequence, figures, hooks, and the
 * misuse contract (refused, reported once with the address, state intact).
 * Only public headers: no mm/ internals.
 */
#include <gtest/gtest.h>

#include <kmm/kmm.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "support/arena.h"

using kmm_test::Arena;
using kmm_test::hex;
using kmm_test::ReportCapture;

namespace {

constexpr size_t kPage = PAGE_SIZE;
constexpr size_t kBlock = kPage << KMM_MAX_ORDER;

/* The buddy state with every per-CPU page list drained back first, so two
 * snapshots compare the buddy lists themselves. */
std::string buddyinfo()
{
	kmm_drain_pages();
	kmm_test::TextSink s;
	kmm_buddyinfo(&kmm_test::TextSink::sink, &s);
	return s.text;
}

class PageApi : public ::testing::Test {
protected:
	Arena arena{kBlock * 8, kBlock};
	ReportCapture cap;

	void SetUp() override
	{
		kmm_shutdown();
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		kmm_set_report_hook(&ReportCapture::hook, &cap);
		kmm_set_oom_hook(nullptr, nullptr);
	}
	void TearDown() override
	{
		kmm_shutdown();
		kmm_set_report_hook(nullptr, nullptr);
		kmm_set_oom_hook(nullptr, nullptr);
	}
	/* Normal: 64 pages at the arena start, page 10 reserved; DMA: 16 pages. */
	void boot_known_map()
	{
		ASSERT_EQ(kmm_add_region(arena.at(0), 64 * kPage, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(kmm_add_region(arena.at(2 * kBlock), 16 * kPage, KMM_ZONE_DMA), 0);
		ASSERT_EQ(kmm_reserve(arena.at(10 * kPage), kPage), 0);
		ASSERT_EQ(kmm_init(), 0);
		ASSERT_EQ(kmm_validate(), 0u);
	}
	void boot_blocks(size_t blocks)
	{
		ASSERT_EQ(kmm_add_region(arena.at(0), blocks * kBlock, KMM_ZONE_NORMAL), 0);
		ASSERT_EQ(kmm_init(), 0);
	}
	/* Runs a bad call and checks the contract. */
	template <typename Call> void expect_refused(Call call, uintptr_t addr, const std::string &what)
	{
		std::string info = buddyinfo();
		size_t free_before = kmm_free_pages();
		unsigned long bugs = kmm_bug_count();
		cap.clear();
		call();
		EXPECT_EQ(kmm_bug_count(), bugs + 1);
		ASSERT_EQ(cap.lines.size(), 1u) << cap.last();
		EXPECT_EQ(cap.lines[0].rfind("BUG page_alloc: ", 0), 0u) << cap.lines[0];
		EXPECT_NE(cap.lines[0].find(hex(addr)), std::string::npos) << cap.lines[0] << " lacks " << hex(addr);
		EXPECT_NE(cap.lines[0].find(what), std::string::npos) << cap.lines[0] << " lacks " << what;
		EXPECT_EQ(kmm_validate(), 0u);
		EXPECT_EQ(kmm_free_pages(), free_before);
		EXPECT_EQ(buddyinfo(), info);
		struct page *p = alloc_pages(GFP_KERNEL, 1);
		ASSERT_NE(p, nullptr);
		__free_pages(p, 1);
		EXPECT_EQ(buddyinfo(), info);
		EXPECT_EQ(kmm_bug_count(), bugs + 1);
	}
};

TEST_F(PageApi, BootReportsTheFigures)
{
	boot_known_map();
	/* One memmap page per region at 4 KiB (16-byte descriptors on 32-bit
	 * targets, 24 on this host). */
	size_t memmap = (64 * 24 + kPage - 1) / kPage + (16 * 24 + kPage - 1) / kPage;
	EXPECT_EQ(kmm_memmap_bytes(), memmap * kPage);
	EXPECT_EQ(kmm_reserved_pages(), 1u);
	EXPECT_EQ(kmm_managed_pages(), 64 + 16 - 1 - memmap);
	EXPECT_EQ(kmm_free_pages(), kmm_managed_pages());
	if (kPage == 4096 && KMM_MAX_ORDER == 10) {
		EXPECT_EQ(buddyinfo(),
			  "Node 0, zone   Normal      2      2      2      2      2      0      0      0      0      0      0 \n"
			  "Node 0, zone      DMA      1      1      1      1      0      0      0      0      0      0      0 \n"
			  "zone Normal page 4096 B, managed 62, free 62, reserved 1, memmap 1 pages (4096 B)\n"
			  "zone DMA    page 4096 B, managed 15, free 15, reserved 0, memmap 1 pages (4096 B)\n"
			  "per-cpu lists, zone Normal 0 pages parked (orders 0-3, high 32)\n"
			  "per-cpu lists, zone DMA    0 pages parked (orders 0-3, high 32)\n"
			  "extfrag Node 0, zone   Normal -1.000 -1.000 -1.000 -1.000 -1.000 0.707 0.804 0.852 0.876 0.888 0.894 \n"
			  "extfrag Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 0.516 0.633 0.692 0.721 0.736 0.743 0.747 \n");
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(PageApi, TheMapIsFixedAfterInit)
{
	EXPECT_EQ(kmm_init(), -KMM_EINVAL); /* nothing to manage yet */
	EXPECT_EQ(kmm_add_region(arena.at(0), kBlock, 7), -KMM_EINVAL);
	boot_blocks(1);
	EXPECT_EQ(kmm_init(), -KMM_EBUSY);
	EXPECT_EQ(kmm_add_region(arena.at(2 * kBlock), kBlock, KMM_ZONE_NORMAL), -KMM_EBUSY);
	EXPECT_EQ(kmm_reserve(arena.at(0), kPage), -KMM_EBUSY);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(PageApi, InitFailsCleanlyWhenARegionCannotHoldItsDescriptors)
{
	ASSERT_EQ(kmm_add_region(arena.at(kPage / 2), 2 * kPage, KMM_ZONE_NORMAL), 0); /* one whole page */
	EXPECT_EQ(kmm_init(), -KMM_ENOMEM);
	EXPECT_EQ(cap.count_containing("cannot hold its"), 1u);
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_managed_pages(), 0u);
	EXPECT_EQ(kmm_memmap_bytes(), 0u);
	EXPECT_EQ(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0), nullptr);
	kmm_shutdown();
	boot_blocks(1);
	EXPECT_GT(kmm_free_pages(), 0u);
}

TEST_F(PageApi, AllocPagesGivesAlignedMemoryThatMapsBack)
{
	boot_blocks(2);
	size_t free0 = kmm_free_pages();
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	ASSERT_NE(p, nullptr);
	auto a = reinterpret_cast<uintptr_t>(page_address(p));
	EXPECT_TRUE(arena.holds(a));
	EXPECT_EQ(a % (4 * kPage), 0u);
	EXPECT_EQ(kmm_free_pages(), free0 - 4);
	std::memset(page_address(p), 0x3c, 4 * kPage);
	EXPECT_EQ(virt_to_page(reinterpret_cast<void *>(a)), p);
	EXPECT_EQ(virt_to_page(reinterpret_cast<void *>(a + kPage - 1)), p);
	for (size_t i = 1; i < 4; ++i) {
		struct page *q = virt_to_page(reinterpret_cast<void *>(a + i * kPage + 5));
		ASSERT_NE(q, nullptr);
		EXPECT_NE(q, p);
		EXPECT_EQ(reinterpret_cast<uintptr_t>(page_address(q)), a + i * kPage);
		EXPECT_EQ(compound_head(q), q); /* not compound: no head link */
	}
	__free_pages(p, 2);
	EXPECT_EQ(kmm_free_pages(), free0);
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(PageApi, GetFreePagesAndFreePages)
{
	boot_blocks(1);
	size_t free0 = kmm_free_pages();
	unsigned long a = __get_free_pages(GFP_KERNEL, 3);
	ASSERT_NE(a, 0ul);
	EXPECT_EQ(a % (8 * kPage), 0u);
	unsigned long b = __get_free_pages(GFP_KERNEL | __GFP_COMP, 1); /* no compound via addresses */
	ASSERT_NE(b, 0ul);
	struct page *c = alloc_page(GFP_KERNEL);
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(kmm_free_pages(), free0 - 11);
	free_pages(a, 3);
	free_pages(b, 1);
	__free_page(c);
	EXPECT_EQ(kmm_free_pages(), free0);
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_EQ(kmm_validate(), 0u);
}

TEST_F(PageApi, ZeroedPagesAreZero)
{
	boot_blocks(1);
	unsigned long a = __get_free_pages(GFP_KERNEL, 0);
	std::memset(reinterpret_cast<void *>(a), 0xff, kPage);
	free_page(a);
	unsigned long z = get_zeroed_page(GFP_KERNEL);
	ASSERT_EQ(z, a); /* LIFO: the dirtied page comes back */
	auto *bytes = reinterpret_cast<unsigned char *>(z);
	EXPECT_EQ(std::count(bytes, bytes + kPage, 0), static_cast<long>(kPage));
	free_page(z);
	struct page *p = alloc_pages(GFP_KERNEL, 1);
	std::memset(page_address(p), 0xff, 2 * kPage);
	__free_pages(p, 1);
	struct page *q = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	ASSERT_EQ(q, p);
	bytes = static_cast<unsigned char *>(page_address(q));
	EXPECT_EQ(std::count(bytes, bytes + 2 * kPage, 0), static_cast<long>(2 * kPage));
	__free_pages(q, 1);
}

TEST_F(PageApi, CompoundPages)
{
	boot_blocks(1);
	struct page *head = alloc_pages(GFP_KERNEL | __GFP_COMP, 3);
	ASSERT_NE(head, nullptr);
	auto a = reinterpret_cast<uintptr_t>(page_address(head));
	EXPECT_EQ(compound_order(head), 3u);
	EXPECT_EQ(compound_head(head), head);
	for (size_t i = 1; i < 8; ++i) {
		struct page *tail = virt_to_page(reinterpret_cast<void *>(a + i * kPage));
		EXPECT_EQ(compound_head(tail), head) << i;
		EXPECT_EQ(compound_order(tail), 0u) << i;
	}
	struct page *plain = alloc_pages(GFP_KERNEL, 3);
	EXPECT_EQ(compound_order(plain), 0u);
	EXPECT_EQ(compound_head(nullptr), nullptr);
	__free_pages(plain, 3);
	__free_pages(head, 3);
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

/* compound_order of a page that is no compound head is 0, whatever order
 * its descriptor kept: pages of a plain block that was split and merged
 * back (they once headed free blocks of orders 0 … max - 1), and free
 * pages. */
TEST_F(PageApi, CompoundOrderIsZeroForEveryPageThatIsNoCompoundHead)
{
	constexpr unsigned kMax = KMM_MAX_ORDER;
	auto page_n = [](struct page *head, size_t n) {
		return virt_to_page(static_cast<char *>(page_address(head)) + n * kPage);
	};
	/* One max-order block exactly: the smallest region that holds it and
	 * its descriptors. */
	for (size_t extra = 1; kmm_managed_pages() != (size_t{1} << kMax); ++extra) {
		ASSERT_LT(extra, 64u);
		kmm_shutdown();
		ASSERT_EQ(kmm_add_region(arena.at(0), kBlock + extra * kPage, KMM_ZONE_NORMAL), 0);
		if (kmm_init() != 0)
			continue;
	}
	struct page *half = alloc_pages(GFP_KERNEL, kMax - 1);
	struct page *one = alloc_pages(GFP_KERNEL, 0); /* splits the other half down */
	ASSERT_NE(half, nullptr);
	ASSERT_NE(one, nullptr);
	EXPECT_EQ(compound_order(page_n(one, 1)), 0u); /* the order-0 buddy left free */
	__free_pages(one, 0);
	__free_pages(half, kMax - 1);
	kmm_drain_pages(); /* merged back into one max-order block */
	struct page *big = alloc_pages(GFP_KERNEL, kMax);
	ASSERT_NE(big, nullptr);
	size_t nonzero = 0;
	for (size_t i = 0; i < (size_t{1} << kMax); ++i)
		nonzero += compound_order(page_n(big, i)) != 0;
	EXPECT_EQ(nonzero, 0u);
	__free_pages(big, kMax);
	struct page *comp = alloc_pages(GFP_KERNEL | __GFP_COMP, kMax);
	ASSERT_NE(comp, nullptr);
	EXPECT_EQ(compound_order(comp), kMax);
	__free_pages(comp, kMax);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(PageApi, AllocPagesExactUsesExactlyTheNeededPages)
{
	boot_blocks(2);
	size_t free0 = kmm_free_pages();
	const size_t sizes[] = {1, kPage, kPage + 1, 3 * kPage, 5 * kPage - 1, 7 * kPage, 9 * kPage, kBlock};
	for (size_t size : sizes) {
		size_t pages = (size + kPage - 1) / kPage;
		void *v = alloc_pages_exact(size, GFP_KERNEL | __GFP_ZERO);
		ASSERT_NE(v, nullptr) << size;
		EXPECT_EQ(kmm_free_pages(), free0 - pages) << size;
		auto *bytes = static_cast<unsigned char *>(v);
		EXPECT_EQ(std::count(bytes, bytes + pages * kPage, 0), static_cast<long>(pages * kPage));
		EXPECT_EQ(kmm_validate(), 0u);
		free_pages_exact(v, size);
		EXPECT_EQ(kmm_free_pages(), free0) << size;
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(PageApi, GfpDmaPicksTheDmaZoneAndOthersFallBackToIt)
{
	ASSERT_EQ(kmm_add_region(arena.at(0), 16 * kPage, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(kmm_add_region(arena.at(kBlock), 16 * kPage, KMM_ZONE_DMA), 0);
	ASSERT_EQ(kmm_init(), 0);
	auto in_dma = [&](unsigned long a) { return a >= arena.at(kBlock) && a < arena.at(kBlock + 16 * kPage); };
	unsigned long d = __get_free_pages(GFP_DMA, 0);
	EXPECT_TRUE(in_dma(d));
	std::vector<unsigned long> normal;
	while (true) {
		unsigned long a = __get_free_pages(GFP_KERNEL | __GFP_NOWARN, 0);
		ASSERT_NE(a, 0ul);
		if (in_dma(a)) { /* Normal is exhausted only now */
			EXPECT_EQ(normal.size(), 15u);
			free_page(a);
			break;
		}
		normal.push_back(a);
	}
	for (unsigned long a : normal)
		free_page(a);
	free_page(d);
	EXPECT_EQ(kmm_free_pages(), kmm_managed_pages());
	EXPECT_EQ(kmm_validate(), 0u);
}

/* A figure of one zone from kmm_buddyinfo, per-CPU lists left as they are:
 * `what` is "free" (buddy + parked) or "parked". */
size_t zone_figure(const char *zone, const char *what)
{
	kmm_test::TextSink s;
	kmm_buddyinfo(&kmm_test::TextSink::sink, &s);
	std::string key = std::string(what) == "parked" ? std::string("per-cpu lists, zone ") + zone : std::string("zone ") + zone;
	for (size_t at = 0; at < s.text.size();) {
		size_t end = s.text.find('\n', at);
		std::string line = s.text.substr(at, end - at);
		at = end + 1;
		if (line.rfind(key + " ", 0) != 0)
			continue;
		if (std::string(what) == "parked")
			return std::stoul(line.substr(key.size()));
		size_t f = line.find(", free ");
		if (f != std::string::npos)
			return std::stoul(line.substr(f + 7));
	}
	ADD_FAILURE() << "no " << what << " figure for zone " << zone << " in\n" << s.text;
	return 0;
}

/* gfp.h: DMA memory serves a Normal request only when Normal memory is
 * exhausted, pages parked on the per-CPU lists included. An order-3 block
 * parked on its per-CPU list used to stay there while order-0 requests,
 * finding the Normal buddy lists empty, took every DMA page. */
TEST_F(PageApi, NormalRequestsUseParkedNormalPagesBeforeTheDmaZone)
{
	ASSERT_EQ(kmm_add_region(arena.at(0), 512 * kPage, KMM_ZONE_NORMAL), 0);
	ASSERT_EQ(kmm_add_region(arena.at(kBlock), 20 * kPage, KMM_ZONE_DMA), 0);
	ASSERT_EQ(kmm_init(), 0);
	auto in_dma = [&](const struct page *p) {
		auto a = reinterpret_cast<uintptr_t>(page_address(p));
		return a >= arena.at(kBlock) && a < arena.at(kBlock + 20 * kPage);
	};
	const size_t normal0 = zone_figure("Normal", "free");
	const size_t dma0 = zone_figure("DMA", "free");
	struct page *b = alloc_pages(GFP_KERNEL, 3);
	ASSERT_NE(b, nullptr);
	__free_pages(b, 3);
	ASSERT_GE(zone_figure("Normal", "parked"), 8u) << "the order-3 block is parked";
	std::vector<struct page *> held;
	size_t from_dma = 0, while_normal_free = 0;
	for (int i = 0; i < 512; ++i) {
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0);
		ASSERT_NE(p, nullptr) << i;
		held.push_back(p);
		if (in_dma(p)) {
			++from_dma;
			if (zone_figure("Normal", "free") != 0)
				++while_normal_free;
		}
	}
	EXPECT_EQ(while_normal_free, 0u) << "DMA pages handed to GFP_KERNEL while Normal pages were parked";
	EXPECT_EQ(from_dma, 512 - normal0);
	struct page *d = alloc_pages(GFP_DMA | __GFP_NOWARN, 0);
	ASSERT_NE(d, nullptr) << "GFP_DMA after the GFP_KERNEL loop";
	EXPECT_TRUE(in_dma(d));
	__free_page(d);
	for (struct page *p : held)
		__free_page(p);
	EXPECT_EQ(kmm_free_pages(), normal0 + dma0);
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

struct OomCtx {
	std::vector<struct page *> *held;
	int calls = 0;
	static void hook(void *ctx, gfp_t, unsigned int)
	{
		auto *c = static_cast<OomCtx *>(ctx);
		++c->calls;
		if (!c->held->empty()) {
			__free_page(c->held->back());
			c->held->pop_back();
		}
	}
};

/* A hook that allocates (a log line through malloc, say) while memory is
 * exhausted: its own failing allocation does not run the hook again (on
 * that CPU) but fails at once, so the hook cannot recurse without end. */
struct AllocatingOomHook {
	int calls = 0, depth = 0, max_depth = 0;
	struct page *inner = nullptr;
	static void hook(void *ctx, gfp_t, unsigned int)
	{
		auto *c = static_cast<AllocatingOomHook *>(ctx);
		++c->calls;
		if (++c->depth > c->max_depth)
			c->max_depth = c->depth;
		if (c->depth < 50) /* the test's own stop, should recursion come back */
			c->inner = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		--c->depth;
	}
};

TEST_F(PageApi, AnOomHookThatAllocatesDoesNotRecurse)
{
	boot_blocks(1);
	std::vector<struct page *> held;
	while (struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0))
		held.push_back(p);
	AllocatingOomHook ctx;
	kmm_set_oom_hook(&AllocatingOomHook::hook, &ctx);
	EXPECT_EQ(alloc_page(GFP_KERNEL | __GFP_NOWARN), nullptr);
	EXPECT_EQ(ctx.calls, 1);
	EXPECT_EQ(ctx.max_depth, 1);
	EXPECT_EQ(ctx.inner, nullptr);
	/* The hook runs again for the next failing allocation. */
	EXPECT_EQ(alloc_page(GFP_KERNEL | __GFP_NOWARN), nullptr);
	EXPECT_EQ(ctx.calls, 2);
	EXPECT_EQ(kmm_oom_count(), 2u);
	kmm_set_oom_hook(nullptr, nullptr);
	for (struct page *q : held)
		__free_page(q);
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_bug_count(), 0u);
}

TEST_F(PageApi, OomHookRunsFirstThenTheAllocationRetriesOnce)
{
	boot_blocks(1);
	std::vector<struct page *> held;
	while (struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0))
		held.push_back(p);
	size_t n = held.size();
	std::vector<struct page *> spare{held.back()};
	held.pop_back();
	OomCtx ctx{&spare};
	kmm_set_oom_hook(&OomCtx::hook, &ctx);
	struct page *p = alloc_page(GFP_KERNEL);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(ctx.calls, 1);
	EXPECT_EQ(kmm_oom_count(), 1u);
	held.push_back(p);
	/* The hook has nothing left to give: one call, then NULL and a warning. */
	cap.clear();
	EXPECT_EQ(alloc_page(GFP_KERNEL), nullptr);
	EXPECT_EQ(ctx.calls, 2);
	EXPECT_EQ(kmm_oom_count(), 2u);
	EXPECT_EQ(cap.count_containing("page allocation failure: order:0"), 1u);
	EXPECT_EQ(kmm_bug_count(), 0u);
	kmm_set_oom_hook(nullptr, nullptr);
	EXPECT_EQ(held.size(), n);
	for (struct page *q : held)
		__free_page(q);
	EXPECT_EQ(kmm_free_pages(), kmm_managed_pages());
}

/* ---- misuse through the C API ---- */

TEST_F(PageApi, DoubleFreeIsRefused)
{
	boot_blocks(1);
	struct page *a = alloc_page(GFP_KERNEL);
	struct page *b = alloc_page(GFP_KERNEL); /* a's buddy stays in use */
	auto addr = reinterpret_cast<uintptr_t>(page_address(a));
	__free_page(a);
	expect_refused([&] { __free_pages(a, 0); }, addr, "double free");
	expect_refused([&] { free_page(addr); }, addr, "double free");
	__free_page(b);
	EXPECT_EQ(kmm_bug_count(), 2u);
}

TEST_F(PageApi, FreeOfAReservedPageIsRefused)
{
	boot_known_map();
	uintptr_t reserved = arena.at(10 * kPage);
	struct page *p = virt_to_page(reinterpret_cast<void *>(reserved));
	ASSERT_NE(p, nullptr);
	expect_refused([&] { __free_pages(p, 0); }, reserved, "reserved");
	expect_refused([&] { free_pages(reserved, 0); }, reserved, "reserved");
}

TEST_F(PageApi, FreeOfAnAddressKmmDoesNotManageIsRefused)
{
	boot_blocks(1);
	int local = 0;
	auto a = reinterpret_cast<uintptr_t>(&local);
	expect_refused([&] { free_page(a); }, a, "not managed by kmm");
	expect_refused([&] { free_pages_exact(&local, kPage); }, a, "not managed by kmm");
	expect_refused([&] { EXPECT_EQ(virt_to_page(&local), nullptr); }, a, "virt_to_page");
}

TEST_F(PageApi, FreeOfAnUnalignedAddressIsRefused)
{
	boot_blocks(1);
	unsigned long a = __get_free_pages(GFP_KERNEL, 1);
	expect_refused([&] { free_pages(a + 24, 1); }, a + 24, "not page-aligned");
	free_pages(a, 1);
	EXPECT_EQ(kmm_bug_count(), 1u);
}

TEST_F(PageApi, FreeWithTheWrongOrderIsRefused)
{
	boot_blocks(1);
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	auto a = reinterpret_cast<uintptr_t>(page_address(p));
	expect_refused([&] { __free_pages(p, 0); }, a, "allocated with order 2");
	expect_refused([&] { free_pages(a, 3); }, a, "allocated with order 2");
	expect_refused([&] { __free_pages(p, KMM_MAX_ORDER + 1); }, a, "above the maximum");
	__free_pages(p, 2);
	EXPECT_EQ(kmm_validate(), 0u);
}

TEST_F(PageApi, AllocWithAnOrderAboveTheMaximumIsRefused)
{
	boot_blocks(1);
	size_t free0 = kmm_free_pages();
	EXPECT_EQ(alloc_pages(GFP_KERNEL, KMM_MAX_ORDER + 1), nullptr);
	EXPECT_EQ(__get_free_pages(GFP_KERNEL, 31), 0ul);
	EXPECT_EQ(kmm_bug_count(), 2u);
	/* Each report names the call made (__get_free_pages used to be
	 * reported as alloc_pages). */
	ASSERT_EQ(cap.lines.size(), 2u);
	EXPECT_EQ(cap.lines[0].rfind("BUG page_alloc: alloc_pages: invalid order (order " +
					     std::to_string(KMM_MAX_ORDER + 1),
				     0),
		  0u)
		<< cap.lines[0];
	EXPECT_EQ(cap.lines[1].rfind("BUG page_alloc: __get_free_pages: invalid order (order 31,", 0), 0u)
		<< cap.lines[1];
	EXPECT_EQ(kmm_free_pages(), free0);
	EXPECT_EQ(kmm_validate(), 0u);
}

/* Bits outside KMM_GFP_VALID_MASK are misuse: every entry point refuses
 * them with a report, __GFP_NOWARN or not (it silences allocation
 * failures only). With it they used to be refused without a word. */
TEST_F(PageApi, InvalidGfpBitsAreReportedEvenWithNowarn)
{
	boot_blocks(1);
	size_t free0 = kmm_free_pages();
	const gfp_t bad = GFP_KERNEL | __GFP_NOWARN | 0x100u;
	EXPECT_EQ(alloc_pages(bad, 0), nullptr);
	EXPECT_EQ(alloc_page(bad | __GFP_COMP), nullptr);
	EXPECT_EQ(__get_free_pages(bad, 2), 0ul);
	EXPECT_EQ(get_zeroed_page(bad), 0ul);
	EXPECT_EQ(alloc_pages_exact(3 * kPage, bad), nullptr);
	EXPECT_EQ(kmm_bug_count(), 5u);
	/* Each report names the call made, with the figures it was given
	 * (alloc_pages_exact's size, not the order kmm derived from it; it
	 * and __get_free_pages used to be reported as alloc_pages). */
	EXPECT_EQ(cap.count_containing("BUG page_alloc: alloc_pages: invalid gfp flags"), 2u);
	EXPECT_EQ(cap.count_containing("BUG page_alloc: __get_free_pages: invalid gfp flags (order 2,"), 1u);
	EXPECT_EQ(cap.count_containing("BUG page_alloc: get_zeroed_page: invalid gfp flags (order 0,"), 1u);
	EXPECT_EQ(cap.count_containing("BUG page_alloc: alloc_pages_exact: invalid gfp flags " + hex(bad) + " (size " +
				       std::to_string(3 * kPage) + ")"),
		  1u)
		<< cap.last();
	EXPECT_EQ(cap.lines.size(), 5u);
	EXPECT_EQ(kmm_free_pages(), free0);
	EXPECT_EQ(kmm_validate(), 0u);
	/* A valid __GFP_NOWARN request that fails stays quiet. */
	cap.clear();
	while (struct page *p = alloc_page(GFP_KERNEL | __GFP_NOWARN))
		(void)p;
	EXPECT_TRUE(cap.lines.empty()) << cap.last();
	EXPECT_EQ(kmm_bug_count(), 5u);
}

TEST_F(PageApi, FreePagesExactWithAWrongSizeIsRefused)
{
	boot_blocks(1);
	void *v = alloc_pages_exact(5 * kPage, GFP_KERNEL); /* [0,4) and [4] */
	auto a = reinterpret_cast<uintptr_t>(v);
	expect_refused([&] { free_pages_exact(v, 4 * kPage); }, a, "size does not match");
	/* The report names the page whose order does not match. */
	expect_refused([&] { free_pages_exact(v, 6 * kPage); }, a + 4 * kPage, "allocated with order 0");
	expect_refused([&] { free_pages_exact(v, 8 * kPage); }, a, "allocated with order 2");
	expect_refused([&] { free_pages_exact(reinterpret_cast<char *>(v) + 1, 5 * kPage); }, a + 1, "not page-aligned");
	free_pages_exact(v, 5 * kPage);
	EXPECT_EQ(kmm_free_pages(), kmm_managed_pages());
	EXPECT_EQ(kmm_bug_count(), 4u);
}

/* free_pages_exact's reports name the call and its figures, as its other
 * reports do: a double free used to read as a plain free's ("double free of
 * page … order 1", the order of one of its blocks), and a block from
 * alloc_pages as "size does not match the allocation". */
TEST_F(PageApi, FreePagesExactReportsNameTheCall)
{
	boot_blocks(1);
	void *e = alloc_pages_exact(3 * kPage, GFP_KERNEL);
	ASSERT_NE(e, nullptr);
	auto a = reinterpret_cast<uintptr_t>(e);
	free_pages_exact(e, 3 * kPage);
	expect_refused([&] { free_pages_exact(e, 3 * kPage); }, a,
		       "free_pages_exact of " + hex(a) + " size " + std::to_string(3 * kPage) + ": double free of page " +
			       hex(a));
	unsigned long p = __get_free_pages(GFP_KERNEL, 2);
	ASSERT_NE(p, 0ul);
	expect_refused([&] { free_pages_exact(reinterpret_cast<void *>(p), 4 * kPage); }, p,
		       "free_pages_exact of " + hex(p) + " size " + std::to_string(4 * kPage) + ": page " + hex(p) +
			       " (pfn ");
	EXPECT_NE(cap.lines[0].find("order 2) belongs to alloc_pages: use free_pages"), std::string::npos)
		<< cap.lines[0];
	struct page *c = alloc_pages(GFP_KERNEL | __GFP_COMP, 1);
	auto ca = reinterpret_cast<uintptr_t>(page_address(c));
	expect_refused([&] { free_pages_exact(page_address(c), 2 * kPage); }, ca,
		       "free_pages_exact of " + hex(ca) + " size " + std::to_string(2 * kPage) + ": page " + hex(ca));
	free_pages(p, 2);
	__free_pages(c, 1);
	EXPECT_EQ(kmm_free_pages(), kmm_managed_pages());
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_bug_count(), 3u);
}

/* alloc_pages_exact's blocks go back only through free_pages_exact: a
 * free_pages of one of them used to be taken (on the per-CPU fast path),
 * after which free_pages_exact refused the whole as a double free. */
TEST_F(PageApi, FreePagesOfAnExactAllocationIsRefused)
{
	boot_blocks(1);
	void *e = alloc_pages_exact(3 * kPage, GFP_KERNEL); /* blocks [0,2) and [2] */
	ASSERT_NE(e, nullptr);
	auto a = reinterpret_cast<uintptr_t>(e);
	const std::string what = "belongs to alloc_pages_exact: use free_pages_exact";
	expect_refused([&] { free_pages(a, 1); }, a, what);
	expect_refused([&] { __free_pages(virt_to_page(e), 1); }, a, what);
	expect_refused([&] { free_pages(a + 2 * kPage, 0); }, a + 2 * kPage, what);
	expect_refused([&] { free_pages(a, 0); }, a, what);
	free_pages_exact(e, 3 * kPage);
	EXPECT_EQ(kmm_free_pages(), kmm_managed_pages());
	EXPECT_EQ(kmm_validate(), 0u);
	EXPECT_EQ(kmm_bug_count(), 4u);
}

TEST_F(PageApi, NullFreesAreNoOps)
{
	boot_blocks(1);
	__free_pages(nullptr, 0);
	free_pages(0, 0);
	free_pages_exact(nullptr, kPage);
	EXPECT_EQ(page_address(nullptr), nullptr);
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_TRUE(cap.lines.empty());
}

TEST_F(PageApi, PanicPolicyStopsAtTheFirstBug)
{
	boot_blocks(1);
	struct page *p = alloc_page(GFP_KERNEL);
	struct page *q = alloc_page(GFP_KERNEL);
	__free_page(p);
	kmm_set_report_hook(nullptr, nullptr); /* the report goes to the console */
	kmm_set_bug_policy(KMM_BUG_PANIC);
	EXPECT_DEATH(__free_page(p), "kmm panic");
	kmm_set_bug_policy(KMM_BUG_REFUSE);
	__free_page(q);
	EXPECT_EQ(kmm_bug_count(), 0u); /* the death happened in a child process */
}

TEST_F(PageApi, ShutdownForgetsTheMapAndTheCounts)
{
	boot_blocks(1);
	struct page *p = alloc_page(GFP_KERNEL);
	__free_page(p);
	__free_page(p);
	EXPECT_EQ(kmm_bug_count(), 1u);
	kmm_shutdown();
	EXPECT_EQ(kmm_bug_count(), 0u);
	EXPECT_EQ(kmm_managed_pages(), 0u);
	EXPECT_EQ(kmm_free_pages(), 0u);
	EXPECT_EQ(kmm_memmap_bytes(), 0u);
	EXPECT_EQ(buddyinfo(), "");
	/* A different map boots afterwards. */
	ASSERT_EQ(kmm_add_region(arena.at(3 * kBlock), 2 * kBlock, KMM_ZONE_DMA), 0);
	ASSERT_EQ(kmm_init(), 0);
	unsigned long a = __get_free_pages(GFP_DMA, 0);
	EXPECT_GE(a, arena.at(3 * kBlock));
	free_page(a);
	EXPECT_EQ(kmm_validate(), 0u);
}

/* Linux names kmm/page_alloc.h adds as aliases: __get_free_page and
 * virt_to_head_page. */
TEST_F(PageApi, GetFreePageAndVirtToHeadPage)
{
	boot_blocks(2);
	const size_t free0 = kmm_free_pages();
	unsigned long a = __get_free_page(GFP_KERNEL);
	ASSERT_NE(a, 0ul);
	EXPECT_TRUE(arena.holds(a));
	EXPECT_EQ(a % kPage, 0u);
	EXPECT_EQ(kmm_free_pages(), free0 - 1);
	EXPECT_EQ(compound_order(virt_to_page(reinterpret_cast<void *>(a))), 0u);
	free_pages(a, 0); /* an order-0 block: accepted */
	EXPECT_EQ(kmm_free_pages(), free0);
	/* gfp reaches __get_free_pages: no DMA zone here */
	EXPECT_EQ(__get_free_page(GFP_DMA | __GFP_NOWARN), 0ul);

	struct page *head = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	ASSERT_NE(head, nullptr);
	char *base = static_cast<char *>(page_address(head));
	EXPECT_EQ(virt_to_head_page(base), head);
	EXPECT_EQ(virt_to_head_page(base + 3 * kPage + 5), head);
	EXPECT_NE(virt_to_page(base + 3 * kPage + 5), head) << "a tail's own descriptor";
	/* a plain block has no tails: each page is its own head (Linux) */
	struct page *plain = alloc_pages(GFP_KERNEL, 1);
	ASSERT_NE(plain, nullptr);
	char *pbase = static_cast<char *>(page_address(plain));
	EXPECT_EQ(virt_to_head_page(pbase + kPage), virt_to_page(pbase + kPage));
	EXPECT_NE(virt_to_head_page(pbase + kPage), plain);
	EXPECT_EQ(kmm_bug_count(), 0u);

	int outside = 0;
	cap.clear();
	EXPECT_EQ(virt_to_head_page(&outside), nullptr);
	EXPECT_EQ(kmm_bug_count(), 1u);
	EXPECT_EQ(cap.count_containing("virt_to_page of"), 1u);
	__free_pages(plain, 1);
	__free_pages(head, 2);
	EXPECT_EQ(kmm_free_pages(), free0);
	EXPECT_EQ(kmm_validate(), 0u);
}

TEST(PageApiGetOrder, MatchesLinux)
{
	EXPECT_EQ(get_order(1), 0u);
	EXPECT_EQ(get_order(PAGE_SIZE), 0u);
	EXPECT_EQ(get_order(PAGE_SIZE + 1), 1u);
	EXPECT_EQ(get_order(4 * PAGE_SIZE), 2u);
	EXPECT_EQ(get_order(4 * PAGE_SIZE + 1), 3u);
	EXPECT_EQ(get_order(PAGE_SIZE << KMM_MAX_ORDER), unsigned{KMM_MAX_ORDER});
}

} // namespace
