/*
 * mm/page_alloc.h — PageAllocator: one instance owns a memory map (regions,
 * reserved ranges), its zones' buddy lists and the policy around them: gfp
 * flags, zone fallback, the OOM hook, exact and compound allocations,
 * misuse checks, validate() and buddyinfo.
 *
 * Lock order of kmm (outermost first; a lock is never taken while a later
 * one is held; the same list heads mm/slub.cpp and mm/page_alloc.cpp):
 *   1. IRQs masked on the local CPU (on an SMP host build: the thread's
 *      CPU-slot hold, arch_host.cpp);
 *   2. SlabAllocator::registry_lock_ — the cache table (slab_common.cpp);
 *   3. kmem_cache::lock — one cache's slab lists (mm/slub.cpp);
 *   4. PerCpuPages::lock — one per CPU; protects that CPU's page lists.
 *      validate() takes all of them, in CPU index order, then 5;
 *   5. PageAllocator::lock_ — the zone lock, innermost; protects zones_
 *      and every struct page of a buddy-free block.
 * 2 to 5 are held with IRQs masked. The zone lock is held for O(kMaxOrder)
 * steps per block (a pcp refill/drain moves a batch of blocks); zeroing and
 * compound-tail linking run outside every lock.
 *
 * Per-CPU page lists (pcp): orders 0 … kPcpMaxOrder are allocated from and
 * freed to a per-CPU, per-zone LIFO list (pages in state kPcp, linked
 * through page::next) under only the per-CPU lock; a list over its high mark
 * gives back a batch, an empty one is refilled with a batch. On a
 * uniprocessor target the per-CPU lock is just IRQ masking. Pages on pcp
 * lists count as free; drain_pcp() returns them all (memory pressure,
 * kmm_drain_pages, tests that compare buddy states).
 *
 * Zone fallback: GFP_DMA -> {DMA}; everything else -> {Normal, DMA}, DMA
 * only once Normal is exhausted: before a Normal request falls back, every
 * CPU's Normal per-CPU lists go back to the buddy lists and Normal is tried
 * again (alloc_slow).
 *
 * Instances are independent: tests build private ones over their own
 * buffers; the C facade (page_alloc_api.cpp) owns the global one.
 */
#ifndef KMM_MM_PAGE_ALLOC_H
#define KMM_MM_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <arch/cpu.h>
#include <kmm/gfp.h>
#include <kmm/report.h>

#include "buddy.h"
#include "fault_inject.h"
#include "page.h"
#include "region.h"
#include "reporter.h"
#include "spinlock.h"

