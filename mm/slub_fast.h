/*
 * mm/slub_fast.h — the inline fast paths: kmem_cache alloc/free on the
 * running CPU's magazine (then its CPU slab's freelist), and kmalloc/kfree
 * in front of them. Everything unusual is one out-of-line call into
 * SlabAllocator::*_slow or free_object.
 *
 * mm-internal: include only from mm/ sources (they are compiled with the
 * arch's definitions, e.g. KMM_HOST, which arch/irq.h reads); tests use
 * SlabAllocator::alloc/free, which wrap these.
 *
 *   alloc:  pop the magazine, else pop the CPU freelist, else alloc_slow
 *           (kmalloc: kmalloc_refill, the next slab from the lists, then
 *           kmalloc_slow).
 *   free:   checks, then push onto the magazine if it has room; if only
 *           the magazine's bound stopped the push: one CPU,
 *           free_overflow_masked with IRQs still masked; SMP, IRQs
 *           restored, then free_overflow (a full magazine: x back to its
 *           own slab, or
 *           with KMM_SLAB_MAGAZINE_EVICT the oldest entries; the array's
 *           end: the ring wraps; see slub.h), no check repeated; a failed
 *           check goes to free_object_inline -> free_object (full checks,
 *           reports), other regions to free_slow/kfree_slow.
 *
 * What the free fast paths check before the push (a failing check goes out
 * of line, which diagnoses and reports; nothing is changed before that):
 *   page:   x's page (region 0 inline) names a cache: every page of a slab,
 *           tails too, carries its cache id, and every other page 0
 *           (caches_[0] is NULL) — one load, no head page or state test.
 *           kfree takes that cache; kmem_cache_free requires it to be s
 *           (an object of the CPU slab skips the lookup: the CPU slab's
 *           range and the CPU freelist head are its tests).
 *   object: x & slab_mask is an object's offset: below the object area
 *           and on a boundary, in one multiply (object_index_ok, slub.h).
 *   free:   x's slab is not empty and x is not its page freelist head; x
 *           is neither mag[mag_top] — the last object pushed (the double
 *           free free(p); free(p): every free of a magazine cache ends with
 *           x on top), or the newest entry after pops, except after pops
 *           that reached the wall of a wrapped ring (slub.h), where the
 *           newest entry is at the array's end — nor the CPU freelist head.
 * Deeper double frees are not caught here (see docs/SLAB.md: the slow
 * path adds the freelist heads; SLAB_CONSISTENCY_CHECKS caches, which
 * have no magazine and no CPU slab, catch every one).
 */
#ifndef KMM_MM_SLUB_FAST_H
#define KMM_MM_SLUB_FAST_H

#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#if defined(KMM_HOST) && KMM_NR_CPUS > 1
/* arch/host/arch_host.cpp: the host's emulation of "IRQs masked on this
 * CPU" (nothing else runs on it) for threads, which are preemptible and
 * may share a CPU slot; its common case inline. (Its emulated IPI is
 * kmm_arch_cpu_call.) */
#include <arch/host_hold.h>
#define KMM_HOST_SMP_HOLD 1
#else
#define KMM_HOST_SMP_HOLD 0
#endif

#include "sanitize.h"
#include "slub.h"

