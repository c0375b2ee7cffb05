/*
 * mm/page_alloc.cpp — PageAllocator: memory-map setup, allocation policy and
 * the misuse checks of every free. The split/merge core is in buddy.h; the
 * whole-structure check and the dump are in page_check.cpp.
 *
 * Lock order (outermost first; mm/page_alloc.h says what each protects):
 * IRQs masked (the CPU-slot hold on an SMP host) -> slab registry_lock_ ->
 * kmem_cache::lock -> PerCpuPages::lock (several: CPU index order) ->
 * PageAllocator::lock_ (the zone lock, innermost).
 */
#include "page_alloc.h"

#include "format.h"
#include "sanitize.h"

namespace kmm {
namespace {

const char *const kWho = "page_alloc";

/* Zones to try, in order, for a request; terminated by KMM_NR_ZONES. */
const unsigned kFallbackDma[] = {KMM_ZONE_DMA, KMM_NR_ZONES};
const unsigned kFallbackNormal[] = {KMM_ZONE_NORMAL, KMM_ZONE_DMA, KMM_NR_ZONES};

/* What a page is, as in "... that is <state_name>, not <state_name>". */
const char *state_name(uint8_t state)
{
	switch (state) {
	case kFree: return "free";
	case kInterior: return "inside a block";
	case kAllocated: return "an allocated block";
	case kExact: return "an alloc_pages_exact block";
	case kCompound: return "a compound head";
	case kLargeKmalloc: return "a large kmalloc block";
	case kTail: return "a compound tail";
	case kSlab:
	case kSlabCpu: return "a slab block";
	case kReserved: return "reserved";
	case kPcp: return "free (per-CPU list)";
	default: return "in a corrupt state";
	}
}

/* [start, start + size) as an end address; false if empty or if it wraps
 * past the top of the address space. One that ends exactly at the top
 * ends at UINTPTR_MAX instead (2^N has no uintptr_t): for a region that
 * drops its last page, which is partial then, for a reservation its last
 * byte, which no region manages. */
bool range_end(uintptr_t start, size_t size, uintptr_t &end)
{
	if (size == 0 || size - 1 > UINTPTR_MAX - start)
		return false;
	end = size > UINTPTR_MAX - start ? UINTPTR_MAX : start + size;
	return true;
}

} // namespace

int PageAllocator::add_region(uintptr_t start, size_t size, unsigned zone)
{
	LockGuard guard(lock_);
	if (initialized_)
		return -KMM_EBUSY;
	uintptr_t end;
	if (zone >= KMM_NR_ZONES || !range_end(start, size, end))
		return -KMM_EINVAL;
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
	uintptr_t end;
	if (!range_end(start, size, end))
		return -KMM_EINVAL;
	if (nr_reserved_ == KMM_MAX_RESERVED)
		return -KMM_ENOSPC;
	reserved_[nr_reserved_++] = AddrRange{start, end};
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
		const Region &r = regions_[i];
		RegionSetup setup = region_setup(regions_[i], reserved_, nr_reserved_);
		if (setup != RegionSetup::kOk) {
			/* A region reserved whole is a contradictory map (-EINVAL),
			 * not a shortage of memory; say which it is. */
			if (setup == RegionSetup::kAllReserved)
				reporter_->warn("region %u [%#lx-%#lx): all %zu of its pages are reserved "
						"(kmm_reserve), nothing to manage", i,
						static_cast<unsigned long>(r.given.start),
						static_cast<unsigned long>(r.given.end), r.nr_pages);
			else {
				char reserved[64] = ""; /* only when the reservations are why */
				if (r.reserved_pages > 0)
					format(reserved, sizeof reserved, " beside its reserved pages (%zu of %zu reserved)",
					       r.reserved_pages, r.nr_pages);
				reporter_->warn("region %u [%#lx-%#lx) cannot hold its %zu-byte page descriptors "
						"and one page%s", i, static_cast<unsigned long>(r.given.start),
						static_cast<unsigned long>(r.given.end), r.nr_pages * sizeof(struct page),
						reserved);
			}
			for (unsigned j = 0; j < nr_regions_; ++j) {
				AddrRange given = regions_[j].given;
				unsigned zone = regions_[j].zone;
				regions_[j] = Region{};
				regions_[j].given = given;
				regions_[j].zone = zone;
			}
			return setup == RegionSetup::kAllReserved ? -KMM_EINVAL : -KMM_ENOMEM;
		}
	}
	for (auto &zone : zones_)
		zone = Zone{};
	/* Host sanitizers: memory a previous instance left poisoned is new now. */
	if constexpr (kSanitize)
		for (unsigned i = 0; i < nr_regions_; ++i)
			san_unpoison(reinterpret_cast<void *>(regions_[i].given.start),
				     regions_[i].given.end - regions_[i].given.start);
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
				if (poison_) /* kmm_page_poison(1) before init */
					poison_block(&r.pages[idx], order);
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
	for (auto &pc : pcp_)
		for (auto &per_zone : pc.lists)
			for (auto &list : per_zone)
				list = PerCpuPages::List{};
	nr_regions_ = 0;
	nr_reserved_ = 0;
	initialized_ = false;
	poison_ = false;
	pcp_orders_ = kPcpEnabled && pcp_high_ != 0 ? kPcpMaxOrder + 1 : 0;
	oom_count_ = 0;
	alloc_failures_ = 0;
	for (auto &flag : in_oom_hook_)
		flag = 0;
}