namespace kmm {

/* Free pages hold this when page poisoning is on (Linux PAGE_POISON). */
inline constexpr uint8_t kPagePoisonByte = 0xaa;

struct ZoneCounts {
	size_t managed = 0, free = 0, reserved = 0, memmap = 0;
	size_t pcp = 0; /* of `free`, pages parked on per-CPU lists */
};

inline constexpr unsigned kPcpMaxOrder = KMM_PCP_HIGH > 0 ? (KMM_PCP_MAX_ORDER < KMM_MAX_ORDER ? KMM_PCP_MAX_ORDER : KMM_MAX_ORDER) : 0;
inline constexpr bool kPcpEnabled = KMM_PCP_HIGH > 0;

/* One CPU's page lists, [zone][order]. */
struct PerCpuPages {
	struct List {
		struct page *head = nullptr;
		uint32_t count = 0;
	};
	SpinLock lock;
	List lists[KMM_NR_ZONES][kPcpMaxOrder + 1];
};

/* A block whose head is in head_state has compound tails (kTail -> head)
 * to link on allocation and unlink on free, outside the locks. */
inline bool has_tails(uint8_t head_state, unsigned order) { return head_state != kAllocated && order > 0; }

class PageAllocator {
public:
	/* pcp_high: the per-CPU page lists' high mark for order 0 (order o
	 * holds max(1, pcp_high >> o)); 0 = no per-CPU lists, every call goes
	 * to the buddy lists (white-box tests of the buddy core use that). */
	constexpr explicit PageAllocator(Reporter *reporter, uint32_t pcp_high = KMM_PCP_HIGH)
		: reporter_(reporter), pcp_high_(kPcpEnabled ? pcp_high : 0),
		  pcp_orders_(kPcpEnabled && pcp_high != 0 ? kPcpMaxOrder + 1 : 0)
	{
		for (unsigned o = 0; o <= kPcpMaxOrder; ++o)
			pcp_high_by_order_[o] = (pcp_high_ >> o) > 0 ? (pcp_high_ >> o) : 1u;
	}
	uint32_t pcp_high() const { return pcp_high_; }

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
	inline struct page *alloc(gfp_t gfp, unsigned order, PageState head_state = kAllocated);
	/* Frees a block whose head has state `expect` (or kAllocated/kCompound
	 * when expect == kAllocated, the public __free_pages). Misuse is
	 * reported and refused; returns false then. */
	inline bool free(struct page *head, unsigned order, PageState expect = kAllocated);
	/* free() for a block its caller owns and knows to be well formed (the
	 * slab layer giving back a slab whose head it set to `state`): the
	 * same per-CPU push, without free()'s misuse tests. */
	inline void free_owned(struct page *head, unsigned order, PageState state);
	/* free_owned's common case split in two, for a caller that must know
	 * before it commits (the slab layer's one-step release on one CPU):
	 * owned_fast() says whether free_owned would take the per-CPU push
	 * (region 0, an order with a per-CPU list), give_owned_masked() does
	 * that push, draining past the high mark as free_owned does — on one
	 * CPU with IRQs masked already, where the per-CPU lock is only that
	 * mask. */
	inline bool owned_fast(const struct page *head, unsigned order, PageState state) const;
	void give_owned_masked(struct page *head, unsigned order)
	{
		if constexpr (kSpinLockIsReal) /* a real lock: SMP builds, and the host */
			pcp_give(head, order, regions_[0]);
		else
			pcp_push_locked(pcp_[0], head, order, regions_[0]);
	}
	/* alloc()'s argument check, which it makes on its slow path only, for
	 * a facade call that reports bad arguments as itself
	 * (__get_free_pages); report_bad_alloc reports them as `who`. */
	static bool alloc_args_ok(gfp_t gfp, unsigned order)
	{
		return order <= kMaxOrder && (gfp & ~KMM_GFP_VALID_MASK) == 0;
	}
	void report_bad_alloc(gfp_t gfp, unsigned order, const char *who);
	/* free_pages(addr, order): checks that addr is a managed page start. */
	bool free_addr(uintptr_t addr, unsigned order);
	/* alloc_exact keeps ceil(size / page) pages as aligned kExact blocks
	 * whose page::next points at the first page; free_exact refuses a
	 * size whose blocks do not match those marks exactly, and free() /
	 * free_addr() refuse a kExact block (its state is not one they
	 * expect, so the inline fast path never takes it). */
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
	/* The cache layer above (SlabAllocator::init registers its reclaim):
	 * run when an allocation finds no block even after draining the
	 * per-CPU lists, before the OOM hook, then one retry; and after the
	 * OOM hook (which may free slab objects) before its retry; not for
	 * __GFP_NORETRY. Called with no kmm lock held, in the caller's context
	 * (IRQ-safe, like the OOM hook's caller). NULL: none. The registrant
	 * must outlive every later allocation or unregister. */
	void set_reclaim_hook(void (*fn)(void *ctx), void *ctx)
	{
		reclaim_hook_ = fn;
		reclaim_ctx_ = ctx;
	}
	bool reclaim_hook_is(const void *ctx) const { return reclaim_hook_ != nullptr && reclaim_ctx_ == ctx; }
	/* Test builds (KMM_FAULT_INJECT=1): which requests fail (fault_inject.h). */
	FaultInjector<kFaultInject> &fault() { return fault_; }
	unsigned long oom_count() const { return __atomic_load_n(&oom_count_, __ATOMIC_RELAXED); }
	unsigned long alloc_failures() const { return __atomic_load_n(&alloc_failures_, __ATOMIC_RELAXED); }
	Reporter &reporter() const { return *reporter_; }
	/* One zone's, and every zone's, page counts: each a consistent
	 * snapshot (every per-CPU lock, then the zone lock, held while it is
	 * read), so free never exceeds managed even while other CPUs or an
	 * IRQ move pages between the lists. IRQs masked for O(CPUs * orders). */
	ZoneCounts counts(unsigned zone) const;
	ZoneCounts totals() const;
	/* Free blocks per order in a zone (a snapshot taken under the lock). */
	void free_blocks(unsigned zone, size_t out[KMM_NR_ORDERS]) const;
	unsigned nr_regions() const { return nr_regions_; }
	const Region &region(unsigned i) const { return regions_[i]; }

