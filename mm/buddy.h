/*
 * mm/buddy.h — the binary buddy system of one zone: free_area[order] lists,
 * split on allocation, merge on free.
 *
 * Invariants (checked by PageAllocator::validate):
 *   - a free block of order o is naturally aligned (pfn % 2^o == 0), lies in
 *     one region, its head is kFree with order o and sits on free_area[o];
 *     its other pages are kInterior;
 *   - bit o of `nonempty` is set exactly when free_area[o] is non-empty;
 *   - two buddies of order o < kMaxOrder are never both free (they merge).
 * The buddy of the block at pfn is at pfn ^ 2^o; merging stops at the region
 * edge and at any page that is not a free head of the same order (reserved
 * pages never are). Every operation is O(kMaxOrder). Not locked: callers
 * hold the page allocator's lock.
 */
#ifndef KMM_MM_BUDDY_H
#define KMM_MM_BUDDY_H

#include <stddef.h>
#include <stdint.h>

#include "page.h"
#include "region.h"

namespace kmm {

struct Zone {
	PageList free_area[KMM_NR_ORDERS];
	uint32_t nonempty = 0;
	size_t managed_pages = 0; /* pages ever handed to this zone's buddy lists */
	size_t free_pages = 0;

	void add_free(struct page *p, unsigned order)
	{
		set_page_state(p, kFree);
		p->order = static_cast<uint8_t>(order);
		free_area[order].push_front(p);
		nonempty |= 1u << order;
		free_pages += size_t{1} << order;
	}
	void del_free(struct page *p, unsigned order)
	{
		free_area[order].remove(p);
		if (free_area[order].empty())
			nonempty &= ~(1u << order);
		free_pages -= size_t{1} << order;
	}
};

/* Splitting and merging are loops of up to kMaxOrder steps, kept out of
 * line: the common alloc (a block of the right order is listed) and the
 * common free (the buddy is in use) then stay short and branch-light. */
__attribute__((noinline)) inline void buddy_split(Zone &zone, struct page *p, unsigned found, unsigned order)
{
	while (found > order) {
		--found;
		zone.add_free(p + (size_t{1} << found), found);
	}
}

/* Takes a block of exactly `order` pages, splitting a larger one if needed.
 * The returned head is kAllocated with its order; NULL if none. */
inline struct page *buddy_alloc(Zone &zone, unsigned order)
{
	uint32_t usable = zone.nonempty >> order;
	if (usable == 0)
		return nullptr;
	unsigned found = order + static_cast<unsigned>(__builtin_ctz(usable));
	struct page *p = zone.free_area[found].head;
	zone.del_free(p, found);
	if (found > order)
		buddy_split(zone, p, found, order);
	set_page_state(p, kAllocated);
	p->order = static_cast<uint8_t>(order);
	return p;
}

/* The merging loop of buddy_free: at least the first buddy is free. */
__attribute__((noinline)) inline void buddy_merge(Zone &zone, const Region &region, size_t idx, unsigned order)
{
	uintptr_t pfn = region.base_pfn + idx;
	while (order < kMaxOrder) {
		uintptr_t buddy_pfn = pfn ^ (uintptr_t{1} << order);
		size_t buddy_idx = static_cast<size_t>(buddy_pfn - region.base_pfn);
		if (buddy_idx >= region.nr_pages) /* also catches buddy_pfn < base */
			break;
		struct page *buddy = region.pages + buddy_idx;
		if (page_state(buddy) != kFree || buddy->order != order)
			break;
		zone.del_free(buddy, order);
		set_page_state(buddy, kInterior);
		set_page_state(&region.pages[idx], kInterior);
		pfn &= ~(uintptr_t{1} << order);
		idx = static_cast<size_t>(pfn - region.base_pfn);
		++order;
	}
	zone.add_free(region.pages + idx, order);
}

/* Returns the block at p (its pages kInterior except the head) to the zone,
 * merging with free buddies inside the region. */
inline void buddy_free(Zone &zone, const Region &region, struct page *p, unsigned order)
{
	size_t idx = region.index(p);
	if (order < kMaxOrder) {
		size_t buddy_idx = static_cast<size_t>(((region.base_pfn + idx) ^ (uintptr_t{1} << order)) - region.base_pfn);
		if (buddy_idx < region.nr_pages && page_state(&region.pages[buddy_idx]) == kFree &&
		    region.pages[buddy_idx].order == order) {
			buddy_merge(zone, region, idx, order);
			return;
		}
	}
	zone.add_free(p, order);
}

} // namespace kmm

#endif
