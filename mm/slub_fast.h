/*
 * mm/slub_fast.h — the inline fast paths: kmem_cache alloc/free on the
 * running CPU's freelist, and kmalloc/kfree in front of them. Everything
 * unusual is one out-of-line call into SlabAllocator::*_slow.
 *
 * mm-internal: include only from mm/ sources (they are compiled with the
 * arch's definitions, e.g. KMM_HOST, which arch/irq.h reads); tests use
 * SlabAllocator::alloc/free, which wrap these.
 *
 * What the fast path checks (each failing check goes to the slow path,
 * which diagnoses and reports; nothing is changed before that):
 *   alloc: nothing — it pops the CPU freelist.
 *   free:  the object lies in the CPU slab's object area, on an object
 *          boundary (no division: see on_object_boundary), and is not the
 *          head of the CPU freelist (the one double free visible in O(1)).
 * A double free of an object deeper in the CPU freelist is not caught here
 * (see docs/SLAB.md: SLAB_CONSISTENCY_CHECKS caches catch every one).
 */
#ifndef KMM_MM_SLUB_FAST_H
#define KMM_MM_SLUB_FAST_H

#include <arch/arch.h>
#include <arch/irq.h>

#include "slub.h"

namespace kmm {

/* IRQ masking for the per-CPU fast path: arch/irq.h's inline version of
 * kmm_arch_irq_save/restore (a compiler barrier on the host, PRIMASK on
 * Cortex-M, ...), not two calls per operation. */
__attribute__((always_inline)) inline unsigned long fast_irq_save() { return arch::irq_save(); }
__attribute__((always_inline)) inline void fast_irq_restore(unsigned long flags) { arch::irq_restore(flags); }

__attribute__((always_inline)) inline CacheCpu &this_cpu(kmem_cache *s)
{
	if constexpr (KMM_NR_CPUS == 1)
		return s->cpu[0];
	else
		return s->cpu[kmm_arch_cpu_id()];
}

__attribute__((always_inline)) inline void slab_stat(unsigned long &counter)
{
	if constexpr (KMM_SLAB_STATS)
		++counter;
}

__attribute__((always_inline)) inline void *slab_alloc_fast(SlabAllocator &a, kmem_cache *s, gfp_t gfp)
{
	unsigned long flags = fast_irq_save();
	CacheCpu &c = this_cpu(s);
	void *object = c.freelist;
	if (__builtin_expect(object != nullptr, 1)) {
		c.freelist = get_freepointer(s, object);
		slab_stat(c.alloc_fast);
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
	if (__builtin_expect(offset < c.slab_bytes && on_object_boundary(s, offset) && x != c.freelist, 1)) {
		set_freepointer(s, x, c.freelist);
		c.freelist = x;
		slab_stat(c.free_fast);
		fast_irq_restore(flags);
		return;
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
	void *object = c.freelist;
	if (__builtin_expect(object != nullptr, 1)) {
		c.freelist = get_freepointer(s, object);
		slab_stat(c.alloc_fast);
		fast_irq_restore(flags);
		if (__builtin_expect((gfp & __GFP_ZERO) != 0, 0))
			__builtin_memset(object, 0, s->object_size);
		return object;
	}
	fast_irq_restore(flags);
	return a.kmalloc_slow(size, gfp);
}

__attribute__((always_inline)) inline void kfree_fast(SlabAllocator &a, const void *x)
{
	struct page *page = a.pages_.virt_to_page(x);
	if (__builtin_expect(page != nullptr, 1)) {
		uint8_t state = page->state;
		if (state == kTail) { /* inside a multi-page slab or large block */
			page = page->next;
			state = page->state;
		}
		if (__builtin_expect(state == kSlabCpu, 1)) {
			slab_free_fast(a, a.caches_[page->cache_id], const_cast<void *>(x));
			return;
		}
		if (state == kSlab) { /* not the CPU slab: out of line */
			a.free_object(a.caches_[page->cache_id], page, const_cast<void *>(x));
			return;
		}
	}
	a.kfree_slow(x);
}

} // namespace kmm

#endif