	/* Returns every page on every CPU's page lists (those of `zone`, or
	 * of every zone for KMM_NR_ZONES) to the buddy lists. */
	void drain_pcp(unsigned zone = KMM_NR_ZONES);

	/* Page poisoning (debug; docs/DEBUGGING.md): every free page holds
	 * kPagePoisonByte, checked when the page is allocated ("BUG page_alloc:
	 * Poison overwritten", pattern restored). Switching it on drains the
	 * per-CPU lists, fills every free block and sends every call through
	 * the general path (per-CPU order limit 0), so the inline fast paths
	 * stay as they are. Call at boot, with no concurrent page calls. */
	void set_poison(bool on);
	bool poison() const { return poison_; }

	/* Walks every free list and descriptor; returns the number of problems
	 * (each also described on the reporter as a detail line). */
	unsigned long validate() const;
	unsigned long validate_locked() const; /* every lock held (all_locked) */
	void buddyinfo(kmm_sink_fn sink, void *ctx) const;

private:
	friend struct PageAllocatorPeer; /* white-box tests: corruption injection */

	/* counts() of one zone with every lock held (all_locked). */
	ZoneCounts counts_locked(unsigned zone) const;
	/* fn() with every per-CPU lock (in CPU order) and then the zone lock
	 * held: the lock order of this file's head. */
	template <typename Fn> auto all_locked(Fn fn) const
	{
		unsigned long pcp_flags[KMM_NR_CPUS];
		for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu)
			pcp_flags[cpu] = const_cast<SpinLock &>(pcp_[cpu].lock).lock();
		auto result = [&] {
			LockGuard guard(lock_);
			return fn();
		}();
		for (unsigned cpu = KMM_NR_CPUS; cpu-- > 0;)
			const_cast<SpinLock &>(pcp_[cpu].lock).unlock(pcp_flags[cpu]);
		return result;
	}

	/* Everything but the per-CPU list hit of alloc()/free(): other orders
	 * and flags, refills, other regions, compound tails, misuse, OOM. */
	struct page *alloc_general(gfp_t gfp, unsigned order, PageState head_state);
	bool free_general(struct page *head, unsigned order, PageState expect);
	struct page *alloc_locked(gfp_t gfp, unsigned order);
	/* kInjected (test builds only): a request fault_ fails; every retry
	 * finds nothing. A template argument, so the default build's code
	 * has no trace of it. */
	template <bool kInjected = false> struct page *alloc_slow(gfp_t gfp, unsigned order, PageState head_state);
	struct page *finish_alloc(struct page *p, gfp_t gfp, unsigned order, PageState head_state);
	/* The free checks: free_ok is the inline, lock-free test of the fast
	 * path; check_free_locked reports what is wrong (slow path). */
	bool free_ok(const struct page *head, unsigned order, PageState expect, const Region *&region) const;
	bool check_free_locked(struct page *head, unsigned order, PageState expect, const Region *&region,
			       uintptr_t exact_addr = 0, size_t exact_size = 0);
	static constexpr size_t kExactContextLen = 72;
	static void exact_context(char (&out)[kExactContextLen], uintptr_t addr, size_t size);
	void set_tails(struct page *head, unsigned order, PageState tail_state);
	void poison_block(const struct page *head, unsigned order);
	void check_poison(struct page *head, unsigned order);
	inline struct page *pcp_take(unsigned zone, unsigned order, PageState head_state, bool refill);
	struct page *pcp_refill(PerCpuPages::List &list, unsigned zone, unsigned order);
	void pcp_drain_locked(PerCpuPages::List &list, unsigned order, uint32_t keep);
	static unsigned this_cpu() { return KMM_NR_CPUS == 1 ? 0u : arch::cpu_id(); }
	uint32_t pcp_high(unsigned order) const { return pcp_high_by_order_[order]; }
	bool pcp_on(unsigned order) const { return order < pcp_orders_; }
	inline void pcp_give(struct page *head, unsigned order, const Region &r);
	inline void pcp_push_locked(PerCpuPages &pc, struct page *head, unsigned order, const Region &r);

