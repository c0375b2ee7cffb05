/*
 * mm/slub_free.cpp — SLUB's side of giving objects back: the checks of
 * every free that leaves the inline fast path (slub_fast.h) and their
 * reports, the return of an object to its slab with the list transitions,
 * the free into a full magazine, the one-step release of an emptied slab
 * on one CPU, and the magazine flushes and per-CPU drains of shrink,
 * destroy and reclaim.
 *
 * The design this follows — lock order, slab states and transitions,
 * magazines, the SMP drains (kSync/kRequest), freelist encoding — is the
 * comment at the top of slub.cpp; every path here keeps to that lock order.
 */
#include "slub.h"

#include "slub_fast.h"

namespace kmm {

/* One CPU, IRQs still masked from the step that emptied `slab`, which is
 * still counted in (free_to_slab<.., false>): if the page allocator takes
 * it on its fast path (owned_fast: region 0, an order with a per-CPU
 * list), the slab is counted out, its ids cleared and it goes onto this
 * CPU's page list, all in that masked step. Nothing (an IRQ; there is no
 * other CPU) can run in between, so it is never in transit and none of
 * discard_slab's bookkeeping (transit counts, three masked steps) is
 * needed: on the M3 a kfree that releases a slab takes about 40
 * instructions less. Otherwise it is counted out as free_to_slab would
 * have, and false says the caller must discard_slab() it once IRQs are
 * restored. */
inline bool SlabAllocator::release_slab_masked(kmem_cache *s, struct page *slab)
{
	/* (SMP: another CPU's validate could see the slab between its ids
	 * and the push, so there discard_slab counts it in transit.) */
	if (!kOneStepRelease || __builtin_expect(!pages_.owned_fast(slab, s->order, kSlab), 0)) {
		uncount_slab_locked(s); /* IRQs masked: on one CPU that is the lock */
		return false;
	}
	/* locals: the byte stores below would make GCC load both again */
	PageAllocator &pages = pages_;
	unsigned order = s->order;
	--s->nr_slabs;
	++s->slabs_freed;
	if constexpr (kSanitize)
		san_unpoison(pages.page_address(slab), s->slab_bytes);
	set_slab_cache_id(slab, order, 0);
	pages.give_owned_masked(slab, order);
	return true;
}

namespace {
const char *page_state_name(uint8_t state)
{
	switch (state) {
	case kFree: return "a free page";
	case kInterior: return "the inside of a page block";
	case kAllocated: return "a page from alloc_pages";
	case kExact: return "a page from alloc_pages_exact";
	case kCompound: return "a compound page";
	case kLargeKmalloc: return "a large kmalloc block";
	case kReserved: return "a reserved page";
	case kPcp: return "a free page (per-CPU list)";
	default: return "a page in a corrupt state";
	}
}
} // namespace

/* The slab holding x, or NULL after reporting that x is no slab object. */
struct page *SlabAllocator::find_slab(const void *x, const char *who, const char *action)
{
	struct page *page = pages_.virt_to_page(x);
	if (page == nullptr) {
		reporter_.bug(who, "%s of pointer %p that kmm never handed out (not managed memory)", action, x);
		reporter_.finish_bug();
		return nullptr;
	}
	struct page *head = page_head(page);
	uint8_t head_state = page_state(head);
	if (head_state == kFree || head_state == kPcp) {
		/* a block freed already: the common case is the second free of
		 * a large kmalloc block (or a use after free), not a stray pointer */
		reporter_.bug(who, "%s of pointer %p into %s: a double free (or a use after free), or a pointer kmm "
			      "never handed out", action, x, page_state_name(head_state));
		reporter_.finish_bug();
		return nullptr;
	}
	if (head_state != kSlab && head_state != kSlabCpu) {
		/* a block the page allocator (or a large kmalloc) handed out is
		 * live memory, just not a slab's: name the call that frees it */
		const char *free_with = nullptr;
		switch (head_state) {
		case kAllocated:
		case kCompound: free_with = "__free_pages or free_pages"; break;
		case kExact: free_with = "free_pages_exact"; break;
		case kLargeKmalloc: free_with = "kfree"; break;
		default: break;
		}
		if (free_with != nullptr)
			reporter_.bug(who, "%s of pointer %p, which is in %s, not in a slab: free it with %s", action,
				      x, page_state_name(head_state), free_with);
		else
			reporter_.bug(who, "%s of pointer %p that kmm never handed out (it is in %s)", action, x,
				      page_state_name(head_state));
		reporter_.finish_bug();
		return nullptr;
	}
	if (head->cache_id > KMM_MAX_CACHES || slot(head->cache_id) == nullptr) {
		reporter_.bug(who, "%s of pointer %p in a slab of no live cache (cache id %u)", action, x,
			      head->cache_id);
		reporter_.finish_bug();
		return nullptr;
	}
	return head;
}

/* Is x the start of one of the slab's objects? Reports if not. */
bool SlabAllocator::check_object(kmem_cache *s, const void *x, const char *action)
{
	uintptr_t base = slab_start_of(s, x);
	uintptr_t off = reinterpret_cast<uintptr_t>(x) - base;
	if constexpr (kSlabDebug)
		off -= s->red_left; /* debug caches: users get slot + red_left */
	if (__builtin_expect(off < uintptr_t{s->objects} * s->size && on_object_boundary(s, off), 1))
		return true;
	report_bad_object(s, x, action);
	return false;
}

void SlabAllocator::report_bad_object(kmem_cache *s, const void *x, const char *action)
{
	uintptr_t base = slab_start_of(s, x);
	uintptr_t at = reinterpret_cast<uintptr_t>(x) - base;
	uintptr_t off = at - s->red_left;
	if (at < s->red_left) { /* in the first object's left red zone */
		reporter_.bug(s->name, "%s of pointer %p before the first object %p of slab %p (in its red zone)", action,
			      x, reinterpret_cast<void *>(base + s->red_left), reinterpret_cast<void *>(base));
	} else if (at >= uintptr_t{s->objects} * s->size) { /* past the last slot */
		reporter_.bug(s->name, "%s of pointer %p past the last object of slab %p", action, x,
			      reinterpret_cast<void *>(base));
	} else if (at % s->size < s->red_left) { /* in a later object's left red zone: that object's */
		uintptr_t start = base + at / s->size * s->size + s->red_left;
		reporter_.bug(s->name, "%s of pointer %p into the left red zone of object %p, %lu bytes before it", action, x,
			      reinterpret_cast<void *>(start), static_cast<unsigned long>(start - reinterpret_cast<uintptr_t>(x)));
	} else if (!on_object_boundary(s, off)) {
		uintptr_t start = base + off / s->size * s->size + s->red_left;
		reporter_.bug(s->name, "%s of pointer %p into the middle of object %p (offset %lu of %u)", action, x,
			      reinterpret_cast<void *>(start), static_cast<unsigned long>(off % s->size), static_cast<unsigned>(s->size));
	}
	reporter_.finish_bug();
}

/* kmem_cache_free off the fast path: x is not in the CPU slab, or is
 * suspect. If x's slab belongs to s, s is a live cache and x is freed;
 * anything else is diagnosed by free_misuse. */
void SlabAllocator::free_slow(kmem_cache *s, void *x, const void *caller)
{
	if (kSlabDebug && caller == nullptr)
		caller = __builtin_return_address(0);
	if (x == nullptr)
		return;
	struct page *page = pages_.virt_to_page(x);
	if (page != nullptr) {
		struct page *slab = page_head(page);
		uint8_t state = page_state(slab);
		if ((state == kSlab || state == kSlabCpu) && slab->cache_id <= KMM_MAX_CACHES &&
		    slot(slab->cache_id) == s) {
			if (kMagazineMax > 0 && (!kSlabDebug || (s->flags & kSlabDebugFlags) == 0)) /* outside region 0: the inline checks and push */
				push_slab_object(*this, s, slab, x);
			else
				free_object(s, slab, x, caller);
			return;
		}
	}
	free_misuse(s, x);
}

void SlabAllocator::free_misuse(kmem_cache *s, void *x)
{
	if (!check_cache(s, "kmem_cache_free"))
		return;
	struct page *slab = find_slab(x, s->name, "kmem_cache_free");
	if (slab == nullptr)
		return;
	const kmem_cache *owner = slot(slab->cache_id); /* one load: it may be destroyed meanwhile */
	reporter_.bug(s->name, "kmem_cache_free of object %p to the wrong cache: it belongs to %s", x,
		      owner != nullptr ? owner->name : "a cache destroyed meanwhile");
	reporter_.finish_bug();
}

/* The head page of the slab holding x, a pointer into some slab: region
 * 0 without the region loop (as kfree_fast). */
__attribute__((always_inline)) inline struct page *SlabAllocator::slab_of(const void *x) const
{
	uintptr_t off = reinterpret_cast<uintptr_t>(x) - map_start_;
	struct page *p = off < map_bytes_ ? map_pages_ + (off >> kPageShift) : pages_.virt_to_page(x);
	return page_head(p);
}

struct page *SlabAllocator::cache_slab_of(const kmem_cache *s, const void *x) const
{
	struct page *page = pages_.virt_to_page(x);
	if (page == nullptr)
		return nullptr;
	struct page *head = page_head(page);
	uint8_t state = page_state(head);
	if ((state != kSlab && state != kSlabCpu) || head->cache_id != s->id)
		return nullptr;
	return head;
}

/* Gives x, a checked object of slab, back to its slab: onto c's CPU
 * freelist if slab is c's CPU slab, else onto the page freelist with the
 * list transitions; an empty slab beyond min_partial is counted out and
 * returned in `discard`, to be freed after the lock (at most one a call).
 * Catches the double frees the cache affords: x at the CPU or page
 * freelist head, an empty slab; with SLAB_CONSISTENCY_CHECKS (kMayCheck:
 * the caller may see such a cache; it keeps a full list too) x anywhere
 * on the freelist, unless the caller has searched already (kSearch false:
 * free_debug). IRQs masked, lock held. */
template <bool kMayCheck, bool kCountOut, bool kSearch>
__attribute__((always_inline)) inline SlabAllocator::FreeResult
SlabAllocator::free_to_slab(kmem_cache *s, CacheCpu &c, struct page *slab, void *x, struct page *&discard)
{
	bool checked = kMayCheck && (s->flags & SLAB_CONSISTENCY_CHECKS) != 0;
	bool search = kSearch && checked;
	uintptr_t base = slab_start_of(s, x);
	void *head = freelist_decode(base, slab->freelist);
	if (slab == c.slab) {
		if (x == c.freelist || x == head ||
		    (search && on_freelist(s, c.freelist, reinterpret_cast<uintptr_t>(x))))
			return FreeResult::kDoubleFree;
		set_freepointer(s, x, c.freelist);
		c.freelist = x;
		return FreeResult::kFreed;
	}
	uint16_t inuse = slab->inuse;
	if (inuse == 0 || x == head || (search && on_freelist(s, head, reinterpret_cast<uintptr_t>(x))))
		return FreeResult::kDoubleFree;
	set_freepointer(s, x, head);
	set_slab_freelist(slab, freelist_encode_offset(reinterpret_cast<uintptr_t>(x) - base));
	set_slab_inuse(slab, static_cast<uint16_t>(inuse - 1u));
	/* another CPU's slab (SMP: its CPU slab or a CPU partial one; with one
	 * CPU the only kSlabCpu slab is c.slab, tested above) */
	if (KMM_NR_CPUS > 1 && slab->state != kSlab)
		return FreeResult::kFreed;
	if (inuse == s->objects) { /* it was full */
		--s->nr_full;
		if (checked)
			s->full.remove(slab);
		if (inuse != 1) { /* full -> partial, the common move */
			s->partial.push_back(slab);
			return FreeResult::kFreed;
		}
	} else if (inuse != 1) {
		return FreeResult::kFreed; /* stays partial */
	} else {
		s->partial.remove(slab);
	}
	/* empty (place_slab_locked's case, inline): kept up to min_partial */
	if (s->empty.count < s->min_partial) {
		s->empty.push_front(slab);
	} else {
		if constexpr (kCountOut)
			uncount_slab_locked(s);
		discard = slab;
	}
	return FreeResult::kFreed;
}

SlabAllocator::FreeResult SlabAllocator::free_to_slab_locked(kmem_cache *s, CacheCpu &c, struct page *slab, void *x,
							      PageList &discard, bool searched)
{
	struct page *empty = nullptr;
	/* searched: the caller (free_debug) has looked for x on the whole
	 * freelist already; the full list is kept all the same */
	FreeResult r = searched ? free_to_slab<true, true, false>(s, c, slab, x, empty)
				: free_to_slab<true>(s, c, slab, x, empty);
	if (empty != nullptr)
		discard.push_front(empty);
	return r;
}

/* Gives the `count` oldest objects of c's magazine back to their slabs in
 * one batch under the cache lock (the ring's base moves past them; nothing
 * else moves; the caller updates mag_end). Returns the double frees found on the way (skipped: the
 * first in `bad`), which the caller reports once IRQs are restored. IRQs
 * masked. O(count). */
__attribute__((always_inline)) inline unsigned long SlabAllocator::evict_oldest(kmem_cache *s, CacheCpu &c, uint32_t count,
										 PageList &discard, void *&bad)
{
	unsigned long double_frees = 0;
	uint32_t entries = mag_count(c);
	if (count > entries)
		count = entries;
	if (count == 0)
		return 0;
	{
		SlabLockIrqsOff guard(s->lock);
		for (uint32_t i = 0; i < count; ++i) {
			void *x = mag_take_oldest(c);
			struct page *empty = nullptr;
			if (free_to_slab<false>(s, c, slab_of(x), x, empty) == FreeResult::kDoubleFree) {
				if (double_frees++ == 0)
					bad = x;
			}
			if (empty != nullptr)
				discard.push_front(empty);
		}
	}
	slab_stat(c.mag_flushes);
	return double_frees;
}

unsigned long SlabAllocator::flush_magazine(kmem_cache *s, CacheCpu &c, uint32_t count, PageList &discard, void *&bad)
{
	return evict_oldest(s, c, count, discard, bad);
}

void SlabAllocator::report_flush_double_frees(kmem_cache *s, unsigned long n, void *first)
{
	reporter_.bug(s->name, "double free of object %p found in a magazine flush (%lu such objects, skipped)",
		      first, n);
	reporter_.finish_bug();
}

/* Empties every CPU's magazine of s (other CPUs' through drain_cpu). */
void SlabAllocator::drain_magazines(kmem_cache *s)
{
	drain_all_cpus(s, false);
}

/* Gives back what c caches of s: its magazine, and with `slabs` its CPU
 * slab and CPU partial slabs; mag_limit is s's capacity again after. c is
 * the running CPU's, or another CPU's held from outside (a sync drain).
 * IRQs masked. Returns the double frees found (see flush_magazine). */
unsigned long SlabAllocator::drain_cpu_held(kmem_cache *s, CacheCpu &c, bool slabs, PageList &discard, void *&bad)
{
	unsigned long double_frees = flush_magazine(s, c, mag_count(c), discard, bad);
	if (slabs) {
		if (struct page *slab = deactivate_cpu_slab(s, c))
			discard.push_front(slab);
		if (c.partial != nullptr) {
			SlabLockIrqsOff guard(s->lock);
			while (struct page *slab = c.partial) {
				c.partial = slab->next;
				--c.nr_partial;
				if (place_slab_locked(s, slab))
					discard.push_front(slab);
			}
		}
	}
	set_mag_limit(c, __atomic_load_n(&s->mag_capacity, __ATOMIC_RELAXED));
	mag_update_end(c);
	return double_frees;
}

namespace {
/* A sync drain of another CPU, run on it by kmm_arch_cpu_call. */
struct RemoteDrainCall {
	SlabAllocator *slab;
	kmem_cache *s;
	unsigned cpu;
	bool slabs;
	unsigned long double_frees;
	void *bad;
	PageList discard; /* freed by the caller, off that CPU's IRQ-masked time */
};
} // namespace

void SlabAllocator::drain_cpu_call(void *arg)
{
	auto *call = static_cast<RemoteDrainCall *>(arg);
	kmem_cache *s = call->s;
	call->double_frees = call->slab->drain_cpu_held(s, s->cpu[call->cpu], call->slabs, call->discard, call->bad);
}

/* Drains CPU `cpu`'s caches of s (drain_cpu_held): at once if it is the
 * running CPU; else (RemoteDrain::kSync) on that CPU through
 * kmm_arch_cpu_call (an IPI; on the host, holding its slot); where that is
 * refused (kRequest, a CPU that takes no calls, or a caller with IRQs
 * masked) it asks it to: a flush at its next slow path, which then drains
 * its slabs too. Call with no lock held. */
void SlabAllocator::drain_cpu(kmem_cache *s, unsigned cpu, bool slabs)
{
	RemoteDrainCall call{this, s, cpu, slabs, 0, nullptr, PageList{}};
	unsigned long flags = fast_irq_save();
	bool local = KMM_NR_CPUS == 1 || arch::cpu_id() == cpu;
	if (local)
		drain_cpu_call(&call);
	fast_irq_restore(flags);
	if constexpr (KMM_NR_CPUS > 1) {
		if (!local && (remote_drain_ != RemoteDrain::kSync || kmm_arch_cpu_call(cpu, drain_cpu_call, &call) != 0)) {
			CacheCpu &c = s->cpu[cpu];
			/* The order matters (honour_flush): the request, then
			 * the trigger that sends its next free off the fast path. */
			__atomic_fetch_add(&c.flush_req, 1u, __ATOMIC_SEQ_CST);
			__atomic_store_n(&c.mag_limit, 0u, __ATOMIC_SEQ_CST);
			__atomic_store_n(&c.mag_end, 0u, __ATOMIC_SEQ_CST); /* after: mag_update_end */
			__atomic_fetch_add(&remote_drain_requests_, 1ul, __ATOMIC_RELAXED);
		}
	}
	if (call.double_frees != 0)
		report_flush_double_frees(s, call.double_frees, call.bad);
	while (struct page *slab = call.discard.pop_front())
		discard_slab(s, slab);
}

void SlabAllocator::drain_all_cpus(kmem_cache *s, bool slabs)
{
	for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu)
		drain_cpu(s, cpu, slabs);
}