namespace kmm {


/* IRQ masking for the per-CPU fast path: arch/irq.h's inline version of
 * kmm_arch_irq_save/restore (a compiler barrier on the host, PRIMASK on
 * Cortex-M, ...), not two calls per operation. On an SMP host build it
 * holds the thread's CPU slot instead (see above): the per-CPU data is then
 * the thread's alone, as it is a CPU's alone with IRQs masked on a target. */
__attribute__((always_inline)) inline unsigned long fast_irq_save()
{
#if KMM_HOST_SMP_HOLD
	return host::cpu_hold();
#else
	return arch::irq_save();
#endif
}
__attribute__((always_inline)) inline void fast_irq_restore(unsigned long flags)
{
#if KMM_HOST_SMP_HOLD
	(void)flags;
	host::cpu_unhold();
#else
	arch::irq_restore(flags);
#endif
}

/* The inline paths' hold. kTry: on an SMP host build, only the biased
 * owner's common case (host::cpu_try_hold); when that does not apply,
 * fast_hold returns false with nothing held and the caller tail-calls the
 * out-of-line twin of its whole operation (SlabAllocator::*_full_hold),
 * which is the same code with kTry false: the full hold, any case. So the
 * inline paths make no call while holding and need no callee-saved
 * registers. Elsewhere both are fast_irq_save, which cannot fail, and the
 * twins are never called. `flags` is what this_cpu(s, flags) and
 * fast_unhold take. */
constexpr bool kTryHold = KMM_HOST_SMP_HOLD;

template <bool kTry> __attribute__((always_inline)) inline bool fast_hold(unsigned long &flags)
{
#if KMM_HOST_SMP_HOLD
	if constexpr (kTry) {
		unsigned cpu;
		if (!host::cpu_try_hold(cpu))
			return false;
		flags = cpu;
		return true;
	}
#endif
	flags = fast_irq_save();
	return true;
}
template <bool kTry> __attribute__((always_inline)) inline void fast_unhold(unsigned long flags)
{
#if KMM_HOST_SMP_HOLD
	if constexpr (kTry) {
		host::cpu_try_unhold(static_cast<unsigned>(flags));
		return;
	}
#endif
	fast_irq_restore(flags);
}

__attribute__((always_inline)) inline CacheCpu &this_cpu(kmem_cache *s)
{
	if constexpr (KMM_NR_CPUS == 1)
		return s->cpu[0];
	else
		return s->cpu[arch::cpu_id()];
}

/* The same once fast_irq_save() returned `flags`: on an SMP host build
 * the hold returns the thread's CPU slot, so no second lookup. */
__attribute__((always_inline)) inline CacheCpu &this_cpu(kmem_cache *s, unsigned long flags)
{
#if KMM_HOST_SMP_HOLD
	return s->cpu[flags];
#else
	(void)flags;
	return this_cpu(s);
#endif
}

/* page::state for kfree_fast: a relaxed atomic on SMP (another CPU may
 * change it), the plain load it always was on one CPU. */
__attribute__((always_inline)) inline uint8_t fast_page_state(const struct page *p)
{
	if constexpr (KMM_NR_CPUS > 1)
		return page_state(p);
	else
		return p->state;
}

__attribute__((always_inline)) inline void slab_stat(unsigned long &counter)
{
	if constexpr (KMM_SLAB_STATS)
		++counter;
}
__attribute__((always_inline)) inline void slab_unstat(unsigned long &counter)
{
	if constexpr (KMM_SLAB_STATS)
		--counter;
}

/* Host sanitizer annotations (sanitize.h): nothing unless ASan/Valgrind. */
__attribute__((always_inline)) inline void san_allocated(const kmem_cache *s, void *x, size_t size, bool defined)
{
	if constexpr (kSanitize)
		san_object_alloc(s, x, size, s->size, static_cast<char *>(x) + s->offset, defined);
}
/* __GFP_ZERO: zeroes all of the object (and makes all of it addressable);
 * out of line, so the inline paths need no frame for the memset call. */
__attribute__((noinline, cold)) void *zero_object(const kmem_cache *s, void *object);

/* The flags the inline paths test after the pop, in one test: __GFP_ZERO
 * (zeroing) and __GFP_DMA (a zone the popped object may not be in) send
 * the call to SlabAllocator::alloc_flagged / kmalloc_flagged. */
inline constexpr gfp_t kColdGfp = __GFP_ZERO | __GFP_DMA;

/* An object handed out for `size` bytes: __GFP_ZERO zeroes all of it
 * (zero_object), else the sanitizers see `size`. Returns the object. */
__attribute__((always_inline)) inline void *zero_or_mark(const kmem_cache *s, void *object, size_t size, gfp_t gfp)
{
	if (__builtin_expect((gfp & __GFP_ZERO) != 0, 0))
		return zero_object(s, object);
	san_allocated(s, object, size, s->ctor != nullptr);
	return object;
}
/* A free object is unaddressable, except in a ctor cache: there its
 * constructed state is part of the contract (docs/SLAB.md), so only the
 * bytes past the object are. */
__attribute__((always_inline)) inline void san_freed(const kmem_cache *s, void *x)
{
	if constexpr (kSanitize) {
		if (s->ctor == nullptr) {
			san_object_free(s, x, s->size, static_cast<char *>(x) + s->offset);
		} else {
			san_object_free(s, x, s->size, static_cast<char *>(x) + s->offset);
			san_unpoison(x, s->object_size);
		}
	}
}

/* The same for an object of a new slab, never handed out yet. */
__attribute__((always_inline)) inline void san_fresh(const kmem_cache *s, void *x)
{
	if constexpr (kSanitize) {
		san_object_fresh(x, s->size, static_cast<char *>(x) + s->offset);
		if (s->ctor != nullptr)
			san_unpoison(x, s->object_size);
	}
}

/* Pops the CPU freelist's head; NULL if it is empty, or if the head's
 * free pointer is corrupt (alloc_slow reports and drops the list). IRQs
 * masked. */
__attribute__((always_inline)) inline void *cpu_freelist_pop(const kmem_cache *s, CacheCpu &c)
{
	void *object = c.freelist;
	if (object != nullptr) {
		void *next = get_freepointer(s, object);
		if constexpr (kFreelistHardened)
			if (__builtin_expect(!freepointer_ok(s, object, next), 0))
				return nullptr;
		c.freelist = next;
	}
	return object;
}

/* Pops an object off c's magazine, else off its CPU freelist; NULL if
 * both are empty. The slow paths' pop: it also continues a wrapped ring at
 * the array's end, which the inline pop leaves to it. IRQs masked. */
__attribute__((always_inline)) inline void *cpu_pop(const kmem_cache *s, CacheCpu &c)
{
	if constexpr (kMagazineMax > 0) {
		uint32_t n = c.mag_top;
		void *x = c.mag[n];
		if (x != nullptr) {
			c.mag_top = n - 1;
			return x;
		}
		if (n != c.mag_base) { /* the wall: the older entries end the array */
			x = c.mag[kMagazineRing];
			c.mag_top = kMagazineRing - 1;
			mag_update_end(c);
			return x;
		}
	}
	return cpu_freelist_pop(s, c);
}

/* The inline allocation of slab_alloc_fast and kmalloc_fast: the plain
 * stack pop (mag[mag_top], NULL below the oldest entry), else the CPU
 * freelist. False if both are empty, or if the pop stopped at the wall of
 * a wrapped ring (alloc_slow's cpu_pop continues it). IRQs masked. */
__attribute__((always_inline)) inline bool cpu_alloc(const kmem_cache *s, CacheCpu &c, void *&object)
{
	uint32_t n = 0;
	void *x = nullptr;
	if constexpr (kMagazineMax > 0) {
		n = c.mag_top;
		x = c.mag[n];
	}
	if (__builtin_expect(x != nullptr, 1)) {
		c.mag_top = n - 1;
		object = x;
	} else {
		if constexpr (kMagazineMax > 0)
			if (__builtin_expect(n != c.mag_base, 0))
				return false; /* wrapped: the rest is at the array's end */
		object = c.freelist;
		if (__builtin_expect(object == nullptr, 0))
			return false;
		void *next = get_freepointer(s, object);
		if constexpr (kFreelistHardened)
			if (__builtin_expect(!freepointer_ok(s, object, next), 0))
				return false; /* alloc_slow reports and drops the list */
		c.freelist = next;
	}
	slab_stat(c.alloc_fast);
	return true;
}

/* What an inline push did: pushed; found the magazine full (or at the
 * array's end, or bounded to 0: no magazine, a flush request) with every
 * check passed; or refused x, which looks free already. */
enum class Push : uint8_t { kDone, kFull, kRefused };

/* Pushes x, an object of this cache that passed the caller's checks, if
 * it is not the last object pushed (the double free free(p); free(p)) and
 * the push stays below mag_end (the limit, the array's end, or 0: no
 * magazine / a flush request). IRQs masked. */
__attribute__((always_inline)) inline Push cpu_push(CacheCpu &c, void *x)
{
	uint32_t n = c.mag_top;
	if (__builtin_expect(x == c.mag[n], 0))
		return Push::kRefused;
	if (__builtin_expect(n >= mag_end_of(c), 0))
		return Push::kFull;
	c.mag[n + 1] = x;
	c.mag_top = n + 1;
	slab_stat(c.free_fast);
	return Push::kDone;
}

template <bool kTry = kTryHold>
__attribute__((always_inline)) inline void *slab_alloc_fast(SlabAllocator &a, kmem_cache *s, gfp_t gfp)
{
	unsigned long flags;
	if (!fast_hold<kTry>(flags))
		return a.alloc_full_hold(s, gfp);
	CacheCpu &c = this_cpu(s, flags);
	void *object = nullptr; /* set when cpu_alloc succeeds (-Og cannot see that) */
	if (__builtin_expect(cpu_alloc(s, c, object), 1)) {
		fast_unhold<kTry>(flags);
		if (__builtin_expect((gfp & kColdGfp) != 0, 0))
			return a.alloc_flagged(s, object, gfp);
		san_allocated(s, object, s->object_size, s->ctor != nullptr);
		return object;
	}
	fast_unhold<kTry>(flags);
	return a.alloc_slow(s, gfp);
}

/* x's page if x lies in region 0 (no region loop); NULL otherwise (the
 * caller goes out of line). Its cache_id names x's cache if the page is
 * any page of a slab, and is 0 on every other page (caches_[0] is NULL). */
__attribute__((always_inline)) inline struct page *fast_page(const SlabAllocator &a, uintptr_t addr)
{
	uintptr_t map_offset;
	if constexpr (KMM_NR_CPUS > 1) {
		/* map_bytes_ first (published: the start stores it last); 0
		 * until the slab layer has started, so a kfree racing with the
		 * start on another CPU reads neither map_pages_ nor a stale
		 * map_start_ with it (slub.h, published) */
		uintptr_t map_bytes = published(a.map_bytes_);
		map_offset = addr - __atomic_load_n(&a.map_start_, __ATOMIC_RELAXED);
		if (__builtin_expect(map_offset >= map_bytes, 0))
			return nullptr;
	} else {
		map_offset = addr - a.map_start_;
		if (__builtin_expect(map_offset >= a.map_bytes_, 0))
			return nullptr;
	}
	struct page *page = a.map_pages_ + (map_offset >> kPageShift);
	if (page == nullptr) /* an element of the array: lets callers drop their NULL test */
		__builtin_unreachable();
	return page;
}

/* cpu_push, then: pushed -> IRQs restored, true; the magazine's bound
 * stopped it -> free_overflow_masked(s, slab, x) (one CPU: IRQs still
 * masked) or IRQs restored and free_overflow(s, slab, x) (slab: x's head
 * page), true; refused -> IRQs still masked, false (the caller restores
 * them and reports). */
template <bool kTry>
__attribute__((always_inline)) inline bool push_or_overflow(SlabAllocator &a, kmem_cache *s, CacheCpu &c,
							       struct page *slab, void *x, unsigned long flags)
{
	Push r = cpu_push(c, x);
	if (__builtin_expect(r == Push::kDone, 1)) {
		san_freed(s, x);
		fast_unhold<kTry>(flags);
		return true;
	}
	if (r == Push::kFull) {
		if constexpr (kMaskedOverflow && !kTry) {
			a.hand_over_irq_flags(flags);
			a.free_overflow_masked(s, slab, x); /* restores IRQs */
			return true;
		}
		fast_unhold<kTry>(flags);
		a.free_overflow(s, slab, x);
		return true;
	}
	return false;
}

/* push_slab_object's tests that need no hold: x is an object of the slab
 * whose head page is `head`, which is not empty and has not x at the head
 * of its page freelist. */
__attribute__((always_inline)) inline bool slab_object_ok(const kmem_cache *s, const struct page *head, const void *x)
{
	uintptr_t offset = reinterpret_cast<uintptr_t>(x) & s->slab_mask;
	return __builtin_expect(object_index_ok(s, offset), 1) && __builtin_expect(slab_inuse(head) != 0, 1) &&
	       /* 1 + offset / kSlabUnit fits page::freelist (slab_common.h) */
	       __builtin_expect(uint32_t{slab_freelist(head)} != 1u + static_cast<uint32_t>(offset / kSlabUnit), 1);
}

/* Frees x, a pointer into `page`, a page of a slab of s: onto the running
 * CPU's magazine (push_or_overflow) if it is an object's
 * (object_index_ok) and not visibly free (its slab is not empty; x is
 * neither the slab's page freelist head nor the CPU freelist head); else
 * free_object_inline (full checks, reports). */
template <bool kTry = kTryHold>
__attribute__((always_inline)) inline void push_slab_object(SlabAllocator &a, kmem_cache *s, struct page *page, void *x)
{
	struct page *head = page_head(page);
	if (__builtin_expect(slab_object_ok(s, head, x), 1)) {
		unsigned long flags;
		if (!fast_hold<kTry>(flags)) {
			a.push_full_hold(s, head, x);
			return;
		}
		CacheCpu &c = this_cpu(s, flags);
		if (__builtin_expect(x != c.freelist && push_or_overflow<kTry>(a, s, c, head, x, flags), 1))
			return;
		fast_unhold<kTry>(flags);
	}
	a.free_object_inline(s, head, x); /* head, not page: one register fewer */
}

/* kmem_cache_free: one CPU: an object of the CPU slab is checked against
 * the CPU slab's range (no page lookup; its free objects are on the CPU
 * freelist, which cpu_push's caller tests); any other goes through its
 * page (region 0 inline, as kfree), which must be a slab page of s. SMP:
 * every object through its page. Without magazines: an object of the CPU
 * slab goes onto the CPU freelist. */
__attribute__((always_inline)) inline void slab_free_fast(SlabAllocator &a, kmem_cache *s, void *x)
{
	if constexpr (KMM_NR_CPUS > 1 && kMagazineMax > 0) {
		/* SMP: holding the CPU is the dear part (an atomic on the host),
		 * so one hold, after the page lookup, as kfree does: the CPU-slab
		 * range test first would hold twice for any other slab's object */
		struct page *page = fast_page(a, reinterpret_cast<uintptr_t>(x));
		if (__builtin_expect(page != nullptr && page_cache_id(page) == s->id, 1))
			push_slab_object(a, s, page, x);
		else
			a.free_slow(s, x);
		return;
	}
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s, flags);
	uintptr_t offset = reinterpret_cast<uintptr_t>(x) - c.slab_start;
	bool in_cpu_slab = offset < c.slab_bytes;
	if (__builtin_expect(in_cpu_slab && object_index_ok_below_area(s, offset) && x != c.freelist, 1)) {
		if constexpr (kMagazineMax > 0) {
			if (__builtin_expect(push_or_overflow<false>(a, s, c, c.slab, x, flags), 1))
				return;
		} else {
			set_freepointer(s, x, c.freelist);
			c.freelist = x;
			slab_stat(c.free_fast);
			san_freed(s, x);
			fast_irq_restore(flags);
			return;
		}
	}
	if constexpr (kMagazineMax > 0) {
		if (!in_cpu_slab) {
			/* another slab of s (or misuse): its page and checks, still
			 * masked (pure lookups; a second mask would cost 3); it is
			 * not the CPU slab's, so not on the CPU freelist either */
			struct page *page = fast_page(a, reinterpret_cast<uintptr_t>(x));
			if (__builtin_expect(page != nullptr && page_cache_id(page) == s->id, 1)) {
				struct page *head = page_head(page);
				if (__builtin_expect(slab_object_ok(s, head, x) &&
							     push_or_overflow<false>(a, s, c, head, x, flags),
						     1))
					return;
				fast_irq_restore(flags);
				a.free_object_inline(s, head, x);
				return;
			}
		}
	}
	fast_irq_restore(flags);
	a.free_slow(s, x);
}

