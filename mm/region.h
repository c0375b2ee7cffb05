/*
 * mm/region.h — a physical RAM range and its page-descriptor array:
 * pfn <-> struct page <-> address for that range.
 *
 * A region is page-aligned inward at init (partial pages at the edges are
 * dropped). Its descriptor array covers every whole page of the region and is
 * carved from the region's own highest usable pages, which are then marked
 * kReserved. Regions never overlap; buddy merging never leaves a region.
 */
#ifndef KMM_MM_REGION_H
#define KMM_MM_REGION_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/config.h>

#include "page.h"

namespace kmm {

inline constexpr unsigned kPageShift = KMM_PAGE_SHIFT;
inline constexpr uintptr_t kPageSize = uintptr_t{1} << kPageShift;
inline constexpr uintptr_t kPageMask = kPageSize - 1;
inline constexpr unsigned kMaxOrder = KMM_MAX_ORDER;

/* A half-open address range [start, end); end > start. */
struct AddrRange {
	uintptr_t start = 0;
	uintptr_t end = 0;
	bool overlaps(uintptr_t s, uintptr_t e) const { return s < end && start < e; }
};

struct Region {
	AddrRange given;             /* as passed to kmm_add_region */
	unsigned zone = 0;
	uintptr_t start = 0;         /* first whole page (page-aligned) */
	uintptr_t base_pfn = 0;      /* start >> kPageShift */
	size_t nr_pages = 0;         /* whole pages, all described by pages[] */
	struct page *pages = nullptr;
	size_t memmap_pages = 0;     /* pages holding pages[] (kReserved) */
	size_t reserved_pages = 0;   /* pages reserved by kmm_reserve (or page 0) */

	bool holds_addr(uintptr_t addr) const { return addr - start < (uintptr_t{nr_pages} << kPageShift); }
	bool holds_page(const struct page *p) const
	{
		uintptr_t off = reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(pages);
		return off < nr_pages * sizeof(struct page);
	}
	size_t index(const struct page *p) const { return static_cast<size_t>(p - pages); }
	uintptr_t pfn(const struct page *p) const { return base_pfn + index(p); }
	uintptr_t address(const struct page *p) const { return start + (uintptr_t{index(p)} << kPageShift); }
	struct page *page_at(uintptr_t addr) const { return pages + ((addr - start) >> kPageShift); }
};

enum class RegionSetup {
	kOk,
	kTooSmall,    /* no room for its own array plus one usable page */
	kAllReserved, /* every page is reserved: nothing to manage */
};

/* Lays out one region at init: places the descriptor array in the highest
 * run of pages that no reserved range touches and fills every descriptor
 * (kReserved or kInterior). When no run free of reserved pages can hold
 * the array, reserved_pages holds how many of nr_pages are reserved (for
 * init's report; 0 on the other failures). */
RegionSetup region_setup(Region &region, const AddrRange *reserved, unsigned nr_reserved);

} // namespace kmm

#endif