	mutable SpinLock lock_;
	Reporter *reporter_;
	uint32_t pcp_high_;
	unsigned pcp_orders_; /* orders below this use the per-CPU lists */
	uint32_t pcp_high_by_order_[kPcpMaxOrder + 1] = {};
	Region regions_[KMM_MAX_REGIONS];
	unsigned nr_regions_ = 0;
	AddrRange reserved_[KMM_MAX_RESERVED];
	unsigned nr_reserved_ = 0;
	Zone zones_[KMM_NR_ZONES];
	PerCpuPages pcp_[KMM_NR_CPUS];
	bool initialized_ = false;
	bool poison_ = false;
	kmm_oom_fn oom_hook_ = nullptr;
	void *oom_ctx_ = nullptr;
	uint8_t in_oom_hook_[KMM_NR_CPUS] = {}; /* per CPU: the OOM hook is running */
	void (*reclaim_hook_)(void *ctx) = nullptr;
	void *reclaim_ctx_ = nullptr;
	unsigned long oom_count_ = 0;
	unsigned long alloc_failures_ = 0;
	[[no_unique_address]] FaultInjector<kFaultInject> fault_;
	/* Blocks in transit: between the step of an alloc or free that
	 * changed the head under a lock and the work it does outside the
	 * locks (linking or unlinking compound tails, poisoning), a block's
	 * pages are half-way between two valid shapes. Each such operation
	 * counts itself begun (under the lock of its first step, or before
	 * its first store outside one) and ended (after its last store), so
	 * validate() can tell a block in transit from a corrupt one: it
	 * accepts at most begun - ended half-way blocks (page_check.cpp). */
	unsigned long transit_begun_ = 0;
	unsigned long transit_ended_ = 0;
	/* (validate() sees the count through the lock it shares with the
	 * step that begins, or through set_tails' release stores) */
	void transit_begin(unsigned long n = 1) { __atomic_fetch_add(&transit_begun_, n, __ATOMIC_RELAXED); }
	void transit_end(unsigned long n = 1) { __atomic_fetch_add(&transit_ended_, n, __ATOMIC_RELEASE); }
};

/* ---- the fast paths: a per-CPU list pop or push, everything else out of
 * line (mimalloc style). Flags that need work (zeroing) and compound blocks
 * of order > 0 (tails) take the general path. */

inline struct page *PageAllocator::alloc(gfp_t gfp, unsigned order, PageState head_state)
{
	constexpr gfp_t kFastGfp = __GFP_DMA | __GFP_ATOMIC | __GFP_NOWARN | __GFP_NORETRY | __GFP_COMP;
	if constexpr (kFaultInject) /* test builds only: nothing when off */
		if (fault_.should_fail())
			return alloc_slow<true>(gfp, order, head_state);
	if (__builtin_expect(pcp_on(order) && (gfp & ~kFastGfp) == 0 && (order == 0 || head_state == kAllocated), 1)) {
		struct page *p =
			pcp_take((gfp & __GFP_DMA) != 0 ? KMM_ZONE_DMA : KMM_ZONE_NORMAL, order, head_state, false);
		if (__builtin_expect(p != nullptr, 1))
			return p;
	}
	return alloc_general(gfp, order, head_state);
}

