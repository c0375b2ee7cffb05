/*
 * kmm/kmm_pmr.hpp — a std::pmr::memory_resource over kmalloc/kfree, for
 * hosted builds (host tools, simulators, Linux user space around kmm): it
 * needs <memory_resource>, which freestanding images do not have, so it is
 * a header of its own; firmware uses kmm/kmm.hpp. A wrapper, not a second
 * allocator: every byte comes from kmalloc.
 *
 * kmm::KmallocResource(gfp = GFP_KERNEL)
 *   allocate(bytes, align): kmm_kmalloc_aligned (kmm/slab.h): kmalloc of
 *     bytes (0 counting as 1: a real, unique block, not ZERO_SIZE_PTR)
 *     rounded up to a multiple of align, which kmalloc aligns to align;
 *     also for a small align (a power-of-two size such as 8 is aligned
 *     only to itself);
 *     align above a max-order buddy block, or not a power of two, or out
 *     of memory: std::bad_alloc (what memory_resource promises; built
 *     with -fno-exceptions: __builtin_trap, as KmallocAllocator).
 *   deallocate(p, bytes, align): kfree(p) (the sizes are not checked:
 *     kfree knows the block; a pointer kmm never handed out is reported
 *     and refused as by kfree).
 *   is_equal: true for the same object. Built with RTTI, also for any
 *     other KmallocResource of the same zone: both with GFP_DMA or both
 *     without (each frees the others' blocks, but a container over a
 *     GFP_DMA resource must not take over a block from outside the DMA
 *     zone, which a move assignment between equal allocators does: unequal,
 *     it moves element by element into a block of its own). Without RTTI
 *     (-fno-rtti) it cannot tell another KmallocResource from a foreign
 *     resource and answers false: std::pmr containers over two distinct
 *     KmallocResources then count as having unequal allocators (a move
 *     assignment moves element by element; swapping them is undefined), so
 *     share one resource (kmalloc_resource()).
 * kmm::kmalloc_resource(): one GFP_KERNEL instance, like
 *   std::pmr::new_delete_resource().
 *
 * Thread safety: as kmalloc (IRQ- and SMP-safe; pass GFP_ATOMIC where a
 * container allocates in interrupt context). kmm must be initialised
 * (kmm_init) before the first allocation.
 */
#ifndef KMM_KMM_PMR_HPP
#define KMM_KMM_PMR_HPP

#include <cstddef>
#include <memory_resource>
#include <new>

#include <kmm/page_alloc.h>
#include <kmm/slab.h>

namespace kmm {

class KmallocResource final : public std::pmr::memory_resource {
public:
	explicit KmallocResource(gfp_t gfp = GFP_KERNEL) noexcept : gfp_(gfp) {}
	gfp_t gfp() const noexcept { return gfp_; }

private:
	void *do_allocate(std::size_t bytes, std::size_t align) override
	{
		void *p = try_allocate(bytes, align);
		if (p == nullptr)
			fail();
		return p;
	}
	void do_deallocate(void *p, std::size_t, std::size_t) override { kfree(p); }
	bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override
	{
		if (this == &other)
			return true;
#if defined(__cpp_rtti)
		const auto *k = dynamic_cast<const KmallocResource *>(&other);
		return k != nullptr && ((k->gfp_ ^ gfp_) & __GFP_DMA) == 0;
#else
		return false;
#endif
	}

	void *try_allocate(std::size_t bytes, std::size_t align) const
	{
		if (align > (PAGE_SIZE << KMM_MAX_ORDER))
			return nullptr;
		/* a multiple of align: also what a small power-of-two size
		 * (kmalloc(8): 8-aligned only) needs to meet align */
		return kmm_kmalloc_aligned(bytes, align, gfp_);
	}

	[[noreturn]] static void fail()
	{
#if defined(__cpp_exceptions)
		throw std::bad_alloc();
#else
		__builtin_trap();
#endif
	}

	gfp_t gfp_;
};

inline KmallocResource *kmalloc_resource() noexcept
{
	static KmallocResource resource;
	return &resource;
}

} // namespace kmm

#endif /* KMM_KMM_PMR_HPP */