/* kmalloc size -> class index: a byte table up to 192 (it also gives the
 * sizes 3, 5, 6, 7 the 16-byte class on 64-bit, for 16-byte alignment),
 * then powers of two. */
struct KmallocSizeIndex {
	uint8_t index[193];
};
extern const KmallocSizeIndex kKmallocSizeIndex;

/* RISC-V without Zbb has no count-leading-zeros instruction, and libgcc's
 * __clzdi2 would be a call (a stack frame on kmalloc's hit path): there
 * the class above 192 bytes comes from (size - 1) >> 8 and this table. */
inline constexpr uint8_t kKmallocIndexAbove192[32] = {7,  8,  9,  9,  10, 10, 10, 10, 11, 11, 11,
						      11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12,
						      12, 12, 12, 12, 12, 12, 12, 12, 12, 12};

/* kmalloc's class for 192 < size <= 8K (its largest class): fls(size - 1)
 * - 1, so 256 -> 7 ... 8K -> 12. */
__attribute__((always_inline)) inline unsigned kmalloc_index_above_192(size_t size)
{
#if defined(__riscv) && !defined(__riscv_zbb)
	return kKmallocIndexAbove192[(size - 1) >> 8];
#else
	return static_cast<unsigned>(sizeof(unsigned long) * 8 - 1) - static_cast<unsigned>(__builtin_clzl(size - 1));
#endif
}

