/*
 * kernel/workload_pages.cpp — workload backends over the page allocator:
 * whole blocks (alloc_pages/__free_pages, orders 0…3), exact sizes
 * (alloc_pages_exact: 1…9 pages, the rest of the block goes back at once)
 * and DMA-zone blocks (GFP_DMA, only on boards with a DMA region).
 * Every request carries __GFP_NOWARN: running out is part of the mix. A
 * small DMA zone (mps2-an385: 3 pages) runs out on most requests of the
 * 64-slot mix on purpose: the NULL path and a full zone next to a Normal
 * zone with room; the report says so after the pages_dma line.
 */
#include <kernel/boot.h>
#include <kernel/printk.h>
#include <kernel/workload.h>
#include <kmm/kmm.h>

namespace {

constexpr unsigned kMaxWorkloadOrder = KMM_MAX_ORDER < 3 ? KMM_MAX_ORDER : 3;

size_t pages_max() { return PAGE_SIZE << kMaxWorkloadOrder; }

void *pages_alloc_gfp(size_t size, gfp_t gfp)
{
	struct page *p = alloc_pages(gfp | __GFP_NOWARN, get_order(size));
	return p != nullptr ? page_address(p) : nullptr;
}
void *pages_alloc(size_t size) { return pages_alloc_gfp(size, GFP_KERNEL); }
void pages_free(void *block, size_t size) { __free_pages(virt_to_page(block), get_order(size)); }

size_t exact_max() { return KMM_MAX_ORDER >= 4 ? 9 * PAGE_SIZE : PAGE_SIZE << KMM_MAX_ORDER; }
void *exact_alloc(size_t size) { return alloc_pages_exact(size, GFP_KERNEL | __GFP_NOWARN); }
void exact_free(void *block, size_t size) { free_pages_exact(block, size); }

size_t dma_max() { return boot_info.zone_bytes[KMM_ZONE_DMA] != 0 ? PAGE_SIZE << 1 : 0; }
void *dma_alloc(size_t size) { return pages_alloc_gfp(size, GFP_DMA); }

void dma_explain_failures(const kmm_workload_stats *st)
{
	/* Counted only up to what the slots could hold at most: a zone that
	 * large would not have run out. */
	size_t limit = KMM_WORKLOAD_SLOTS * (dma_max() / PAGE_SIZE);
	size_t pages = workload_blocks_available(GFP_DMA, 0, limit);
	printk("workload: pages_dma: %lu requests found the DMA zone full, as intended: it gives out %zu pages "
	       "(%zu KiB) at once, %u slots can ask for %zu KiB\n",
	       st->failures, pages, static_cast<size_t>(pages * PAGE_SIZE / 1024), KMM_WORKLOAD_SLOTS,
	       static_cast<size_t>(limit * PAGE_SIZE / 1024));
}

} // namespace

KMM_WORKLOAD_BACKEND(10_pages, {"pages", pages_max, 1, pages_alloc, pages_free, nullptr, nullptr});
KMM_WORKLOAD_BACKEND(11_pages_exact, {"pages_exact", exact_max, 1, exact_alloc, exact_free, nullptr, nullptr});
KMM_WORKLOAD_BACKEND(12_pages_dma, {"pages_dma", dma_max, 1, dma_alloc, pages_free, nullptr, dma_explain_failures});