/* SMP: another CPU asked this one to flush its caches of s (drain_cpu,
 * RemoteDrain::kRequest). Drains everything, restores mag_limit, then
 * looks again: a request that raced with the restore is not lost (its
 * mag_limit = 0 lands after ours, or we see its flush_req). */
void SlabAllocator::honour_flush(kmem_cache *s)
{
	PageList discard;
	void *bad = nullptr;
	unsigned long double_frees = 0;
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s, flags);
	for (;;) {
		uint32_t req = __atomic_load_n(&c.flush_req, __ATOMIC_SEQ_CST);
		if (req == __atomic_load_n(&c.flush_done, __ATOMIC_RELAXED))
			break;
		double_frees += drain_cpu_held(s, c, true, discard, bad);
		__atomic_store_n(&c.flush_done, req, __ATOMIC_RELAXED);
		/* mag_limit again as a seq_cst store, then flush_req (seq_cst): a
		 * requester's mag_limit = 0 after our load lands after this */
		__atomic_store_n(&c.mag_limit, __atomic_load_n(&s->mag_capacity, __ATOMIC_RELAXED), __ATOMIC_SEQ_CST);
	}
	mag_update_end(c); /* after the loop: a newer request's 0 is kept */
	fast_irq_restore(flags);
	if (double_frees != 0)
		report_flush_double_frees(s, double_frees, bad);
	while (struct page *slab = discard.pop_front())
		discard_slab(s, slab);
}

