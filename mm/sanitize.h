/*
 * mm/sanitize.h — host-only annotations that let AddressSanitizer (manual
 * poisoning) and Valgrind memcheck (mempool client requests) see kmm's
 * objects: free objects and red zones are unaddressable, an allocated
 * object is addressable up to the size asked for. Owns nothing else.
 *
 * Everything here compiles to nothing on targets, in host builds without
 * -fsanitize=address, and with KMM_ASAN_ANNOTATE=0 / KMM_VALGRIND=0
 * (config.h), so the fast paths that call these are unchanged there.
 *
 * What stays addressable in a slab, so kmm itself never trips them: the
 * free-pointer word of every free object (get/set_freepointer read it) and
 * the user bytes of allocated objects. Debug code that reads a whole slot
 * opens it first (san_open) and closes it by state (san_close_*).
 */
#ifndef KMM_MM_SANITIZE_H
#define KMM_MM_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/config.h>

#define KMM_ASAN_ON 0
#define KMM_VALGRIND_ON 0
#if defined(KMM_HOST) && KMM_ASAN_ANNOTATE
#if defined(__SANITIZE_ADDRESS__)
#define KMM_ASAN_DETECTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KMM_ASAN_DETECTED 1
#endif
#endif
#if defined(KMM_ASAN_DETECTED) && __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#undef KMM_ASAN_ON
#define KMM_ASAN_ON 1
#endif
#endif
#if defined(KMM_HOST) && KMM_VALGRIND && __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#undef KMM_VALGRIND_ON
#define KMM_VALGRIND_ON 1
#endif

namespace kmm {

inline constexpr bool kSanitize = KMM_ASAN_ON || KMM_VALGRIND_ON;

/* Bytes [p, p + n) become unaddressable / addressable and defined. */
inline void san_poison([[maybe_unused]] const void *p, [[maybe_unused]] size_t n)
{
#if KMM_ASAN_ON
	__asan_poison_memory_region(p, n);
#endif
#if KMM_VALGRIND_ON
	VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
}
inline void san_unpoison([[maybe_unused]] const void *p, [[maybe_unused]] size_t n)
{
#if KMM_ASAN_ON
	__asan_unpoison_memory_region(p, n);
#endif
#if KMM_VALGRIND_ON
	VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
}

/* ASan only: is the byte at p unaddressable now? */
inline bool san_is_poisoned([[maybe_unused]] const void *p)
{
#if KMM_ASAN_ON
	return __asan_address_is_poisoned(p) != 0;
#else
	return false;
#endif
}

/* A cache is a Valgrind mempool keyed by its kmem_cache address. */
inline void san_pool_create([[maybe_unused]] const void *pool)
{
#if KMM_VALGRIND_ON
	if (VALGRIND_MEMPOOL_EXISTS(pool))
		VALGRIND_DESTROY_MEMPOOL(pool);
	VALGRIND_CREATE_MEMPOOL(pool, 0, 0);
#endif
}
inline void san_pool_destroy([[maybe_unused]] const void *pool)
{
#if KMM_VALGRIND_ON
	if (VALGRIND_MEMPOOL_EXISTS(pool))
		VALGRIND_DESTROY_MEMPOOL(pool);
#endif
}

/* Valgrind mempool chunk bookkeeping alone (debug caches mark bytes
 * themselves with san_poison/san_unpoison). */
inline void san_pool_alloc([[maybe_unused]] const void *pool, [[maybe_unused]] const void *obj,
			   [[maybe_unused]] size_t size)
{
#if KMM_VALGRIND_ON
	VALGRIND_MEMPOOL_ALLOC(pool, obj, size);
#endif
}
inline void san_pool_free([[maybe_unused]] const void *pool, [[maybe_unused]] const void *obj)
{
#if KMM_VALGRIND_ON
	VALGRIND_MEMPOOL_FREE(pool, obj);
#endif
}

#if KMM_ASAN_ON
/* ASan: of an object's span only its first `size` bytes and kmm's free
 * pointer (fp) are addressable. */
inline void asan_object_usable(void *obj, size_t size, size_t span, const void *fp)
{
	__asan_poison_memory_region(obj, span);
	__asan_unpoison_memory_region(fp, sizeof(void *));
	__asan_unpoison_memory_region(obj, size);
}
#endif

/* An object handed out: [obj, obj + size) addressable, the rest of its
 * span (padding, red zones) not, except the free-pointer word at fp
 * (kmm's own, even while the object is allocated). `defined`: its
 * contents are meaningful (a ctor object, zeroed memory). */
inline void san_object_alloc([[maybe_unused]] const void *pool, [[maybe_unused]] void *obj,
			     [[maybe_unused]] size_t size, [[maybe_unused]] size_t span,
			     [[maybe_unused]] const void *fp, [[maybe_unused]] bool defined)
{
#if KMM_ASAN_ON
	asan_object_usable(obj, size, span, fp);
#endif
#if KMM_VALGRIND_ON
	VALGRIND_MEMPOOL_ALLOC(pool, obj, size);
	if (defined)
		VALGRIND_MAKE_MEM_DEFINED(obj, size);
#endif
}

/* An allocated object now usable for `size` bytes (kmalloc's request
 * after a slow-path allocation, ksize, krealloc in place). */
inline void san_object_resize([[maybe_unused]] const void *pool, [[maybe_unused]] void *obj,
			      [[maybe_unused]] size_t size, [[maybe_unused]] size_t span,
			      [[maybe_unused]] const void *fp)
{
#if KMM_ASAN_ON
	asan_object_usable(obj, size, span, fp);
#endif
#if KMM_VALGRIND_ON
	VALGRIND_MEMPOOL_CHANGE(pool, obj, obj, size);
#endif
}

/* An object given back: all of [obj, obj + span) unaddressable except
 * the free-pointer word at fp (kmm's own). */
inline void san_object_free([[maybe_unused]] const void *pool, [[maybe_unused]] void *obj,
			    [[maybe_unused]] size_t span, [[maybe_unused]] const void *fp)
{
#if KMM_ASAN_ON
	__asan_poison_memory_region(obj, span);
	__asan_unpoison_memory_region(fp, sizeof(void *));
#endif
#if KMM_VALGRIND_ON
	VALGRIND_MEMPOOL_FREE(pool, obj);
	VALGRIND_MAKE_MEM_NOACCESS(obj, span);
	VALGRIND_MAKE_MEM_DEFINED(fp, sizeof(void *));
#endif
}

/* An object born free in a new slab: like san_object_free, but it was
 * never a chunk of the Valgrind mempool, so there is nothing to free in
 * the pool (a MEMPOOL_FREE here is an "Invalid free" for memcheck). */
inline void san_object_fresh([[maybe_unused]] void *obj, [[maybe_unused]] size_t span,
			     [[maybe_unused]] const void *fp)
{
#if KMM_ASAN_ON
	__asan_poison_memory_region(obj, span);
	__asan_unpoison_memory_region(fp, sizeof(void *));
#endif
#if KMM_VALGRIND_ON
	VALGRIND_MAKE_MEM_NOACCESS(obj, span);
	VALGRIND_MAKE_MEM_DEFINED(fp, sizeof(void *));
#endif
}

} // namespace kmm

#endif
