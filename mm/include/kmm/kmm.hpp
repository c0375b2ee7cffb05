/*
 * kmm/kmm.hpp — C++ wrappers over the C API of kmm/slab.h: typed object
 * caches and an STL allocator over kmalloc. Thin wrappers, never a second
 * implementation: every call is one C call plus the C++ object lifetime.
 *
 * Needs no C++ library header at all, only what kmm/slab.h includes
 * (<stddef.h>, <stdint.h>: the compiler's own, present on every target,
 * also riscv64-unknown-elf, which ships no C++ headers). Forwarding is a
 * static_cast, the type checks are compiler built-ins, and objects are
 * constructed through a placement operator new of kmm's own (a tag type
 * in its signature keeps it apart from <new>'s, so both may be visible).
 * With exceptions enabled (and a <new> to include: hosted builds)
 * KmallocAllocator throws std::bad_alloc on failure, as the standard
 * requires; without them it traps. The freestanding form is compiled and
 * run on every cross target by tests/cross (kmm_hpp_check.cpp).
 *
 * kmm::ObjectCache<T> — C++ lifetime semantics:
 *   make(args...)           allocates with GFP_KERNEL and constructs
 *                           T(args...) in the object;
 *   make_gfp(gfp, args...)  the same with the caller's gfp flags, e.g.
 *                           GFP_ATOMIC in interrupt context. A separate name
 *                           on purpose: an overload make(gfp_t, args...)
 *                           would silently take the first argument of a T
 *                           built from an unsigned integer as the flags;
 *   destroy(p)              runs ~T() and frees it (NULL is a no-op). As
 *                           with delete, ~T() runs first: a destroy that
 *                           the free then refuses (p from another cache, a
 *                           second destroy, a moved-from ObjectCache) is
 *                           reported, but T's destructor has already run
 *                           on p — the misuse is the caller's to fix.
 *   The cache has no slab ctor: T's constructor runs on every make(), its
 *   destructor on every destroy(), exactly like new/delete — also when T's
 *   constructor throws (exceptions enabled): the object is freed and the
 *   exception passes on.
 *
 * kmm::PreservingCache<T> — Linux constructor-preserving semantics:
 *   T() runs once per object when its slab is created (the cache's ctor),
 *   never on allocation; alloc(gfp = GFP_KERNEL) returns an object either
 *   freshly constructed or exactly as its last user left it; release(p)
 *   frees it without running anything. ~T() never runs (a slab has no
 *   destructor), so T must be trivially destructible (checked at compile
 *   time). Use it for objects whose constructed state (locks, list heads,
 *   buffers) is worth keeping across uses.
 *
 * Both: the cache is created in the constructor (valid() tells whether it
 * was; pass SLAB_PANIC to panic instead) and destroyed in the destructor —
 * objects still allocated then are reported (kmem_cache_destroy) and the
 * cache is kept. Movable, not copyable. Thread safety: as kmm/slab.h.
 */
#ifndef KMM_KMM_HPP
#define KMM_KMM_HPP

#include <kmm/slab.h>

#if defined(__cpp_exceptions) && __has_include(<new>)
#include <new> /* std::bad_alloc; hosted builds only */
#define KMM_HPP_THROWS 1
#else
#define KMM_HPP_THROWS 0
#endif

/* Type checks without <type_traits>: GCC before 13 has no
 * __is_trivially_destructible, only the older spelling. */
#if defined(__has_builtin)
#if __has_builtin(__is_trivially_destructible)
#define KMM_HPP_TRIVIALLY_DESTRUCTIBLE(T) __is_trivially_destructible(T)
#endif
#endif
#ifndef KMM_HPP_TRIVIALLY_DESTRUCTIBLE
#define KMM_HPP_TRIVIALLY_DESTRUCTIBLE(T) __has_trivial_destructor(T)
#endif

namespace kmm::detail {
/* Only kmm's placement new below takes it. */
struct PlaceTag {
	explicit PlaceTag() = default;
};
} // namespace kmm::detail

/* Placement new and its matching delete (called only if a constructor run
 * by this new throws; the wrappers free the object themselves). */
inline void *operator new(size_t, void *where, kmm::detail::PlaceTag) noexcept { return where; }
inline void operator delete(void *, void *, kmm::detail::PlaceTag) noexcept {}

namespace kmm {

namespace detail {
class CacheHandle {
public:
	CacheHandle(const char *name, size_t size, size_t align, slab_flags_t flags, void (*ctor)(void *))
		: cache_(kmem_cache_create(name, static_cast<unsigned int>(size), static_cast<unsigned int>(align),
					   flags, ctor))
	{
	}
	~CacheHandle() { kmem_cache_destroy(cache_); }
	CacheHandle(CacheHandle &&other) noexcept : cache_(other.cache_) { other.cache_ = nullptr; }
	CacheHandle &operator=(CacheHandle &&other) noexcept
	{
		if (this != &other) {
			kmem_cache_destroy(cache_);
			cache_ = other.cache_;
			other.cache_ = nullptr;
		}
		return *this;
	}
	CacheHandle(const CacheHandle &) = delete;
	CacheHandle &operator=(const CacheHandle &) = delete;