void SlabAllocator::free_object_inline(kmem_cache *s, struct page *page, void *x)
{
	free_object(s, page_head(page), x, kSlabDebug ? __builtin_return_address(0) : nullptr);
}

namespace {
/* The slow frees' push onto a magazine with room (entries < limit): wraps
 * the ring at the array's end, then recomputes mag_end. IRQs masked. */
__attribute__((always_inline)) inline void push_out_of_line(const kmem_cache *s, CacheCpu &c, void *x)
{
	san_freed(s, x); /* before anyone can take it */
	if (c.mag_top == kMagazineRing)
		c.mag_top = 0; /* the array's end: the ring goes on at slot 1 */
	c.mag[++c.mag_top] = x;
	mag_update_end(c);
	slab_stat(c.free_slow);
}
} // namespace

/* A free into a magazine that is full (kMagazineEvict 0): x goes back to
 * its own slab (`slab`, its head page), the
 * magazine stays as it is, an emptied slab beyond min_partial is released;
 * IRQs (masked by the caller, `flags`) restored. free_to_slab repeats the
 * inline path's not-visibly-free tests under the lock (they cannot fail
 * for a live object). */
__attribute__((always_inline)) inline void SlabAllocator::overflow_to_slab(kmem_cache *s, CacheCpu &c,
									    struct page *slab, void *x,
									    unsigned long flags)
{
	struct page *empty = nullptr;
	FreeResult r;
	{
		SlabLockIrqsOff guard(s->lock);
		r = free_to_slab<false, !kOneStepRelease>(s, c, slab, x, empty);
		/* under the lock: once it is dropped another CPU may take x
		 * from its slab and hand it out, and a late annotation would
		 * then poison a live object (host sanitizers) */
		if (__builtin_expect(r == FreeResult::kFreed, 1))
			san_freed(s, x);
	}
	if (__builtin_expect(r == FreeResult::kFreed, 1))
		slab_stat(c.free_slow);
	if constexpr (kOneStepRelease)
		if (empty != nullptr && release_slab_masked(s, empty))
			empty = nullptr;
	fast_irq_restore(flags);
	if (empty != nullptr)
		discard_slab(s, empty);
	if (r == FreeResult::kDoubleFree)
		report_double_free(s, x);
}