/* Pops a block off this CPU's list for (zone, order); on an empty list,
 * refills it from the zone when `refill` (the general path) or gives up
 * (the fast path). The block leaves the list in head_state with next ==
 * NULL, both set under the per-CPU lock: a validate() holding every lock
 * never sees a kPcp block that is on no list. */
inline struct page *PageAllocator::pcp_take(unsigned zone, unsigned order, PageState head_state, bool refill)
{
	PerCpuPages &pc = pcp_[this_cpu()];
	unsigned long flags = pc.lock.lock();
	PerCpuPages::List &list = pc.lists[zone][order];
	struct page *p = list.head;
	if (__builtin_expect(p != nullptr, 1)) {
		list.head = p->next;
		--list.count;
	} else if (refill) {
		p = pcp_refill(list, zone, order);
	}
	if (p != nullptr) {
		p->next = nullptr;
		set_page_state(p, static_cast<uint8_t>(head_state));
		if (has_tails(head_state, order))
			transit_begin(); /* its tails: finish_alloc */
	}
	pc.lock.unlock(flags);
	return p;
}

/* Pushes head (a block of order `order` in region r's zone) onto this
 * CPU's list, draining half of it past the high mark. */
__attribute__((always_inline)) inline void PageAllocator::pcp_give(struct page *head, unsigned order, const Region &r)
{
	PerCpuPages &pc = pcp_[this_cpu()];
	unsigned long flags = pc.lock.lock();
	pcp_push_locked(pc, head, order, r);
	pc.lock.unlock(flags);
}

/* pcp_give's push, pc's lock held. */
__attribute__((always_inline)) inline void PageAllocator::pcp_push_locked(PerCpuPages &pc, struct page *head,
									  unsigned order, const Region &r)
{
	PerCpuPages::List &list = pc.lists[r.zone][order];
	set_page_state(head, kPcp);
	head->next = list.head;
	list.head = head;
	if (__builtin_expect(++list.count > pcp_high(order), 0))
		pcp_drain_locked(list, order, pcp_high(order) / 2);
}

inline bool PageAllocator::free(struct page *head, unsigned order, PageState expect)
{
	/* Common case: the first region, a head in the expected state with
	 * the right order, no compound tails to undo. Anything else (NULL,
	 * other regions, misuse) is sorted out by free_general. */
	const Region &r = regions_[0];
	uintptr_t off = reinterpret_cast<uintptr_t>(head) - reinterpret_cast<uintptr_t>(r.pages);
	if (__builtin_expect(pcp_on(order) && off < r.nr_pages * sizeof(struct page) && off % sizeof(struct page) == 0 &&
				     page_state(head) == expect && head->order == order &&
				     (order == 0 || expect == kAllocated),
			     1)) {
		/* pcp_give's body, written out: through the helper GCC 12
		 * schedules __free_pages one instruction longer on the M3 */
		PerCpuPages &pc = pcp_[this_cpu()];
		unsigned long flags = pc.lock.lock();
		PerCpuPages::List &list = pc.lists[r.zone][order];
		set_page_state(head, kPcp);
		head->next = list.head;
		list.head = head;
		if (__builtin_expect(++list.count > pcp_high(order), 0))
			pcp_drain_locked(list, order, pcp_high(order) / 2);
		pc.lock.unlock(flags);
		return true;
	}
	return free_general(head, order, expect);
}

inline bool PageAllocator::owned_fast(const struct page *head, unsigned order, PageState state) const
{
	const Region &r = regions_[0];
	uintptr_t off = reinterpret_cast<uintptr_t>(head) - reinterpret_cast<uintptr_t>(r.pages);
	return pcp_on(order) && off < r.nr_pages * sizeof(struct page) && (order == 0 || state == kAllocated);
}

inline void PageAllocator::free_owned(struct page *head, unsigned order, PageState state)
{
	if (__builtin_expect(owned_fast(head, order, state), 1)) {
		pcp_give(head, order, regions_[0]);
		return;
	}
	(void)free_general(head, order, state);
}

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
