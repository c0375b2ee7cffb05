/*
 * mm/slab_debug_api.cpp — the C facade of the debug features (kmm/slab.h,
 * "debugging"): the boot option, validate_slab_cache, page poisoning,
 * kmalloc guard pages and kmem_dump_obj/mem_dump_obj, on the global
 * allocators.
 */
#include <kmm/slab.h>

#include "global.h"

extern "C" {

int kmm_slub_debug(const char *options) { return kmm::g_slab.set_debug_options(options != nullptr ? options : ""); }
unsigned long kmm_validate_slab_cache(struct kmem_cache *s) { return kmm::g_slab.validate_slab_cache(s); }
void kmm_page_poison(int on) { kmm::g_pages.set_poison(on != 0); }
void kmm_kmalloc_guard_pages(int on) { kmm::g_slab.set_kmalloc_guard(on != 0); }
bool kmem_dump_obj(const void *object) { return kmm::g_slab.dump_object(object); }
void mem_dump_obj(const void *object) { kmm::g_slab.dump_memory(object); }

} // extern "C"