void SlabAllocator::free_overflow_masked(kmem_cache *s, struct page *slab, void *x)
{
	unsigned long flags = overflow_flags_;
	if constexpr (kMaskedOverflow) {
		CacheCpu &c = this_cpu(s, flags);
		uint32_t limit = mag_limit_of(c);
		/* exactly full, and a magazine at all: free_overflow's common
		 * case, without its other tests (one CPU: no flush requests;
		 * every debug cache has F and so no magazine — setup_cache and
		 * set_magazine_size see to it, validate() checks it — nor has
		 * the boot cache: init and set_magazine_size see to that) */
		if (__builtin_expect(mag_count(c) == limit && limit != 0, 1)) {
			overflow_to_slab(s, c, slab, x, flags);
			return;
		}
	}
	fast_irq_restore(flags);
	free_overflow(s, slab, x);
}

void SlabAllocator::free_overflow(kmem_cache *s, struct page *slab, void *x)
{
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s, flags);
	uint32_t limit = mag_limit_of(c);
	uint32_t entries = mag_count(c);
	/* No magazine, a flush request, a debug cache, or more entries than
	 * the limit (not after a drain, which every limit change makes):
	 * free_object's general way. */
	if (__builtin_expect(limit == 0 || entries > limit || flush_pending(c) ||
				     (kSlabDebug && (s->flags & kSlabDebugFlags) != 0), 0)) {
		fast_irq_restore(flags);
		free_object(s, slab, x, kSlabDebug ? __builtin_return_address(0) : nullptr);
		return;
	}
	if (kMagazineEvict == 0 && entries == limit) {
		overflow_to_slab(s, c, slab, x, flags);
		return;
	}
	PageList discard;
	void *bad = nullptr;
	unsigned long flush_double_frees = 0;
	if (kMagazineEvict != 0 && entries == limit) /* full: evict kMagazineEvict (at most all of them) */
		flush_double_frees = evict_oldest(s, c, kMagazineEvict, discard, bad);
	push_out_of_line(s, c, x);
	fast_irq_restore(flags);
	if (flush_double_frees != 0)
		report_flush_double_frees(s, flush_double_frees, bad);
	while (struct page *p = discard.pop_front())
		discard_slab(s, p);
}

