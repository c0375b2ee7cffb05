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
 *   alloc:  pop the magazine, else pop the CPU freelist, else alloc_slow.
 *   free:   checks, then push onto the magazine if it has room, else
 *           free_slow/free_object (which flush half of it, see slub.cpp).
 *
 * What the free fast paths check before the push (a failing check goes out
 * of line, which diagnoses and reports; nothing is changed before that):
 *   kmem_cache_free: x lies in the CPU slab's object area, on an object
 *           boundary (no division: see on_object_boundary). Any other
 *           pointer (another slab of the cache, or misuse) goes to
 *           free_slow, which looks up its page.
 *   kfree:  x's page (region 0 inline) is a slab page; its cache is the
 *           page's; x & slab_mask is below the object area, on a boundary;
 *           the slab is not empty and x is not its page freelist head.
 *   both:   x is neither the last object pushed (the double free free(p);
 *           free(p): every free of a magazine cache ends with x on top) nor
 *           the CPU freelist head.
 * Deeper double frees are not caught here (see docs/SLAB.md: the slow
 * path adds the freelist heads; SLAB_CONSISTENCY_CHECKS caches, which
 * have no magazine and no CPU slab, catch every one).
 */
#ifndef KMM_MM_SLUB_FAST_H
#define KMM_MM_SLUB_FAST_H

#include <arch/arch.h>
#include <arch/irq.h>

#include "slub.h"

