/*
 * kernel/workload_slab.cpp — workload backends over the slab layer:
 * kmalloc/kfree over 1 byte … twice the largest kmalloc class (so the top
 * of the range is large kmalloc: whole pages), and kmem_cache_alloc/free on
 * a cache of 200-byte objects that lives for the whole boot (created on the
 * first run, so it shows in the report's slabinfo). Requests carry
 * __GFP_NOWARN: running out is part of the mix on the small board.
 */
#include <kernel/workload.h>
#include <kmm/kmm.h>

namespace {

constexpr unsigned kObjectSize = 200;

size_t kmalloc_max() { return 2 * kmalloc_max_cache_size(); }
void *kmalloc_alloc(size_t size) { return kmalloc(size, GFP_KERNEL | __GFP_NOWARN); }
void kmalloc_free(void *block, size_t) { kfree(block); }

struct kmem_cache *g_objects;

size_t cache_max()
{
	if (g_objects == nullptr) {
		g_objects = kmem_cache_create("wl-object-200", kObjectSize, 0, 0, nullptr);
		if (g_objects == nullptr)
			workload_setup_failed("kmem_cache", "kmem_cache_create(wl-object-200) failed");
	}
	return g_objects != nullptr ? kObjectSize : 0;
}
void *cache_alloc(size_t) { return kmem_cache_alloc(g_objects, GFP_KERNEL | __GFP_NOWARN); }
void cache_free(void *block, size_t) { kmem_cache_free(g_objects, block); }

} // namespace

KMM_WORKLOAD_BACKEND(20_kmalloc, {"kmalloc", kmalloc_max, 1, kmalloc_alloc, kmalloc_free, nullptr, nullptr});
KMM_WORKLOAD_BACKEND(21_kmem_cache, {"kmem_cache", cache_max, kObjectSize, cache_alloc, cache_free, nullptr, nullptr});