bool SlabAllocator::on_freelist(const kmem_cache *s, void *head, uintptr_t slot, unsigned max_steps) const
{
	unsigned steps = 0;
	const unsigned limit = max_steps < s->objects ? max_steps : s->objects;
	for (void *p = head; p != nullptr && ++steps <= limit;) {
		if (p == reinterpret_cast<void *>(slot))
			return true;
		void *next = get_freepointer(s, p);
		if (!freepointer_ok(s, p, next))
			return false; /* corrupt: validate reports (and repairs) it */
		p = next;
	}
	return false;
}

namespace {
/* The tests kfree's inline path makes, for the slow paths: x (slot: x less
 * the left red zone) heads its slab's or the CPU freelist, tops c's
 * magazine, or its slab is empty. No lock: each can only hold for an object
 * that is already free (x is not ours to race for otherwise). IRQs masked. */
inline bool visibly_free_masked(const CacheCpu &c, const struct page *slab, const void *x, const void *slot,
				uintptr_t base)
{
	return __atomic_load_n(&slab->inuse, __ATOMIC_RELAXED) == 0 ||
	       slot == freelist_decode(base, __atomic_load_n(&slab->freelist, __ATOMIC_RELAXED)) ||
	       slot == c.freelist || (mag_count(c) != 0 && x == mag_newest(c));
}
} // namespace

