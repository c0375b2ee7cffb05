/*
 * kernel/lib/new_delete.cpp — every replaceable global C++ allocation
 * function routed to kmm (part of the libc shim, kernel/lib/libc_shim.cpp):
 * operator new / new[] — plain, nothrow, aligned (std::align_val_t),
 * aligned + nothrow — and operator delete / delete[] — plain, sized,
 * nothrow, aligned, sized + aligned, aligned + nothrow.
 *
 *   * new: kmalloc of at least KMM_LIBC_SHIM_MIN_ALIGN bytes (so size 0 is
 *     a unique object, and every result is aligned to that); an alignment
 *     above it goes through kmm_libc_aligned_alloc (see there).
 *   * An align_val_t that is not a power of two (0 included; the compiler
 *     never passes one, only an explicit call can) is misuse, not out of
 *     memory: the nothrow forms return NULL, the others panic with
 *     "operator new: alignment is not a power of two (std::align_val_t)";
 *     neither calls the new_handler. (Those at or below the minimum, 3 or
 *     12, used to be served as a plain new; the others panicked as "out of
 *     memory".)
 *   * Out of memory: as the standard says, every form calls the installed
 *     std::new_handler (std::set_new_handler) and retries for as long as
 *     one is installed (a handler frees memory, or uninstalls itself).
 *     With none: the nothrow forms return NULL; the others cannot throw
 *     (firmware builds with -fno-exceptions, where the compiler assumes
 *     operator new never returns NULL), so they panic with a message.
 *     kmm's own OOM hook has already had its chance inside kmalloc.
 *   * std::set_new_handler / std::get_new_handler are defined here (weak),
 *     as -nostdlib images have no libsupc++; a firmware that links one
 *     may bring its own pair, used together.
 *   * delete: kfree, whatever the form; size and alignment are not needed
 *     (kmm finds the object from its page descriptor) and kfree reports and
 *     refuses a pointer it never handed out.
 *   * The sized forms do not check the size against the block, on purpose
 *     (docs/BARE_METAL.md): size <= ksize(p) would repeat kfree's lookup of
 *     the object on every delete of a complete type (the sized form is what
 *     the compiler calls), and it catches little: ksize is the class size
 *     (a 20-byte object passes any size up to 32), and the usual wrong-type
 *     delete, a derived object through a base pointer without a virtual
 *     destructor, passes a smaller size, which that test cannot see.
 *
 * Freestanding: <new> where the toolchain has C++ headers (arm-none-eabi),
 * else the declarations of kernel/lib/cxx_new.h (riscv64-unknown-elf).
 */
#include <stddef.h>

#include "cxx_new.h"

#include <arch/arch.h>
#include <kmm/kmm.h>

#include "libc_shim.h"

/* What a plain new must meet: the forms without align_val_t are used for
 * every type up to this alignment. */
static_assert(KMM_LIBC_SHIM_MIN_ALIGN >= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "new must meet the default new alignment");

/* std::nothrow itself lives in libsupc++, which -nostdlib images lack;
 * weak, so a firmware that links libstdc++ keeps its own. */
__attribute__((weak)) extern const std::nothrow_t std::nothrow{};