inline struct page *PageAllocator::alloc_locked(gfp_t gfp, unsigned order)
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
	/* validate() may read the tails meanwhile (a block in transit): a
	 * kTail it sees must point at head, so linking stores the links
	 * first and unlinking clears them last. Release stores (no fences:
	 * ThreadSanitizer has none): a tail state validate reads with
	 * acquire also shows it the transit_begin() before it. */
	size_t n = size_t{1} << order;
	if (tail_state == kTail) {
		for (size_t i = 1; i < n; ++i)
			__atomic_store_n(&head[i].next, head, __ATOMIC_RELAXED);
		for (size_t i = 1; i < n; ++i)
			__atomic_store_n(&head[i].state, uint8_t{kTail}, __ATOMIC_RELEASE);
	} else {
		for (size_t i = 1; i < n; ++i)
			__atomic_store_n(&head[i].state, static_cast<uint8_t>(tail_state), __ATOMIC_RELEASE);
		for (size_t i = 1; i < n; ++i)
			__atomic_store_n(&head[i].next, static_cast<struct page *>(nullptr), __ATOMIC_RELEASE);
	}
}

/* ---- page poisoning (set_poison) ---- */

void PageAllocator::poison_block(const struct page *head, unsigned order)
{
	__builtin_memset(page_address(head), kPagePoisonByte, kPageSize << order);
}

/* A block leaving the free lists: report a byte that is not the poison,
 * restore the pattern (a write after free, now harmless) and go on. */
__attribute__((noinline, cold)) void PageAllocator::check_poison(struct page *head, unsigned order)
{
	const uint8_t *b = static_cast<const uint8_t *>(page_address(head));
	size_t n = kPageSize << order;
	size_t first = 0;
	while (first < n && b[first] == kPagePoisonByte)
		++first;
	if (first == n)
		return;
	size_t last = n - 1;
	while (b[last] == kPagePoisonByte)
		--last;
	const Region *r = region_of(head);
	reporter_->bug(kWho, "Poison overwritten");
	reporter_->detail("%p-%p @offset=%zu in free block %p (pfn %#lx, order %u). First byte 0x%x instead of 0x%x",
			  static_cast<const void *>(b + first), static_cast<const void *>(b + last), first,
			  static_cast<const void *>(b), static_cast<unsigned long>(r != nullptr ? r->pfn(head) : 0),
			  order, b[first], kPagePoisonByte);
	reporter_->detail("FIX page_alloc: Restoring poison %p-%p=0x%x", static_cast<const void *>(b + first),
			  static_cast<const void *>(b + last), kPagePoisonByte);
	poison_block(head, order);
	reporter_->finish_bug();
}