bool SlabAllocator::visibly_free(kmem_cache *s, struct page *slab, const void *x)
{
	const void *slot = static_cast<const char *>(x) - s->red_left;
	uintptr_t base = slab_start_of(s, slot);
	if (kSlabDebug && (s->flags & SLAB_CONSISTENCY_CHECKS) != 0) {
		/* a debug cache (no CPU slab, no magazine): its whole page
		 * freelist, so a freed object is named as such, not as the red
		 * zone damage its free patterns would look like */
		SlabLockGuard guard(s->lock);
		return slab->inuse == 0 ||
		       on_freelist(s, freelist_decode(base, slab->freelist), reinterpret_cast<uintptr_t>(slot));
	}
	unsigned long flags = fast_irq_save();
	bool is_free = visibly_free_masked(this_cpu(s), slab, x, slot, base);
	fast_irq_restore(flags);
	return is_free;
}

bool SlabAllocator::object_free(kmem_cache *s, const void *x, unsigned max_steps)
{
	uintptr_t slot = reinterpret_cast<uintptr_t>(x) - s->red_left;
	struct page *slab = slab_of(x);
	bool is_free;
	unsigned long flags = fast_irq_save();
	{
		CacheCpu &c = this_cpu(s);
		SlabLockIrqsOff guard(s->lock);
		uintptr_t base = slab_start_of(s, reinterpret_cast<void *>(slot));
		/* bounded walks: a whole kmalloc-8 freelist (512 entries) took
		 * ~19,000 instructions with IRQs masked on the M3 */
		is_free = slab->inuse == 0 ||
			  on_freelist(s, freelist_decode(base, slab->freelist), slot, max_steps) ||
			  on_freelist(s, c.freelist, slot, max_steps);
		for (uint32_t j = 1; !is_free && j <= mag_count(c) && j <= kMagazineMax; ++j)
			is_free = c.mag[mag_slot(c, j)] == x;
	}
	fast_irq_restore(flags);
	return is_free;
}