namespace kmm {

#if defined(KMM_HOST) && KMM_NR_CPUS > 1
/* arch/host/arch_host.cpp: the host's emulation of "IRQs masked on this
 * CPU" (nothing else runs on it) for threads, which are preemptible and
 * may share a CPU slot; and the emulated IPI (hold another slot). */
extern "C" unsigned int kmm_host_cpu_hold(void);
extern "C" void kmm_host_cpu_unhold(void);
extern "C" void kmm_host_cpu_hold_other(unsigned int cpu);
extern "C" void kmm_host_cpu_unhold_other(unsigned int cpu);
inline constexpr bool kHostCpuHold = true;
#else
inline constexpr bool kHostCpuHold = false;
#endif

/* IRQ masking for the per-CPU fast path: arch/irq.h's inline version of
 * kmm_arch_irq_save/restore (a compiler barrier on the host, PRIMASK on
 * Cortex-M, ...), not two calls per operation. On an SMP host build it
 * holds the thread's CPU slot instead (see above): the per-CPU data is then
 * the thread's alone, as it is a CPU's alone with IRQs masked on a target. */
__attribute__((always_inline)) inline unsigned long fast_irq_save()
{
#if defined(KMM_HOST) && KMM_NR_CPUS > 1
	return kmm_host_cpu_hold();
#else
	return arch::irq_save();
#endif
}
__attribute__((always_inline)) inline void fast_irq_restore(unsigned long flags)
{
#if defined(KMM_HOST) && KMM_NR_CPUS > 1
	(void)flags;
	kmm_host_cpu_unhold();
#else
	arch::irq_restore(flags);
#endif
}

__attribute__((always_inline)) inline CacheCpu &this_cpu(kmem_cache *s)
{
	if constexpr (KMM_NR_CPUS == 1)
		return s->cpu[0];
	else
		return s->cpu[kmm_arch_cpu_id()];
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

/* Pops an object off c's magazine, else off its CPU freelist; NULL if
 * both are empty. IRQs masked. */
__attribute__((always_inline)) inline void *cpu_pop(const kmem_cache *s, CacheCpu &c)
{
	uint32_t n = c.mag_count;
	if (__builtin_expect(n != 0, 1)) {
		c.mag_count = n - 1;
		return c.mag[n];
	}
	void *object = c.freelist;
	if (object != nullptr)
		c.freelist = get_freepointer(s, object);
	return object;
}

/* The inline allocation of slab_alloc_fast and kmalloc_fast: cpu_pop, with
 * a magazine hit apart from the CPU freelist, so it needs no NULL test.
 * False if both are empty. IRQs masked. */
__attribute__((always_inline)) inline bool cpu_alloc(const kmem_cache *s, CacheCpu &c, void *&object)
{
	uint32_t n = c.mag_count;
	if (__builtin_expect(n != 0, 1)) {
		c.mag_count = n - 1;
		object = c.mag[n];
	} else {
		object = c.freelist;
		if (__builtin_expect(object == nullptr, 0))
			return false;
		c.freelist = get_freepointer(s, object);
	}
	slab_stat(c.alloc_fast);
	return true;
}

/* Pushes x, an object of this cache that passed the caller's checks, if
 * it is neither the last object pushed nor the CPU freelist head (double
 * frees) and the magazine has room. IRQs masked. */
__attribute__((always_inline)) inline bool cpu_push(CacheCpu &c, void *x)
{
	uint32_t n = c.mag_count;
	if (__builtin_expect(x != c.mag[n] && x != c.freelist && n < mag_limit_of(c), 1)) {
		c.mag[n + 1] = x;
		c.mag_count = n + 1;
		slab_stat(c.free_fast);
		return true;
	}
	return false;
}

__attribute__((always_inline)) inline void *slab_alloc_fast(SlabAllocator &a, kmem_cache *s, gfp_t gfp)
{
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s);
	void *object;
	if (__builtin_expect(cpu_alloc(s, c, object), 1)) {
		fast_irq_restore(flags);
		if (__builtin_expect((gfp & __GFP_ZERO) != 0, 0))
			__builtin_memset(object, 0, s->object_size);
		return object;
	}
	fast_irq_restore(flags);
	return a.alloc_slow(s, gfp);
}

__attribute__((always_inline)) inline void slab_free_fast(SlabAllocator &a, kmem_cache *s, void *x)
{
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s);
	uintptr_t offset = reinterpret_cast<uintptr_t>(x) - c.slab_start;
	if (__builtin_expect(offset < c.slab_bytes && on_object_boundary(s, offset), 1)) {
		if constexpr (kMagazineMax > 0) {
			if (__builtin_expect(cpu_push(c, x), 1)) {
				fast_irq_restore(flags);
				return;
			}
		} else if (x != c.freelist) { /* no magazines: the CPU freelist */
			set_freepointer(s, x, c.freelist);
			c.freelist = x;
			slab_stat(c.free_fast);
			fast_irq_restore(flags);
			return;
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

__attribute__((always_inline)) inline void *kmalloc_fast(SlabAllocator &a, size_t size, gfp_t gfp)
{
	unsigned idx;
	if (__builtin_expect(size - 1 < 192, 1))
		idx = kKmallocSizeIndex.index[size];
	else if (size - 1 < a.kmalloc_max_)
		idx = static_cast<unsigned>(sizeof(unsigned long) * 8 - 1) -
		      static_cast<unsigned>(__builtin_clzl(size - 1)); /* 256 -> 7 ... 8K -> 12 */
	else
		return a.kmalloc_slow(size, gfp); /* 0, large */
	kmem_cache *s = a.kmalloc_caches_[idx];
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s);
	void *object;
	if (__builtin_expect(cpu_alloc(s, c, object), 1)) {
		fast_irq_restore(flags);
		if (__builtin_expect((gfp & __GFP_ZERO) != 0, 0))
			__builtin_memset(object, 0, s->object_size);
		return object;
	}
	fast_irq_restore(flags);
	return a.kmalloc_slow(size, gfp);
}

/* kfree: region 0's page (the common case, no region loop), its head, a
 * slab page's cache, the object checks, the push. */
__attribute__((always_inline)) inline void kfree_fast(SlabAllocator &a, const void *x)
{
	uintptr_t addr = reinterpret_cast<uintptr_t>(x);
	uintptr_t map_offset = addr - a.map_start_;
	if (__builtin_expect(map_offset < a.map_bytes_, 1)) {
		struct page *page = a.map_pages_ + (map_offset >> kPageShift);
		uint8_t state = fast_page_state(page);
		if (state == kTail) { /* inside a multi-page slab or large block */
			page = page->next;
			state = fast_page_state(page);
		}
		if (__builtin_expect(static_cast<uint8_t>(state - kSlab) <= kSlabCpu - kSlab, 1)) {
			kmem_cache *s = a.caches_[page->cache_id];
			void *object = const_cast<void *>(x);
			if constexpr (kMagazineMax > 0) {
				uintptr_t offset = addr & s->slab_mask;
				unsigned long flags = fast_irq_save();
				CacheCpu &c = this_cpu(s);
				if (__builtin_expect(offset < s->object_area && on_object_boundary(s, offset) &&
							     slab_inuse(page) != 0 && slab_freelist(page) != freelist_encode_offset(offset) &&
							     cpu_push(c, object),
						     1)) {
					fast_irq_restore(flags);
					return;
				}
				fast_irq_restore(flags);
			} else if (state == kSlabCpu) {
				slab_free_fast(a, s, object);
				return;
			}
			a.free_object(s, page, object);
			return;
		}
	}
	a.kfree_slow(x);
}

} // namespace kmm

#endif
