/*
 * tests/shared/page_misuse_tests.cpp — shared tests (kernel and host) of
 * misuse of the page allocator: each case provokes a known number of reports (t->expected_bugs),
 * and the runner checks that exactly that many came, that the calls were
 * refused (free count unchanged) and that kmm_validate() still finds
 * nothing.
 */
#include "ktest_shared.h"

namespace {

/* An address kmm does not manage: this image's read-only data. */
const unsigned char kNotManaged[8] = {1};

unsigned long unmanaged_page() { return reinterpret_cast<uintptr_t>(kNotManaged) & ~(PAGE_SIZE - 1); }

void double_free(struct ktest *t)
{
	struct page *p = alloc_pages(GFP_KERNEL, 0);
	KTEST_ASSERT_NOT_NULL(t, p);
	__free_pages(p, 0);
	size_t free0 = kmm_free_pages();
	t->expected_bugs = 1;
	__free_pages(p, 0);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
}

void free_with_wrong_order(struct ktest *t)
{
	struct page *p = alloc_pages(GFP_KERNEL, 1);
	KTEST_ASSERT_NOT_NULL(t, p);
	size_t free0 = kmm_free_pages();
	t->expected_bugs = 1;
	__free_pages(p, 0); /* refused: allocated with order 1 */
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
	__free_pages(p, 1);
}

void free_unmanaged_address(struct ktest *t)
{
	t->expected_bugs = 4;
	free_pages(unmanaged_page(), 0);
	KTEST_EXPECT_NULL(t, virt_to_page(kNotManaged));
	/* the same page by frame number: pfn_valid asks without a report */
	const unsigned long pfn = unmanaged_page() >> PAGE_SHIFT;
	KTEST_EXPECT_FALSE(t, pfn_valid(pfn));
	KTEST_EXPECT_NULL(t, pfn_to_page(pfn));
	KTEST_EXPECT_FALSE(t, pfn_valid(~0UL));
	KTEST_EXPECT_NULL(t, pfn_to_page(~0UL)); /* beyond the address space */
}

void order_above_max(struct ktest *t)
{
	t->expected_bugs = 1;
	KTEST_EXPECT_NULL(t, alloc_pages(GFP_KERNEL, KMM_MAX_ORDER + 1));
}

void invalid_gfp(struct ktest *t)
{
	t->expected_bugs = 1;
	KTEST_EXPECT_NULL(t, alloc_pages(0x8000u, 0));
}

void exact_free_with_wrong_size(struct ktest *t)
{
	void *p = alloc_pages_exact(3 * PAGE_SIZE, GFP_KERNEL);
	KTEST_ASSERT_NOT_NULL(t, p);
	size_t free0 = kmm_free_pages();
	t->expected_bugs = 1;
	free_pages_exact(p, 2 * PAGE_SIZE);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
	free_pages_exact(p, 3 * PAGE_SIZE);
}

/* free_pages of a block alloc_pages_exact kept: refused (not freed on
 * the per-CPU fast path), and free_pages_exact still frees the whole. */
void exact_block_freed_with_free_pages(struct ktest *t)
{
	void *p = alloc_pages_exact(3 * PAGE_SIZE, GFP_KERNEL); /* [0,2) and [2] */
	KTEST_ASSERT_NOT_NULL(t, p);
	size_t free0 = kmm_free_pages();
	t->expected_bugs = 2;
	free_pages(reinterpret_cast<uintptr_t>(p), 1);
	__free_pages(virt_to_page(static_cast<char *>(p) + 2 * PAGE_SIZE), 0);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
	free_pages_exact(p, 3 * PAGE_SIZE);
}

const ktest_case cases[] = {
	{"double_free", double_free},
	{"free_with_wrong_order", free_with_wrong_order},
	{"free_unmanaged_address", free_unmanaged_address},
	{"order_above_max", order_above_max},
	{"invalid_gfp", invalid_gfp},
	{"exact_free_with_wrong_size", exact_free_with_wrong_size},
	{"exact_block_freed_with_free_pages", exact_block_freed_with_free_pages},
};

} // namespace

KTEST_SUITE(page_misuse, cases);