void PageAllocator::set_poison(bool on)
{
	if (on == poison_)
		return;
	if (!on) {
		poison_ = false;
		pcp_orders_ = kPcpEnabled && pcp_high_ != 0 ? kPcpMaxOrder + 1 : 0;
		return;
	}
	pcp_orders_ = 0; /* every call takes the general path */
	drain_pcp();
	LockGuard guard(lock_);
	for (const Zone &zone : zones_)
		for (unsigned o = 0; o <= kMaxOrder; ++o)
			for (const struct page *p = zone.free_area[o].head; p != nullptr; p = p->next)
				poison_block(p, o);
	poison_ = true;
}

/* Tails and zeroing, outside the lock. */
inline struct page *PageAllocator::finish_alloc(struct page *p, gfp_t gfp, unsigned order, PageState head_state)
{
	if (__builtin_expect(poison_, 0))
		check_poison(p, order);
	if (has_tails(head_state, order)) {
		set_tails(p, order, kTail);
		transit_end(); /* begun where the head took head_state */
	}
	if ((gfp & __GFP_ZERO) != 0)
		__builtin_memset(page_address(p), 0, kPageSize << order);
	return p;
}

__attribute__((noinline, cold)) void PageAllocator::report_bad_alloc(gfp_t gfp, unsigned order, const char *who)
{
	reporter_->bug(kWho, "%s: invalid %s (order %u, gfp %#x; max order %u)", who,
		       order > kMaxOrder ? "order" : "gfp flags", order, gfp, kMaxOrder);
	reporter_->finish_bug();
}

/* Bad arguments, or no block in the request's own zone: zone fallback,
 * then memory pressure. A Normal request takes DMA memory only when Normal
 * memory is exhausted (gfp.h), so every CPU's Normal per-CPU lists go back
 * before it tries Normal, then DMA, again. Then each step may free memory
 * and is followed by a retry: all per-CPU lists, the cache layer's reclaim
 * hook, the OOM hook (then the reclaim hook again: the OOM hook may have
 * freed slab objects); NULL after that. */
template <bool kInjected>
__attribute__((noinline, cold)) struct page *PageAllocator::alloc_slow(gfp_t gfp, unsigned order,
									PageState head_state)
{
	/* Misuse, not a failed allocation: reported even under __GFP_NOWARN,
	 * which only silences the out-of-memory warning below (as Linux's
	 * kmalloc_fix_flags and kmm's slab layer warn whatever the flags). */
	if (!alloc_args_ok(gfp, order)) {
		report_bad_alloc(gfp, order, "alloc_pages");
		return nullptr;
	}
	/* Each try drains the per-CPU lists of `zone` (KMM_NR_ZONES: all of
	 * them) on every CPU, then takes a block by zone fallback. */
	auto retry = [&](unsigned zone) {
		if (pcp_high_ != 0)
			drain_pcp(zone);
		if (kInjected) /* fault_inject.h: as if nothing were free */
			return static_cast<struct page *>(nullptr);
		LockGuard guard(lock_);
		struct page *q = alloc_locked(gfp, order);
		if (q != nullptr) {
			set_page_state(q, static_cast<uint8_t>(head_state));
			if (has_tails(head_state, order))
				transit_begin();
		}
		return q;
	};
	/* Zone fallback: Normal's parked pages before any DMA page. Other
	 * CPUs may park Normal pages again meanwhile; not worth a lock. */
	struct page *p = (gfp & __GFP_DMA) == 0 ? retry(KMM_ZONE_NORMAL) : nullptr;
	/* Memory pressure: each step may free memory (into the per-CPU lists
	 * too), then the per-CPU lists go back and the allocation retries. */
	if (p == nullptr && pcp_high_ != 0)
		p = retry(KMM_NR_ZONES);
	const bool may_retry = (gfp & __GFP_NORETRY) == 0;
	if (p == nullptr && may_retry && reclaim_hook_ != nullptr) {
		/* what the slab layer caches: magazines, CPU and per-CPU partial
		 * slabs, empty slabs */
		reclaim_hook_(reclaim_ctx_); /* no lock held */
		p = retry(KMM_NR_ZONES);
	}
	/* Not inside the hook on this CPU: an allocation the hook makes (or an
	 * interrupt taken meanwhile) fails here instead of recursing. */
	uint8_t &in_hook = in_oom_hook_[this_cpu()];
	if (p == nullptr && may_retry && oom_hook_ != nullptr && __atomic_load_n(&in_hook, __ATOMIC_RELAXED) == 0) {
		__atomic_fetch_add(&oom_count_, 1ul, __ATOMIC_RELAXED);
		__atomic_store_n(&in_hook, uint8_t{1}, __ATOMIC_RELAXED);
		oom_hook_(oom_ctx_, gfp, order); /* may free memory; no lock held */
		__atomic_store_n(&in_hook, uint8_t{0}, __ATOMIC_RELAXED);
		/* What the hook freed may be slab objects (a driver dropping
		 * its cached buffers): they land in magazines and on empty
		 * slabs, not in the buddy lists. The caches give them back
		 * first, so the retry sees them as pages. */
		if (reclaim_hook_ != nullptr)
			reclaim_hook_(reclaim_ctx_);
		p = retry(KMM_NR_ZONES);
	}
	if (p == nullptr) {
		__atomic_fetch_add(&alloc_failures_, 1ul, __ATOMIC_RELAXED);
		if ((gfp & __GFP_NOWARN) == 0)
			reporter_->warn("page allocation failure: order:%u, mode:%#x", order, gfp);
		return nullptr;
	}
	return finish_alloc(p, gfp, order, head_state);
}

