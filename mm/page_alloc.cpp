/*
 * mm/page_alloc.cpp — PageAllocator: memory-map setup, allocation policy and
 * the misuse checks of every free. The split/merge core is in buddy.h; the
 * whole-structure check and the dump are in page_check.cpp.
 */
#include "page_alloc.h"

namespace kmm {
namespace {

const char *const kWho = "page_alloc";

/* Zones to try, in order, for a request; terminated by KMM_NR_ZONES. */
const unsigned kFallbackDma[] = {KMM_ZONE_DMA, KMM_NR_ZONES};
const unsigned kFallbackNormal[] = {KMM_ZONE_NORMAL, KMM_ZONE_DMA, KMM_NR_ZONES};

const char *state_name(uint8_t state)
{
	switch (state) {
	case kFree: return "free";
	case kInterior: return "inside a block";
	case kAllocated: return "allocated";
	case kCompound: return "compound head";
	case kLargeKmalloc: return "large kmalloc";
	case kTail: return "compound tail";
	case kSlab:
	case kSlabCpu: return "slab";
	case kReserved: return "reserved";
	default: return "corrupt";
	}
}

} // namespace

int PageAllocator::add_region(uintptr_t start, size_t size, unsigned zone)
{
	LockGuard guard(lock_);
	if (initialized_)
		return -KMM_EBUSY;
	if (zone >= KMM_NR_ZONES || size == 0 || size > UINTPTR_MAX - start)
		return -KMM_EINVAL;
	uintptr_t end = start + size;
	if (((start + kPageMask) & ~kPageMask) >= (end & ~kPageMask) || start + kPageMask < start)
		return -KMM_EINVAL; /* no whole page inside */
	for (unsigned i = 0; i < nr_regions_; ++i)
		if (regions_[i].given.overlaps(start, end))
			return -KMM_EINVAL;
	if (nr_regions_ == KMM_MAX_REGIONS)
		return -KMM_ENOSPC;
	Region &r = regions_[nr_regions_++];
	r = Region{};
	r.given = AddrRange{start, end};
	r.zone = zone;
	return 0;
}

int PageAllocator::reserve(uintptr_t start, size_t size)
{
	LockGuard guard(lock_);
	if (initialized_)
		return -KMM_EBUSY;
	if (size == 0 || size > UINTPTR_MAX - start)
		return -KMM_EINVAL;
	if (nr_reserved_ == KMM_MAX_RESERVED)
		return -KMM_ENOSPC;
	reserved_[nr_reserved_++] = AddrRange{start, start + size};
	return 0;
}

int PageAllocator::init()
{
	LockGuard guard(lock_);
	if (initialized_)
		return -KMM_EBUSY;
	if (nr_regions_ == 0)
		return -KMM_EINVAL;
	for (unsigned i = 0; i < nr_regions_; ++i) {
		if (!region_setup(regions_[i], reserved_, nr_reserved_)) {
			reporter_->warn("kmm: region %u [%#lx-%#lx) cannot hold its %zu-byte page descriptors "
					"and one page", i, static_cast<unsigned long>(regions_[i].given.start),
					static_cast<unsigned long>(regions_[i].given.end),
					regions_[i].nr_pages * sizeof(struct page));
			for (unsigned j = 0; j < nr_regions_; ++j) {
				AddrRange given = regions_[j].given;
				unsigned zone = regions_[j].zone;
				regions_[j] = Region{};
				regions_[j].given = given;
				regions_[j].zone = zone;
			}
			return -KMM_ENOMEM;
		}
	}
	for (auto &zone : zones_)
		zone = Zone{};
	/* Carve each run of usable pages into naturally aligned blocks of the
	 * largest possible order: exactly the fully merged buddy state. */
	for (unsigned i = 0; i < nr_regions_; ++i) {
		Region &r = regions_[i];
		Zone &zone = zones_[r.zone];
		size_t idx = 0;
		while (idx < r.nr_pages) {
			if (r.pages[idx].state == kReserved) {
				++idx;
				continue;
			}
			size_t run_end = idx;
			while (run_end < r.nr_pages && r.pages[run_end].state != kReserved)
				++run_end;
			while (idx < run_end) {
				uintptr_t pfn = r.base_pfn + idx;
				unsigned order = pfn == 0 ? kMaxOrder : static_cast<unsigned>(__builtin_ctzl(pfn));
				if (order > kMaxOrder)
					order = kMaxOrder;
				while (idx + (size_t{1} << order) > run_end)
					--order;
				zone.add_free(&r.pages[idx], order);
				zone.managed_pages += size_t{1} << order;
				idx += size_t{1} << order;
			}
		}
	}
	initialized_ = true;
	return 0;
}

void PageAllocator::reset()
{
	LockGuard guard(lock_);
	for (auto &r : regions_)
		r = Region{};
	for (auto &zone : zones_)
		zone = Zone{};
	nr_regions_ = 0;
	nr_reserved_ = 0;
	initialized_ = false;
	oom_count_ = 0;
	alloc_failures_ = 0;
}

struct page *PageAllocator::alloc_locked(gfp_t gfp, unsigned order)
{
	const unsigned *zone = (gfp & __GFP_DMA) != 0 ? kFallbackDma : kFallbackNormal;
	for (; *zone != KMM_NR_ZONES; ++zone) {
		struct page *p = buddy_alloc(zones_[*zone], order);
		if (p != nullptr)
			return p;
	}
	return nullptr;
}

void PageAllocator::set_tails(struct page *head, unsigned order, PageState tail_state)
{
	size_t n = size_t{1} << order;
	for (size_t i = 1; i < n; ++i) {
		head[i].state = tail_state;
		head[i].next = tail_state == kTail ? head : nullptr;
	}
}

struct page *PageAllocator::alloc(gfp_t gfp, unsigned order, PageState head_state)
{
	if (order > kMaxOrder || (gfp & ~KMM_GFP_VALID_MASK) != 0) {
		if ((gfp & __GFP_NOWARN) == 0 || order > kMaxOrder) {
			reporter_->bug(kWho, "alloc_pages: invalid %s (order %u, gfp %#x; max order %u)",
				       order > kMaxOrder ? "order" : "gfp flags", order, gfp, kMaxOrder);
			reporter_->finish_bug();
		}
		return nullptr;
	}
	struct page *p;
	for (int attempt = 0;; ++attempt) {
		{
			LockGuard guard(lock_);
			p = alloc_locked(gfp, order);
			if (p != nullptr)
				p->state = static_cast<uint8_t>(head_state);
		}
		if (p != nullptr || attempt > 0 || oom_hook_ == nullptr || (gfp & __GFP_NORETRY) != 0)
			break;
		++oom_count_;
		oom_hook_(oom_ctx_, gfp, order); /* may free memory; no lock held */
	}
	if (p == nullptr) {
		++alloc_failures_;
		if ((gfp & __GFP_NOWARN) == 0)
			reporter_->warn("kmm: page allocation failure: order:%u, mode:%#x", order, gfp);
		return nullptr;
	}
	if (head_state != kAllocated && order > 0)
		set_tails(p, order, kTail);
	if ((gfp & __GFP_ZERO) != 0)
		__builtin_memset(page_address(p), 0, kPageSize << order);
	return p;
}

bool PageAllocator::check_free_locked(struct page *head, unsigned order, PageState expect,
				      const Region *&region)
{
	region = region_of(head);
	if (region == nullptr || (reinterpret_cast<uintptr_t>(head) - reinterpret_cast<uintptr_t>(region->pages))
				% sizeof(struct page) != 0) {
		reporter_->bug(kWho, "free of page descriptor %p that kmm does not manage", static_cast<void *>(head));
		return false;
	}
	uintptr_t addr = region->address(head);
	uint8_t state = head->state;
	bool state_ok = expect == kAllocated ? (state == kAllocated || state == kCompound) : state == expect;
	if (!state_ok) {
		if (state == kFree)
			reporter_->bug(kWho, "double free of page %#lx (pfn %#lx, order %u)",
				       static_cast<unsigned long>(addr), static_cast<unsigned long>(region->pfn(head)), order);
		else
			reporter_->bug(kWho, "free of page %#lx (pfn %#lx, order %u) that is %s, not a %s block",
				       static_cast<unsigned long>(addr), static_cast<unsigned long>(region->pfn(head)),
				       order, state_name(state), state_name(expect));
		return false;
	}
	if (order != head->order) {
		reporter_->bug(kWho, "free of page %#lx with order %u, allocated with order %u",
			       static_cast<unsigned long>(addr), order, head->order);
		return false;
	}
	return true;
}

void PageAllocator::free_locked(const Region &region, struct page *head, unsigned order)
{
	if (head->state != kAllocated && order > 0)
		set_tails(head, order, kInterior);
	buddy_free(zones_[region.zone], region, head, order);
}

bool PageAllocator::free(struct page *head, unsigned order, PageState expect)
{
	if (head == nullptr)
		return true;
	if (order > kMaxOrder) {
		reporter_->bug(kWho, "free of page %p with order %u above the maximum %u",
			       static_cast<void *>(head), order, kMaxOrder);
		reporter_->finish_bug();
		return false;
	}
	const Region *region;
	{
		LockGuard guard(lock_);
		if (check_free_locked(head, order, expect, region)) {
			free_locked(*region, head, order);
			return true;
		}
	}
	reporter_->finish_bug();
	return false;
}

bool PageAllocator::free_addr(uintptr_t addr, unsigned order)
{
	if (addr == 0)
		return true;
	const Region *r = region_of_addr(addr);
	if (r == nullptr || (addr & kPageMask) != 0) {
		reporter_->bug(kWho, "free_pages of address %#lx that is %s", static_cast<unsigned long>(addr),
			       r == nullptr ? "not managed by kmm" : "not page-aligned");
		reporter_->finish_bug();
		return false;
	}
	return free(r->page_at(addr), order);
}

/* The blocks covering [0, pages) of a block: largest aligned first. */
namespace {
template <typename Fn> void for_each_exact_block(size_t pages, Fn fn)
{
	size_t idx = 0;
	for (unsigned order = kMaxOrder + 1; order-- > 0;) {
		size_t n = size_t{1} << order;
		if (pages - idx >= n) {
			fn(idx, order);
			idx += n;
		}
	}
}
} // namespace

void *PageAllocator::alloc_exact(size_t size, gfp_t gfp)
{
	if (size == 0 || size > (kPageSize << kMaxOrder)) {
		if ((gfp & __GFP_NOWARN) == 0)
			reporter_->warn("kmm: alloc_pages_exact: size %zu not in 1…%lu", size,
					static_cast<unsigned long>(kPageSize << kMaxOrder));
		return nullptr;
	}
	unsigned order = size_to_order(size);
	size_t pages = (size + kPageMask) >> kPageShift;
	struct page *head = alloc(gfp & ~(__GFP_COMP | __GFP_ZERO), order);
	if (head == nullptr)
		return nullptr;
	const Region *region = region_of(head);
	{
		LockGuard guard(lock_);
		/* Keep [0, pages) as aligned kAllocated blocks, return the rest. */
		head->state = kInterior;
		for_each_exact_block(pages, [&](size_t idx, unsigned o) {
			head[idx].state = kAllocated;
			head[idx].order = static_cast<uint8_t>(o);
		});
		size_t tail = (size_t{1} << order) - pages;
		size_t idx = pages;
		while (tail > 0) {
			/* Largest block aligned at idx that fits in the tail. */
			unsigned o = static_cast<unsigned>(__builtin_ctzl(idx));
			while ((size_t{1} << o) > tail)
				--o;
			buddy_free(zones_[region->zone], *region, head + idx, o);
			idx += size_t{1} << o;
			tail -= size_t{1} << o;
		}
	}
	void *addr = page_address(head);
	if ((gfp & __GFP_ZERO) != 0)
		__builtin_memset(addr, 0, pages << kPageShift);
	return addr;
}

bool PageAllocator::free_exact(void *addr, size_t size)
{
	if (addr == nullptr)
		return true;
	uintptr_t a = reinterpret_cast<uintptr_t>(addr);
	const Region *r = region_of_addr(a);
	size_t pages = (size + kPageMask) >> kPageShift;
	if (r == nullptr || (a & kPageMask) != 0 || size == 0 || pages > r->nr_pages - r->index(r->page_at(a))) {
		reporter_->bug(kWho, "free_pages_exact of %#lx size %zu: %s", static_cast<unsigned long>(a), size,
			       r == nullptr ? "not managed by kmm" : (a & kPageMask) != 0 ? "not page-aligned"
											 : "size does not fit");
		reporter_->finish_bug();
		return false;
	}
	struct page *head = r->page_at(a);
	bool ok = true;
	{
		LockGuard guard(lock_);
		const Region *region;
		for_each_exact_block(pages, [&](size_t idx, unsigned o) {
			if (ok && !check_free_locked(head + idx, o, kAllocated, region))
				ok = false;
		});
		if (ok)
			for_each_exact_block(pages, [&](size_t idx, unsigned o) { free_locked(*r, head + idx, o); });
	}
	if (!ok)
		reporter_->finish_bug();
	return ok;
}

ZoneCounts PageAllocator::counts(unsigned zone) const
{
	LockGuard guard(lock_);
	ZoneCounts c;
	c.managed = zones_[zone].managed_pages;
	c.free = zones_[zone].free_pages;
	for (unsigned i = 0; i < nr_regions_; ++i) {
		if (regions_[i].zone != zone)
			continue;
		c.reserved += regions_[i].reserved_pages;
		c.memmap += regions_[i].memmap_pages;
	}
	return c;
}

ZoneCounts PageAllocator::totals() const
{
	ZoneCounts t;
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		ZoneCounts c = counts(z);
		t.managed += c.managed;
		t.free += c.free;
		t.reserved += c.reserved;
		t.memmap += c.memmap;
	}
	return t;
}

void PageAllocator::free_blocks(unsigned zone, size_t out[KMM_NR_ORDERS]) const
{
	LockGuard guard(lock_);
	for (unsigned o = 0; o <= kMaxOrder; ++o)
		out[o] = zones_[zone].free_area[o].count;
}

} // namespace kmm