	struct kmem_cache *get() const { return cache_; }

private:
	struct kmem_cache *cache_;
};
} // namespace detail

template <typename T> class ObjectCache {
	static_assert(sizeof(T) <= 0xffffffffu, "kmem_cache_create takes an unsigned int size");

public:
	explicit ObjectCache(const char *name, slab_flags_t flags = 0)
		: handle_(name, sizeof(T), alignof(T), flags, nullptr)
	{
	}

	bool valid() const { return handle_.get() != nullptr; }
	struct kmem_cache *cache() const { return handle_.get(); }

	/* NULL if out of memory (T is then not constructed). The casts are
	 * std::forward: each argument keeps its value category. */
	template <typename... Args> T *make(Args &&...args)
	{
		return make_gfp(GFP_KERNEL, static_cast<Args &&>(args)...);
	}
	template <typename... Args> T *make_gfp(gfp_t gfp, Args &&...args)
	{
		void *p = kmem_cache_alloc(handle_.get(), gfp);
		if (p == nullptr)
			return nullptr;
#if defined(__cpp_exceptions)
		try {
			return ::new (p, detail::PlaceTag{}) T(static_cast<Args &&>(args)...);
		} catch (...) {
			kmem_cache_free(handle_.get(), p);
			throw;
		}
#else
		return ::new (p, detail::PlaceTag{}) T(static_cast<Args &&>(args)...);
#endif
	}
	void destroy(T *p)
	{
		if (p == nullptr)
			return;
		p->~T();
		kmem_cache_free(handle_.get(), p);
	}

private:
	detail::CacheHandle handle_;
};

template <typename T> class PreservingCache {
	static_assert(sizeof(T) <= 0xffffffffu, "kmem_cache_create takes an unsigned int size");
	static_assert(KMM_HPP_TRIVIALLY_DESTRUCTIBLE(T),
		      "a slab never runs destructors: PreservingCache needs a trivially destructible T");
	static_assert(__is_constructible(T), "the slab ctor runs T()");

public:
	explicit PreservingCache(const char *name, slab_flags_t flags = 0)
		: handle_(name, sizeof(T), alignof(T), flags, &construct)
	{
	}

	bool valid() const { return handle_.get() != nullptr; }
	struct kmem_cache *cache() const { return handle_.get(); }

	/* Constructed once, or as its last user left it; NULL if out of memory. */
	T *alloc(gfp_t gfp = GFP_KERNEL) { return static_cast<T *>(kmem_cache_alloc(handle_.get(), gfp)); }
	void release(T *p) { kmem_cache_free(handle_.get(), p); }

private:
	static void construct(void *p) { ::new (p, detail::PlaceTag{}) T(); }
	detail::CacheHandle handle_;
};

/* An STL allocator over kmalloc/kfree (all instances are equal, whatever
 * their flags: kfree takes any of their blocks). Gfp: the flags of every
 * allocation, GFP_KERNEL by default; e.g. KmallocAllocator<T, GFP_ATOMIC>
 * for a container used in interrupt context. T may be aligned to at most
 * what kmalloc guarantees for any size: 8 bytes, 16 on 64-bit. */
template <typename T, gfp_t Gfp = GFP_KERNEL> class KmallocAllocator {
	static_assert(alignof(T) <= (sizeof(void *) >= 8 ? 16 : 8), "kmalloc cannot align T");

public:
	using value_type = T;
	/* spelled out: allocator_traits cannot rebind a non-type parameter */
	template <typename U> struct rebind {
		using other = KmallocAllocator<U, Gfp>;
	};

	KmallocAllocator() noexcept = default;
	template <typename U> KmallocAllocator(const KmallocAllocator<U, Gfp> &) noexcept {}

	T *allocate(size_t n)
	{
		void *p = kmalloc_array(n, sizeof(T), Gfp);
		if (p == nullptr) {
#if KMM_HPP_THROWS
			throw std::bad_alloc();
#else
			__builtin_trap();
#endif
		}
		return static_cast<T *>(p);
	}
	void deallocate(T *p, size_t) noexcept { kfree(p); }

	template <typename U, gfp_t G> bool operator==(const KmallocAllocator<U, G> &) const noexcept { return true; }
	template <typename U, gfp_t G> bool operator!=(const KmallocAllocator<U, G> &) const noexcept { return false; }
};

} // namespace kmm

#undef KMM_HPP_THROWS
#undef KMM_HPP_TRIVIALLY_DESTRUCTIBLE

#endif /* KMM_KMM_HPP */
