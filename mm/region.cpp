/*
 * mm/region.cpp — laying out a region at init: whole pages, the descriptor
 * array carved from the region itself, reserved pages marked.
 */
#include "region.h"

namespace kmm {
namespace {

bool page_is_reserved(uintptr_t addr, const AddrRange *reserved, unsigned nr_reserved)
{
	for (unsigned i = 0; i < nr_reserved; ++i)
		if (reserved[i].overlaps(addr, addr + kPageSize))
			return true;
	return addr == 0; /* page 0 would make page_address() look like NULL */
}

/* Failure paths only: how many of the region's pages are reserved, for
 * the report (init tells a region reserved whole from one too small). */
size_t count_reserved(uintptr_t first, size_t nr_pages, const AddrRange *reserved, unsigned nr_reserved)
{
	size_t n = 0;
	for (size_t i = 0; i < nr_pages; ++i)
		if (page_is_reserved(first + (uintptr_t{i} << kPageShift), reserved, nr_reserved))
			++n;
	return n;
}

} // namespace

RegionSetup region_setup(Region &region, const AddrRange *reserved, unsigned nr_reserved)
{
	uintptr_t first = (region.given.start + kPageMask) & ~kPageMask;
	uintptr_t last = region.given.end & ~kPageMask; /* exclusive */
	if (first < region.given.start || last <= first)
		return RegionSetup::kTooSmall;
	region.start = first;
	region.base_pfn = first >> kPageShift;
	region.nr_pages = (last - first) >> kPageShift;
	size_t memmap_bytes = region.nr_pages * sizeof(struct page);
	region.memmap_pages = (memmap_bytes + kPageMask) >> kPageShift;
	if (region.memmap_pages >= region.nr_pages)
		return RegionSetup::kTooSmall;

	/* Highest run of memmap_pages pages free of reserved ranges. */
	size_t run = 0;
	size_t memmap_first = region.nr_pages; /* none yet */
	for (size_t i = region.nr_pages; i-- > 0;) {
		if (page_is_reserved(first + (uintptr_t{i} << kPageShift), reserved, nr_reserved)) {
			run = 0;
			continue;
		}
		if (++run == region.memmap_pages) {
			memmap_first = i;
			break;
		}
	}
	if (memmap_first == region.nr_pages) {
		region.reserved_pages = count_reserved(first, region.nr_pages, reserved, nr_reserved);
		return region.reserved_pages == region.nr_pages ? RegionSetup::kAllReserved : RegionSetup::kTooSmall;
	}
	region.pages = reinterpret_cast<struct page *>(first + (uintptr_t{memmap_first} << kPageShift));

	size_t usable = 0;
	region.reserved_pages = 0;
	for (size_t i = 0; i < region.nr_pages; ++i) {
		struct page &p = region.pages[i];
		p.order = 0;
		p.inuse = 0;
		p.next = p.prev = nullptr;
		p.freelist = 0;
		p.cache_id = 0;
		if (i >= memmap_first && i < memmap_first + region.memmap_pages) {
			p.state = kReserved;
		} else if (page_is_reserved(first + (uintptr_t{i} << kPageShift), reserved, nr_reserved)) {
			p.state = kReserved;
			++region.reserved_pages;
		} else {
			p.state = kInterior;
			++usable;
		}
	}
	return usable > 0 ? RegionSetup::kOk : RegionSetup::kTooSmall;
}

} // namespace kmm
