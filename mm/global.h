/*
 * mm/global.h — the facade's global state: the one Reporter, the one
 * PageAllocator and the one SlabAllocator behind the C API. Only facade
 * files (*_api.cpp) include it; core classes take their instance as an
 * argument.
 *
 * g_reporter and g_pages are defined in page_alloc_api.cpp, g_slab in
 * slab_api.cpp; all three are constant-initialised (usable before C++
 * constructors run), which is why they are named here rather than reached
 * through the accessors.
 */
#ifndef KMM_MM_GLOBAL_H
#define KMM_MM_GLOBAL_H

#include "page_alloc.h"
#include "reporter.h"
#include "slub.h"

namespace kmm {
extern Reporter g_reporter;
extern PageAllocator g_pages;
extern SlabAllocator g_slab;

Reporter &global_reporter();
PageAllocator &global_pages();
SlabAllocator &global_slab();
} // namespace kmm

#endif