template struct page *PageAllocator::alloc_slow<false>(gfp_t, unsigned, PageState);
#if KMM_FAULT_INJECT
template struct page *PageAllocator::alloc_slow<true>(gfp_t, unsigned, PageState);
#endif

/* An empty per-CPU list: take a batch from the zone (no fallback here; the
 * caller's general path falls back across zones). Called with the per-CPU
 * lock held; returns one block (kAllocated) or NULL. */
__attribute__((noinline)) struct page *PageAllocator::pcp_refill(PerCpuPages::List &list, unsigned zone,
								   unsigned order)
{
	uint32_t batch = pcp_high(order) / 2 > 0 ? pcp_high(order) / 2 : 1u;
	struct page *first = nullptr;
	{
		LockGuard guard(lock_);
		first = buddy_alloc(zones_[zone], order);
		if (first == nullptr)
			return nullptr;
		for (uint32_t i = 1; i < batch; ++i) {
			struct page *p = buddy_alloc(zones_[zone], order);
			if (p == nullptr)
				break;
			set_page_state(p, kPcp);
			p->next = list.head;
			list.head = p;
			++list.count;
		}
	}
	return first;
}

/* Gives blocks of a per-CPU list back to the buddy lists until `keep`
 * remain. Called with the per-CPU lock held. */
__attribute__((noinline)) void PageAllocator::pcp_drain_locked(PerCpuPages::List &list, unsigned order,
								 uint32_t keep)
{
	LockGuard guard(lock_);
	while (list.count > keep) {
		struct page *p = list.head;
		list.head = p->next;
		--list.count;
		p->next = nullptr;
		const Region *region = region_of(p);
		buddy_free(zones_[region->zone], *region, p, order);
	}
}

void PageAllocator::drain_pcp(unsigned zone)
{
	if (!kPcpEnabled)
		return;
	for (auto &pc : pcp_) {
		unsigned long flags = pc.lock.lock();
		for (unsigned z = 0; z < KMM_NR_ZONES; ++z)
			if (zone == KMM_NR_ZONES || z == zone)
				for (unsigned o = 0; o <= kPcpMaxOrder; ++o)
					if (pc.lists[z][o].count > 0)
						pcp_drain_locked(pc.lists[z][o], o, 0);
		pc.lock.unlock(flags);
	}
}

