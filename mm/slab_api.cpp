/*
 * mm/slab_api.cpp — the C facade of the slab layer (kmm/slab.h): Linux names
 * over the one global SlabAllocator, constant-initialised so it works before
 * C++ constructors. The hot calls inline the fast paths of slub_fast.h here.
 */
#include <kmm/slab.h>

#include "global.h"
#include "slub_fast.h"

namespace kmm {
constinit SlabAllocator g_slab{g_pages, g_reporter};
SlabAllocator &global_slab() { return g_slab; }
} // namespace kmm

using kmm::g_slab;

/* Where the caller of an allocation or free comes from. A debug cache
 * (slub_debug U, T) records the return address its out-of-line path sees,
 * which is the caller of the entry below only when the entry reaches that
 * path by a tail call. Unoptimised builds and -Og make no tail calls, and
 * recorded the entry itself (kmalloc+0x..) for every object; there
 * (KMM_EXPLICIT_CALLER, config.h) each entry hands its own return address
 * to the path with a caller argument, for debug caches only, so the other
 * caches keep the inline paths the rest of the tests run. */
constexpr bool kExplicitCaller = kmm::kSlabDebug && KMM_EXPLICIT_CALLER != 0;
#define KMM_ENTRY_CALLER __builtin_return_address(0)

extern "C" {

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
				     void (*ctor)(void *))
{
	return g_slab.create(name, size, align, flags, ctor);
}
void kmem_cache_destroy(struct kmem_cache *s) { g_slab.destroy(s); }
/* A NULL cache (say, a kmem_cache_create that failed, unchecked) is
 * reported and refused here, not dereferenced: on a Cortex-M address 0 is
 * the vector table, so it would not even fault. One test-and-branch. */
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	if (__builtin_expect(s == nullptr, 0))
		return g_slab.refuse_null_cache("kmem_cache_alloc");
	if constexpr (kExplicitCaller)
		if ((s->flags & kmm::kSlabDebugFlags) != 0) /* a debug cache has no CPU slab: alloc_slow anyway */
			return g_slab.alloc_slow(s, gfp, KMM_ENTRY_CALLER);
	return kmm::slab_alloc_fast(g_slab, s, gfp);
}
void kmem_cache_free(struct kmem_cache *s, void *x)
{
	if (__builtin_expect(s == nullptr, 0)) {
		if (x != nullptr) /* (NULL, NULL): a no-op, as (s, NULL) is */
			g_slab.refuse_null_cache("kmem_cache_free");
		return;
	}
	if constexpr (kExplicitCaller) {
		if ((s->flags & kmm::kSlabDebugFlags) != 0) {
			g_slab.free_slow(s, x, KMM_ENTRY_CALLER);
			return;
		}
	}
	kmm::slab_free_fast(g_slab, s, x);
}
int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t nr, void **p)
{
	return g_slab.alloc_bulk(s, gfp, nr, p, __builtin_return_address(0));
}
void kmem_cache_free_bulk(struct kmem_cache *s, size_t nr, void **p)
{
	g_slab.free_bulk(s, nr, p, __builtin_return_address(0));
}
int kmem_cache_shrink(struct kmem_cache *s) { return g_slab.shrink(s); }
unsigned int kmem_cache_size(struct kmem_cache *s) { return g_slab.is_live(s) ? s->object_size : 0; }
const char *kmem_cache_name(struct kmem_cache *s) { return g_slab.is_live(s) ? s->name : nullptr; }

void *kmalloc(size_t size, gfp_t gfp)
{
	if constexpr (kExplicitCaller)
		if (g_slab.kmalloc_may_track(size))
			return g_slab.kmalloc_caller(size, gfp, KMM_ENTRY_CALLER);
	return kmm::kmalloc_fast(g_slab, size, gfp);
}
void *kzalloc(size_t size, gfp_t gfp)
{
	if constexpr (kExplicitCaller)
		if (g_slab.kmalloc_may_track(size))
			return g_slab.kmalloc_caller(size, gfp | __GFP_ZERO, KMM_ENTRY_CALLER);
	return kmm::kmalloc_fast(g_slab, size, gfp | __GFP_ZERO);
}
void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return nullptr;
	if constexpr (kExplicitCaller)
		if (g_slab.kmalloc_may_track(bytes))
			return g_slab.kmalloc_caller(bytes, gfp, KMM_ENTRY_CALLER);
	return kmm::kmalloc_fast(g_slab, bytes, gfp);
}
/* Not a call of kmalloc_array: without a tail call (-O0) that would be
 * the caller slub_debug U and T record. */
void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return nullptr;
	if constexpr (kExplicitCaller)
		if (g_slab.kmalloc_may_track(bytes))
			return g_slab.kmalloc_caller(bytes, gfp | __GFP_ZERO, KMM_ENTRY_CALLER);
	return kmm::kmalloc_fast(g_slab, bytes, gfp | __GFP_ZERO);
}
void *krealloc(const void *p, size_t new_size, gfp_t gfp)
{
	return g_slab.krealloc(p, new_size, gfp, __builtin_return_address(0));
}
/* Only a debug class records the caller (kmalloc_caller); without one,
 * kmalloc's inline path after a two-load test. */
void *kmm_kmalloc_track_caller(size_t size, gfp_t gfp, const void *caller)
{
	if (kmm::kSlabDebug && __builtin_expect(g_slab.kmalloc_may_track(size), 0))
		return g_slab.kmalloc_caller(size, gfp, caller);
	return kmm::kmalloc_fast(g_slab, size, gfp);
}
void *kmm_krealloc_track_caller(const void *p, size_t new_size, gfp_t gfp, const void *caller)
{
	return g_slab.krealloc(p, new_size, gfp, caller);
}
void kfree(const void *x)
{
	if constexpr (kExplicitCaller) {
		if (g_slab.kmalloc_tracked()) { /* kfree_slow: the same checks and push, with a caller */
			g_slab.kfree_slow(x, KMM_ENTRY_CALLER);
			return;
		}
	}
	kmm::kfree_fast(g_slab, x);
}
size_t ksize(const void *x) { return g_slab.ksize(x); }
size_t kmm_kmalloc_size(const void *x, const char *who)
{
	return g_slab.kmalloc_size(x, who != nullptr ? who : "kmm_kmalloc_size");
}
size_t kmalloc_max_cache_size(void)
{
	g_slab.init();
	return g_slab.kmalloc_max_cache_size();
}
void kfree_sensitive(const void *p) { g_slab.kfree_sensitive(p); }
size_t kmalloc_size_roundup(size_t size)
{
	if (size == 0)
		return 0;
	if (g_slab.init() != 0)
		return size; /* kmalloc fails until the slab layer is up */
	if (struct kmem_cache *s = g_slab.kmalloc_cache(size))
		return s->object_size; /* the class kmalloc(size) takes */
	size_t large = g_slab.large_usable_size(size);
	return large != 0 ? large : size; /* 0: kmalloc fails there */
}

int kmem_cache_get_info(struct kmem_cache *s, struct kmem_cache_info *info) { return g_slab.info(s, info); }
void kmm_slabinfo(kmm_sink_fn sink, void *ctx)
{
	g_slab.init();
	g_slab.slabinfo(sink, ctx);
}
void kmm_slabstats(kmm_sink_fn sink, void *ctx)
{
	g_slab.init();
	g_slab.slabstats(sink, ctx);
}
unsigned long kmm_slab_validate(void) { return g_slab.validate(); }
void kmm_slab_shrink_all(void) { g_slab.shrink_all(); }

} // extern "C"
