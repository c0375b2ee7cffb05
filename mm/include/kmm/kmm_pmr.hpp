/*
 * kmm/kmm_pmr.hpp — a std::pmr::memory_resource over kmalloc/kfree, for
 * hosted builds (host tools, simulators, Linux user space around kmm): it
 * needs <memory_resource>, which freestanding images do not have, so it is
 * a header of its own; firmware uses kmm/kmm.hpp. A wrapper, not a second
 * allocator: every byte comes from kmalloc.
 *
 * kmm::KmallocResource(gfp = GFP_KERNEL)
 *   allocate(bytes, align):
 *     align <= kmalloc's minimum (8 bytes, 16 on 64-bit): kmalloc of
 *     bytes, at least align (a power-of-two size, e.g. 8, is aligned only
 *     to itself), 0 bytes counting as 1 (a real, unique block, not
 *     ZERO_SIZE_PTR);
 *     larger power-of-two align: kmalloc of bytes rounded up to a multiple
 *     of align. kmalloc aligns a power-of-two size to itself and places
 *     the 96/192-byte classes' objects at multiples of 32/64, so that
 *     block is aligned; the result is checked anyway and, should it not
 *     be, a power-of-two size is used instead;
 *     align above a max-order buddy block, or not a power of two, or out
 *     of memory: std::bad_alloc (what memory_resource promises; built
 *     with -fno-exceptions: __builtin_trap, as KmallocAllocator).
 *   deallocate(p, bytes, align): kfree(p) (the sizes are not checked:
 *     kfree knows the block; a pointer kmm never handed out is reported
 *     and refused as by kfree).
 *   is_equal: true for any KmallocResource (each frees the others'
 *     blocks), whatever its gfp; otherwise identity.
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
#include <cstdint>
#include <memory_resource>
#include <new>

#include <kmm/page_alloc.h>
#include <kmm/slab.h>

namespace kmm {

class KmallocResource final : public std::pmr::memory_resource {
public:
	explicit KmallocResource(gfp_t gfp = GFP_KERNEL) noexcept : gfp_(gfp) {}
	gfp_t gfp() const noexcept { return gfp_; }

	/* kmalloc's alignment for any size (the header above). */
	static constexpr std::size_t kMinAlign = sizeof(void *) >= 8 ? 16 : 8;

private:
	void *do_allocate(std::size_t bytes, std::size_t align) override
	{
		void *p = try_allocate(bytes != 0 ? bytes : 1, align);
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
		return dynamic_cast<const KmallocResource *>(&other) != nullptr;
#else
		return false;
#endif
	}

	static bool aligned(const void *p, std::size_t align)
	{
		return (reinterpret_cast<std::uintptr_t>(p) & (align - 1)) == 0;
	}

	void *try_allocate(std::size_t bytes, std::size_t align) const
	{
		if (align == 0 || (align & (align - 1)) != 0 || align > (PAGE_SIZE << KMM_MAX_ORDER))
			return nullptr;
		/* kMinAlign holds for sizes that are not a power of two; a power
		 * of two is aligned to itself only (kmalloc(8): 8), so ask for
		 * at least `align` bytes */
		if (align <= kMinAlign)
			return kmalloc(bytes < align ? align : bytes, gfp_);
		std::size_t size;
		if (__builtin_add_overflow(bytes, align - 1, &size))
			return nullptr;
		size &= ~(align - 1);
		void *p = kmalloc(size, gfp_);
		if (p == nullptr || aligned(p, align))
			return p;
		kfree(p); /* not expected (above): a power-of-two size is aligned to itself */
		std::size_t pow2 = std::size_t{1} << (sizeof(std::size_t) * 8 - static_cast<unsigned>(__builtin_clzl(size - 1)));
		if (pow2 < size)
			return nullptr;
		p = kmalloc(pow2, gfp_);
		if (p != nullptr && !aligned(p, align)) {
			kfree(p);
			p = nullptr;
		}
		return p;
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