/* kmalloc's allocation from its class's cache s. */
template <bool kTry = kTryHold>
__attribute__((always_inline)) inline void *kmalloc_cache_fast(SlabAllocator &a, kmem_cache *s, size_t size, gfp_t gfp)
{
	unsigned long flags;
	if (!fast_hold<kTry>(flags))
		return a.kmalloc_full_hold(s, size, gfp);
	CacheCpu &c = this_cpu(s, flags);
	void *object = nullptr; /* set when cpu_alloc succeeds (-Og cannot see that) */
	if (__builtin_expect(cpu_alloc(s, c, object), 1)) {
		fast_unhold<kTry>(flags);
		if (__builtin_expect((gfp & kColdGfp) != 0, 0))
			return a.kmalloc_flagged(object, size, gfp); /* four registers: no frame */
		san_allocated(s, object, size, s->ctor != nullptr);
		return object;
	}
	fast_unhold<kTry>(flags);
	return a.kmalloc_refill(s, size, gfp);
}

__attribute__((always_inline)) inline void *kmalloc_fast(SlabAllocator &a, size_t size, gfp_t gfp)
{
	unsigned idx;
	if (__builtin_expect(size - 1 < 192, 1))
		idx = kKmallocSizeIndex.index[size];
	else if (size - 1 < published(a.kmalloc_max_))
		idx = kmalloc_index_above_192(size); /* 256 -> 7 ... 8K -> 12 */
	else
		return a.kmalloc_slow(size, gfp); /* 0, large */
	/* &unready_ (an empty cache: the slow path starts the slab layer)
	 * until the start publishes the class (slub.h, published) */
	return kmalloc_cache_fast(a, published(a.kmalloc_caches_[idx]), size, gfp);
}

/* kfree: region 0's page, its cache (any page of a slab names it; no
 * head-page or state test), the object check, the push. */
__attribute__((always_inline)) inline void kfree_fast(SlabAllocator &a, const void *x)
{
	struct page *page = fast_page(a, reinterpret_cast<uintptr_t>(x));
	if (__builtin_expect(page != nullptr, 1)) {
		kmem_cache *s = a.slot(page_cache_id(page));
		if (__builtin_expect(s != nullptr, 1)) {
			void *object = const_cast<void *>(x);
			if constexpr (kMagazineMax > 0) {
				push_slab_object(a, s, page, object);
				return;
			} else if (fast_page_state(page_head(page)) == kSlabCpu && s != &a.boot_cache_) {
				/* (a descriptor goes to free_object, which refuses a live one's) */
				slab_free_fast(a, s, object);
				return;
			}
			a.free_object_inline(s, page, object);
			return;
		}
	}
	a.kfree_slow(x);
}

} // namespace kmm

#endif
