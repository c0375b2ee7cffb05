/*
 * tests/shared/page_alloc_tests.cpp — shared tests (kernel and host) of the
 * page allocator through its public C API, on whatever memory map the
 * runner booted (a board's, or the host's arenas): every order, alignment,
 * zeroing, exhaustion and merge-back, exact and compound allocations, zones
 * and the OOM hook. The runner checks both layers' validate() and the free
 * page count after each case.
 */
#include "ktest_shared.h"

namespace {

using ktest_shared::give_back;
using ktest_shared::kQuiet;
using ktest_shared::take_all_pages;

uintptr_t addr_of(struct page *p) { return reinterpret_cast<uintptr_t>(page_address(p)); }

bool in_zone(uintptr_t addr, unsigned zone) { return ktest_env_in_zone(addr, zone); }

/* Largest order allocatable right now (alloc + free), or -1. */
int largest_free_order()
{
	for (int order = KMM_MAX_ORDER; order >= 0; --order) {
		struct page *p = alloc_pages(GFP_KERNEL | kQuiet, static_cast<unsigned>(order));
		if (p != nullptr) {
			__free_pages(p, static_cast<unsigned>(order));
			return order;
		}
	}
	return -1;
}

void init_state(struct ktest *t)
{
	KTEST_EXPECT_EQ(t, kmm_validate(), 0);
	KTEST_EXPECT_GE(t, kmm_managed_pages(), 8);
	/* Only the slab layer's own metadata (the kmem_cache structs of the
	 * kmalloc caches) is in use between cases; the runner shrank every cache. */
	KTEST_EXPECT_LE(t, kmm_free_pages(), kmm_managed_pages());
	KTEST_EXPECT_LE(t, kmm_managed_pages() - kmm_free_pages(), kmm_managed_pages() / 4);
	KTEST_EXPECT_NE(t, kmm_memmap_bytes(), 0);
}

void alloc_free_order0(struct ktest *t)
{
	size_t free0 = kmm_free_pages();
	struct page *p = alloc_pages(GFP_KERNEL, 0);
	KTEST_ASSERT_NOT_NULL(t, p);
	uintptr_t a = addr_of(p);
	KTEST_EXPECT_EQ(t, a % PAGE_SIZE, 0);
	KTEST_EXPECT_EQ(t, virt_to_page(reinterpret_cast<void *>(a)), p);
	KTEST_EXPECT_EQ(t, virt_to_page(reinterpret_cast<void *>(a + PAGE_SIZE - 1)), p);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0 - 1);
	__free_pages(p, 0);
}

void every_order_aligned(struct ktest *t)
{
	int largest = largest_free_order();
	KTEST_ASSERT_TRUE(t, largest >= 0);
	for (unsigned order = 0; order <= static_cast<unsigned>(largest); ++order) {
		size_t free0 = kmm_free_pages();
		struct page *p = alloc_pages(GFP_KERNEL, order);
		if (!KTEST_EXPECT_NOT_NULL(t, p))
			continue;
		KTEST_EXPECT_EQ(t, addr_of(p) % (PAGE_SIZE << order), 0);
		KTEST_EXPECT_EQ(t, kmm_free_pages(), free0 - (size_t{1} << order));
		/* The block's last byte is ours too. */
		static_cast<volatile unsigned char *>(page_address(p))[(PAGE_SIZE << order) - 1] = 0x5a;
		__free_pages(p, order);
	}
}

void gfp_zero(struct ktest *t)
{
	struct page *dirty = alloc_pages(GFP_KERNEL, 1);
	KTEST_ASSERT_NOT_NULL(t, dirty);
	__builtin_memset(page_address(dirty), 0xaa, 2 * PAGE_SIZE);
	__free_pages(dirty, 1);
	struct page *p = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	KTEST_ASSERT_NOT_NULL(t, p);
	const unsigned char *bytes = static_cast<const unsigned char *>(page_address(p));
	size_t nonzero = 0;
	for (size_t i = 0; i < 2 * PAGE_SIZE; ++i)
		nonzero += bytes[i] != 0;
	KTEST_EXPECT_EQ(t, nonzero, 0);
	__free_pages(p, 1);

	unsigned long page = get_zeroed_page(GFP_KERNEL);
	KTEST_ASSERT_TRUE(t, page != 0);
	KTEST_EXPECT_EQ(t, *reinterpret_cast<const unsigned long *>(page + PAGE_SIZE - sizeof(unsigned long)), 0);
	free_page(page);
}

void exhaust_and_merge_back(struct ktest *t)
{
	int largest = largest_free_order();
	size_t free0 = kmm_free_pages(), count;
	void *chain = take_all_pages(count);
	KTEST_EXPECT_EQ(t, count, free0);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), 0);
	KTEST_EXPECT_NULL(t, alloc_pages(GFP_KERNEL | kQuiet, 0));
	KTEST_EXPECT_EQ(t, kmm_validate(), 0);
	give_back(chain);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
	/* Every buddy merged again: the largest block is back. */
	KTEST_EXPECT_EQ(t, largest_free_order(), largest);
}

void exact_pages(struct ktest *t)
{
	size_t free0 = kmm_free_pages();
	void *p = alloc_pages_exact(3 * PAGE_SIZE, GFP_KERNEL | __GFP_ZERO);
	KTEST_ASSERT_NOT_NULL(t, p);
	KTEST_EXPECT_EQ(t, reinterpret_cast<uintptr_t>(p) % PAGE_SIZE, 0);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0 - 3);
	__builtin_memset(p, 0x33, 3 * PAGE_SIZE);
	free_pages_exact(p, 3 * PAGE_SIZE);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
	/* A size that is not a page multiple rounds up. */
	p = alloc_pages_exact(PAGE_SIZE + 1, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, p);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0 - 2);
	free_pages_exact(p, PAGE_SIZE + 1);
}