void SlabAllocator::report_double_free(kmem_cache *s, void *x)
{
	reporter_.bug(s->name, "double free of object %p: it is already free", x);
	reporter_.finish_bug();
}

/* Frees x, a pointer into slab, a slab of s, that the inline path did not
 * push: checks that it is an object and not visibly free, then pushes it
 * onto the magazine if it has room (full: with kMagazineEvict > 0 after
 * evicting that many oldest entries to their slabs: bounded work) — else,
 * full or without a magazine, gives it back to its slab under the lock. */
void SlabAllocator::free_object(kmem_cache *s, struct page *slab, void *x, const void *caller)
{
	if (__builtin_expect(s == &boot_cache_, 0) && is_live(static_cast<kmem_cache *>(x))) {
		/* only free_descriptor frees a descriptor, once it is unlisted */
		reporter_.bug("kmem_cache", "free of %p, the descriptor of live cache %s: refused (kmem_cache_destroy frees it)",
			      x, static_cast<kmem_cache *>(x)->name);
		reporter_.finish_bug();
		return;
	}
	if constexpr (kSlabDebug) {
		if ((s->flags & kSlabDebugFlags) != 0) {
			free_debug(s, slab, x, caller != nullptr ? caller : __builtin_return_address(0));
			return;
		}
	}
	(void)caller;
	if (!check_object(s, x, "free"))
		return;
	if (flush_pending(this_cpu(s))) /* SMP: another CPU asked */
		honour_flush(s);
	bool double_free = false;
	unsigned long flush_double_frees = 0;
	void *bad = nullptr;
	PageList discard;
	uintptr_t base = slab_start_of(s, x);
	unsigned long flags = fast_irq_save();
	{
		CacheCpu &c = this_cpu(s);
		uint32_t mag_limit = mag_limit_of(c);
		uint32_t entries = mag_count(c);
		if (kMagazineEvict == 0 && mag_limit != 0 && entries > mag_limit) {
			/* more than the limit (never after a drain): back to it */
			flush_double_frees = flush_magazine(s, c, entries - mag_limit, discard, bad);
			entries = mag_limit;
		}
		if (mag_limit != 0) /* (a debug cache, red zones, went to free_debug: slot = x) */
			double_free = visibly_free_masked(c, slab, x, x, base);
		bool push = mag_limit != 0 && (kMagazineEvict != 0 || entries < mag_limit);
		if (!double_free && push) {
			if (entries >= mag_limit)
				flush_double_frees =
					flush_magazine(s, c, entries - mag_limit + kMagazineEvict, discard, bad);
			push_out_of_line(s, c, x);
		} else if (!double_free) { /* no magazine, or a full one (kMagazineEvict 0): the slab */
			SlabLockIrqsOff guard(s->lock);
			double_free = free_to_slab_locked(s, c, slab, x, discard) == FreeResult::kDoubleFree;
			if (!double_free) {
				san_freed(s, x);
				slab_stat(c.free_slow);
			}
		}
	}
	fast_irq_restore(flags);
	if (double_free) {
		report_double_free(s, x);
		return;
	}
	if (flush_double_frees != 0)
		report_flush_double_frees(s, flush_double_frees, bad);
	while (struct page *p = discard.pop_front())
		discard_slab(s, p);
}

} // namespace kmm
