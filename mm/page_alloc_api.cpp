/*
 * mm/page_alloc_api.cpp — the C facade of the page allocator and the report
 * hooks (kmm/page_alloc.h, kmm/report.h): Linux names over the one global
 * PageAllocator. Constant-initialised, so it works before C++ constructors.
 */
#include <kmm/page_alloc.h>
#include <kmm/report.h>

#include "global.h"

namespace kmm {
constinit Reporter g_reporter;
constinit PageAllocator g_pages{&g_reporter};

Reporter &global_reporter() { return g_reporter; }
PageAllocator &global_pages() { return g_pages; }
} // namespace kmm

using kmm::g_pages;
using kmm::g_reporter;

/* __get_free_pages and get_zeroed_page: bad arguments are reported as the
 * call made (alloc() would name alloc_pages). The cost: the two tests
 * alloc() makes on its slow path only, made up front, on these two calls
 * only (Cortex-M3, MinSizeRel: 16 instructions on the success path where
 * there were 11; alloc_pages and alloc_page are unchanged). Passing the
 * name down through alloc() instead would add a fifth argument, on the
 * stack on ARM, to every call of the page allocator. */
__attribute__((always_inline)) static inline unsigned long get_free_pages(gfp_t gfp, unsigned int order,
								  const char *who)
{
	if (__builtin_expect(!kmm::PageAllocator::alloc_args_ok(gfp, order), 0)) {
		g_pages.report_bad_alloc(gfp, order, who);
		return 0;
	}
	struct page *p = g_pages.alloc(gfp & ~__GFP_COMP, order);
	return p != nullptr ? reinterpret_cast<unsigned long>(g_pages.page_address(p)) : 0;
}

extern "C" {

void kmm_set_report_hook(kmm_report_fn fn, void *ctx) { g_reporter.set_hook(fn, ctx); }
void kmm_set_bug_policy(enum kmm_bug_policy policy) { g_reporter.set_policy(policy); }
void kmm_set_oom_hook(kmm_oom_fn fn, void *ctx) { g_pages.set_oom_hook(fn, ctx); }
unsigned long kmm_bug_count(void) { return g_reporter.bugs(); }
unsigned long kmm_oom_count(void) { return g_pages.oom_count(); }

int kmm_add_region(uintptr_t start, size_t size, unsigned int zone) { return g_pages.add_region(start, size, zone); }
int kmm_reserve(uintptr_t start, size_t size) { return g_pages.reserve(start, size); }
int kmm_init(void) { return g_pages.init(); }

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	if ((gfp & __GFP_COMP) != 0)
		return g_pages.alloc(gfp, order, kmm::kCompound);
	return g_pages.alloc(gfp, order, kmm::kAllocated);
}
struct page *alloc_page(gfp_t gfp) { return alloc_pages(gfp, 0); }
void __free_pages(struct page *page, unsigned int order) { g_pages.free(page, order); }
void __free_page(struct page *page) { g_pages.free(page, 0); }

unsigned long __get_free_pages(gfp_t gfp, unsigned int order) { return get_free_pages(gfp, order, "__get_free_pages"); }
unsigned long get_zeroed_page(gfp_t gfp) { return get_free_pages(gfp | __GFP_ZERO, 0, "get_zeroed_page"); }
void free_pages(unsigned long addr, unsigned int order) { g_pages.free_addr(addr, order); }
void free_page(unsigned long addr) { g_pages.free_addr(addr, 0); }
void *alloc_pages_exact(size_t size, gfp_t gfp) { return g_pages.alloc_exact(size, gfp); }
void free_pages_exact(void *addr, size_t size) { g_pages.free_exact(addr, size); }

void *page_address(const struct page *page) { return g_pages.page_address(page); }

struct page *virt_to_page(const void *addr)
{
	struct page *p = g_pages.virt_to_page(addr);
	if (p == nullptr && addr != nullptr) {
		g_reporter.bug("page_alloc", "virt_to_page of %p that kmm does not manage", addr);
		g_reporter.finish_bug();
	}
	return p;
}

unsigned long page_to_pfn(const struct page *page)
{
	return static_cast<unsigned long>(reinterpret_cast<uintptr_t>(g_pages.page_address(page)) >> kmm::kPageShift);
}

/* The address of pfn's page; 0 where pfn << PAGE_SHIFT does not fit. */
static uintptr_t pfn_address(unsigned long pfn)
{
	if (pfn > (UINTPTR_MAX >> kmm::kPageShift))
		return 0;
	return static_cast<uintptr_t>(pfn) << kmm::kPageShift;
}

struct page *pfn_to_page(unsigned long pfn)
{
	const uintptr_t a = pfn_address(pfn);
	struct page *p = a != 0 || pfn == 0 ? g_pages.virt_to_page(reinterpret_cast<const void *>(a)) : nullptr;
	if (p == nullptr) {
		g_reporter.bug("page_alloc", "pfn_to_page of pfn %#lx that kmm does not manage", pfn);
		g_reporter.finish_bug();
	}
	return p;
}

int pfn_valid(unsigned long pfn)
{
	const uintptr_t a = pfn_address(pfn);
	return (a != 0 || pfn == 0) && g_pages.virt_to_page(reinterpret_cast<const void *>(a)) != nullptr;
}

struct page *compound_head(struct page *page) { return page != nullptr ? kmm::page_head(page) : nullptr; }
/* A compound head's order; 0 for any other page (Linux), whatever stale
 * order a free, interior or plain page's descriptor still holds. */
unsigned int compound_order(const struct page *page)
{
	if (page == nullptr)
		return 0;
	uint8_t state = kmm::page_state(page);
	return state == kmm::kCompound || state == kmm::kLargeKmalloc || state == kmm::kSlab || state == kmm::kSlabCpu
		       ? page->order
		       : 0;
}
unsigned int get_order(size_t size) { return kmm::size_to_order(size); }

size_t kmm_managed_pages(void) { return g_pages.totals().managed; }
size_t kmm_free_pages(void) { return g_pages.totals().free; }
size_t kmm_reserved_pages(void) { return g_pages.totals().reserved; }
size_t kmm_memmap_bytes(void) { return g_pages.totals().memmap * kmm::kPageSize; }
unsigned long kmm_validate(void) { return g_pages.validate(); }
void kmm_drain_pages(void) { g_pages.drain_pcp(); }
void kmm_buddyinfo(kmm_sink_fn sink, void *ctx) { g_pages.buddyinfo(sink, ctx); }

} // extern "C"