void get_free_pages_api(struct ktest *t)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 2);
	KTEST_ASSERT_TRUE(t, a != 0);
	KTEST_EXPECT_EQ(t, a % (PAGE_SIZE << 2), 0);
	KTEST_EXPECT_EQ(t, get_order(PAGE_SIZE * 4), 2);
	KTEST_EXPECT_EQ(t, get_order(PAGE_SIZE * 4 + 1), 3);
	KTEST_EXPECT_EQ(t, get_order(1), 0);
	/* page frame numbers both ways, on every page of the block */
	struct page *head = virt_to_page(reinterpret_cast<void *>(a));
	KTEST_ASSERT_NOT_NULL(t, head);
	KTEST_EXPECT_EQ(t, page_to_pfn(head), a >> PAGE_SHIFT);
	for (unsigned long i = 0; i < 4; ++i) {
		const unsigned long pfn = (a >> PAGE_SHIFT) + i;
		KTEST_EXPECT_TRUE(t, pfn_valid(pfn));
		KTEST_EXPECT_EQ(t, addr_of(pfn_to_page(pfn)), a + i * PAGE_SIZE);
		KTEST_EXPECT_EQ(t, page_to_pfn(pfn_to_page(pfn)), pfn);
	}
	KTEST_EXPECT_EQ(t, PAGE_ALIGN(a + 1), a + PAGE_SIZE);
	KTEST_EXPECT_EQ(t, PAGE_ALIGN(a), a);
	KTEST_EXPECT_EQ(t, offset_in_page(reinterpret_cast<char *>(a) + PAGE_SIZE + 5), 5);
	KTEST_EXPECT_EQ(t, a & PAGE_MASK, a);
	free_pages(a, 2);
	struct page *n = alloc_pages_node(NUMA_NO_NODE, GFP_KERNEL, 1);
	KTEST_ASSERT_NOT_NULL(t, n);
	KTEST_EXPECT_EQ(t, addr_of(n) % (2 * PAGE_SIZE), 0);
	__free_pages(n, 1);
}

void compound_pages(struct ktest *t)
{
	struct page *p = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	KTEST_ASSERT_NOT_NULL(t, p);
	struct page *tail = virt_to_page(reinterpret_cast<void *>(addr_of(p) + 3 * PAGE_SIZE));
	KTEST_EXPECT_NOT_NULL(t, tail);
	KTEST_EXPECT_EQ(t, compound_head(tail), p);
	KTEST_EXPECT_EQ(t, compound_order(p), 2);
	__free_pages(p, 2);
}

void zones(struct ktest *t)
{
	struct page *normal = alloc_pages(GFP_KERNEL, 0);
	KTEST_ASSERT_NOT_NULL(t, normal);
	if (ktest_env_zone_bytes(KMM_ZONE_NORMAL) != 0)
		KTEST_EXPECT_TRUE(t, in_zone(addr_of(normal), KMM_ZONE_NORMAL));
	struct page *dma = alloc_pages(GFP_DMA | kQuiet, 0);
	if (ktest_env_zone_bytes(KMM_ZONE_DMA) != 0) {
		KTEST_EXPECT_NOT_NULL(t, dma);
		if (dma != nullptr)
			KTEST_EXPECT_TRUE(t, in_zone(addr_of(dma), KMM_ZONE_DMA));
	} else {
		KTEST_EXPECT_NULL(t, dma); /* no DMA zone: GFP_DMA never falls back */
	}
	__free_pages(dma, 0);
	__free_pages(normal, 0);
}

/* OOM hook: frees the block the test parked in ctx. */
void oom_free_parked(void *ctx, gfp_t, unsigned)
{
	void **parked = static_cast<void **>(ctx);
	if (*parked != nullptr) {
		free_page(reinterpret_cast<unsigned long>(*parked));
		*parked = nullptr;
	}
}

void oom_hook_frees_and_retries(struct ktest *t)
{
	unsigned long ooms = kmm_oom_count();
	void *parked = reinterpret_cast<void *>(get_zeroed_page(GFP_KERNEL));
	KTEST_ASSERT_NOT_NULL(t, parked);
	size_t count;
	void *chain = take_all_pages(count);
	kmm_set_oom_hook(oom_free_parked, &parked);
	struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0); /* retried after the hook */
	kmm_set_oom_hook(nullptr, nullptr);
	KTEST_EXPECT_NOT_NULL(t, p);
	KTEST_EXPECT_NULL(t, parked);
	KTEST_EXPECT_EQ(t, kmm_oom_count(), ooms + 1);
	__free_pages(p, 0);
	if (parked != nullptr)
		free_page(reinterpret_cast<unsigned long>(parked));
	give_back(chain);
}

const ktest_case cases[] = {
	{"init_state", init_state},
	{"alloc_free_order0", alloc_free_order0},
	{"every_order_aligned", every_order_aligned},
	{"gfp_zero", gfp_zero},
	{"exhaust_and_merge_back", exhaust_and_merge_back},
	{"exact_pages", exact_pages},
	{"get_free_pages_api", get_free_pages_api},
	{"compound_pages", compound_pages},
	{"zones", zones},
	{"oom_hook_frees_and_retries", oom_hook_frees_and_retries},
};

} // namespace

KTEST_SUITE(page_alloc, cases);