namespace {

std::new_handler g_new_handler = nullptr;

/* One failed attempt: run the new_handler if there is one (true: retry). */
bool handled_failure()
{
	std::new_handler handler = std::get_new_handler();
	if (handler == nullptr)
		return false;
	handler();
	return true;
}

/* caller: the return address of the operator new (the new-expression's
 * code), which slub_debug U and T record as the allocating code. */
void *allocate(size_t size, const void *caller)
{
	void *p;
	while ((p = kmm_libc_shim_kmalloc(kmm_libc_shim_size(size), GFP_KERNEL, caller)) == nullptr &&
	       handled_failure()) {
	}
	return p;
}

bool power_of_two(std::align_val_t align) { return kmm_libc_power_of_two(static_cast<size_t>(align)); }

/* NULL for an alignment that is not a power of two (the standard's
 * precondition), small ones included: misuse, not out of memory, so no
 * new_handler and no retry. */
void *allocate_aligned(size_t size, std::align_val_t align, const void *caller)
{
	size_t a = static_cast<size_t>(align);
	if (__builtin_expect(!power_of_two(align), 0))
		return nullptr;
	if (a <= KMM_LIBC_SHIM_MIN_ALIGN)
		return allocate(size, caller);
	void *p;
	while ((p = kmm_libc_aligned_alloc(a, size, caller)) == nullptr && handled_failure()) {
	}
	return p;
}

__attribute__((noreturn, cold)) void out_of_memory()
{
	/* No memory handed to kmm yet: C++ static constructors run before the
	 * kernel's kmm_init() (docs/BARE_METAL.md, "Firmware integration"). */
	if (kmm_managed_pages() == 0)
		kmm_arch_panic("operator new before kmm_init(): a global constructor that allocates?");
	kmm_arch_panic("operator new: out of memory (kmm)");
}

void *or_panic(void *p)
{
	if (__builtin_expect(p == nullptr, 0))
		out_of_memory();
	return p;
}

/* The aligned forms: a NULL from a bad alignment says so. */
void *or_panic(void *p, std::align_val_t align)
{
	if (__builtin_expect(p == nullptr, 0)) {
		if (!power_of_two(align))
			kmm_arch_panic("operator new: alignment is not a power of two (std::align_val_t)");
		out_of_memory();
	}
	return p;
}

} // namespace

__attribute__((weak)) std::new_handler std::set_new_handler(std::new_handler handler) noexcept
{
	return __atomic_exchange_n(&g_new_handler, handler, __ATOMIC_ACQ_REL);
}

__attribute__((weak)) std::new_handler std::get_new_handler() noexcept
{
	return __atomic_load_n(&g_new_handler, __ATOMIC_ACQUIRE);
}

/* Each form passes its own return address, the new-expression's code. */
void *operator new(size_t size) { return or_panic(allocate(size, KMM_LIBC_SHIM_CALLER())); }
void *operator new[](size_t size) { return or_panic(allocate(size, KMM_LIBC_SHIM_CALLER())); }
void *operator new(size_t size, const std::nothrow_t &) noexcept
{
	return allocate(size, KMM_LIBC_SHIM_CALLER());
}
void *operator new[](size_t size, const std::nothrow_t &) noexcept
{
	return allocate(size, KMM_LIBC_SHIM_CALLER());
}
void *operator new(size_t size, std::align_val_t align)
{
	return or_panic(allocate_aligned(size, align, KMM_LIBC_SHIM_CALLER()), align);
}
void *operator new[](size_t size, std::align_val_t align)
{
	return or_panic(allocate_aligned(size, align, KMM_LIBC_SHIM_CALLER()), align);
}
void *operator new(size_t size, std::align_val_t align, const std::nothrow_t &) noexcept
{
	return allocate_aligned(size, align, KMM_LIBC_SHIM_CALLER());
}
void *operator new[](size_t size, std::align_val_t align, const std::nothrow_t &) noexcept
{
	return allocate_aligned(size, align, KMM_LIBC_SHIM_CALLER());
}

void operator delete(void *p) noexcept { kfree(p); }
void operator delete[](void *p) noexcept { kfree(p); }
void operator delete(void *p, size_t) noexcept { kfree(p); }
void operator delete[](void *p, size_t) noexcept { kfree(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { kfree(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { kfree(p); }
void operator delete(void *p, std::align_val_t) noexcept { kfree(p); }
void operator delete[](void *p, std::align_val_t) noexcept { kfree(p); }
void operator delete(void *p, size_t, std::align_val_t) noexcept { kfree(p); }
void operator delete[](void *p, size_t, std::align_val_t) noexcept { kfree(p); }
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { kfree(p); }
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { kfree(p); }
