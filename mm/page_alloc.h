/*
 * mm/page_alloc.h — PageAllocator: one instance owns a memory map (regions,
 * reserved ranges), its zones' buddy lists and the policy around them: gfp
 * flags, zone fallback, the OOM hook, exact and compound allocations,
 * misuse checks, validate() and buddyinfo.
 *
 * Lock order: PageAllocator::lock_ is the innermost lock of kmm (slab locks
 * are taken before it, never after). It protects zones_ and every struct
 * page of a free block. It is held with IRQs masked, for O(kMaxOrder) steps
 * per call; zeroing and compound-tail linking run outside it.
 *
 * Zone fallback: GFP_DMA -> {DMA}; everything else -> {Normal, DMA}.
 *
 * Instances are independent: tests build private ones over their own
 * buffers; the C facade (page_alloc_api.cpp) owns the global one.
 */
#ifndef KMM_MM_PAGE_ALLOC_H
#define KMM_MM_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/gfp.h>
#include <kmm/report.h>

#include "buddy.h"
#include "page.h"
#include "region.h"
#include "reporter.h"
#include "spinlock.h"

namespace kmm {

struct ZoneCounts {
	size_t managed = 0, free = 0, reserved = 0, memmap = 0;
};

class PageAllocator {
public:
	constexpr explicit PageAllocator(Reporter *reporter) : reporter_(reporter) {}

	/* ---- memory map: before init() ---- */
	int add_region(uintptr_t start, size_t size, unsigned zone);
	int reserve(uintptr_t start, size_t size);
	int init();
	/* Back to the empty, uninitialised state. */
	void reset();
	bool initialized() const { return initialized_; }

	/* ---- allocation ----
	 * alloc(): head_state is kAllocated, kCompound, kLargeKmalloc or kSlab;
	 * for all but kAllocated the tails become kTail pointing at the head. */
	struct page *alloc(gfp_t gfp, unsigned order, PageState head_state = kAllocated);
	/* Frees a block whose head has state `expect` (or kAllocated/kCompound
	 * when expect == kAllocated, the public __free_pages). Misuse is
	 * reported and refused; returns false then. */
	bool free(struct page *head, unsigned order, PageState expect = kAllocated);
	/* free_pages(addr, order): checks that addr is a managed page start. */
	bool free_addr(uintptr_t addr, unsigned order);
	void *alloc_exact(size_t size, gfp_t gfp);
	bool free_exact(void *addr, size_t size);

	/* ---- lookups (no lock: the memory map is fixed after init) ---- */
	void *page_address(const struct page *p) const
	{
		const Region *r = region_of(p);
		return r != nullptr ? reinterpret_cast<void *>(r->address(p)) : nullptr;
	}
	const Region *region_of(const struct page *p) const
	{
		for (unsigned i = 0; i < nr_regions_; ++i)
			if (regions_[i].holds_page(p))
				return &regions_[i];
		return nullptr;
	}
	const Region *region_of_addr(uintptr_t addr) const
	{
		for (unsigned i = 0; i < nr_regions_; ++i)
			if (regions_[i].holds_addr(addr))
				return &regions_[i];
		return nullptr;
	}
	/* NULL if addr is not managed memory; does not report. */
	struct page *virt_to_page(const void *addr) const
	{
		uintptr_t a = reinterpret_cast<uintptr_t>(addr);
		const Region *r = region_of_addr(a);
		return r != nullptr ? r->page_at(a) : nullptr;
	}

	/* ---- hooks and figures ---- */
	void set_oom_hook(kmm_oom_fn fn, void *ctx)
	{
		oom_hook_ = fn;
		oom_ctx_ = ctx;
	}
	unsigned long oom_count() const { return oom_count_; }
	unsigned long alloc_failures() const { return alloc_failures_; }
	Reporter &reporter() const { return *reporter_; }
	ZoneCounts counts(unsigned zone) const;
	ZoneCounts totals() const;
	/* Free blocks per order in a zone (a snapshot taken under the lock). */
	void free_blocks(unsigned zone, size_t out[KMM_NR_ORDERS]) const;
	unsigned nr_regions() const { return nr_regions_; }
	const Region &region(unsigned i) const { return regions_[i]; }

	/* Walks every free list and descriptor; returns the number of problems
	 * (each also described on the reporter as a detail line). */
	unsigned long validate() const;
	void buddyinfo(kmm_sink_fn sink, void *ctx) const;

private:
	struct page *alloc_locked(gfp_t gfp, unsigned order);
	bool check_free_locked(struct page *head, unsigned order, PageState expect, const Region *&region);
	void free_locked(const Region &region, struct page *head, unsigned order);
	void set_tails(struct page *head, unsigned order, PageState tail_state);

	mutable SpinLock lock_;
	Reporter *reporter_;
	Region regions_[KMM_MAX_REGIONS];
	unsigned nr_regions_ = 0;
	AddrRange reserved_[KMM_MAX_RESERVED];
	unsigned nr_reserved_ = 0;
	Zone zones_[KMM_NR_ZONES];
	bool initialized_ = false;
	kmm_oom_fn oom_hook_ = nullptr;
	void *oom_ctx_ = nullptr;
	unsigned long oom_count_ = 0;
	unsigned long alloc_failures_ = 0;
};

/* Linux get_order(): smallest order whose block holds size bytes. */
inline unsigned size_to_order(size_t size)
{
	if (size <= kPageSize)
		return 0;
	size_t pages = (size - 1) >> kPageShift; /* pages - 1 */
	return static_cast<unsigned>(sizeof(size_t) * 8) - static_cast<unsigned>(__builtin_clzl(pages));
}

} // namespace kmm

#endif