__attribute__((noinline)) struct page *PageAllocator::alloc_general(gfp_t gfp, unsigned order,
								    PageState head_state)
{
	if (__builtin_expect(order > kMaxOrder || (gfp & ~KMM_GFP_VALID_MASK) != 0, 0))
		return alloc_slow(gfp, order, head_state);
	const unsigned zone = (gfp & __GFP_DMA) != 0 ? KMM_ZONE_DMA : KMM_ZONE_NORMAL;
	if (__builtin_expect(pcp_on(order), 1)) {
		struct page *p = pcp_take(zone, order, head_state, true);
		if (__builtin_expect(p != nullptr, 1))
			return finish_alloc(p, gfp, order, head_state);
	}
	struct page *p;
	{
		/* The request's own zone; the fallback to DMA is alloc_slow's. */
		LockGuard guard(lock_);
		p = buddy_alloc(zones_[zone], order);
		if (__builtin_expect(p != nullptr, 1)) {
			set_page_state(p, static_cast<uint8_t>(head_state));
			if (has_tails(head_state, order))
				transit_begin();
		}
	}
	if (__builtin_expect(p == nullptr, 0))
		return alloc_slow(gfp, order, head_state);
	return finish_alloc(p, gfp, order, head_state);
}

inline bool PageAllocator::free_ok(const struct page *head, unsigned order, PageState expect,
					  const Region *&region) const
{
	region = region_of(head);
	if (region == nullptr || (reinterpret_cast<uintptr_t>(head) - reinterpret_cast<uintptr_t>(region->pages)) %
					 sizeof(struct page) != 0)
		return false;
	uint8_t state = page_state(head);
	bool state_ok = expect == kAllocated ? (state == kAllocated || state == kCompound) : state == expect;
	return state_ok && order == head->order;
}

/* A report of free_exact's begins with the call and its arguments (one
 * of its blocks and that block's order are not what the caller passed). */
void PageAllocator::exact_context(char (&out)[kExactContextLen], uintptr_t addr, size_t size)
{
	format(out, sizeof out, "free_pages_exact of %#lx size %zu: ", static_cast<unsigned long>(addr), size);
}

/* exact_size != 0: a block of free_pages_exact(exact_addr, exact_size),
 * whose reports name that call (exact_context). */
__attribute__((noinline)) bool PageAllocator::check_free_locked(struct page *head, unsigned order,
								 PageState expect, const Region *&region,
								 uintptr_t exact_addr, size_t exact_size)
{
	char context[kExactContextLen] = ""; /* formatted on the report paths only */
	if (exact_size != 0 && !free_ok(head, order, expect, region))
		exact_context(context, exact_addr, exact_size);
	region = region_of(head);
	if (region == nullptr || (reinterpret_cast<uintptr_t>(head) - reinterpret_cast<uintptr_t>(region->pages))
				% sizeof(struct page) != 0) {
		reporter_->bug(kWho, "%sfree of page descriptor %p that kmm does not manage", context,
			       static_cast<void *>(head));
		return false;
	}
	uintptr_t addr = region->address(head);
	uint8_t state = page_state(head);
	/* expect == kExact (free_exact): a plain kAllocated block passes here
	 * and fails free_exact's mark check ("size does not match"). */
	bool state_ok = expect == kAllocated ? (state == kAllocated || state == kCompound)
			: expect == kExact   ? (state == kExact || state == kAllocated)
					     : state == expect;
	if (!state_ok) {
		if (state == kFree || state == kPcp)
			reporter_->bug(kWho, "%sdouble free of page %#lx (pfn %#lx, order %u)", context,
				       static_cast<unsigned long>(addr), static_cast<unsigned long>(region->pfn(head)), order);
		else if (state == kExact)
			reporter_->bug(kWho, "%sfree of page %#lx (pfn %#lx, order %u) that belongs to alloc_pages_exact: "
					     "use free_pages_exact",
				       context, static_cast<unsigned long>(addr), static_cast<unsigned long>(region->pfn(head)), order);
		else
			reporter_->bug(kWho, "%sfree of page %#lx (pfn %#lx, order %u) that is %s, not %s", context,
				       static_cast<unsigned long>(addr), static_cast<unsigned long>(region->pfn(head)),
				       order, state_name(state), state_name(expect));
		return false;
	}
	if (order != head->order) {
		reporter_->bug(kWho, "%sfree of page %#lx with order %u, allocated with order %u", context,
			       static_cast<unsigned long>(addr), order, head->order);
		return false;
	}
	return true;
}

__attribute__((noinline)) bool PageAllocator::free_general(struct page *head, unsigned order, PageState expect)
{
	if (head == nullptr)
		return true;
	if (order > kMaxOrder) {
		const Region *r = region_of(head);
		if (r != nullptr)
			reporter_->bug(kWho, "free of page %#lx with order %u above the maximum %u",
				       static_cast<unsigned long>(r->address(head)), order, kMaxOrder);
		else
			reporter_->bug(kWho, "free of page descriptor %p with order %u above the maximum %u",
				       static_cast<void *>(head), order, kMaxOrder);
		reporter_->finish_bug();
		return false;
	}
	const Region *region;
	/* The checks need no lock: a block being freed correctly belongs to
	 * the caller, and the memory map is fixed after init. */
	if (__builtin_expect(pcp_on(order), 1) && __builtin_expect(free_ok(head, order, expect, region), 1)) {
		if (has_tails(page_state(head), order)) {
			transit_begin();
			set_tails(head, order, kInterior);
			pcp_give(head, order, *region);
			transit_end();
			return true;
		}
		pcp_give(head, order, *region);
		return true;
	}
	/* The general path: the checks under the zone lock, which claims the
	 * block (head -> kInterior: of two racing frees of one block, a double
	 * free on two CPUs, the second is reported); then poisoning and
	 * unlinking compound tails, both O(pages), outside it; then the lock
	 * again for the merge only. */
	uint8_t state = 0;
	bool claimed = false;
	{
		LockGuard guard(lock_);
		if (__builtin_expect(free_ok(head, order, expect, region), 1)) {
			state = page_state(head);
			set_page_state(head, kInterior);
			transit_begin();
			claimed = true;
		} else {
			check_free_locked(head, order, expect, region); /* reports why */
		}
	}
	if (__builtin_expect(claimed, 1)) {
		if (__builtin_expect(poison_, 0))
			poison_block(head, order);
		if (has_tails(state, order))
			set_tails(head, order, kInterior);
		LockGuard guard(lock_);
		buddy_free(zones_[region->zone], *region, head, order);
		transit_end();
		return true;
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
			reporter_->warn("alloc_pages_exact: size %zu not in 1…%lu", size,
					static_cast<unsigned long>(kPageSize << kMaxOrder));
		return nullptr;
	}
	if ((gfp & ~KMM_GFP_VALID_MASK) != 0) { /* as alloc() would, but naming this call and its size */
		reporter_->bug(kWho, "alloc_pages_exact: invalid gfp flags %#x (size %zu)", gfp, size);
		reporter_->finish_bug();
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
		/* Keep [0, pages) as aligned kExact blocks, return the rest.
		 * kExact: only free_exact frees them (free() refuses the state,
		 * its inline fast path included). Each kept block's next points
		 * at the first one: free_exact checks its size against these
		 * marks (a block from alloc() has next == NULL, as
		 * PageList::remove leaves it). */
		set_page_state(head, kInterior);
		for_each_exact_block(pages, [&](size_t idx, unsigned o) {
			set_page_state(&head[idx], kExact);
			head[idx].order = static_cast<uint8_t>(o);
			head[idx].next = head;
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
	size_t pages = (size >> kPageShift) + ((size & kPageMask) != 0 ? 1 : 0);
	if (r == nullptr || (a & kPageMask) != 0 || size == 0 || pages > (size_t{1} << kMaxOrder) ||
	    pages > r->nr_pages - r->index(r->page_at(a))) {
		reporter_->bug(kWho, "free_pages_exact of %#lx size %zu: %s", static_cast<unsigned long>(a), size,
			       r == nullptr ? "not managed by kmm" : (a & kPageMask) != 0 ? "not page-aligned"
											 : "size does not fit");
		reporter_->finish_bug();
		return false;
	}
	struct page *head = r->page_at(a);
	bool ok = true;
	char context[kExactContextLen]; /* the reports below */
	{
		LockGuard guard(lock_);
		const Region *region;
		uint8_t state = page_state(head);
		if (state == kAllocated || state == kCompound) {
			/* check_free_locked takes a kAllocated block for a block
			 * past the allocation's end ("size does not match"); at its
			 * start it is a block from alloc_pages */
			exact_context(context, a, size);
			reporter_->bug(kWho, "%spage %#lx (pfn %#lx, order %u) belongs to alloc_pages: use free_pages or "
					     "__free_pages", context, static_cast<unsigned long>(a),
				       static_cast<unsigned long>(r->pfn(head)), head->order);
			ok = false;
		}
		for_each_exact_block(pages, [&](size_t idx, unsigned o) {
			if (ok && !check_free_locked(head + idx, o, kExact, region, a, size))
				ok = false;
		});
		/* The blocks must be exactly those alloc_exact marked: all of
		 * [0, pages) and nothing after it. */
		bool marks_ok = true;
		for_each_exact_block(pages, [&](size_t idx, unsigned) {
			if (head[idx].next != head)
				marks_ok = false;
		});
		size_t after = r->index(head) + pages;
		if (after < r->nr_pages && page_state(&r->pages[after]) == kExact && r->pages[after].next == head)
			marks_ok = false;
		if (ok && !marks_ok) {
			exact_context(context, a, size);
			reporter_->bug(kWho, "%ssize does not match the allocation", context);
			ok = false;
		}
		if (ok) /* claimed, as free_general does: a second free_pages_exact meanwhile is refused */
			for_each_exact_block(pages, [&](size_t idx, unsigned) {
				set_page_state(head + idx, kInterior);
				transit_begin();
			});
	}
	if (!ok) {
		reporter_->finish_bug();
		return false;
	}
	if (__builtin_expect(poison_, 0)) /* O(pages): outside the lock */
		for_each_exact_block(pages, [&](size_t idx, unsigned o) { poison_block(head + idx, o); });
	LockGuard guard(lock_);
	for_each_exact_block(pages, [&](size_t idx, unsigned o) {
		buddy_free(zones_[r->zone], *r, head + idx, o);
		transit_end();
	});
	return true;
}

ZoneCounts PageAllocator::counts_locked(unsigned zone) const
{
	ZoneCounts c;
	for (const auto &pc : pcp_)
		for (unsigned o = 0; o <= kPcpMaxOrder; ++o)
			c.pcp += size_t{pc.lists[zone][o].count} << o;
	c.managed = zones_[zone].managed_pages;
	c.free = zones_[zone].free_pages + c.pcp;
	for (unsigned i = 0; i < nr_regions_; ++i) {
		if (regions_[i].zone != zone)
			continue;
		c.reserved += regions_[i].reserved_pages;
		c.memmap += regions_[i].memmap_pages;
	}
	return c;
}

ZoneCounts PageAllocator::counts(unsigned zone) const
{
	return all_locked([&] { return counts_locked(zone); });
}

ZoneCounts PageAllocator::totals() const
{
	return all_locked([&] {
		ZoneCounts t;
		for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
			ZoneCounts c = counts_locked(z);
			t.managed += c.managed;
			t.free += c.free;
			t.reserved += c.reserved;
			t.memmap += c.memmap;
			t.pcp += c.pcp;
		}
		return t;
	});
}

void PageAllocator::free_blocks(unsigned zone, size_t out[KMM_NR_ORDERS]) const
{
	LockGuard guard(lock_);
	for (unsigned o = 0; o <= kMaxOrder; ++o)
		out[o] = zones_[zone].free_area[o].count;
}

} // namespace kmm
